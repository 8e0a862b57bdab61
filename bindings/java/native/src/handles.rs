//! The core's handle registries (see [`sessionstore::bridge`]) as Java sees them: a Java
//! wrapper holds a `long` that is the registry's `u64` handle bit for bit (the tags keep
//! handles positive and never 0). A stale, released, forged or wrong-kind handle answers an
//! error, so a Java exception, instead of touching freed memory; a closed factory's handle
//! answers `FactoryClosedException`, as in the C ABI.

use jni::sys::jlong;
use sessionstore::{bridge, Result, Store, StoreFactory};

/// Runs `f` on the factory of `handle`.
pub(crate) fn with_factory<R>(handle: jlong, f: impl FnOnce(&StoreFactory) -> R) -> Result<R> {
    bridge::with_factory(handle as u64, f)
}

/// Runs `f` on the store of `handle`; a release of that handle waits until `f` returns.
pub(crate) fn with_store<R>(handle: jlong, f: impl FnOnce(&Store) -> R) -> Result<R> {
    bridge::with_store(handle as u64, f)
}
