//! Every Store operation and the lifecycle of API.md §5, against every backend the harness
//! exported in `SESSIONSTORE_TEST_URLS` (only `memory://` when it is unset).

mod common;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use common::{env, redis_urls, sid, split_urls, urls, with};
use sessionstore::{value, ErrorKind, StoreFactory};

fn open(url: &str) -> StoreFactory {
    StoreFactory::open(url).unwrap_or_else(|e| panic!("open {url}: {e}"))
}

fn s(text: &str) -> Vec<u8> {
    value::encode_str(text)
}

#[test]
fn url_lists_keep_sentinel_and_cluster_urls_whole() {
    assert_eq!(
        split_urls("memory://,redis://h:1,redis+sentinel://a:1,b:2/m,redis+cluster://c:1,d:2"),
        vec![
            "memory://",
            "redis://h:1",
            "redis+sentinel://a:1,b:2/m",
            "redis+cluster://c:1,d:2"
        ]
    );
    assert_eq!(
        split_urls(" memory://  redis://h:1 "),
        vec!["memory://", "redis://h:1"]
    );
}

#[test]
fn every_store_operation() {
    for url in urls() {
        let f = open(&with(&url, ""));
        let id = sid("ops");
        let st = f.create_store(&id).unwrap();
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

        st.set("user", &s("grace")).unwrap();
        assert_eq!(st.get("user").unwrap(), Some(s("grace")));
        assert!(st.del("user").unwrap());
        assert!(!st.has("user").unwrap());
        assert_eq!(st.len().unwrap(), 2);

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
        let fresh = f.create_store(&id).unwrap();
        assert_eq!(fresh.len().unwrap(), 0, "{url}: a new, empty session");
        fresh.destroy().unwrap();
        f.close();
        assert_eq!(fresh.get("a").unwrap_err().kind(), ErrorKind::Closed);
    }
}

#[test]
fn two_factories_are_two_nodes() {
    for url in redis_urls() {
        let url = with(&url, "");
        let (n1, n2) = (open(&url), open(&url));
        let id = sid("nodes");
        let h1 = n1.create_store(&id).unwrap();
        h1.set("room", &s("lobby")).unwrap();
        let h2 = n2.create_store(&id).unwrap();
        assert_eq!(h2.get("room").unwrap(), Some(s("lobby")), "{url}");

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

#[test]
fn lease_keeps_live_sessions_and_reclaims_idle_ones() {
    let ttl = 300u64;
    for url in urls() {
        let f = open(&with(&url, &format!("ttl_ms={ttl}")));
        let kept = sid("kept");
        let idle = sid("idle");
        let held = f.create_store(&kept).unwrap();
        held.set("k", &s("v")).unwrap();
        let gone = f.create_store(&idle).unwrap();
        gone.set("k", &s("v")).unwrap();
        drop(gone);
        std::thread::sleep(Duration::from_millis(ttl * 4));
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
    }
}

#[test]
fn reclaimed_session_is_not_resurrected() {
    for url in redis_urls() {
        // Node A holds a handle without a lease of its own; node B's lease expires under it.
        let a = open(&with(&url, ""));
        let b = open(&with(&url, "ttl_ms=200"));
        let id = sid("reclaim");
        let hb = b.create_store(&id).unwrap();
        hb.set("k", &s("v")).unwrap();
        let ha = a.create_store(&id).unwrap();
        b.close(); // node B "dies": nobody refreshes the lease
        drop(hb);
        std::thread::sleep(Duration::from_millis(700));
        let e = ha.set("late", &s("write")).unwrap_err();
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
    assert!(start.elapsed() < Duration::from_millis(1600 + 250));
    let st = f.create_store(sid("mute")).unwrap();
    st.set("k", &s("v")).unwrap();
    assert_eq!(st.get("k").unwrap(), Some(s("v")));
    st.destroy().unwrap();
    f.close();
    drop(mute);
}

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
    ] {
        let start = Instant::now();
        let e = StoreFactory::open(&url).unwrap_err();
        let took = start.elapsed();
        assert!(
            matches!(e.kind(), ErrorKind::Backend | ErrorKind::Timeout),
            "{url}: {e}"
        );
        assert!(
            took < Duration::from_millis(300 + 250),
            "{url}: took {took:?}"
        );
        assert!(e.message().contains("127.0.0.1"), "{url}: {e}");
    }
    drop(mute);
}

/// A server that forgot our scripts (SCRIPT FLUSH, a restart without persistence, a failover
/// to a replica that never saw them) gets them again: calls and lease refreshes go on.
#[test]
fn scripts_flushed_by_the_server_are_sent_again() {
    let ttl = 300u64;
    for url in redis_urls()
        .into_iter()
        .filter(|u| u.starts_with("redis://"))
    {
        let f = open(&with(&url, &format!("ttl_ms={ttl}")));
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
        // The lease refresher's batches meet the same NOSCRIPT and send the scripts again:
        // the held session outlives several leases.
        flush.query::<()>(&mut admin).unwrap();
        std::thread::sleep(Duration::from_millis(ttl * 4));
        assert_eq!(
            st.len().unwrap(),
            1,
            "{url}: the held session was reclaimed"
        );
        st.destroy().unwrap();
        f.close();
    }
}
