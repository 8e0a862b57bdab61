//! The name rules of docs/API.md §2: session ids and keys.

use std::fmt;

use crate::error::{Error, Result};

/// Longest session id, in bytes.
pub const MAX_SESSION_ID_LEN: usize = 128;
/// Longest key, in bytes of UTF-8.
pub const MAX_KEY_LEN: usize = 1024;

/// A validated session id: 1–128 bytes of `[A-Za-z0-9._~:-]`, so it can never
/// inject into another backend key.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(Box<str>);

impl SessionId {
    /// Validates `raw` as a session id.
    pub fn parse(raw: &[u8]) -> Result<Self> {
        if raw.is_empty() || raw.len() > MAX_SESSION_ID_LEN {
            return Err(Error::invalid(format!(
                "a session id is 1 to {MAX_SESSION_ID_LEN} bytes, got {}",
                raw.len()
            )));
        }
        if let Some(bad) = raw.iter().position(|&b| !is_session_id_byte(b)) {
            return Err(Error::invalid(format!(
                "a session id is made of [A-Za-z0-9._~:-]; byte {bad} is 0x{:02x}",
                raw[bad]
            )));
        }
        // Every allowed byte is ASCII, so this cannot fail.
        let text = std::str::from_utf8(raw).map_err(|_| Error::invalid("session id"))?;
        Ok(SessionId(text.into()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for SessionId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        SessionId::parse(s.as_bytes())
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

fn is_session_id_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'~' | b':' | b'-')
}

/// Validates a key given as text: at most [`MAX_KEY_LEN`] bytes.
pub fn check_key(key: &str) -> Result<&str> {
    if key.len() > MAX_KEY_LEN {
        return Err(Error::invalid(format!(
            "a key is at most {MAX_KEY_LEN} bytes, got {}",
            key.len()
        )));
    }
    Ok(key)
}

/// Validates a key given as bytes: valid UTF-8 of at most [`MAX_KEY_LEN`] bytes.
pub fn key_from_bytes(raw: &[u8]) -> Result<&str> {
    if raw.len() > MAX_KEY_LEN {
        return Err(Error::invalid(format!(
            "a key is at most {MAX_KEY_LEN} bytes, got {}",
            raw.len()
        )));
    }
    std::str::from_utf8(raw).map_err(|e| {
        Error::invalid(format!(
            "a key is UTF-8; invalid byte at {}",
            e.valid_up_to()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn session_ids() {
        for ok in [
            "a",
            "6f1c9a2e-0b1d-4c5e-9f00-123456789abc",
            "Ab0._~:-",
            &"x".repeat(128),
        ] {
            assert_eq!(SessionId::parse(ok.as_bytes()).unwrap().as_str(), ok);
        }
        for bad in ["", "a b", "a/b", "a*", "é", &"x".repeat(129), "a\0"] {
            let err = SessionId::parse(bad.as_bytes()).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidArg, "{bad:?}");
        }
    }

    #[test]
    fn keys() {
        assert_eq!(key_from_bytes(b"").unwrap(), "");
        assert_eq!(key_from_bytes("ключ".as_bytes()).unwrap(), "ключ");
        assert!(key_from_bytes(&[b'k'; 1024]).is_ok());
        assert_eq!(
            key_from_bytes(&[b'k'; 1025]).unwrap_err().kind(),
            ErrorKind::InvalidArg
        );
        assert_eq!(
            key_from_bytes(&[0xff, 0xfe]).unwrap_err().kind(),
            ErrorKind::InvalidArg
        );
        assert!(check_key(&"k".repeat(1025)).is_err());
    }
}
