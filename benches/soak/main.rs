//! The soak: a long run of many threads over churning sessions, with server faults, checked
//! against a model of every session. A benchmark-style run, not part of `make test`.
//!
//! Run it with `make soak` (10 minutes per backend, one after the other), or one backend:
//!
//! ```text
//! make soak SOAK_SECONDS=600 SOAK_TARGETS="memory redis cluster hazelcast"
//! scripts/soak.sh redis                              # one target, settings from the env
//! SOAK_SECONDS=120 cargo bench --bench soak -- cluster   # the program alone (servers too)
//! ```
//!
//! Settings (environment): `SOAK_SECONDS` (600, per backend), `SOAK_WARMUP_SECONDS` (60),
//! `SOAK_THREADS` (16), `SOAK_SESSIONS_PER_THREAD` (8), `SOAK_FAULT_EVERY` (60 s; the first
//! fault comes at half that, so one lands in the warm-up), `SOAK_TIMEOUT_MS` (500),
//! `SOAK_TTL_MS` (5000), `SOAK_PAUSE_US` (100: each thread's pause between operations, so the
//! run does not take every core of a shared machine; 0 for full speed), `SOAK_SEED`,
//! `SOAK_REDIS_SERVER` / `SOAK_REDIS_CLI` (the binaries), `SOAK_DIR` (where the servers live).
//!
//! Each target runs in its own process:
//! - `memory`: two `memory://` factories (each its own world: a session lives in one of them);
//! - `redis`: a redis-server this program starts on a free 127.0.0.1 port (AOF, `appendfsync
//!   always`, so a restart keeps every acknowledged write), two factories on its url standing
//!   for two nodes; every minute a fault: `kill -9` and restart, SIGSTOP/SIGCONT (shorter and
//!   longer than `timeout_ms`, and longer than the lease), a clean restart, and a restart
//!   that lost its data (kill -9 with the AOF removed: every session answers "destroyed");
//! - `cluster`: six redis-servers (3 masters, 3 replicas, `cluster-node-timeout 1000`, AOF
//!   `everysec`) made a cluster by `redis-cli --cluster create`, two factories on a url naming
//!   them all; every minute a fault: `kill -9` of a master (its replica takes over; the dead
//!   one restarts as a replica), SIGSTOP of a master (short, past the failover, and long), a
//!   clean restart of a master, `kill -9` or a clean restart of a replica, a manual failover;
//! - `hazelcast`: a Hazelcast member (tests/hazelcast/member.xml, the jar of
//!   `SOAK_HAZELCAST_JAR`, which scripts/soak.sh sets), two factories on its url; every minute a
//!   fault: SIGSTOP (shorter and longer than `timeout_ms`, and longer than the lease), `kill -9`
//!   and restart, a clean restart. A lone member keeps no data across a restart: every session
//!   answers "destroyed" after one.
//!
//! Sixteen threads each own a few session ids and do random operations on them: open (from
//! either factory, up to three handles on one session), set/get/has/del/len/keys/get_all/
//! set_many, destroy (through a handle, or `destroy_session` on a factory), release, re-open
//! of the same id at once or after a pause shorter than the lease, around it, or longer.
//! Every value names its writer: thread, session, incarnation, key and a sequence number, and
//! carries a padding derived from them. Each thread keeps the model of its own sessions: per
//! key the last acknowledged state and the writes whose outcome is unknown (a call that failed
//! with a timeout or a backend error may have run), which stay possible until they settled
//! (3 s after the failure and after the end of every fault since). Every read is judged:
//! - **foreign**: a value of another session, key or incarnation, or a corrupt one: never;
//! - **stale**: a value (or absence) older than the last acknowledged write and not one of the
//!   unknown outcomes: never, with one exception reported on its own line, **reverted**: on a
//!   cluster, a write acknowledged by a master within a second before it was killed or stopped
//!   (or by a deposed master in the moments after it came back) may be lost with it, since
//!   Redis replicates asynchronously;
//! - a session lost without a destroy (its handles answer "destroyed"; a new open finds it
//!   empty) is correct after a fault (a restart without data, a lease that ran out during an
//!   outage) and a failure otherwise; a session re-opened after its lease must be empty, one
//!   re-opened well within it must be intact.
//!
//! Also checked: no call takes longer than `timeout_ms` + 250 ms, RSS grows less than 5 %
//! from the end of the warm-up to the end, the process's file descriptors are as many after
//! the factories were closed as before they were opened, and no error of a kind other than
//! Timeout, Backend or (where due) Destroyed.
//!
//! Reported beside, to tell the library from its surroundings: the live heap (every Rust
//! allocation not yet freed, counted by this program's global allocator: a leak grows it,
//! memory the allocator keeps for reuse does not) and glibc's own `mallinfo2`; the servers'
//! own stalls (`LATENCY LATEST`); when this process was not scheduled (a heartbeat thread;
//! each call over the bound is shown with it); the scripts the servers received in full
//! after a `NOSCRIPT` (EVAL); and per fault its errors, the sessions it cost and when its
//! last error came. On `memory://`, RSS also counts what glibc keeps in its per-thread caches
//! (tcache), which sixteen threads fill slowly with the values' many sizes:
//! `GLIBC_TUNABLES=glibc.malloc.tcache_count=0` shows RSS without them.
//!
//! Every process this program starts is stopped by its PID at the end (`scripts/soak.sh` also
//! stops any it left behind, by PID). No traffic goes anywhere but 127.0.0.1.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sessionstore::StoreFactory;

mod faults;
mod measure;
mod model;
mod rng;
mod servers;
mod settings;
mod stats;
mod worker;

use faults::{cluster_fault, member_fault, standalone_fault, Timeline};
use measure::{fds, heap_in_use_kib, live_kib, rss_kib, Heartbeat};
use rng::Rng;
use servers::{free_port, ClusterServers, Observed, Server, Servers};
use settings::{Settings, Target};
use stats::{Stats, OPS};
use worker::{Ctx, Worker};

/// A duration as the output writes it, in seconds (workers and faults write theirs so too).
pub(crate) fn secs(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

/// A duration in milliseconds.
pub(crate) fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// A factory on `url`, retrying for 30 s while the servers come up.
fn open_factory(url: &str) -> StoreFactory {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match StoreFactory::open(url) {
            Ok(f) => return f,
            Err(e) if Instant::now() < deadline => {
                eprintln!("soak: open {url}: {e}; retrying");
                std::thread::sleep(Duration::from_millis(200));
            }
            Err(e) => panic!("cannot open {url}: {e}"),
        }
    }
}

/// One target's run: its servers, two factories, the worker threads and the faults, then
/// the report and its checks; true when every check passed.
fn run(s: &Settings) -> bool {
    let _ = std::fs::create_dir_all(&s.dir);
    let mut rng = Rng::new(s.seed);
    let mut taken = Vec::new();
    let opts = format!(
        "timeout_ms={}&ttl_ms={}&prefix=soak{}",
        s.timeout.as_millis(),
        s.ttl.as_millis(),
        std::process::id()
    );
    let mut servers = Servers {
        standalone: None,
        cluster: None,
        member: None,
        seen: Observed::default(),
    };
    let url = match s.target {
        Target::Memory => format!("memory://?{opts}"),
        Target::Redis => {
            let port = free_port(&mut rng, &mut taken);
            let mut srv = Server::new(
                s,
                "standalone",
                port,
                &[
                    "--save",
                    "",
                    "--appendonly",
                    "yes",
                    "--appendfsync",
                    "always",
                ],
            );
            srv.spawn();
            servers.standalone = Some(srv);
            format!("redis://127.0.0.1:{port}?{opts}")
        }
        Target::Cluster => {
            let c = ClusterServers::start(s, &mut rng, &mut taken);
            let url = c.url(&opts);
            servers.cluster = Some(c);
            url
        }
        Target::Hazelcast => {
            let port = free_port(&mut rng, &mut taken);
            let mut member = Server::member(s, port);
            member.spawn();
            servers.member = Some(member);
            format!("hazelcast://127.0.0.1:{port}/sessionstore-test?{opts}")
        }
    };
    println!(
        "== soak {}: {url}\n   {} s ({} s warm-up), {} threads x {} sessions, timeout_ms={}, \
         ttl_ms={}, pause {} us, fault every {} s, seed {}",
        s.target.name(),
        s.seconds,
        s.warmup,
        s.threads,
        s.sessions,
        s.timeout.as_millis(),
        s.ttl.as_millis(),
        s.pause.as_micros(),
        s.fault_every,
        s.seed
    );

    let fds_before = fds();
    let rss_before = rss_kib();
    let heap_before = heap_in_use_kib();
    let live_before = live_kib();
    let heartbeat = Heartbeat {
        stalls: std::sync::Mutex::new(Vec::new()),
    };
    let factories = vec![open_factory(&url), open_factory(&url)];
    let t0 = Instant::now();
    let tl = Timeline::new(t0);
    let ops_total = AtomicU64::new(0);
    let stop = AtomicBool::new(false);
    let cx = Ctx {
        s,
        factories: &factories,
        tl: &tl,
        ops_total: &ops_total,
        stop: &stop,
    };
    let end = t0 + Duration::from_secs(s.seconds);
    let warm = t0 + Duration::from_secs(s.warmup.min(s.seconds));
    let mut warm_sample: Option<(u64, usize, u64, i64)> = None;
    let mut rss_min = u64::MAX;
    let mut rss_max = 0;
    let mut end_sample = (0, 0, 0, 0);
    let faults_on = s.target != Target::Memory && s.fault_every > 0;
    let mut next_fault = t0 + Duration::from_secs(s.fault_every / 2);
    let mut fault_no = 0;
    let mut next_print = t0 + Duration::from_secs(60);
    let mut next_rss = warm;

    let mut total = Stats::default();
    std::thread::scope(|scope| {
        let beat = std::thread::Builder::new()
            .name("soak-heartbeat".into())
            .spawn_scoped(scope, || heartbeat.run(&stop))
            .expect("heartbeat thread");
        let workers: Vec<_> = (0..s.threads)
            .map(|t| {
                let cx = &cx;
                std::thread::Builder::new()
                    .name(format!("soak-{t}"))
                    .spawn_scoped(scope, move || {
                        Worker {
                            cx,
                            t,
                            rng: Rng::new(
                                s.seed ^ (t as u64 + 1).wrapping_mul(0xA076_1D64_78BD_642F),
                            ),
                            st: Stats::default(),
                        }
                        .run()
                    })
                    .expect("worker thread")
            })
            .collect();
        loop {
            let now = Instant::now();
            if now >= end {
                end_sample = (rss_kib(), fds(), heap_in_use_kib(), live_kib());
                break;
            }
            if warm_sample.is_none() && now >= warm {
                warm_sample = Some((rss_kib(), fds(), heap_in_use_kib(), live_kib()));
            }
            if warm_sample.is_some() && now >= next_rss {
                let r = rss_kib();
                rss_min = rss_min.min(r);
                rss_max = rss_max.max(r);
                next_rss = now + Duration::from_secs(5);
            }
            if now >= next_print {
                println!(
                    "   t={:>4} s: {} operations, RSS {} KiB, live heap {} KiB (malloc's in use {} \
                     KiB), {} fds",
                    (now - t0).as_secs(),
                    ops_total.load(Ordering::Relaxed),
                    rss_kib(),
                    live_kib(),
                    heap_in_use_kib(),
                    fds()
                );
                next_print += Duration::from_secs(60);
            }
            // A fault only when it can end (and settle) well before the run does.
            if faults_on && now >= next_fault && now + Duration::from_secs(25) < end {
                if let Some(srv) = servers.standalone.as_mut() {
                    standalone_fault(fault_no, srv, &tl, &mut servers.seen);
                } else if let Some(c) = servers.cluster.as_mut() {
                    cluster_fault(fault_no, c, &tl, &mut servers.seen);
                } else if let Some(member) = servers.member.as_mut() {
                    member_fault(fault_no, member, &tl);
                }
                let faults = tl.read();
                let f = faults.last().expect("the fault just run");
                println!(
                    "   fault {} at t={}: {}; {}",
                    fault_no + 1,
                    secs(f.start - t0),
                    f.what,
                    f.note
                );
                drop(faults);
                fault_no += 1;
                next_fault += Duration::from_secs(s.fault_every);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        stop.store(true, Ordering::Relaxed);
        for w in workers {
            total.merge(w.join().expect("a worker panicked"));
        }
        beat.join().expect("the heartbeat panicked");
    });
    let elapsed = t0.elapsed();
    let fds_live = fds();
    for f in &factories {
        f.close();
    }
    drop(factories);
    let fds_after = fds();
    servers.take_all();
    let (rss_warm, fds_warm, heap_warm, live_warm) =
        warm_sample.unwrap_or((rss_before, fds_before, heap_before, live_before));
    let (rss_end, _, heap_end, live_end) = end_sample;

    // ---- the report
    let ops: u64 = total.ops.values().sum();
    println!("-- results {}", s.target.name());
    println!(
        "   operations: {ops} in {} ({:.0}/s): {}",
        secs(elapsed),
        ops as f64 / elapsed.as_secs_f64(),
        OPS.iter()
            .map(|op| format!("{} {}", op.name(), total.ops.get(op).copied().unwrap_or(0)))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let errors: u64 = total.errors.values().sum();
    println!(
        "   errors by kind: {}",
        if total.errors.is_empty() {
            "none".to_owned()
        } else {
            format!(
                "{errors} = {}",
                total
                    .errors
                    .iter()
                    .map(|(k, v)| format!("{k} {v}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    );
    for (k, sample) in &total.error_samples {
        println!("     e.g. {k}: {sample}");
    }
    let quiet = tl.quiet.errors.load(Ordering::Relaxed);
    println!(
        "   Timeout/Backend errors with no fault within 10 s: {quiet} ({} timeouts)",
        tl.quiet.timeouts.load(Ordering::Relaxed)
    );
    for q in &total.quiet_samples {
        println!("     e.g. {q}");
    }
    for (i, f) in tl.read().iter().enumerate() {
        let st = &tl.stats[i];
        let last = st.last_error.load(Ordering::Relaxed);
        println!(
            "   fault {} at t={}: {} Timeout/Backend errors ({} timeouts), {} sessions lost; last error at +{}",
            i + 1,
            secs(f.start - t0),
            st.errors.load(Ordering::Relaxed),
            st.timeouts.load(Ordering::Relaxed),
            st.lost.load(Ordering::Relaxed),
            if last == 0 {
                "-".to_owned()
            } else {
                secs((t0 + Duration::from_millis(last - 1)).saturating_duration_since(f.start))
            }
        );
    }
    if matches!(s.target, Target::Redis | Target::Cluster) {
        println!(
            "   scripts sent in full after NOSCRIPT (EVAL): {}, EVALSHA: {}",
            servers.seen.eval, servers.seen.evalsha
        );
        println!(
            "   server stalls over 100 ms (LATENCY LATEST): {}",
            if servers.seen.stalls.is_empty() {
                "none".to_owned()
            } else {
                servers
                    .seen
                    .stalls
                    .iter()
                    .map(|(k, v)| format!("{k} {v} ms"))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        );
    }
    println!(
        "   slowest call: {} ({}), bound {} (timeout_ms {} + 250 ms); {} calls over it",
        ms(total.slowest),
        total.slowest_what,
        ms(s.bound()),
        s.timeout.as_millis(),
        total.over_bound
    );
    println!(
        "   reads checked: {}; foreign {}, stale {}; reverted by a failover {}; unknown \
         outcomes seen landed {}",
        total.reads_checked, total.foreign, total.stale, total.reverted, total.landed
    );
    println!(
        "   sessions: stale handles answering Destroyed {}; lost in a fault {}, lost with no \
         fault {}",
        total.destroyed_expected, total.lost_explained, total.lost_unexplained
    );
    println!(
        "   leases on re-open: expired as due {}, kept as due {}, either (near the lease or \
         after a fault) {}, kept past due {}",
        total.lease_expired_due,
        total.lease_kept_due,
        total.lease_either,
        total.lease_kept_past_due
    );
    let growth = if rss_warm == 0 {
        0.0
    } else {
        (rss_end as f64 - rss_warm as f64) * 100.0 / rss_warm as f64
    };
    println!(
        "   RSS: {rss_before} KiB before the factories, {rss_warm} KiB after warm-up, {rss_end} \
         KiB at the end ({growth:+.2} %); after warm-up min {} max {} KiB",
        if rss_min == u64::MAX { 0 } else { rss_min },
        rss_max
    );
    println!(
        "   live heap (bytes allocated, not freed): {live_before} KiB before the factories, \
         {live_warm} KiB after warm-up, {live_end} KiB at the end ({:+} KiB); malloc's own in \
         use (mallinfo2, with its caches): {heap_before}, {heap_warm}, {heap_end} KiB",
        live_end - live_warm
    );
    println!(
        "   fds: {fds_before} before the factories, {fds_warm} after warm-up, {} at the end, \
         {fds_live} once the threads ended, {fds_after} after closing the factories",
        end_sample.1
    );
    {
        let stalls = heartbeat.stalls.lock().unwrap_or_else(|p| p.into_inner());
        let worst = stalls.iter().max_by_key(|(a, b)| *b - *a);
        let over = |ms: u64| {
            stalls
                .iter()
                .filter(|(a, b)| *b - *a > Duration::from_millis(ms))
                .count()
        };
        println!(
            "   this process not scheduled (a 10 ms sleep waking > 50 ms late): {} times, {} over \
             100 ms, {} over 250 ms; worst {}",
            stalls.len(),
            over(100),
            over(250),
            worst.map_or("-".to_owned(), |(a, b)| format!(
                "{} at t={}",
                ms(*b - *a),
                secs(*a - t0)
            ))
        );
    }
    if !total.slow_calls.is_empty() {
        total.slow_calls.sort_by_key(|c| c.1);
        let mut explained = 0;
        println!(
            "   calls over {} ({} recorded): each with the time this process was not \
             scheduled during it",
            ms(s.bound()),
            total.slow_calls.len()
        );
        for (i, (op, start, took, kind)) in total.slow_calls.iter().enumerate() {
            let stalled = heartbeat.overlap(*start, *start + *took);
            if took.saturating_sub(stalled) <= s.bound() {
                explained += 1;
            }
            if i < 20 {
                println!(
                    "     t={} {} took {} ({}), not scheduled {} of it",
                    secs(*start - t0),
                    op.name(),
                    ms(*took),
                    kind.map_or("ok".to_owned(), |k| format!("{k:?}")),
                    ms(stalled)
                );
            }
        }
        println!(
            "     {explained} of {} within the bound once the time not scheduled is taken out",
            total.slow_calls.len()
        );
    }
    if !total.anomalies.is_empty() {
        println!("   anomalies (first {}):", total.anomalies.len());
        for a in &total.anomalies {
            println!("     {a}");
        }
    }
    let faults_done = tl.read().len();
    let checks = [
        ("operations ran", ops > 0, format!("{ops}")),
        (
            "0 foreign reads",
            total.foreign == 0,
            total.foreign.to_string(),
        ),
        ("0 stale reads", total.stale == 0, total.stale.to_string()),
        (
            "no session lost without a fault",
            total.lost_unexplained == 0,
            total.lost_unexplained.to_string(),
        ),
        (
            "no lease kept past due",
            total.lease_kept_past_due == 0,
            total.lease_kept_past_due.to_string(),
        ),
        (
            "only Timeout/Backend/Destroyed errors",
            total.unexpected_errors == 0,
            total.unexpected_errors.to_string(),
        ),
        (
            "no call over timeout_ms + 250 ms",
            total.slowest <= s.bound(),
            ms(total.slowest),
        ),
        (
            "RSS growth under 5 % after warm-up",
            growth < 5.0,
            format!("{growth:+.2} %"),
        ),
        (
            "fds flat (after close = before open)",
            fds_after == fds_before,
            format!("{fds_before} -> {fds_after}"),
        ),
        (
            "faults injected",
            !faults_on || faults_done > 0,
            faults_done.to_string(),
        ),
    ];
    let mut pass = true;
    for (name, ok, got) in &checks {
        println!("   [{}] {name}: {got}", if *ok { "PASS" } else { "FAIL" });
        pass &= ok;
    }
    println!(
        "RESULT {}: {}",
        s.target.name(),
        if pass { "PASS" } else { "FAIL" }
    );
    drop(servers);
    let _ = std::fs::remove_dir_all(&s.dir);
    if let Some(parent) = s.dir.parent() {
        let _ = std::fs::remove_dir(parent); // when no other target's run uses it
    }
    pass
}

fn main() {
    let targets: Vec<Target> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .map(|a| match a.as_str() {
            "memory" => Target::Memory,
            "redis" => Target::Redis,
            "cluster" => Target::Cluster,
            "hazelcast" => Target::Hazelcast,
            other => panic!("unknown target {other:?}: memory, redis, cluster or hazelcast"),
        })
        .collect();
    let targets = if targets.is_empty() {
        vec![
            Target::Memory,
            Target::Redis,
            Target::Cluster,
            Target::Hazelcast,
        ]
    } else {
        targets
    };
    let mut all = true;
    for t in targets {
        all &= run(&Settings::from_env(t));
    }
    if !all {
        std::process::exit(1);
    }
}
