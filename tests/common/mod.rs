//! Helpers shared by the backend suites: the urls under test and unique names.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// The urls `tests/redis/harness.sh` exported (separated by whitespace), or `memory://` alone.
pub fn urls() -> Vec<String> {
    match std::env::var("SESSIONSTORE_TEST_URLS") {
        Ok(list) if !list.trim().is_empty() => list.split_whitespace().map(str::to_owned).collect(),
        _ => vec!["memory://".to_owned()],
    }
}

/// The urls of backends outside the process, whose factories share sessions (the
/// cross-factory tests: two factories = two nodes).
pub fn shared_urls() -> Vec<String> {
    urls()
        .into_iter()
        .filter(|u| !u.starts_with("memory:"))
        .collect()
}

/// The urls of Redis servers only (what only Redis has: the near cache, the operators' tools).
pub fn redis_urls() -> Vec<String> {
    urls()
        .into_iter()
        .filter(|u| u.starts_with("redis"))
        .collect()
}

/// `url` with `opts` (`a=1&b=2`) and a prefix unique to this test run appended.
pub fn with(url: &str, opts: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    let mut out = format!("{url}{sep}prefix={}", prefix());
    if !opts.is_empty() {
        out.push('&');
        out.push_str(opts);
    }
    out
}

/// The key prefix of this test run (every backend key starts with it and ':').
pub fn prefix() -> String {
    format!("t{}", run_id())
}

fn run_id() -> u64 {
    static RUN: once_cell::sync::Lazy<u64> = once_cell::sync::Lazy::new(|| {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        nanos ^ u64::from(std::process::id()) << 32
    });
    *RUN
}

/// A session id no other test uses.
pub fn sid(tag: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "{tag}-{}-{}",
        run_id() % 1_000_000,
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// An optional env var, empty counts as unset.
pub fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}
