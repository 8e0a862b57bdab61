//! The storage engines, each in its own folder, and the one table that maps a url's scheme to
//! the engine that parses the rest of the url and opens it.
//!
//! Adding a backend: a folder here with its config type, a [`Kind`] (schemes, own options,
//! parser) and an `open` function; one variant of [`BackendConfig`], one entry of [`KINDS`]
//! and an arm in each `match` of [`BackendConfig`]; a cargo feature when it needs dependencies.

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
];

/// Schemes of backends this build was compiled without, and the feature that brings each.
const MISSING: &[(&str, &str)] = &[
    #[cfg(not(feature = "redis"))]
    ("redis", "redis"),
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
        })
    }

    /// The url options of its own kind, beside the common ones.
    pub(crate) fn options(&self) -> &'static [&'static str] {
        match self {
            BackendConfig::Memory => memory::KIND.options,
            #[cfg(feature = "redis")]
            BackendConfig::Redis(_) => redis::KIND.options,
        }
    }

    /// The url of this backend without options, the password replaced by `***`.
    pub fn redacted_url(&self) -> String {
        match self {
            BackendConfig::Memory => "memory://".to_owned(),
            #[cfg(feature = "redis")]
            BackendConfig::Redis(r) => r.redacted_url(),
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
        }
    }
}
