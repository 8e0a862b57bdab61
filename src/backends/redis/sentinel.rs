//! Master discovery for `redis+sentinel://`: the sentinels of the url are asked one at a time,
//! each for a share of the time left, starting with the one that answered last, so a sentinel
//! that accepts but never answers costs one share, not the whole call.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use ::redis::{ErrorKind as RedisKind, RedisError, RedisResult, Value};
use rustls::ClientConfig;

use super::sock::{time_left, Endpoint};
use super::wire::{Login, Wire};

/// The sentinels of a url and the master they watch.
pub(crate) struct Sentinels {
    /// In url order.
    each: Vec<Endpoint>,
    master: String,
    /// Which one to ask first: the one that answered last.
    first: AtomicUsize,
    tls: Option<Arc<ClientConfig>>,
}

impl Sentinels {
    pub(crate) fn new(each: Vec<Endpoint>, master: String, tls: Option<Arc<ClientConfig>>) -> Self {
        Sentinels {
            each,
            master,
            first: AtomicUsize::new(0),
            tls,
        }
    }

    /// Where the master is now, by `deadline`.
    pub(crate) fn master(&self, deadline: Instant) -> RedisResult<Endpoint> {
        let n = self.each.len();
        let first = self.first.load(Ordering::Relaxed);
        let mut last = None;
        for i in 0..n {
            let at = (first + i) % n;
            let share = time_left(deadline)? / (n - i) as u32;
            match self.ask(&self.each[at], Instant::now() + share) {
                Ok(master) => {
                    self.first.store(at, Ordering::Relaxed);
                    return Ok(master);
                }
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| RedisError::from((RedisKind::EmptySentinelList, "no sentinel"))))
    }

    /// Asks one sentinel (`SENTINEL get-master-addr-by-name`). Sentinels are reached without
    /// the url's credentials, which are the data servers'.
    fn ask(&self, sentinel: &Endpoint, deadline: Instant) -> RedisResult<Endpoint> {
        let mut wire = Wire::dial(sentinel, &Login::default(), self.tls.as_ref(), deadline)?;
        let mut cmd = ::redis::cmd("SENTINEL");
        cmd.arg("get-master-addr-by-name").arg(&self.master);
        match wire.command(&cmd, deadline)? {
            Value::Array(addr) => match addr.as_slice() {
                [Value::BulkString(host), Value::BulkString(port)] => {
                    let host = String::from_utf8_lossy(host).into_owned();
                    let port = std::str::from_utf8(port)
                        .ok()
                        .and_then(|p| p.parse().ok())
                        .ok_or_else(|| bad_reply(sentinel, "a port that is not a number"))?;
                    Ok(Endpoint { host, port })
                }
                _ => Err(bad_reply(sentinel, "an address that is not [host, port]")),
            },
            Value::Nil => Err(RedisError::from((
                RedisKind::MasterNameNotFoundBySentinel,
                "the sentinel knows no master of that name",
                format!("{sentinel} does not watch {:?}", self.master),
            ))),
            _ => Err(bad_reply(sentinel, "an unexpected reply")),
        }
    }
}

fn bad_reply(sentinel: &Endpoint, what: &str) -> RedisError {
    RedisError::from((
        RedisKind::Parse,
        "a sentinel answered unlike a sentinel",
        format!("{sentinel} sent {what}"),
    ))
}

/// Fails unless the server `wire` reaches is a master (`ROLE`): a sentinel may name a
/// master that has just become a replica.
pub(crate) fn check_master(wire: &mut Wire, deadline: Instant) -> RedisResult<()> {
    match wire.command(&::redis::cmd("ROLE"), deadline)? {
        Value::Array(role) if matches!(role.first(), Some(Value::BulkString(r)) if r == b"master") => {
            Ok(())
        }
        _ => Err(RedisError::from((
            RedisKind::Server(::redis::ServerErrorKind::ReadOnly),
            "the server the sentinels named is not a master",
        ))),
    }
}
