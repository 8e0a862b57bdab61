//! The read-only commands behind [`crate::admin`]: listing, summarising and reading sessions
//! over the backend's own connections, so TLS, Sentinel, Cluster, `timeout_ms` and the
//! redacted server names are those of every other call.
//!
//! A listing is `SCAN <cursor> MATCH <prefix>:<glob> COUNT 1000` on the one server
//! (standalone, Sentinel's master) or on every master of a cluster in turn; each batch of
//! keys a `SCAN` answers is then summarised by one read-only script per key, all pipelined in
//! one request on the same connection. The script answers nothing for a key that is not a
//! session of this prefix (not a hash, no generation, or another prefix's generation: see
//! [`scripts`](super::scripts)), so only this prefix's sessions are listed. Nothing here
//! writes: no script creates, renews or deletes a key.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use ::redis::{ErrorKind as RedisKind, RedisError, RedisResult, ServerErrorKind, Value};

use super::cluster::Node;
use super::link::{with_scripts, Link};
use super::scripts::Lua;
use super::{RedisBackend, RedisConfig, Shared};
use crate::admin::{ScanProgress, SessionData, SessionInfo};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::names::SessionId;

/// Keys one `SCAN` step asks the server to look at (its `COUNT`).
const SCAN_COUNT: usize = 1000;

// KEYS[1] = a key SCAN found, ARGV[1] = the namespace (`<prefix>/`). False unless the key is
// a session of this namespace. `TYPE` first: HGET on another type would be an error reply.
const OURS: &str = r"
if redis.call('TYPE', KEYS[1]).ok ~= 'hash' then return false end
local G = '\255gen'
local g = redis.call('HGET', KEYS[1], G)
if not g or string.sub(g, 1, #ARGV[1]) ~= ARGV[1] then return false end
";

/// `{keys, bytes, pttl}`: the number of user fields, the lengths of their names and values
/// added up, and the `PTTL` (-1: no lease).
fn summary_body() -> String {
    format!(
        r"{OURS}
local n, bytes = 0, 0
for _, f in ipairs(redis.call('HKEYS', KEYS[1])) do
  if f ~= G then
    n = n + 1
    bytes = bytes + #f + redis.call('HSTRLEN', KEYS[1], f)
  end
end
return {{n, bytes, redis.call('PTTL', KEYS[1])}}"
    )
}

/// `{pttl, field, value, field, value, …}` of the user fields, in one atomic read.
fn read_body() -> String {
    format!(
        r"{OURS}
local all = redis.call('HGETALL', KEYS[1])
local out = {{redis.call('PTTL', KEYS[1])}}
for i = 1, #all, 2 do
  if all[i] ~= G then
    out[#out + 1] = all[i]
    out[#out + 1] = all[i + 1]
  end
end
return out"
    )
}

/// The read-only administration of one Redis deployment: a backend of its own (no lease
/// refresher: it holds no session) and the two scripts.
pub(crate) struct RedisAdmin {
    backend: RedisBackend,
    summary: Lua,
    read: Lua,
}

impl RedisAdmin {
    /// Connects as [`RedisBackend::open`] does, by `timeout_ms`.
    pub(crate) fn open(config: &Config, redis: &RedisConfig) -> Result<Self> {
        // A lease only matters to the sessions a factory holds open, and this one holds none.
        let mut config = config.clone();
        config.ttl = None;
        Ok(RedisAdmin {
            backend: RedisBackend::open(&config, redis)?,
            summary: Lua::new(summary_body()),
            read: Lua::new(read_body()),
        })
    }

    fn shared(&self) -> &Shared {
        &self.backend.shared
    }

    /// A listing of the sessions whose id matches the Redis glob `pattern`.
    pub(crate) fn scan(&self, pattern: &str) -> Scan<'_> {
        let shared = self.shared();
        let targets: VecDeque<Option<Arc<Node>>> = match &shared.link {
            Link::Direct(_) => VecDeque::from([None]),
            Link::Cluster(cluster) => cluster.masters().into_iter().map(Some).collect(),
        };
        Scan {
            admin: self,
            pattern: format!("{}:{pattern}", shared.prefix),
            progress: ScanProgress {
                servers: targets.len(),
                ..ScanProgress::default()
            },
            targets,
            cursor: None,
            ready: VecDeque::new(),
            seen: HashSet::new(),
            done: false,
        }
    }

    /// The summary of session `sid`, if this prefix has a session under that id.
    pub(crate) fn summary(&self, sid: &SessionId) -> Result<Option<SessionInfo>> {
        let shared = self.shared();
        let key = shared.key(sid);
        let ns = shared.namespace.as_bytes();
        let reply = shared.script("summary", &self.summary, &key, &[ns])?;
        summary_of(shared, sid.clone(), reply)
    }

    /// Every key and value of session `sid`, if this prefix has a session under that id.
    pub(crate) fn read(&self, sid: &SessionId) -> Result<Option<SessionData>> {
        let shared = self.shared();
        let key = shared.key(sid);
        let ns = shared.namespace.as_bytes();
        let reply = shared.script("read", &self.read, &key, &[ns])?;
        let items = match reply {
            Value::Nil => return Ok(None),
            Value::Array(items) if items.len() % 2 == 1 => items,
            other => return Err(shared.names.unexpected("read", &format!("{other:?}"))),
        };
        let mut items = items.into_iter();
        let pttl = items.next().map(|v| int(shared, "read", v)).transpose()?;
        let mut entries = Vec::with_capacity(items.len() / 2);
        let mut bytes = 0u64;
        while let (Some(field), Some(value)) = (items.next(), items.next()) {
            let (Value::BulkString(field), Value::BulkString(value)) = (field, value) else {
                return Err(shared
                    .names
                    .unexpected("read", "a field that is not a string"));
            };
            bytes += (field.len() + value.len()) as u64;
            // Every host writes keys as UTF-8 (docs/API.md §2); a foreign writer's field
            // that is not shows with U+FFFD in place of its bad bytes.
            let field = String::from_utf8(field)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
            entries.push((field, value));
        }
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(Some(SessionData {
            info: SessionInfo {
                id: sid.clone(),
                keys: entries.len(),
                bytes,
                ttl_ms: ttl_of(pttl.unwrap_or(-1)),
            },
            entries,
        }))
    }

    /// Closes the connections.
    pub(crate) fn close(&self) {
        crate::backend::Backend::close(&self.backend);
    }
}

/// A listing in progress: the servers still to scan, the cursor on the current one, and the
/// summaries of the last batch not yet handed out.
pub(crate) struct Scan<'a> {
    admin: &'a RedisAdmin,
    pattern: String,
    /// `None`: the one server of a standalone or Sentinel link; else a cluster master.
    targets: VecDeque<Option<Arc<Node>>>,
    /// The cursor on `targets[0]`; `None` before its first `SCAN`.
    cursor: Option<Vec<u8>>,
    ready: VecDeque<SessionInfo>,
    /// Ids handed out: `SCAN` may answer a key twice (a rehash, a slot migrating).
    seen: HashSet<SessionId>,
    progress: ScanProgress,
    done: bool,
}

impl Scan<'_> {
    /// How far the listing got.
    pub(crate) fn progress(&self) -> ScanProgress {
        self.progress
    }

    /// The next session, scanning on as needed; `None` once every server was scanned.
    pub(crate) fn next_session(&mut self) -> Option<Result<SessionInfo>> {
        loop {
            if let Some(info) = self.ready.pop_front() {
                self.progress.sessions += 1;
                return Some(Ok(info));
            }
            if self.done {
                return None;
            }
            if let Err(e) = self.step() {
                // One failure ends the listing: a partial one would read as complete.
                self.done = true;
                self.ready.clear();
                return Some(Err(e));
            }
        }
    }

    /// One `SCAN` on the current server and the summaries of what it found.
    fn step(&mut self) -> Result<()> {
        let Some(target) = self.targets.front().cloned() else {
            self.done = true;
            return Ok(());
        };
        let shared = self.admin.shared();
        let cursor = self.cursor.take().unwrap_or_else(|| b"0".to_vec());
        let mut scan = ::redis::cmd("SCAN");
        scan.arg(&cursor[..])
            .arg("MATCH")
            .arg(&self.pattern)
            .arg("COUNT")
            .arg(SCAN_COUNT);
        let packed = scan.get_packed_command();
        let reply = send(shared, &target, 1, |_, out| out.extend_from_slice(&packed))
            .map_err(|e| fail(shared, "scan", e))?;
        let (next, keys) = match reply.into_iter().next() {
            Some(Value::Array(parts)) if parts.len() == 2 => {
                let mut parts = parts.into_iter();
                match (parts.next(), parts.next()) {
                    (Some(Value::BulkString(next)), Some(Value::Array(keys))) => (next, keys),
                    _ => return Err(shared.names.unexpected("scan", "a malformed SCAN reply")),
                }
            }
            Some(Value::ServerError(e)) => return Err(fail(shared, "scan", e.into())),
            other => return Err(shared.names.unexpected("scan", &format!("{other:?}"))),
        };
        if next == b"0" {
            self.targets.pop_front();
            self.progress.servers_done += 1;
        } else {
            self.cursor = Some(next);
        }
        self.progress.keys_scanned += keys.len() as u64;
        // Keys of this prefix whose rest is a session id, not handed out before.
        let own = format!("{}:", shared.prefix);
        let mut found: Vec<(SessionId, Vec<u8>)> = Vec::with_capacity(keys.len());
        for key in keys {
            let Value::BulkString(key) = key else {
                continue;
            };
            let Some(sid) = key
                .strip_prefix(own.as_bytes())
                .and_then(|rest| SessionId::parse(rest).ok())
            else {
                continue;
            };
            if !self.seen.contains(&sid) && !found.iter().any(|(s, _)| *s == sid) {
                found.push((sid, key));
            }
        }
        if found.is_empty() {
            return Ok(());
        }
        let lua = &self.admin.summary;
        let ns = shared.namespace.as_bytes();
        let replies = send(shared, &target, found.len(), |full, out| {
            for (_, key) in &found {
                lua.cmd(full, key, &[ns]).write_packed_command(out);
            }
        })
        .map_err(|e| fail(shared, "scan", e))?;
        for ((sid, _), reply) in found.into_iter().zip(replies) {
            let info = match reply {
                // The key's slot moved since the SCAN: ask again where the cluster says.
                Value::ServerError(e)
                    if matches!(
                        e.kind(),
                        Some(ServerErrorKind::Moved | ServerErrorKind::Ask)
                    ) =>
                {
                    self.admin.summary(&sid)?
                }
                Value::ServerError(e) => return Err(fail(shared, "scan", e.into())),
                reply => summary_of(shared, sid.clone(), reply)?,
            };
            if let Some(info) = info {
                self.seen.insert(sid);
                self.ready.push_back(info);
            }
        }
        Ok(())
    }
}

/// Sends the `expect` commands `pack` writes to `target` (`None`: the link's one server), by
/// `timeout_ms`, sending them again as EVALs if the server did not know a script.
fn send(
    shared: &Shared,
    target: &Option<Arc<Node>>,
    expect: usize,
    pack: impl Fn(bool, &mut Vec<u8>),
) -> RedisResult<Vec<Value>> {
    let deadline = Instant::now() + shared.timeout;
    with_scripts(pack, |packed| match (&shared.link, target) {
        (Link::Direct(direct), _) => direct.send(packed, expect, deadline),
        (Link::Cluster(cluster), Some(node)) => cluster.send(node, packed, expect, deadline),
        // A cluster's targets are its masters: never taken.
        (Link::Cluster(_), None) => Err((RedisKind::Client, "no master to scan").into()),
    })
}

/// The core error for a failed admin request `op`, as [`Shared::call`] makes them.
fn fail(shared: &Shared, op: &str, e: RedisError) -> Error {
    if e.is_timeout() {
        shared.names.timeout(op, shared.timeout.as_millis())
    } else {
        shared.names.error(op, &e)
    }
}

/// A summary script's reply: `None` for a key that is no session of this prefix.
fn summary_of(shared: &Shared, id: SessionId, reply: Value) -> Result<Option<SessionInfo>> {
    let parts = match reply {
        Value::Nil => return Ok(None),
        Value::Array(parts) if parts.len() == 3 => parts,
        other => return Err(shared.names.unexpected("summary", &format!("{other:?}"))),
    };
    let mut n = parts.into_iter().map(|v| int(shared, "summary", v));
    let (Some(keys), Some(bytes), Some(pttl)) = (n.next(), n.next(), n.next()) else {
        return Err(shared.names.unexpected("summary", "too few numbers"));
    };
    Ok(Some(SessionInfo {
        id,
        keys: usize::try_from(keys?).unwrap_or(0),
        bytes: u64::try_from(bytes?).unwrap_or(0),
        ttl_ms: ttl_of(pttl?),
    }))
}

fn int(shared: &Shared, op: &str, v: Value) -> Result<i64> {
    match v {
        Value::Int(n) => Ok(n),
        other => Err(shared
            .names
            .unexpected(op, &format!("{other:?} for a number"))),
    }
}

/// A `PTTL` answer as a remaining lease: negative (-1: no expiry; -2: the key went) is none.
fn ttl_of(pttl: i64) -> Option<u64> {
    u64::try_from(pttl).ok()
}

#[cfg(test)]
mod tests {
    use super::super::scripts::GEN_FIELD;
    use super::*;

    /// Both scripts check the generation field and call read-only commands alone: an admin
    /// never creates, renews or deletes a session.
    #[test]
    fn scripts_check_the_generation_and_only_read() {
        assert_eq!(GEN_FIELD, b"\xffgen");
        const READS: &[&str] = &["TYPE", "HGET", "HKEYS", "HSTRLEN", "PTTL", "HGETALL"];
        for body in [summary_body(), read_body()] {
            assert!(body.contains(r"local G = '\255gen'"), "{body}");
            let calls: Vec<&str> = body
                .split("redis.call('")
                .skip(1)
                .map(|rest| rest.split('\'').next().unwrap_or(""))
                .collect();
            assert!(
                calls.contains(&"HGET") && calls.contains(&"PTTL"),
                "{calls:?}"
            );
            for call in calls {
                assert!(READS.contains(&call), "an admin script calls {call}");
            }
        }
    }

    #[test]
    fn negative_pttl_is_no_lease() {
        assert_eq!(ttl_of(-1), None);
        assert_eq!(ttl_of(-2), None);
        assert_eq!(ttl_of(0), Some(0));
        assert_eq!(ttl_of(59_000), Some(59_000));
    }
}
