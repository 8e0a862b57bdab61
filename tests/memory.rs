//! What is specific to the in-memory backend: its lease counts from the release of a
//! session's last handle and is checked exactly when the id is opened again; without a lease,
//! a released session stays. (Everything backend-independent runs on every url in
//! `tests/backends.rs`.)

use std::thread;
use std::time::Duration;

use sessionstore::StoreFactory;

fn int(n: i64) -> Vec<u8> {
    let mut out = Vec::new();
    rmp::encode::write_sint(&mut out, n).unwrap();
    out
}

fn factory() -> StoreFactory {
    StoreFactory::open("memory://").unwrap()
}

#[test]
fn lease_reclaims_idle_sessions_and_keeps_held_ones() {
    let f = StoreFactory::open("memory://?ttl_ms=50").unwrap();
    let held = f.create_store("held").unwrap();
    held.set("k", &int(1)).unwrap();
    f.create_store("idle").unwrap().set("k", &int(1)).unwrap(); // released at once
    thread::sleep(Duration::from_millis(200));
    assert_eq!(
        held.get("k").unwrap(),
        Some(int(1)),
        "a held session is never reclaimed"
    );
    assert_eq!(
        f.create_store("idle").unwrap().len().unwrap(),
        0,
        "an idle one is"
    );
    // Releasing the last handle starts the lease; reattaching within it keeps the data
    // (a long lease here, so a slow machine cannot turn this into a reclaim).
    let f = StoreFactory::open("memory://?ttl_ms=600000").unwrap();
    f.create_store("sid").unwrap().set("k", &int(1)).unwrap();
    assert_eq!(
        f.create_store("sid").unwrap().get("k").unwrap(),
        Some(int(1))
    );
}

#[test]
fn without_a_lease_released_sessions_stay() {
    let f = factory();
    f.create_store("sid").unwrap().set("k", &int(1)).unwrap();
    thread::sleep(Duration::from_millis(50));
    assert_eq!(
        f.create_store("sid").unwrap().get("k").unwrap(),
        Some(int(1))
    );
}
