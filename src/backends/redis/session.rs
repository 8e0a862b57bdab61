//! One handle on one session hash. Every call is one script, one round trip.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ::redis::Value;

use super::near::Cached;
use super::scripts::GEN_FIELD;
use super::Shared;
use crate::backend::Session;
use crate::backends::new_generation;
use crate::error::{Error, Result};
use crate::names::SessionId;

/// A handle: the session's hash and the generation it attached to.
pub(crate) struct RedisSession {
    shared: Arc<Shared>,
    key: Vec<u8>,
    generation: Vec<u8>,
}

impl RedisSession {
    /// Attaches to `sid`: adopts the generation of its hash, or creates the hash.
    pub(crate) fn attach(shared: &Arc<Shared>, sid: &SessionId) -> Result<Self> {
        let key = shared.key(sid);
        let fresh = new_generation(&shared.namespace);
        let reply = shared.script(
            "attach",
            &shared.scripts.attach,
            &key,
            &[
                &fresh,
                shared.ttl_arg.as_bytes(),
                shared.namespace.as_bytes(),
            ],
        )?;
        let generation = match reply {
            Value::BulkString(g) => g,
            other => return Err(shared.names.unexpected("attach", &format!("{other:?}"))),
        };
        if let Some(leases) = &shared.leases {
            leases.hold(&key, shared.ttl_arg.as_bytes());
        }
        Ok(RedisSession {
            shared: shared.clone(),
            key,
            generation,
        })
    }

    /// A script that changes the session: with a near cache, the session is forgotten before
    /// the write goes out and once it is answered, so this factory reads its own writes.
    fn write(&self, op: &str, lua: &super::Lua, extra: &[&[u8]]) -> Result<Value> {
        let Some(near) = &self.shared.near else {
            return self.run(op, lua, extra);
        };
        near.forget(&self.key);
        let result = self.run(op, lua, extra);
        near.forget(&self.key);
        result
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
    /// With a near cache, a cached session answers here, without a round trip.
    fn get_cached(&self, key: &str, visit: &mut dyn FnMut(&[u8])) -> Option<Result<bool>> {
        let near = self.shared.near.as_ref()?;
        Some(
            match near.cached(&self.key, &self.generation, key, visit)? {
                Cached::Hit(found) => Ok(found),
                Cached::Gone => Err(Error::destroyed()),
            },
        )
    }

    /// Always a round trip, and no script: one HMGET of the generation and the key is atomic,
    /// and the generation is checked here. With a near cache, the answer fills the cache
    /// (unless an invalidation voided the read's token meanwhile).
    fn get(&self, key: &str, visit: &mut dyn FnMut(&[u8])) -> Result<bool> {
        let token = self
            .shared
            .near
            .as_ref()
            .map(|near| near.reading(&self.key));
        let mut cmd = ::redis::cmd("HMGET");
        cmd.arg(&self.key).arg(GEN_FIELD).arg(key);
        // A fill also asks how long the lease has left: the entry lapses then (see near).
        let sent = Instant::now();
        let (reply, left) = if token.is_some() {
            let pttl = ::redis::cmd("PTTL").arg(&self.key).get_packed_command();
            let pack = |_: bool, packed: &mut Vec<u8>| {
                cmd.write_packed_command(packed);
                packed.extend_from_slice(&pttl);
            };
            let mut replies = self.shared.calls("get", &self.key, 2, pack)?.into_iter();
            (replies.next(), replies.next())
        } else {
            (
                Some(self.shared.call("get", &self.key, |_| cmd.clone())?),
                None,
            )
        };
        let mut items = match reply.unwrap_or(Value::Nil) {
            Value::Array(items) if items.len() == 2 => items.into_iter(),
            other => return Err(self.shared.names.unexpected("get", &format!("{other:?}"))),
        };
        match items.next() {
            Some(Value::BulkString(g)) if g == self.generation => {}
            _ => return Err(Error::destroyed()),
        }
        let doc = match items.next() {
            Some(Value::BulkString(doc)) => Some(doc),
            Some(Value::Nil) => None,
            other => return Err(self.shared.names.unexpected("get", &format!("{other:?}"))),
        };
        if let (Some(near), Some(token)) = (&self.shared.near, token) {
            let lapses = match left {
                Some(Value::Int(ms)) if ms >= 0 => Some(sent + Duration::from_millis(ms as u64)),
                _ => None, // -1: no lease
            };
            near.fill(
                &self.key,
                token,
                &self.generation,
                key,
                doc.as_deref(),
                lapses,
            );
        }
        Ok(match doc {
            Some(doc) => {
                visit(&doc);
                true
            }
            None => false,
        })
    }

    fn set(&self, key: &str, doc: &[u8]) -> Result<()> {
        let s = &self.shared.scripts;
        self.write("set", &s.set, &[key.as_bytes(), doc])?;
        Ok(())
    }

    fn has(&self, key: &str) -> Result<bool> {
        let v = self.run("has", &self.shared.scripts.has, &[key.as_bytes()])?;
        Ok(self.int("has", v)? != 0)
    }

    fn del(&self, key: &str) -> Result<bool> {
        let v = self.write("del", &self.shared.scripts.del, &[key.as_bytes()])?;
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
        self.write("set_many", &self.shared.scripts.set_many, &pairs(entries))?;
        Ok(())
    }

    fn replace_all(&self, entries: &[(&str, &[u8])]) -> Result<()> {
        self.write(
            "replace_all",
            &self.shared.scripts.replace_all,
            &pairs(entries),
        )?;
        Ok(())
    }

    fn destroy(&self) -> Result<()> {
        self.write("destroy", &self.shared.scripts.destroy, &[])?;
        Ok(())
    }
}

/// Entries as the flat key, value, key, value… arguments of a script.
fn pairs<'a>(entries: &[(&'a str, &'a [u8])]) -> Vec<&'a [u8]> {
    let mut flat: Vec<&[u8]> = Vec::with_capacity(entries.len() * 2);
    for (key, doc) in entries {
        flat.push(key.as_bytes());
        flat.push(doc);
    }
    flat
}

impl Drop for RedisSession {
    fn drop(&mut self) {
        if let Some(leases) = &self.shared.leases {
            leases.release(&self.key);
        }
    }
}
