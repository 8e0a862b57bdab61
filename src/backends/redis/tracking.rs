//! The invalidation side of the near cache: per server, one connection subscribed to
//! `__redis__:invalidate`, read by a thread of its own, to which the data connections redirect
//! their tracking (`CLIENT TRACKING ON REDIRECT <id>`).
//!
//! Why a connection of its own: the server pushes an invalidation when a tracked session
//! changes, whether or not this factory is calling then. On the data connection, an idle
//! factory would leave it unread in the socket (no caller is reading) and serve a stale entry
//! meanwhile; this thread reads it as soon as it arrives, and the data connections keep their
//! request/reply rhythm. The fill tokens of [`NearCache`] make the two connections' orders
//! safe: an invalidation read before a fill's reply voids the fill.
//!
//! When an invalidation connection breaks, the server forgets where to send the invalidations
//! of the data connections that redirected to it: the cache is flushed and those data
//! connections are reset, so they dial again and redirect to a new one.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use ::redis::{RedisError, RedisResult, Value};
use rustls::ClientConfig;

use super::lock;
use super::near::NearCache;
use super::sock::{Endpoint, Sock};
use super::wire::{Login, Wire};

/// What to do when the invalidation connection to a server is gone: reset the data
/// connections to that server.
pub(crate) type OnBroken = Arc<dyn Fn(&Endpoint) + Send + Sync>;

/// The invalidation connection to one server.
struct Listener {
    /// Its client id, the data connections' redirect target.
    id: i64,
    sock: Sock,
    thread: Option<JoinHandle<()>>,
}

/// The invalidation connections of one factory.
pub(crate) struct Tracking {
    cache: Arc<NearCache>,
    login: Login,
    tls: Option<Arc<ClientConfig>>,
    listeners: Mutex<HashMap<Endpoint, Listener>>,
    on_broken: Mutex<Option<OnBroken>>,
    closed: std::sync::atomic::AtomicBool,
}

impl Tracking {
    pub(crate) fn new(
        cache: Arc<NearCache>,
        login: Login,
        tls: Option<Arc<ClientConfig>>,
    ) -> Arc<Self> {
        Arc::new(Tracking {
            cache,
            login,
            tls,
            listeners: Mutex::new(HashMap::new()),
            on_broken: Mutex::new(None),
            closed: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// What a data connection calls when it is dropped: everything cached through it goes.
    pub(crate) fn forget_all(&self) -> super::pipe::OnLost {
        let cache = Arc::clone(&self.cache);
        Arc::new(move || cache.lost())
    }

    /// Sets what resets the data connections to a server whose invalidation connection broke.
    pub(crate) fn on_broken(&self, reset: OnBroken) {
        *lock(&self.on_broken) = Some(reset);
    }

    /// Turns tracking on for the data connection `wire` to `at`, redirected to the
    /// invalidation connection to `at` (made first when there is none), by `deadline`.
    pub(crate) fn track(
        self: &Arc<Self>,
        at: &Endpoint,
        wire: &mut Wire,
        deadline: Instant,
    ) -> RedisResult<()> {
        let id = self.listener(at, deadline)?;
        let mut cmd = ::redis::cmd("CLIENT");
        cmd.arg("TRACKING").arg("ON").arg("REDIRECT").arg(id);
        wire.command(&cmd, deadline).map(drop)
    }

    /// The client id of the invalidation connection to `at`, dialled when there is none.
    fn listener(self: &Arc<Self>, at: &Endpoint, deadline: Instant) -> RedisResult<i64> {
        let mut listeners = lock(&self.listeners);
        if self.closed.load(std::sync::atomic::Ordering::Acquire) {
            return Err(super::closed());
        }
        if let Some(listener) = listeners.get(at) {
            return Ok(listener.id);
        }
        let mut wire = Wire::dial(at, &self.login, self.tls.as_ref(), deadline)?;
        let id = match wire.command(&::redis::cmd("CLIENT").arg("ID").clone(), deadline)? {
            Value::Int(id) => id,
            other => return Err(unexpected(format!("CLIENT ID answered {other:?}"))),
        };
        let mut subscribe = ::redis::cmd("SUBSCRIBE");
        subscribe.arg("__redis__:invalidate");
        match wire.command(&subscribe, deadline)? {
            Value::Array(reply) if reply.len() == 3 => {}
            other => return Err(unexpected(format!("SUBSCRIBE answered {other:?}"))),
        }
        let sock = wire.socket();
        let this = Arc::clone(self);
        let endpoint = at.clone();
        let thread = std::thread::Builder::new()
            .name("sessionstore-invalidate".into())
            .spawn(move || this.listen(endpoint, id, wire))
            .map_err(RedisError::from)?;
        listeners.insert(
            at.clone(),
            Listener {
                id,
                sock,
                thread: Some(thread),
            },
        );
        Ok(id)
    }

    /// The thread of one invalidation connection: every message goes to the cache; when the
    /// connection ends, the cache and the data connections that redirected to it are reset.
    fn listen(self: Arc<Self>, at: Endpoint, id: i64, mut wire: Wire) {
        loop {
            let message = match wire.recv(Instant::now() + LISTEN_FOR, false) {
                Ok(message) => message,
                Err(e) if e.is_timeout() => continue, // quiet; still subscribed
                Err(_) => break,
            };
            // ["message", "__redis__:invalidate", keys or null]
            if let Value::Array(parts) = &message {
                if let [Value::BulkString(kind), _, payload] = parts.as_slice() {
                    if kind == b"message" {
                        self.cache.invalidated(payload);
                    }
                }
            }
        }
        if self.closed.load(std::sync::atomic::Ordering::Acquire) {
            return;
        }
        {
            let mut listeners = lock(&self.listeners);
            if listeners.get(&at).is_some_and(|l| l.id == id) {
                listeners.remove(&at);
            }
        }
        self.cache.lost();
        let reset = lock(&self.on_broken).clone();
        if let Some(reset) = reset {
            reset(&at);
        }
    }

    /// Ends every invalidation connection and waits for their threads.
    pub(crate) fn close(&self) {
        self.closed
            .store(true, std::sync::atomic::Ordering::Release);
        let listeners: Vec<Listener> = lock(&self.listeners).drain().map(|(_, l)| l).collect();
        for mut listener in listeners {
            listener.sock.abort();
            if let Some(thread) = listener.thread.take() {
                let _ = thread.join();
            }
        }
        *lock(&self.on_broken) = None; // it holds the link: no cycle past close
    }
}

/// How long the listening thread blocks in one read before it reads again.
const LISTEN_FOR: Duration = Duration::from_secs(3600);

fn unexpected(what: String) -> RedisError {
    RedisError::from((::redis::ErrorKind::Parse, "unexpected reply", what))
}
