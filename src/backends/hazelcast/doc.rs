//! The value of a session's entry: one MessagePack array of three items,
//! `[generation (bin), lease deadline (uint, ms since the Unix epoch; 0: no lease), entries
//! (map: key (str) → the value's encoded document (bin))]`.

use rmp::{decode, encode};

/// A session's entry, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Doc {
    /// The session's generation (its prefix, `/`, random hex): a handle of another one is stale.
    pub(crate) generation: Vec<u8>,
    /// When the lease runs out, in ms since the Unix epoch; 0 without a lease.
    pub(crate) deadline: u64,
    /// The session's keys with their encoded values, in the order they were first set.
    pub(crate) entries: Vec<(String, Vec<u8>)>,
}

impl Doc {
    /// The MessagePack bytes of the entry.
    pub(crate) fn encode(&self) -> Vec<u8> {
        let size: usize = self
            .entries
            .iter()
            .map(|(k, v)| k.len() + v.len() + 10)
            .sum();
        let mut out = Vec::with_capacity(self.generation.len() + size + 16);
        // Writes into a Vec cannot fail.
        let _ = encode::write_array_len(&mut out, 3);
        let _ = encode::write_bin(&mut out, &self.generation);
        let _ = encode::write_uint(&mut out, self.deadline);
        let _ = encode::write_map_len(&mut out, self.entries.len() as u32);
        for (key, value) in &self.entries {
            let _ = encode::write_str(&mut out, key);
            let _ = encode::write_bin(&mut out, value);
        }
        out
    }

    /// The entry `bytes` holds, or `None` when they are not one (another program's value).
    pub(crate) fn decode(mut bytes: &[u8]) -> Option<Doc> {
        let rd = &mut bytes;
        if decode::read_array_len(rd).ok()? != 3 {
            return None;
        }
        let len = decode::read_bin_len(rd).ok()?;
        let generation = take(rd, len)?.to_vec();
        let deadline: u64 = decode::read_int(rd).ok()?;
        let n = decode::read_map_len(rd).ok()?;
        let mut entries = Vec::with_capacity(n.min(1024) as usize);
        for _ in 0..n {
            let len = decode::read_str_len(rd).ok()?;
            let key = String::from_utf8(take(rd, len)?.to_vec()).ok()?;
            let len = decode::read_bin_len(rd).ok()?;
            let value = take(rd, len)?.to_vec();
            entries.push((key, value));
        }
        rd.is_empty().then_some(Doc {
            generation,
            deadline,
            entries,
        })
    }

    /// The encoded value of `key`.
    pub(crate) fn get(&self, key: &str) -> Option<&[u8]> {
        self.entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_slice())
    }

    /// Sets `key` to `value`, in place when it exists.
    pub(crate) fn set(&mut self, key: &str, value: &[u8]) {
        match self.entries.iter_mut().find(|(k, _)| k == key) {
            Some(entry) => entry.1 = value.to_vec(),
            None => self.entries.push((key.to_owned(), value.to_vec())),
        }
    }

    /// Deletes `key`; whether it existed.
    pub(crate) fn del(&mut self, key: &str) -> bool {
        let before = self.entries.len();
        self.entries.retain(|(k, _)| k != key);
        self.entries.len() != before
    }
}

/// The next `len` bytes of `rd`.
fn take<'a>(rd: &mut &'a [u8], len: u32) -> Option<&'a [u8]> {
    let len = len as usize;
    if rd.len() < len {
        return None;
    }
    let (head, rest) = rd.split_at(len);
    *rd = rest;
    Some(head)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_and_garbage_is_refused() {
        let mut doc = Doc {
            generation: b"ss/00ff".to_vec(),
            deadline: 1_700_000_000_000,
            entries: Vec::new(),
        };
        doc.set("userId", &[0x2a]);
        doc.set("tenant", b"\xa4acme");
        doc.set("userId", &[0x2b]);
        assert_eq!(doc.get("userId"), Some(&[0x2b][..]));
        assert_eq!(Doc::decode(&doc.encode()), Some(doc.clone()));
        assert!(doc.del("tenant"));
        assert!(!doc.del("tenant"));
        assert_eq!(Doc::decode(&doc.encode()).unwrap().entries.len(), 1);
        let bytes = doc.encode();
        for cut in 0..bytes.len() {
            assert_eq!(Doc::decode(&bytes[..cut]), None, "cut at {cut}");
        }
        assert_eq!(Doc::decode(b"\x93garbage"), None);
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(Doc::decode(&longer), None, "trailing bytes");
    }
}
