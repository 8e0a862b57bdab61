//! Handle registries: a Java wrapper holds a `long` that is looked up here, so a stale,
//! released or forged handle answers an error (and so a Java exception) instead of touching
//! freed memory. A running call keeps its entry (a read lock or a clone of the `Arc`), so a
//! concurrent release never frees what it uses.

use std::cell::RefCell;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
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
    map: DashMap<i64, T, BuildHasherDefault<HandleHasher>>,
}

impl<T: Clone> Registry<T> {
    fn new(tag: i64, missing: fn() -> Error) -> Self {
        Registry {
            tag: tag << ID_BITS,
            missing,
            // Many shards: each call read-locks one, and threads working on different stores
            // should rarely share one.
            map: DashMap::with_capacity_and_hasher_and_shard_amount(0, Default::default(), 64),
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

/// Handles are distinct counters, not attacker-chosen keys: one multiplication spreads them
/// over the shards and buckets (Fibonacci hashing), cheaper than a general-purpose hasher.
#[derive(Default)]
pub(crate) struct HandleHasher(u64);

impl Hasher for HandleHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8 | u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_i64(&mut self, n: i64) {
        self.0 = (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// An open store, and whether its backend is remote (asked once: it takes a few pointer hops).
#[derive(Clone)]
pub(crate) struct StoreEntry {
    store: Arc<Store>,
    remote: bool,
    /// Whether a thread may keep the store in its [`CACHE`]: a local store without a lease,
    /// for which a reference kept a little after release changes nothing but when a few
    /// bytes are freed (a lease would count it as an open handle).
    cacheable: bool,
}

impl StoreEntry {
    /// `leased`: the factory was opened with `ttl_ms`.
    pub(crate) fn new(store: Store, leased: bool) -> Self {
        let remote = store.is_remote();
        StoreEntry {
            remote,
            cacheable: !remote && !leased,
            store: Arc::new(store),
        }
    }

    pub(crate) fn store(&self) -> &Arc<Store> {
        &self.store
    }
}

/// Bumped (after the removal) by every release of a store handle: a thread whose [`CACHE`]
/// was filled under another count empties it before trusting it.
static RELEASES: AtomicU64 = AtomicU64::new(0);

/// How many stores a thread keeps at hand: a server thread works on a few sessions at once.
const CACHE_SLOTS: usize = 4;

/// The stores this thread used last, so that the hot calls find them without locking a
/// shard of the registry (two atomic read-modify-writes on a cache line other threads share,
/// the largest cost of a `get` after the JVM's own). Handles are never reused, and the cache
/// is emptied whenever any store handle was released since it was filled, so a released
/// handle is refused from every thread as soon as its release returned.
struct Cache {
    releases: u64,
    slots: [Option<(i64, Arc<Store>)>; CACHE_SLOTS],
    next: usize,
}

thread_local! {
    static CACHE: RefCell<Cache> = const {
        RefCell::new(Cache { releases: 0, slots: [None, None, None, None], next: 0 })
    };
}

impl Registry<StoreEntry> {
    /// Unregisters a store handle, making every thread's cached copy stale.
    pub(crate) fn release(&self, handle: i64) -> Result<(), Error> {
        self.remove(handle)?;
        RELEASES.fetch_add(1, Ordering::AcqRel);
        Ok(())
    }

    /// Runs `f` on the store of `handle`: from this thread's cache when it is there (no lock),
    /// else from the registry. On a local backend the registry's shard stays read-locked
    /// during `f` (it is short) instead of the `Arc` being cloned; a remote store is cloned
    /// out first, so a slow operation never holds the lock. `f` must not insert or remove
    /// handles.
    pub(crate) fn with<R>(&self, handle: i64, f: impl FnOnce(&Store) -> R) -> Result<R, Error> {
        let releases = RELEASES.load(Ordering::Acquire);
        let mut f = Some(f);
        // `f` runs inside the borrow: cloning the `Arc` out would cost the atomics this saves.
        let hit = CACHE.with(|cache| {
            let mut cache = cache.try_borrow_mut().ok()?;
            if cache.releases != releases {
                cache.slots = Default::default();
                cache.releases = releases;
            }
            let (_, store) = cache.slots.iter().flatten().find(|(h, _)| *h == handle)?;
            f.take().map(|f| f(store))
        });
        if let Some(result) = hit {
            return Ok(result);
        }
        let Some(f) = f else {
            unreachable!("`f` is taken only on a cache hit")
        };
        let entry = self.map.get(&handle).ok_or_else(self.missing)?;
        if entry.cacheable {
            CACHE.with(|cache| {
                if let Ok(mut cache) = cache.try_borrow_mut() {
                    if cache.releases == releases {
                        let at = cache.next;
                        cache.slots[at] = Some((handle, Arc::clone(&entry.store)));
                        cache.next = (at + 1) % CACHE_SLOTS;
                    }
                }
            });
        }
        if entry.remote {
            let store = Arc::clone(&entry.store);
            drop(entry);
            Ok(f(&store))
        } else {
            Ok(f(&entry.store))
        }
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
pub(crate) static STORES: LazyLock<Registry<StoreEntry>> = LazyLock::new(|| {
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
        let s = STORES.insert(StoreEntry::new(factory.create_store("sid").unwrap(), false));
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
