//! The in-memory backend (`memory://`, the embedded default): sessions live in this process.
//!
//! A sharded registry ([`DashMap`]) maps each session id to a cell; each handle holds the cell
//! itself, so operations on a store touch only that session's lock, never a global one.
//! Destroying (or reclaiming) a session detaches its cell from the registry and marks it dead:
//! old handles answer `Destroyed`, and the next attach starts a new cell.

use std::hash::BuildHasher;
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use dashmap::mapref::entry::Entry as MapEntry;
use dashmap::DashMap;
use hashbrown::HashTable;
use once_cell::sync::Lazy;

use super::{BackendConfig, Kind};
use crate::backend::{Backend, Session};
use crate::config::Options;
use crate::error::{Error, Result};
use crate::names::SessionId;
use crate::periodic::Periodic;

/// `memory://`: nothing may follow the scheme but options.
pub(crate) const KIND: Kind = Kind {
    schemes: &["memory"],
    options: &[],
    parse: |_, rest, _: &mut Options| {
        if rest.is_empty() {
            return Ok(BackendConfig::Memory);
        }
        // A url written for another backend may carry credentials: the message quotes only
        // what follows the last '@', so a password never appears in it (docs/API.md §1).
        let shown = match rest.rsplit_once('@') {
            Some((_, after)) => format!("***@{after}"),
            None => rest.to_owned(),
        };
        Err(Error::config(format!(
            "memory:// takes no host or path, got {shown:?}: use memory:// (options go after `?`)"
        )))
    },
};

type Hasher = foldhash::fast::RandomState;

/// One hasher state for every session's keys: seeded randomly once per process, and zero bytes
/// per session (a per-map state would cost more than the three keys a session usually holds).
static KEY_HASHER: Lazy<Hasher> = Lazy::new(Hasher::default);

fn hash_key(key: &str) -> u64 {
    KEY_HASHER.hash_one(key)
}

/// The sessions of one `memory://` factory.
pub struct MemoryBackend {
    shared: Arc<Shared>,
    /// Frees the memory of sessions nobody comes back to; with a lease only.
    sweeper: Option<Periodic>,
}

struct Shared {
    sessions: DashMap<SessionId, Arc<Cell>, Hasher>,
    ttl: Option<Duration>,
}

impl MemoryBackend {
    /// A backend whose idle sessions are reclaimed `ttl` after their last handle was released
    /// (never, with `None`).
    pub fn new(ttl: Option<Duration>) -> Result<Self> {
        let shared = Arc::new(Shared {
            sessions: DashMap::with_hasher(Hasher::default()),
            ttl,
        });
        // Reclaiming is also checked at attach, so correctness never waits for the sweeper:
        // it only frees the memory of sessions nobody comes back to.
        let sweeper = ttl
            .map(|ttl| {
                Periodic::start(
                    "sessionstore-sweeper",
                    "lease sweeper",
                    (ttl / 2).clamp(Duration::from_millis(5), Duration::from_secs(1)),
                    Arc::downgrade(&shared),
                    |shared: &Shared| shared.sweep(Instant::now()),
                )
            })
            .transpose()?;
        Ok(MemoryBackend { shared, sweeper })
    }

    /// How many sessions the registry holds (reclaimed ones may linger until the next sweep).
    pub fn session_count(&self) -> usize {
        self.shared.sessions.len()
    }
}

impl Shared {
    fn sweep(&self, now: Instant) {
        self.sessions.retain(|_, cell| {
            let expired = cell.expired(now, self.ttl);
            if expired {
                cell.kill();
            }
            !expired
        });
    }

    fn detach(&self, sid: &SessionId, cell: &Arc<Cell>) {
        self.sessions
            .remove_if(sid, |_, held| Arc::ptr_eq(held, cell));
    }
}

impl Backend for MemoryBackend {
    fn attach(&self, sid: &SessionId) -> Result<Box<dyn Session>> {
        let now = Instant::now();
        // The shard lock of `entry` orders attach against sweeping and destroying this id.
        let cell = match self.shared.sessions.entry(sid.clone()) {
            MapEntry::Occupied(mut held) if held.get().expired(now, self.shared.ttl) => {
                held.get().kill();
                let fresh = Arc::new(Cell::new(now));
                held.insert(fresh.clone());
                fresh
            }
            MapEntry::Occupied(held) => {
                held.get().lease().handles += 1;
                held.get().clone()
            }
            MapEntry::Vacant(slot) => slot.insert(Arc::new(Cell::new(now))).clone(),
        };
        Ok(Box::new(MemorySession {
            shared: self.shared.clone(),
            sid: sid.clone(),
            cell,
        }))
    }

    fn destroy_session(&self, sid: &SessionId) -> Result<()> {
        if let Some((_, cell)) = self.shared.sessions.remove(sid) {
            cell.kill();
        }
        Ok(())
    }

    fn close(&self) {
        if let Some(sweeper) = &self.sweeper {
            sweeper.stop();
        }
        self.shared.sessions.retain(|_, cell| {
            cell.kill();
            false
        });
    }

    fn is_remote(&self) -> bool {
        false
    }
}

/// One session's data and lease.
struct Cell {
    data: RwLock<Data>,
    lease: Mutex<Lease>,
}

struct Data {
    destroyed: bool,
    entries: HashTable<Entry>,
}

struct Lease {
    handles: usize,
    idle_since: Instant,
}

impl Cell {
    fn new(now: Instant) -> Self {
        Cell {
            data: RwLock::new(Data {
                destroyed: false,
                entries: HashTable::new(),
            }),
            lease: Mutex::new(Lease {
                handles: 1,
                idle_since: now,
            }),
        }
    }

    // A panic while a lock was held cannot leave `Data` or `Lease` half-updated (every update
    // is a single assignment or table call), so a poisoned lock is still safe to use.
    fn read(&self) -> RwLockReadGuard<'_, Data> {
        self.data.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Data> {
        self.data.write().unwrap_or_else(|p| p.into_inner())
    }

    fn lease(&self) -> MutexGuard<'_, Lease> {
        self.lease.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn expired(&self, now: Instant, ttl: Option<Duration>) -> bool {
        let Some(ttl) = ttl else { return false };
        let lease = self.lease();
        lease.handles == 0 && now.saturating_duration_since(lease.idle_since) >= ttl
    }

    fn kill(&self) {
        let mut data = self.write();
        data.destroyed = true;
        data.entries = HashTable::new();
    }
}

/// One key and its value in a single allocation: `[key length: u16 LE][key][value]`.
/// One allocation per entry instead of two is what keeps a million sessions small.
struct Entry(Box<[u8]>);

impl Entry {
    fn new(key: &str, doc: &[u8]) -> Self {
        // Keys are at most 1024 bytes (checked before any backend is reached).
        let klen = key.len() as u16;
        let mut buf = Vec::with_capacity(2 + key.len() + doc.len());
        buf.extend_from_slice(&klen.to_le_bytes());
        buf.extend_from_slice(key.as_bytes());
        buf.extend_from_slice(doc);
        Entry(buf.into_boxed_slice())
    }

    fn key_len(&self) -> usize {
        u16::from_le_bytes([self.0[0], self.0[1]]) as usize
    }

    fn key_bytes(&self) -> &[u8] {
        &self.0[2..2 + self.key_len()]
    }

    /// Whether this entry is `key`'s: a byte comparison, no UTF-8 check on the hot path.
    fn is(&self, key: &str) -> bool {
        self.key_bytes() == key.as_bytes()
    }

    fn key(&self) -> &str {
        // Written from a &str by `new`; the check is a cheap guard, never taken.
        std::str::from_utf8(self.key_bytes()).unwrap_or_default()
    }

    fn value(&self) -> &[u8] {
        &self.0[2 + self.key_len()..]
    }

    fn rehash(&self) -> u64 {
        hash_key(self.key())
    }
}

impl Data {
    fn live(&self) -> Result<&Self> {
        if self.destroyed {
            return Err(Error::destroyed());
        }
        Ok(self)
    }

    fn live_mut(&mut self) -> Result<&mut Self> {
        if self.destroyed {
            return Err(Error::destroyed());
        }
        Ok(self)
    }

    fn find(&self, key: &str) -> Option<&Entry> {
        self.entries.find(hash_key(key), |e| e.is(key))
    }

    fn insert(&mut self, key: &str, doc: &[u8]) {
        let entry = Entry::new(key, doc);
        match self
            .entries
            .entry(hash_key(key), |e| e.is(key), Entry::rehash)
        {
            hashbrown::hash_table::Entry::Occupied(mut held) => *held.get_mut() = entry,
            hashbrown::hash_table::Entry::Vacant(slot) => {
                slot.insert(entry);
            }
        }
    }
}

/// A handle's view of a memory session; dropping it releases the handle.
struct MemorySession {
    shared: Arc<Shared>,
    sid: SessionId,
    cell: Arc<Cell>,
}

impl Session for MemorySession {
    fn get(&self, key: &str, visit: &mut dyn FnMut(&[u8])) -> Result<bool> {
        let data = self.cell.read();
        Ok(match data.live()?.find(key) {
            Some(entry) => {
                visit(entry.value());
                true
            }
            None => false,
        })
    }

    fn set(&self, key: &str, doc: &[u8]) -> Result<()> {
        self.cell.write().live_mut()?.insert(key, doc);
        Ok(())
    }

    fn has(&self, key: &str) -> Result<bool> {
        Ok(self.cell.read().live()?.find(key).is_some())
    }

    fn del(&self, key: &str) -> Result<bool> {
        let mut data = self.cell.write();
        let data = data.live_mut()?;
        Ok(
            match data.entries.find_entry(hash_key(key), |e| e.is(key)) {
                Ok(held) => {
                    held.remove();
                    true
                }
                Err(_) => false,
            },
        )
    }

    fn len(&self) -> Result<usize> {
        Ok(self.cell.read().live()?.entries.len())
    }

    fn keys(&self) -> Result<Vec<String>> {
        let data = self.cell.read();
        Ok(data
            .live()?
            .entries
            .iter()
            .map(|e| e.key().to_owned())
            .collect())
    }

    fn get_all(&self) -> Result<Vec<(String, Vec<u8>)>> {
        let data = self.cell.read();
        Ok(data
            .live()?
            .entries
            .iter()
            .map(|e| (e.key().to_owned(), e.value().to_vec()))
            .collect())
    }

    fn set_many(&self, entries: &[(&str, &[u8])]) -> Result<()> {
        let mut data = self.cell.write();
        let data = data.live_mut()?;
        data.entries.reserve(entries.len(), Entry::rehash);
        for (key, doc) in entries {
            data.insert(key, doc);
        }
        Ok(())
    }

    fn replace_all(&self, entries: &[(&str, &[u8])]) -> Result<()> {
        let mut data = self.cell.write();
        let data = data.live_mut()?;
        data.entries.clear();
        for (key, doc) in entries {
            data.insert(key, doc);
        }
        Ok(())
    }

    fn destroy(&self) -> Result<()> {
        // Detach first: an attach that comes after must start a new session, not find this one.
        self.shared.detach(&self.sid, &self.cell);
        self.cell.kill();
        Ok(())
    }
}

impl Drop for MemorySession {
    fn drop(&mut self) {
        let mut lease = self.cell.lease();
        lease.handles -= 1;
        if lease.handles == 0 {
            lease.idle_since = Instant::now();
        }
    }
}
