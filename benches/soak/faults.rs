//! Faults: the timeline the threads judge by, and the faults injected into the servers.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::RwLock;
use std::time::{Duration, Instant};

use sessionstore::ErrorKind;

use crate::secs;
use crate::servers::{admin, ClusterServers, Observed, Server, Shard};

/// How long after a failure (and after the end of every fault since) a write of unknown
/// outcome may still land: a stopped server runs what it had queued when it resumes.
pub(crate) const SETTLE: Duration = Duration::from_secs(3);

pub(crate) struct Fault {
    pub(crate) what: String,
    pub(crate) start: Instant,
    end: Option<Instant>,
    /// A cluster fault that may lose writes a master acknowledged (async replication).
    lossy: bool,
    /// The slots of the shard it hit (cluster only).
    slots: Vec<(u16, u16)>,
    pub(crate) note: String,
}

/// What the threads saw during one fault (and up to 10 s after it).
#[derive(Default)]
pub(crate) struct FaultStats {
    pub(crate) errors: AtomicU64,
    pub(crate) timeouts: AtomicU64,
    pub(crate) lost: AtomicU64,
    /// Milliseconds since the run began, + 1 (0: none).
    pub(crate) last_error: AtomicU64,
}

pub(crate) struct Timeline {
    pub(crate) t0: Instant,
    faults: RwLock<Vec<Fault>>,
    pub(crate) stats: Vec<FaultStats>,
    /// Timeout and Backend errors with no fault within the last 10 s.
    pub(crate) quiet: FaultStats,
}

impl Timeline {
    pub(crate) fn new(t0: Instant) -> Timeline {
        Timeline {
            t0,
            faults: RwLock::new(Vec::new()),
            stats: (0..256).map(|_| FaultStats::default()).collect(),
            quiet: FaultStats::default(),
        }
    }

    pub(crate) fn read(&self) -> std::sync::RwLockReadGuard<'_, Vec<Fault>> {
        self.faults.read().unwrap_or_else(|p| p.into_inner())
    }

    fn begin(&self, what: &str, lossy: bool, slots: Vec<(u16, u16)>) -> usize {
        let mut f = self.faults.write().unwrap_or_else(|p| p.into_inner());
        f.push(Fault {
            what: what.to_owned(),
            start: Instant::now(),
            end: None,
            lossy,
            slots,
            note: String::new(),
        });
        f.len() - 1
    }

    fn end(&self, no: usize, note: String) {
        let mut f = self.faults.write().unwrap_or_else(|p| p.into_inner());
        f[no].end = Some(Instant::now());
        f[no].note = note;
    }

    /// True when a write that failed at `failed` can no longer land after `at`.
    pub(crate) fn settled(&self, failed: Instant, at: Instant) -> bool {
        if at < failed + SETTLE {
            return false;
        }
        !self.read().iter().any(|f| {
            f.start <= at
                && f.end.is_none_or(|e| e >= failed)
                && f.end.is_none_or(|e| e + SETTLE > at)
        })
    }

    /// True when a fault may explain a session lost between `since` (when it was last seen)
    /// and now: a restart without data, or a lease that ran out during an outage.
    pub(crate) fn explains_loss(&self, since: Instant, ttl: Duration) -> bool {
        let now = Instant::now();
        self.read()
            .iter()
            .any(|f| f.start <= now && f.end.unwrap_or(now) + ttl + Duration::from_secs(5) >= since)
    }

    /// True when a fault overlapped `[from, to]` (leases may have been renewed late, or by a
    /// write of unknown outcome landing late).
    pub(crate) fn disturbed(&self, from: Instant, to: Instant) -> bool {
        self.read()
            .iter()
            .any(|f| f.start <= to && f.end.unwrap_or(to) + SETTLE >= from)
    }

    /// True when a write to cluster slot `slot` acknowledged at `acked` may have been lost by
    /// a failover (see [`Fault::lossy`]).
    pub(crate) fn at_risk(&self, slot: u16, acked: Instant) -> bool {
        self.read().iter().any(|f| {
            f.lossy
                && f.slots.iter().any(|&(a, b)| a <= slot && slot <= b)
                && acked + Duration::from_secs(1) >= f.start
                && f.end.is_none_or(|e| acked <= e + SETTLE)
        })
    }

    fn bucket(&self, now: Instant) -> &FaultStats {
        let faults = self.read();
        match faults.iter().rposition(|f| f.start <= now) {
            Some(i)
                if now <= faults[i].end.unwrap_or(now) + Duration::from_secs(10)
                    && i < self.stats.len() =>
            {
                &self.stats[i]
            }
            _ => &self.quiet,
        }
    }

    /// Counts an error; true when no fault was near.
    pub(crate) fn note_error(&self, kind: ErrorKind, now: Instant) -> bool {
        let b = self.bucket(now);
        b.errors.fetch_add(1, Ordering::Relaxed);
        if kind == ErrorKind::Timeout {
            b.timeouts.fetch_add(1, Ordering::Relaxed);
        }
        let at = (now - self.t0).as_millis() as u64 + 1;
        b.last_error.fetch_max(at, Ordering::Relaxed);
        std::ptr::eq(b, &self.quiet)
    }

    pub(crate) fn note_lost(&self, now: Instant) {
        self.bucket(now).lost.fetch_add(1, Ordering::Relaxed);
    }
}

/// Ends fault `no` of a server that was back at `restart_at` and answers now.
fn back(tl: &Timeline, no: usize, restart_at: Instant) {
    let start = tl.read()[no].start;
    tl.end(
        no,
        format!(
            "back at +{} (answering at +{})",
            secs(restart_at - start),
            secs(Instant::now() - start)
        ),
    );
}

pub(crate) fn standalone_fault(n: usize, srv: &mut Server, tl: &Timeline, seen: &mut Observed) {
    let kinds = [
        "kill -9, down 1.5 s, restart (AOF)",
        "SIGSTOP 2 s (past timeout_ms), SIGCONT",
        "clean restart (SIGTERM, AOF flushed)",
        "SIGSTOP 0.3 s (within timeout_ms)",
        "kill -9 and restart without its data (AOF removed)",
        "kill -9, down 3 s, restart (AOF)",
        "SIGSTOP 6 s (past the lease), SIGCONT",
        "clean restart (SIGTERM, AOF flushed)",
        "kill -9, down 0.5 s, restart (AOF)",
        "SIGSTOP 1 s, SIGCONT",
    ];
    let kind = n % kinds.len();
    // The server's own count of scripts sent in full (each one after a NOSCRIPT), before it
    // goes: a restart forgets the scripts and the counts.
    if !matches!(kind, 1 | 3 | 6 | 9) {
        seen.take(srv);
    }
    let no = tl.begin(kinds[kind], false, Vec::new());
    let sleep = |ms: u64| std::thread::sleep(Duration::from_millis(ms));
    let restart_at;
    match kind {
        0 | 5 | 8 => {
            srv.kill9();
            sleep([1500, 0, 0, 0, 0, 3000, 0, 0, 500][kind]);
            restart_at = Instant::now();
            srv.spawn();
        }
        1 | 3 | 6 | 9 => {
            srv.signal("-STOP");
            sleep([0, 2000, 0, 300, 0, 0, 6000, 0, 0, 1000][kind]);
            restart_at = Instant::now();
            srv.signal("-CONT");
        }
        2 | 7 => {
            srv.terminate();
            restart_at = Instant::now();
            srv.spawn();
        }
        _ => {
            srv.kill9();
            srv.wipe();
            sleep(500);
            restart_at = Instant::now();
            srv.spawn();
        }
    }
    back(tl, no, restart_at);
}

/// The faults of a lone Hazelcast member. It keeps its data in memory only, so a restart loses
/// every session (their handles answer "destroyed", as after a redis-server restarted without
/// its data).
pub(crate) fn member_fault(n: usize, srv: &mut Server, tl: &Timeline) {
    let kinds = [
        "SIGSTOP 0.3 s (within timeout_ms)",
        "SIGSTOP 2 s (past timeout_ms), SIGCONT",
        "kill -9, down 1 s, restart (no data kept)",
        "SIGSTOP 6 s (past the lease), SIGCONT",
        "SIGSTOP 1 s, SIGCONT",
        "clean restart (SIGTERM; no data kept)",
    ];
    let kind = n % kinds.len();
    let no = tl.begin(kinds[kind], false, Vec::new());
    let sleep = |ms: u64| std::thread::sleep(Duration::from_millis(ms));
    let restart_at;
    match kind {
        2 => {
            srv.kill9();
            sleep(1000);
            restart_at = Instant::now();
            srv.spawn();
        }
        5 => {
            srv.terminate();
            restart_at = Instant::now();
            srv.spawn();
        }
        _ => {
            srv.signal("-STOP");
            sleep([300, 2000, 0, 6000, 1000][kind]);
            restart_at = Instant::now();
            srv.signal("-CONT");
        }
    }
    back(tl, no, restart_at);
}

pub(crate) fn cluster_fault(n: usize, c: &mut ClusterServers, tl: &Timeline, seen: &mut Observed) {
    let kinds = [
        "kill -9 of a master; its replica takes over; it restarts as a replica",
        "SIGSTOP of a master for 3 s (past the failover), SIGCONT",
        "clean restart of a master (SIGTERM)",
        "kill -9 of a replica, down 2 s, restart",
        "SIGSTOP of a master for 8 s (past the failover and the lease), SIGCONT",
        "manual failover (CLUSTER FAILOVER on a replica)",
        "SIGSTOP of a master for 0.4 s (within the node timeout)",
        "clean restart of a replica (SIGTERM)",
    ];
    let kind = n % kinds.len();
    let shards = c.shards();
    if shards.len() != 3 {
        println!(
            "  fault {n}: skipped, the cluster has {} masters",
            shards.len()
        );
        return;
    }
    let Shard {
        master,
        slots,
        replica,
    } = shards[n % 3].clone();
    let replica = replica.unwrap_or(master);
    let first_slot = slots.first().map_or(0, |r| r.0);
    let lossy = matches!(kind, 0 | 1 | 2 | 4);
    let victim = if matches!(kind, 3 | 5 | 7) {
        replica
    } else {
        master
    };
    if matches!(kind, 0 | 2 | 3 | 7) {
        seen.take(c.node(victim));
    }
    let what = format!("{} [port {victim}, slots {slots:?}]", kinds[kind]);
    let no = tl.begin(&what, lossy, slots.clone());
    let start = tl.read()[no].start;
    let mut note = String::new();
    let sleep = |ms: u64| std::thread::sleep(Duration::from_millis(ms));
    match kind {
        0 => {
            c.node(master).kill9();
            match c.wait_promoted(master, first_slot, Duration::from_secs(30)) {
                Some(d) => note.push_str(&format!("replica promoted at +{}; ", secs(d))),
                None => note.push_str("no promotion within 30 s; "),
            }
            c.node(master).spawn();
        }
        1 | 4 | 6 => {
            let stop_for = Duration::from_millis([0, 3000, 0, 0, 8000, 0, 400][kind]);
            c.node(master).signal("-STOP");
            // Whether (and when) the cluster failed over while the master was stopped.
            if let Some(d) = c.wait_promoted(master, first_slot, stop_for) {
                note.push_str(&format!(
                    "replica promoted at +{} while the master was stopped; ",
                    secs(d)
                ));
            }
            std::thread::sleep(stop_for.saturating_sub(start.elapsed()));
            c.node(master).signal("-CONT");
            note.push_str(&format!("resumed at +{}; ", secs(start.elapsed())));
        }
        2 => {
            c.node(master).terminate();
            c.node(master).spawn();
            note.push_str(&format!("restarted at +{}; ", secs(start.elapsed())));
        }
        3 => {
            c.node(replica).kill9();
            sleep(2000);
            c.node(replica).spawn();
        }
        5 => {
            let ok = admin(replica, &["CLUSTER", "FAILOVER"]).is_some();
            match c.wait_promoted(master, first_slot, Duration::from_secs(30)) {
                Some(d) if ok => note.push_str(&format!("replica promoted at +{}; ", secs(d))),
                _ => note.push_str("manual failover did not happen; "),
            }
        }
        _ => {
            c.node(replica).terminate();
            c.node(replica).spawn();
        }
    }
    let healthy = c.wait_healthy(Duration::from_secs(60));
    let now_master = c
        .shards()
        .iter()
        .find(|s| s.slots.first().map(|r| r.0) == Some(first_slot))
        .map(|s| s.master);
    note.push_str(&format!(
        "{} at +{}; the shard's master is now port {}",
        if healthy { "healthy" } else { "NOT healthy" },
        secs(start.elapsed()),
        now_master.map_or("?".to_owned(), |p| p.to_string())
    ));
    tl.end(no, note);
}
