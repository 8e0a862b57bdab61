//! One handle on one session hash. Every call is one script, one round trip.

use std::sync::Arc;

use ::redis::Value;

use super::scripts::GEN_FIELD;
use super::Shared;
use crate::backend::Session;
use crate::error::{Error, Result};
use crate::names::SessionId;

/// A handle: the session's hash and the generation it attached to.
pub(crate) struct RedisSession {
    shared: Arc<Shared>,
    key: Vec<u8>,
    generation: Vec<u8>,
}

/// A fresh random generation: 128 bits, as 32 hex digits.
fn new_generation() -> Vec<u8> {
    let mut raw = [0u8; 16];
    if getrandom::fill(&mut raw).is_err() {
        // No OS randomness (never seen on a supported target): fall back on a seeded hasher
        // over the time and a process-wide counter, still unique for this purpose.
        use std::hash::{BuildHasher, Hasher};
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let state = std::collections::hash_map::RandomState::new();
        for half in raw.chunks_mut(8) {
            let mut h = state.build_hasher();
            h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
            h.write_u128(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos()),
            );
            half.copy_from_slice(&h.finish().to_le_bytes());
        }
    }
    raw.iter()
        .flat_map(|b| [b >> 4, b & 15])
        .map(|n| b"0123456789abcdef"[n as usize])
        .collect()
}

impl RedisSession {
    /// Attaches to `sid`: adopts the generation of its hash, or creates the hash.
    pub(crate) fn attach(shared: &Arc<Shared>, sid: &SessionId) -> Result<Self> {
        let key = shared.key(sid);
        let fresh = new_generation();
        let reply = shared.script(
            "attach",
            &shared.scripts.attach,
            &key,
            &[&fresh, shared.ttl_arg.as_bytes()],
        )?;
        let generation = match reply {
            Value::BulkString(g) => g,
            other => return Err(shared.names.unexpected("attach", &format!("{other:?}"))),
        };
        if let Some(leases) = &shared.leases {
            leases.hold(&key, &generation);
        }
        Ok(RedisSession {
            shared: shared.clone(),
            key,
            generation,
        })
    }

    fn run(&self, op: &str, lua: &super::Lua, extra: &[&[u8]]) -> Result<Value> {
        let mut args: Vec<&[u8]> = Vec::with_capacity(2 + extra.len());
        args.push(&self.generation);
        args.push(self.shared.ttl_arg.as_bytes());
        args.extend_from_slice(extra);
        self.shared.script(op, lua, &self.key, &args)
    }

    fn int(&self, op: &str, v: Value) -> Result<i64> {
        match v {
            Value::Int(n) => Ok(n),
            other => Err(self.shared.names.unexpected(op, &format!("{other:?}"))),
        }
    }

    fn strings(&self, op: &str, v: Value) -> Result<Vec<Vec<u8>>> {
        match v {
            Value::Array(items) => items
                .into_iter()
                .map(|item| match item {
                    Value::BulkString(b) => Ok(b),
                    other => Err(self.shared.names.unexpected(op, &format!("{other:?}"))),
                })
                .collect(),
            other => Err(self.shared.names.unexpected(op, &format!("{other:?}"))),
        }
    }

    fn utf8(&self, op: &str, raw: Vec<u8>) -> Result<String> {
        String::from_utf8(raw).map_err(|_| {
            self.shared
                .names
                .unexpected(op, "a field name that is not UTF-8")
        })
    }
}

impl Session for RedisSession {
    // The hot path needs no script: one HMGET of the generation and the key is atomic, and
    // the generation is checked here.
    fn get(&self, key: &str, visit: &mut dyn FnMut(&[u8])) -> Result<bool> {
        let mut cmd = ::redis::cmd("HMGET");
        cmd.arg(&self.key).arg(GEN_FIELD).arg(key);
        let reply = self.shared.call("get", |_| cmd.clone())?;
        let mut items = match reply {
            Value::Array(items) if items.len() == 2 => items.into_iter(),
            other => return Err(self.shared.names.unexpected("get", &format!("{other:?}"))),
        };
        match items.next() {
            Some(Value::BulkString(g)) if g == self.generation => {}
            _ => return Err(Error::destroyed()),
        }
        match items.next() {
            Some(Value::BulkString(doc)) => {
                visit(&doc);
                Ok(true)
            }
            Some(Value::Nil) => Ok(false),
            other => Err(self.shared.names.unexpected("get", &format!("{other:?}"))),
        }
    }

    fn set(&self, key: &str, doc: &[u8]) -> Result<()> {
        let s = &self.shared.scripts;
        self.run("set", &s.set, &[key.as_bytes(), doc])?;
        Ok(())
    }

    fn has(&self, key: &str) -> Result<bool> {
        let v = self.run("has", &self.shared.scripts.has, &[key.as_bytes()])?;
        Ok(self.int("has", v)? != 0)
    }

    fn del(&self, key: &str) -> Result<bool> {
        let v = self.run("del", &self.shared.scripts.del, &[key.as_bytes()])?;
        Ok(self.int("del", v)? != 0)
    }

    fn len(&self) -> Result<usize> {
        let v = self.run("len", &self.shared.scripts.len, &[])?;
        Ok(usize::try_from(self.int("len", v)?).unwrap_or(0))
    }

    fn keys(&self) -> Result<Vec<String>> {
        let v = self.run("keys", &self.shared.scripts.keys, &[])?;
        self.strings("keys", v)?
            .into_iter()
            .map(|k| self.utf8("keys", k))
            .collect()
    }

    fn get_all(&self) -> Result<Vec<(String, Vec<u8>)>> {
        let v = self.run("get_all", &self.shared.scripts.get_all, &[])?;
        let mut flat = self.strings("get_all", v)?.into_iter();
        let mut out = Vec::with_capacity(flat.len() / 2);
        while let (Some(k), Some(doc)) = (flat.next(), flat.next()) {
            out.push((self.utf8("get_all", k)?, doc));
        }
        Ok(out)
    }

    fn set_many(&self, entries: &[(&str, &[u8])]) -> Result<()> {
        let mut extra: Vec<&[u8]> = Vec::with_capacity(entries.len() * 2);
        for (key, doc) in entries {
            extra.push(key.as_bytes());
            extra.push(doc);
        }
        self.run("set_many", &self.shared.scripts.set_many, &extra)?;
        Ok(())
    }

    fn destroy(&self) -> Result<()> {
        self.run("destroy", &self.shared.scripts.destroy, &[])?;
        Ok(())
    }
}

impl Drop for RedisSession {
    fn drop(&mut self) {
        if let Some(leases) = &self.shared.leases {
            leases.release(&self.key, &self.generation);
        }
    }
}
