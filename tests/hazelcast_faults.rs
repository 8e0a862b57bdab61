//! Fault tests against real Hazelcast members (run by `make test-redis-faults`, after every
//! other suite): a member stopped with SIGSTOP, a member killed and started again, and a member
//! that closes silent clients sooner.
//! Skipped without the harness's variables.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{env, sid, urls, with};
use sessionstore::{value, ErrorKind, StoreFactory};

const TIMEOUT_MS: u64 = 500;

/// The harness's member url, and what else the test needs from the harness (`None`: skip).
fn harness<T>(what: impl FnOnce(String) -> Option<T>) -> Option<T> {
    let url = urls().into_iter().find(|u| u.starts_with("hazelcast://"));
    let found = url.and_then(what);
    if found.is_none() {
        eprintln!("skipped: no Hazelcast member of tests/redis/harness.sh");
    }
    found
}

fn signal(pid: &str, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, pid])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "kill {sig} {pid}");
}

/// Sends SIGCONT when dropped, so a failed assertion never leaves the member stopped.
struct Stopped<'a>(&'a str);

impl Drop for Stopped<'_> {
    fn drop(&mut self) {
        signal(self.0, "-CONT");
    }
}

/// Whether every thread of process `pid` is stopped (state `T` in `/proc`).
fn stopped(pid: &str) -> bool {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return false;
    };
    tasks.flatten().all(|task| {
        std::fs::read_to_string(task.path().join("stat")).is_ok_and(|stat| {
            // The state follows the command name's closing parenthesis.
            stat.rsplit_once(')')
                .is_some_and(|(_, rest)| rest.trim_start().starts_with('T'))
        })
    })
}

/// Polls `f` until it answers `Some`, for at most `bound`.
fn eventually<T>(what: &str, bound: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let until = Instant::now() + bound;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < until, "{what} within {bound:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A stopped member answers nothing: every call ends with a timeout error, open handles and new
/// ones alike, and once it continues the same factory works again.
#[test]
fn a_stopped_member_answers_every_call_with_a_timeout() {
    let Some((url, pid)) = harness(|url| Some((url, env("SESSIONSTORE_TEST_HAZELCAST_PID")?)))
    else {
        return;
    };
    let f = StoreFactory::open(&with(&url, &format!("timeout_ms={TIMEOUT_MS}"))).unwrap();
    let id = sid("stopped");
    let st = f.create_store(&id).unwrap();
    st.set("k", &value::encode_str("v")).unwrap();
    {
        signal(&pid, "-STOP");
        let _continue = Stopped(&pid);
        // The signal is delivered asynchronously: the member's threads stop as the kernel
        // gets to them, and a request could still be answered until every one did.
        eventually("the member stopped", Duration::from_secs(10), || {
            stopped(&pid).then_some(())
        });
        let e = st.get("k").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
        assert!(
            e.to_string()
                .ends_with(&format!("no answer within timeout_ms={TIMEOUT_MS}")),
            "{e}"
        );
        let e = st.set("k", &value::encode_str("w")).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
        let e = f.create_store(sid("stopped-new")).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    }
    let got = eventually(
        "the member's answers again",
        Duration::from_secs(30),
        || st.get("k").ok(),
    );
    assert!(got.is_some(), "the session outlived the stop");
    st.destroy().unwrap();
    f.close();
}

/// A member of the test's own: the harness's jar and member configuration, on a free port.
struct OwnMember {
    jar: String,
    port: u16,
    /// Its url, with the tests' `timeout_ms`.
    url: String,
}

impl OwnMember {
    /// `None` (skip) without the harness.
    fn new() -> Option<OwnMember> {
        let jar = harness(|_| env("SESSIONSTORE_TEST_HAZELCAST_JAR"))?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Some(OwnMember {
            jar,
            port,
            url: format!("hazelcast://127.0.0.1:{port}/sessionstore-test?timeout_ms={TIMEOUT_MS}"),
        })
    }

    fn dir(&self) -> PathBuf {
        std::env::temp_dir().join(format!("sessionstore-hz-{}", self.port))
    }

    /// Its log (of the last start).
    fn log(&self) -> String {
        std::fs::read_to_string(self.dir().join("log")).unwrap()
    }

    /// Starts it with the Hazelcast properties `properties` (`-Dname=value`); killed with
    /// SIGKILL when dropped.
    fn start(&self, properties: &[&str]) -> Killed {
        let dir = self.dir();
        std::fs::create_dir_all(&dir).unwrap();
        let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hazelcast/member.xml");
        let xml = std::fs::read_to_string(config)
            .unwrap()
            .replace("@PORT@", &self.port.to_string());
        let file = dir.join("member.xml");
        std::fs::write(&file, xml).unwrap();
        let child = Command::new("java")
            .args(["-Xms64m", "-Xmx256m", "-XX:TieredStopAtLevel=1"])
            .args(properties)
            .arg(format!("-Dhazelcast.config={}", file.display()))
            .args([
                "-cp",
                &self.jar,
                "com.hazelcast.core.server.HazelcastMemberStarter",
            ])
            .current_dir(&dir)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("log")).unwrap())
            .spawn()
            .unwrap();
        Killed(child)
    }

    /// A factory on it, once it answers.
    fn factory(&self, what: &str) -> StoreFactory {
        eventually(what, Duration::from_secs(60), || {
            StoreFactory::open(&self.url).ok()
        })
    }
}

/// Kills a child when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A member killed with SIGKILL: calls fail (a backend or timeout error, never a hang); once a
/// member runs on that port again the same factory reconnects by itself (a lone member's
/// sessions went with it: the store answers `Destroyed`, a new one works). A factory whose
/// idle connection died with the first member answers its first call after the restart
/// without an error: the call goes again on a new connection.
#[test]
fn a_restarted_member_is_reconnected() {
    let Some(own) = OwnMember::new() else {
        return;
    };
    let first = own.start(&[]);
    let f = own.factory("the member up");
    let st = f.create_store(sid("restart")).unwrap();
    st.set("k", &value::encode_str("v")).unwrap();
    let idle = StoreFactory::open(&own.url).unwrap();
    let idle_st = idle.create_store(sid("restart")).unwrap();
    drop(first);
    let e = st.get("k").unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::Backend | ErrorKind::Timeout),
        "{e}"
    );
    let _second = own.start(&[]);
    drop(own.factory("the member up again"));
    assert_eq!(
        idle_st.get("k").unwrap_err().kind(),
        ErrorKind::Destroyed,
        "the first call on a dead idle connection"
    );
    idle.close();
    let e = eventually("the member back", Duration::from_secs(60), || {
        st.get("k")
            .err()
            .filter(|e| e.kind() == ErrorKind::Destroyed)
    });
    assert_eq!(e.kind(), ErrorKind::Destroyed);
    let fresh = f.create_store(sid("restart")).unwrap();
    fresh.set("k", &value::encode_str("again")).unwrap();
    assert_eq!(fresh.get("k").unwrap(), Some(value::encode_str("again")));
    f.close();
}

/// A member that closes a client's connection silent for 12 s (60 s by default): an idle
/// factory's connection outlives three such spells, kept by the heartbeat's pings. The member
/// authenticates no new connection from us meanwhile (its log says each one), and the session
/// is still there.
#[test]
fn the_heartbeat_keeps_an_idle_connection() {
    let Some(own) = OwnMember::new() else {
        return;
    };
    let _member = own.start(&["-Dhazelcast.client.max.no.heartbeat.seconds=12"]);
    let f = own.factory("the member up");
    let st = f.create_store(sid("idle")).unwrap();
    st.set("k", &value::encode_str("v")).unwrap();
    let authenticated = || own.log().matches("Received auth from").count();
    let before = authenticated();
    std::thread::sleep(Duration::from_secs(36));
    assert_eq!(st.get("k").unwrap(), Some(value::encode_str("v")));
    assert_eq!(
        authenticated(),
        before,
        "the member closed our idle connection: we dialled again"
    );
    f.close();
}
