//! The url and its options (docs/API.md §1). The url's scheme picks a backend from the table
//! in [`crate::backends`], which parses the rest; the options every backend shares are parsed
//! here, each range-checked. Anything unknown or malformed is
//! [`ErrorKind::Config`](crate::ErrorKind::Config), never ignored.

use std::fmt;
use std::time::Duration;

use percent_encoding::percent_decode_str;

use crate::backends::{self, BackendConfig};
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

/// The options every backend takes.
const COMMON_OPTIONS: &[&str] = &["prefix", "timeout_ms", "ttl_ms", "max_value_bytes"];

/// A parsed, validated configuration.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
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

impl Config {
    /// Parses a url of docs/API.md §1: `scheme://…[?option=value&…]`, or the empty string
    /// (`memory://`).
    pub fn parse(url: &str) -> Result<Config> {
        let (main, query) = match url.split_once('?') {
            Some((m, q)) => (m, q),
            None => (url, ""),
        };
        let mut options = Options::parse(query)?;
        let prefix = options.take("prefix").map_or_else(
            || Ok(DEFAULT_PREFIX.to_owned()),
            |value| {
                let ok = (1..=64).contains(&value.len())
                    && value
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"._:-".contains(&b));
                if ok {
                    Ok(value)
                } else {
                    Err(Error::config(format!(
                        "prefix must match [A-Za-z0-9._:-]{{1,64}}, got {value:?}"
                    )))
                }
            },
        )?;
        let timeout = options
            .number("timeout_ms", TIMEOUT_MS_RANGE)?
            .unwrap_or(DEFAULT_TIMEOUT_MS);
        let ttl = match options.take("ttl_ms").as_deref() {
            None | Some("0") => None,
            Some(value) => Some(number("ttl_ms", value, TTL_MS_RANGE)?),
        };
        let max_value_bytes = options
            .number("max_value_bytes", MAX_VALUE_BYTES_RANGE)?
            // The range fits in usize on every supported target.
            .map_or(DEFAULT_MAX_VALUE_BYTES, |n| n as usize);
        let backend = backends::parse(main, &mut options)?;
        options.finish(backend.options())?;
        Ok(Config {
            backend,
            prefix,
            timeout: Duration::from_millis(timeout),
            ttl: ttl.map(Duration::from_millis),
            max_value_bytes,
        })
    }

    /// The url with the password replaced by `***`, for messages and `repr`s.
    pub fn redacted_url(&self) -> String {
        let mut out = self.backend.redacted_url();
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

/// The options of a url's query string not yet taken by the parser that knows them.
pub(crate) struct Options {
    pairs: Vec<(String, String)>,
}

impl Options {
    /// Splits `a=1&b=2` into decoded pairs; an option given twice is an error.
    fn parse(query: &str) -> Result<Options> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair
                .split_once('=')
                .ok_or_else(|| Error::config(format!("option {pair:?} has no value")))?;
            let name = decode(name, "option name")?;
            let value = decode(value, "option value")?;
            if pairs.iter().any(|(seen, _)| *seen == name) {
                return Err(Error::config(format!("option {name} is given twice")));
            }
            pairs.push((name, value));
        }
        Ok(Options { pairs })
    }

    /// Takes option `name`'s value, if the url gave it.
    pub(crate) fn take(&mut self, name: &str) -> Option<String> {
        let at = self.pairs.iter().position(|(n, _)| n == name)?;
        Some(self.pairs.remove(at).1)
    }

    /// Takes option `name` as a whole number within `range`, if the url gave it.
    pub(crate) fn number(&mut self, name: &str, range: (u64, u64)) -> Result<Option<u64>> {
        self.take(name)
            .map(|value| number(name, &value, range))
            .transpose()
    }

    /// Fails on the first option nobody took, naming the ones this url's backend knows.
    fn finish(self, own: &[&str]) -> Result<()> {
        match self.pairs.first() {
            None => Ok(()),
            Some((name, _)) => {
                let known: Vec<&str> = COMMON_OPTIONS.iter().chain(own).copied().collect();
                Err(Error::config(format!(
                    "unknown option {name:?} (known: {})",
                    known.join(", ")
                )))
            }
        }
    }
}

/// Percent-decodes `raw` as UTF-8; `what` names it in the error.
pub(crate) fn decode(raw: &str, what: &str) -> Result<String> {
    percent_decode_str(raw)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| Error::config(format!("the {what} is not valid percent-encoded UTF-8")))
}

/// `value` as a whole number within `lo..=hi`; `name` names the option in the error.
pub(crate) fn number(name: &str, value: &str, (lo, hi): (u64, u64)) -> Result<u64> {
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

    #[test]
    fn memory_and_defaults() {
        for url in ["", "memory://", "MEMORY://", "Memory://"] {
            let c = Config::parse(url).unwrap();
            assert_eq!(c.backend, BackendConfig::Memory, "{url:?}");
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
            "memory:///",
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
        ] {
            let err = Config::parse(url).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Config, "{url:?}");
        }
    }

    /// A memory url with credentials (one written for another backend) is refused without
    /// showing them; found by fuzzing (fuzz/README.md).
    #[test]
    fn a_memory_url_never_shows_its_password() {
        for url in [
            "memory://:hunter2@",
            "memory://app:hunter2@h:1",
            "MEMORY://u:a@hunter2@h",
        ] {
            let e = Config::parse(url).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Config, "{url:?}");
            assert!(!e.to_string().contains("hunter2"), "{url:?}: {e}");
            assert!(
                e.message().contains("memory:// takes no host or path"),
                "{e}"
            );
        }
        let e = Config::parse("memory://h:1").unwrap_err();
        assert!(e.message().contains("got \"h:1\""), "{e}");
    }

    /// A build without the Redis backend says which feature brings it.
    #[cfg(not(feature = "redis"))]
    #[test]
    fn redis_urls_name_the_missing_feature() {
        for url in ["redis://h", "rediss+cluster://h:1"] {
            let e = Config::parse(url).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Config);
            assert!(e.message().contains("needs the \"redis\" feature"), "{e}");
        }
    }

    /// A message never contradicts itself: a known scheme with a bad rest says what is wrong
    /// with the rest, and an unknown option lists the options that exist.
    #[test]
    fn messages_say_what_to_change() {
        let e = Config::parse("memory:///").unwrap_err();
        assert!(
            e.message().contains("memory:// takes no host or path"),
            "{e}"
        );
        assert!(!e.message().contains("unknown url scheme"), "{e}");
        let e = Config::parse("memcached://h").unwrap_err();
        assert!(
            e.message().contains("unknown url scheme \"memcached\""),
            "{e}"
        );
        assert!(e.message().contains("memory"), "{e}");
        let e = Config::parse("memory://?near=1").unwrap_err();
        assert!(
            e.message().contains(
                "unknown option \"near\" (known: prefix, timeout_ms, ttl_ms, max_value_bytes)"
            ),
            "{e}"
        );
    }
}
