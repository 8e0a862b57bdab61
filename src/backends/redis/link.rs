//! The connections of one backend. A standalone or Sentinel link is one [`Pipe`], the
//! connection every calling thread shares, dialled again after it failed (asking the sentinels
//! for the current master each time). A cluster link is one such pipe per master, a request
//! routed by its key's slot ([`Cluster`]). No link has an I/O thread of its own.

use std::sync::Arc;
use std::time::Instant;

use ::redis::{RedisResult, ServerErrorKind, Value};
use rustls::ClientConfig;

use super::cluster::Cluster;
use super::config::{RedisConfig, RedisTopology};
use super::near::NearCache;
use super::pipe::Pipe;
use super::sentinel::{check_master, Sentinels};
use super::sock::Endpoint;
use super::tracking::Tracking;
use super::wire::{tls_config, Login, Wire};

/// Where a standalone or Sentinel link dials.
enum Source {
    Fixed(Endpoint),
    Sentinel(Sentinels),
}

/// A standalone or Sentinel link: the shared pipe and how to dial it.
pub(crate) struct Direct {
    pipe: Pipe,
    source: Source,
    login: Login,
    tls: Option<Arc<ClientConfig>>,
    tracking: Option<Arc<Tracking>>,
}

impl Direct {
    fn dial(&self, deadline: Instant) -> RedisResult<Wire> {
        let (at, mut wire) = match &self.source {
            Source::Fixed(to) => (
                to.clone(),
                Wire::dial(to, &self.login, self.tls.as_ref(), deadline)?,
            ),
            Source::Sentinel(sentinels) => {
                let master = sentinels.master(deadline)?;
                let mut wire = Wire::dial(&master, &self.login, self.tls.as_ref(), deadline)?;
                check_master(&mut wire, deadline)?;
                (master, wire)
            }
        };
        if let Some(tracking) = &self.tracking {
            tracking.track(&at, &mut wire, deadline)?;
        }
        Ok(wire)
    }

    /// One request on the shared pipe: `expect` commands, their replies by `deadline`.
    pub(crate) fn send(
        &self,
        packed: &[u8],
        expect: usize,
        deadline: Instant,
    ) -> RedisResult<Vec<Value>> {
        self.pipe
            .request(packed, expect, deadline, &|d| self.dial(d))
    }
}

/// The connections of one backend.
// One per backend, so the size difference of the variants does not matter.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Link {
    Direct(Direct),
    Cluster(Cluster),
}

fn endpoint((host, port): &(String, u16)) -> Endpoint {
    Endpoint {
        host: host.clone(),
        port: *port,
    }
}

impl Link {
    /// Builds the link for `cfg` and makes its first connection (proving the servers answer
    /// like Redis), by `deadline`. With a near cache, every data connection is tracked.
    pub(crate) fn open(
        cfg: &RedisConfig,
        deadline: Instant,
        near: Option<Arc<NearCache>>,
    ) -> RedisResult<Link> {
        let tls = if cfg.tls { Some(tls_config()?) } else { None };
        let login = Login {
            username: cfg.username.clone(),
            password: cfg.password.clone(),
            db: cfg.db,
        };
        let tracking = near.map(|cache| Tracking::new(cache, login.clone(), tls.clone()));
        let source = match cfg.topology {
            RedisTopology::Cluster => {
                let seeds = cfg.nodes.iter().map(endpoint).collect();
                return Ok(Link::Cluster(Cluster::open(
                    seeds, login, tls, tracking, deadline,
                )?));
            }
            RedisTopology::Standalone => Source::Fixed(endpoint(&cfg.nodes[0])),
            RedisTopology::Sentinel => Source::Sentinel(Sentinels::new(
                cfg.nodes.iter().map(endpoint).collect(),
                cfg.master.clone().unwrap_or_else(|| "mymaster".to_owned()),
                tls.clone(),
            )),
        };
        let link = Link::Direct(Direct {
            pipe: Pipe::watched(tracking.as_ref().map(|t| t.forget_all())),
            source,
            login,
            tls,
            tracking,
        });
        let ping = |_: bool, packed: &mut Vec<u8>| packed.extend_from_slice(&ping());
        if let Some(Value::ServerError(e)) =
            link.request(b"", 1, deadline, ping)?.into_iter().next()
        {
            return Err(e.into());
        }
        Ok(link)
    }

    /// Sends the `expect` commands `pack(false, …)` writes, all on `key` (which routes them on
    /// a cluster), and sends them again as `pack(true, …)` writes them (EVAL with the script's
    /// body) when a reply says the server does not know a script; their replies by `deadline`.
    /// Error replies are `Value::ServerError`s.
    pub(crate) fn request(
        &self,
        key: &[u8],
        expect: usize,
        deadline: Instant,
        pack: impl Fn(bool, &mut Vec<u8>),
    ) -> RedisResult<Vec<Value>> {
        with_scripts(pack, |packed| match self {
            Link::Direct(direct) => direct.send(packed, expect, deadline),
            Link::Cluster(cluster) => cluster.request(key, packed, expect, deadline),
        })
    }

    /// Drops every connection; later requests answer an error.
    pub(crate) fn close(&self) {
        match self {
            Link::Direct(direct) => direct.pipe.close(),
            Link::Cluster(cluster) => cluster.close(),
        }
        if let Some(tracking) = self.tracking() {
            tracking.close();
        }
    }

    /// The near cache's invalidation connections, with a near cache.
    pub(crate) fn tracking(&self) -> Option<&Arc<Tracking>> {
        match self {
            Link::Direct(direct) => direct.tracking.as_ref(),
            Link::Cluster(cluster) => cluster.tracking(),
        }
    }

    /// Pings every open data connection by `deadline`, so that one the server dropped is
    /// noticed even while no call uses it (with a near cache, its invalidations went with it).
    pub(crate) fn ping_open(&self, deadline: Instant) {
        match self {
            Link::Direct(direct) if direct.pipe.connected() => {
                let _ = direct.send(&ping(), 1, deadline);
            }
            Link::Direct(_) => {}
            Link::Cluster(cluster) => cluster.ping_open(&ping(), deadline),
        }
    }

    /// Resets the data connections to `at` (their invalidations can no longer arrive).
    pub(crate) fn reset(&self, at: &Endpoint) {
        match self {
            Link::Direct(direct) => direct.pipe.reset(),
            Link::Cluster(cluster) => cluster.reset(at),
        }
    }
}

/// A packed PING.
pub(crate) fn ping() -> Vec<u8> {
    ::redis::cmd("PING").get_packed_command()
}

/// Sends what `pack(false, …)` writes through `send`, and what `pack(true, …)` writes when a
/// reply says the server does not know a script (after a restart, a failover, SCRIPT FLUSH).
pub(crate) fn with_scripts(
    pack: impl Fn(bool, &mut Vec<u8>),
    send: impl Fn(&[u8]) -> RedisResult<Vec<Value>>,
) -> RedisResult<Vec<Value>> {
    let packed = |full: bool| {
        let mut out = Vec::new();
        pack(full, &mut out);
        out
    };
    let replies = send(&packed(false))?;
    let unknown_script = |v: &Value| matches!(v, Value::ServerError(e) if e.kind() == Some(ServerErrorKind::NoScript));
    if replies.iter().any(unknown_script) {
        send(&packed(true))
    } else {
        Ok(replies)
    }
}
