//! The Rust API of the core against the in-memory backend: every operation, the lifecycle of
//! API.md §5, leases, and concurrent use of one store.

use std::sync::Arc;
use std::thread;
use std::time::Duration;

use sessionstore::{value, ErrorKind, StoreFactory};

fn factory() -> StoreFactory {
    StoreFactory::open("memory://").unwrap()
}

fn int(n: i64) -> Vec<u8> {
    let mut out = Vec::new();
    rmp::encode::write_sint(&mut out, n).unwrap();
    out
}

#[test]
fn every_operation() {
    let f = factory();
    let s = f.create_store("sid-1").unwrap();
    assert_eq!(s.session_id().as_str(), "sid-1");
    assert_eq!(s.get("userId").unwrap(), None);
    assert!(!s.has("userId").unwrap());
    assert_eq!(s.len().unwrap(), 0);
    assert!(s.is_empty().unwrap());

    s.set("userId", &int(42)).unwrap();
    s.set_bytes("token", b"\x00\x01raw").unwrap();
    s.set("", &value::encode_str("empty key")).unwrap();
    assert_eq!(s.get("userId").unwrap(), Some(int(42)));
    assert_eq!(
        s.get_bytes("token").unwrap().as_deref(),
        Some(&b"\x00\x01raw"[..])
    );
    assert_eq!(s.get_bytes("userId").unwrap_err().kind(), ErrorKind::Type);
    assert!(s.has("token").unwrap());
    assert_eq!(s.len().unwrap(), 3);
    let mut keys = s.keys().unwrap();
    keys.sort();
    assert_eq!(keys, ["", "token", "userId"]);

    s.set("userId", &int(7)).unwrap(); // overwrite
    assert_eq!(s.get("userId").unwrap(), Some(int(7)));
    assert_eq!(s.len().unwrap(), 3);

    assert!(s.del("userId").unwrap());
    assert!(!s.del("userId").unwrap());
    assert_eq!(s.get("userId").unwrap(), None);

    let mut all = s.get_all().unwrap();
    all.sort();
    assert_eq!(
        all,
        vec![
            (String::new(), value::encode_str("empty key")),
            ("token".to_owned(), value::encode_bin(b"\x00\x01raw")),
        ]
    );
}

#[test]
fn bad_input_changes_nothing() {
    let f = StoreFactory::open("memory://?max_value_bytes=64").unwrap();
    let s = f.create_store("sid").unwrap();
    s.set("k", &int(1)).unwrap();
    let long_key = "k".repeat(1025);
    let cases = [
        (s.set(&long_key, &int(1)), ErrorKind::InvalidArg),
        (s.set("k", &[0xc0]), ErrorKind::InvalidArg),
        (s.set("k", &[0xa5, b'a']), ErrorKind::InvalidArg),
        (
            s.set("k", &value::encode_bin(&[0; 63])),
            ErrorKind::TooLarge,
        ),
        (s.set_bytes("k", &[0; 63]), ErrorKind::TooLarge),
        (
            s.set_many(&[("a", &int(1)), ("b", &[0xc0])]),
            ErrorKind::InvalidArg,
        ),
    ];
    for (result, kind) in cases {
        assert_eq!(result.unwrap_err().kind(), kind);
    }
    assert_eq!(s.keys().unwrap(), ["k"]);
    assert_eq!(s.get("k").unwrap(), Some(int(1)));
    for sid in ["", "a b", "ü", &"x".repeat(129)] {
        assert_eq!(
            f.create_store(sid).unwrap_err().kind(),
            ErrorKind::InvalidArg
        );
        assert_eq!(
            f.destroy_session(sid).unwrap_err().kind(),
            ErrorKind::InvalidArg
        );
    }
}

#[test]
fn set_many_is_all_or_nothing() {
    let f = factory();
    let s = f.create_store("sid").unwrap();
    let mut good = Vec::new();
    rmp::encode::write_map_len(&mut good, 2).unwrap();
    rmp::encode::write_str(&mut good, "a").unwrap();
    good.extend(int(1));
    rmp::encode::write_str(&mut good, "b").unwrap();
    good.extend(value::encode_str("two"));
    s.set_many_encoded(&good).unwrap();
    assert_eq!(s.len().unwrap(), 2);

    let mut bad = Vec::new();
    rmp::encode::write_map_len(&mut bad, 2).unwrap();
    rmp::encode::write_str(&mut bad, "c").unwrap();
    bad.extend(int(3));
    rmp::encode::write_str(&mut bad, "d").unwrap();
    bad.push(0xc0); // nil value: invalid
    assert_eq!(
        s.set_many_encoded(&bad).unwrap_err().kind(),
        ErrorKind::InvalidArg
    );
    assert!(!s.has("c").unwrap());
    assert_eq!(s.get_all_encoded().unwrap().len(), {
        let all = s.get_all().unwrap();
        value::encode_map(all.iter().map(|(k, v)| (k.as_str(), v.as_slice()))).len()
    });
}

#[test]
fn handles_of_one_session_share_data_and_sessions_are_isolated() {
    let f = factory();
    let a = f.create_store("alice").unwrap();
    let a2 = f.create_store("alice").unwrap();
    let b = f.create_store("bob").unwrap();
    a.set("k", &int(1)).unwrap();
    assert_eq!(a2.get("k").unwrap(), Some(int(1)));
    assert_eq!(b.get("k").unwrap(), None);
    drop(a);
    // Releasing a handle keeps the data.
    assert_eq!(
        f.create_store("alice").unwrap().get("k").unwrap(),
        Some(int(1))
    );
}

#[test]
fn destroy_invalidates_every_handle_and_a_new_session_starts_empty() {
    let f = factory();
    let a = f.create_store("sid").unwrap();
    let b = f.create_store("sid").unwrap();
    a.set("k", &int(1)).unwrap();
    a.destroy().unwrap();
    assert!(a.is_destroyed());
    for store in [&a, &b] {
        assert_eq!(store.get("k").unwrap_err().kind(), ErrorKind::Destroyed);
        assert_eq!(
            store.set("k", &int(2)).unwrap_err().kind(),
            ErrorKind::Destroyed
        );
        assert_eq!(store.has("k").unwrap_err().kind(), ErrorKind::Destroyed);
        assert_eq!(store.del("k").unwrap_err().kind(), ErrorKind::Destroyed);
        assert_eq!(store.len().unwrap_err().kind(), ErrorKind::Destroyed);
        assert_eq!(store.keys().unwrap_err().kind(), ErrorKind::Destroyed);
        assert_eq!(store.get_all().unwrap_err().kind(), ErrorKind::Destroyed);
        assert_eq!(
            store.set_many(&[("x", &int(1))]).unwrap_err().kind(),
            ErrorKind::Destroyed
        );
        store.destroy().unwrap(); // idempotent
    }
    assert!(b.is_destroyed());
    let fresh = f.create_store("sid").unwrap();
    assert_eq!(fresh.len().unwrap(), 0);
    fresh.set("k", &int(3)).unwrap();
    // The old handles never see (or resurrect into) the new session.
    assert_eq!(
        b.set("k", &int(4)).unwrap_err().kind(),
        ErrorKind::Destroyed
    );
    assert_eq!(fresh.get("k").unwrap(), Some(int(3)));

    f.destroy_session("sid").unwrap();
    assert_eq!(fresh.get("k").unwrap_err().kind(), ErrorKind::Destroyed);
    f.destroy_session("never-existed").unwrap();
}

#[test]
fn close_answers_closed_and_drops_data() {
    let f = factory();
    let s = f.create_store("sid").unwrap();
    s.set("k", &int(1)).unwrap();
    f.close();
    f.close(); // idempotent
    assert!(f.is_closed());
    assert_eq!(s.get("k").unwrap_err().kind(), ErrorKind::Closed);
    assert_eq!(s.destroy().unwrap_err().kind(), ErrorKind::Closed);
    assert_eq!(f.create_store("sid").unwrap_err().kind(), ErrorKind::Closed);
    assert_eq!(
        f.destroy_session("sid").unwrap_err().kind(),
        ErrorKind::Closed
    );
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

#[test]
fn ten_threads_on_one_store() {
    let f = factory();
    let store = Arc::new(f.create_store("shared").unwrap());
    let workers: Vec<_> = (0..10)
        .map(|t| {
            let store = store.clone();
            thread::spawn(move || {
                for i in 0..1000 {
                    let own = format!("t{t}-{}", i % 10);
                    store.set(&own, &int(i)).unwrap();
                    assert_eq!(store.get(&own).unwrap(), Some(int(i)));
                    store.set("common", &int(t)).unwrap();
                    assert!(store.has("common").unwrap());
                    if i % 3 == 0 {
                        assert!(store.del(&own).unwrap());
                    }
                    assert!(store.len().unwrap() >= 1);
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    // Slot s of a thread was last written at i = 990 + s and deleted when that i is a
    // multiple of 3 (s = 0, 3, 6, 9): six slots survive per thread, plus "common".
    assert_eq!(store.len().unwrap(), 10 * 6 + 1);
}

#[test]
fn concurrent_destroy_and_use_see_only_valid_answers() {
    let f = factory();
    let workers: Vec<_> = (0..4)
        .map(|t| {
            let f = f.clone();
            thread::spawn(move || {
                for i in 0..2000 {
                    let s = f.create_store("contended").unwrap();
                    match s.set("k", &int(i)) {
                        Ok(()) => {}
                        Err(e) => assert_eq!(e.kind(), ErrorKind::Destroyed),
                    }
                    if (i + t) % 7 == 0 {
                        s.destroy().unwrap();
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
}
