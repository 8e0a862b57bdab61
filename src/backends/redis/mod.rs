//! The Redis backend (`redis://`, `rediss://`, `redis+sentinel://`, `redis+cluster://`).
//!
//! Every factory shares its connections among its calling threads, which pipeline on them
//! with no I/O thread in between ([`pipe`]): a lone caller writes and reads on its own thread,
//! concurrent callers share writes and reads. Standalone and Sentinel have one connection,
//! Cluster one per master ([`cluster`]). Every [`Session`] method blocks for at most
//! `timeout_ms`, connecting and name resolution included. The layout (one hash per session, a
//! generation field, a lease) is described in [`scripts`] and `docs/redis.md`.
//!
//! The only thread of the backend is the lease refresher (with `ttl_ms > 0`); `close` stops it
//! and closes every socket, so a closed factory holds nothing.

pub(crate) mod admin;
mod cluster;
mod config;
mod errors;
mod lease;
mod link;
mod near;
mod pipe;
mod scripts;
mod sentinel;
mod session;
mod sock;
#[cfg(test)]
mod test_peer;
mod tracking;
mod wire;

use std::sync::Arc;
use std::time::{Duration, Instant};

use ::redis::{Cmd, ErrorKind as RedisKind, RedisResult, Value};

use crate::backend::{Backend, Session};
use crate::backends::lock;
use crate::config::Config;
use crate::error::Result;
use crate::names::SessionId;
use crate::periodic::Periodic;

pub(crate) use config::KIND;
pub use config::{RedisConfig, RedisTopology};

use errors::Names;
use lease::Leases;
use link::Link;
use near::NearCache;
use scripts::{Lua, Scripts};
use session::RedisSession;

/// The sessions of one Redis deployment, as one factory sees them.
pub struct RedisBackend {
    shared: Arc<Shared>,
    /// Renews the leases of the sessions this factory holds; with `ttl_ms > 0` only.
    refresher: Option<Periodic>,
    /// Runs [`watch`]; on a cluster or with a near cache only.
    watcher: Option<Periodic>,
}

/// What every session of a backend shares.
pub(crate) struct Shared {
    link: Link,
    scripts: Scripts,
    names: Names,
    timeout: Duration,
    prefix: String,
    /// What starts the generation of every session of this prefix (see [`scripts`]).
    namespace: String,
    /// The lease in ms as a script argument; "0" when off.
    ttl_arg: String,
    leases: Option<Leases>,
    /// With `near_cache > 0`: recently read sessions (docs/API.md §13).
    near: Option<Arc<NearCache>>,
}

impl RedisBackend {
    /// Connects to the servers `redis` names with the options of `config`; fails with
    /// `Timeout` or `Backend` when they cannot be reached within `timeout_ms`.
    pub fn open(config: &Config, redis: &RedisConfig) -> Result<Self> {
        let names = Names {
            server: redis.redacted_url(),
        };
        if redis.tls {
            // rustls leaves the choice of crypto to the application; a provider installed first
            // by the host process is fine too (ours are built with ring explicitly).
            let _ = rustls::crypto::ring::default_provider().install_default();
        }
        let timeout = config.timeout;
        let near = (redis.near_cache > 0)
            .then(|| Arc::new(NearCache::new(redis.near_cache, redis.near_cache_bytes)));
        let link = Link::open(redis, Instant::now() + timeout, near.clone())
            .map_err(|e| names.error("connect", &e))?;
        let ttl = config.ttl;
        let shared = Arc::new(Shared {
            link,
            scripts: Scripts::new(),
            names,
            timeout,
            prefix: config.prefix.clone(),
            namespace: scripts::namespace(&config.prefix),
            ttl_arg: ttl.map_or_else(|| "0".to_owned(), |t| t.as_millis().to_string()),
            leases: ttl.map(Leases::new),
            near,
        });
        if let Some(tracking) = shared.link.tracking() {
            // The invalidation connection to a server broke: its data connections go too (the
            // server no longer knows where to send their invalidations). Weak: the link holds
            // the tracking, which must not hold the link.
            let weak = Arc::downgrade(&shared);
            tracking.on_broken(Arc::new(move |at| {
                if let Some(shared) = weak.upgrade() {
                    shared.link.reset(at);
                }
            }));
        }
        let refresher = shared.leases.as_ref().map(|leases| {
            Periodic::start(
                "sessionstore-lease",
                "lease refresher",
                leases.tick(),
                Arc::downgrade(&shared),
                lease::refresh_due,
            )
        });
        let watched = matches!(shared.link, Link::Cluster(_)) || shared.near.is_some();
        let watcher = watched.then(|| {
            Periodic::start(
                "sessionstore-watch",
                "connection watcher",
                WATCH_EVERY,
                Arc::downgrade(&shared),
                watch,
            )
        });
        // On an error, the backend dropped closes what did start.
        let mut backend = RedisBackend {
            shared,
            refresher: None,
            watcher: None,
        };
        backend.refresher = refresher.transpose()?;
        backend.watcher = watcher.transpose()?;
        Ok(backend)
    }
}

impl Backend for RedisBackend {
    fn attach(&self, sid: &SessionId) -> Result<Box<dyn Session>> {
        Ok(Box::new(RedisSession::attach(&self.shared, sid)?))
    }

    fn destroy_session(&self, sid: &SessionId) -> Result<()> {
        let key = self.shared.key(sid);
        let ns = self.shared.namespace.as_bytes();
        let lua = &self.shared.scripts.destroy_session;
        self.shared.script("destroy_session", lua, &key, &[ns])?;
        Ok(())
    }

    fn close(&self) {
        for job in [&self.refresher, &self.watcher].into_iter().flatten() {
            job.stop();
        }
        self.shared.link.close();
    }

    fn is_remote(&self) -> bool {
        true
    }

    fn near_cache_stats(&self) -> crate::stats::NearCacheStats {
        self.shared
            .near
            .as_ref()
            .map_or_else(Default::default, |near| near.stats())
    }

    fn lease_stats(&self) -> crate::stats::Lease {
        let (Some(leases), Some(refresher)) = (&self.shared.leases, &self.refresher) else {
            return crate::stats::Lease::default();
        };
        let (rounds, renewals) = leases.counts();
        crate::stats::Lease {
            rounds,
            renewals,
            overruns: refresher.overruns(),
        }
    }
}

impl Drop for RedisBackend {
    fn drop(&mut self) {
        self.close();
    }
}

/// How often [`watch`] runs.
const WATCH_EVERY: Duration = Duration::from_millis(100);

/// The watcher's round: a cluster's map in doubt is asked for again (a master hangs: see
/// [`cluster`]); with a near cache, every open connection is pinged, so one the server dropped
/// (and its invalidations with it) is noticed, and the cache forgotten, within a round even
/// while no call uses it.
fn watch(shared: &Shared) {
    if let Link::Cluster(cluster) = &shared.link {
        cluster.recheck(shared.timeout);
    }
    if shared.near.is_some() {
        shared.link.ping_open(Instant::now() + shared.timeout);
    }
}

/// The error of a call on a closed factory's connection.
fn closed() -> ::redis::RedisError {
    ::redis::RedisError::from((RedisKind::Client, "the store factory is closed"))
}

impl Shared {
    /// The hash of session `sid`: `<prefix>:<sid>`.
    fn key(&self, sid: &SessionId) -> Vec<u8> {
        format!("{}:{}", self.prefix, sid.as_str()).into_bytes()
    }

    /// Runs script `lua` on `key` with `args`, as operation `op`.
    fn script(&self, op: &str, lua: &Lua, key: &[u8], args: &[&[u8]]) -> Result<Value> {
        self.call(op, key, |full| lua.cmd(full, key, args))
    }

    /// Sends the command `build(false)` on `key` (`build(true)` again after a NOSCRIPT
    /// answer) as operation `op`, bounded by `timeout_ms`.
    fn call(&self, op: &str, key: &[u8], build: impl Fn(bool) -> Cmd) -> Result<Value> {
        let pack = |full: bool, packed: &mut Vec<u8>| build(full).write_packed_command(packed);
        let mut replies = self.calls(op, key, 1, pack)?.into_iter();
        replies
            .next()
            .ok_or_else(|| self.names.unexpected(op, "no reply"))
    }

    /// Sends the `expect` commands `pack` writes, all on `key`, as operation `op`, bounded by
    /// `timeout_ms`; their replies, the first error reply as the error.
    fn calls(
        &self,
        op: &str,
        key: &[u8],
        expect: usize,
        pack: impl Fn(bool, &mut Vec<u8>),
    ) -> Result<Vec<Value>> {
        let deadline = Instant::now() + self.timeout;
        let reply = self
            .link
            .request(key, expect, deadline, pack)
            .and_then(|replies| {
                let checked = replies.into_iter().map(|v| match v {
                    Value::ServerError(e) => Err(e.into()),
                    v => Ok(v),
                });
                checked.collect::<RedisResult<Vec<Value>>>()
            });
        reply.map_err(|e| {
            if e.is_timeout() {
                self.names.timeout(op, self.timeout.as_millis())
            } else {
                self.names.error(op, &e)
            }
        })
    }
}
