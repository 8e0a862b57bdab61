//! The near cache (docs/API.md §13) against the harness's real servers (standalone, Sentinel,
//! Cluster): two factories on one url stand for two nodes, `near` with the cache and `plain`
//! without. Another node's writes, destroys and lease expiries become visible; a factory reads
//! its own writes; FLUSHALL and CLIENT KILL never leave a stale read once noticed; 32 threads
//! checked against a model; the bound holds. Skipped without the harness's Redis urls.

mod common;

use std::collections::HashMap;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Duration, Instant};

use common::{redis_urls, sid, with};
use sessionstore::{value, ErrorKind, Store, StoreFactory};

/// FLUSHALL and CLIENT KILL reach every client of the harness's servers: the test that sends
/// them runs alone, the others of this file side by side.
static SERVERS: RwLock<()> = RwLock::new(());

fn shared() -> RwLockReadGuard<'static, ()> {
    SERVERS.read().unwrap_or_else(|p| p.into_inner())
}

fn alone() -> RwLockWriteGuard<'static, ()> {
    SERVERS.write().unwrap_or_else(|p| p.into_inner())
}

fn s(text: &str) -> Vec<u8> {
    value::encode_str(text)
}

fn int(n: i64) -> Vec<u8> {
    value::encode_int(n)
}

fn open(url: &str) -> StoreFactory {
    StoreFactory::open(url).unwrap_or_else(|e| panic!("open {url}: {e}"))
}

/// The two nodes: `near` caches, `plain` does not.
fn nodes(url: &str) -> (StoreFactory, StoreFactory) {
    (
        open(&with(url, "near_cache=10000&timeout_ms=5000")),
        open(&with(url, "timeout_ms=5000")),
    )
}

/// Polls `read` until `done` holds, for at most 10 s; the last value read.
fn until<T>(what: &str, mut read: impl FnMut() -> T, done: impl Fn(&T) -> bool) -> T {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let got = read();
        if done(&got) {
            return got;
        }
        assert!(Instant::now() < deadline, "{what}: never came");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// The servers' `host:port`s, from a url's authority.
fn servers(url: &str) -> Vec<String> {
    let hosts = url.split("://").nth(1).unwrap();
    let hosts = hosts.split(['/', '?']).next().unwrap();
    hosts.split(',').map(str::to_owned).collect()
}

/// Runs `args` on every data server of `url` (a sentinel url's master: asked of a sentinel).
fn on_every_server(url: &str, args: &[&str]) {
    let mut targets = servers(url);
    if url.starts_with("redis+sentinel://") {
        let master = url.split('/').nth(3).unwrap().split('?').next().unwrap();
        let client = redis::Client::open(format!("redis://{}", targets[0])).unwrap();
        let mut conn = client.get_connection().unwrap();
        let addr: Vec<String> = redis::cmd("SENTINEL")
            .arg("get-master-addr-by-name")
            .arg(master)
            .query(&mut conn)
            .unwrap();
        targets = vec![format!("{}:{}", addr[0], addr[1])];
    } else if url.starts_with("redis+cluster://") {
        // Masters only: replicas answer write commands READONLY (FLUSHALL replicates anyway).
        targets.retain(|t| {
            let client = redis::Client::open(format!("redis://{t}")).unwrap();
            let mut conn = client.get_connection().unwrap();
            let role: redis::Value = redis::cmd("ROLE").query(&mut conn).unwrap();
            matches!(role, redis::Value::Array(r) if r.first() == Some(&redis::Value::BulkString(b"master".to_vec())))
        });
    }
    for target in targets {
        let client = redis::Client::open(format!("redis://{target}")).unwrap();
        let mut conn = client.get_connection().unwrap();
        let mut cmd = redis::cmd(args[0]);
        for a in &args[1..] {
            cmd.arg(*a);
        }
        let _: redis::Value = cmd.query(&mut conn).unwrap();
    }
}

#[test]
fn another_nodes_writes_and_destroys_become_visible() {
    let _servers = shared();
    for url in redis_urls() {
        let (near, plain) = nodes(&url);
        let id = sid("near-visible");
        let mine = near.create_store(&id).unwrap();
        let theirs = plain.create_store(&id).unwrap();
        theirs.set("k", &s("v1")).unwrap();
        // A value and a missing key are both served from the cache (the first reads may miss:
        // the invalidation of the write can arrive after a fill and void it).
        let hits = || near.stats().unwrap().near_cache.hits;
        until(
            &format!("{url}: reads served from the cache"),
            || {
                let before = hits();
                assert_eq!(mine.get("k").unwrap(), Some(s("v1")), "{url}");
                let between = hits();
                assert_eq!(mine.get("missing").unwrap(), None, "{url}");
                (between > before, hits() > between)
            },
            |&(value, missing)| value && missing,
        );
        assert_eq!(near.stats().unwrap().near_cache.sessions, 1, "{url}");

        theirs.set("k", &s("v2")).unwrap();
        until(
            &format!("{url}: the other node's write"),
            || mine.get("k").unwrap(),
            |v| *v == Some(s("v2")),
        );
        theirs.set("missing", &s("now")).unwrap();
        until(
            &format!("{url}: a key the other node added"),
            || mine.get("missing").unwrap(),
            |v| *v == Some(s("now")),
        );
        plain.destroy_session(&id).unwrap();
        let e = until(
            &format!("{url}: the other node's destroy"),
            || mine.get("k"),
            |r| r.is_err(),
        );
        assert_eq!(e.unwrap_err().kind(), ErrorKind::Destroyed, "{url}");
        assert!(near.stats().unwrap().near_cache.invalidations >= 2, "{url}");
        near.close();
        plain.close();
    }
}

/// A factory reads its own writes at once, whatever it cached, through every write.
#[test]
fn a_factory_reads_its_own_writes() {
    let _servers = shared();
    for url in redis_urls() {
        let (near, _) = nodes(&url);
        let st = near.create_store(sid("near-own")).unwrap();
        for i in 0..200 {
            assert_eq!(
                st.get("k").unwrap(),
                if i == 0 { None } else { Some(int(i - 1)) }
            );
            st.set("k", &int(i)).unwrap();
            assert_eq!(st.get("k").unwrap(), Some(int(i)), "{url}: set");
        }
        st.set_many(&[("k", &int(-1)), ("j", &int(-2))]).unwrap();
        assert_eq!(st.get("k").unwrap(), Some(int(-1)), "{url}: set_many");
        st.replace_all(&[("j", &int(-3))]).unwrap();
        assert_eq!(st.get("k").unwrap(), None, "{url}: replace_all");
        assert!(st.del("j").unwrap());
        assert_eq!(st.get("j").unwrap(), None, "{url}: del");
        st.destroy().unwrap();
        assert_eq!(
            st.get("j").unwrap_err().kind(),
            ErrorKind::Destroyed,
            "{url}"
        );
        near.close();
    }
}

/// A lease that expires (the other node stopped renewing it) is seen as a destroy.
#[test]
fn a_lease_expiry_is_seen() {
    let _servers = shared();
    for url in redis_urls() {
        let near = open(&with(&url, "near_cache=100&timeout_ms=5000"));
        // A lease long enough that a loaded machine still renews it while both nodes read.
        let leased = open(&with(&url, "ttl_ms=1500&timeout_ms=5000"));
        let id = sid("near-lease");
        let theirs = leased.create_store(&id).unwrap();
        theirs.set("k", &s("v")).unwrap();
        let mine = near.create_store(&id).unwrap();
        assert_eq!(mine.get("k").unwrap(), Some(s("v")));
        assert_eq!(mine.get("k").unwrap(), Some(s("v")));
        drop(theirs);
        leased.close(); // no one renews the lease now
        let e = until(
            &format!("{url}: the expiry"),
            || mine.get("k"),
            |r| r.is_err(),
        );
        assert_eq!(e.unwrap_err().kind(), ErrorKind::Destroyed, "{url}");
        near.close();
    }
}

/// FLUSHALL (a `null` invalidation) forgets everything; so does a connection the server
/// killed: once the factory noticed, no read is stale.
#[test]
fn flushall_and_client_kill_leave_no_stale_read() {
    let _servers = alone();
    for url in redis_urls() {
        let (near, plain) = nodes(&url);
        let id = sid("near-kill");
        let mine = near.create_store(&id).unwrap();
        let theirs = plain.create_store(&id).unwrap();
        theirs.set("k", &s("before")).unwrap();
        assert_eq!(mine.get("k").unwrap(), Some(s("before")));
        // Kill every normal client (ours among them), then write through a new connection.
        on_every_server(&url, &["CLIENT", "KILL", "TYPE", "normal"]);
        // The kill broke the plain node's connection too: its first calls may answer so.
        let st = until(
            &format!("{url}: a store after the kill"),
            || plain.create_store(&id),
            |r| r.is_ok(),
        )
        .unwrap();
        until(
            &format!("{url}: a write after the kill"),
            || st.set("k", &s("after")),
            |r| r.is_ok(),
        )
        .unwrap();
        let mut seen_after = false;
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            match mine.get("k") {
                Ok(Some(v)) if v == s("after") => seen_after = true,
                Ok(Some(v)) if v == s("before") => {
                    assert!(!seen_after, "{url}: a stale read after the fresh one")
                }
                Ok(other) => panic!("{url}: {other:?}"),
                Err(e) => assert!(
                    matches!(e.kind(), ErrorKind::Backend | ErrorKind::Timeout),
                    "{url}: {e}"
                ),
            }
            if seen_after && near.stats().unwrap().near_cache.hits > 0 {
                break;
            }
        }
        assert!(seen_after, "{url}: the write after the kill was never seen");
        // FLUSHALL: the session is gone, for the cache too.
        assert_eq!(mine.get("k").unwrap(), Some(s("after")));
        on_every_server(&url, &["FLUSHALL"]);
        let e = until(
            &format!("{url}: FLUSHALL"),
            || mine.get("k"),
            |r| r.is_err(),
        );
        assert_eq!(e.unwrap_err().kind(), ErrorKind::Destroyed, "{url}");
        near.close();
        plain.close();
    }
}

/// 32 threads of the near node read and write shared sessions while the plain node writes.
/// Each thread owns one key in every session and writes it increasing values: its owner reads
/// back exactly its last write, and every thread reads every key, its own and the plain
/// node's, never backwards (a fill racing a write must never leave the older value cached).
#[test]
fn thirty_two_threads_against_a_model() {
    let _servers = shared();
    const SESSIONS: usize = 4;
    const THREADS: usize = 32;
    const ROUNDS: i64 = 300;
    for url in redis_urls() {
        let (near, plain) = nodes(&url);
        let ids: Vec<String> = (0..SESSIONS)
            .map(|i| sid(&format!("near-model{i}")))
            .collect();
        let near_stores: Vec<Store> = ids
            .iter()
            .map(|id| near.create_store(id).unwrap())
            .collect();
        let plain_stores: Vec<Store> = ids
            .iter()
            .map(|id| plain.create_store(id).unwrap())
            .collect();
        let read = |st: &Store, key: &str| {
            st.get(key)
                .unwrap()
                .map_or(0, |d| value::decode_int(&d).unwrap())
        };
        std::thread::scope(|scope| {
            // The plain node: one writer per session, its values increasing.
            for st in &plain_stores {
                scope.spawn(move || {
                    for n in 1..=ROUNDS {
                        st.set("theirs", &int(n)).unwrap();
                    }
                });
            }
            for t in 0..THREADS {
                let (stores, url) = (&near_stores, &url);
                scope.spawn(move || {
                    let mut mine = [0i64; SESSIONS];
                    let mut seen: HashMap<(usize, String), i64> = HashMap::new();
                    let mut never_backwards = |s: usize, key: String, got: i64| {
                        let last = seen.entry((s, key.clone())).or_insert(0);
                        assert!(
                            got >= *last,
                            "{url}: {key} of session {s} read {got} after {last}"
                        );
                        *last = got;
                    };
                    for i in 0..ROUNDS {
                        let s = (t + i as usize) % SESSIONS;
                        let own = format!("t{t}");
                        if i % 3 == 0 {
                            mine[s] += 1;
                            stores[s].set(&own, &int(mine[s])).unwrap();
                        }
                        assert_eq!(
                            read(&stores[s], &own),
                            mine[s],
                            "{url}: thread {t}, session {s}"
                        );
                        let other = format!("t{}", (t + 5 * i as usize + 1) % THREADS);
                        never_backwards(s, other.clone(), read(&stores[s], &other));
                        never_backwards(s, "theirs".into(), read(&stores[s], "theirs"));
                    }
                });
            }
        });
        for st in &plain_stores {
            assert_eq!(st.get("theirs").unwrap(), Some(int(ROUNDS)));
        }
        for (s, st) in near_stores.iter().enumerate() {
            until(
                &format!("{url}: the plain node's last write"),
                || st.get("theirs").unwrap(),
                |v| *v == Some(int(ROUNDS)),
            );
            // Every thread's last write, as the plain node reads it, is what the near node reads.
            for t in 0..THREADS {
                let key = format!("t{t}");
                assert_eq!(
                    st.get(&key).unwrap(),
                    plain_stores[s].get(&key).unwrap(),
                    "{url}"
                );
            }
            st.destroy().unwrap();
        }
        near.close();
        plain.close();
    }
}

/// The bound: 100,000 sessions read through a cache of 1,000 leave at most about 1,000 cached.
#[test]
fn the_bound_holds_with_a_hundred_thousand_sessions() {
    let _servers = shared();
    let Some(url) = redis_urls()
        .into_iter()
        .find(|u| u.starts_with("redis+sentinel://"))
    else {
        eprintln!("no Redis from the harness: skipped");
        return;
    };
    let near = open(&with(&url, "near_cache=1000&timeout_ms=5000"));
    let writer = open(&with(&url, "timeout_ms=5000"));
    let ids: Vec<String> = (0..100_000).map(|i| format!("bound{i}")).collect();
    std::thread::scope(|scope| {
        for part in ids.chunks(100_000 / 16) {
            let (near, writer) = (&near, &writer);
            scope.spawn(move || {
                for id in part {
                    writer.create_store(id).unwrap().set("k", &int(1)).unwrap();
                    let st = near.create_store(id).unwrap();
                    assert_eq!(st.get("k").unwrap(), Some(int(1)));
                }
            });
        }
    });
    let stats = near.stats().unwrap().near_cache;
    // Each of the 16 shards holds at most ceil(1000 / 16) sessions.
    assert!(stats.sessions <= 16 * 1000_u64.div_ceil(16), "{stats:?}");
    assert!(stats.sessions > 0 && stats.misses >= 100_000, "{stats:?}");
    for id in &ids {
        writer.destroy_session(id).unwrap();
    }
    near.close();
    writer.close();
}
