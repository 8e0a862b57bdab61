//! get / set / has on a memory store through the Rust API and through the C ABI, beside a
//! bare baseline doing the same work in the same run: a two-level
//! `DashMap<String, RwLock<HashMap<String, Vec<u8>>>>`. After the criterion groups, a
//! scaling run prints the throughput of 2 threads over 1 (each thread on its own session).
//!
//! Run: `make bench` (or `cargo bench --bench memory`).

// criterion_group! and criterion_main! generate undocumented public functions.
#![allow(missing_docs)]

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::{Arc, Barrier, RwLock};
use std::time::{Duration, Instant};

use criterion::{criterion_group, Criterion};
use dashmap::DashMap;
use sessionstore::ffi::{
    ss_bytes, ss_bytes_free, ss_factory, ss_factory_open, ss_status, ss_store, ss_store_get,
    ss_store_has, ss_store_open, ss_store_set,
};
use sessionstore::StoreFactory;

const SID: &str = "6f1c9a2e-0b1d-4c5e-9f00-123456789abc";
const KEY: &str = "userId";
const VALUE: &[u8; 16] = b"0123456789abcdef";

/// The bare baseline: what a hand-written store with no validation, no handles and no
/// lifecycle would do.
struct Baseline(DashMap<String, RwLock<HashMap<String, Vec<u8>>>>);

impl Baseline {
    fn new(sid: &str) -> Self {
        let map = DashMap::new();
        map.insert(sid.to_owned(), RwLock::new(HashMap::new()));
        Baseline(map)
    }
    fn get(&self, sid: &str, key: &str) -> Option<Vec<u8>> {
        self.0.get(sid)?.read().unwrap().get(key).cloned()
    }
    fn set(&self, sid: &str, key: &str, value: &[u8]) {
        let session = self.0.get(sid).unwrap();
        session
            .write()
            .unwrap()
            .insert(key.to_owned(), value.to_vec());
    }
    fn has(&self, sid: &str, key: &str) -> bool {
        self.0
            .get(sid)
            .is_some_and(|s| s.read().unwrap().contains_key(key))
    }
}

fn c_store(sid: &str) -> ss_store {
    let url = "memory://";
    let mut factory: ss_factory = 0;
    assert_eq!(
        ss_factory_open(url.as_ptr().cast(), url.len(), &mut factory),
        ss_status::SS_OK
    );
    let mut store: ss_store = 0;
    assert_eq!(
        ss_store_open(factory, sid.as_ptr().cast(), sid.len(), &mut store),
        ss_status::SS_OK
    );
    store
}

fn c_get(store: ss_store) -> usize {
    let mut out = ss_bytes {
        data: std::ptr::null_mut(),
        len: 0,
    };
    let status = ss_store_get(store, KEY.as_ptr().cast(), KEY.len(), &mut out);
    debug_assert_eq!(status, ss_status::SS_OK);
    let len = out.len;
    ss_bytes_free(&mut out);
    len
}

fn c_set(store: ss_store) {
    ss_store_set(
        store,
        KEY.as_ptr().cast(),
        KEY.len(),
        VALUE.as_ptr(),
        VALUE.len(),
    );
}

fn c_has(store: ss_store) -> bool {
    let mut out = false;
    ss_store_has(store, KEY.as_ptr().cast(), KEY.len(), &mut out);
    out
}

fn operations(c: &mut Criterion) {
    let baseline = Baseline::new(SID);
    baseline.set(SID, KEY, VALUE);
    let factory = StoreFactory::open("memory://").unwrap();
    let store = factory.create_store(SID).unwrap();
    store.set_bytes(KEY, VALUE).unwrap();
    let cstore = c_store(SID);
    c_set(cstore);

    let mut group = c.benchmark_group("get_16B");
    group.bench_function("baseline", |b| {
        b.iter(|| black_box(baseline.get(black_box(SID), black_box(KEY))))
    });
    group.bench_function("rust_api", |b| {
        b.iter(|| black_box(store.get_bytes(black_box(KEY)).unwrap()))
    });
    group.bench_function("c_abi", |b| b.iter(|| black_box(c_get(black_box(cstore)))));
    group.finish();

    let mut group = c.benchmark_group("set_16B");
    group.bench_function("baseline", |b| {
        b.iter(|| baseline.set(black_box(SID), black_box(KEY), black_box(VALUE)))
    });
    group.bench_function("rust_api", |b| {
        b.iter(|| store.set_bytes(black_box(KEY), black_box(VALUE)).unwrap())
    });
    group.bench_function("c_abi", |b| b.iter(|| c_set(black_box(cstore))));
    group.finish();

    let mut group = c.benchmark_group("has");
    group.bench_function("baseline", |b| {
        b.iter(|| black_box(baseline.has(black_box(SID), black_box(KEY))))
    });
    group.bench_function("rust_api", |b| {
        b.iter(|| black_box(store.has(black_box(KEY)).unwrap()))
    });
    group.bench_function("c_abi", |b| b.iter(|| black_box(c_has(black_box(cstore)))));
    group.finish();
}

/// Gets per second of `threads` threads, each on its own session through the C ABI.
fn c_get_throughput(threads: usize, ops_per_thread: u64) -> f64 {
    let stores: Vec<ss_store> = (0..threads)
        .map(|t| {
            let store = c_store(&format!("scaling-{t}"));
            c_set(store);
            store
        })
        .collect();
    let start = Arc::new(Barrier::new(threads + 1));
    let workers: Vec<_> = stores
        .into_iter()
        .map(|store| {
            let start = start.clone();
            std::thread::spawn(move || {
                start.wait();
                for _ in 0..ops_per_thread {
                    black_box(c_get(black_box(store)));
                }
            })
        })
        .collect();
    let began = Instant::now();
    start.wait();
    for w in workers {
        w.join().unwrap();
    }
    (threads as u64 * ops_per_thread) as f64 / began.elapsed().as_secs_f64()
}

fn scaling() {
    const OPS: u64 = 2_000_000;
    // Best of five, alternating, so a passing load on the machine hurts both sides alike.
    let (mut one, mut two) = (0f64, 0f64);
    for _ in 0..5 {
        one = one.max(c_get_throughput(1, OPS));
        two = two.max(c_get_throughput(2, OPS));
    }
    println!(
        "scaling/c_abi_get: 1 thread {:.2} Mops/s, 2 threads {:.2} Mops/s, ratio {:.2}x",
        one / 1e6,
        two / 1e6,
        two / one
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = operations
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    scaling();
}
