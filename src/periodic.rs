//! A background thread that runs one job at a fixed rate for as long as its owner lives: the
//! memory backend's sweeper and the Redis backend's lease refresher.
//!
//! Rounds are scheduled from the start of the previous one, so a round's own length does not
//! stretch the period. A round that takes longer than a period is an *overrun*: the next one
//! starts at once, and [`Periodic::overruns`] counts it (a lease refresher that overruns is
//! falling behind its leases).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::error::{Error, ErrorKind, Result};

/// The thread and the channel whose closing stops it.
pub(crate) struct Periodic {
    running: Mutex<Option<(Sender<()>, JoinHandle<()>)>>,
    overruns: Arc<AtomicU64>,
}

impl Periodic {
    /// Starts thread `name`, which runs `job` on what `target` points to every `period`, until
    /// [`stop`](Self::stop) or until `target` is gone. A thread that cannot start is a
    /// `Backend` error naming `what`.
    pub(crate) fn start<T: Send + Sync + 'static>(
        name: &str,
        what: &str,
        period: Duration,
        target: Weak<T>,
        job: impl Fn(&T) + Send + 'static,
    ) -> Result<Self> {
        let (stop, stopped) = mpsc::channel::<()>();
        let overruns = Arc::new(AtomicU64::new(0));
        let counted = overruns.clone();
        let thread = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                let mut next = Instant::now() + period;
                loop {
                    match stopped.recv_timeout(next.saturating_duration_since(Instant::now())) {
                        Err(RecvTimeoutError::Timeout) => {}
                        _ => return,
                    }
                    let Some(target) = target.upgrade() else {
                        return;
                    };
                    job(&target);
                    drop(target);
                    next += period;
                    let now = Instant::now();
                    if next <= now {
                        counted.fetch_add(1, Ordering::Relaxed);
                        next = now;
                    }
                }
            })
            .map_err(|e| {
                Error::new(
                    ErrorKind::Backend,
                    format!("cannot start the {what} thread: {e}"),
                )
            })?;
        Ok(Periodic {
            running: Mutex::new(Some((stop, thread))),
            overruns,
        })
    }

    /// How many rounds took longer than a period.
    #[cfg_attr(not(any(feature = "redis", feature = "hazelcast")), allow(dead_code))] // the lease refresher's stats
    pub(crate) fn overruns(&self) -> u64 {
        self.overruns.load(Ordering::Relaxed)
    }

    /// Stops the thread and waits for the job in progress to end; later calls do nothing.
    pub(crate) fn stop(&self) {
        let running = self
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some((stop, thread)) = running {
            drop(stop);
            // The thread only ever returns; a panic inside it has nothing left to clean.
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A round longer than the period is counted, and the next one starts at once.
    #[test]
    fn rounds_keep_their_rate_and_overruns_are_counted() {
        let rounds = Arc::new(AtomicU64::new(0));
        let p = Periodic::start(
            "test-periodic",
            "test",
            Duration::from_millis(5),
            Arc::downgrade(&rounds),
            |rounds: &AtomicU64| {
                if rounds.fetch_add(1, Ordering::Relaxed) < 3 {
                    std::thread::sleep(Duration::from_millis(20));
                }
            },
        )
        .unwrap();
        let until = Instant::now() + Duration::from_secs(10);
        while rounds.load(Ordering::Relaxed) < 6 && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(5));
        }
        p.stop();
        assert!(rounds.load(Ordering::Relaxed) >= 6);
        assert!(p.overruns() >= 3, "{} overruns", p.overruns());
    }
}
