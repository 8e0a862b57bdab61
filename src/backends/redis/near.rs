//! The near cache (`near_cache=N`, docs/API.md §13): recently read sessions kept in the
//! factory's memory, kept coherent by the server through RESP3 client-side caching.
//!
//! Every data connection of a factory with a near cache turns on the server's client-side
//! caching (`CLIENT TRACKING ON`, redirected to an invalidation connection: see
//! [`tracking`](super::tracking)), so the server remembers which session hashes it read and
//! sends an invalidation when one changes, expires or goes (a `null` one when the database is
//! flushed), handed here as it arrives ([`NearCache::invalidated`]). A dropped connection
//! forgets everything cached before any call on it answers ([`NearCache::lost`]); an idle
//! one is pinged by the backend's watcher, so one the server dropped (a `CLIENT KILL`, a
//! timeout, a restart) is noticed within a round, however long no call used it.
//!
//! Only `get` is served from the cache. A miss registers a fill token for its session before
//! its read goes out; the reply is cached only if the token is still current when it comes
//! back: an invalidation (or a flush, or a write of this factory) that came in between voids
//! it, so a stale value is never committed, whichever of the reply's caller and the connection's
//! leader runs first. A write of this factory forgets the session before it is sent and again
//! once it is answered, so the factory always reads its own writes. Writes still check the
//! session's generation on the server: a stale entry can never let one resurrect a session.
//!
//! A session with a lease is cached no longer than its lease: the fill's read also asks for
//! the time left (`PTTL`), and the entry lapses then, counted from when the read was sent (the
//! server's own deadline is no sooner). The server would tell of the expiry too, but only once
//! its expiry cycle deletes the key, which in a large keyspace can take a long time; a renewal
//! is a change, so the entry is invalidated and the next read learns the new deadline.
//!
//! The cache holds at most `N` sessions and `max_bytes` bytes, least recently used out, in
//! shards with a lock each.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use ::redis::Value;
use lru::LruCache;

use crate::stats::NearCacheStats;

const SHARDS: usize = 16;

/// What the cache says about one `get` it can answer.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Cached {
    /// Served: whether the key had a value (`visit` was called with it).
    Hit(bool),
    /// The session cached under this hash has another generation: the handle's is gone.
    Gone,
}

/// One cached session: its generation, the fields read so far (`None`: known missing) and,
/// with a lease, when the entry lapses.
struct Entry {
    generation: Vec<u8>,
    fields: HashMap<String, Option<Vec<u8>>, foldhash::fast::RandomState>,
    bytes: usize,
    lapses: Option<Instant>,
}

struct Shard {
    sessions: LruCache<Vec<u8>, Entry, foldhash::fast::RandomState>,
    /// The fill token of each session a read is in flight for.
    pending: HashMap<Vec<u8>, u64, foldhash::fast::RandomState>,
    bytes: usize,
    /// The counters, under the shard's lock (no shared atomic on the read path).
    hits: u64,
    misses: u64,
    invalidations: u64,
}

impl Shard {
    fn forget(&mut self, key: &[u8]) -> bool {
        self.pending.remove(key);
        match self.sessions.pop(key) {
            Some(entry) => {
                self.bytes -= entry.bytes;
                true
            }
            None => false,
        }
    }
}

impl Entry {
    fn lapsed(&self) -> bool {
        self.lapses.is_some_and(|at| at <= Instant::now())
    }
}

/// The near cache of one factory.
pub(crate) struct NearCache {
    shards: Box<[Mutex<Shard>]>,
    max_bytes_per_shard: usize,
    tokens: AtomicU64,
    hasher: foldhash::fast::RandomState,
}

impl NearCache {
    /// A cache of at most `sessions` sessions and `max_bytes` bytes (both > 0).
    pub(crate) fn new(sessions: usize, max_bytes: usize) -> NearCache {
        let per_shard = NonZeroUsize::new(sessions.div_ceil(SHARDS).max(1)).expect("at least 1");
        NearCache {
            shards: (0..SHARDS)
                .map(|_| {
                    Mutex::new(Shard {
                        sessions: LruCache::with_hasher(per_shard, Default::default()),
                        pending: HashMap::default(),
                        bytes: 0,
                        hits: 0,
                        misses: 0,
                        invalidations: 0,
                    })
                })
                .collect(),
            max_bytes_per_shard: (max_bytes / SHARDS).max(1),
            tokens: AtomicU64::new(1),
            hasher: foldhash::fast::RandomState::default(),
        }
    }

    fn shard(&self, key: &[u8]) -> MutexGuard<'_, Shard> {
        let i = (self.hasher.hash_one(key) as usize) % SHARDS;
        // A panic while a shard was locked leaves at worst a cached entry too many, which the
        // next invalidation of its session removes.
        self.shards[i].lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Serves `get(field)` of the session `key` attached at `generation`, calling `visit` with
    /// the value while the shard is locked; `None` when it is not cached (the miss is counted
    /// by [`reading`](Self::reading)).
    pub(crate) fn cached(
        &self,
        key: &[u8],
        generation: &[u8],
        field: &str,
        visit: &mut dyn FnMut(&[u8]),
    ) -> Option<Cached> {
        let mut shard = self.shard(key);
        let answer = match shard.sessions.get(key) {
            Some(entry) if entry.lapsed() => None,
            Some(entry) if entry.generation != generation => Some(Cached::Gone),
            Some(entry) => entry.fields.get(field).map(|value| {
                if let Some(doc) = value {
                    visit(doc);
                }
                Cached::Hit(value.is_some())
            }),
            None => None,
        };
        if answer.is_some() {
            shard.hits += 1;
        }
        answer
    }

    /// Registers a read of the session `key` about to be sent, counted as a miss (a host may
    /// ask [`cached`](Self::cached) more than once before it reads): the token its
    /// [`fill`](Self::fill) brings back. A lapsed entry is forgotten here.
    pub(crate) fn reading(&self, key: &[u8]) -> u64 {
        let token = self.tokens.fetch_add(1, Ordering::Relaxed);
        let mut shard = self.shard(key);
        shard.misses += 1;
        if shard.sessions.peek(key).is_some_and(Entry::lapsed) {
            shard.forget(key);
        }
        shard.pending.insert(key.to_vec(), token);
        token
    }

    /// Caches what a read registered as `token` found: the session's `generation` and the
    /// value of `field` (`None`: no value), until `lapses` (the session's lease, if any),
    /// unless the token was voided meanwhile.
    pub(crate) fn fill(
        &self,
        key: &[u8],
        token: u64,
        generation: &[u8],
        field: &str,
        value: Option<&[u8]>,
        lapses: Option<Instant>,
    ) {
        let mut shard = self.shard(key);
        if shard.pending.get(key) != Some(&token) {
            return;
        }
        shard.pending.remove(key);
        let size = field.len() + value.map_or(0, <[u8]>::len) + 32;
        if size > self.max_bytes_per_shard {
            return;
        }
        let fresh = |shard: &mut Shard| {
            shard.bytes += generation.len() + key.len();
            Entry {
                generation: generation.to_vec(),
                fields: HashMap::default(),
                bytes: generation.len() + key.len(),
                lapses,
            }
        };
        let mut entry = match shard.sessions.pop(key) {
            Some(mut entry) if entry.generation == generation => {
                // Filled since the session last changed: the same lease, read later.
                entry.lapses = lapses;
                entry
            }
            Some(old) => {
                shard.bytes -= old.bytes;
                fresh(&mut shard)
            }
            None => fresh(&mut shard),
        };
        if let Some(old) = entry
            .fields
            .insert(field.to_owned(), value.map(<[u8]>::to_vec))
        {
            let old = field.len() + old.map_or(0, |v| v.len()) + 32;
            entry.bytes -= old;
            shard.bytes -= old;
        }
        entry.bytes += size;
        shard.bytes += size;
        if let Some((_, evicted)) = shard.sessions.push(key.to_vec(), entry) {
            shard.bytes -= evicted.bytes;
        }
        while shard.bytes > self.max_bytes_per_shard {
            match shard.sessions.pop_lru() {
                Some((_, evicted)) => shard.bytes -= evicted.bytes,
                None => break,
            }
        }
    }

    /// Forgets the session `key` and voids a fill in flight for it (a write of this factory,
    /// before it is sent and once it is answered).
    pub(crate) fn forget(&self, key: &[u8]) {
        self.shard(key).forget(key);
    }

    /// Handles an invalidation message's payload: the session hashes that changed, or `null`
    /// (anything else, too) for all of them.
    pub(crate) fn invalidated(&self, payload: &Value) {
        match payload {
            Value::Array(keys) => {
                for key in keys {
                    if let Value::BulkString(key) = key {
                        let mut shard = self.shard(key);
                        if shard.forget(key) {
                            shard.invalidations += 1;
                        }
                    }
                }
            }
            // `null`: the database was flushed (or the server's tracking table overflowed).
            _ => self.flush(),
        }
    }

    /// Forgets everything, fills in flight included: a connection the entries were tracked
    /// through is gone, or the server flushed its data.
    pub(crate) fn lost(&self) {
        self.flush();
    }

    fn flush(&self) {
        for shard in self.shards.iter() {
            let mut shard = shard.lock().unwrap_or_else(|p| p.into_inner());
            shard.invalidations += shard.sessions.len() as u64;
            shard.sessions.clear();
            shard.pending.clear();
            shard.bytes = 0;
        }
    }

    /// The cache's counters and size now.
    pub(crate) fn stats(&self) -> NearCacheStats {
        let mut stats = NearCacheStats::default();
        for shard in self.shards.iter() {
            let shard = shard.lock().unwrap_or_else(|p| p.into_inner());
            stats.hits += shard.hits;
            stats.misses += shard.misses;
            stats.invalidations += shard.invalidations;
            stats.sessions += shard.sessions.len() as u64;
            stats.bytes += shard.bytes as u64;
        }
        stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invalidate(keys: &[&[u8]]) -> Value {
        Value::Array(keys.iter().map(|k| Value::BulkString(k.to_vec())).collect())
    }

    /// A handle's `get`, as the session does it: from the cache, else the token of a read.
    fn get(c: &NearCache, key: &[u8], field: &str) -> (Option<Vec<u8>>, Option<u64>) {
        let mut seen = None;
        match c.cached(key, b"g1", field, &mut |v| seen = Some(v.to_vec())) {
            Some(Cached::Hit(_)) => (seen, None),
            Some(Cached::Gone) => panic!("gone"),
            None => (None, Some(c.reading(key))),
        }
    }

    #[test]
    fn a_fill_is_served_until_its_session_is_invalidated() {
        let c = NearCache::new(100, 1 << 20);
        let (_, token) = get(&c, b"ss:a", "k");
        c.fill(b"ss:a", token.unwrap(), b"g1", "k", Some(b"v"), None);
        assert_eq!(get(&c, b"ss:a", "k"), (Some(b"v".to_vec()), None));
        // A field read as missing is served as missing.
        let (_, token) = get(&c, b"ss:a", "none");
        c.fill(b"ss:a", token.unwrap(), b"g1", "none", None, None);
        assert_eq!(
            c.cached(b"ss:a", b"g1", "none", &mut |_| ()),
            Some(Cached::Hit(false))
        );
        // Another generation is a destroyed session for this handle.
        assert_eq!(
            c.cached(b"ss:a", b"g0", "k", &mut |_| ()),
            Some(Cached::Gone)
        );
        c.invalidated(&invalidate(&[b"ss:a"]));
        assert!(
            get(&c, b"ss:a", "k").1.is_some(),
            "invalidated: a miss again"
        );
        let stats = c.stats();
        assert_eq!((stats.hits, stats.misses, stats.invalidations), (3, 3, 1));
    }

    /// The race of other clients' caches (an invalidation processed before the fill it
    /// cancels): the token voided by the invalidation refuses the late fill.
    #[test]
    fn an_invalidation_before_the_fill_voids_it() {
        let c = NearCache::new(100, 1 << 20);
        let (_, token) = get(&c, b"ss:a", "k");
        c.invalidated(&invalidate(&[b"ss:a"]));
        c.fill(b"ss:a", token.unwrap(), b"g1", "k", Some(b"old"), None);
        assert!(
            get(&c, b"ss:a", "k").1.is_some(),
            "the stale fill was refused"
        );
        // So do a write of this factory and a lost connection.
        let (_, token) = get(&c, b"ss:a", "k");
        c.forget(b"ss:a");
        c.fill(b"ss:a", token.unwrap(), b"g1", "k", Some(b"old"), None);
        let (_, token) = get(&c, b"ss:a", "k");
        c.lost();
        c.fill(b"ss:a", token.unwrap(), b"g1", "k", Some(b"old"), None);
        assert!(get(&c, b"ss:a", "k").1.is_some());
    }

    /// An entry filled with a lease lapses with it, whether or not the server said so.
    #[test]
    fn a_leased_entry_lapses_with_its_lease() {
        let c = NearCache::new(100, 1 << 20);
        let (_, token) = get(&c, b"ss:a", "k");
        let lapses = Instant::now() + std::time::Duration::from_millis(20);
        c.fill(
            b"ss:a",
            token.unwrap(),
            b"g1",
            "k",
            Some(b"v"),
            Some(lapses),
        );
        while Instant::now() < lapses {
            if get(&c, b"ss:a", "k").0.is_none() {
                // Descheduled past the lapse between the check and the read.
                assert!(Instant::now() >= lapses, "a miss before the lease lapsed");
                break;
            }
        }
        assert!(get(&c, b"ss:a", "k").1.is_some(), "served past its lease");
        assert_eq!(c.stats().sessions, 0, "the lapsed entry is gone");
    }

    #[test]
    fn a_null_invalidation_flushes_everything() {
        let c = NearCache::new(100, 1 << 20);
        for key in [&b"ss:a"[..], b"ss:b"] {
            let (_, token) = get(&c, key, "k");
            c.fill(key, token.unwrap(), b"g1", "k", Some(b"v"), None);
        }
        c.invalidated(&Value::Nil);
        assert_eq!(c.stats().sessions, 0);
    }

    #[test]
    fn the_bounds_hold() {
        let c = NearCache::new(64, 1 << 20);
        for i in 0..10_000 {
            let key = format!("ss:{i}").into_bytes();
            let (_, token) = get(&c, &key, "k");
            c.fill(&key, token.unwrap(), b"g1", "k", Some(b"v"), None);
        }
        assert!(c.stats().sessions <= 64 + SHARDS as u64, "{:?}", c.stats());
        let small = NearCache::new(100_000, 64 * 1024);
        for i in 0..10_000 {
            let key = format!("ss:{i}").into_bytes();
            let (_, token) = get(&small, &key, "k");
            small.fill(&key, token.unwrap(), b"g1", "k", Some(&[7; 100]), None);
        }
        assert!(small.stats().bytes <= 64 * 1024, "{:?}", small.stats());
    }
}
