//! The Redis backend (`redis://`, `rediss://`, `redis+sentinel://`, `redis+cluster://`).
//!
//! A standalone or Sentinel factory shares one connection among its calling threads, which
//! pipeline on it with no I/O thread in between ([`pipe`]): a lone caller writes and reads on
//! its own thread, concurrent callers share writes and reads. A cluster factory uses
//! redis-rs's async cluster connection on a tokio runtime the backend owns; that runtime has
//! no thread of its own either: the calling threads drive it (tokio's current-thread
//! scheduler). Every [`Session`] method blocks for at most `timeout_ms`.
//! The layout (one hash per session, a generation field, a lease) is described in [`scripts`]
//! and `docs/redis.md`.

mod conn;
mod errors;
mod lease;
mod pipe;
mod scripts;
mod session;
mod wire;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ::redis::{Cmd, ErrorKind as RedisKind, RedisResult, ServerErrorKind, Value};
use tokio::runtime::{Handle, Runtime};

use crate::backend::{Backend, Session};
use crate::config::{Config, RedisConfig};
use crate::error::{Error, ErrorKind, Result};
use crate::names::SessionId;
use crate::periodic::Periodic;

use conn::Link;
use errors::Names;
use lease::Leases;
use scripts::{Lua, Scripts};
use session::RedisSession;

/// The sessions of one Redis deployment, as one factory sees them.
pub struct RedisBackend {
    shared: Arc<Shared>,
    /// Renews the leases of the sessions this factory holds; with `ttl_ms > 0` only.
    refresher: Option<Periodic>,
}

/// What every session of a backend shares.
pub(crate) struct Shared {
    runtime: OwnedRuntime,
    link: Link,
    scripts: Scripts,
    names: Names,
    timeout: Duration,
    prefix: String,
    /// The lease in ms as a script argument; "0" when off.
    ttl_arg: String,
    leases: Option<Leases>,
}

impl RedisBackend {
    /// Connects to the servers `redis` names with the options of `config`; fails with
    /// `Timeout` or `Backend` when they cannot be reached within `timeout_ms`.
    pub fn open(config: &Config, redis: &RedisConfig) -> Result<Self> {
        let names = Names {
            server: redis.redacted_url(),
            password: redis.password.clone(),
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .map_err(|e| {
                Error::new(
                    ErrorKind::Backend,
                    format!("{}: cannot start the I/O runtime: {e}", names.server),
                )
            })?;
        let timeout = config.timeout;
        let link = Link::open(redis, timeout, &runtime).map_err(|e| names.error("connect", &e))?;
        let ttl = config.ttl;
        let shared = Arc::new(Shared {
            runtime: OwnedRuntime(Some(runtime)),
            link,
            scripts: Scripts::new(),
            names,
            timeout,
            prefix: config.prefix.clone(),
            ttl_arg: ttl.map_or_else(|| "0".to_owned(), |t| t.as_millis().to_string()),
            leases: ttl.map(|_| Leases::default()),
        });
        let refresher = ttl
            .map(|ttl| {
                Periodic::start(
                    "sessionstore-lease",
                    "lease refresher",
                    lease::period(ttl),
                    Arc::downgrade(&shared),
                    lease::refresh_all,
                )
            })
            .transpose()?;
        Ok(RedisBackend { shared, refresher })
    }
}

impl Backend for RedisBackend {
    fn attach(&self, sid: &SessionId) -> Result<Box<dyn Session>> {
        Ok(Box::new(RedisSession::attach(&self.shared, sid)?))
    }

    fn destroy_session(&self, sid: &SessionId) -> Result<()> {
        let key = self.shared.key(sid);
        let mut cmd = ::redis::cmd("DEL");
        cmd.arg(&key);
        self.shared.call("destroy_session", |_| cmd.clone())?;
        Ok(())
    }

    fn close(&self) {
        if let Some(refresher) = &self.refresher {
            refresher.stop();
        }
        self.shared.link.close();
        // Dropping the connection handles ends their driver tasks, which own the sockets, but
        // only once the runtime runs them, and after close nobody else drives it: without this
        // the sockets stay open as long as the factory object lives (a C handle: for ever).
        // Bounded, so a task that does not end cannot hold close up.
        let _ = block_on(
            &self.shared.runtime,
            bounded(CLOSE_DRAIN.min(self.shared.timeout), async {
                while Handle::current().metrics().num_alive_tasks() > 0 {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            }),
        );
    }

    fn is_remote(&self) -> bool {
        true
    }
}

/// How long `close` waits for the connections' tasks to end.
const CLOSE_DRAIN: Duration = Duration::from_millis(500);

/// The backend's runtime, shut down without blocking when the last session lets go of it:
/// dropping a runtime the ordinary way panics inside async code (a Rust host may drop its
/// factory there).
struct OwnedRuntime(Option<Runtime>);

impl std::ops::Deref for OwnedRuntime {
    type Target = Runtime;

    fn deref(&self) -> &Runtime {
        // Only `drop` takes it out.
        self.0.as_ref().expect("runtime present until drop")
    }
}

impl Drop for OwnedRuntime {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

impl Drop for RedisBackend {
    fn drop(&mut self) {
        self.close();
    }
}

/// Runs `fut` to completion on `runtime` from a blocking caller, which drives the runtime
/// while it waits (or waits for the thread that drives it). A caller already inside a tokio
/// runtime (a Rust host calling from async code) gets a helper thread, since blocking on a
/// runtime from inside one is not allowed.
fn block_on<F: Future + Send>(runtime: &Runtime, fut: F) -> F::Output
where
    F::Output: Send,
{
    if Handle::try_current().is_err() {
        return runtime.block_on(fut);
    }
    std::thread::scope(|s| {
        s.spawn(|| runtime.block_on(fut))
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p))
    })
}

// A panic while one of the backend's locks was held leaves nothing half-written that matters
// more than failing the requests concerned, which their deadlines do.
fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The error of a call on a closed factory's connection.
fn closed() -> ::redis::RedisError {
    ::redis::RedisError::from((RedisKind::Client, "the store factory is closed"))
}

/// `fut` bounded by `limit`; the timer is made inside the runtime, where it must live.
async fn bounded<F: Future>(
    limit: Duration,
    fut: F,
) -> std::result::Result<F::Output, tokio::time::error::Elapsed> {
    tokio::time::timeout(limit, fut).await
}

impl Shared {
    /// The hash of session `sid`: `<prefix>:<sid>`.
    fn key(&self, sid: &SessionId) -> Vec<u8> {
        format!("{}:{}", self.prefix, sid.as_str()).into_bytes()
    }

    /// Runs script `lua` on `key` with `args`, as operation `op`.
    fn script(&self, op: &str, lua: &Lua, key: &[u8], args: &[&[u8]]) -> Result<Value> {
        self.call(op, |full| lua.cmd(full, key, args))
    }

    /// Sends the command `build(false)` (`build(true)` again after a NOSCRIPT answer) as
    /// operation `op`, bounded by `timeout_ms`.
    fn call(&self, op: &str, build: impl Fn(bool) -> Cmd + Send + Sync) -> Result<Value> {
        let out = match &self.link {
            Link::Direct(direct) => {
                let deadline = Instant::now() + self.timeout;
                let pack = |full: bool, packed: &mut Vec<u8>| {
                    build(full).write_packed_command(packed);
                };
                direct
                    .request(1, deadline, &self.runtime, pack)
                    .and_then(|replies| match replies.into_iter().next() {
                        Some(Value::ServerError(e)) => Err(e.into()),
                        Some(v) => Ok(v),
                        None => Err((RedisKind::Client, "no reply").into()),
                    })
            }
            Link::Cluster(_) => {
                let fut = self.send_cluster(&build);
                block_on(&self.runtime, bounded(self.timeout, fut))
                    .unwrap_or_else(|_| Err(wire::timed_out()))
            }
        };
        out.map_err(|e| {
            if e.is_timeout() {
                self.names.timeout(op, self.timeout.as_millis())
            } else {
                self.names.error(op, &e)
            }
        })
    }

    /// Sends `build(false)` through the cluster connection, `build(true)` again after a
    /// NOSCRIPT answer.
    async fn send_cluster(&self, build: &(impl Fn(bool) -> Cmd + Sync)) -> RedisResult<Value> {
        match self.link.send_cluster(&build(false)).await {
            Err(e) if is_noscript(&e) => self.link.send_cluster(&build(true)).await,
            other => other,
        }
    }
}

fn is_noscript(e: &::redis::RedisError) -> bool {
    e.kind() == RedisKind::Server(ServerErrorKind::NoScript)
}
