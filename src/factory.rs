//! [`StoreFactory`] and [`Store`]: the API every host wraps.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use crate::backend::{Backend, Session};
use crate::config::Config;
use crate::error::{Error, ErrorKind, Result};
use crate::names::{check_key, SessionId};
use crate::stats::{Counters, Op, Snapshot};
use crate::value;

/// Opens stores on one configured backend. Cheap to clone; clones share the backend.
#[derive(Clone)]
pub struct StoreFactory {
    shared: Arc<FactoryShared>,
}

struct FactoryShared {
    config: Config,
    backend: Box<dyn Backend>,
    /// The backend's `is_remote`, kept at hand: remote calls are timed.
    remote: bool,
    closed: AtomicBool,
    counters: Counters,
}

impl FactoryShared {
    fn check_open(&self) -> Result<()> {
        if self.closed.load(Ordering::Acquire) {
            return Err(Error::closed());
        }
        Ok(())
    }

    /// Runs one operation of this factory or of one of its stores, counted and, on a remote
    /// backend, timed from its start.
    #[inline]
    fn run<T>(&self, op: Op, call: impl FnOnce() -> Result<T>) -> Result<T> {
        self.run_clocked(op, |clock| {
            clock.start();
            call()
        })
    }

    /// Runs one operation, counted, and timed from when `call` starts its [`Clock`] (a read
    /// the backend answers from memory, as the near cache does, never starts it: it is no
    /// remote call). A failure of a call that the factory's close overtook is `Closed`,
    /// whatever the backend saw go away under it (a dropped connection, a freed session).
    #[inline]
    fn run_clocked<T>(&self, op: Op, call: impl FnOnce(&mut Clock) -> Result<T>) -> Result<T> {
        let mut clock = Clock {
            remote: self.remote,
            started: None,
        };
        let result = call(&mut clock);
        self.settle(op, result, clock.started)
    }

    /// Counts the answer of one operation (and times it, if it started as a remote call).
    #[inline]
    fn settle<T>(&self, op: Op, result: Result<T>, started: Option<Instant>) -> Result<T> {
        let result = result.map_err(|e| match self.check_open() {
            Ok(()) => e,
            Err(closed) => closed,
        });
        if let Some(started) = started {
            self.counters.time(started.elapsed());
        }
        self.counters.count(op, &result);
        result
    }
}

/// A read's callback, run on the first value a backend visits; what it returned.
struct ReadOnce<F, R> {
    read: Option<F>,
    out: Option<R>,
}

impl<F: FnOnce(&[u8]) -> R, R> ReadOnce<F, R> {
    fn new(read: F) -> Self {
        ReadOnce {
            read: Some(read),
            out: None,
        }
    }

    fn visit(&mut self, doc: &[u8]) {
        if let Some(read) = self.read.take() {
            self.out = Some(read(doc));
        }
    }
}

/// When a remote call began, if it began (see [`FactoryShared::run_clocked`]).
struct Clock {
    remote: bool,
    started: Option<Instant>,
}

impl Clock {
    /// The call goes to the backend now: on a remote backend, it is timed from here.
    #[inline]
    fn start(&mut self) {
        if self.remote {
            self.started = Some(Instant::now());
        }
    }
}

impl StoreFactory {
    /// Opens a factory on the backend `url` names (docs/API.md §1).
    pub fn open(url: &str) -> Result<Self> {
        Self::with_config(Config::parse(url)?)
    }

    /// Opens a factory on an already parsed configuration.
    pub fn with_config(config: Config) -> Result<Self> {
        let backend = config.backend.open(&config)?;
        Ok(StoreFactory {
            shared: Arc::new(FactoryShared {
                remote: backend.is_remote(),
                config,
                backend,
                closed: AtomicBool::new(false),
                counters: Counters::default(),
            }),
        })
    }

    /// The configuration this factory was opened with.
    pub fn config(&self) -> &Config {
        &self.shared.config
    }

    /// True when store operations may block on I/O.
    pub fn is_remote(&self) -> bool {
        self.shared.remote
    }

    /// Opens a store on session `sid`, attaching to its data if it has any.
    pub fn create_store(&self, sid: impl AsRef<[u8]>) -> Result<Store> {
        let shared = &self.shared;
        let (sid, session) = shared.run(Op::Open, || {
            let sid = SessionId::parse(sid.as_ref())?;
            shared.check_open()?;
            let session = shared.backend.attach(&sid)?;
            Ok((sid, session))
        })?;
        shared.counters.stores(1);
        Ok(Store {
            factory: shared.clone(),
            sid,
            session,
            destroyed: AtomicBool::new(false),
        })
    }

    /// Deletes session `sid` everywhere; every handle open on it answers `Destroyed`.
    pub fn destroy_session(&self, sid: impl AsRef<[u8]>) -> Result<()> {
        self.shared.run(Op::DestroySession, || {
            let sid = SessionId::parse(sid.as_ref())?;
            self.shared.check_open()?;
            self.shared.backend.destroy_session(&sid)
        })
    }

    /// The factory's counters since it opened: calls and errors by kind, the latency of
    /// remote calls, open stores, the lease refresher's work (docs/API.md §12). `Closed` once
    /// the factory is closed.
    pub fn stats(&self) -> Result<Snapshot> {
        self.shared.check_open()?;
        let mut snapshot = self.shared.counters.snapshot();
        snapshot.lease = self.shared.backend.lease_stats();
        snapshot.near_cache = self.shared.backend.near_cache_stats();
        Ok(snapshot)
    }

    /// Closes the factory: every store of it then answers `Closed`, its connections and
    /// background work stop, and with `memory://` the data goes. Closing twice is a no-op.
    pub fn close(&self) {
        if !self.shared.closed.swap(true, Ordering::AcqRel) {
            self.shared.backend.close();
        }
    }

    /// True once [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        self.shared.closed.load(Ordering::Acquire)
    }
}

impl std::fmt::Debug for StoreFactory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreFactory")
            .field("url", &self.shared.config.redacted_url())
            .field("closed", &self.is_closed())
            .finish()
    }
}

/// One handle on one session's key-value data. Dropping it releases the handle; the data stays.
pub struct Store {
    factory: Arc<FactoryShared>,
    sid: SessionId,
    session: Box<dyn Session>,
    destroyed: AtomicBool,
}

impl Store {
    /// The session id this store is open on.
    pub fn session_id(&self) -> &SessionId {
        &self.sid
    }

    /// True when store operations may block on I/O.
    pub fn is_remote(&self) -> bool {
        self.factory.backend.is_remote()
    }

    /// True once this handle destroyed its session or saw it destroyed.
    pub fn is_destroyed(&self) -> bool {
        self.destroyed.load(Ordering::Relaxed)
    }

    /// The largest encoded value this store accepts.
    pub fn max_value_bytes(&self) -> usize {
        self.factory.config.max_value_bytes
    }

    /// Runs one operation of this store: `call` gets the session once the factory is known
    /// open; the answer goes through [`FactoryShared::answer`], and the call is counted (and
    /// timed, on a remote backend). A `Destroyed` answer is noted so that
    /// [`is_destroyed`](Self::is_destroyed) reports it.
    #[inline]
    fn run<T>(&self, op: Op, call: impl FnOnce(&dyn Session) -> Result<T>) -> Result<T> {
        self.run_clocked(op, |session, clock| {
            clock.start();
            call(session)
        })
    }

    /// [`run`](Self::run), timed from when `call` starts the [`Clock`].
    #[inline]
    fn run_clocked<T>(
        &self,
        op: Op,
        call: impl FnOnce(&dyn Session, &mut Clock) -> Result<T>,
    ) -> Result<T> {
        let result = self.factory.run_clocked(op, |clock| {
            self.factory.check_open()?;
            call(&*self.session, clock)
        });
        self.note(&result);
        result
    }

    /// Notes a `Destroyed` answer, so that [`is_destroyed`](Self::is_destroyed) reports it.
    #[inline]
    fn note<T>(&self, result: &Result<T>) {
        if matches!(result, Err(e) if e.kind() == ErrorKind::Destroyed) {
            self.destroyed.store(true, Ordering::Relaxed);
        }
    }

    /// Calls `read` with the encoded value of `key`, returning what it returns; `None` when
    /// the key has no value. The callback runs while the value is borrowed from the backend:
    /// it must not call back into this session.
    pub fn get_with<R>(&self, key: &str, read: impl FnOnce(&[u8]) -> R) -> Result<Option<R>> {
        self.run_clocked(Op::Get, |session, clock| {
            check_key(key)?;
            let mut read = ReadOnce::new(read);
            let mut visit = |doc: &[u8]| read.visit(doc);
            match session.get_cached(key, &mut visit) {
                Some(answer) => answer?,
                None => {
                    clock.start();
                    session.get(key, &mut visit)?
                }
            };
            Ok(read.out)
        })
    }

    /// [`get_with`](Self::get_with) when this process can answer without a round trip: always
    /// on `memory://`, on a near-cache hit on Redis; `None` (nothing done, nothing counted) when
    /// only the backend can, so that a host can keep a blocking call off its event loop or
    /// interpreter lock only when there is one.
    pub fn get_cached_with<R>(
        &self,
        key: &str,
        read: impl FnOnce(&[u8]) -> R,
    ) -> Option<Result<Option<R>>> {
        if !self.factory.remote {
            return Some(self.get_with(key, read));
        }
        if self.factory.check_open().is_err() || check_key(key).is_err() {
            return None; // the call itself answers these
        }
        let mut read = ReadOnce::new(read);
        let answer = self.session.get_cached(key, &mut |doc| read.visit(doc))?;
        let result = self.factory.settle(Op::Get, answer.map(|_| read.out), None);
        self.note(&result);
        Some(result)
    }

    /// The encoded value (a MessagePack document) of `key`.
    pub fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        self.get_with(key, <[u8]>::to_vec)
    }

    /// The raw bytes of `key`, whose value must be MessagePack `bin` (else `Type`).
    pub fn get_bytes(&self, key: &str) -> Result<Option<Vec<u8>>> {
        self.get_with(key, |doc| value::decode_bin(doc).map(<[u8]>::to_vec))?
            .transpose()
    }

    /// Stores the MessagePack document `doc` under `key` after validating it.
    pub fn set(&self, key: &str, doc: &[u8]) -> Result<()> {
        self.run(Op::Set, |session| {
            check_key(key)?;
            value::validate(doc, self.max_value_bytes())?;
            session.set(key, doc)
        })
    }

    /// Stores a document the caller produced with this crate's encoder (no re-validation),
    /// checking only its size.
    pub fn set_encoded(&self, key: &str, doc: &[u8]) -> Result<()> {
        self.run(Op::Set, |session| {
            check_key(key)?;
            value::check_size(doc.len(), self.max_value_bytes())?;
            session.set(key, doc)
        })
    }

    /// Stores raw bytes under `key` as MessagePack `bin`.
    pub fn set_bytes(&self, key: &str, raw: &[u8]) -> Result<()> {
        self.run(Op::Set, |session| {
            check_key(key)?;
            value::check_size(value::bin_encoded_len(raw.len()), self.max_value_bytes())?;
            session.set(key, &value::encode_bin(raw))
        })
    }

    /// Whether `key` has a value.
    pub fn has(&self, key: &str) -> Result<bool> {
        self.run(Op::Has, |session| session.has(check_key(key)?))
    }

    /// Deletes `key`; whether it had a value.
    pub fn del(&self, key: &str) -> Result<bool> {
        self.run(Op::Del, |session| session.del(check_key(key)?))
    }

    /// How many keys the session holds.
    pub fn len(&self) -> Result<usize> {
        self.run(Op::Len, |session| session.len())
    }

    /// True when the session holds no key.
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }

    /// Every key of the session.
    pub fn keys(&self) -> Result<Vec<String>> {
        self.run(Op::Keys, |session| session.keys())
    }

    /// Every key with its encoded value.
    pub fn get_all(&self) -> Result<Vec<(String, Vec<u8>)>> {
        self.run(Op::GetAll, |session| session.get_all())
    }

    /// Every key with its value, as one MessagePack map document.
    pub fn get_all_encoded(&self) -> Result<Vec<u8>> {
        let all = self.get_all()?;
        Ok(value::encode_map(
            all.iter().map(|(k, v)| (k.as_str(), v.as_slice())),
        ))
    }

    /// Every key, as one MessagePack array document.
    pub fn keys_encoded(&self) -> Result<Vec<u8>> {
        let keys = self.keys()?;
        Ok(value::encode_keys(keys.iter().map(String::as_str)))
    }

    /// Stores every entry of the MessagePack map document `map_doc`, all or nothing: when any
    /// key or value is invalid, nothing is stored.
    pub fn set_many_encoded(&self, map_doc: &[u8]) -> Result<()> {
        self.run(Op::SetMany, |session| {
            session.set_many(&value::split_map(map_doc, self.max_value_bytes())?)
        })
    }

    /// Stores every `(key, document)` pair after validating them all, all or nothing.
    pub fn set_many(&self, entries: &[(&str, &[u8])]) -> Result<()> {
        self.run(Op::SetMany, |session| {
            for (key, doc) in entries {
                check_key(key)?;
                value::validate(doc, self.max_value_bytes())?;
            }
            session.set_many(entries)
        })
    }

    /// Makes the session hold exactly `entries` (each validated), in one atomic step: every
    /// other key goes. When any key or value is invalid, nothing changes.
    pub fn replace_all(&self, entries: &[(&str, &[u8])]) -> Result<()> {
        self.run(Op::ReplaceAll, |session| {
            for (key, doc) in entries {
                check_key(key)?;
                value::validate(doc, self.max_value_bytes())?;
            }
            session.replace_all(entries)
        })
    }

    /// Makes the session hold exactly the entries of `entries` (documents this crate's
    /// encoder produced: only their sizes are checked), in one atomic step.
    pub fn replace_all_encoded(&self, entries: &[(&str, &[u8])]) -> Result<()> {
        self.run(Op::ReplaceAll, |session| {
            for (key, doc) in entries {
                check_key(key)?;
                value::check_size(doc.len(), self.max_value_bytes())?;
            }
            session.replace_all(entries)
        })
    }

    /// Deletes all of the session's data everywhere; every handle on it then answers
    /// `Destroyed`. Destroying an already destroyed session is a no-op.
    pub fn destroy(&self) -> Result<()> {
        self.run(Op::Destroy, |session| session.destroy())?;
        self.destroyed.store(true, Ordering::Relaxed);
        Ok(())
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        self.factory.counters.stores(-1);
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("session_id", &self.sid)
            .field("destroyed", &self.is_destroyed())
            .finish()
    }
}
