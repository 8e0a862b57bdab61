//! The servers a run owns (a redis-server, a Redis Cluster, or a Hazelcast member), the Redis
//! admin client, and what the redis-servers counted.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::rng::Rng;
use crate::settings::Settings;

/// A free 127.0.0.1 port whose cluster bus port (+10000) is free too, both below the kernel's
/// ephemeral range, so no outgoing connection can be holding them (as tests/redis/harness.sh).
pub(crate) fn free_port(rng: &mut Rng, taken: &mut Vec<u16>) -> u16 {
    loop {
        let p = 10000 + (rng.next() % 12700) as u16;
        if taken.contains(&p) || taken.contains(&(p + 10000)) {
            continue;
        }
        if TcpListener::bind(("127.0.0.1", p)).is_ok()
            && TcpListener::bind(("127.0.0.1", p + 10000)).is_ok()
        {
            taken.extend([p, p + 10000]);
            return p;
        }
    }
}

/// What a [`Server`] runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Redis,
    Hazelcast,
}

/// One server process, in its own directory, restarted with the same arguments.
pub(crate) struct Server {
    name: String,
    kind: Kind,
    bin: String,
    port: u16,
    dir: PathBuf,
    args: Vec<String>,
    child: Option<Child>,
    pidfile: PathBuf,
}

impl Server {
    pub(crate) fn new(s: &Settings, name: &str, port: u16, args: &[&str]) -> Server {
        let dir = s.dir.join(name);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("server directory");
        let mut all: Vec<String> = ["--port", &port.to_string(), "--bind", "127.0.0.1"]
            .iter()
            .map(|a| a.to_string())
            .collect();
        all.extend(args.iter().map(|a| a.to_string()));
        // LATENCY LATEST then tells whether the server itself stalled (no fault of ours).
        all.extend(
            [
                "--daemonize",
                "no",
                "--logfile",
                "log",
                "--latency-monitor-threshold",
                "100",
            ]
            .map(String::from),
        );
        Server {
            name: name.to_owned(),
            kind: Kind::Redis,
            bin: s.redis_server.clone(),
            port,
            dir,
            args: all,
            child: None,
            pidfile: s.dir.join("pids"),
        }
    }

    /// A Hazelcast member on `port`: tests/hazelcast/member.xml, the jar of
    /// `SOAK_HAZELCAST_JAR`. A member keeps its data in memory only: a restart loses it.
    pub(crate) fn member(s: &Settings, port: u16) -> Server {
        assert!(
            !s.hazelcast_jar.is_empty(),
            "SOAK_HAZELCAST_JAR names no jar (scripts/soak.sh sets it)"
        );
        let dir = s.dir.join("member");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("member directory");
        let template = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/hazelcast/member.xml");
        let xml = std::fs::read_to_string(template)
            .expect("tests/hazelcast/member.xml")
            .replace("@PORT@", &port.to_string());
        std::fs::write(dir.join("member.xml"), xml).expect("member.xml");
        let args = [
            "-Xms128m",
            "-Xmx512m",
            "-Dhazelcast.config=member.xml",
            "-cp",
            &s.hazelcast_jar,
            "com.hazelcast.core.server.HazelcastMemberStarter",
        ];
        Server {
            name: "member".to_owned(),
            kind: Kind::Hazelcast,
            bin: "java".to_owned(),
            port,
            dir,
            args: args.map(String::from).to_vec(),
            child: None,
            pidfile: s.dir.join("pids"),
        }
    }

    /// Starts it and waits until it is ready: a redis-server answers PING (after loading its
    /// data), a member's log says it started.
    pub(crate) fn spawn(&mut self) {
        let log = self.dir.join("log");
        let stderr = match self.kind {
            Kind::Redis => Stdio::null(),
            Kind::Hazelcast => std::fs::File::create(&log).expect("member log").into(),
        };
        let child = Command::new(&self.bin)
            .args(&self.args)
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect(&self.bin);
        // scripts/soak.sh stops, by PID, any server a crashed run left behind.
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.pidfile)
        {
            let _ = writeln!(f, "{}", child.id());
        }
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            let ready = match self.kind {
                Kind::Redis => admin(self.port, &["PING"]).as_deref() == Some("PONG"),
                Kind::Hazelcast => {
                    std::fs::read_to_string(&log).is_ok_and(|text| text.contains(" is STARTED"))
                }
            };
            if ready {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("{} (port {}) did not come up", self.name, self.port);
    }

    fn running(&self) -> bool {
        self.child.is_some()
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    pub(crate) fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([sig, &self.pid().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "kill {sig} {} ({})", self.pid(), self.name);
    }

    pub(crate) fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM and wait for a clean exit (a master first lets its replicas catch up, AOF is
    /// flushed); SIGKILL if it takes over 20 s.
    pub(crate) fn terminate(&mut self) {
        let Some(mut c) = self.child.take() else {
            return;
        };
        let _ = Command::new("kill")
            .args(["-CONT", &c.id().to_string()])
            .status();
        let _ = Command::new("kill")
            .args(["-TERM", &c.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = c.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = c.kill();
        let _ = c.wait();
    }

    /// Removes its persisted data (for a restart that lost it).
    pub(crate) fn wipe(&self) {
        let _ = std::fs::remove_dir_all(self.dir.join("appendonlydir"));
        let _ = std::fs::remove_file(self.dir.join("dump.rdb"));
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.terminate();
    }
}

/// One command to 127.0.0.1:`port`, its reply as text (arrays one element a line); `None` on
/// an error reply or when the server does not answer within 2 s.
pub(crate) fn admin(port: u16, args: &[&str]) -> Option<String> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut c = TcpStream::connect_timeout(&addr, Duration::from_secs(1)).ok()?;
    c.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    c.set_write_timeout(Some(Duration::from_secs(2))).ok()?;
    let mut req = format!("*{}\r\n", args.len());
    for a in args {
        req.push_str(&format!("${}\r\n{a}\r\n", a.len()));
    }
    c.write_all(req.as_bytes()).ok()?;
    let mut r = BufReader::new(c);
    let mut out = String::new();
    read_reply(&mut r, &mut out)?;
    Some(out.trim_end().to_owned())
}

fn read_reply(r: &mut BufReader<TcpStream>, out: &mut String) -> Option<()> {
    let mut line = String::new();
    r.read_line(&mut line).ok()?;
    let line = line.trim_end();
    let (kind, rest) = line.split_at_checked(1)?;
    match kind {
        "+" | ":" => {
            out.push_str(rest);
            out.push('\n');
        }
        "$" => {
            let n: i64 = rest.parse().ok()?;
            if n >= 0 {
                let mut buf = vec![0u8; n as usize + 2];
                r.read_exact(&mut buf).ok()?;
                out.push_str(&String::from_utf8_lossy(&buf[..n as usize]));
                out.push('\n');
            }
        }
        "*" => {
            let n: i64 = rest.parse().ok()?;
            for _ in 0..n.max(0) {
                read_reply(r, out)?;
            }
        }
        _ => return None,
    }
    Some(())
}

/// `calls` of `cmdstat_<cmd>` in the server's INFO commandstats.
fn command_calls(port: u16, cmd: &str) -> u64 {
    let Some(info) = admin(port, &["INFO", "commandstats"]) else {
        return 0;
    };
    let tag = format!("cmdstat_{cmd}:calls=");
    info.lines()
        .find_map(|l| l.strip_prefix(&tag))
        .and_then(|v| v.split(',').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// The server's own stalls over 100 ms (LATENCY LATEST): `event max-ms`, one a line.
fn latency(port: u16) -> Vec<String> {
    let Some(text) = admin(port, &["LATENCY", "LATEST"]) else {
        return Vec::new();
    };
    // Four fields per event: name, when, latest ms, max ms.
    let f: Vec<&str> = text.lines().collect();
    f.chunks(4)
        .filter(|c| c.len() == 4)
        .map(|c| format!("{} max {} ms", c[0], c[3]))
        .collect()
}

/// One line of CLUSTER NODES.
#[derive(Clone, Debug)]
struct NodeInfo {
    id: String,
    port: u16,
    master: bool,
    failing: bool,
    master_id: String,
    slots: Vec<(u16, u16)>,
}

fn cluster_nodes(port: u16) -> Option<Vec<NodeInfo>> {
    let text = admin(port, &["CLUSTER", "NODES"])?;
    let mut out = Vec::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 8 {
            continue;
        }
        let port = f[1]
            .split('@')
            .next()
            .and_then(|a| a.rsplit(':').next())
            .and_then(|p| p.parse().ok())?;
        let slots = f[8..]
            .iter()
            .filter(|s| !s.starts_with('['))
            .filter_map(|s| match s.split_once('-') {
                Some((a, b)) => Some((a.parse().ok()?, b.parse().ok()?)),
                None => s.parse().ok().map(|a| (a, a)),
            })
            .collect();
        out.push(NodeInfo {
            id: f[0].to_owned(),
            port,
            master: f[2].contains("master"),
            failing: f[2].contains("fail"),
            master_id: f[3].to_owned(),
            slots,
        });
    }
    Some(out)
}

/// One master, its slots and its replica.
#[derive(Clone)]
pub(crate) struct Shard {
    pub(crate) master: u16,
    pub(crate) slots: Vec<(u16, u16)>,
    pub(crate) replica: Option<u16>,
}

/// Six nodes, three masters with a replica each.
pub(crate) struct ClusterServers {
    nodes: Vec<Server>,
}

impl ClusterServers {
    pub(crate) fn start(s: &Settings, rng: &mut Rng, taken: &mut Vec<u16>) -> ClusterServers {
        let mut nodes = Vec::new();
        for i in 0..6 {
            let port = free_port(rng, taken);
            let mut n = Server::new(
                s,
                &format!("node{i}"),
                port,
                &[
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    "nodes.conf",
                    "--cluster-node-timeout",
                    "1000",
                    "--cluster-replica-validity-factor",
                    "0",
                    "--save",
                    "",
                    "--appendonly",
                    "yes",
                    "--appendfsync",
                    "everysec",
                ],
            );
            n.spawn();
            nodes.push(n);
        }
        let addrs: Vec<String> = nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect();
        let out = Command::new(&s.redis_cli)
            .arg("--cluster")
            .arg("create")
            .args(&addrs)
            .args(["--cluster-replicas", "1", "--cluster-yes"])
            .output()
            .expect("redis-cli --cluster create");
        assert!(
            out.status.success(),
            "redis-cli --cluster create failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let c = ClusterServers { nodes };
        assert!(
            c.wait_healthy(Duration::from_secs(60)),
            "the cluster never became healthy"
        );
        c
    }

    pub(crate) fn url(&self, opts: &str) -> String {
        let addrs: Vec<String> = self
            .nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect();
        format!("redis+cluster://{}?{opts}", addrs.join(","))
    }

    pub(crate) fn node(&mut self, port: u16) -> &mut Server {
        self.nodes
            .iter_mut()
            .find(|n| n.port == port)
            .expect("a node of ours")
    }

    fn view(&self) -> Option<Vec<NodeInfo>> {
        self.nodes
            .iter()
            .filter(|n| n.running())
            .find_map(|n| cluster_nodes(n.port))
    }

    /// Every node runs and says `cluster_state:ok`, three masters serve every slot, nobody is
    /// flagged failing, and every replica's link to its master is up.
    fn healthy(&self) -> bool {
        if self.nodes.iter().any(|n| !n.running()) {
            return false;
        }
        for n in &self.nodes {
            match admin(n.port, &["CLUSTER", "INFO"]) {
                Some(info) if info.contains("cluster_state:ok") => {}
                _ => return false,
            }
        }
        let Some(view) = self.view() else {
            return false;
        };
        let masters = view
            .iter()
            .filter(|n| n.master && !n.slots.is_empty())
            .count();
        if view.len() != 6 || masters != 3 || view.iter().any(|n| n.failing) {
            return false;
        }
        view.iter().filter(|n| !n.master).all(|r| {
            admin(r.port, &["INFO", "replication"])
                .is_some_and(|i| i.contains("master_link_status:up"))
        })
    }

    pub(crate) fn wait_healthy(&self, patience: Duration) -> bool {
        let deadline = Instant::now() + patience;
        while Instant::now() < deadline {
            if self.healthy() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }

    /// The shards: each master (by port), its slots and its replica.
    pub(crate) fn shards(&self) -> Vec<Shard> {
        let view = self.view().unwrap_or_default();
        let mut out: Vec<Shard> = view
            .iter()
            .filter(|n| n.master && !n.slots.is_empty())
            .map(|m| Shard {
                master: m.port,
                slots: m.slots.clone(),
                replica: view
                    .iter()
                    .find(|r| !r.master && r.master_id == m.id)
                    .map(|r| r.port),
            })
            .collect();
        out.sort_by_key(|s| s.slots.first().copied());
        out
    }

    /// Waits until the slots of `old_master` are served by another node; how long it took.
    pub(crate) fn wait_promoted(
        &self,
        old_master: u16,
        slot: u16,
        patience: Duration,
    ) -> Option<Duration> {
        let start = Instant::now();
        while start.elapsed() < patience {
            // Not the old master: it may be stopped.
            let view = self
                .nodes
                .iter()
                .filter(|n| n.running() && n.port != old_master)
                .find_map(|n| cluster_nodes(n.port));
            if let Some(view) = view {
                let owner = view.iter().find(|n| {
                    n.master && !n.failing && n.slots.iter().any(|&(a, b)| a <= slot && slot <= b)
                });
                if owner.is_some_and(|o| o.port != old_master) {
                    return Some(start.elapsed());
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

pub(crate) struct Servers {
    pub(crate) standalone: Option<Server>,
    pub(crate) cluster: Option<ClusterServers>,
    pub(crate) member: Option<Server>,
    pub(crate) seen: Observed,
}

/// What the servers counted themselves, gathered from each before it restarts (which
/// forgets it) and from all at the end.
#[derive(Default)]
pub(crate) struct Observed {
    /// Scripts sent in full (EVAL, each after a NOSCRIPT answer) and by their SHA1.
    pub(crate) eval: u64,
    pub(crate) evalsha: u64,
    /// The worst stall of each kind a server reported (LATENCY LATEST), by node and event.
    pub(crate) stalls: BTreeMap<String, u64>,
}

impl Observed {
    pub(crate) fn take(&mut self, srv: &Server) {
        if !srv.running() || srv.kind != Kind::Redis {
            return;
        }
        self.eval += command_calls(srv.port, "eval");
        self.evalsha += command_calls(srv.port, "evalsha");
        for line in latency(srv.port) {
            if let Some((event, max)) = line.split_once(" max ") {
                let ms = max.trim_end_matches(" ms").parse().unwrap_or(0);
                let worst = self
                    .stalls
                    .entry(format!("{} {event}", srv.name))
                    .or_default();
                *worst = (*worst).max(ms);
            }
        }
    }
}

impl Servers {
    pub(crate) fn take_all(&mut self) {
        if let Some(srv) = &self.standalone {
            self.seen.take(srv);
        }
        if let Some(c) = &self.cluster {
            for n in &c.nodes {
                self.seen.take(n);
            }
        }
    }
}
