//! The seam between the core and a storage engine.
//!
//! A [`Backend`] is one configured engine (the in-memory registry, a Redis deployment). Each
//! open store handle holds one [`Session`] object from [`Backend::attach`]; dropping it is the
//! release. Arguments arrive validated (ids, keys, documents, sizes), so a backend only stores.

use crate::error::Result;
use crate::names::SessionId;
use crate::stats::{Lease, NearCacheStats};

/// A storage engine holding many sessions.
pub trait Backend: Send + Sync {
    /// Opens a handle on session `sid`, attaching to its data when it has any and starting
    /// a new, empty session otherwise.
    fn attach(&self, sid: &SessionId) -> Result<Box<dyn Session>>;

    /// Deletes every piece of the session's data; every handle open on it, on every node,
    /// then answers [`ErrorKind::Destroyed`](crate::ErrorKind::Destroyed).
    fn destroy_session(&self, sid: &SessionId) -> Result<()>;

    /// Frees connections and background work. Called once; later calls never reach the backend.
    fn close(&self);

    /// True when operations may block on I/O (so a host should release its interpreter lock).
    fn is_remote(&self) -> bool;

    /// What the lease refresher did so far (nothing, for a backend without one).
    fn lease_stats(&self) -> Lease {
        Lease::default()
    }

    /// What the near cache did so far (nothing, for a backend without one).
    fn near_cache_stats(&self) -> NearCacheStats {
        NearCacheStats::default()
    }
}

/// One handle's view of one session. Every method answers
/// [`ErrorKind::Destroyed`](crate::ErrorKind::Destroyed) once the session was destroyed or
/// reclaimed after this handle attached.
// `is_empty` would be one more round trip for a backend; hosts derive it from `len`.
#[allow(clippy::len_without_is_empty)]
pub trait Session: Send + Sync {
    /// Calls `visit` with the encoded value of `key`; `Ok(false)` when there is none.
    fn get(&self, key: &str, visit: &mut dyn FnMut(&[u8])) -> Result<bool>;
    /// [`get`](Self::get) answered from this process's memory without a round trip (a near
    /// cache), or `None` when only the backend can answer. The default: `None`.
    fn get_cached(&self, key: &str, visit: &mut dyn FnMut(&[u8])) -> Option<Result<bool>> {
        let _ = (key, visit);
        None
    }
    /// Stores the encoded value `doc` under `key`.
    fn set(&self, key: &str, doc: &[u8]) -> Result<()>;
    /// Whether `key` has a value.
    fn has(&self, key: &str) -> Result<bool>;
    /// Deletes `key`; whether it existed.
    fn del(&self, key: &str) -> Result<bool>;
    /// How many keys the session has.
    fn len(&self) -> Result<usize>;
    /// Every key.
    fn keys(&self) -> Result<Vec<String>>;
    /// Every key with its encoded value.
    fn get_all(&self) -> Result<Vec<(String, Vec<u8>)>>;
    /// Stores every entry, all or nothing.
    fn set_many(&self, entries: &[(&str, &[u8])]) -> Result<()>;
    /// Makes the session hold exactly `entries`, in one atomic step: every other key goes.
    fn replace_all(&self, entries: &[(&str, &[u8])]) -> Result<()>;
    /// Deletes the session's data, as [`Backend::destroy_session`].
    fn destroy(&self) -> Result<()>;
}
