//! Read-only administration of a backend's sessions: list them, read one without opening a
//! store on it, and summarise them all. The `sessionstore` command-line tool (`cli/`) is a
//! thin layer over this module.
//!
//! ```no_run
//! use sessionstore::admin::Admin;
//!
//! let admin = Admin::open("redis://127.0.0.1:6379?prefix=app").unwrap();
//! for info in admin.sessions("*").unwrap() {
//!     let info = info.unwrap();
//!     println!("{} {} keys, {} bytes, ttl {:?}", info.id, info.keys, info.bytes, info.ttl_ms);
//! }
//! if let Some(data) = admin.read("6f1c9a2e").unwrap() {
//!     for (key, doc) in &data.entries {
//!         println!("{key}: {} bytes of MessagePack", doc.len());
//!     }
//! }
//! ```
//!
//! Only Redis backends (every url of docs/API.md §1 but `memory://`) can be administered:
//! `memory://` sessions live inside the process that opened them. An [`Admin`] reaches the
//! servers through the backend's own connections, so TLS, Sentinel, Cluster (every master is
//! scanned), `timeout_ms` and the redacted server names in errors are those of a
//! [`StoreFactory`](crate::StoreFactory) on the same url.
//!
//! Nothing here writes: listing and reading never create a session (unlike
//! [`StoreFactory::create_store`](crate::StoreFactory::create_store)), never renew a lease and
//! never delete; destroying is [`StoreFactory::destroy_session`](crate::StoreFactory::destroy_session).
//!
//! Only the url's prefix is seen: a session is listed when its key is `<prefix>:<id>`, `<id>`
//! is a valid session id (docs/API.md §2) and its generation starts with `<prefix>/`
//! (docs/API.md §8), so another prefix's session under the same key is never listed.

use std::sync::atomic::{AtomicBool, Ordering};

use crate::backends::redis::admin::{RedisAdmin, Scan};
use crate::backends::BackendConfig;
use crate::config::Config;
use crate::error::{Error, ErrorKind, Result};
use crate::names::SessionId;

/// The summary of one session.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionInfo {
    /// The session id.
    pub id: SessionId,
    /// How many keys it holds (the generation field not counted).
    pub keys: usize,
    /// The bytes of its keys and their encoded (MessagePack) values, added up: what
    /// `get_all` would read. The server's own overhead is not counted.
    pub bytes: u64,
    /// The lease left, in ms, when it was read; `None` when the session has no lease (it
    /// never expires: a session of a factory without `ttl_ms`, or an orphan).
    pub ttl_ms: Option<u64>,
}

/// Every key and value of one session, read atomically.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionData {
    /// Its summary (from the same read).
    pub info: SessionInfo,
    /// Each key with its encoded value (one MessagePack document, docs/API.md §3), sorted
    /// by key.
    pub entries: Vec<(String, Vec<u8>)>,
}

/// How far a listing got, for a progress display.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ScanProgress {
    /// Sessions handed out so far.
    pub sessions: u64,
    /// Keys the servers answered to the scan's pattern, sessions or not.
    pub keys_scanned: u64,
    /// Servers scanned to the end (on a cluster: masters).
    pub servers_done: usize,
    /// Servers to scan: 1, or a cluster's masters.
    pub servers: usize,
}

/// The spread of the leases left over the sessions that have one.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TtlSpread {
    /// The shortest lease left, in ms.
    pub min_ms: u64,
    /// The median (nearest rank).
    pub p50_ms: u64,
    /// The 90th percentile (nearest rank).
    pub p90_ms: u64,
    /// The longest.
    pub max_ms: u64,
    /// How many sessions fall in each bucket of [`TTL_BUCKETS_MS`], and past the last:
    /// `(upper bound in ms, inclusive; None past the last, sessions)`.
    pub buckets: Vec<(Option<u64>, u64)>,
}

/// The upper bounds (inclusive, in ms) of [`TtlSpread::buckets`]: 1 s, 10 s, 1 min, 10 min,
/// 1 h, 1 day; one more bucket holds the longer ones.
pub const TTL_BUCKETS_MS: [u64; 6] = [1_000, 10_000, 60_000, 600_000, 3_600_000, 86_400_000];

/// Totals over the sessions of a prefix.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// How many sessions.
    pub sessions: u64,
    /// Their keys, added up.
    pub keys: u64,
    /// Their [`SessionInfo::bytes`], added up.
    pub bytes: u64,
    /// Sessions without a lease: they never expire, so a node that died without destroying
    /// them left them behind for good (orphans, unless their factory runs without `ttl_ms`).
    pub without_ttl: u64,
    /// The spread of the leases left; `None` when no session has one.
    pub ttl: Option<TtlSpread>,
}

impl Stats {
    /// The totals over `sessions`.
    pub fn of(sessions: impl IntoIterator<Item = SessionInfo>) -> Stats {
        let mut stats = Stats::default();
        let mut ttls = Vec::new();
        for info in sessions {
            stats.sessions += 1;
            stats.keys += info.keys as u64;
            stats.bytes += info.bytes;
            match info.ttl_ms {
                Some(ttl) => ttls.push(ttl),
                None => stats.without_ttl += 1,
            }
        }
        stats.ttl = spread(ttls);
        stats
    }
}

fn spread(mut ttls: Vec<u64>) -> Option<TtlSpread> {
    ttls.sort_unstable();
    let (&min_ms, &max_ms) = (ttls.first()?, ttls.last()?);
    // Nearest rank: the smallest value with at least p% of the values at or below it.
    let rank = |p: usize| ttls[(ttls.len() * p).div_ceil(100).max(1) - 1];
    let mut buckets: Vec<(Option<u64>, u64)> = TTL_BUCKETS_MS
        .iter()
        .map(|&b| (Some(b), 0))
        .chain([(None, 0)])
        .collect();
    for &ttl in &ttls {
        let at = TTL_BUCKETS_MS.partition_point(|&b| b < ttl);
        buckets[at].1 += 1;
    }
    Some(TtlSpread {
        min_ms,
        p50_ms: rank(50),
        p90_ms: rank(90),
        max_ms,
        buckets,
    })
}

/// Read-only access to the sessions of one backend and prefix (see the module's doc).
pub struct Admin {
    config: Config,
    redis: RedisAdmin,
    /// After `close`, every call answers `Closed` (a cluster's closed link would otherwise
    /// scan no master and answer an empty listing).
    closed: AtomicBool,
}

impl Admin {
    /// Connects to the backend `url` names (docs/API.md §1), within its `timeout_ms`.
    ///
    /// Errors: `Config` for a bad url, and for `memory://` (its sessions live in the process
    /// that opened them); `Backend` or `Timeout` when the servers cannot be reached.
    pub fn open(url: &str) -> Result<Admin> {
        Admin::with_config(Config::parse(url)?)
    }

    /// Connects with an already parsed configuration (see [`open`](Self::open)).
    pub fn with_config(config: Config) -> Result<Admin> {
        let redis = match &config.backend {
            BackendConfig::Memory => {
                return Err(Error::new(
                    ErrorKind::Config,
                    "memory:// sessions live inside the process that opened them, where \
                     nothing else can see them: give the url of a Redis backend",
                ))
            }
            BackendConfig::Redis(redis) => RedisAdmin::open(&config, redis)?,
            #[cfg(feature = "hazelcast")]
            BackendConfig::Hazelcast(_) => {
                return Err(Error::new(
                    ErrorKind::Config,
                    "the operators' tools read Redis backends only, not hazelcast://",
                ))
            }
        };
        Ok(Admin {
            config,
            redis,
            closed: AtomicBool::new(false),
        })
    }

    /// The configuration this admin was opened with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The sessions whose id matches `pattern`, a Redis glob (`*`, `?`, `[a-z]`, `\`
    /// escapes; `*` for all), in the servers' scan order, which is arbitrary. Each server is
    /// scanned as the iterator is consumed, so stopping early (`take(n)`) stops the scan;
    /// [`Sessions::progress`] says how far it got. A session created or destroyed during the
    /// listing may or may not be in it; no session is handed out twice. The first error ends
    /// the listing.
    pub fn sessions(&self, pattern: &str) -> Result<Sessions<'_>> {
        self.check_open()?;
        if pattern.is_empty() {
            return Err(Error::new(
                ErrorKind::InvalidArg,
                "an empty pattern matches no session id; `*` matches every one",
            ));
        }
        Ok(Sessions {
            admin: self,
            scan: self.redis.scan(pattern),
            ended: false,
        })
    }

    /// The summary of session `id`; `None` when this prefix has no session under that id.
    /// Never creates one. `InvalidArg` for an id that is no session id (docs/API.md §2).
    pub fn session(&self, id: impl AsRef<[u8]>) -> Result<Option<SessionInfo>> {
        self.check_open()?;
        self.redis.summary(&SessionId::parse(id.as_ref())?)
    }

    /// Every key and value of session `id`, read atomically; `None` when this prefix has no
    /// session under that id. Never creates one (unlike opening a store), never renews its
    /// lease. `InvalidArg` for an id that is no session id.
    pub fn read(&self, id: impl AsRef<[u8]>) -> Result<Option<SessionData>> {
        self.check_open()?;
        self.redis.read(&SessionId::parse(id.as_ref())?)
    }

    /// The totals over every session of this prefix: one full listing, whose progress is
    /// handed to `progress` after each session.
    pub fn stats(&self, progress: &mut dyn FnMut(&ScanProgress)) -> Result<Stats> {
        let mut sessions = self.sessions("*")?;
        let mut failed = None;
        let stats = Stats::of(std::iter::from_fn(|| match sessions.next()? {
            Ok(info) => {
                progress(&sessions.progress());
                Some(info)
            }
            Err(e) => {
                failed = Some(e);
                None
            }
        }));
        match failed {
            Some(e) => Err(e),
            None => Ok(stats),
        }
    }

    /// Closes the connections (also done when the admin is dropped); later calls answer
    /// `Closed`, and so does a listing the close overtook. Closing twice is a no-op.
    pub fn close(&self) {
        if !self.closed.swap(true, Ordering::AcqRel) {
            self.redis.close();
        }
    }

    fn check_open(&self) -> Result<()> {
        if self.closed.load(Ordering::Acquire) {
            return Err(Error::closed());
        }
        Ok(())
    }
}

impl std::fmt::Debug for Admin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Admin")
            .field("url", &self.config.redacted_url())
            .finish()
    }
}

/// A listing of sessions (see [`Admin::sessions`]): each item a session's summary, or the
/// error that ended the listing.
pub struct Sessions<'a> {
    admin: &'a Admin,
    scan: Scan<'a>,
    ended: bool,
}

impl Sessions<'_> {
    /// How far the listing got.
    pub fn progress(&self) -> ScanProgress {
        self.scan.progress()
    }
}

impl Iterator for Sessions<'_> {
    type Item = Result<SessionInfo>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.ended {
            return None;
        }
        let next = self.scan.next_session();
        if next.is_none() || matches!(next, Some(Err(_))) {
            self.ended = true;
            // A listing the admin's close overtook is no complete listing.
            if let Err(closed) = self.admin.check_open() {
                return Some(Err(closed));
            }
        }
        next
    }
}

impl std::iter::FusedIterator for Sessions<'_> {}

impl std::fmt::Debug for Sessions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions")
            .field("progress", &self.progress())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(id: &str, keys: usize, bytes: u64, ttl_ms: Option<u64>) -> SessionInfo {
        SessionInfo {
            id: id.parse().unwrap(),
            keys,
            bytes,
            ttl_ms,
        }
    }

    #[test]
    fn only_redis_urls_open() {
        for url in ["memory://", "hazelcast://127.0.0.1:1/dev"] {
            let Err(e) = Admin::open(url) else {
                panic!("{url} opened");
            };
            assert_eq!(e.kind(), ErrorKind::Config, "{url}: {e}");
        }
    }

    #[test]
    fn stats_add_up_and_spread_the_leases() {
        let mut all = vec![info("a", 2, 10, None), info("b", 0, 0, None)];
        for (i, ttl) in [500, 1_000, 1_001, 59_000, 60_000, 7_200_000, 90_000_000, 20]
            .into_iter()
            .enumerate()
        {
            all.push(info(&format!("l{i}"), 1, 3, Some(ttl)));
        }
        let stats = Stats::of(all);
        assert_eq!(stats.sessions, 10);
        assert_eq!(stats.keys, 10);
        assert_eq!(stats.bytes, 34);
        assert_eq!(stats.without_ttl, 2);
        let ttl = stats.ttl.unwrap();
        assert_eq!((ttl.min_ms, ttl.max_ms), (20, 90_000_000));
        // Sorted: 20 500 1000 1001 59000 60000 7200000 90000000; rank ceil(8 * p / 100).
        assert_eq!(ttl.p50_ms, 1_001);
        assert_eq!(ttl.p90_ms, 90_000_000);
        assert_eq!(
            ttl.buckets,
            [
                (Some(1_000), 3),
                (Some(10_000), 1),
                (Some(60_000), 2),
                (Some(600_000), 0),
                (Some(3_600_000), 0),
                (Some(86_400_000), 1),
                (None, 1),
            ]
        );
    }

    #[test]
    fn stats_of_nothing_and_of_one() {
        let none = Stats::of([]);
        assert_eq!((none.sessions, none.without_ttl, none.ttl), (0, 0, None));
        let one = Stats::of([info("a", 1, 1, Some(42))]).ttl.unwrap();
        assert_eq!(
            (one.min_ms, one.p50_ms, one.p90_ms, one.max_ms),
            (42, 42, 42, 42)
        );
    }

    #[test]
    fn memory_cannot_be_administered() {
        let e = Admin::open("memory://").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config);
        assert!(e.message().contains("memory://"), "{e}");
        assert_eq!(
            Admin::open("nope://x").unwrap_err().kind(),
            ErrorKind::Config
        );
    }
}
