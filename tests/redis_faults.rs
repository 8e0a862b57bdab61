//! Fault tests against real servers (run by `make test-redis`): kill -9 and restart during
//! load, SIGSTOP/SIGCONT, and a cluster master failover. Skipped without the harness.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::{env, prefix, sid, urls, with};
use sessionstore::{value, ErrorKind, StoreFactory};

const TIMEOUT_MS: u64 = 500;

/// One fault at a time: the tests judge every call against [`BOUND`], which a neighbour's
/// load threads and frozen or restarting servers on the same two cores would blur.
static ONE_FAULT_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Holds [`ONE_FAULT_AT_A_TIME`] for the calling test (a failed test's poison is ignored).
fn alone() -> std::sync::MutexGuard<'static, ()> {
    ONE_FAULT_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
/// The contract: every call returns within timeout_ms + 250 ms.
const BOUND: Duration = Duration::from_millis(TIMEOUT_MS + 250);

/// A redis-server this test owns, in its own directory, stopped when dropped.
struct Server {
    bin: String,
    dir: PathBuf,
    port: u16,
    child: Option<Child>,
}

impl Server {
    fn start(bin: &str, tag: &str) -> Server {
        let port = {
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let dir = std::env::temp_dir().join(format!("sessionstore-fault-{tag}-{port}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut s = Server {
            bin: bin.to_owned(),
            dir,
            port,
            child: None,
        };
        s.spawn();
        s
    }

    fn spawn(&mut self) {
        let child = Command::new(&self.bin)
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args([
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
            ])
            .args(["--daemonize", "no", "--logfile", "log"])
            .current_dir(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server");
        self.child = Some(child);
        wait_pong(self.port, &self.dir);
    }

    fn pid(&self) -> String {
        self.child.as_ref().unwrap().id().to_string()
    }

    fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill(); // SIGKILL
            let _ = c.wait();
        }
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([sig, &self.pid()])
            .status()
            .unwrap();
        assert!(ok.success());
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}?timeout_ms={TIMEOUT_MS}", self.port)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.child.is_some() {
            let _ = Command::new("kill").args(["-CONT", &self.pid()]).status();
        }
        self.kill9();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn wait_pong(port: u16, dir: &Path) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(mut c) = TcpStream::connect(("127.0.0.1", port)) {
            let _ = c.set_read_timeout(Some(Duration::from_millis(500)));
            let mut buf = [0u8; 7];
            if c.write_all(b"PING\r\n").is_ok()
                && c.read_exact(&mut buf).is_ok()
                && &buf == b"+PONG\r\n"
            {
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("redis-server in {} did not answer", dir.display());
}

fn server_bin() -> Option<String> {
    let bin = env("SESSIONSTORE_TEST_REDIS_SERVER");
    if bin.is_none() {
        eprintln!(
            "SESSIONSTORE_TEST_REDIS_SERVER unset (run under tests/redis/harness.sh): skipped"
        );
    }
    bin
}

/// What the load threads saw: the slowest single call, and when calls last failed / first succeeded.
#[derive(Default)]
struct Seen {
    slowest: Duration,
    errors: usize,
    timeouts: usize,
    successes_after: Vec<Instant>,
}

/// `threads` threads doing set/get on their own session until `stop`; every acknowledged
/// write is returned per thread (session id, keys).
fn load(
    factory: &StoreFactory,
    threads: usize,
    stop: &AtomicBool,
    seen: &Mutex<Seen>,
    body: impl FnOnce(),
) -> Vec<(String, Vec<String>)> {
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                scope.spawn(move || {
                    let id = sid(&format!("load{t}"));
                    let store = loop {
                        match factory.create_store(&id) {
                            Ok(s) => break s,
                            Err(_) if !stop.load(Ordering::Relaxed) => {
                                std::thread::sleep(Duration::from_millis(10))
                            }
                            Err(e) => panic!("never attached: {e}"),
                        }
                    };
                    let mut acked = Vec::new();
                    // Bounded in count as well as in time.
                    for i in 0..200_000u64 {
                        if stop.load(Ordering::Relaxed) {
                            break;
                        }
                        let key = format!("k{i}");
                        let doc = value::encode_str(&format!("{t}:{i}"));
                        // Each call is timed alone: the bound is per call.
                        let start = Instant::now();
                        let set = store.set(&key, &doc);
                        let mut took = start.elapsed();
                        let r = match set {
                            Ok(()) => {
                                acked.push(key.clone());
                                let start = Instant::now();
                                let get = store.get(&key).map(|_| ());
                                took = took.max(start.elapsed());
                                get
                            }
                            Err(e) => Err(e),
                        };
                        let mut s = seen.lock().unwrap();
                        s.slowest = s.slowest.max(took);
                        match r {
                            Ok(()) => s.successes_after.push(Instant::now()),
                            Err(e) => {
                                assert!(
                                    matches!(e.kind(), ErrorKind::Timeout | ErrorKind::Backend),
                                    "{e}"
                                );
                                if e.kind() == ErrorKind::Timeout {
                                    s.timeouts += 1;
                                }
                                s.errors += 1;
                                drop(s);
                                assert!(took <= BOUND, "a failing call took {took:?}");
                                std::thread::sleep(Duration::from_millis(5));
                            }
                        }
                    }
                    (id, acked)
                })
            })
            .collect();
        body();
        stop.store(true, Ordering::Relaxed);
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    })
}

/// Every call within timeout_ms + 250 ms.
fn assert_bounded(seen: &Seen) {
    assert!(
        seen.slowest <= BOUND,
        "slowest call {:?} > timeout_ms + 250 ms",
        seen.slowest
    );
}

fn first_success_after(seen: &Seen, t: Instant) -> Option<Duration> {
    seen.successes_after
        .iter()
        .filter(|&&s| s > t)
        .min()
        .map(|&s| s - t)
}

#[test]
fn kill9_and_restart_under_load_loses_no_acknowledged_write() {
    let _alone = alone();
    let Some(bin) = server_bin() else { return };
    let mut server = Server::start(&bin, "kill9");
    let factory = StoreFactory::open(&server.url()).unwrap();
    let stop = AtomicBool::new(false);
    let seen = Mutex::new(Seen::default());
    let mut restarted = None;
    let acked = load(&factory, 8, &stop, &seen, || {
        std::thread::sleep(Duration::from_millis(1500));
        server.kill9();
        std::thread::sleep(Duration::from_millis(1000));
        server.spawn();
        restarted = Some(Instant::now());
        std::thread::sleep(Duration::from_millis(2500));
    });
    let seen = seen.into_inner().unwrap();
    let restarted = restarted.unwrap();
    assert!(seen.errors > 0, "the kill went unnoticed");
    assert_bounded(&seen);
    let back = first_success_after(&seen, restarted).expect("no call succeeded after the restart");
    assert!(
        back <= Duration::from_secs(2),
        "calls came back {back:?} after the restart"
    );

    // appendfsync always: every acknowledged write survived the kill.
    let mut total = 0;
    for (id, keys) in &acked {
        let store = factory.create_store(id).unwrap();
        for key in keys {
            assert!(store.has(key).unwrap(), "acknowledged {id}/{key} was lost");
        }
        total += keys.len();
        store.destroy().unwrap();
    }
    assert!(
        total > 100,
        "too little load to mean anything: {total} writes"
    );
    eprintln!(
        "kill -9: {total} acknowledged writes kept, {} errors, slowest call {:?}, back after {back:?}",
        seen.errors, seen.slowest
    );
    factory.close();
}

#[test]
fn sigstop_times_out_then_recovers() {
    let _alone = alone();
    let Some(bin) = server_bin() else { return };
    let server = Server::start(&bin, "stop");
    let factory = StoreFactory::open(&server.url()).unwrap();
    let stop = AtomicBool::new(false);
    let seen = Mutex::new(Seen::default());
    let mut resumed = None;
    load(&factory, 4, &stop, &seen, || {
        std::thread::sleep(Duration::from_millis(800));
        server.signal("-STOP");
        std::thread::sleep(Duration::from_millis(1500));
        server.signal("-CONT");
        resumed = Some(Instant::now());
        std::thread::sleep(Duration::from_millis(2000));
    });
    let seen = seen.into_inner().unwrap();
    assert!(seen.timeouts > 0, "a stopped server gave no timeout");
    assert_bounded(&seen);
    let back = first_success_after(&seen, resumed.unwrap()).expect("no recovery after SIGCONT");
    assert!(
        back <= Duration::from_secs(2),
        "calls came back {back:?} after SIGCONT"
    );
    factory.close();
}

/// Stops one master of the harness's cluster (SIGSTOP: it hangs, refusing nothing, as in a VM
/// pause or a partition that drops packets) and checks that calls on every slot resume once
/// its replica took over, while it still hangs, and that no session's lease ran out meanwhile.
/// The master is killed afterwards (it stays dead: this test runs last).
#[test]
fn cluster_master_failover() {
    let _alone = alone();
    let (Some(pids), Some(url)) = (
        env("SESSIONSTORE_TEST_CLUSTER_PIDS"),
        urls()
            .into_iter()
            .find(|u| u.starts_with("redis+cluster://")),
    ) else {
        eprintln!("no cluster from the harness: skipped");
        return;
    };
    // The lease outlives the failover (about 2.5 s with the harness's 1 s node timeout) and
    // the refresher's rounds that time out during it.
    let opts = format!("timeout_ms={TIMEOUT_MS}&ttl_ms=15000");
    let factory = StoreFactory::open(&with(&url, &opts)).unwrap();
    // Sessions over many slots, so some live on the master that hangs.
    let stores: Vec<_> = (0..40)
        .map(|i| {
            let st = factory.create_store(sid(&format!("fo{i}"))).unwrap();
            st.set("k", &value::encode_str("before")).unwrap();
            st
        })
        .collect();
    let (port, pid) = pids
        .split(',')
        .filter_map(|p| p.split_once(':'))
        .find(|(port, _)| {
            Command::new("redis-cli")
                .args(["-p", port, "role"])
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).starts_with("master"))
                .unwrap_or(false)
        })
        .expect("a master");
    let (near, twins) = cached_twins(&with(&url, &opts), &stores);
    replicas_caught_up(port);
    let stopped = Command::new("kill").args(["-STOP", pid]).status().unwrap();
    assert!(stopped.success(), "stop master on port {port}");
    writes_come_back("cluster", &stores, &twins, Duration::from_secs(20));
    let killed = Command::new("kill").args(["-9", pid]).status().unwrap();
    assert!(killed.success(), "kill master on port {port}");
    near.close();
    factory.close();
}

/// Waits until every replica of the master on `port` acknowledged all it was sent
/// (replication is asynchronous: a write not yet replicated is lost in a failover).
fn replicas_caught_up(port: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        // ROLE of a master, one item a line: master, offset, then ip, port, offset per replica.
        let out = Command::new("redis-cli")
            .args(["-p", port, "role"])
            .output()
            .unwrap();
        let lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_owned)
            .collect();
        let acked: Vec<&String> = lines.iter().skip(4).step_by(3).collect();
        if lines.len() >= 5 && acked.iter().all(|offset| **offset == lines[1]) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the replicas of {port} never caught up: {lines:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Kills the Sentinel master (it stays dead: this test runs last); calls resume on the replica
/// the sentinels promote, with no host action.
#[test]
fn sentinel_master_failover() {
    let _alone = alone();
    let (Some(pid), Some(replica), Some(url)) = (
        env("SESSIONSTORE_TEST_SENTINEL_MASTER_PID"),
        env("SESSIONSTORE_TEST_SENTINEL_REPLICA_PORT"),
        urls()
            .into_iter()
            .find(|u| u.starts_with("redis+sentinel://")),
    ) else {
        eprintln!("no sentinel setup from the harness: skipped");
        return;
    };
    let factory = StoreFactory::open(&with(&url, &format!("timeout_ms={TIMEOUT_MS}"))).unwrap();
    let ids: Vec<String> = (0..5).map(|i| sid(&format!("sfo{i}"))).collect();
    let stores: Vec<_> = ids
        .iter()
        .map(|id| {
            let st = factory.create_store(id).unwrap();
            st.set("k", &value::encode_str("before")).unwrap();
            st
        })
        .collect();
    // Replication is asynchronous: wait until the replica has every session before the kill.
    let deadline = Instant::now() + Duration::from_secs(5);
    for id in &ids {
        let key = format!("{}:{id}", prefix());
        loop {
            let out = Command::new("redis-cli")
                .args(["-p", &replica, "hexists", &key, "k"])
                .output()
                .unwrap();
            if String::from_utf8_lossy(&out.stdout).trim() == "1" {
                break;
            }
            assert!(Instant::now() < deadline, "the replica never got {key}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    let sentinel_opts = format!("timeout_ms={TIMEOUT_MS}");
    let (near, twins) = cached_twins(&with(&url, &sentinel_opts), &stores);
    let killed = Command::new("kill").args(["-9", &pid]).status().unwrap();
    assert!(killed.success());
    writes_come_back("sentinel", &stores, &twins, Duration::from_secs(25));
    near.close();
    factory.close();
}

/// After a master died: writes to every store in `stores` fail only with `Timeout` or
/// `Backend`, each within [`BOUND`], until they succeed again within `patience`; then every
/// store reads its write back, so does its twin in `near` (a near-cache factory's handle on
/// the same session, which cached the value before the fault), and each is destroyed.
fn writes_come_back(
    what: &str,
    stores: &[sessionstore::Store],
    near: &[sessionstore::Store],
    patience: Duration,
) {
    let died = Instant::now();
    let deadline = died + patience;
    let mut slowest = Duration::ZERO;
    let mut pending: Vec<usize> = (0..stores.len()).collect();
    let mut last_error = String::new();
    while !pending.is_empty() && Instant::now() < deadline {
        pending.retain(|&i| {
            let start = Instant::now();
            let r = stores[i].set("k", &value::encode_str("after"));
            slowest = slowest.max(start.elapsed());
            if let Err(e) = &r {
                assert!(
                    matches!(e.kind(), ErrorKind::Timeout | ErrorKind::Backend),
                    "{what}: {e}"
                );
                last_error = e.to_string();
            }
            r.is_err()
        });
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        pending.is_empty(),
        "{what}: {} sessions never came back after the failover; last error: {last_error}",
        pending.len()
    );
    assert!(
        slowest <= BOUND,
        "{what}: a call took {slowest:?} during the failover"
    );
    for st in stores {
        assert_eq!(st.get("k").unwrap(), Some(value::encode_str("after")));
    }
    for st in near {
        no_stale_read_after(what, st, "after");
    }
    for st in stores {
        st.destroy().unwrap();
    }
    eprintln!(
        "{what} failover: writable again {:?} after the master failed",
        died.elapsed()
    );
}

/// A near-cache factory on `url` (the url of `stores`' factory) and its handles on the sessions of `stores`, each read until
/// its value of `k` is served from the cache.
fn cached_twins(
    url: &str,
    stores: &[sessionstore::Store],
) -> (StoreFactory, Vec<sessionstore::Store>) {
    let sep = if url.contains('?') { '&' } else { '?' };
    let near = StoreFactory::open(&format!("{url}{sep}near_cache=1000")).unwrap();
    let twins: Vec<_> = stores
        .iter()
        .map(|st| {
            let twin = near.create_store(st.session_id().as_str()).unwrap();
            let want = st.get("k").unwrap();
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                let hits = near.stats().unwrap().near_cache.hits;
                assert_eq!(twin.get("k").unwrap(), want);
                if near.stats().unwrap().near_cache.hits > hits {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "never served from the near cache"
                );
                std::thread::sleep(Duration::from_millis(1));
            }
            twin
        })
        .collect();
    (near, twins)
}

/// The near cache's promise across a fault: once another node's write is acknowledged, the
/// cached copy from before the fault goes (within a bounded wait: the factory notices the
/// dropped connection by itself), and no read after the first fresh one is stale.
fn no_stale_read_after(what: &str, st: &sessionstore::Store, fresh: &str) {
    let fresh = Some(value::encode_str(fresh));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match st.get("k") {
            Ok(v) if v == fresh => break,
            Ok(_) | Err(_) => {
                assert!(
                    Instant::now() < deadline,
                    "{what}: the near cache kept a stale value"
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
    for _ in 0..50 {
        assert_eq!(
            st.get("k").unwrap(),
            fresh,
            "{what}: a stale read after a fresh one"
        );
    }
}

/// A standalone server killed and restarted (its AOF keeps the data): the near-cache node's
/// copy from before does not outlive another node's write after the restart.
#[test]
fn near_cache_forgets_across_a_restart() {
    let _alone = alone();
    let Some(bin) = server_bin() else { return };
    let mut server = Server::start(&bin, "near");
    let plain = StoreFactory::open(&server.url()).unwrap();
    let st = plain.create_store(sid("near-restart")).unwrap();
    st.set("k", &value::encode_str("before")).unwrap();
    let (near, twins) = cached_twins(&server.url(), std::slice::from_ref(&st));
    server.kill9();
    server.spawn();
    let deadline = Instant::now() + Duration::from_secs(10);
    while st.set("k", &value::encode_str("after")).is_err() {
        assert!(
            Instant::now() < deadline,
            "the restarted server never took a write"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    no_stale_read_after("restart", &twins[0], "after");
    near.close();
    plain.close();
}
