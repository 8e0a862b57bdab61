//! Handle registries: a Java wrapper holds a `long` that names a slot of the core's
//! [`HandleRegistry`] (the C ABI uses the same one), so a stale, released, forged or
//! wrong-kind handle answers an error (and so a Java exception) instead of touching freed
//! memory. A call runs under its slot's own read lock: a concurrent release waits for it, and
//! calls on different handles share no lock. A body run here must not release a handle.

use std::sync::LazyLock;

use jni::sys::jlong;
use sessionstore::handles::HandleRegistry;
use sessionstore::{Error, ErrorKind, Result, Store, StoreFactory};

/// Open factories.
static FACTORIES: LazyLock<HandleRegistry<StoreFactory>> =
    LazyLock::new(|| HandleRegistry::new("store factory", 0x5F));

/// Open stores.
static STORES: LazyLock<HandleRegistry<Store>> =
    LazyLock::new(|| HandleRegistry::new("store", 0x5E));

// A Java `long` carries the registry's `u64` handle bit for bit (`as` in both directions); the
// tags keep handles positive and never 0.

/// Registers a factory, returning its new handle.
pub(crate) fn insert_factory(factory: StoreFactory) -> Result<jlong> {
    Ok(FACTORIES.insert(factory)? as jlong)
}

/// Runs `f` on the factory of `handle`.
pub(crate) fn with_factory<R>(handle: jlong, f: impl FnOnce(&StoreFactory) -> R) -> Result<R> {
    FACTORIES.with(handle as u64, f).map_err(closed)
}

/// Unregisters a factory handle, returning the factory.
pub(crate) fn remove_factory(handle: jlong) -> Result<StoreFactory> {
    FACTORIES.remove(handle as u64).map_err(closed)
}

/// The Java wrapper removes its handle when it closes, so a factory handle the registry does
/// not know belongs to a closed factory (or was never issued): `FactoryClosedException`.
fn closed(e: Error) -> Error {
    if e.kind() == ErrorKind::InvalidHandle {
        Error::new(ErrorKind::Closed, "the store factory is closed")
    } else {
        e
    }
}

/// Registers a store, returning its new handle.
pub(crate) fn insert_store(store: Store) -> Result<jlong> {
    Ok(STORES.insert(store)? as jlong)
}

/// Runs `f` on the store of `handle`; a release of that handle waits until `f` returns.
pub(crate) fn with_store<R>(handle: jlong, f: impl FnOnce(&Store) -> R) -> Result<R> {
    STORES.with(handle as u64, f)
}

/// Unregisters a store handle (after the calls running on it) and drops its store.
pub(crate) fn release_store(handle: jlong) -> Result<()> {
    STORES.remove(handle as u64).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_are_checked() {
        let factory = StoreFactory::open("memory://").unwrap();
        let f = insert_factory(factory.clone()).unwrap();
        let s = insert_store(factory.create_store("sid").unwrap()).unwrap();
        assert!(f > 0 && s > 0 && f != s);
        assert!(with_factory(f, |_| ()).is_ok());
        assert!(with_store(s, |_| ()).is_ok());
        assert_eq!(
            with_factory(s, |_| ()).unwrap_err().kind(),
            ErrorKind::Closed
        );
        assert_eq!(
            with_store(f, |_| ()).unwrap_err().kind(),
            ErrorKind::InvalidHandle
        );
        for forged in [0, 1, -1, jlong::MAX, jlong::MIN] {
            assert_eq!(
                with_store(forged, |_| ()).unwrap_err().kind(),
                ErrorKind::InvalidHandle
            );
            assert_eq!(
                remove_factory(forged).unwrap_err().kind(),
                ErrorKind::Closed
            );
        }
        release_store(s).unwrap();
        assert_eq!(
            release_store(s).unwrap_err().kind(),
            ErrorKind::InvalidHandle
        );
        assert_eq!(
            with_store(s, |_| ()).unwrap_err().kind(),
            ErrorKind::InvalidHandle
        );
        remove_factory(f).unwrap().close();
        assert_eq!(
            with_factory(f, |_| ()).unwrap_err().kind(),
            ErrorKind::Closed
        );
        assert_eq!(remove_factory(f).unwrap_err().kind(), ErrorKind::Closed);
    }
}
