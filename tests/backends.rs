//! Every Store operation and the lifecycle of docs/API.md §5, against every backend the harness
//! exported in `SESSIONSTORE_TEST_URLS` (only `memory://` when it is unset).

mod common;

use std::collections::HashMap;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use common::{env, redis_urls, shared_urls, sid, urls, with};
use sessionstore::{value, ErrorKind, StoreFactory};

fn open(url: &str) -> StoreFactory {
    StoreFactory::open(url).unwrap_or_else(|e| panic!("open {url}: {e}"))
}

fn s(text: &str) -> Vec<u8> {
    value::encode_str(text)
}

fn int(n: i64) -> Vec<u8> {
    let mut out = Vec::new();
    rmp::encode::write_sint(&mut out, n).unwrap();
    out
}

#[test]
fn every_store_operation() {
    for url in urls() {
        let f = open(&with(&url, ""));
        let id = sid("ops");
        let st = f.create_store(&id).unwrap();
        assert_eq!(st.session_id().as_str(), id);
        assert_eq!(f.is_remote(), !url.starts_with("memory"), "{url}");
        assert_eq!(st.len().unwrap(), 0, "{url}");
        assert!(st.is_empty().unwrap());
        assert_eq!(st.get("missing").unwrap(), None);
        assert!(!st.has("missing").unwrap());
        assert!(!st.del("missing").unwrap());
        assert!(st.keys().unwrap().is_empty());
        assert!(st.get_all().unwrap().is_empty());

        st.set("user", &s("ada")).unwrap();
        st.set_bytes("raw", b"\x00\xff bytes").unwrap();
        st.set("", &s("empty key")).unwrap();
        assert_eq!(st.get("user").unwrap(), Some(s("ada")), "{url}");
        assert_eq!(
            st.get_bytes("raw").unwrap().as_deref(),
            Some(&b"\x00\xff bytes"[..])
        );
        assert_eq!(st.get_bytes("user").unwrap_err().kind(), ErrorKind::Type);
        assert!(st.has("user").unwrap());
        assert_eq!(
            st.len().unwrap(),
            3,
            "{url}: the generation field stays hidden"
        );
        let mut keys = st.keys().unwrap();
        keys.sort();
        assert_eq!(keys, vec!["", "raw", "user"], "{url}");
        let mut all = st.get_all().unwrap();
        all.sort();
        assert_eq!(all.len(), 3);
        assert_eq!(all[2], ("user".to_owned(), s("ada")));

        st.set("user", &s("grace")).unwrap(); // overwrite
        assert_eq!(st.get("user").unwrap(), Some(s("grace")));
        assert_eq!(st.len().unwrap(), 3, "{url}: an overwrite adds no key");
        st.set("n", &int(42)).unwrap();
        assert_eq!(st.get("n").unwrap(), Some(int(42)), "{url}");
        assert!(st.del("n").unwrap());
        assert!(st.del("user").unwrap());
        assert!(
            !st.del("user").unwrap(),
            "{url}: a second del finds nothing"
        );
        assert!(!st.has("user").unwrap());
        assert_eq!(st.get("user").unwrap(), None);
        assert_eq!(st.len().unwrap(), 2);
        let mut all = st.get_all().unwrap();
        all.sort();
        assert_eq!(
            all,
            vec![
                (String::new(), s("empty key")),
                ("raw".to_owned(), value::encode_bin(b"\x00\xff bytes")),
            ],
            "{url}"
        );

        let (a, b, u) = (s("1"), s("2"), s("ü ✓"));
        st.set_many(&[("a", &a), ("b", &b), ("ünï", &u)]).unwrap();
        assert_eq!(st.len().unwrap(), 5);
        assert_eq!(st.get("ünï").unwrap(), Some(u.clone()));
        st.set_many(&[]).unwrap();
        let many: Vec<(String, Vec<u8>)> = (0..1000)
            .map(|i| (format!("k{i}"), s(&i.to_string())))
            .collect();
        let refs: Vec<(&str, &[u8])> = many
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_slice()))
            .collect();
        st.set_many(&refs).unwrap();
        assert_eq!(st.len().unwrap(), 1005, "{url}");
        assert_eq!(st.get("k999").unwrap(), Some(s("999")));
        // All or nothing: an invalid document stores nothing.
        let bad: &[u8] = b"\xc1";
        let err = st.set_many(&[("x", &a), ("y", bad)]).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidArg);
        assert!(!st.has("x").unwrap());

        // A second handle attaches to the same data.
        let again = f.create_store(&id).unwrap();
        assert_eq!(again.get("a").unwrap(), Some(a.clone()));

        st.destroy().unwrap();
        assert!(st.is_destroyed());
        for e in [
            again.get("a").unwrap_err(),
            again.set("a", &a).unwrap_err(),
            again.len().unwrap_err(),
            again.keys().unwrap_err(),
            again.get_all().unwrap_err(),
            again.has("a").unwrap_err(),
            again.del("a").unwrap_err(),
            again.set_many(&[("a", &a)]).unwrap_err(),
            st.get("a").unwrap_err(),
        ] {
            assert_eq!(e.kind(), ErrorKind::Destroyed, "{url}: {e}");
        }
        assert!(again.is_destroyed());
        st.destroy().unwrap(); // destroying twice is a no-op
        again.destroy().unwrap();
        let fresh = f.create_store(&id).unwrap();
        assert_eq!(fresh.len().unwrap(), 0, "{url}: a new, empty session");
        fresh.set("k", &int(3)).unwrap();
        // The old handles never see (or resurrect into) the new session.
        assert_eq!(
            again.set("k", &int(4)).unwrap_err().kind(),
            ErrorKind::Destroyed,
            "{url}"
        );
        assert_eq!(fresh.get("k").unwrap(), Some(int(3)), "{url}");
        f.destroy_session(&id).unwrap();
        assert_eq!(
            fresh.get("k").unwrap_err().kind(),
            ErrorKind::Destroyed,
            "{url}"
        );
        f.destroy_session(sid("never-existed")).unwrap();
        f.close();
        assert_eq!(fresh.get("a").unwrap_err().kind(), ErrorKind::Closed);
    }
}

#[test]
fn bad_input_changes_nothing() {
    for url in urls() {
        let f = open(&with(&url, "max_value_bytes=64"));
        let s = f.create_store(sid("bad")).unwrap();
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
            assert_eq!(result.unwrap_err().kind(), kind, "{url}");
        }
        assert_eq!(s.keys().unwrap(), ["k"], "{url}");
        assert_eq!(s.get("k").unwrap(), Some(int(1)));
        for bad in ["", "a b", "ü", &"x".repeat(129)] {
            assert_eq!(
                f.create_store(bad).unwrap_err().kind(),
                ErrorKind::InvalidArg,
                "{url}"
            );
            assert_eq!(
                f.destroy_session(bad).unwrap_err().kind(),
                ErrorKind::InvalidArg,
                "{url}"
            );
        }
        s.destroy().unwrap();
        f.close();
    }
}

/// `set_many_encoded` (a MessagePack map, as the C ABI and the JNI glue pass it): all or
/// nothing, and `get_all_encoded` is the map of `get_all`.
#[test]
fn encoded_set_many_is_all_or_nothing() {
    for url in urls() {
        let f = open(&with(&url, ""));
        let s = f.create_store(sid("many")).unwrap();
        let mut good = Vec::new();
        rmp::encode::write_map_len(&mut good, 2).unwrap();
        rmp::encode::write_str(&mut good, "a").unwrap();
        good.extend(int(1));
        rmp::encode::write_str(&mut good, "b").unwrap();
        good.extend(value::encode_str("two"));
        s.set_many_encoded(&good).unwrap();
        assert_eq!(s.len().unwrap(), 2, "{url}");

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
        assert!(!s.has("c").unwrap(), "{url}");
        let all = s.get_all().unwrap();
        let encoded = value::encode_map(all.iter().map(|(k, v)| (k.as_str(), v.as_slice())));
        assert_eq!(s.get_all_encoded().unwrap().len(), encoded.len(), "{url}");
        s.destroy().unwrap();
        f.close();
    }
}

#[test]
fn handles_of_one_session_share_data_and_sessions_are_isolated() {
    for url in urls() {
        let f = open(&with(&url, ""));
        let (alice, bob) = (sid("alice"), sid("bob"));
        let a = f.create_store(&alice).unwrap();
        let a2 = f.create_store(&alice).unwrap();
        let b = f.create_store(&bob).unwrap();
        a.set("k", &int(1)).unwrap();
        assert_eq!(a2.get("k").unwrap(), Some(int(1)), "{url}");
        assert_eq!(b.get("k").unwrap(), None, "{url}");
        drop(a);
        // Releasing a handle keeps the data.
        let again = f.create_store(&alice).unwrap();
        assert_eq!(again.get("k").unwrap(), Some(int(1)), "{url}");
        again.destroy().unwrap();
        b.destroy().unwrap();
        f.close();
    }
}

#[test]
fn close_answers_closed() {
    for url in urls() {
        let f = open(&with(&url, ""));
        let id = sid("close");
        let s = f.create_store(&id).unwrap();
        s.set("k", &int(1)).unwrap();
        s.destroy().unwrap();
        let s = f.create_store(&id).unwrap();
        f.close();
        f.close(); // idempotent
        assert!(f.is_closed());
        assert_eq!(s.get("k").unwrap_err().kind(), ErrorKind::Closed, "{url}");
        assert_eq!(s.destroy().unwrap_err().kind(), ErrorKind::Closed);
        assert_eq!(f.create_store(&id).unwrap_err().kind(), ErrorKind::Closed);
        assert_eq!(
            f.destroy_session(&id).unwrap_err().kind(),
            ErrorKind::Closed
        );
    }
}

/// Handles opened and destroyed concurrently on one id: every answer is a success or
/// `Destroyed`, never another error.
#[test]
fn concurrent_destroy_and_use_see_only_valid_answers() {
    for url in urls() {
        let f = open(&with(&url, ""));
        let id = sid("contended");
        std::thread::scope(|scope| {
            for t in 0..4 {
                let (f, id, url) = (&f, &id, &url);
                scope.spawn(move || {
                    for i in 0..2000 {
                        let s = f.create_store(id).unwrap();
                        match s.set("k", &int(i)) {
                            Ok(()) => {}
                            Err(e) => assert_eq!(e.kind(), ErrorKind::Destroyed, "{url}: {e}"),
                        }
                        if (i + t) % 7 == 0 {
                            s.destroy().unwrap();
                        }
                    }
                });
            }
        });
        f.destroy_session(&id).unwrap();
        f.close();
    }
}

#[test]
fn two_factories_are_two_nodes() {
    for url in shared_urls() {
        let url = with(&url, "");
        let (n1, n2) = (open(&url), open(&url));
        let id = sid("nodes");
        let h1 = n1.create_store(&id).unwrap();
        h1.set("room", &s("lobby")).unwrap();
        let h2 = n2.create_store(&id).unwrap();
        assert_eq!(h2.get("room").unwrap(), Some(s("lobby")), "{url}");

        // A write by node 1 after node 2 changed the session goes by what is stored, not by
        // what node 1 last saw: the value it wrote before is written again, and a key only
        // node 2 added is there to delete.
        h2.set_many(&[("room", &s("hall")), ("extra", &s("1"))])
            .unwrap();
        h1.set("room", &s("lobby")).unwrap();
        assert_eq!(h2.get("room").unwrap(), Some(s("lobby")), "{url}");
        assert!(h1.del("extra").unwrap(), "{url}: node 2's key was not seen");
        assert_eq!(h2.keys().unwrap(), vec!["room".to_owned()], "{url}");

        // destroy_session on node 2 invalidates node 1's handle; no late write resurrects it.
        n2.destroy_session(&id).unwrap();
        for e in [
            h1.set("late", &s("x")).unwrap_err(),
            h1.get("room").unwrap_err(),
        ] {
            assert_eq!(e.kind(), ErrorKind::Destroyed, "{url}: {e}");
        }
        assert_eq!(
            h2.set_many(&[("late", &s("y"))]).unwrap_err().kind(),
            ErrorKind::Destroyed
        );

        // A new session under the same id: old handles stay dead and cannot delete it.
        let h3 = n2.create_store(&id).unwrap();
        assert_eq!(h3.len().unwrap(), 0, "{url}");
        h3.set("new", &s("life")).unwrap();
        assert_eq!(h1.get("new").unwrap_err().kind(), ErrorKind::Destroyed);
        h1.destroy().unwrap();
        assert_eq!(
            h3.get("new").unwrap(),
            Some(s("life")),
            "{url}: stale destroy deleted it"
        );
        // A handle's destroy reaches the other node.
        let h4 = n1.create_store(&id).unwrap();
        h3.destroy().unwrap();
        assert_eq!(
            h4.has("new").unwrap_err().kind(),
            ErrorKind::Destroyed,
            "{url}"
        );
        n1.close();
        n2.close();
    }
}

/// A lease of two seconds: shorter ones leave too little room for a loaded machine's stalls
/// (a server blocked for a few hundred milliseconds, in fsync or descheduled, while this
/// binary's other tests run beside, reclaims a held session however promptly the refresher
/// renews it). tests/leases.rs holds the one-second lease to account at scale.
const TTL_MS: u64 = 2000;

#[test]
fn lease_keeps_live_sessions_and_reclaims_idle_ones() {
    // Every url at once: each waits several leases.
    std::thread::scope(|scope| {
        for url in urls() {
            scope.spawn(move || {
                let f = open(&with(&url, &format!("ttl_ms={TTL_MS}")));
                let kept = sid("kept");
                let idle = sid("idle");
                let held = f.create_store(&kept).unwrap();
                held.set("k", &s("v")).unwrap();
                let gone = f.create_store(&idle).unwrap();
                gone.set("k", &s("v")).unwrap();
                drop(gone);
                std::thread::sleep(Duration::from_millis(TTL_MS * 3));
                assert_eq!(
                    held.get("k").unwrap(),
                    Some(s("v")),
                    "{url}: a held session was reclaimed"
                );
                let back = f.create_store(&idle).unwrap();
                assert_eq!(
                    back.len().unwrap(),
                    0,
                    "{url}: an idle session outlived its lease"
                );
                f.close();
            });
        }
    });
}

#[test]
fn reclaimed_session_is_not_resurrected() {
    for url in shared_urls() {
        // Node A holds a handle without a lease of its own; node B's lease expires under it.
        let a = open(&with(&url, ""));
        let b = open(&with(&url, &format!("ttl_ms={TTL_MS}")));
        let id = sid("reclaim");
        let hb = b.create_store(&id).unwrap();
        hb.set("k", &s("v")).unwrap();
        let ha = a.create_store(&id).unwrap();
        b.close(); // node B "dies": nobody refreshes the lease
        drop(hb);
        // A's writes land while the lease runs; once it ran out, the next one is refused.
        let deadline = Instant::now() + Duration::from_millis(TTL_MS * 10);
        let e = loop {
            match ha.set("late", &s("write")) {
                Ok(()) => {
                    assert!(Instant::now() < deadline, "{url}: the lease never ran out");
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(e) => break e,
            }
        };
        assert_eq!(e.kind(), ErrorKind::Destroyed, "{url}: {e}");
        let fresh = a.create_store(&id).unwrap();
        assert_eq!(
            fresh.len().unwrap(),
            0,
            "{url}: the late write resurrected it"
        );
        fresh.destroy().unwrap();
        a.close();
    }
}

#[test]
fn values_over_max_value_bytes_are_refused() {
    for url in urls() {
        let f = open(&with(&url, "max_value_bytes=1024"));
        let st = f.create_store(sid("big")).unwrap();
        let big = value::encode_bin(&vec![7u8; 2000]);
        assert_eq!(st.set("big", &big).unwrap_err().kind(), ErrorKind::TooLarge);
        assert_eq!(
            st.set_bytes("big", &[7u8; 2000]).unwrap_err().kind(),
            ErrorKind::TooLarge
        );
        let ok = value::encode_bin(&[1u8; 100]);
        let e = st.set_many(&[("ok", &ok), ("big", &big)]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::TooLarge);
        assert_eq!(
            st.len().unwrap(),
            0,
            "{url}: set_many stored part of a refused batch"
        );
        let fits = value::encode_bin(&vec![1u8; 1000]);
        st.set("fits", &fits).unwrap();
        assert_eq!(st.get("fits").unwrap(), Some(fits));
        st.destroy().unwrap();
    }
}

/// 32 threads on one factory, with replies of every shape (a bulk string, an integer, an
/// array) pipelined on shared connections: each caller gets its own replies.
#[test]
fn many_threads_share_one_factory() {
    for url in urls() {
        let f = open(&with(&url, ""));
        std::thread::scope(|scope| {
            for t in 0..32 {
                let f = &f;
                scope.spawn(move || {
                    let st = f.create_store(sid(&format!("thr{t}"))).unwrap();
                    for i in 0..100 {
                        let v = s(&format!("{t}:{i}"));
                        st.set(&format!("k{}", i % 10), &v).unwrap();
                        assert_eq!(st.get(&format!("k{}", i % 10)).unwrap(), Some(v));
                        assert!(st.has(&format!("k{}", i % 10)).unwrap());
                        assert_eq!(st.keys().unwrap().len(), (i + 1).min(10));
                    }
                    assert_eq!(st.len().unwrap(), 10);
                    st.destroy().unwrap();
                });
            }
        });
        f.close();
    }
}

/// Ten threads on one store: their own keys, a common one, deletes; the count at the end is
/// exact.
#[test]
fn ten_threads_on_one_store() {
    for url in urls() {
        let f = open(&with(&url, ""));
        let store = f.create_store(sid("shared")).unwrap();
        let ops = if url.starts_with("memory") { 1000 } else { 100 };
        std::thread::scope(|scope| {
            for t in 0..10 {
                let store = &store;
                scope.spawn(move || {
                    for i in 0..ops {
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
                });
            }
        });
        // Slot s of a thread was last written at i = ops - 10 + s and deleted when that i is
        // a multiple of 3 (ops - 10 is 990 or 90, both multiples of 3: s = 0, 3, 6, 9): six
        // slots survive per thread, plus "common".
        assert_eq!(store.len().unwrap(), 10 * 6 + 1, "{url}");
        store.destroy().unwrap();
        f.close();
    }
}

/// Eight writers on two nodes sharing one session, each on keys of its own, setting and
/// deleting: at the end the session holds exactly what the writers' models say, and every
/// delete answered whether its key was there. Compare-and-set retries lose no acknowledged
/// write, whatever each handle last saw of the others'.
#[test]
fn concurrent_writers_on_two_nodes_lose_no_acknowledged_write() {
    for url in shared_urls() {
        let url = with(&url, "");
        let nodes = [open(&url), open(&url)];
        let id = sid("writers");
        let handles: Vec<_> = nodes.iter().map(|n| n.create_store(&id).unwrap()).collect();
        let models: Vec<HashMap<String, Vec<u8>>> = std::thread::scope(|scope| {
            let writers: Vec<_> = (0..8)
                .map(|t| {
                    let store = &handles[t % 2];
                    scope.spawn(move || {
                        let mut model = HashMap::new();
                        for i in 0..40 {
                            let key = format!("w{t}-{}", i % 5);
                            if i % 7 == 6 {
                                let existed = model.remove(&key).is_some();
                                assert_eq!(store.del(&key).unwrap(), existed, "del {key}");
                            } else {
                                store.set(&key, &int(i)).unwrap();
                                model.insert(key, int(i));
                            }
                        }
                        model
                    })
                })
                .collect();
            writers.into_iter().map(|w| w.join().unwrap()).collect()
        });
        let expected: HashMap<String, Vec<u8>> = models.into_iter().flatten().collect();
        for h in &handles {
            let stored: HashMap<String, Vec<u8>> = h.get_all().unwrap().into_iter().collect();
            assert_eq!(stored, expected, "{url}");
        }
        handles[0].destroy().unwrap();
        for n in &nodes {
            n.close();
        }
    }
}

#[test]
fn acl_user_with_right_and_wrong_password() {
    let Some(url) = env("SESSIONSTORE_TEST_ACL_URL") else {
        eprintln!("SESSIONSTORE_TEST_ACL_URL unset: skipped");
        return;
    };
    let f = open(&with(&url, ""));
    let st = f.create_store(sid("acl")).unwrap();
    st.set("k", &s("v")).unwrap();
    assert_eq!(st.get("k").unwrap(), Some(s("v")));
    st.destroy().unwrap();

    let wrong = url.replace("s3cret-pw", "Wr0ng-Pa55");
    assert_ne!(wrong, url);
    let e = StoreFactory::open(&with(&wrong, "timeout_ms=1000")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Backend, "{e}");
    let text = format!("{e} {e:?}");
    assert!(!text.contains("Wr0ng-Pa55"), "the password leaked: {text}");
    assert!(
        text.contains("127.0.0.1"),
        "the server is not named: {text}"
    );
    // A short password is redacted where it stands in the url, not wherever its letters
    // occur in the message.
    let short = url.replace("s3cret-pw", "e");
    let e = StoreFactory::open(&with(&short, "timeout_ms=1000")).unwrap_err();
    let text = e.to_string();
    assert!(text.contains("app:***@127.0.0.1"), "{text}");
    assert!(text.contains("authentication failed"), "{text}");
    assert!(text.contains("redis://"), "{text}");
}

/// Prefix `p` with id `x:victim` and prefix `p:x` with id `victim` name one key: the second
/// to come is refused, and neither can read, write or destroy the other's session.
#[test]
fn prefixes_never_share_a_session() {
    for url in shared_urls() {
        let base = common::prefix();
        let outer = open(&format!("{url}{}prefix={base}", sep(&url)));
        let inner = open(&format!("{url}{}prefix={base}:x", sep(&url)));
        let victim = outer.create_store("x:victim").unwrap();
        victim.set("secret", &s("outer's")).unwrap();
        let e = inner.create_store("victim").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArg, "{url}: {e}");
        assert!(e.message().contains("another prefix"), "{url}: {e}");
        inner.destroy_session("victim").unwrap();
        assert_eq!(
            victim.get("secret").unwrap(),
            Some(s("outer's")),
            "{url}: the other prefix destroyed it"
        );
        victim.destroy().unwrap();
        // Once it is gone, the key is free for whoever comes first.
        let mine = inner.create_store("victim").unwrap();
        mine.set("k", &s("inner's")).unwrap();
        assert_eq!(
            outer.create_store("x:victim").unwrap_err().kind(),
            ErrorKind::InvalidArg,
            "{url}"
        );
        outer.destroy_session("x:victim").unwrap();
        assert_eq!(mine.get("k").unwrap(), Some(s("inner's")), "{url}");
        mine.destroy().unwrap();
    }
}

fn sep(url: &str) -> char {
    if url.contains('?') {
        '&'
    } else {
        '?'
    }
}

/// Calls in flight when the factory closes answer `Closed`, whatever the backend saw go away
/// under them (a dropped connection, a freed session).
#[test]
fn calls_overtaken_by_close_answer_closed() {
    for url in urls() {
        let f = open(&with(&url, ""));
        let running = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for t in 0..8 {
                let (f, url, running) = (&f, &url, &running);
                scope.spawn(move || {
                    let st = f.create_store(sid(&format!("overtaken{t}"))).unwrap();
                    running.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let mut i = 0i64;
                    let e = loop {
                        if let Err(e) = st.set("k", &int(i)).and_then(|()| st.get("k").map(drop)) {
                            break e;
                        }
                        i += 1;
                    };
                    assert_eq!(e.kind(), ErrorKind::Closed, "{url}: {e}");
                });
            }
            let until = Instant::now() + Duration::from_secs(10);
            while running.load(std::sync::atomic::Ordering::SeqCst) < 8 && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(1));
            }
            std::thread::sleep(Duration::from_millis(20));
            f.close();
        });
    }
}

/// A server-side refusal is a Backend error that says what happened, without the password.
#[test]
fn refused_commands_are_backend_errors() {
    let (Some(full), Some(reader)) = (
        env("SESSIONSTORE_TEST_ACL_URL"),
        env("SESSIONSTORE_TEST_READER_URL"),
    ) else {
        eprintln!("SESSIONSTORE_TEST_READER_URL unset: skipped");
        return;
    };
    let id = sid("acl-ro");
    let writer = open(&with(&full, ""));
    let w = writer.create_store(&id).unwrap();
    w.set("k", &s("v")).unwrap();
    let f = open(&with(&reader, ""));
    let r = f.create_store(&id).unwrap();
    assert_eq!(r.get("k").unwrap(), Some(s("v")));
    assert_eq!(r.len().unwrap(), 1);
    for e in [r.set("k", &s("w")).unwrap_err(), r.destroy().unwrap_err()] {
        assert_eq!(e.kind(), ErrorKind::Backend, "{e}");
        let text = format!("{e} {e:?}");
        assert!(!text.contains("r3ader-pw"), "the password leaked: {text}");
        assert!(
            text.contains("reader:***@127.0.0.1"),
            "the server is not named: {text}"
        );
    }
    assert_eq!(w.get("k").unwrap(), Some(s("v")));
    w.destroy().unwrap();
}

/// A Rust host calling the blocking API from inside its own tokio runtime neither panics nor
/// deadlocks.
#[test]
fn blocking_calls_from_inside_a_tokio_runtime() {
    for url in urls() {
        let f = open(&with(&url, ""));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let st = f.create_store(sid("nested")).unwrap();
            st.set("k", &s("v")).unwrap();
            assert_eq!(st.get("k").unwrap(), Some(s("v")), "{url}");
            st.destroy().unwrap();
            // The last handles go inside async code too.
            drop(st);
            f.close();
            drop(f);
        });
    }
}

#[test]
fn tls_server() {
    let Some(url) = env("SESSIONSTORE_TEST_TLS_URL") else {
        eprintln!("SESSIONSTORE_TEST_TLS_URL unset: skipped");
        return;
    };
    let f = open(&with(&url, ""));
    let st = f.create_store(sid("tls")).unwrap();
    st.set("k", &s("over tls")).unwrap();
    assert_eq!(st.get("k").unwrap(), Some(s("over tls")));
    st.destroy().unwrap();
    // The same server as plain TCP: no answer a TLS server accepts.
    let plain = url.replacen("rediss://", "redis://", 1);
    let e = StoreFactory::open(&with(&plain, "timeout_ms=500")).unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::Backend | ErrorKind::Timeout),
        "{e}"
    );
}

#[test]
fn tls_cluster() {
    let Some(url) = env("SESSIONSTORE_TEST_TLS_CLUSTER_URL") else {
        eprintln!("SESSIONSTORE_TEST_TLS_CLUSTER_URL unset: skipped");
        return;
    };
    let f = open(&with(&url, ""));
    // Sessions over many slots, so every master is reached.
    for i in 0..20 {
        let st = f.create_store(sid(&format!("tlsc{i}"))).unwrap();
        st.set("k", &s("over tls")).unwrap();
        assert_eq!(st.get("k").unwrap(), Some(s("over tls")));
        st.destroy().unwrap();
    }
    f.close();
}

/// A sentinel that accepts but never answers, listed first, costs one share of timeout_ms:
/// the others still name the master.
#[test]
fn a_mute_sentinel_does_not_hide_the_others() {
    let Some(url) = urls()
        .into_iter()
        .find(|u| u.starts_with("redis+sentinel://"))
    else {
        eprintln!("no sentinel setup: skipped");
        return;
    };
    let mute = TcpListener::bind("127.0.0.1:0").unwrap();
    let mute_port = mute.local_addr().unwrap().port();
    let url = url.replacen(
        "redis+sentinel://",
        &format!("redis+sentinel://127.0.0.1:{mute_port},"),
        1,
    );
    let start = Instant::now();
    let f = open(&with(&url, "timeout_ms=1600"));
    assert!(start.elapsed() < Duration::from_millis(1600) + SCHEDULING_SLACK);
    let st = f.create_store(sid("mute")).unwrap();
    st.set("k", &s("v")).unwrap();
    assert_eq!(st.get("k").unwrap(), Some(s("v")));
    st.destroy().unwrap();
    f.close();
    drop(mute);
}

/// What a bounded call may take past its `timeout_ms` here: this binary's tests run side by
/// side on a small machine, so the thread may wake late. An unbounded wait (a TLS handshake
/// without a read timeout blocked until the server answered) still fails.
const SCHEDULING_SLACK: Duration = Duration::from_millis(1000);

/// Opening on a dead port or on a server that never answers ends within timeout_ms.
#[test]
fn unreachable_servers_end_within_timeout() {
    let dead = TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_port = dead.local_addr().unwrap().port();
    drop(dead);
    // Accepts connections (the kernel's backlog) but never answers a byte.
    let mute = TcpListener::bind("127.0.0.1:0").unwrap();
    let mute_port = mute.local_addr().unwrap().port();
    for url in [
        format!("redis://127.0.0.1:{dead_port}?timeout_ms=300"),
        format!("redis://127.0.0.1:{mute_port}?timeout_ms=300"),
        format!("redis+sentinel://127.0.0.1:{mute_port}/mymaster?timeout_ms=300"),
        format!("redis+cluster://127.0.0.1:{mute_port}?timeout_ms=300"),
        format!("redis+cluster://127.0.0.1:{dead_port}?timeout_ms=300"),
        // The TLS handshake reads too: it must end by the deadline as well.
        format!("rediss://127.0.0.1:{mute_port}?timeout_ms=300"),
        format!("rediss+sentinel://127.0.0.1:{mute_port}/mymaster?timeout_ms=300"),
        format!("rediss+cluster://127.0.0.1:{mute_port}?timeout_ms=300"),
    ] {
        let start = Instant::now();
        let e = StoreFactory::open(&url).unwrap_err();
        let took = start.elapsed();
        assert!(
            matches!(e.kind(), ErrorKind::Backend | ErrorKind::Timeout),
            "{url}: {e}"
        );
        assert!(
            took < Duration::from_millis(300) + SCHEDULING_SLACK,
            "{url}: took {took:?}"
        );
        assert!(e.message().contains("127.0.0.1"), "{url}: {e}");
    }
    drop(mute);
}

/// A server that forgot our scripts (SCRIPT FLUSH, a restart without persistence, a failover
/// to a replica that never saw them) gets them again: calls and leases go on.
#[test]
fn scripts_flushed_by_the_server_are_sent_again() {
    for url in redis_urls()
        .into_iter()
        .filter(|u| u.starts_with("redis://"))
    {
        let f = open(&with(&url, &format!("ttl_ms={TTL_MS}")));
        let st = f.create_store(sid("flushed")).unwrap();
        st.set("k", &s("v")).unwrap();
        let server = url.split('?').next().unwrap();
        let mut admin = redis::Client::open(server)
            .and_then(|c| c.get_connection())
            .unwrap_or_else(|e| panic!("{server}: {e}"));
        let mut flush = redis::cmd("SCRIPT");
        flush.arg("FLUSH");
        flush.query::<()>(&mut admin).unwrap();
        st.set("k", &s("w")).unwrap();
        assert_eq!(st.get("k").unwrap(), Some(s("w")), "{url}");
        // The held session outlives several leases after the flush.
        flush.query::<()>(&mut admin).unwrap();
        std::thread::sleep(Duration::from_millis(TTL_MS * 3));
        assert_eq!(
            st.len().unwrap(),
            1,
            "{url}: the held session was reclaimed"
        );
        st.destroy().unwrap();
        f.close();
    }
}

/// The factory's counters after a known sequence of calls and errors are exactly those calls
/// and errors; remote calls (only they) are timed; the open stores are counted.
#[test]
fn stats_count_every_call_and_error() {
    use sessionstore::stats::Op;
    for url in urls() {
        let f = open(&with(&url, ""));
        let id = sid("stats");
        let st = f.create_store(&id).unwrap();
        let other = f.create_store(sid("stats-other")).unwrap();
        drop(other);
        st.set("a", &int(1)).unwrap();
        st.set_bytes("b", b"raw").unwrap();
        assert_eq!(
            st.set(&"k".repeat(1025), &int(1)).unwrap_err().kind(),
            ErrorKind::InvalidArg
        );
        assert_eq!(st.get("a").unwrap(), Some(int(1)));
        assert_eq!(st.get("missing").unwrap(), None);
        assert_eq!(st.get_bytes("a").unwrap_err().kind(), ErrorKind::Type);
        assert!(st.has("a").unwrap());
        assert!(st.del("a").unwrap());
        assert_eq!(st.len().unwrap(), 1);
        assert_eq!(st.keys().unwrap().len(), 1);
        assert_eq!(st.get_all().unwrap().len(), 1);
        st.set_many(&[("c", &int(3))]).unwrap();
        st.destroy().unwrap();
        assert_eq!(st.get("c").unwrap_err().kind(), ErrorKind::Destroyed);
        f.destroy_session(&id).unwrap();
        assert_eq!(
            f.create_store("bad id").unwrap_err().kind(),
            ErrorKind::InvalidArg
        );

        let stats = f.stats().unwrap();
        let calls = |op: Op| stats.calls.iter().find(|(o, _)| *o == op).unwrap().1;
        let errors = |kind: ErrorKind| stats.errors.iter().find(|(k, _)| *k == kind).unwrap().1;
        let expected = [
            (Op::Open, 3),
            (Op::Get, 4), // get_bytes is a get
            (Op::Set, 3),
            (Op::Has, 1),
            (Op::Del, 1),
            (Op::Len, 1),
            (Op::Keys, 1),
            (Op::GetAll, 1),
            (Op::SetMany, 1),
            (Op::Destroy, 1),
            (Op::DestroySession, 1),
        ];
        for (op, n) in expected {
            assert_eq!(calls(op), n, "{url}: calls of {op:?}");
        }
        assert_eq!(errors(ErrorKind::InvalidArg), 2, "{url}");
        // The Type error of get_bytes comes after the get answered: the get succeeded.
        assert_eq!(errors(ErrorKind::Type), 0, "{url}");
        assert_eq!(errors(ErrorKind::Destroyed), 1, "{url}");
        assert_eq!(
            errors(ErrorKind::Timeout) + errors(ErrorKind::Backend),
            0,
            "{url}"
        );
        let total: u64 = expected.iter().map(|(_, n)| n).sum();
        let timed = if f.is_remote() { total } else { 0 };
        assert_eq!(
            stats.latency.count, timed,
            "{url}: only remote calls are timed"
        );
        assert!(stats.latency.p50_us <= stats.latency.p99_us);
        assert!(stats.latency.p99_us <= stats.latency.max_us);
        assert_eq!(stats.open_stores, 1, "{url}: one store still open");
        drop(st);
        assert_eq!(f.stats().unwrap().open_stores, 0, "{url}");
        f.close();
        assert_eq!(f.stats().unwrap_err().kind(), ErrorKind::Closed);
    }
}

/// With a lease, the refresher's rounds and renewals are counted.
#[test]
fn stats_count_lease_rounds() {
    for url in shared_urls() {
        let f = open(&with(&url, "ttl_ms=300"));
        let st = f.create_store(sid("lease-stats")).unwrap();
        let until = Instant::now() + Duration::from_secs(10);
        while f.stats().unwrap().lease.renewals < 2 && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(20));
        }
        let lease = f.stats().unwrap().lease;
        assert!(lease.rounds >= 2 && lease.renewals >= 2, "{url}: {lease:?}");
        st.destroy().unwrap();
        f.close();
    }
}

/// `replace_all` leaves exactly its entries, in one step; an invalid entry changes nothing.
#[test]
fn replace_all_leaves_exactly_its_entries() {
    for url in urls() {
        let f = open(&with(&url, ""));
        let st = f.create_store(sid("replace")).unwrap();
        st.set_many(&[("a", &int(1)), ("b", &int(2)), ("c", &int(3))])
            .unwrap();
        st.replace_all(&[("b", &int(20)), ("d", &int(4))]).unwrap();
        let mut all = st.get_all().unwrap();
        all.sort();
        assert_eq!(
            all,
            vec![("b".to_owned(), int(20)), ("d".to_owned(), int(4))],
            "{url}"
        );
        let bad: &[u8] = b"\xc1";
        assert_eq!(
            st.replace_all(&[("x", &int(1)), ("y", bad)])
                .unwrap_err()
                .kind(),
            ErrorKind::InvalidArg
        );
        assert_eq!(
            st.len().unwrap(),
            2,
            "{url}: a refused replace changed nothing"
        );
        st.replace_all(&[]).unwrap();
        assert_eq!(st.len().unwrap(), 0, "{url}");
        st.destroy().unwrap();
        assert_eq!(
            st.replace_all(&[("late", &int(1))]).unwrap_err().kind(),
            ErrorKind::Destroyed,
            "{url}: no late write resurrects the session"
        );
        f.close();
    }
}
