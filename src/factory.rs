//! [`StoreFactory`] and [`Store`]: the API every host wraps.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::backend::{Backend, Session};
use crate::config::{BackendConfig, Config};
use crate::error::{Error, ErrorKind, Result};
use crate::memory::MemoryBackend;
use crate::names::{check_key, SessionId};
use crate::redis::RedisBackend;
use crate::value;

/// Opens stores on one configured backend. Cheap to clone; clones share the backend.
#[derive(Clone)]
pub struct StoreFactory {
    shared: Arc<FactoryShared>,
}

struct FactoryShared {
    config: Config,
    backend: Box<dyn Backend>,
    closed: AtomicBool,
}

impl FactoryShared {
    fn check_open(&self) -> Result<()> {
        if self.closed.load(Ordering::Acquire) {
            return Err(Error::closed());
        }
        Ok(())
    }
}

impl StoreFactory {
    /// Opens a factory on the backend `url` names (API.md §1).
    pub fn open(url: &str) -> Result<Self> {
        Self::with_config(Config::parse(url)?)
    }

    /// Opens a factory on an already parsed configuration.
    pub fn with_config(config: Config) -> Result<Self> {
        let backend: Box<dyn Backend> = match &config.backend {
            BackendConfig::Memory => Box::new(MemoryBackend::new(config.ttl)?),
            BackendConfig::Redis(redis) => Box::new(RedisBackend::open(&config, redis)?),
        };
        Ok(StoreFactory {
            shared: Arc::new(FactoryShared {
                config,
                backend,
                closed: AtomicBool::new(false),
            }),
        })
    }

    /// The configuration this factory was opened with.
    pub fn config(&self) -> &Config {
        &self.shared.config
    }

    /// True when store operations may block on I/O.
    pub fn is_remote(&self) -> bool {
        self.shared.backend.is_remote()
    }

    /// Opens a store on session `sid`, attaching to its data if it has any.
    pub fn create_store(&self, sid: impl AsRef<[u8]>) -> Result<Store> {
        let sid = SessionId::parse(sid.as_ref())?;
        self.shared.check_open()?;
        let session = self.shared.backend.attach(&sid)?;
        Ok(Store {
            factory: self.shared.clone(),
            sid,
            session,
            destroyed: AtomicBool::new(false),
        })
    }

    /// Deletes session `sid` everywhere; every handle open on it answers `Destroyed`.
    pub fn destroy_session(&self, sid: impl AsRef<[u8]>) -> Result<()> {
        let sid = SessionId::parse(sid.as_ref())?;
        self.shared.check_open()?;
        self.shared.backend.destroy_session(&sid)
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

    fn session(&self) -> Result<&dyn Session> {
        self.factory.check_open()?;
        Ok(&*self.session)
    }

    /// Notes a `Destroyed` answer so that [`is_destroyed`](Self::is_destroyed) reports it.
    fn seen<T>(&self, result: Result<T>) -> Result<T> {
        if let Err(e) = &result {
            if e.kind() == ErrorKind::Destroyed {
                self.destroyed.store(true, Ordering::Relaxed);
            }
        }
        result
    }

    /// Calls `read` with the encoded value of `key`, returning what it returns; `None` when
    /// the key has no value. The callback runs while the value is borrowed from the backend:
    /// it must not call back into this session.
    pub fn get_with<R>(&self, key: &str, read: impl FnOnce(&[u8]) -> R) -> Result<Option<R>> {
        check_key(key)?;
        let mut read = Some(read);
        let mut out = None;
        let found = self.session()?.get(key, &mut |doc| {
            if let Some(read) = read.take() {
                out = Some(read(doc));
            }
        });
        self.seen(found)?;
        Ok(out)
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
        check_key(key)?;
        value::validate(doc, self.max_value_bytes())?;
        self.set_valid(key, doc)
    }

    /// Stores a document the caller produced with this crate's encoder (no re-validation),
    /// checking only its size.
    pub fn set_encoded(&self, key: &str, doc: &[u8]) -> Result<()> {
        check_key(key)?;
        value::check_size(doc.len(), self.max_value_bytes())?;
        self.set_valid(key, doc)
    }

    /// Stores raw bytes under `key` as MessagePack `bin`.
    pub fn set_bytes(&self, key: &str, raw: &[u8]) -> Result<()> {
        check_key(key)?;
        value::check_size(value::bin_encoded_len(raw.len()), self.max_value_bytes())?;
        self.set_valid(key, &value::encode_bin(raw))
    }

    fn set_valid(&self, key: &str, doc: &[u8]) -> Result<()> {
        let result = self.session()?.set(key, doc);
        self.seen(result)
    }

    /// Whether `key` has a value.
    pub fn has(&self, key: &str) -> Result<bool> {
        check_key(key)?;
        let result = self.session()?.has(key);
        self.seen(result)
    }

    /// Deletes `key`; whether it had a value.
    pub fn del(&self, key: &str) -> Result<bool> {
        check_key(key)?;
        let result = self.session()?.del(key);
        self.seen(result)
    }

    /// How many keys the session holds.
    pub fn len(&self) -> Result<usize> {
        let result = self.session()?.len();
        self.seen(result)
    }

    /// True when the session holds no key.
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }

    /// Every key of the session.
    pub fn keys(&self) -> Result<Vec<String>> {
        let result = self.session()?.keys();
        self.seen(result)
    }

    /// Every key with its encoded value.
    pub fn get_all(&self) -> Result<Vec<(String, Vec<u8>)>> {
        let result = self.session()?.get_all();
        self.seen(result)
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
        let entries = value::split_map(map_doc, self.max_value_bytes())?;
        self.set_many_valid(&entries)
    }

    /// Stores every `(key, document)` pair after validating them all, all or nothing.
    pub fn set_many(&self, entries: &[(&str, &[u8])]) -> Result<()> {
        for (key, doc) in entries {
            check_key(key)?;
            value::validate(doc, self.max_value_bytes())?;
        }
        self.set_many_valid(entries)
    }

    fn set_many_valid(&self, entries: &[(&str, &[u8])]) -> Result<()> {
        let result = self.session()?.set_many(entries);
        self.seen(result)
    }

    /// Deletes all of the session's data everywhere; every handle on it then answers
    /// `Destroyed`. Destroying an already destroyed session is a no-op.
    pub fn destroy(&self) -> Result<()> {
        self.session()?.destroy()?;
        self.destroyed.store(true, Ordering::Relaxed);
        Ok(())
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
