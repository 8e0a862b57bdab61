//! Letting a host interrupt a call that waits on a remote backend: Python's Ctrl-C must end a
//! call blocked on a stopped server long before `timeout_ms`.
//!
//! A host installs one hook for the process ([`set_hook`]) and runs the calls it wants
//! interruptible inside [`interruptible`]. A call of such a thread that waits (for a reply,
//! for its turn on the shared connection) wakes every [`SLICE`] and asks the hook; when the
//! hook says so, the call gives up as it would at its deadline, its request abandoned (its
//! reply, when it comes, is dropped), and answers an error. The host reports the interruption
//! its own way (the hook keeps what it needs, e.g. Python's `KeyboardInterrupt`). Calls that
//! answer within a slice never ask the hook; other hosts (C, Java) install none.

use std::cell::Cell;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How long an interruptible wait blocks before it asks the hook again.
pub const SLICE: Duration = Duration::from_millis(100);

static HOOK: OnceLock<fn() -> bool> = OnceLock::new();

thread_local! {
    static ARMED: Cell<bool> = const { Cell::new(false) };
}

/// Installs the process's hook: called on a waiting thread (inside [`interruptible`]), it
/// answers whether the host wants the call to end. Only the first hook installed counts.
pub fn set_hook(hook: fn() -> bool) {
    let _ = HOOK.set(hook);
}

/// Runs `f` with this thread's waits on remote backends interruptible by the hook.
pub fn interruptible<R>(f: impl FnOnce() -> R) -> R {
    let before = ARMED.replace(true);
    let result = f();
    ARMED.set(before);
    result
}

/// True when this thread's waits are interruptible and the hook asks to stop.
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
pub(crate) fn requested() -> bool {
    ARMED.get() && HOOK.get().is_some_and(|hook| hook())
}

/// When a wait that must end by `deadline` should next wake: a slice from `now` on an
/// interruptible thread, else the deadline itself.
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
pub(crate) fn next_wake(now: Instant, deadline: Instant) -> Instant {
    if ARMED.get() {
        deadline.min(now + SLICE)
    } else {
        deadline
    }
}
