//! A background thread that runs one job every period for as long as its owner lives: the
//! memory backend's sweeper and the Redis backend's lease refresher.

use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Mutex, Weak};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::error::{Error, ErrorKind, Result};

/// The thread and the channel whose closing stops it.
pub(crate) struct Periodic {
    running: Mutex<Option<(Sender<()>, JoinHandle<()>)>>,
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
        let thread = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || loop {
                match stopped.recv_timeout(period) {
                    Err(RecvTimeoutError::Timeout) => {}
                    _ => return,
                }
                let Some(target) = target.upgrade() else {
                    return;
                };
                job(&target);
            })
            .map_err(|e| {
                Error::new(
                    ErrorKind::Backend,
                    format!("cannot start the {what} thread: {e}"),
                )
            })?;
        Ok(Periodic {
            running: Mutex::new(Some((stop, thread))),
        })
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
