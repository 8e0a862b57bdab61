//! `sessionstore::admin` on every Redis url of the harness: a listing sees every session of
//! its prefix and nothing else, on every master of a cluster, reports its progress, stops
//! early when asked; reading never creates a session. (The `sessionstore` tool's suite,
//! `cli/tests/cli.rs`, checks the numbers field by field through the binary.) Without the
//! harness only the `memory://` refusal runs.
#![cfg(feature = "redis")]

mod common;

use sessionstore::admin::Admin;
use sessionstore::{ErrorKind, StoreFactory};

#[test]
fn memory_has_nothing_to_administer() {
    let e = Admin::open("memory://").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config, "{e}");
}

#[test]
fn listing_progress_and_reads_on_every_redis_url() {
    for url in common::redis_urls() {
        let base = common::with(&url, "timeout_ms=15000");
        let factory = StoreFactory::open(&base).unwrap();
        let ids: Vec<String> = (0..40).map(|i| format!("adm-{i:02}")).collect();
        for id in &ids {
            factory
                .create_store(id)
                .unwrap()
                .set_bytes("k", b"v")
                .unwrap();
        }
        let admin = Admin::open(&base).unwrap();
        let masters = if url.contains("cluster") { 3 } else { 1 };

        let mut sessions = admin.sessions("*").unwrap();
        assert_eq!(sessions.progress().servers, masters, "{url}");
        let mut seen: Vec<String> = sessions
            .by_ref()
            .map(|s| s.unwrap().id.to_string())
            .collect();
        seen.sort();
        assert_eq!(seen, ids, "{url}");
        let done = sessions.progress();
        assert_eq!((done.sessions, done.servers_done), (40, masters), "{url}");
        assert!(sessions.next().is_none(), "{url}: fused");

        let first: Vec<_> = admin.sessions("adm-1?").unwrap().take(3).collect();
        assert_eq!(first.len(), 3, "{url}");
        assert!(first
            .iter()
            .all(|s| s.as_ref().unwrap().id.as_str().starts_with("adm-1")));

        let mut calls = 0;
        let stats = admin.stats(&mut |_| calls += 1).unwrap();
        assert_eq!(
            (stats.sessions, stats.keys, stats.bytes),
            (40, 40, 40 * 4),
            "{url}"
        );
        assert_eq!((stats.without_ttl, calls), (40, 40), "{url}");

        let data = admin.read("adm-00").unwrap().expect("adm-00");
        assert_eq!(
            data.entries,
            [("k".to_owned(), b"\xc4\x01v".to_vec())],
            "{url}"
        );
        assert_eq!(data.info.bytes, 4, "{url}");
        // Neither read creates the session it asks for.
        assert!(admin.read("adm-absent").unwrap().is_none(), "{url}");
        assert!(admin.session("adm-absent").unwrap().is_none(), "{url}");
        assert_eq!(admin.sessions("adm-absent").unwrap().count(), 0, "{url}");
        assert_eq!(
            admin.session("bad id").unwrap_err().kind(),
            ErrorKind::InvalidArg
        );

        for id in &ids {
            factory.destroy_session(id).unwrap();
        }
        assert_eq!(admin.sessions("*").unwrap().count(), 0, "{url}");
        // A listing the close overtakes ends in an error, never as a complete, empty one.
        let mut overtaken = admin.sessions("*").unwrap();
        admin.close();
        let last = overtaken.next().expect("an answer").unwrap_err();
        assert_eq!(last.kind(), ErrorKind::Closed, "{url}: {last}");
        assert!(overtaken.next().is_none(), "{url}");
        assert_eq!(admin.sessions("*").unwrap_err().kind(), ErrorKind::Closed);
        assert_eq!(admin.read("adm-00").unwrap_err().kind(), ErrorKind::Closed);
        factory.close();
    }
}
