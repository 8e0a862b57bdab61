//! The url and options of API.md §1. Every option is parsed and range-checked;
//! anything unknown or malformed is [`ErrorKind::Config`](crate::ErrorKind::Config).

use std::fmt;
use std::time::Duration;

use percent_encoding::percent_decode_str;

use crate::error::{Error, Result};

/// Default namespace of every backend key.
pub const DEFAULT_PREFIX: &str = "ss";
/// Default bound on every remote operation.
pub const DEFAULT_TIMEOUT_MS: u64 = 2000;
/// Default largest stored value (its encoded form).
pub const DEFAULT_MAX_VALUE_BYTES: usize = 1 << 20;

const TIMEOUT_MS_RANGE: (u64, u64) = (1, 600_000);
const TTL_MS_RANGE: (u64, u64) = (10, 365 * 24 * 3600 * 1000);
const MAX_VALUE_BYTES_RANGE: (u64, u64) = (16, 512 << 20);

/// A parsed, validated configuration.
#[derive(Clone, PartialEq, Eq)]
pub struct Config {
    /// Where the sessions live.
    pub backend: BackendConfig,
    /// Namespace of every backend key (`[A-Za-z0-9._:-]{1,64}`).
    pub prefix: String,
    /// Bound on every remote operation, connect included.
    pub timeout: Duration,
    /// Session lease; `None` when off.
    pub ttl: Option<Duration>,
    /// Largest stored value, in bytes of its MessagePack form.
    pub max_value_bytes: usize,
}

/// The backend a url names.
#[derive(Clone, PartialEq, Eq)]
pub enum BackendConfig {
    /// `memory://` or the empty string: this process only.
    Memory,
    /// One of the Redis forms.
    Redis(RedisConfig),
}

/// How the Redis servers of a url are to be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
}

impl Config {
    /// Parses a url of API.md §1.
    pub fn parse(url: &str) -> Result<Config> {
        let (main, query) = match url.split_once('?') {
            Some((m, q)) => (m, Some(q)),
            None => (url, None),
        };
        let backend = if main.is_empty() || main == "memory://" {
            BackendConfig::Memory
        } else {
            BackendConfig::Redis(parse_redis(main)?)
        };
        let mut config = Config {
            backend,
            prefix: DEFAULT_PREFIX.to_owned(),
            timeout: Duration::from_millis(DEFAULT_TIMEOUT_MS),
            ttl: None,
            max_value_bytes: DEFAULT_MAX_VALUE_BYTES,
        };
        if let Some(query) = query {
            config.apply_query(query)?;
        }
        Ok(config)
    }

    fn apply_query(&mut self, query: &str) -> Result<()> {
        let mut seen: Vec<String> = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair
                .split_once('=')
                .ok_or_else(|| Error::config(format!("option {pair:?} has no value")))?;
            let name = decode(name, "option name")?;
            let value = decode(value, "option value")?;
            if seen.contains(&name) {
                return Err(Error::config(format!("option {name} is given twice")));
            }
            match name.as_str() {
                "prefix" => {
                    let ok = (1..=64).contains(&value.len())
                        && value
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b"._:-".contains(&b));
                    if !ok {
                        return Err(Error::config(format!(
                            "prefix must match [A-Za-z0-9._:-]{{1,64}}, got {value:?}"
                        )));
                    }
                    self.prefix = value;
                }
                "timeout_ms" => {
                    self.timeout = Duration::from_millis(number(&name, &value, TIMEOUT_MS_RANGE)?)
                }
                "ttl_ms" => {
                    self.ttl = if value == "0" {
                        None
                    } else {
                        Some(Duration::from_millis(number(&name, &value, TTL_MS_RANGE)?))
                    }
                }
                "max_value_bytes" => {
                    // The range fits in usize on every supported target.
                    self.max_value_bytes = number(&name, &value, MAX_VALUE_BYTES_RANGE)? as usize
                }
                _ => {
                    return Err(Error::config(format!(
                    "unknown option {name:?} (known: prefix, timeout_ms, ttl_ms, max_value_bytes)"
                )))
                }
            }
            seen.push(name);
        }
        Ok(())
    }

    /// The url with the password replaced by `***`, for messages and `repr`s.
    pub fn redacted_url(&self) -> String {
        let mut out = match &self.backend {
            BackendConfig::Memory => "memory://".to_owned(),
            BackendConfig::Redis(r) => r.redacted_url(),
        };
        let mut opts = Vec::new();
        if self.prefix != DEFAULT_PREFIX {
            opts.push(format!("prefix={}", self.prefix));
        }
        if self.timeout != Duration::from_millis(DEFAULT_TIMEOUT_MS) {
            opts.push(format!("timeout_ms={}", self.timeout.as_millis()));
        }
        if let Some(ttl) = self.ttl {
            opts.push(format!("ttl_ms={}", ttl.as_millis()));
        }
        if self.max_value_bytes != DEFAULT_MAX_VALUE_BYTES {
            opts.push(format!("max_value_bytes={}", self.max_value_bytes));
        }
        if !opts.is_empty() {
            out.push('?');
            out.push_str(&opts.join("&"));
        }
        out
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Config({})", self.redacted_url())
    }
}

impl fmt::Debug for BackendConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BackendConfig::Memory => f.write_str("Memory"),
            BackendConfig::Redis(r) => write!(f, "Redis({})", r.redacted_url()),
        }
    }
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
        let auth = match (&self.username, &self.password) {
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

impl fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RedisConfig({})", self.redacted_url())
    }
}

fn parse_redis(main: &str) -> Result<RedisConfig> {
    let (scheme, rest) = main
        .split_once("://")
        .ok_or_else(|| Error::config("a url is `scheme://…`; see the url table of the README"))?;
    let (topology, tls) = match scheme {
        "redis" => (RedisTopology::Standalone, false),
        "rediss" => (RedisTopology::Standalone, true),
        "redis+sentinel" => (RedisTopology::Sentinel, false),
        "rediss+sentinel" => (RedisTopology::Sentinel, true),
        "redis+cluster" => (RedisTopology::Cluster, false),
        "rediss+cluster" => (RedisTopology::Cluster, true),
        other => {
            return Err(Error::config(format!(
                "unknown url scheme {other:?} (known: memory, redis, rediss, redis+sentinel, redis+cluster, rediss+cluster)"
            )))
        }
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
        .map(parse_host_port)
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
    })
}

fn parse_host_port(raw: &str) -> Result<(String, u16)> {
    let (host, port) = if let Some(rest) = raw.strip_prefix('[') {
        // [v6]:port
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| Error::config(format!("bad host {raw:?}")))?;
        (host, after.strip_prefix(':'))
    } else {
        match raw.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (raw, None),
        }
    };
    let valid_host = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-_:".contains(&b));
    if !valid_host {
        return Err(Error::config(format!("bad host {raw:?}")));
    }
    let port = match port {
        None => 6379,
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|&n| n != 0)
            .ok_or_else(|| Error::config(format!("bad port in {raw:?}")))?,
    };
    Ok((host.to_owned(), port))
}

fn decode(raw: &str, what: &str) -> Result<String> {
    percent_decode_str(raw)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| Error::config(format!("the {what} is not valid percent-encoded UTF-8")))
}

fn number(name: &str, value: &str, (lo, hi): (u64, u64)) -> Result<u64> {
    // Digits only: `parse` would also take a leading `+`.
    Some(value)
        .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|n| (lo..=hi).contains(n))
        .ok_or_else(|| {
            Error::config(format!(
                "option {name} must be a whole number from {lo} to {hi}, got {value:?}"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn redis(url: &str) -> RedisConfig {
        match Config::parse(url).unwrap().backend {
            BackendConfig::Redis(r) => r,
            BackendConfig::Memory => panic!("memory"),
        }
    }

    #[test]
    fn memory_and_defaults() {
        for url in ["", "memory://"] {
            let c = Config::parse(url).unwrap();
            assert_eq!(c.backend, BackendConfig::Memory);
            assert_eq!(c.prefix, "ss");
            assert_eq!(c.timeout, Duration::from_millis(2000));
            assert_eq!(c.ttl, None);
            assert_eq!(c.max_value_bytes, 1 << 20);
        }
    }

    #[test]
    fn every_option() {
        let c = Config::parse(
            "memory://?prefix=app:v1&timeout_ms=50&ttl_ms=60000&max_value_bytes=4096",
        )
        .unwrap();
        assert_eq!(c.prefix, "app:v1");
        assert_eq!(c.timeout, Duration::from_millis(50));
        assert_eq!(c.ttl, Some(Duration::from_millis(60000)));
        assert_eq!(c.max_value_bytes, 4096);
        assert_eq!(Config::parse("?ttl_ms=0").unwrap().ttl, None);
        assert_eq!(
            c.redacted_url(),
            "memory://?prefix=app:v1&timeout_ms=50&ttl_ms=60000&max_value_bytes=4096"
        );
    }

    #[test]
    fn bad_urls_and_options_are_config_errors() {
        for url in [
            "memory",
            "memory://x",
            "memcached://h",
            "?foo=1",
            "?ttl_ms",
            "?ttl_ms=-1",
            "?ttl_ms=+100",
            "?timeout_ms= 5",
            "?ttl_ms=5",
            "?timeout_ms=0",
            "?timeout_ms=abc",
            "?timeout_ms=99999999999999999999999",
            "?max_value_bytes=0",
            "?max_value_bytes=1073741824",
            "?prefix=",
            "?prefix=a/b",
            &format!("?prefix={}", "p".repeat(65)),
            "?prefix=a&prefix=b",
            "redis://",
            "redis://h:0",
            "redis://h:65536",
            "redis://h/x",
            "redis://h/1/2",
            "redis://a:1,b:2",
            "redis+sentinel://h:26379",
            "redis+cluster://h:7000/1",
            "redis://h?max_value_bytes=%ff",
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

        let r = redis("rediss://app:p%40ss@localhost:6380/3");
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
