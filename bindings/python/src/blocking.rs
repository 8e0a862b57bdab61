//! Core calls that may block on a remote backend: they run without the GIL, and Ctrl-C (any
//! Python signal handler that raises) ends them long before `timeout_ms` (see
//! `sessionstore::interrupt`). While such a call waits, the core asks every 100 ms whether
//! Python has a signal to handle: the hook below takes the GIL, runs the handlers, and keeps
//! the exception one raised, which the call then raises instead of its own error.

use std::cell::RefCell;

use pyo3::prelude::*;

thread_local! {
    /// The exception a signal handler raised while this thread's call waited.
    static RAISED: RefCell<Option<PyErr>> = const { RefCell::new(None) };
}

/// The core's interrupt hook: runs Python's signal handlers (only the main thread's do
/// anything, as in Python itself) and stops the call when one raised.
fn signal_raised() -> bool {
    Python::attach(|py| match py.check_signals() {
        Ok(()) => false,
        Err(e) => {
            RAISED.with(|r| *r.borrow_mut() = Some(e));
            true
        }
    })
}

/// Installs the hook (once per process).
pub fn register() {
    sessionstore::interrupt::set_hook(signal_raised);
}

/// Runs `f` without the GIL, interruptible by Python's signal handlers: its value, or the
/// exception a handler raised while it waited.
pub fn without_gil<R: Send>(py: Python<'_>, f: impl FnOnce() -> R + Send) -> PyResult<R> {
    let value = py.detach(|| sessionstore::interrupt::interruptible(f));
    match RAISED.with(|r| r.borrow_mut().take()) {
        Some(raised) => Err(raised),
        None => Ok(value),
    }
}
