//! A factory's counters since it opened (docs/API.md §12): calls and errors by kind, the
//! latency of remote calls, open stores, lease renewals.
//!
//! Counting must not cost the hot path (a `memory://` get is tens of nanoseconds). Each thread
//! counts into a stripe of its own with a plain load and store, no locked instruction: the
//! first [`OWNED_STRIPES`] threads alive at once each own a stripe, and threads past them share
//! one stripe they count into atomically. A snapshot sums the stripes. Latencies are measured
//! only for remote calls, into a log-linear histogram of atomic buckets.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use crate::error::{ErrorKind, Result};

/// The operations counted, in the order of [`Op::ALL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Op {
    /// Opening a store (`create_store`, `ss_store_open`).
    Open,
    /// `get` (every typed and raw read).
    Get,
    /// `set` (every typed and raw write).
    Set,
    /// `has`.
    Has,
    /// `del`.
    Del,
    /// `len`.
    Len,
    /// `keys`.
    Keys,
    /// `get_all`.
    GetAll,
    /// `set_many`.
    SetMany,
    /// `replace_all`.
    ReplaceAll,
    /// `destroy` through a store.
    Destroy,
    /// `destroy_session` through the factory.
    DestroySession,
}

impl Op {
    /// Every operation.
    pub const ALL: [Op; 12] = [
        Op::Open,
        Op::Get,
        Op::Set,
        Op::Has,
        Op::Del,
        Op::Len,
        Op::Keys,
        Op::GetAll,
        Op::SetMany,
        Op::ReplaceAll,
        Op::Destroy,
        Op::DestroySession,
    ];

    /// The operation's name in the stats: `"get"`, `"set_many"`…
    pub fn name(self) -> &'static str {
        match self {
            Op::Open => "open",
            Op::Get => "get",
            Op::Set => "set",
            Op::Has => "has",
            Op::Del => "del",
            Op::Len => "len",
            Op::Keys => "keys",
            Op::GetAll => "get_all",
            Op::SetMany => "set_many",
            Op::ReplaceAll => "replace_all",
            Op::Destroy => "destroy",
            Op::DestroySession => "destroy_session",
        }
    }
}

const OPS: usize = Op::ALL.len();
const KINDS: usize = ErrorKind::ALL.len();

/// Threads that count without a locked instruction; the others share one more stripe.
pub const OWNED_STRIPES: usize = 32;

/// One thread's counts (or, for the last stripe, the shared ones), on cache lines of its own.
#[repr(align(64))]
#[derive(Default)]
struct Stripe {
    calls: [AtomicU64; OPS],
    errors: [AtomicU64; KINDS],
}

/// Which stripe this thread counts into: its own (below [`OWNED_STRIPES`]) or the shared one.
mod stripe_of_thread {
    use super::*;

    static FREE: Mutex<Vec<usize>> = Mutex::new(Vec::new());
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

    /// A thread's claim on a stripe index, given back when the thread ends.
    struct Claim(usize);

    impl Drop for Claim {
        fn drop(&mut self) {
            if self.0 < OWNED_STRIPES {
                FREE.lock().unwrap_or_else(|p| p.into_inner()).push(self.0);
            }
        }
    }

    thread_local! {
        static CLAIM: Claim = Claim(claim());
    }

    fn claim() -> usize {
        if let Some(i) = FREE.lock().unwrap_or_else(|p| p.into_inner()).pop() {
            return i;
        }
        NEXT.fetch_add(1, Ordering::Relaxed).min(OWNED_STRIPES)
    }

    /// This thread's stripe index; the shared stripe while the thread is exiting.
    pub(super) fn get() -> usize {
        CLAIM.try_with(|c| c.0).unwrap_or(OWNED_STRIPES)
    }
}

/// Adds one to `counter` of stripe `i`: without a locked instruction on an owned stripe (only
/// this thread writes it), atomically on the shared one.
#[inline]
fn bump(i: usize, counter: &AtomicU64) {
    if i < OWNED_STRIPES {
        counter.store(counter.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
    } else {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// Log-linear latency buckets: 8 per power of two, from 1 µs to about 2^42 µs (50 days; longer
/// calls count in the last bucket).
const SUB: usize = 8;
const GROUPS: usize = 40;

fn bucket(us: u64) -> usize {
    if us < SUB as u64 {
        return us as usize;
    }
    let group = 63 - us.leading_zeros() as usize; // >= 3
    let sub = ((us >> (group - 3)) & (SUB as u64 - 1)) as usize;
    ((group - 2) * SUB + sub).min(GROUPS * SUB - 1)
}

/// The largest latency in µs bucket `b` holds.
fn bucket_top(b: usize) -> u64 {
    if b < SUB {
        return b as u64;
    }
    let group = b / SUB + 2;
    let sub = (b % SUB) as u64;
    ((SUB as u64 + sub + 1) << (group - 3)) - 1
}

/// The counters of one factory.
pub(crate) struct Counters {
    stripes: Box<[Stripe]>,
    latency: Box<[AtomicU64]>,
    latency_count: AtomicU64,
    latency_max: AtomicU64,
    open_stores: AtomicI64,
}

impl Default for Counters {
    fn default() -> Self {
        Counters {
            stripes: (0..=OWNED_STRIPES).map(|_| Stripe::default()).collect(),
            latency: (0..GROUPS * SUB).map(|_| AtomicU64::new(0)).collect(),
            latency_count: AtomicU64::new(0),
            latency_max: AtomicU64::new(0),
            open_stores: AtomicI64::new(0),
        }
    }
}

impl Counters {
    /// Counts one call of `op` and, when it failed, its error's kind.
    #[inline]
    pub(crate) fn count<T>(&self, op: Op, result: &Result<T>) {
        let i = stripe_of_thread::get();
        let stripe = &self.stripes[i];
        bump(i, &stripe.calls[op as usize]);
        if let Err(e) = result {
            let kind = ErrorKind::ALL
                .iter()
                .position(|k| *k == e.kind())
                .unwrap_or(KINDS - 1);
            bump(i, &stripe.errors[kind]);
        }
    }

    /// Records how long a remote call took.
    pub(crate) fn time(&self, took: Duration) {
        let us = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        self.latency[bucket(us)].fetch_add(1, Ordering::Relaxed);
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        self.latency_max.fetch_max(us, Ordering::Relaxed);
    }

    /// A store opened (`+1`) or released (`-1`).
    pub(crate) fn stores(&self, delta: i64) {
        self.open_stores.fetch_add(delta, Ordering::Relaxed);
    }

    /// What the counters say now.
    pub(crate) fn snapshot(&self) -> Snapshot {
        let mut calls = [0u64; OPS];
        let mut errors = [0u64; KINDS];
        for stripe in self.stripes.iter() {
            for (sum, c) in calls.iter_mut().zip(&stripe.calls) {
                *sum += c.load(Ordering::Relaxed);
            }
            for (sum, c) in errors.iter_mut().zip(&stripe.errors) {
                *sum += c.load(Ordering::Relaxed);
            }
        }
        let buckets: Vec<u64> = self
            .latency
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .collect();
        let count: u64 = buckets.iter().sum();
        let percentile = |p: f64| {
            if count == 0 {
                return 0;
            }
            let rank = ((count as f64) * p).ceil().max(1.0) as u64;
            let mut seen = 0;
            for (b, n) in buckets.iter().enumerate() {
                seen += n;
                if seen >= rank {
                    return bucket_top(b);
                }
            }
            0
        };
        let max = self.latency_max.load(Ordering::Relaxed);
        Snapshot {
            calls: Op::ALL
                .iter()
                .map(|op| (*op, calls[*op as usize]))
                .collect(),
            errors: ErrorKind::ALL
                .iter()
                .enumerate()
                .map(|(i, kind)| (*kind, errors[i]))
                .collect(),
            latency: Latency {
                count,
                // A bucket's top may pass the largest value seen: never report past it.
                p50_us: percentile(0.50).min(max),
                p99_us: percentile(0.99).min(max),
                max_us: max,
            },
            open_stores: u64::try_from(self.open_stores.load(Ordering::Relaxed)).unwrap_or(0),
            lease: Lease::default(),
            near_cache: NearCacheStats::default(),
        }
    }
}

/// The latency of the remote calls since the factory opened (none on `memory://`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Latency {
    /// How many remote calls were timed.
    pub count: u64,
    /// The median, in µs (to the top of its bucket: within 12.5 %).
    pub p50_us: u64,
    /// The 99th percentile, in µs (within 12.5 %).
    pub p99_us: u64,
    /// The slowest call, in µs.
    pub max_us: u64,
}

/// The lease refresher's work since the factory opened (zeros without `ttl_ms`, or on
/// `memory://`, whose leases need no renewal).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Lease {
    /// Rounds run.
    pub rounds: u64,
    /// Session leases renewed.
    pub renewals: u64,
    /// Rounds that took longer than their period (the refresher falling behind).
    pub overruns: u64,
}

/// The near cache's work and size (docs/API.md §13; zeros without `near_cache`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct NearCacheStats {
    /// Reads answered from the cache.
    pub hits: u64,
    /// Reads that went to the server.
    pub misses: u64,
    /// Cached sessions forgotten because the server said they changed (or a connection was
    /// lost, or the data flushed).
    pub invalidations: u64,
    /// Sessions cached now.
    pub sessions: u64,
    /// Bytes cached now (keys and values, roughly).
    pub bytes: u64,
}

/// A factory's counters at one moment (see [`StoreFactory::stats`](crate::StoreFactory::stats)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Snapshot {
    /// Calls by operation, failed ones included, in the order of [`Op::ALL`].
    pub calls: Vec<(Op, u64)>,
    /// Failed calls by the kind of their error, in the order of [`ErrorKind::ALL`].
    pub errors: Vec<(ErrorKind, u64)>,
    /// The latency of remote calls.
    pub latency: Latency,
    /// Stores open now.
    pub open_stores: u64,
    /// The lease refresher's work.
    pub lease: Lease,
    /// The near cache's work.
    pub near_cache: NearCacheStats,
}

impl Default for Snapshot {
    /// Nothing counted yet: every operation and kind at zero.
    fn default() -> Self {
        Snapshot {
            calls: Op::ALL.iter().map(|op| (*op, 0)).collect(),
            errors: ErrorKind::ALL.iter().map(|kind| (*kind, 0)).collect(),
            latency: Latency::default(),
            open_stores: 0,
            lease: Lease::default(),
            near_cache: NearCacheStats::default(),
        }
    }
}

impl Snapshot {
    /// The snapshot as one MessagePack map, the form the C ABI, Python and Java hand out:
    /// `{"calls": {op: n}, "errors": {kind: n}, "latency_us": {"count", "p50", "p99", "max"},
    /// "open_stores": n, "lease": {"rounds", "renewals", "overruns"}, "near_cache": {"hits",
    /// "misses", "invalidations", "sessions", "bytes"}}`, kinds named as
    /// [`ErrorKind`]'s variants (`"Timeout"`).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let map = |out: &mut Vec<u8>, entries: &[(&str, u64)]| {
            let _ = rmp::encode::write_map_len(out, entries.len() as u32);
            for (name, n) in entries {
                let _ = rmp::encode::write_str(out, name);
                let _ = rmp::encode::write_uint(out, *n);
            }
        };
        let _ = rmp::encode::write_map_len(&mut out, 6);
        let _ = rmp::encode::write_str(&mut out, "calls");
        let calls: Vec<(&str, u64)> = self.calls.iter().map(|(op, n)| (op.name(), *n)).collect();
        map(&mut out, &calls);
        let _ = rmp::encode::write_str(&mut out, "errors");
        let names: Vec<String> = self.errors.iter().map(|(k, _)| format!("{k:?}")).collect();
        let errors: Vec<(&str, u64)> = names
            .iter()
            .zip(&self.errors)
            .map(|(name, (_, n))| (name.as_str(), *n))
            .collect();
        map(&mut out, &errors);
        let _ = rmp::encode::write_str(&mut out, "latency_us");
        let l = &self.latency;
        map(
            &mut out,
            &[
                ("count", l.count),
                ("p50", l.p50_us),
                ("p99", l.p99_us),
                ("max", l.max_us),
            ],
        );
        let _ = rmp::encode::write_str(&mut out, "open_stores");
        let _ = rmp::encode::write_uint(&mut out, self.open_stores);
        let _ = rmp::encode::write_str(&mut out, "lease");
        let lease = &self.lease;
        map(
            &mut out,
            &[
                ("rounds", lease.rounds),
                ("renewals", lease.renewals),
                ("overruns", lease.overruns),
            ],
        );
        let _ = rmp::encode::write_str(&mut out, "near_cache");
        let near = &self.near_cache;
        map(
            &mut out,
            &[
                ("hits", near.hits),
                ("misses", near.misses),
                ("invalidations", near.invalidations),
                ("sessions", near.sessions),
                ("bytes", near.bytes),
            ],
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    #[test]
    fn buckets_hold_their_values() {
        let last = GROUPS * SUB - 1;
        for us in (0..5000).chain([1 << 20, 123_456_789, bucket_top(last)]) {
            let b = bucket(us);
            assert!(
                bucket_top(b) >= us,
                "{us} in bucket {b} topped at {}",
                bucket_top(b)
            );
            if b > 0 {
                assert!(
                    bucket_top(b - 1) < us,
                    "{us}: bucket {b} is not the first to hold it"
                );
            }
        }
        // Past the last bucket (about 50 days), values clamp to it.
        assert_eq!(bucket(u64::MAX), last);
    }

    #[test]
    fn counts_are_exact_across_threads() {
        let c = Counters::default();
        std::thread::scope(|s| {
            for _ in 0..(OWNED_STRIPES + 8) {
                s.spawn(|| {
                    for _ in 0..1000 {
                        c.count(Op::Get, &Ok(()));
                        c.count::<()>(Op::Set, &Err(Error::new(ErrorKind::Timeout, "t")));
                    }
                });
            }
        });
        let snap = c.snapshot();
        let n = 1000 * (OWNED_STRIPES as u64 + 8);
        assert_eq!(snap.calls[Op::Get as usize], (Op::Get, n));
        assert_eq!(snap.calls[Op::Set as usize], (Op::Set, n));
        assert!(snap.errors.contains(&(ErrorKind::Timeout, n)));
    }

    #[test]
    fn percentiles_come_from_the_timed_calls() {
        let c = Counters::default();
        for us in 1..=100u64 {
            c.time(Duration::from_micros(us * 10));
        }
        let l = c.snapshot().latency;
        assert_eq!((l.count, l.max_us), (100, 1000));
        assert!((500..=565).contains(&l.p50_us), "{l:?}");
        assert!((990..=1000).contains(&l.p99_us), "{l:?}");
    }
}
