//! The Hazelcast backend (`hazelcast://host:port[,host:port…]/CLUSTER_NAME`): every session is
//! one entry of one IMap, spoken to with our own small client of Hazelcast's Open Binary
//! Client Protocol (`docs/hazelcast.md`).
//!
//! The entry's key is `<prefix>:<session id>` (a Java String), its value one MessagePack
//! document ([`doc`]) holding the session's keys, its generation and its lease deadline. Reads
//! are one `get`; writes are compare-and-set (`replaceIfSame` on the bytes the handle last
//! saw, or read), retried with a random back-off until `timeout_ms`; destroy is
//! `removeIfSame`, so a stale handle never deletes a new session. With `ttl_ms > 0` the lease
//! is the entry's TTL, renewed for the sessions this factory holds by a refresher thread.

mod codec;
mod doc;
mod pool;
mod session;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::backend::{Backend, Session};
use crate::backends::{host_port, BackendConfig, Kind};
use crate::config::{decode, Config, Options};
use crate::error::{Error, Result};
use crate::names::SessionId;
use crate::periodic::Periodic;
use crate::stats::Lease;

use pool::Pool;
use session::HazelcastSession;

/// The Hazelcast entry of the backend table.
pub(crate) const KIND: Kind = Kind {
    schemes: &["hazelcast"],
    options: &["map"],
    parse: |_, rest, options: &mut Options| {
        let mut hz = parse(rest)?;
        if let Some(map) = options.take("map") {
            if map.is_empty() {
                return Err(Error::config("option map names no map"));
            }
            hz.map = map;
        }
        Ok(BackendConfig::Hazelcast(hz))
    },
};

/// The port of a member when the url names none.
const DEFAULT_PORT: u16 = 5701;
/// The cluster name when the url names none (Hazelcast's own default).
const DEFAULT_CLUSTER: &str = "dev";
/// The IMap holding the sessions when the url's `map` option names none.
const DEFAULT_MAP: &str = "sessionstore";

/// The Hazelcast part of a configuration.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct HazelcastConfig {
    /// `host:port` of the members to try, in order; at least one.
    pub members: Vec<(String, u16)>,
    /// The cluster name the members were configured with.
    pub cluster: String,
    /// The IMap holding every session.
    pub map: String,
}

impl HazelcastConfig {
    /// The url of these members (a Hazelcast url carries no secret).
    pub fn url(&self) -> String {
        let hosts: Vec<String> = self
            .members
            .iter()
            .map(|(h, p)| {
                if h.contains(':') {
                    format!("[{h}]:{p}")
                } else {
                    format!("{h}:{p}")
                }
            })
            .collect();
        format!("hazelcast://{}/{}", hosts.join(","), self.cluster)
    }
}

fn parse(rest: &str) -> Result<HazelcastConfig> {
    let (hosts, cluster) = match rest.split_once('/') {
        Some((hosts, cluster)) => (hosts, decode(cluster, "cluster name")?),
        None => (rest, DEFAULT_CLUSTER.to_owned()),
    };
    if hosts.is_empty() {
        return Err(Error::config(
            "hazelcast:// needs at least one member: hazelcast://host:port/CLUSTER_NAME",
        ));
    }
    if cluster.is_empty() || cluster.contains('/') {
        return Err(Error::config(format!(
            "bad cluster name {cluster:?}: hazelcast://host:port/CLUSTER_NAME"
        )));
    }
    let members = hosts
        .split(',')
        .map(|member| host_port(member, DEFAULT_PORT))
        .collect::<Result<Vec<_>>>()?;
    Ok(HazelcastConfig {
        members,
        cluster,
        map: DEFAULT_MAP.to_owned(),
    })
}

/// The sessions of one Hazelcast cluster, as one factory sees them.
pub struct HazelcastBackend {
    shared: Arc<Shared>,
    /// Renews the leases of the sessions this factory holds; with `ttl_ms > 0` only.
    refresher: Option<Periodic>,
    /// Pings the pool's idle connections ([`Pool::heartbeat`]).
    heartbeat: Periodic,
}

/// What every session of a backend shares.
pub(crate) struct Shared {
    pool: Pool,
    map: String,
    prefix: String,
    /// What starts the generation of every session of this prefix.
    namespace: String,
    timeout: Duration,
    ttl: Option<Duration>,
    /// With a lease: the entries this factory holds handles on, with their generation and how
    /// many handles.
    held: Mutex<HashMap<String, (Vec<u8>, usize)>>,
    /// The refresher's rounds so far.
    rounds: AtomicU64,
    /// The leases it renewed so far.
    renewals: AtomicU64,
}

impl Shared {
    /// The entry key of session `sid`.
    fn key(&self, sid: &SessionId) -> String {
        format!("{}:{}", self.prefix, sid.as_str())
    }

    /// Counts one more handle on `key` (generation `generation`), with a lease.
    fn hold(&self, key: &str, generation: &[u8]) {
        if self.ttl.is_some() {
            let mut held = super::lock(&self.held);
            let entry = held
                .entry(key.to_owned())
                .or_insert_with(|| (generation.to_vec(), 0));
            entry.0 = generation.to_vec();
            entry.1 += 1;
        }
    }

    /// Counts one handle less on `key`.
    fn release(&self, key: &str) {
        if self.ttl.is_some() {
            let mut held = super::lock(&self.held);
            if let Some(entry) = held.get_mut(key) {
                entry.1 -= 1;
                if entry.1 == 0 {
                    held.remove(key);
                }
            }
        }
    }
}

/// Milliseconds since the Unix epoch: lease deadlines are wall-clock times, since every node
/// of the cluster compares them (their clocks must agree to well within a lease).
fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl HazelcastBackend {
    /// Connects to a member of `hz` with the options of `config`; fails with `Timeout` or
    /// `Backend` when none can be reached within `timeout_ms`.
    pub fn open(config: &Config, hz: &HazelcastConfig) -> Result<Self> {
        let pool = Pool::open(hz, config.timeout)?;
        let shared = Arc::new(Shared {
            pool,
            map: hz.map.clone(),
            prefix: config.prefix.clone(),
            namespace: format!("{}/", config.prefix),
            timeout: config.timeout,
            ttl: config.ttl,
            held: Mutex::new(HashMap::new()),
            rounds: AtomicU64::new(0),
            renewals: AtomicU64::new(0),
        });
        let refresher = match config.ttl {
            Some(ttl) => Some(Periodic::start(
                "sessionstore-hz-lease",
                "lease refresher",
                ttl / 3,
                Arc::downgrade(&shared),
                session::renew_held,
            )?),
            None => None,
        };
        let heartbeat = Periodic::start(
            "sessionstore-hz-heartbeat",
            "heartbeat",
            pool::HEARTBEAT,
            Arc::downgrade(&shared),
            |shared: &Shared| shared.pool.heartbeat(),
        )?;
        Ok(HazelcastBackend {
            shared,
            refresher,
            heartbeat,
        })
    }
}

impl Backend for HazelcastBackend {
    fn attach(&self, sid: &SessionId) -> Result<Box<dyn Session>> {
        Ok(Box::new(HazelcastSession::attach(&self.shared, sid)?))
    }

    fn destroy_session(&self, sid: &SessionId) -> Result<()> {
        session::destroy_entry(&self.shared, &self.shared.key(sid), None)
    }

    fn close(&self) {
        if let Some(refresher) = &self.refresher {
            refresher.stop();
        }
        self.heartbeat.stop();
        self.shared.pool.close();
    }

    fn is_remote(&self) -> bool {
        true
    }

    fn lease_stats(&self) -> Lease {
        let Some(refresher) = &self.refresher else {
            return Lease::default();
        };
        Lease {
            rounds: self.shared.rounds.load(Ordering::Relaxed),
            renewals: self.shared.renewals.load(Ordering::Relaxed),
            overruns: refresher.overruns(),
        }
    }
}

impl Drop for HazelcastBackend {
    fn drop(&mut self) {
        self.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn hz(url: &str) -> HazelcastConfig {
        match Config::parse(url).unwrap().backend {
            BackendConfig::Hazelcast(h) => h,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn urls_name_members_cluster_and_map() {
        let h = hz("hazelcast://10.0.0.1,10.0.0.2:5702/prod?map=sessions");
        assert_eq!(
            h.members,
            [("10.0.0.1".to_owned(), 5701), ("10.0.0.2".to_owned(), 5702)]
        );
        assert_eq!(h.cluster, "prod");
        assert_eq!(h.map, "sessions");
        assert_eq!(h.url(), "hazelcast://10.0.0.1:5701,10.0.0.2:5702/prod");
        let d = hz("hazelcast://127.0.0.1");
        assert_eq!(
            (d.cluster.as_str(), d.map.as_str()),
            ("dev", "sessionstore")
        );
    }

    #[test]
    fn bad_urls_are_config_errors() {
        for url in [
            "hazelcast://",
            "hazelcast:///dev",
            "hazelcast://h:0/dev",
            "hazelcast://h:x/dev",
            "hazelcast://h/",
            "hazelcast://h/a/b",
            "hazelcast://h/dev?map=",
            "hazelcast://h/dev?near_cache=1",
        ] {
            let e = Config::parse(url).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Config, "{url}: {e}");
        }
    }
}
