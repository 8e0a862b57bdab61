//! What the host boundaries that cannot hold Rust values share: the C ABI (`src/ffi/`) and the
//! JNI glue (`bindings/java/native`). Each of them is one thin layer of exports over these
//! helpers, so both answer the same way:
//!
//! - [`catch`]: a panic becomes an [`ErrorKind::Internal`] error; it never unwinds into the host.
//! - The handle registries of factories and stores, and one rule for a closed factory:
//!   [`close_factory`] frees everything the factory holds, and its handle then answers
//!   [`ErrorKind::Closed`] (a store of it answers `Closed` too, until it is released).
//! - [`null`]: the error of a required argument the host passed as NULL.
//!
//! Each library that links the core (the C library, the JNI library) has registries of its own.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

use once_cell::sync::Lazy;

use crate::error::{Error, ErrorKind, Result};
use crate::handles::HandleRegistry;
use crate::{Store, StoreFactory};

/// Open factories. A closed one leaves the registry; its handle answers `Closed`.
static FACTORIES: Lazy<HandleRegistry<StoreFactory>> =
    Lazy::new(|| HandleRegistry::new("factory", 0x5F).gone_as(ErrorKind::Closed, CLOSED_MESSAGE));

/// Open stores. A released one leaves the registry; its handle answers `InvalidHandle`.
static STORES: Lazy<HandleRegistry<Store>> = Lazy::new(|| HandleRegistry::new("store", 0x5E));

const CLOSED_MESSAGE: &str = "the store factory is closed";

/// Runs `body`, turning a panic inside it into an `Internal` error.
pub fn catch<T>(body: impl FnOnce() -> Result<T>) -> Result<T> {
    // AssertUnwindSafe: the registries and the core keep no state that a panic half-updates
    // (every lock is taken poison-tolerant and updated in single steps).
    catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|payload| {
        let error = panic_error(&*payload);
        // A payload whose drop panics must not unwind into the host.
        std::mem::forget(payload);
        Err(error)
    })
}

/// The `Internal` error of a caught panic, with the panic's message.
pub fn panic_error(payload: &(dyn Any + Send)) -> Error {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned());
    Error::new(
        ErrorKind::Internal,
        format!("a bug in sessionstore (caught panic): {what}"),
    )
}

/// The error of a required argument `what` that the host passed as NULL.
pub fn null(what: &str) -> Error {
    Error::new(ErrorKind::NullArg, format!("{what} is null"))
}

/// Opens a factory on `url` and registers it: its new handle.
pub fn open_factory(url: &str) -> Result<u64> {
    FACTORIES.insert(StoreFactory::open(url)?)
}

/// Runs `f` on the factory of `handle`; a close of it waits until `f` returns.
pub fn with_factory<R>(handle: u64, f: impl FnOnce(&StoreFactory) -> R) -> Result<R> {
    FACTORIES.with(handle, f)
}

/// Closes the factory of `handle` and frees it; the handle then answers `Closed`, and a
/// second close is a success.
pub fn close_factory(handle: u64) -> Result<()> {
    match FACTORIES.remove(handle) {
        Ok(factory) => {
            factory.close();
            Ok(())
        }
        Err(e) if e.kind() == ErrorKind::Closed => Ok(()),
        Err(e) => Err(e),
    }
}

/// Opens a store on session `sid` through the factory of `factory`: its new handle.
pub fn open_store(factory: u64, sid: &[u8]) -> Result<u64> {
    let store = with_factory(factory, |f| f.create_store(sid))??;
    STORES.insert(store)
}

/// Runs `f` on the store of `handle`; a release of it waits until `f` returns.
pub fn with_store<R>(handle: u64, f: impl FnOnce(&Store) -> R) -> Result<R> {
    STORES.with(handle, f)
}

/// Releases the store of `handle` (its data stays); the handle then answers `InvalidHandle`.
pub fn release_store(handle: u64) -> Result<()> {
    STORES.remove(handle).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_internal_with_its_message() {
        let e = catch::<()>(|| panic!("boom")).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Internal);
        assert!(e.message().contains("boom"), "{e}");
        let e = catch::<()>(|| std::panic::panic_any(7_u8)).unwrap_err();
        assert!(e.message().contains("unknown panic"), "{e}");
        assert_eq!(catch(|| Ok(5)).unwrap(), 5);
    }

    /// One rule for a closed factory: its handle answers `Closed`, closing again is fine, its
    /// stores answer `Closed` until released, and a forged handle stays invalid.
    #[test]
    fn a_closed_factory_answers_closed() {
        let f = open_factory("memory://").unwrap();
        let s = open_store(f, b"sid").unwrap();
        with_store(s, |s| s.set_bytes("k", b"v")).unwrap().unwrap();
        close_factory(f).unwrap();
        close_factory(f).unwrap();
        let kind = |r: Result<()>| r.unwrap_err().kind();
        assert_eq!(kind(with_factory(f, |_| ())), ErrorKind::Closed);
        assert_eq!(kind(open_store(f, b"sid").map(drop)), ErrorKind::Closed);
        assert_eq!(
            with_store(s, |s| s.get("k")).unwrap().unwrap_err().kind(),
            ErrorKind::Closed
        );
        release_store(s).unwrap();
        assert_eq!(kind(release_store(s)), ErrorKind::InvalidHandle);
        for forged in [0, 1, s, u64::MAX] {
            assert_eq!(
                kind(close_factory(forged)),
                ErrorKind::InvalidHandle,
                "{forged:x}"
            );
        }
    }
}
