//! The `sessionstore` binary, run as a user runs it, against the real servers of
//! `tests/redis/harness.sh` (standalone, Sentinel, Cluster, TLS, TLS Cluster, an ACL user):
//! sessions written through the Rust, Python, Java and C APIs are listed, shown and counted
//! field by field in `--json` form, destroyed for real (an open handle then answers
//! Destroyed), and every failure is one line with its documented exit status. No output ever
//! holds a password. Without the harness only the tests that need no server run; the others
//! say they were skipped.

use std::ffi::OsStr;
use std::net::TcpListener;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use rmpv::Value;
use serde_json::{json, Value as Json};
use sessionstore::{Config, ErrorKind, Store, StoreFactory};

const BIN: &str = env!("CARGO_BIN_EXE_sessionstore");

/// One run of the binary.
struct Ran {
    code: i32,
    out: String,
    err: String,
}

impl Ran {
    fn json(&self) -> Json {
        assert_eq!(self.code, 0, "stderr: {}", self.err);
        serde_json::from_str(&self.out)
            .unwrap_or_else(|e| panic!("not one JSON document ({e}): {}", self.out))
    }

    /// Asserts a failure with `code`: one line on stderr, no trace; returns the line.
    fn fails(&self, code: i32) -> &str {
        assert_eq!(
            self.code, code,
            "stdout: {}\nstderr: {}",
            self.out, self.err
        );
        let line = self.err.trim_end();
        assert_eq!(line.lines().count(), 1, "not one line: {:?}", self.err);
        assert!(line.starts_with("sessionstore: "), "{line}");
        for trace in ["panicked", "backtrace", "RUST_BACKTRACE", "src/"] {
            assert!(!line.contains(trace), "a trace: {line}");
        }
        line
    }
}

/// The password of `url`, if it has one.
fn password_of(url: &str) -> Option<&str> {
    let authority = url.split_once("://")?.1.split('/').next()?;
    let userinfo = authority.rsplit_once('@')?.0;
    userinfo.split_once(':').map(|(_, p)| p)
}

/// Runs `sessionstore [--url url] args…`; checks that nothing it printed holds the url's
/// password. `RUST_BACKTRACE` is on, so a panic would show its trace.
fn cli_env(url: Option<&str>, args: &[&str], env: &[(&str, &str)]) -> Ran {
    let mut cmd = Command::new(BIN);
    cmd.env_remove("SESSIONSTORE_URL")
        .env("RUST_BACKTRACE", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    if let Some(url) = url {
        cmd.arg("--url").arg(url);
    }
    let out = cmd
        .args(args)
        .output()
        .expect("run the sessionstore binary");
    let ran = Ran {
        // A signal (a crash) has no code: -1 fails every check.
        code: out.status.code().unwrap_or(-1),
        out: String::from_utf8_lossy(&out.stdout).into_owned(),
        err: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    let secrets = [url, env.iter().map(|(_, v)| *v).next()];
    for secret in secrets.into_iter().flatten().filter_map(password_of) {
        assert!(
            !ran.out.contains(secret) && !ran.err.contains(secret),
            "the password was printed: {} {}",
            ran.out,
            ran.err
        );
    }
    ran
}

fn cli(url: &str, args: &[&str]) -> Ran {
    cli_env(Some(url), args, &[])
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// Every Redis url the harness exported (standalone, Sentinel, Cluster, TLS, TLS Cluster,
/// ACL user); empty without the harness.
fn redis_urls() -> Vec<String> {
    let mut urls: Vec<String> = env("SESSIONSTORE_TEST_URLS")
        .unwrap_or_default()
        .split_whitespace()
        .filter(|u| u.starts_with("redis"))
        .map(str::to_owned)
        .collect();
    for extra in [
        "SESSIONSTORE_TEST_TLS_URL",
        "SESSIONSTORE_TEST_TLS_CLUSTER_URL",
        "SESSIONSTORE_TEST_ACL_URL",
    ] {
        urls.extend(env(extra));
    }
    urls
}

/// The first url of the harness with `scheme://`, if any.
fn url_of(scheme: &str) -> Option<String> {
    redis_urls()
        .into_iter()
        .find(|u| u.starts_with(&format!("{scheme}://")) && password_of(u).is_none())
}

fn skip(what: &str) {
    eprintln!("skipped: {what}");
}

/// A prefix no other run or test uses.
fn unique_prefix(tag: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("cli{}{tag}{nanos}", std::process::id())
}

/// `url` with `prefix`, and a `timeout_ms` that bounds every call generously: the machine
/// running the suite may be busy with other work, and no check here is about speed.
fn with_prefix(url: &str, prefix: &str) -> String {
    format!("{url}?prefix={prefix}&timeout_ms=15000")
}

fn doc(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    rmpv::encode::write_value(&mut out, value).unwrap();
    out
}

/// A value of every type of docs/API.md §3 (and keys of every shape), with the JSON the
/// tool must show for it (cli/README.md's table).
fn every_type() -> Vec<(&'static str, Value, Json)> {
    vec![
        (
            "bin",
            Value::Binary(vec![0, 1, 255]),
            json!({"$bin": "AAH/"}),
        ),
        ("str", Value::from("héllo"), json!("héllo")),
        ("int", Value::from(-5), json!(-5)),
        ("i64min", Value::from(i64::MIN), json!(i64::MIN)),
        ("u64max", Value::from(u64::MAX), json!(u64::MAX)),
        ("float", Value::F64(2.5), json!(2.5)),
        ("float32", Value::F32(0.1), json!(0.1)),
        ("bool", Value::Boolean(true), json!(true)),
        (
            "array",
            Value::Array(vec![Value::from(1), Value::Nil, Value::from("x")]),
            json!([1, null, "x"]),
        ),
        (
            "map",
            Value::Map(vec![
                (Value::from("b"), Value::from(1)),
                (
                    Value::from("a"),
                    Value::Map(vec![(Value::from("n"), Value::Nil)]),
                ),
            ]),
            json!({"b": 1, "a": {"n": null}}),
        ),
        (
            "pickled",
            Value::Ext(80, b"\x80\x04N.".to_vec()),
            json!({"$ext": 80, "base64": "gAROLg=="}),
        ),
        (
            "java",
            Value::Ext(74, vec![0xac, 0xed, 0, 5]),
            json!({"$ext": 74, "base64": "rO0ABQ=="}),
        ),
        (
            "ext3",
            Value::Ext(3, vec![]),
            json!({"$ext": 3, "base64": ""}),
        ),
        ("", Value::from("the empty key"), json!("the empty key")),
        ("ключ space", Value::from(1), json!(1)),
    ]
}

/// `ls --json`'s sessions by id: `(keys, bytes, ttl_ms)`.
fn listed(ls: &Json) -> Vec<(String, u64, u64, Option<u64>)> {
    ls["sessions"]
        .as_array()
        .expect("sessions")
        .iter()
        .map(|s| {
            (
                s["id"].as_str().unwrap().to_owned(),
                s["keys"].as_u64().unwrap(),
                s["bytes"].as_u64().unwrap(),
                s["ttl_ms"].as_u64(),
            )
        })
        .collect()
}

fn assert_destroyed(store: &Store, what: &str) {
    let e = store.get("int").expect_err(what);
    assert_eq!(e.kind(), ErrorKind::Destroyed, "{what}: {e}");
}

/// One url: sessions with values of every type, with and without a lease, empty, many (so
/// a cluster spreads them over its masters), beside another prefix's session on a key the
/// scan matches; then every command, field by field.
fn every_command_on(url: &str, tag: &str) {
    let prefix = unique_prefix(tag);
    let base = with_prefix(url, &prefix);
    let factory = StoreFactory::open(&base).unwrap();
    let leasing = StoreFactory::open(&format!("{base}&ttl_ms=60000")).unwrap();
    let all = factory.create_store("all").unwrap();
    let mut expected_values = serde_json::Map::new();
    let mut all_bytes = 0;
    let values = every_type();
    for (key, value, shown) in &values {
        let doc = doc(value);
        all.set(key, &doc).unwrap();
        all_bytes += (key.len() + doc.len()) as u64;
        expected_values.insert((*key).to_owned(), shown.clone());
    }
    // Kept open: the factory renews its lease, and it must see the destroy.
    let leased = leasing.create_store("leased").unwrap();
    leased.set("n", &doc(&Value::from(1))).unwrap();
    drop(factory.create_store("empty").unwrap());
    for i in 0..30 {
        let s = factory.create_store(format!("bulk-{i}")).unwrap();
        s.set("i", &doc(&Value::from(i))).unwrap();
    }
    // Prefix `<prefix>:x` with id `victim` is the key `<prefix>:x:victim`, which this
    // prefix's scan matches: its generation says it is not ours.
    let other = StoreFactory::open(&with_prefix(url, &format!("{prefix}:x"))).unwrap();
    let victim = other.create_store("victim").unwrap();
    victim.set("int", &doc(&Value::from(9))).unwrap();

    let who = format!("{tag} ({url})");
    let redacted = Config::parse(&base).unwrap().backend.redacted_url();

    // ls: every session of this prefix, sorted, with its numbers.
    let ls = cli(&base, &["ls", "--json"]).json();
    assert_eq!(ls["url"], json!(redacted), "{who}");
    assert_eq!(ls["prefix"], json!(prefix), "{who}");
    assert_eq!(ls["count"], json!(33), "{who}: {ls}");
    assert_eq!(ls["limited"], json!(false), "{who}");
    let rows = listed(&ls);
    let ids: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_eq!(ids, sorted, "{who}: sorted by id");
    let row = |id: &str| rows.iter().find(|r| r.0 == id).cloned();
    assert_eq!(
        row("all"),
        Some(("all".into(), values.len() as u64, all_bytes, None)),
        "{who}"
    );
    assert_eq!(row("empty"), Some(("empty".into(), 0, 0, None)), "{who}");
    let (_, keys, bytes, ttl) = row("leased").expect("leased listed");
    assert_eq!((keys, bytes), (1, 1 + 1), "{who}");
    assert!(
        ttl.is_some_and(|t| t > 0 && t <= 60_000),
        "{who}: leased ttl {ttl:?}"
    );
    assert_eq!(row("bulk-7"), Some(("bulk-7".into(), 1, 2, None)), "{who}");
    assert!(
        row("x:victim").is_none(),
        "{who}: another prefix's session listed"
    );

    // ls --match, --limit.
    let lease_only = cli(&base, &["ls", "--match", "lea*", "--json"]).json();
    assert_eq!(listed(&lease_only).len(), 1, "{who}: {lease_only}");
    assert_eq!(lease_only["sessions"][0]["id"], json!("leased"), "{who}");
    let bulk = cli(&base, &["ls", "--match", "bulk-?", "--json"]).json();
    assert_eq!(bulk["count"], json!(10), "{who}: {bulk}");
    let none = cli(&base, &["ls", "--match", "nothing*", "--json"]).json();
    assert_eq!(
        (none["count"].clone(), none["limited"].clone()),
        (json!(0), json!(false))
    );
    let one = cli(&base, &["ls", "--limit", "1", "--json"]).json();
    assert_eq!(
        (one["count"].clone(), one["limited"].clone()),
        (json!(1), json!(true)),
        "{who}"
    );
    let whole = cli(&base, &["ls", "--limit", "33", "--json"]).json();
    assert_eq!(
        (whole["count"].clone(), whole["limited"].clone()),
        (json!(33), json!(false))
    );

    // show: every value decoded, as the README's table says.
    let show = cli(&base, &["show", "all", "--json"]).json();
    assert_eq!(show["id"], json!("all"), "{who}");
    assert_eq!(show["url"], json!(redacted), "{who}");
    assert_eq!(show["keys"], json!(values.len()), "{who}");
    assert_eq!(show["bytes"], json!(all_bytes), "{who}");
    assert_eq!(show["ttl_ms"], Json::Null, "{who}");
    assert_eq!(show["values"], Json::Object(expected_values), "{who}");
    // Maps keep the order they were written in.
    assert_eq!(
        show["values"]["map"].to_string(),
        r#"{"b":1,"a":{"n":null}}"#
    );
    let show_leased = cli(&base, &["show", "leased", "--json"]).json();
    assert_eq!(show_leased["values"], json!({"n": 1}), "{who}");
    assert!(show_leased["ttl_ms"]
        .as_u64()
        .is_some_and(|t| t > 0 && t <= 60_000));
    let show_empty = cli(&base, &["show", "empty", "--json"]).json();
    assert_eq!(
        (show_empty["keys"].clone(), show_empty["values"].clone()),
        (json!(0), json!({}))
    );
    let missing = cli(&base, &["show", "missing", "--json"]);
    assert!(
        missing.fails(3).contains("no such session: missing"),
        "{who}"
    );
    assert!(missing.out.is_empty(), "{who}");
    // The other prefix's session is no session of this prefix.
    cli(&base, &["show", "x:victim"]).fails(3);

    // stats: the totals, the orphans, the spread of the one lease.
    let stats = cli(&base, &["stats", "--json"]).json();
    assert_eq!(stats["sessions"], json!(33), "{who}: {stats}");
    assert_eq!(stats["keys"], json!(values.len() + 1 + 30), "{who}");
    assert_eq!(stats["bytes"], json!(all_bytes + 2 + 30 * 2), "{who}");
    assert_eq!(stats["without_ttl"], json!(32), "{who}");
    let spread = &stats["ttl_ms"];
    let ttl = spread["min"].as_u64().expect("a lease");
    assert!(ttl > 0 && ttl <= 60_000, "{who}: {spread}");
    for p in ["p50", "p90", "max"] {
        assert_eq!(
            spread[p],
            json!(ttl),
            "{who}: one lease is every percentile"
        );
    }
    let buckets = stats["ttl_buckets"].as_array().unwrap();
    let bounds: Vec<Json> = buckets.iter().map(|b| b["up_to_ms"].clone()).collect();
    assert_eq!(
        bounds,
        [
            json!(1000),
            json!(10000),
            json!(60000),
            json!(600000),
            json!(3600000),
            json!(86400000),
            Json::Null
        ]
    );
    let holding: Vec<&Json> = buckets
        .iter()
        .filter(|b| b["sessions"] == json!(1))
        .collect();
    assert_eq!(holding.len(), 1, "{who}: {stats}");
    let bound = holding[0]["up_to_ms"].as_u64().unwrap();
    let below = buckets
        .iter()
        .filter_map(|b| b["up_to_ms"].as_u64())
        .filter(|&b| b < bound)
        .max()
        .unwrap_or(0);
    assert!(
        below < ttl && ttl <= bound,
        "{who}: {ttl} in the bucket up to {bound}"
    );

    // The tables say the same for people.
    let table = cli(&base, &["ls"]);
    assert_eq!(table.code, 0, "{}", table.err);
    assert!(
        table.out.contains(" SESSION ") && table.out.contains(" all "),
        "{}",
        table.out
    );
    assert!(table
        .out
        .contains(&format!("33 sessions (prefix {prefix} on {redacted})")));
    let table = cli(&base, &["show", "all"]);
    assert_eq!(table.code, 0, "{}", table.err);
    assert!(table.out.contains("ext 74") && table.out.contains(r#"{"$bin":"AAH/"}"#));
    let table = cli(&base, &["stats"]);
    assert_eq!(table.code, 0, "{}", table.err);
    assert!(table.out.contains("without a TTL  32"), "{}", table.out);

    // destroy: the library's own, seen by the handles open in this process.
    let gone = cli(&base, &["destroy", "all", "missing", "--json"]);
    assert!(gone.fails(3).contains("no such session: missing"), "{who}");
    let report: Json = serde_json::from_str(&gone.out).expect("the destroy report");
    assert_eq!(report["destroyed"], json!(["all"]), "{who}");
    assert_eq!(report["missing"], json!(["missing"]), "{who}");
    assert_destroyed(&all, &who);
    cli(&base, &["show", "all"]).fails(3);
    let table = cli(&base, &["destroy", "leased"]);
    assert_eq!(table.code, 0, "{who}: {}", table.err);
    assert!(table.out.contains("destroyed leased"), "{}", table.out);
    assert_destroyed(&leased, &who);
    assert_eq!(
        cli(&base, &["ls", "--json"]).json()["count"],
        json!(31),
        "{who}"
    );
    // Another prefix's session under a matching key is left alone.
    cli(&base, &["destroy", "x:victim"]).fails(3);
    assert!(
        victim.get("int").unwrap().is_some(),
        "{who}: the other prefix's session went"
    );

    for i in 0..30 {
        factory.destroy_session(format!("bulk-{i}")).unwrap();
    }
    factory.destroy_session("empty").unwrap();
    victim.destroy().unwrap();
    for f in [factory, leasing, other] {
        f.close();
    }
}

#[test]
fn every_command_on_every_redis_url() {
    let urls = redis_urls();
    if urls.is_empty() {
        return skip("no Redis servers: run under tests/redis/harness.sh");
    }
    // One thread a url: each mostly waits on its servers and on the processes it starts.
    std::thread::scope(|scope| {
        for (i, url) in urls.iter().enumerate() {
            scope.spawn(move || every_command_on(url, &format!("u{i}x")));
        }
    });
}

/// The port of a `redis://host:port` url.
fn port_of(url: &str) -> u16 {
    url.rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches('/')
        .parse()
        .unwrap()
}

#[test]
fn foreign_keys_under_the_prefix_are_not_sessions() {
    let Some(url) = url_of("redis") else {
        return skip("no standalone Redis server: run under tests/redis/harness.sh");
    };
    let prefix = unique_prefix("foreign");
    let base = with_prefix(&url, &prefix);
    let port = port_of(&url).to_string();
    let redis_cli = |args: &[&OsStr]| {
        let ok = Command::new("redis-cli")
            .args(["-h", "127.0.0.1", "-p", &port])
            .args(args)
            .output()
            .expect("redis-cli")
            .status
            .success();
        assert!(ok, "redis-cli {args:?}");
    };
    // A string, a hash without a generation, a hash with this prefix's generation under a key
    // whose rest is no session id, and a hash with another prefix's generation: none is a
    // session of this prefix.
    let string = format!("{prefix}:a-string");
    let no_gen = format!("{prefix}:no-generation");
    let bad_id = format!("{prefix}:not an id");
    let foreign_gen = format!("{prefix}:foreign");
    let os = |s: &str| OsStr::new(s).to_owned();
    let gen_field = OsStr::from_bytes(b"\xffgen").to_owned();
    redis_cli(&[&os("SET"), &os(&string), &os("x")]);
    redis_cli(&[&os("HSET"), &os(&no_gen), &os("k"), &os("v")]);
    redis_cli(&[
        &os("HSET"),
        &os(&bad_id),
        &gen_field,
        &os(&format!("{prefix}/0")),
    ]);
    redis_cli(&[&os("HSET"), &os(&foreign_gen), &gen_field, &os("other/0")]);
    let factory = StoreFactory::open(&base).unwrap();
    factory
        .create_store("real")
        .unwrap()
        .set_bytes("k", b"v")
        .unwrap();

    let ls = cli(&base, &["ls", "--json"]).json();
    assert_eq!(listed(&ls).len(), 1, "{ls}");
    assert_eq!(ls["sessions"][0]["id"], json!("real"));
    for id in ["a-string", "no-generation", "foreign"] {
        cli(&base, &["show", id]).fails(3);
    }
    // Nothing was created or changed by looking.
    assert_eq!(
        cli(&base, &["stats", "--json"]).json()["sessions"],
        json!(1)
    );
    let factory_view = StoreFactory::open(&base).unwrap();
    assert!(
        factory_view.create_store("a-string").is_err(),
        "the string key is still a string"
    );

    redis_cli(&[
        &os("DEL"),
        &os(&string),
        &os(&no_gen),
        &os(&bad_id),
        &os(&foreign_gen),
    ]);
    factory.destroy_session("real").unwrap();
}

/// A url without a server, `memory://`, a bad url or id, a bad command: one line, exit 1.
#[test]
fn usage_and_url_errors_exit_1() {
    let none = cli_env(None, &["ls"], &[]);
    assert!(none.fails(1).contains("--url"), "{}", none.err);
    let memory = cli("memory://", &["ls"]);
    assert!(memory
        .fails(1)
        .contains("memory:// sessions live inside the process"));
    assert!(cli("", &["stats"]).fails(1).contains("no backend url"));
    assert!(cli("nope://x", &["ls"])
        .fails(1)
        .contains("unknown url scheme"));
    assert!(cli("redis://127.0.0.1:6379?color=red", &["ls"])
        .fails(1)
        .contains("unknown option"));
    assert!(cli("redis://127.0.0.1:99999", &["ls"])
        .fails(1)
        .contains("bad port"));
    // A password with an unescaped '/' or '?' cuts the url there; no piece of it is printed.
    for (url, piece) in [
        ("redis://app:pa/ss@127.0.0.1:1", "pa"),
        ("redis://app:pa?ss@127.0.0.1:1", "ss@"),
    ] {
        let line = cli(url, &["ls"]).fails(1).to_owned();
        assert!(!line.contains(piece) && line.contains("\"***\""), "{line}");
    }
    // Ids and arguments are checked before anything is dialled (port 1 is never a server).
    let down = "redis://127.0.0.1:1";
    assert!(cli(down, &["show", "a b"]).fails(1).contains("session id"));
    assert!(cli(down, &["destroy", "ok", "not/ok"])
        .fails(1)
        .contains("session id"));
    assert!(cli(down, &["destroy"])
        .fails(1)
        .contains("required arguments were not provided: <SID>..."));
    assert!(cli(down, &["bogus"]).fails(1).contains("bogus"));
    assert!(cli(down, &["ls", "--limit", "many"])
        .fails(1)
        .contains("many"));
    cli(down, &[]).fails(1);
    assert!(cli(down, &["ls", "--match", ""])
        .fails(1)
        .contains("--match"));
    // Help and version are no errors.
    for ask in [&["--help"][..], &["ls", "--help"], &["--version"]] {
        let ran = cli_env(None, ask, &[]);
        assert_eq!(ran.code, 0, "{ask:?}: {}", ran.err);
        assert!(!ran.out.is_empty());
    }
}

/// `--help` names the variable but never prints its value, which may hold a password.
#[test]
fn help_never_prints_the_url_from_the_environment() {
    let url = "redis://app:hunter2-secret@127.0.0.1:1";
    let help = cli_env(None, &["--help"], &[("SESSIONSTORE_URL", url)]);
    assert_eq!(help.code, 0);
    assert!(help.out.contains("SESSIONSTORE_URL"), "{}", help.out);
    // The variable is read: a closed port fails as a backend, without the password.
    let ran = cli_env(None, &["ls"], &[("SESSIONSTORE_URL", url)]);
    assert!(
        ran.fails(2).contains("redis://app:***@127.0.0.1:1"),
        "{}",
        ran.err
    );
}

/// A closed port, a server that never answers, a wrong password: one line, exit 2.
#[test]
fn unreachable_and_refusing_backends_exit_2() {
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("redis://app:pa55-w0rd@127.0.0.1:{closed}");
    for cmd in [
        &["ls"][..],
        &["show", "sid"],
        &["destroy", "sid"],
        &["stats"],
    ] {
        let ran = cli(&url, cmd);
        let line = ran.fails(2);
        assert!(line.contains("connection refused"), "{cmd:?}: {line}");
        assert!(
            line.contains(&format!("redis://app:***@127.0.0.1:{closed}")),
            "{line}"
        );
        assert!(ran.out.is_empty());
    }
    let cluster = format!("redis+cluster://127.0.0.1:{closed}");
    cli(&cluster, &["ls"]).fails(2);

    // Accepted by the kernel, never answered: the url's timeout_ms bounds the wait.
    let mute = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = mute.local_addr().unwrap().port();
    let ran = cli(
        &format!("redis://127.0.0.1:{port}?timeout_ms=300"),
        &["stats"],
    );
    assert!(ran.fails(2).contains("timeout"), "{}", ran.err);
    drop(mute);

    match env("SESSIONSTORE_TEST_ACL_URL") {
        Some(acl) => {
            let wrong = acl.replace(password_of(&acl).unwrap(), "wr0ng-pa55");
            let ran = cli(&wrong, &["ls"]);
            assert!(
                ran.fails(2).contains("authentication failed"),
                "{}",
                ran.err
            );
        }
        None => skip("the wrong-password check: no ACL server (run under the harness)"),
    }
}

/// The workspace's target directory (where `cargo build` put the C library).
fn target_dir() -> PathBuf {
    match env("CARGO_TARGET_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"),
    }
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn writer(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/writers")
        .join(name)
}

fn run_ok(cmd: &mut Command, what: &str) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Checks the two sessions a writer made: `plain` without a lease showing `values`, and
/// `leased` with one, holding `userId`.
fn check_written(base: &str, who: &str, plain: &str, leased: &str, values: &Json, user_id: u64) {
    let show = cli(base, &["show", plain, "--json"]).json();
    assert_eq!(show["ttl_ms"], Json::Null, "{who}");
    assert_eq!(&show["values"], values, "{who}: {show}");
    let show = cli(base, &["show", leased, "--json"]).json();
    assert_eq!(show["values"], json!({"userId": user_id}), "{who}");
    let ttl = show["ttl_ms"].as_u64();
    assert!(ttl.is_some_and(|t| t > 0 && t <= 60_000), "{who}: {ttl:?}");
    let ls = cli(base, &["ls", "--json"]).json();
    let rows = listed(&ls);
    assert_eq!(rows.len(), 2, "{who}: {ls}");
    assert_eq!(rows[1].3, None, "{who}: the plain session has no lease");
    let stats = cli(base, &["stats", "--json"]).json();
    assert_eq!(
        (stats["sessions"].clone(), stats["without_ttl"].clone()),
        (json!(2), json!(1))
    );
    let gone = cli(base, &["destroy", plain, leased, "--json"]).json();
    assert_eq!(gone["destroyed"].as_array().map(Vec::len), Some(2), "{who}");
    assert_eq!(
        cli(base, &["ls", "--json"]).json()["count"],
        json!(0),
        "{who}"
    );
}

/// Sessions the Python binding wrote (`.venv`, made by `make python-install`).
#[test]
fn sessions_written_from_python() {
    let python = repo().join(".venv/bin/python");
    let urls: Vec<String> = ["redis", "redis+cluster"]
        .iter()
        .filter_map(|s| url_of(s))
        .collect();
    if urls.is_empty() {
        return skip("Python writers: no Redis servers (run under tests/redis/harness.sh)");
    }
    let importable = Command::new(&python)
        .args(["-c", "import sessionstore"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !importable {
        return skip("Python writers: no wheel in .venv (make python-install)");
    }
    for url in urls {
        let base = with_prefix(&url, &unique_prefix("py"));
        run_ok(
            Command::new(&python).arg(writer("write_session.py")).args([
                &base,
                "py-plain",
                "py-leased",
            ]),
            "the Python writer",
        );
        let show = cli(&base, &["show", "py-plain", "--json"]).json();
        // A pickle's bytes depend on the Python version: its marker and protocol byte do not.
        let pickled = &show["values"]["pickled"];
        assert_eq!(pickled["$ext"], json!(80), "{show}");
        let pickle = B64.decode(pickled["base64"].as_str().unwrap()).unwrap();
        assert_eq!(pickle[0], 0x80, "a pickle starts with PROTO");
        let expected = json!({
            "big": 18446744073709551615u64,
            "bool": false,
            "bytearray": {"$bin": "YmE="},
            "bytes": {"$bin": "AAFweQ=="},
            "dict": {"z": 1, "a": {"deep": [true]}},
            "float": 0.5,
            "int": 42,
            "list": [1, null, "x"],
            "neg": i64::MIN,
            "opaque5": {"$ext": 5, "base64": "eA=="},
            "opaque74": {"$ext": 74, "base64": "rO0ABQ=="},
            "pickled": pickled.clone(),
            "str": "héllo from Python",
            "tuple": [1, 2],
        });
        assert_eq!(
            show["values"]["dict"].to_string(),
            r#"{"z":1,"a":{"deep":[true]}}"#
        );
        check_written(
            &base,
            &format!("Python on {url}"),
            "py-plain",
            "py-leased",
            &expected,
            7,
        );
    }
}

/// Sessions the Java binding wrote (the jar `make test-java` builds).
#[test]
fn sessions_written_from_java() {
    let jar = repo().join("bindings/java/target/sessionstore-0.1.0.jar");
    let Some(url) = url_of("redis") else {
        return skip("Java writer: no Redis server (run under tests/redis/harness.sh)");
    };
    if !jar.exists() {
        return skip(
            "Java writer: no bindings/java/target/sessionstore-0.1.0.jar (make test-java)",
        );
    }
    let base = with_prefix(&url, &unique_prefix("java"));
    run_ok(
        Command::new("java")
            // The source launcher compiles the writer first: C1 alone starts javac faster.
            .arg("-XX:TieredStopAtLevel=1")
            .arg("-cp")
            .arg(&jar)
            .arg(writer("WriteSession.java"))
            .args([&base, "java-plain", "java-leased"]),
        "the Java writer",
    );
    let expected = json!({
        "boolean": true,
        "byte": 5,
        "bytes": {"$bin": "AQID"},
        "char": "c",
        "double": 1.5,
        "float": 0.25,
        "integer": 7,
        "list": ["a", null, 2],
        "long": 1u64 << 40,
        "map": {"z": 1, "a": [true, null]},
        "opaque": {"$ext": 74, "base64": "rO0="},
        "short": -3,
        "string": "hello from Java",
    });
    check_written(&base, "Java", "java-plain", "java-leased", &expected, 8);
}

/// Sessions a C program wrote through `libsessionstore.so` (`cargo build`).
#[test]
fn sessions_written_from_c() {
    let lib_dir = target_dir().join("debug");
    let urls: Vec<String> = ["redis", "redis+cluster"]
        .iter()
        .filter_map(|s| url_of(s))
        .collect();
    if urls.is_empty() {
        return skip("C writer: no Redis servers (run under tests/redis/harness.sh)");
    }
    if !lib_dir.join("libsessionstore.so").exists() {
        return skip("C writer: no target/debug/libsessionstore.so (cargo build)");
    }
    let exe = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("write_session");
    let mut cc = Command::new("cc");
    cc.args(["-std=c11", "-Wall", "-Wextra", "-Wpedantic", "-Werror"])
        .arg(format!("-I{}", repo().join("include").display()))
        .arg(writer("write_session.c"))
        .arg("-o")
        .arg(&exe)
        .arg(format!("-L{}", lib_dir.display()))
        .arg("-lsessionstore")
        .arg(format!("-Wl,-rpath,{}", lib_dir.display()));
    run_ok(&mut cc, "compiling the C writer");
    for url in urls {
        let base = with_prefix(&url, &unique_prefix("c"));
        run_ok(
            Command::new(&exe).args([&base, "c-plain", "c-leased"]),
            "the C writer",
        );
        let expected = json!({
            "ext": {"$ext": 9, "base64": "Kg=="},
            "float": 2.5,
            "int": -1000,
            "map": {"a": 1, "b": [null, true]},
            "raw": {"$bin": "AP9D"},
            "str": "from C",
        });
        check_written(
            &base,
            &format!("C on {url}"),
            "c-plain",
            "c-leased",
            &expected,
            9,
        );
    }
}
