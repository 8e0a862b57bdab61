//! The one boundary every export runs inside: panics are caught (never unwound into C) and
//! errors become a status plus the thread's last error message.

use super::status::{set_last_error, ss_status};
use crate::bridge;
use crate::error::Result;

/// Runs an export's body. `Ok` carries `SS_OK` or `SS_NOT_FOUND`.
pub(crate) fn call(body: impl FnOnce() -> Result<ss_status>) -> ss_status {
    match bridge::catch(body) {
        Ok(status) => status,
        Err(error) => {
            set_last_error(&error);
            error.kind().into()
        }
    }
}

/// Runs an export that returns a pointer; `fallback` when the body panics.
pub(crate) fn call_ptr<T>(body: impl FnOnce() -> *const T, fallback: *const T) -> *const T {
    bridge::catch(|| Ok(body())).unwrap_or(fallback)
}

/// Runs an export that returns nothing.
pub(crate) fn call_void(body: impl FnOnce()) {
    if let Err(error) = bridge::catch(|| {
        body();
        Ok(())
    }) {
        set_last_error(&error);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Error, ErrorKind};

    #[test]
    fn a_panic_becomes_internal_with_a_message() {
        let status = call(|| panic!("boom"));
        assert_eq!(status, ss_status::SS_ERR_INTERNAL);
        // SAFETY: ss_last_error returns a NUL-terminated string owned by this thread's slot,
        // valid until the next failing call on this thread (none before the copy below).
        let msg = unsafe { std::ffi::CStr::from_ptr(super::super::ss_last_error()) };
        assert!(msg.to_str().unwrap().contains("boom"));
        assert_eq!(call_ptr(|| panic!("x"), 7 as *const u8), 7 as *const u8);
        call_void(|| panic!("void"));
    }

    /// rustls-ffi once shipped an export without its panic boundary (their issue #286): every
    /// `extern "C"` function here must start by entering one, and the exports are exactly the
    /// functions of the committed header.
    #[test]
    fn every_export_enters_the_boundary() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/ffi");
        let mut exported = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let source = std::fs::read_to_string(&path).unwrap();
            let mut rest = source.as_str();
            while let Some(at) = rest.find("pub extern \"C\" fn ") {
                rest = &rest[at..];
                let name: String = rest[18..].chars().take_while(|c| *c != '(').collect();
                let body_start = rest.find("{\n").unwrap() + 2;
                let first_line = rest[body_start..].lines().next().unwrap().trim();
                let entered = [
                    "call(",
                    "call_void(",
                    "super::boundary::call_ptr(",
                    "boundary::call_void(",
                ]
                .iter()
                .any(|b| first_line.starts_with(b));
                assert!(
                    entered,
                    "{} `{name}` does not start with the boundary",
                    path.display()
                );
                exported.push(name);
                rest = &rest[body_start..];
            }
        }
        let header = include_str!("../../include/sessionstore.h");
        let mut declared: Vec<String> = header
            .lines()
            .filter(|line| !line.starts_with([' ', '/', '*']) && line.contains('('))
            .filter_map(|line| {
                let name = line.split('(').next()?.rsplit([' ', '*']).next()?;
                name.starts_with("ss_").then(|| name.to_owned())
            })
            .collect();
        exported.sort();
        declared.sort();
        assert!(!declared.is_empty());
        assert_eq!(exported, declared, "the exports are the header's functions");
    }

    #[test]
    fn errors_map_to_their_status() {
        let status = call(|| Err(Error::new(ErrorKind::Timeout, "slow")));
        assert_eq!(status, ss_status::SS_ERR_TIMEOUT);
        assert_eq!(
            call(|| Ok(ss_status::SS_NOT_FOUND)),
            ss_status::SS_NOT_FOUND
        );
    }
}
