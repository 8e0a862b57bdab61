//! What one run is: its target, and its settings from the environment.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Target {
    Memory,
    Redis,
    Cluster,
    Hazelcast,
}

impl Target {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Target::Memory => "memory",
            Target::Redis => "redis",
            Target::Cluster => "cluster",
            Target::Hazelcast => "hazelcast",
        }
    }
}

pub(crate) struct Settings {
    pub(crate) target: Target,
    pub(crate) seconds: u64,
    pub(crate) warmup: u64,
    pub(crate) threads: usize,
    pub(crate) sessions: usize,
    pub(crate) fault_every: u64,
    pub(crate) timeout: Duration,
    pub(crate) ttl: Duration,
    pub(crate) pause: Duration,
    pub(crate) seed: u64,
    pub(crate) redis_server: String,
    pub(crate) redis_cli: String,
    /// The Hazelcast member's jar (`tests/hazelcast/jar.sh` prints it).
    pub(crate) hazelcast_jar: String,
    pub(crate) dir: PathBuf,
}

fn env_u64(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a number")),
        _ => default,
    }
}

fn env_str(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_owned())
}

impl Settings {
    pub(crate) fn from_env(target: Target) -> Settings {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64);
        // The servers' files go to tmpfs when there is one: what a kill -9 must not lose is
        // what the server wrote before it answered, which the page cache keeps; fsyncs to a
        // disk other work shares would only add stalls that are not the library's.
        let base = if Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        let dir = match std::env::var("SOAK_DIR") {
            Ok(d) if !d.is_empty() => PathBuf::from(d),
            _ => base.join(format!("sessionstore-soak-{}", std::process::id())),
        };
        Settings {
            target,
            seconds: env_u64("SOAK_SECONDS", 600),
            warmup: env_u64("SOAK_WARMUP_SECONDS", 60),
            threads: env_u64("SOAK_THREADS", 16) as usize,
            sessions: env_u64("SOAK_SESSIONS_PER_THREAD", 8) as usize,
            fault_every: env_u64("SOAK_FAULT_EVERY", 60),
            timeout: Duration::from_millis(env_u64("SOAK_TIMEOUT_MS", 500)),
            ttl: Duration::from_millis(env_u64("SOAK_TTL_MS", 5000)),
            pause: Duration::from_micros(env_u64("SOAK_PAUSE_US", 100)),
            seed: env_u64("SOAK_SEED", now),
            redis_server: env_str("SOAK_REDIS_SERVER", "redis-server"),
            redis_cli: env_str("SOAK_REDIS_CLI", "redis-cli"),
            hazelcast_jar: env_str("SOAK_HAZELCAST_JAR", ""),
            dir: dir.join(target.name()),
        }
    }

    /// The bound every call must keep: timeout_ms + 250 ms.
    pub(crate) fn bound(&self) -> Duration {
        self.timeout + Duration::from_millis(250)
    }

    /// How often the lease refresher renews (docs/redis.md: a third of the lease).
    pub(crate) fn period(&self) -> Duration {
        self.ttl / 3
    }
}
