//! The storage engines, each in its own folder, and the one table that maps a url's scheme to
//! the engine that parses the rest of the url and opens it.
//!
//! Adding a backend: a folder here with its config type, a [`Kind`] (schemes, own options,
//! parser) and an `open` function; one variant of [`BackendConfig`], one entry of [`KINDS`]
//! and an arm in each `match` of [`BackendConfig`]; a cargo feature when it needs dependencies.

#[cfg(feature = "hazelcast")]
pub mod hazelcast;
pub mod memory;
#[cfg(feature = "redis")]
pub mod redis;

use std::fmt;

use crate::backend::Backend;
use crate::config::{Config, Options};
use crate::error::{Error, Result};

/// The backend a url names, with the settings of its own.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BackendConfig {
    /// `memory://` or the empty string: this process only.
    Memory,
    /// One of the Redis forms (standalone, Sentinel, Cluster).
    #[cfg(feature = "redis")]
    Redis(redis::RedisConfig),
    /// `hazelcast://`: a Hazelcast cluster.
    #[cfg(feature = "hazelcast")]
    Hazelcast(hazelcast::HazelcastConfig),
}

/// One kind of backend, as the url parser sees it.
pub(crate) struct Kind {
    /// The url schemes it answers, lowercase.
    schemes: &'static [&'static str],
    /// The url options of its own, beside the common ones.
    options: &'static [&'static str],
    /// Parses what follows `scheme://` (the query string taken off), taking its own options.
    parse: fn(scheme: &str, rest: &str, options: &mut Options) -> Result<BackendConfig>,
}

/// Every backend this build has.
const KINDS: &[Kind] = &[
    memory::KIND,
    #[cfg(feature = "redis")]
    redis::KIND,
    #[cfg(feature = "hazelcast")]
    hazelcast::KIND,
];

/// Schemes of backends this build was compiled without, and the feature that brings each.
const MISSING: &[(&str, &str)] = &[
    #[cfg(not(feature = "redis"))]
    ("redis", "redis"),
    #[cfg(not(feature = "hazelcast"))]
    ("hazelcast", "hazelcast"),
];

/// The backend of `main` (a url without its query string).
pub(crate) fn parse(main: &str, options: &mut Options) -> Result<BackendConfig> {
    if main.is_empty() {
        return Ok(BackendConfig::Memory);
    }
    let (scheme, rest) = main.split_once("://").ok_or_else(|| {
        Error::config(
            "a url is `scheme://…` (or empty for memory://); see the url table of docs/API.md",
        )
    })?;
    // Schemes are case-insensitive (RFC 3986 §3.1).
    let scheme = scheme.to_ascii_lowercase();
    if let Some(kind) = KINDS.iter().find(|k| k.schemes.contains(&scheme.as_str())) {
        return (kind.parse)(&scheme, rest, options);
    }
    if let Some((_, feature)) = MISSING.iter().find(|(s, _)| scheme.starts_with(s)) {
        return Err(Error::config(format!(
            "{scheme}:// needs the {feature:?} feature of sessionstore, which this build lacks"
        )));
    }
    let known: Vec<&str> = KINDS.iter().flat_map(|k| k.schemes).copied().collect();
    Err(Error::config(format!(
        "unknown url scheme {scheme:?} (known: {})",
        known.join(", ")
    )))
}

impl BackendConfig {
    /// Opens the backend with the options of `config`.
    pub(crate) fn open(&self, config: &Config) -> Result<Box<dyn Backend>> {
        Ok(match self {
            BackendConfig::Memory => Box::new(memory::MemoryBackend::new(config.ttl)?),
            #[cfg(feature = "redis")]
            BackendConfig::Redis(redis) => Box::new(redis::RedisBackend::open(config, redis)?),
            #[cfg(feature = "hazelcast")]
            BackendConfig::Hazelcast(hz) => {
                Box::new(hazelcast::HazelcastBackend::open(config, hz)?)
            }
        })
    }

    /// The url options of its own kind, beside the common ones.
    pub(crate) fn options(&self) -> &'static [&'static str] {
        match self {
            BackendConfig::Memory => memory::KIND.options,
            #[cfg(feature = "redis")]
            BackendConfig::Redis(_) => redis::KIND.options,
            #[cfg(feature = "hazelcast")]
            BackendConfig::Hazelcast(_) => hazelcast::KIND.options,
        }
    }

    /// The url of this backend without options, the password replaced by `***`.
    pub fn redacted_url(&self) -> String {
        match self {
            BackendConfig::Memory => "memory://".to_owned(),
            #[cfg(feature = "redis")]
            BackendConfig::Redis(r) => r.redacted_url(),
            #[cfg(feature = "hazelcast")]
            BackendConfig::Hazelcast(h) => h.url(),
        }
    }

    /// True when the backend lives outside this process (its calls may block on I/O).
    pub fn is_remote(&self) -> bool {
        !matches!(self, BackendConfig::Memory)
    }
}

impl fmt::Debug for BackendConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BackendConfig::Memory => f.write_str("Memory"),
            #[cfg(feature = "redis")]
            BackendConfig::Redis(r) => write!(f, "Redis({})", r.redacted_url()),
            #[cfg(feature = "hazelcast")]
            BackendConfig::Hazelcast(h) => write!(f, "Hazelcast({})", h.url()),
        }
    }
}

/// `host[:port]` or `[v6]:port` of a url's host list; `default_port` when none is given.
#[cfg(any(feature = "redis", feature = "hazelcast"))]
pub(crate) fn host_port(raw: &str, default_port: u16) -> Result<(String, u16)> {
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
        None => default_port,
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|&n| n != 0)
            .ok_or_else(|| Error::config(format!("bad port in {raw:?}")))?,
    };
    Ok((host.to_owned(), port))
}

/// A fresh generation of a session of `namespace`: the namespace, then 128 random bits as 32
/// hex digits.
#[cfg(any(feature = "redis", feature = "hazelcast"))]
pub(crate) fn new_generation(namespace: &str) -> Vec<u8> {
    let mut raw = [0u8; 16];
    random_bytes(&mut raw);
    let mut out = namespace.as_bytes().to_vec();
    out.extend(
        raw.iter()
            .flat_map(|b| [b >> 4, b & 15])
            .map(|n| b"0123456789abcdef"[n as usize]),
    );
    out
}

/// Fills `out` with random bytes from the OS.
#[cfg(any(feature = "redis", feature = "hazelcast"))]
pub(crate) fn random_bytes(out: &mut [u8]) {
    if getrandom::fill(out).is_err() {
        // No OS randomness (never seen on a supported target): fall back on a seeded hasher
        // over the time and a process-wide counter, still unique for this purpose.
        use std::hash::{BuildHasher, Hasher};
        use std::sync::atomic::{AtomicU64, Ordering};
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let state = std::collections::hash_map::RandomState::new();
        for part in out.chunks_mut(8) {
            let mut h = state.build_hasher();
            h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
            h.write_u128(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos()),
            );
            part.copy_from_slice(&h.finish().to_le_bytes()[..part.len()]);
        }
    }
}

/// A backend's lock, even when a panic poisoned it: a panic while one of a backend's locks was
/// held leaves nothing half-written that matters more than failing the requests concerned,
/// which their deadlines do.
#[cfg(any(feature = "redis", feature = "hazelcast"))]
pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The error of an operation that passed its deadline.
#[cfg(any(feature = "redis", feature = "hazelcast"))]
pub(crate) fn timed_out() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::TimedOut, "no reply in time")
}

/// The time left before `deadline`; a timeout error once it passed.
#[cfg(any(feature = "redis", feature = "hazelcast"))]
pub(crate) fn time_left(deadline: std::time::Instant) -> std::io::Result<std::time::Duration> {
    let left = deadline.saturating_duration_since(std::time::Instant::now());
    if left < std::time::Duration::from_micros(1) {
        return Err(timed_out());
    }
    Ok(left)
}

/// The addresses of `host`, by `deadline`. An IP literal needs no lookup; a name is looked up
/// on a helper thread, so a slow resolver costs the caller its deadline at most (the lookup
/// itself runs on and is dropped when it ends: the system resolver cannot be cancelled).
#[cfg(any(feature = "redis", feature = "hazelcast"))]
pub(crate) fn resolve(
    host: &str,
    port: u16,
    deadline: std::time::Instant,
) -> std::io::Result<Vec<std::net::SocketAddr>> {
    use std::io;
    use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
    use std::sync::mpsc;
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let (tx, rx) = mpsc::sync_channel(1);
    let name = host.to_owned();
    std::thread::Builder::new()
        .name("sessionstore-resolve".into())
        .spawn(move || {
            let found = (name.as_str(), port)
                .to_socket_addrs()
                .map(Iterator::collect::<Vec<_>>);
            let _ = tx.send(found); // the caller may have given up
        })?;
    match rx.recv_timeout(time_left(deadline)?) {
        Ok(found) => found,
        Err(mpsc::RecvTimeoutError::Timeout) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("resolving {host} took longer than the timeout"),
        )),
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(io::Error::other(
            "the resolver thread ended without an answer",
        )),
    }
}

#[cfg(all(test, any(feature = "redis", feature = "hazelcast")))]
mod tests {
    use super::resolve;
    use std::time::{Duration, Instant};

    #[test]
    fn ip_literals_need_no_lookup_and_lookups_end_by_the_deadline() {
        let past = Instant::now();
        // An IP literal resolves even with no time left: no lookup happens.
        assert_eq!(
            resolve("::1", 7, past + Duration::from_secs(1))
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            resolve("localhost", 7, past).unwrap_err().kind(),
            std::io::ErrorKind::TimedOut
        );
    }
}
