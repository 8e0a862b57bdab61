//! The lease refresher (API.md §5): with `ttl_ms > 0`, every session this factory holds an
//! open handle on gets its `PEXPIRE` renewed every `ttl/3`, so a live session is never
//! reclaimed and the session of a dead process goes `ttl_ms` after its last refresh.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, Weak};
use std::time::Duration;

use super::Shared;

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

/// Refreshes every held lease each `ttl/3` until the backend goes away or is closed.
pub(crate) async fn refresh_loop(shared: Weak<Shared>, ttl: Duration) {
    let period = (ttl / 3).max(Duration::from_millis(3));
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(shared) = shared.upgrade() else {
            return;
        };
        let Some(leases) = &shared.leases else { return };
        let mut tasks = tokio::task::JoinSet::new();
        for (key, generation) in leases.snapshot() {
            let shared = shared.clone();
            tasks.spawn(async move {
                let cmd = |full: bool| {
                    shared.scripts.refresh.cmd(
                        full,
                        &key,
                        &[&generation, shared.ttl_arg.as_bytes()],
                    )
                };
                // A failed refresh is retried next period; the calls of the hosts report
                // the outage itself.
                let _ =
                    tokio::time::timeout(shared.timeout, shared.send_async(cmd, &mut None)).await;
            });
        }
        while tasks.join_next().await.is_some() {}
    }
}
