//! The Redis urls of docs/API.md §1: `redis://`, `rediss://`, `redis+sentinel://`,
//! `rediss+sentinel://`, `redis+cluster://`, `rediss+cluster://`.

use std::fmt;

use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};

use crate::backends::{host_port, BackendConfig, Kind};
use crate::config::{decode, Options};
use crate::error::{Error, Result};

/// The Redis entry of the backend table.
pub(crate) const KIND: Kind = Kind {
    schemes: &[
        "redis",
        "rediss",
        "redis+sentinel",
        "rediss+sentinel",
        "redis+cluster",
        "rediss+cluster",
    ],
    options: &["near_cache", "near_cache_bytes"],
    parse: |scheme, rest, options: &mut Options| {
        let mut redis = parse(scheme, rest)?;
        redis.near_cache = options.number("near_cache", NEAR_CACHE_RANGE)?.unwrap_or(0) as usize;
        redis.near_cache_bytes = options
            .number("near_cache_bytes", NEAR_CACHE_BYTES_RANGE)?
            .map_or(DEFAULT_NEAR_CACHE_BYTES, |n| n as usize);
        Ok(BackendConfig::Redis(redis))
    },
};

const NEAR_CACHE_RANGE: (u64, u64) = (0, 100_000_000);
const NEAR_CACHE_BYTES_RANGE: (u64, u64) = (4096, 1 << 40);
/// Default bound of the near cache's memory.
pub const DEFAULT_NEAR_CACHE_BYTES: usize = 64 << 20;

/// How the Redis servers of a url are to be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RedisTopology {
    /// `redis://` / `rediss://`: one server.
    Standalone,
    /// `redis+sentinel://`: sentinels that name the master.
    Sentinel,
    /// `redis+cluster://` / `rediss+cluster://`: a Redis Cluster.
    Cluster,
}

/// The Redis part of a configuration.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RedisConfig {
    /// Standalone, Sentinel or Cluster.
    pub topology: RedisTopology,
    /// TLS (`rediss`).
    pub tls: bool,
    /// `host:port` pairs, at least one.
    pub nodes: Vec<(String, u16)>,
    /// ACL user name, if any.
    pub username: Option<String>,
    /// Password, if any. Never printed.
    pub password: Option<String>,
    /// Master name (Sentinel only).
    pub master: Option<String>,
    /// Database number.
    pub db: u32,
    /// The near cache's bound in sessions (`near_cache`); 0: no near cache.
    pub near_cache: usize,
    /// The near cache's bound in bytes (`near_cache_bytes`).
    pub near_cache_bytes: usize,
}

impl RedisConfig {
    /// The url of these servers with the password replaced by `***`.
    pub fn redacted_url(&self) -> String {
        let scheme = match (self.topology, self.tls) {
            (RedisTopology::Standalone, false) => "redis",
            (RedisTopology::Standalone, true) => "rediss",
            (RedisTopology::Sentinel, false) => "redis+sentinel",
            (RedisTopology::Sentinel, true) => "rediss+sentinel",
            (RedisTopology::Cluster, false) => "redis+cluster",
            (RedisTopology::Cluster, true) => "rediss+cluster",
        };
        // The user name is percent-encoded again, so the redacted url parses back to it.
        let user = self
            .username
            .as_deref()
            .map(|u| utf8_percent_encode(u, USERINFO).to_string());
        let auth = match (user, &self.password) {
            (Some(u), Some(_)) => format!("{u}:***@"),
            (None, Some(_)) => ":***@".to_owned(),
            (Some(u), None) => format!("{u}@"),
            (None, None) => String::new(),
        };
        let hosts: Vec<String> = self.nodes.iter().map(|(h, p)| format!("{h}:{p}")).collect();
        let mut url = format!("{scheme}://{auth}{}", hosts.join(","));
        if let Some(master) = &self.master {
            url.push('/');
            url.push_str(master);
        }
        if self.db != 0 {
            url.push_str(&format!("/{}", self.db));
        }
        url
    }
}

/// What a user name must percent-encode in a url: the delimiters the parser splits on
/// ('%' itself included), spaces and controls.
const USERINFO: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'%')
    .add(b':')
    .add(b'@')
    .add(b'/')
    .add(b'?')
    .add(b'#')
    .add(b'&')
    .add(b',');

impl fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RedisConfig({})", self.redacted_url())
    }
}

/// Parses `rest`, what follows `scheme://` in a Redis url.
fn parse(scheme: &str, rest: &str) -> Result<RedisConfig> {
    let (topology, tls) = match scheme {
        "redis" => (RedisTopology::Standalone, false),
        "rediss" => (RedisTopology::Standalone, true),
        "redis+sentinel" => (RedisTopology::Sentinel, false),
        "rediss+sentinel" => (RedisTopology::Sentinel, true),
        "redis+cluster" => (RedisTopology::Cluster, false),
        _ => (RedisTopology::Cluster, true),
    };
    let (authority, path) = match rest.split_once('/') {
        Some((a, p)) => (a, p),
        None => (rest, ""),
    };
    // The password may hold '@', so the last '@' ends the credentials.
    let (userinfo, hosts) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    let (username, password) = match userinfo {
        None => (None, None),
        Some(info) => {
            let (user, pass) = match info.split_once(':') {
                Some((u, p)) => (u, Some(p)),
                None => (info, None),
            };
            let user = (!user.is_empty())
                .then(|| decode(user, "user name"))
                .transpose()?;
            let pass = pass.map(|p| decode(p, "password")).transpose()?;
            (user, pass)
        }
    };
    let nodes = hosts
        .split(',')
        .map(|node| host_port(node, 6379))
        .collect::<Result<Vec<_>>>()?;
    if nodes.len() > 1 && topology == RedisTopology::Standalone {
        return Err(Error::config(
            "redis:// names one server; use redis+sentinel:// or redis+cluster:// for several",
        ));
    }
    let segments: Vec<&str> = if path.is_empty() {
        Vec::new()
    } else {
        path.split('/').collect()
    };
    let (master, db) = match (topology, segments.as_slice()) {
        (RedisTopology::Sentinel, [master]) => (Some(*master), None),
        (RedisTopology::Sentinel, [master, db]) => (Some(*master), Some(*db)),
        (RedisTopology::Sentinel, _) => {
            return Err(Error::config(
                "a sentinel url is redis+sentinel://host:port[,host:port…]/MASTER[/db]",
            ))
        }
        (RedisTopology::Standalone, []) => (None, None),
        (RedisTopology::Standalone, [db]) => (None, Some(*db)),
        (RedisTopology::Standalone, _) => {
            return Err(Error::config("a redis url is redis://host[:port][/db]"))
        }
        (RedisTopology::Cluster, []) => (None, None),
        (RedisTopology::Cluster, _) => {
            return Err(Error::config(
                "a cluster url has no path: Redis Cluster has only database 0",
            ))
        }
    };
    let master = match master {
        Some(m) if !m.is_empty() && m.bytes().all(|b| b.is_ascii_graphic()) => Some(m.to_owned()),
        Some(m) => return Err(Error::config(format!("bad sentinel master name {m:?}"))),
        None => None,
    };
    let db = match db {
        None | Some("") => 0,
        Some(d) => d
            .parse::<u32>()
            .ok()
            .filter(|&n| n < 1 << 16)
            .ok_or_else(|| Error::config(format!("bad database number {d:?}")))?,
    };
    Ok(RedisConfig {
        topology,
        tls,
        nodes,
        username,
        password,
        master,
        db,
        near_cache: 0,
        near_cache_bytes: DEFAULT_NEAR_CACHE_BYTES,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::error::ErrorKind;

    fn redis(url: &str) -> RedisConfig {
        match Config::parse(url).unwrap().backend {
            BackendConfig::Redis(r) => r,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bad_urls_are_config_errors() {
        for url in [
            "redis://",
            "redis://h:0",
            "redis://h:65536",
            "redis://h/x",
            "redis://h/1/2",
            "redis://a:1,b:2",
            "redis+sentinel://h:26379",
            "redis+cluster://h:7000/1",
            "redis://h?max_value_bytes=%ff",
            "redis://h?near=1",
            "redis://h?near_cache=-1",
            "redis://h?near_cache_bytes=10",
            "memory://?near_cache=10",
        ] {
            let err = Config::parse(url).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Config, "{url:?}");
        }
    }

    #[test]
    fn redis_forms() {
        let r = redis("redis://127.0.0.1");
        assert_eq!(r.topology, RedisTopology::Standalone);
        assert_eq!(r.nodes, vec![("127.0.0.1".to_owned(), 6379)]);
        assert_eq!(
            (r.db, r.tls, &r.username, &r.password),
            (0, false, &None, &None)
        );

        let r = redis("REDISS://app:p%40ss@localhost:6380/3");
        assert!(r.tls);
        assert_eq!(r.username.as_deref(), Some("app"));
        assert_eq!(r.password.as_deref(), Some("p@ss"));
        assert_eq!(r.db, 3);

        let r = redis("redis://:secret@h:1");
        assert_eq!(
            (r.username.as_deref(), r.password.as_deref()),
            (None, Some("secret"))
        );

        let r = redis("redis+sentinel://a:26379,b:26380/mymaster/2");
        assert_eq!(r.topology, RedisTopology::Sentinel);
        assert_eq!(r.nodes.len(), 2);
        assert_eq!(r.master.as_deref(), Some("mymaster"));
        assert_eq!(r.db, 2);

        let r = redis("rediss+cluster://a:7000,b:7001,[::1]:7002");
        assert_eq!(r.topology, RedisTopology::Cluster);
        assert!(r.tls);
        assert_eq!(r.nodes[2], ("::1".to_owned(), 7002));
        assert_eq!(r.redacted_url(), "rediss+cluster://a:7000,b:7001,::1:7002");
    }

    /// A user name that holds a delimiter is percent-encoded again in the redacted url, which
    /// parses back to the same user (found by the url fuzz target, fuzz/README.md).
    #[test]
    fn a_redacted_url_parses_back_to_its_user_name() {
        for (url, user) in [
            ("redis://a%3Ab:pw@h", "a:b"),
            ("redis://a%40b@h", "a@b"),
            ("redis://a%2Fb%3Fc%23d:pw@h", "a/b?c#d"),
            ("redis://100%25%20sure@h", "100% sure"),
            ("redis://%C3%A9%26%2C:pw@h", "é&,"),
        ] {
            let config = Config::parse(url).unwrap();
            let redacted = config.redacted_url();
            let again = redis(&redacted);
            assert_eq!(again.username.as_deref(), Some(user), "{url} -> {redacted}");
            let BackendConfig::Redis(first) = &config.backend else {
                panic!("{url}")
            };
            assert_eq!(again.nodes, first.nodes, "{redacted}");
        }
    }

    #[test]
    fn near_cache_options() {
        let r = redis("redis://h?near_cache=1000&near_cache_bytes=1048576");
        assert_eq!((r.near_cache, r.near_cache_bytes), (1000, 1 << 20));
        let r = redis("redis+cluster://h:1");
        assert_eq!(
            (r.near_cache, r.near_cache_bytes),
            (0, DEFAULT_NEAR_CACHE_BYTES)
        );
    }

    #[test]
    fn password_never_printed() {
        let url = "redis://user:hunter2@h:1/0?prefix=x";
        let c = Config::parse(url).unwrap();
        for text in [
            c.redacted_url(),
            format!("{c:?}"),
            format!("{:?}", c.backend),
        ] {
            assert!(!text.contains("hunter2"), "{text}");
            assert!(text.contains("***"), "{text}");
        }
    }
}
