//! [`Pool`]: a small fixed set of worker threads per `AsyncStoreFactory` that run the core's
//! blocking calls, never touching the GIL. Threads start on demand (a factory that never
//! awaits a remote call starts none) up to a bound; an idle one waits on a condition variable
//! (no polling). Stopping (the factory closed, or every object using the pool gone) lets the
//! workers finish what is queued and exit; a job submitted later still runs, on a worker
//! started for it, which exits when the queue is empty again.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use crate::fork::Origin;

/// One unit of work: runs a blocking call and posts its completion.
pub trait Job: Send {
    /// Runs on a worker thread, without the GIL.
    fn run(self: Box<Self>);
}

struct State {
    queue: VecDeque<Box<dyn Job>>,
    threads: usize,
    /// Workers waiting and not yet signalled.
    idle: usize,
    /// Signals sent to idle workers and not yet taken.
    signals: usize,
    stopping: bool,
}

struct Shared {
    state: Mutex<State>,
    ready: Condvar,
    max_threads: usize,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Jobs run outside the lock, so a poisoned one is still consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The workers of one factory. Cheap to clone; the last clone dropped stops them.
#[derive(Clone)]
pub struct Pool {
    owner: Arc<Owner>,
}

/// Stops the workers when the last [`Pool`] clone goes (the workers hold [`Shared`] only).
struct Owner {
    shared: Arc<Shared>,
    origin: Origin,
}

/// The default bound on worker threads. A worker spends its call waiting for the backend's
/// reply, not on a CPU, so the bound is set by how many calls the core's pipelined connection
/// takes well at once (16), not by the number of CPUs.
pub const DEFAULT_WORKERS: usize = 16;

impl Pool {
    /// A pool of at most `max_threads` workers (none started yet).
    pub fn new(max_threads: usize) -> Self {
        Pool {
            owner: Arc::new(Owner {
                shared: Arc::new(Shared {
                    state: Mutex::new(State {
                        queue: VecDeque::new(),
                        threads: 0,
                        idle: 0,
                        signals: 0,
                        stopping: false,
                    }),
                    ready: Condvar::new(),
                    max_threads: max_threads.max(1),
                }),
                origin: Origin::here(),
            }),
        }
    }

    /// The bound on worker threads.
    pub fn max_threads(&self) -> usize {
        self.owner.shared.max_threads
    }

    /// Queues `job`, waking an idle worker or starting one.
    pub fn submit(&self, job: Box<dyn Job>) {
        let shared = &self.owner.shared;
        let mut state = shared.lock();
        state.queue.push_back(job);
        if state.idle > 0 {
            state.idle -= 1;
            state.signals += 1;
            drop(state);
            shared.ready.notify_one();
        } else if state.threads < shared.max_threads {
            state.threads += 1;
            drop(state);
            spawn(shared.clone());
        }
    }

    /// Lets every worker exit once the queue is empty.
    pub fn stop(&self) {
        self.owner.stop();
    }
}

impl Owner {
    fn stop(&self) {
        self.shared.lock().stopping = true;
        self.shared.ready.notify_all();
    }
}

impl Drop for Owner {
    fn drop(&mut self) {
        // In a forked child the parent's workers are gone and one may have held the lock.
        if self.origin.is_here() {
            self.stop();
        }
    }
}

fn spawn(shared: Arc<Shared>) {
    let worker = shared.clone();
    let started = std::thread::Builder::new()
        .name("sessionstore-aio".to_owned())
        .spawn(move || work(&worker));
    if started.is_err() {
        let mut state = shared.lock();
        state.threads -= 1;
        if state.threads == 0 {
            // No worker will ever take the queue: run it here rather than strand the callers.
            // (Only when the system refuses a thread; this blocks the caller like a sync call.)
            let jobs = std::mem::take(&mut state.queue);
            drop(state);
            jobs.into_iter().for_each(|job| job.run());
        }
    }
}

fn work(shared: &Shared) {
    let mut state = shared.lock();
    loop {
        if let Some(job) = state.queue.pop_front() {
            drop(state);
            job.run();
            state = shared.lock();
            continue;
        }
        if state.stopping {
            state.threads -= 1;
            return;
        }
        state.idle += 1;
        loop {
            state = shared
                .ready
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
            if state.signals > 0 {
                state.signals -= 1;
                break;
            }
            if state.stopping {
                state.idle -= 1;
                break;
            }
        }
    }
}
