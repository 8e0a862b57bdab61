//! Fork detection for pre-fork servers (gunicorn, uWSGI).
//!
//! A child process inherits the parent's factories, but not their threads, and possibly a
//! lock some parent thread held at the fork: using one there could hang. A `pthread_atfork`
//! child handler bumps a generation counter, so the check on every call is one relaxed atomic
//! load (no `getpid` system call on the hot path), and it sees C-level forks too.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Once;

use pyo3::prelude::*;

use crate::errors;

static GENERATION: AtomicU64 = AtomicU64::new(0);
static REGISTER: Once = Once::new();

extern "C" fn in_child() {
    // Async-signal-safe: one atomic add, no allocation, no lock.
    GENERATION.fetch_add(1, Ordering::Relaxed);
}

/// Installs the child handler (once per process; children inherit it).
pub fn register() {
    REGISTER.call_once(|| {
        // SAFETY: `in_child` is an `extern "C"` function that only touches an atomic, which
        // is what a child handler may do; NULL prepare/parent handlers are allowed.
        let rc = unsafe { libc::pthread_atfork(None, None, Some(in_child)) };
        // Only ENOMEM is possible; without the handler the check below never fires, which is
        // the behaviour of a build without fork detection, not a crash.
        debug_assert_eq!(rc, 0);
    });
}

/// The process an object was created in.
#[derive(Clone, Copy)]
pub struct Origin {
    generation: u64,
    pid: u32,
}

impl Origin {
    /// The current process.
    pub fn here() -> Self {
        Origin {
            generation: GENERATION.load(Ordering::Relaxed),
            pid: std::process::id(),
        }
    }

    /// True in the process this origin was taken in.
    #[inline]
    pub fn is_here(&self) -> bool {
        GENERATION.load(Ordering::Relaxed) == self.generation
    }

    /// Fails with a clear `StoreError` in a forked child.
    #[inline]
    pub fn check(&self, py: Python<'_>) -> PyResult<()> {
        if self.is_here() {
            Ok(())
        } else {
            Err(errors::forked(py, self.pid, std::process::id()))
        }
    }
}
