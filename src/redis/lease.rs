//! The lease refresher (API.md §5): with `ttl_ms > 0`, every session this factory holds an
//! open handle on gets its `PEXPIRE` renewed every `ttl/3`, so a live session is never
//! reclaimed and the session of a dead process goes `ttl_ms` after its last refresh.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use futures_util::stream::{self, StreamExt};

use super::conn::Link;
use super::{block_on, bounded, Shared};

/// How many refreshes are in flight at once: one pipelined batch on a standalone or Sentinel
/// connection, concurrent requests on a cluster.
const IN_FLIGHT: usize = 256;

/// A session hash and the generation a handle attached to.
type LeaseId = (Vec<u8>, Vec<u8>);

/// Open handles per (session hash, generation).
#[derive(Default)]
pub(crate) struct Leases {
    held: Mutex<HashMap<LeaseId, usize>>,
}

impl Leases {
    // A panic while the lock was held cannot leave a count half-updated.
    fn lock(&self) -> MutexGuard<'_, HashMap<LeaseId, usize>> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn hold(&self, key: &[u8], generation: &[u8]) {
        *self
            .lock()
            .entry((key.to_vec(), generation.to_vec()))
            .or_insert(0) += 1;
    }

    pub(crate) fn release(&self, key: &[u8], generation: &[u8]) {
        let mut held = self.lock();
        let id = (key.to_vec(), generation.to_vec());
        if let Some(n) = held.get_mut(&id) {
            *n -= 1;
            if *n == 0 {
                held.remove(&id);
            }
        }
    }

    fn snapshot(&self) -> Vec<LeaseId> {
        self.lock().keys().cloned().collect()
    }
}

/// How often the refresher renews the leases: a third of the lease, so two renewals may fail
/// before a live session is reclaimed.
pub(crate) fn period(ttl: Duration) -> Duration {
    (ttl / 3).max(Duration::from_millis(3))
}

/// One round: every held lease, at most [`IN_FLIGHT`] at a time, each bounded by timeout_ms.
/// A failed refresh is retried next round; the hosts' own calls report the outage.
pub(crate) fn refresh_all(shared: &Shared) {
    let Some(leases) = &shared.leases else { return };
    let held = leases.snapshot();
    if held.is_empty() {
        return;
    }
    let ttl = shared.ttl_arg.as_bytes();
    let refresh = |full: bool, (key, generation): &LeaseId| {
        shared.scripts.refresh.cmd(full, key, &[generation, ttl])
    };
    match &shared.link {
        Link::Direct(direct) => {
            for batch in held.chunks(IN_FLIGHT) {
                let deadline = Instant::now() + shared.timeout;
                let pack = |full: bool, packed: &mut Vec<u8>| {
                    for lease in batch {
                        refresh(full, lease).write_packed_command(packed);
                    }
                };
                if direct
                    .request(batch.len(), deadline, &shared.runtime, pack)
                    .is_err()
                {
                    return;
                }
            }
        }
        Link::Cluster(_) => {
            let round = stream::iter(held.iter())
                .map(|lease| {
                    let cmd = move |full: bool| refresh(full, lease);
                    async move {
                        let _ = bounded(shared.timeout, shared.send_cluster(&cmd)).await;
                    }
                })
                .buffer_unordered(IN_FLIGHT)
                .for_each(|()| async {});
            block_on(&shared.runtime, round);
        }
    }
}
