//! Handle registries: a C handle is an opaque 64-bit id looked up here, so a stale, forged,
//! released or wrong-kind handle is detected (`SS_ERR_INVALID_HANDLE`) instead of touching
//! freed memory.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use dashmap::DashMap;
use once_cell::sync::Lazy;

use crate::error::{Error, ErrorKind, Result};
use crate::{Store, StoreFactory};

type Hasher = foldhash::fast::RandomState;

/// One counter for every kind, so no two live handles of any kind are equal; the kind also
/// sits in the top byte, so a handle of one kind is never found in the other's registry.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);
const ID_BITS: u32 = 56;

/// The handles of one kind.
pub(crate) struct Registry<T> {
    kind: &'static str,
    tag: u64,
    map: DashMap<u64, T, Hasher>,
}

impl<T: Clone> Registry<T> {
    fn new(kind: &'static str, tag: u64) -> Self {
        Registry {
            kind,
            tag: tag << ID_BITS,
            map: DashMap::with_hasher(Hasher::default()),
        }
    }

    /// Registers `value` under a new handle, never 0.
    pub(crate) fn insert(&self, value: T) -> u64 {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed) & ((1 << ID_BITS) - 1);
        let handle = self.tag | id;
        self.map.insert(handle, value);
        handle
    }

    /// The value of `handle`; the shard lock is not held once this returns.
    pub(crate) fn get(&self, handle: u64) -> Result<T> {
        self.map
            .get(&handle)
            .map(|v| v.value().clone())
            .ok_or_else(|| self.invalid(handle))
    }

    /// Unregisters `handle`, returning its value.
    pub(crate) fn remove(&self, handle: u64) -> Result<T> {
        self.map
            .remove(&handle)
            .map(|(_, v)| v)
            .ok_or_else(|| self.invalid(handle))
    }

    fn invalid(&self, handle: u64) -> Error {
        Error::new(
            ErrorKind::InvalidHandle,
            format!(
                "0x{handle:x} is not an open {} handle (never issued, released, or of another kind)",
                self.kind
            ),
        )
    }
}

/// Open factories. A closed factory stays registered, answering `SS_ERR_CLOSED`.
pub(crate) static FACTORIES: Lazy<Registry<StoreFactory>> =
    Lazy::new(|| Registry::new("ss_factory", 0x5F));
/// Open stores, each shared with the calls running on it so a concurrent release is safe.
pub(crate) static STORES: Lazy<Registry<Arc<Store>>> =
    Lazy::new(|| Registry::new("ss_store", 0x5E));
