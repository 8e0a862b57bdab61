//! The lease refresher keeps up (docs/API.md §5): 100,000 sessions with an open handle, on a
//! lease of one second, all survive several leases, on one server (the harness's Sentinel
//! master, without the standalone server's AOF, so the disk is not what is timed) and on its
//! Cluster. (Skipped without the harness's Redis urls.)

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{redis_urls, sid, with};
use sessionstore::{ErrorKind, Store, StoreFactory};

const SESSIONS: usize = 100_000;
const THREADS: usize = 16;
const TTL_MS: u64 = 1000;

#[test]
fn a_hundred_thousand_open_sessions_stay_alive() {
    for url in redis_urls()
        .into_iter()
        .filter(|u| u.starts_with("redis+sentinel://") || u.starts_with("redis+cluster://"))
    {
        let f =
            StoreFactory::open(&with(&url, &format!("ttl_ms={TTL_MS}&timeout_ms=5000"))).unwrap();
        let stores = open_all(&f);
        // Several leases pass with nothing but the refresher touching the sessions.
        std::thread::sleep(Duration::from_millis(TTL_MS * 3));
        let lost = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for part in stores.chunks(SESSIONS / THREADS) {
                let lost = &lost;
                scope.spawn(move || {
                    for store in part {
                        match store.get("k") {
                            Ok(_) => {}
                            Err(e) if e.kind() == ErrorKind::Destroyed => {
                                lost.fetch_add(1, Ordering::Relaxed);
                            }
                            Err(e) => panic!("{e}"),
                        }
                    }
                });
            }
        });
        assert_eq!(
            lost.load(Ordering::Relaxed),
            0,
            "{url}: sessions with an open handle were reclaimed"
        );
        // Closed, the factory renews nothing: the sessions go within a lease.
        f.close();
    }
}

/// Opens [`SESSIONS`] stores from [`THREADS`] threads.
fn open_all(f: &StoreFactory) -> Vec<Store> {
    std::thread::scope(|scope| {
        let parts: Vec<_> = (0..THREADS)
            .map(|_| {
                scope.spawn(move || {
                    (0..SESSIONS / THREADS)
                        .map(|_| f.create_store(sid("lease")).unwrap())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        parts
            .into_iter()
            .flat_map(|part| part.join().unwrap())
            .collect()
    })
}
