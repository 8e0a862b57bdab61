//! The lease refresher (docs/API.md §5): with `ttl_ms > 0`, every session this factory holds
//! an open handle on gets its `PEXPIRE` renewed every third of its lease, so a live session is
//! never reclaimed and the session of a dead process goes `ttl_ms` after its last renewal.
//!
//! The held sessions are spread by the hash of their key over [`BUCKETS`] buckets, and the
//! refresher renews one bucket per tick, so each bucket once a period: every session is
//! renewed a third of a lease after the previous renewal, in small batches spread evenly over
//! the period, however many sessions there are and however they opened. (Renewing every
//! session in one round per period put the whole burst in front of the host's calls, and a
//! session renewed first in one round and last in the next waited a period plus a round:
//! 100,000 of them on a one-second lease took 300 ms a round and lapsed on a loaded machine.)
//! A bucket whose renewals did not all reach their server (a failed request, an error reply, a
//! slot no master serves) is renewed again at the next tick; renewing a session twice is
//! harmless.
//!
//! A renewal is a plain `PEXPIRE`, packed once when the first handle opened, [`PER_REQUEST`]
//! of them pipelined in one request on each connection (per master on a cluster). A plain
//! command costs the server about a microsecond, where a script checking each session's
//! generation cost it eight times as much. `PEXPIRE` never creates a key, so a renewal never
//! resurrects a destroyed session; it renews whatever session holds the id while a handle of
//! this factory is open on it.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use ::redis::Value;

use super::link::Link;
use super::Shared;

/// Renewals pipelined in one request: about a millisecond of server time, so the calls
/// queued behind a request on the shared connection are not held up long.
const PER_REQUEST: usize = 2048;

/// The buckets of held sessions, one renewed per tick: a session is renewed at most a tick
/// later than a period after its previous renewal (or its opening).
const BUCKETS: usize = 16;
const _: () = assert!(BUCKETS <= 32, "Leases::again has a bit per bucket");

/// A held session: how many open handles, and its renewal, packed.
struct Held {
    handles: usize,
    renewal: Vec<u8>,
}

type Bucket = HashMap<Vec<u8>, Held, foldhash::fast::RandomState>;

/// The sessions this factory holds an open handle on, by session hash, and what the refresher
/// did with them.
pub(crate) struct Leases {
    buckets: [Mutex<Bucket>; BUCKETS],
    /// Which bucket a session hash falls in.
    spread: foldhash::fast::RandomState,
    period: Duration,
    /// The bucket of the next tick (counting up; modulo [`BUCKETS`]).
    next: AtomicUsize,
    /// Buckets to renew again at the next tick, one bit each.
    again: AtomicU32,
    rounds: AtomicU64,
    renewals: AtomicU64,
}

impl Leases {
    /// No session held yet, on a lease of `ttl`.
    pub(crate) fn new(ttl: Duration) -> Self {
        Leases {
            buckets: Default::default(),
            spread: Default::default(),
            // A third of the lease: a bucket whose renewal fails is renewed again at the next
            // tick, long before the lease ends.
            period: (ttl / 3).max(Duration::from_millis(3)),
            next: AtomicUsize::new(0),
            again: AtomicU32::new(0),
            rounds: AtomicU64::new(0),
            renewals: AtomicU64::new(0),
        }
    }

    /// How often the refresher renews a bucket.
    pub(crate) fn tick(&self) -> Duration {
        (self.period / BUCKETS as u32).max(Duration::from_millis(1))
    }

    // A panic while the lock was held cannot leave a count half-updated.
    fn bucket(&self, index: usize) -> MutexGuard<'_, Bucket> {
        self.buckets[index]
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    fn bucket_of(&self, key: &[u8]) -> MutexGuard<'_, Bucket> {
        self.bucket(self.spread.hash_one(key) as usize % BUCKETS)
    }

    /// A handle opened on `key`, whose lease is `ttl_ms` (as text).
    pub(crate) fn hold(&self, key: &[u8], ttl_ms: &[u8]) {
        let mut bucket = self.bucket_of(key);
        match bucket.get_mut(key) {
            Some(held) => held.handles += 1,
            None => {
                let renewal = ::redis::cmd("PEXPIRE")
                    .arg(key)
                    .arg(ttl_ms)
                    .get_packed_command();
                bucket.insert(
                    key.to_vec(),
                    Held {
                        handles: 1,
                        renewal,
                    },
                );
            }
        }
    }

    /// A handle on `key` released.
    pub(crate) fn release(&self, key: &[u8]) {
        let mut bucket = self.bucket_of(key);
        if let Some(held) = bucket.get_mut(key) {
            held.handles -= 1;
            if held.handles == 0 {
                bucket.remove(key);
            }
        }
    }

    /// Rounds run and leases renewed so far.
    pub(crate) fn counts(&self) -> (u64, u64) {
        (
            self.rounds.load(Ordering::Relaxed),
            self.renewals.load(Ordering::Relaxed),
        )
    }

    /// The buckets this tick renews: its own, and those whose renewal failed at the last one.
    fn this_tick(&self) -> Vec<usize> {
        let own = self.next.fetch_add(1, Ordering::Relaxed) % BUCKETS;
        let again = self.again.swap(0, Ordering::Relaxed);
        (0..BUCKETS)
            .filter(|&b| b == own || again & (1 << b) != 0)
            .collect()
    }

    /// Bucket `index` is renewed again at the next tick.
    fn renew_again(&self, index: usize) {
        self.again.fetch_or(1 << index, Ordering::Relaxed);
    }

    /// Counts the renewals `replies` report; false when one is an error (a slot moved).
    fn tally(&self, replies: &[Value]) -> bool {
        let renewed = replies
            .iter()
            .filter(|r| matches!(r, Value::Int(1)))
            .count();
        self.renewals.fetch_add(renewed as u64, Ordering::Relaxed);
        !replies.iter().any(|r| matches!(r, Value::ServerError(_)))
    }
}

/// One tick: renews this tick's bucket (and any to renew again), each request bounded by
/// timeout_ms. What did not reach its server is renewed at the next tick; the hosts' own
/// calls report the outage.
pub(crate) fn refresh_due(shared: &Shared) {
    let Some(leases) = &shared.leases else { return };
    for index in leases.this_tick() {
        if !renew_bucket(shared, leases, index) {
            leases.renew_again(index);
        }
    }
}

/// Renews every session of bucket `index`; false when some renewal did not reach its server.
fn renew_bucket(shared: &Shared, leases: &Leases, index: usize) -> bool {
    match &shared.link {
        Link::Direct(direct) => {
            let requests = {
                let bucket = leases.bucket(index);
                pack(bucket.values().map(|held| held.renewal.as_slice()))
            };
            if requests.is_empty() {
                return true;
            }
            leases.rounds.fetch_add(1, Ordering::Relaxed);
            for (packed, count) in requests {
                let deadline = Instant::now() + shared.timeout;
                match direct.send(&packed, count, deadline) {
                    Ok(replies) => {
                        leases.tally(&replies);
                    }
                    Err(_) => return false, // the connection failed
                }
            }
            true
        }
        Link::Cluster(cluster) => {
            let (by_node, routed_all) = {
                let bucket = leases.bucket(index);
                let (keys, renewals): (Vec<&[u8]>, Vec<&[u8]>) = bucket
                    .iter()
                    .map(|(key, held)| (key.as_slice(), held.renewal.as_slice()))
                    .unzip();
                let nodes = cluster.by_node(&keys);
                let routed: usize = nodes.iter().map(|(_, indices)| indices.len()).sum();
                let by_node: Vec<_> = nodes
                    .into_iter()
                    .map(|(node, indices)| (node, pack(indices.iter().map(|&i| renewals[i]))))
                    .collect();
                (by_node, routed == keys.len())
            };
            if by_node.is_empty() {
                return routed_all;
            }
            leases.rounds.fetch_add(1, Ordering::Relaxed);
            let mut all = routed_all; // else a slot no master serves: the map is changing
            for (node, requests) in by_node {
                for (packed, count) in requests {
                    let deadline = Instant::now() + shared.timeout;
                    match cluster.send(&node, &packed, count, deadline) {
                        Ok(replies) => {
                            if !leases.tally(&replies) {
                                cluster.doubt(&[]); // a slot moved: the map is asked again
                                all = false;
                            }
                        }
                        Err(_) => {
                            // This node failed; the others still get theirs.
                            cluster.doubt(std::slice::from_ref(&node.at));
                            all = false;
                            break;
                        }
                    }
                }
            }
            all
        }
    }
}

/// `renewals` packed into requests of at most [`PER_REQUEST`]: `(bytes, commands)`.
fn pack<'a>(renewals: impl Iterator<Item = &'a [u8]>) -> Vec<(Vec<u8>, usize)> {
    let mut requests: Vec<(Vec<u8>, usize)> = Vec::new();
    for renewal in renewals {
        match requests.last_mut() {
            Some((packed, count)) if *count < PER_REQUEST => {
                packed.extend_from_slice(renewal);
                *count += 1;
            }
            _ => requests.push((renewal.to_vec(), 1)),
        }
    }
    requests
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// The keys a bucket's renewals name (each renewal is `PEXPIRE key ttl`).
    fn renewed(leases: &Leases, index: usize) -> Vec<Vec<u8>> {
        let bucket = leases.bucket(index);
        pack(bucket.values().map(|h| h.renewal.as_slice()))
            .iter()
            .flat_map(|(packed, count)| {
                let mut parser = ::redis::Parser::new();
                let mut rest = &packed[..];
                (0..*count)
                    .map(|_| match parser.parse_value(&mut rest).unwrap() {
                        Value::Array(args) => match &args[..] {
                            [Value::BulkString(c), Value::BulkString(k), Value::BulkString(t)] => {
                                assert_eq!((&c[..], &t[..]), (&b"PEXPIRE"[..], &b"3000"[..]));
                                k.clone()
                            }
                            other => panic!("{other:?}"),
                        },
                        other => panic!("{other:?}"),
                    })
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// Over one period of ticks every held session is renewed exactly once, in requests of
    /// at most PER_REQUEST; a session stays held until its last handle is released.
    #[test]
    fn each_held_session_is_renewed_once_a_period() {
        let leases = Leases::new(Duration::from_millis(3000));
        let keys: Vec<Vec<u8>> = (0..5000).map(|i| format!("ss:{i}").into_bytes()).collect();
        for key in &keys {
            leases.hold(key, b"3000");
        }
        leases.hold(&keys[0], b"3000"); // a second handle
        leases.release(&keys[0]);
        leases.release(&keys[1]);
        let mut seen = HashSet::new();
        for _ in 0..BUCKETS {
            let tick = leases.this_tick();
            assert_eq!(tick.len(), 1);
            for key in renewed(&leases, tick[0]) {
                assert!(seen.insert(key), "renewed twice in one period");
            }
        }
        let mut expected: HashSet<Vec<u8>> = keys.iter().cloned().collect();
        expected.remove(&keys[1]);
        assert_eq!(seen, expected);
        for index in 0..BUCKETS {
            for (_, count) in pack(leases.bucket(index).values().map(|h| h.renewal.as_slice())) {
                assert!(count <= PER_REQUEST);
            }
        }
    }

    /// A bucket whose renewal failed comes again at the next tick, beside that tick's own.
    #[test]
    fn a_failed_bucket_is_renewed_at_the_next_tick() {
        let leases = Leases::new(Duration::from_millis(1200));
        assert_eq!(leases.tick() * BUCKETS as u32, Duration::from_millis(400));
        assert_eq!(leases.this_tick(), [0]);
        leases.renew_again(0);
        assert_eq!(leases.this_tick(), [0, 1]);
        assert_eq!(leases.this_tick(), [2]);
    }
}
