//! Handle registries: a Java wrapper holds a `long` that is looked up here, so a stale,
//! released or forged handle answers an error (and so a Java exception) instead of touching
//! freed memory. Each call clones the entry out, so a concurrent release never frees what a
//! running call uses.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, LazyLock};

use dashmap::DashMap;
use sessionstore::{Error, ErrorKind, Store, StoreFactory};

/// One counter for both kinds, and the kind in the top byte, so a handle of one kind is never
/// found in the other's registry. Handles are positive and never 0.
static NEXT_ID: AtomicI64 = AtomicI64::new(1);
const ID_BITS: u32 = 48;

pub(crate) struct Registry<T> {
    tag: i64,
    /// What a handle missing from the registry means.
    missing: fn() -> Error,
    map: DashMap<i64, T>,
}

impl<T: Clone> Registry<T> {
    fn new(tag: i64, missing: fn() -> Error) -> Self {
        Registry {
            tag: tag << ID_BITS,
            missing,
            map: DashMap::new(),
        }
    }

    /// Registers `value` under a new handle.
    pub(crate) fn insert(&self, value: T) -> i64 {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed) & ((1 << ID_BITS) - 1);
        let handle = self.tag | id;
        self.map.insert(handle, value);
        handle
    }

    /// The value of `handle`; no lock of the registry is held once this returns.
    pub(crate) fn get(&self, handle: i64) -> Result<T, Error> {
        self.map
            .get(&handle)
            .map(|v| v.value().clone())
            .ok_or_else(self.missing)
    }

    /// Unregisters `handle`, returning its value.
    pub(crate) fn remove(&self, handle: i64) -> Result<T, Error> {
        self.map
            .remove(&handle)
            .map(|(_, v)| v)
            .ok_or_else(self.missing)
    }
}

/// Open factories. The Java wrapper removes its handle when it closes, so a handle missing
/// here belongs to a closed factory (or was never issued).
pub(crate) static FACTORIES: LazyLock<Registry<StoreFactory>> = LazyLock::new(|| {
    Registry::new(0x5F, || {
        Error::new(ErrorKind::Closed, "the store factory is closed")
    })
});

/// Open stores, each shared with the calls running on it so a concurrent release is safe.
pub(crate) static STORES: LazyLock<Registry<Arc<Store>>> = LazyLock::new(|| {
    Registry::new(0x5E, || {
        Error::new(
            ErrorKind::InvalidHandle,
            "the store is closed (its handle was released)",
        )
    })
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_are_checked() {
        let factory = StoreFactory::open("memory://").unwrap();
        let f = FACTORIES.insert(factory.clone());
        let s = STORES.insert(Arc::new(factory.create_store("sid").unwrap()));
        assert!(f > 0 && s > 0 && f != s);
        assert!(FACTORIES.get(f).is_ok());
        assert_eq!(FACTORIES.get(s).err().unwrap().kind(), ErrorKind::Closed);
        assert_eq!(
            STORES.get(f).err().unwrap().kind(),
            ErrorKind::InvalidHandle
        );
        assert_eq!(
            STORES.get(0).err().unwrap().kind(),
            ErrorKind::InvalidHandle
        );
        STORES.remove(s).unwrap();
        assert_eq!(
            STORES.remove(s).err().unwrap().kind(),
            ErrorKind::InvalidHandle
        );
        FACTORIES.remove(f).unwrap();
        assert_eq!(FACTORIES.get(f).err().unwrap().kind(), ErrorKind::Closed);
    }
}
