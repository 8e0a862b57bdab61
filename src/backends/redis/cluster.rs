//! Redis Cluster on the same connection design as one server: one shared, pipelined [`Pipe`]
//! per master, a request routed by the slot of its key.
//!
//! The slot map comes from `CLUSTER SLOTS`, asked of any node that answers (the known masters
//! first, then the url's nodes), each for a share of the time left. A `MOVED` reply points the
//! slot at the node it names and has the map asked again; an `ASK` reply sends the request
//! once to the node named, behind `ASKING`; `TRYAGAIN` and `CLUSTERDOWN` are retried shortly.
//! All of these are answers of a server that did not run the command, so the retry is safe.
//! A request whose connection broke is never sent again (the server may have run it: a `del`
//! sent twice would answer that its key did not exist); its caller gets the error. A node that
//! refuses connections (it died) has the map asked again at once and the request goes to the
//! slot's new master, if there is one yet.
//!
//! A master that hangs (stopped, paused, cut off by a partition that drops packets) refuses
//! nothing and sends no `MOVED`: its requests just time out, and the replica promoted in its
//! place would never be found by the callers. So a request that went unanswered *doubts* its
//! node, and the backend's watcher ([`Cluster::recheck`], every
//! [`WATCH_EVERY`](super::WATCH_EVERY), on its own thread so no caller waits for it) asks for the map again while any doubt stands, asking
//! the doubted nodes last. Calls reach the new master within a check of its promotion.

use std::sync::{Arc, Condvar, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use ::redis::{ErrorKind as RedisKind, RedisError, RedisResult, ServerErrorKind, Value};
use rustls::ClientConfig;

use super::lock;
use super::pipe::Pipe;
use super::sock::{time_left, Endpoint};
use super::tracking::Tracking;
use super::wire::{timed_out, Login, Wire};

/// The number of hash slots of a Redis Cluster.
const SLOTS: u16 = 16384;

/// How many redirections one request follows before it answers the last one as its error.
const MAX_REDIRECTS: usize = 5;

/// The map is not asked again sooner than this after the last time (many callers failing at
/// once during a failover share one refresh).
const REFRESH_AT_MOST_EVERY: Duration = Duration::from_millis(50);

/// How long a request waits before it retries a `TRYAGAIN` or `CLUSTERDOWN` answer.
const RETRY_AFTER: Duration = Duration::from_millis(20);

/// The slot of a session's hash. Our keys never hold `{`, so no hash tag applies: the slot is
/// the CRC16 (XMODEM) of the whole key, as in the Cluster specification.
pub(crate) fn slot_of(key: &[u8]) -> u16 {
    crc16::State::<crc16::XMODEM>::calculate(key) % SLOTS
}

/// One master and the connection every caller shares to it.
pub(crate) struct Node {
    pub(crate) at: Endpoint,
    pub(crate) pipe: Pipe,
}

/// Which master serves which slots.
#[derive(Default)]
struct Topology {
    /// `(first slot, last slot, index in nodes)`, sorted by first slot.
    ranges: Vec<(u16, u16, usize)>,
    nodes: Vec<Arc<Node>>,
}

impl Topology {
    fn node_for(&self, slot: u16) -> Option<&Arc<Node>> {
        let at = self.ranges.partition_point(|&(_, last, _)| last < slot);
        match self.ranges.get(at) {
            Some(&(first, _, node)) if first <= slot => self.nodes.get(node),
            _ => None,
        }
    }
}

/// A Redis Cluster, as one factory reaches it.
pub(crate) struct Cluster {
    seeds: Vec<Endpoint>,
    login: Login,
    tls: Option<Arc<ClientConfig>>,
    /// With a near cache: every master's data connection is tracked.
    tracking: Option<Arc<Tracking>>,
    map: RwLock<Topology>,
    /// Who asks for the map, and when it was last learned.
    refreshes: Refreshes,
    /// `Some` while the map is in doubt: the masters whose requests went unanswered since the
    /// watcher last asked (an empty list: a redirection seen in a batch).
    doubts: Mutex<Option<Vec<Endpoint>>>,
}

/// One caller asks for the slot map at a time; the others wait for its answer, each no longer
/// than its own deadline (a caller holding a lock while it asks would keep them waiting until
/// the asker's deadline, however far past theirs).
#[derive(Default)]
struct Refreshes {
    state: Mutex<RefreshState>,
    /// Notified when an asker ends, with an answer or without.
    ended: Condvar,
}

#[derive(Default)]
struct RefreshState {
    /// When the map was last learned.
    learned: Option<Instant>,
    /// True while a caller asks.
    asking: bool,
}

/// Ends a caller's turn at asking, even when it unwinds.
struct Asking<'a>(&'a Refreshes);

impl Drop for Asking<'_> {
    fn drop(&mut self) {
        lock(&self.0.state).asking = false;
        self.0.ended.notify_all();
    }
}

/// What a reply says the cluster wants done with the request.
enum Redirect {
    Moved(u16, Endpoint),
    Ask(Endpoint),
    Later,
}

fn redirect_of(reply: &Value) -> Option<Redirect> {
    let Value::ServerError(e) = reply else {
        return None;
    };
    let target = || {
        let mut words = e.details()?.split_whitespace();
        let slot = words.next()?.parse().ok()?;
        let (host, port) = words.next()?.rsplit_once(':')?;
        Some((
            slot,
            Endpoint {
                host: host.to_owned(),
                port: port.parse().ok()?,
            },
        ))
    };
    match e.kind()? {
        ServerErrorKind::Moved => target().map(|(slot, at)| Redirect::Moved(slot, at)),
        ServerErrorKind::Ask => target().map(|(_, at)| Redirect::Ask(at)),
        ServerErrorKind::TryAgain | ServerErrorKind::ClusterDown => Some(Redirect::Later),
        _ => None,
    }
}

impl Cluster {
    /// Learns the slot map from the url's nodes, by `deadline`.
    pub(crate) fn open(
        seeds: Vec<Endpoint>,
        login: Login,
        tls: Option<Arc<ClientConfig>>,
        tracking: Option<Arc<Tracking>>,
        deadline: Instant,
    ) -> RedisResult<Cluster> {
        let cluster = Cluster {
            seeds,
            login,
            tls,
            tracking,
            map: RwLock::new(Topology::default()),
            refreshes: Refreshes::default(),
            doubts: Mutex::new(None),
        };
        cluster.refresh(Instant::now(), deadline)?;
        Ok(cluster)
    }

    /// The master serving `slot`, asking for the map again when none does.
    fn node_for(&self, slot: u16, deadline: Instant) -> RedisResult<Arc<Node>> {
        if let Some(node) = self.read_map().node_for(slot) {
            return Ok(node.clone());
        }
        self.refresh(Instant::now(), deadline)?;
        self.read_map().node_for(slot).cloned().ok_or_else(|| {
            RedisError::from((
                RedisKind::Server(ServerErrorKind::ClusterDown),
                "no master serves the session's slot",
                format!("slot {slot}"),
            ))
        })
    }

    fn read_map(&self) -> std::sync::RwLockReadGuard<'_, Topology> {
        self.map.read().unwrap_or_else(|p| p.into_inner())
    }

    /// The known node at `at`, or a new one (an `ASK` or `MOVED` target the map lacks).
    fn node_at(&self, at: &Endpoint) -> Arc<Node> {
        if let Some(node) = self.read_map().nodes.iter().find(|n| n.at == *at) {
            return node.clone();
        }
        self.new_node(at)
    }

    /// A node not yet connected: with a near cache, its connection's loss forgets the cache.
    fn new_node(&self, at: &Endpoint) -> Arc<Node> {
        Arc::new(Node {
            at: at.clone(),
            pipe: Pipe::watched(self.tracking.as_ref().map(|t| t.forget_all())),
        })
    }

    /// Sends `packed` (`expect` commands, all on `key`) to the master of the key's slot, by
    /// `deadline`, following the cluster's redirections (see the module's doc).
    pub(crate) fn request(
        &self,
        key: &[u8],
        packed: &[u8],
        expect: usize,
        deadline: Instant,
    ) -> RedisResult<Vec<Value>> {
        let slot = slot_of(key);
        let mut asking: Option<Arc<Node>> = None;
        let mut redirects = 0;
        loop {
            let sent = Instant::now();
            let (node, replies) = match asking.take() {
                Some(node) => {
                    let mut with_asking = ::redis::cmd("ASKING").get_packed_command();
                    with_asking.extend_from_slice(packed);
                    let replies = self
                        .send(&node, &with_asking, expect + 1, deadline)
                        .map(|mut r| r.split_off(1));
                    (node, replies)
                }
                None => {
                    let node = self.node_for(slot, deadline)?;
                    let replies = self.send(&node, packed, expect, deadline);
                    (node, replies)
                }
            };
            let replies = match replies {
                Ok(replies) => replies,
                Err(e) if e.is_connection_refusal() && redirects < MAX_REDIRECTS => {
                    // Nothing was sent: the node is gone. Its slots may have a new master.
                    redirects += 1;
                    self.refresh(sent, deadline)?;
                    continue;
                }
                Err(e) => {
                    // The request may have run: never sent again. The node may hang.
                    self.doubt(std::slice::from_ref(&node.at));
                    return Err(e);
                }
            };
            let redirect = replies.iter().find_map(redirect_of);
            match redirect {
                None => return Ok(replies),
                Some(_) if redirects >= MAX_REDIRECTS => return Ok(replies),
                Some(Redirect::Moved(moved, at)) => {
                    // The map is stale beyond this slot too (a resharding, a failover): ask
                    // for it again; the slot itself goes where the answer said meanwhile.
                    let _ = self.refresh(sent, deadline);
                    self.point(moved, &at);
                }
                Some(Redirect::Ask(at)) => asking = Some(self.node_at(&at)),
                Some(Redirect::Later) => {
                    std::thread::sleep(RETRY_AFTER.min(time_left(deadline)?));
                }
            }
            redirects += 1;
        }
    }

    /// One request on `node`'s shared connection.
    pub(crate) fn send(
        &self,
        node: &Node,
        packed: &[u8],
        expect: usize,
        deadline: Instant,
    ) -> RedisResult<Vec<Value>> {
        node.pipe.request(packed, expect, deadline, &|d| {
            let mut wire = Wire::dial(&node.at, &self.login, self.tls.as_ref(), d)?;
            if let Some(tracking) = &self.tracking {
                tracking.track(&node.at, &mut wire, d)?;
            }
            Ok(wire)
        })
    }

    /// Points `slot` at the node `at` until the next map.
    fn point(&self, slot: u16, at: &Endpoint) {
        let node = self.node_at(at);
        let mut map = self.map.write().unwrap_or_else(|p| p.into_inner());
        let index = match map.nodes.iter().position(|n| n.at == *at) {
            Some(i) => i,
            None => {
                map.nodes.push(node);
                map.nodes.len() - 1
            }
        };
        let mut ranges = Vec::with_capacity(map.ranges.len() + 2);
        for &(first, last, owner) in &map.ranges {
            if first <= slot && slot <= last {
                if first < slot {
                    ranges.push((first, slot - 1, owner));
                }
                ranges.push((slot, slot, index));
                if slot < last {
                    ranges.push((slot + 1, last, owner));
                }
            } else {
                ranges.push((first, last, owner));
            }
        }
        if !ranges.iter().any(|&(f, l, _)| f <= slot && slot <= l) {
            let at = ranges.partition_point(|&(first, _, _)| first < slot);
            ranges.insert(at, (slot, slot, index));
        }
        map.ranges = ranges;
    }

    /// Asks for the slot map again, unless it was asked for since `since` (another caller
    /// already did) or less than [`REFRESH_AT_MOST_EVERY`] ago.
    fn refresh(&self, since: Instant, deadline: Instant) -> RedisResult<()> {
        self.ask_once(&[], deadline, |at| {
            at >= since || at.elapsed() < REFRESH_AT_MOST_EVERY
        })
    }

    /// The watcher's check: while the map is in doubt, asks for it again by `timeout`
    /// from now, the doubted nodes last; a doubt stands until a node answered.
    pub(crate) fn recheck(&self, timeout: Duration) {
        let Some(doubted) = lock(&self.doubts).take() else {
            return;
        };
        let asked = Instant::now();
        if self
            .ask_once(&doubted, asked + timeout, |at| at >= asked)
            .is_err()
        {
            self.doubt(&doubted);
        }
    }

    /// Asks for the map ([`ask_map`](Self::ask_map)) unless the one learned last is `fresh`;
    /// while another caller asks, waits for its answer, by `deadline` at the latest.
    fn ask_once(
        &self,
        last: &[Endpoint],
        deadline: Instant,
        fresh: impl Fn(Instant) -> bool,
    ) -> RedisResult<()> {
        let refreshes = &self.refreshes;
        let mut state = lock(&refreshes.state);
        loop {
            if state.learned.is_some_and(&fresh) {
                return Ok(());
            }
            if !state.asking {
                break;
            }
            let left = time_left(deadline)?;
            state = refreshes
                .ended
                .wait_timeout(state, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        state.asking = true;
        drop(state);
        let _turn = Asking(refreshes);
        self.ask_map(last, deadline)?;
        lock(&refreshes.state).learned = Some(Instant::now());
        Ok(())
    }

    /// Asks the known masters, then the url's nodes, then `last`, for the map, each for a share
    /// of the time left until `deadline`; installs the first answer.
    fn ask_map(&self, last: &[Endpoint], deadline: Instant) -> RedisResult<()> {
        let mut candidates: Vec<Endpoint> = Vec::new();
        let known = self
            .read_map()
            .nodes
            .iter()
            .map(|n| n.at.clone())
            .collect::<Vec<_>>();
        for at in known.iter().chain(&self.seeds) {
            if !candidates.contains(at) && !last.contains(at) {
                candidates.push(at.clone());
            }
        }
        candidates.extend_from_slice(last);
        let mut last = None;
        for (i, at) in candidates.iter().enumerate() {
            let share = time_left(deadline)? / (candidates.len() - i) as u32;
            match self.ask_slots(at, Instant::now() + share) {
                Ok(ranges) => {
                    self.install(ranges);
                    return Ok(());
                }
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(timed_out))
    }

    /// `CLUSTER SLOTS` of the node at `at`: `(first, last, master)` for each range.
    fn ask_slots(
        &self,
        at: &Endpoint,
        deadline: Instant,
    ) -> RedisResult<Vec<(u16, u16, Endpoint)>> {
        let mut wire = Wire::dial(at, &self.login, self.tls.as_ref(), deadline)?;
        let mut cmd = ::redis::cmd("CLUSTER");
        cmd.arg("SLOTS");
        let Value::Array(entries) = wire.command(&cmd, deadline)? else {
            return Err(bad_slots(at));
        };
        let mut ranges = Vec::with_capacity(entries.len());
        for entry in entries {
            let Value::Array(entry) = entry else {
                return Err(bad_slots(at));
            };
            match entry.as_slice() {
                [Value::Int(first), Value::Int(last), Value::Array(master), ..] => {
                    let (host, port) = match master.as_slice() {
                        [Value::BulkString(host), Value::Int(port), ..] => (host, port),
                        _ => return Err(bad_slots(at)),
                    };
                    // An empty or "?" host is the node that answered.
                    let host = match String::from_utf8_lossy(host).into_owned() {
                        h if h.is_empty() || h == "?" => at.host.clone(),
                        h => h,
                    };
                    let (Ok(first), Ok(last), Ok(port)) = (
                        u16::try_from(*first),
                        u16::try_from(*last),
                        u16::try_from(*port),
                    ) else {
                        return Err(bad_slots(at));
                    };
                    ranges.push((first, last, Endpoint { host, port }));
                }
                _ => return Err(bad_slots(at)),
            }
        }
        Ok(ranges)
    }

    /// Makes `ranges` the map, keeping the connections of the masters it still names.
    fn install(&self, mut ranges: Vec<(u16, u16, Endpoint)>) {
        ranges.sort_by_key(|r| r.0);
        let mut map = self.map.write().unwrap_or_else(|p| p.into_inner());
        let mut nodes: Vec<Arc<Node>> = Vec::new();
        let mut table = Vec::with_capacity(ranges.len());
        for (first, last, at) in ranges {
            let index = match nodes.iter().position(|n| n.at == at) {
                Some(i) => i,
                None => {
                    let node = map
                        .nodes
                        .iter()
                        .find(|n| n.at == at)
                        .cloned()
                        .unwrap_or_else(|| self.new_node(&at));
                    nodes.push(node);
                    nodes.len() - 1
                }
            };
            table.push((first, last, index));
        }
        // A master no longer named keeps its connection until its last request ends.
        *map = Topology {
            ranges: table,
            nodes,
        };
    }

    /// The masters and, for each, the indices of `keys` whose slots it serves now; keys of a
    /// slot no master serves are left out (they are retried next time).
    pub(crate) fn by_node(&self, keys: &[&[u8]]) -> Vec<(Arc<Node>, Vec<usize>)> {
        let map = self.read_map();
        let mut out: Vec<(Arc<Node>, Vec<usize>)> =
            map.nodes.iter().map(|n| (n.clone(), Vec::new())).collect();
        for (i, key) in keys.iter().enumerate() {
            let slot = slot_of(key);
            let at = map.ranges.partition_point(|&(_, last, _)| last < slot);
            if let Some(&(first, _, node)) = map.ranges.get(at) {
                if first <= slot {
                    out[node].1.push(i);
                }
            }
        }
        out.retain(|(_, keys)| !keys.is_empty());
        out
    }

    /// Every master of the current map (an admin listing scans each in turn).
    pub(crate) fn masters(&self) -> Vec<Arc<Node>> {
        self.read_map().nodes.clone()
    }

    /// The near cache's invalidation connections, with a near cache.
    pub(crate) fn tracking(&self) -> Option<&Arc<Tracking>> {
        self.tracking.as_ref()
    }

    /// Sends `ping` on every master's open connection by `deadline`; a node that does not
    /// answer is doubted.
    pub(crate) fn ping_open(&self, ping: &[u8], deadline: Instant) {
        for node in self.masters() {
            if node.pipe.connected() && self.send(&node, ping, 1, deadline).is_err() {
                self.doubt(std::slice::from_ref(&node.at));
            }
        }
    }

    /// Resets the data connection to the master at `at`.
    pub(crate) fn reset(&self, at: &Endpoint) {
        if let Some(node) = self.read_map().nodes.iter().find(|n| n.at == *at) {
            node.pipe.reset();
        }
    }

    /// Puts the map in doubt: the watcher asks for it again soon, asking `nodes` (whose
    /// requests went unanswered) last. No nodes: a batch saw a redirection.
    pub(crate) fn doubt(&self, nodes: &[Endpoint]) {
        let mut doubts = lock(&self.doubts);
        let doubted = doubts.get_or_insert_with(Vec::new);
        for at in nodes {
            if !doubted.contains(at) {
                doubted.push(at.clone());
            }
        }
    }

    /// Closes every master's connection; later requests answer an error.
    pub(crate) fn close(&self) {
        let map = std::mem::take(&mut *self.map.write().unwrap_or_else(|p| p.into_inner()));
        for node in map.nodes {
            node.pipe.close();
        }
    }
}

fn bad_slots(at: &Endpoint) -> RedisError {
    RedisError::from((
        RedisKind::Parse,
        "CLUSTER SLOTS answered unlike a cluster node",
        at.to_string(),
    ))
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::net::TcpStream;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::OnceLock;

    use super::*;
    use crate::backends::redis::test_peer::{bulk, next_command, Peer};

    /// A cluster that knows no map yet and has asked nothing (`open` asks at once).
    fn unconnected(seeds: Vec<Endpoint>) -> Cluster {
        Cluster {
            seeds,
            login: Login::default(),
            tls: None,
            tracking: None,
            map: RwLock::new(Topology::default()),
            refreshes: Refreshes::default(),
            doubts: Mutex::new(None),
        }
    }

    /// `CLUSTER SLOTS` naming one master, at `port`, for every slot.
    fn all_slots_at(conn: &mut TcpStream, port: u16) {
        let reply =
            format!("*1\r\n*3\r\n:0\r\n:16383\r\n*3\r\n$9\r\n127.0.0.1\r\n:{port}\r\n$2\r\nid\r\n");
        let _ = conn.write_all(reply.as_bytes());
    }

    /// A node that claims every slot, answers `ECHO` with `moved` (a redirection) or with its
    /// argument, and breaks the connection on `ECHO once` after counting it.
    fn node(
        own_port: &'static OnceLock<u16>,
        moved: Option<String>,
        once: &'static AtomicUsize,
    ) -> Peer {
        Peer::start(move |_, mut conn| {
            let mut parser = ::redis::Parser::new();
            while let Some(cmd) = next_command(&mut parser, &mut conn) {
                match (cmd[0].as_slice(), &moved) {
                    (b"CLUSTER", _) => all_slots_at(&mut conn, *own_port.get().unwrap()),
                    (b"ECHO", Some(to)) => {
                        let _ =
                            conn.write_all(format!("-MOVED {} {to}\r\n", slot_of(b"k")).as_bytes());
                    }
                    (b"ECHO", None) if cmd[1] == b"once" => {
                        once.fetch_add(1, Ordering::SeqCst);
                        let _ = conn.shutdown(std::net::Shutdown::Both);
                        return;
                    }
                    (b"ECHO", None) => bulk(&mut conn, &cmd[1]),
                    (other, _) => panic!("{}", String::from_utf8_lossy(other)),
                }
            }
        })
    }

    /// A `MOVED` answer sends the request on to the node it names (the server did not run it);
    /// a request whose connection broke is answered its error and never sent again.
    #[test]
    fn moved_requests_follow_and_broken_ones_are_never_resent() {
        static B_PORT: OnceLock<u16> = OnceLock::new();
        static A_PORT: OnceLock<u16> = OnceLock::new();
        static ONCE: AtomicUsize = AtomicUsize::new(0);
        let b = node(&B_PORT, None, &ONCE);
        B_PORT.set(b.at.port).unwrap();
        let a = node(&A_PORT, Some(format!("127.0.0.1:{}", b.at.port)), &ONCE);
        A_PORT.set(a.at.port).unwrap();
        let far = || Instant::now() + Duration::from_secs(10);
        let c = Cluster::open(vec![a.at.clone()], Login::default(), None, None, far()).unwrap();
        let echo = |text: &str| ::redis::cmd("ECHO").arg(text).get_packed_command();
        let got = c.request(b"k", &echo("hi"), 1, far()).unwrap();
        assert_eq!(
            got,
            [Value::BulkString(b"hi".to_vec())],
            "followed MOVED to b"
        );
        assert!(c.request(b"k", &echo("once"), 1, far()).is_err());
        assert_eq!(
            ONCE.load(Ordering::SeqCst),
            1,
            "the broken request was sent again"
        );
        c.close();
    }

    /// While one caller waits for the slot map, another whose deadline comes first ends at its
    /// deadline, with a timeout, instead of waiting for the first caller's answer.
    #[test]
    fn a_caller_waits_for_another_callers_map_only_until_its_own_deadline() {
        let (asked, was_asked) = std::sync::mpsc::channel::<()>();
        let (release, released) = std::sync::mpsc::channel::<()>();
        let peer = Peer::start(move |_, mut conn| {
            let mut parser = ::redis::Parser::new();
            while let Some(cmd) = next_command(&mut parser, &mut conn) {
                assert_eq!(cmd[0], b"CLUSTER");
                let _ = asked.send(());
                let _ = released.recv();
                all_slots_at(&mut conn, 1);
            }
        });
        let c = Arc::new(unconnected(vec![peer.at.clone()]));
        let first = {
            let c = c.clone();
            std::thread::spawn(move || {
                c.refresh(Instant::now(), Instant::now() + Duration::from_secs(30))
            })
        };
        was_asked.recv().unwrap();
        let second = c.refresh(Instant::now(), Instant::now() + Duration::from_millis(100));
        assert!(
            !first.is_finished(),
            "the second caller waited for the first one's answer"
        );
        assert!(
            second.unwrap_err().is_timeout(),
            "the second caller ends with a timeout"
        );
        release.send(()).unwrap();
        first.join().unwrap().unwrap();
        assert!(c.read_map().node_for(0).is_some(), "the first caller's map");
    }

    #[test]
    fn slots_are_the_crc16_of_the_key() {
        // The Cluster specification's own example: "123456789" is slot 12739 (CRC16 0x31C3).
        assert_eq!(slot_of(b"123456789"), 0x31C3 % SLOTS);
        assert_eq!(slot_of(b""), 0);
    }

    #[test]
    fn a_moved_slot_points_at_its_new_node() {
        let c = unconnected(Vec::new());
        let ep = |port| Endpoint {
            host: "127.0.0.1".into(),
            port,
        };
        c.install(vec![(8192, 16383, ep(2)), (0, 8191, ep(1))]);
        assert_eq!(c.read_map().node_for(0).unwrap().at, ep(1));
        assert_eq!(c.read_map().node_for(16383).unwrap().at, ep(2));
        c.point(100, &ep(3));
        let map = c.read_map();
        assert_eq!(map.node_for(99).unwrap().at, ep(1));
        assert_eq!(map.node_for(100).unwrap().at, ep(3));
        assert_eq!(map.node_for(101).unwrap().at, ep(1));
        assert_eq!(map.node_for(9000).unwrap().at, ep(2));
        drop(map);
        // A map that leaves a slot unserved answers no node for it.
        c.install(vec![(0, 99, ep(1))]);
        assert!(c.read_map().node_for(100).is_none());
        assert_eq!(
            c.read_map().nodes.len(),
            1,
            "the other masters' connections went"
        );
    }
}
