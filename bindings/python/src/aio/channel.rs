//! [`Channel`]: where workers leave finished calls for one event loop, and how the loop hears
//! of them: one [`Waker`] fd per loop, registered once with `loop.add_reader`; its callback
//! takes every finished call in one batch and resolves their futures.
//!
//! A loop finds its channel as an attribute of the loop object, so each of several loops (one
//! per test, `asyncio.run` twice, loops in several threads) gets its own, and it goes (fd
//! closed) when the loop is garbage-collected and the calls in flight for it are done.
//!
//! Wake-ups are coalesced: a worker writes the fd only when it finds the queue empty, and the
//! loop reads the fd *before* taking the queue, so a call posted at any moment is either in
//! the batch taken or announced by a fresh write.

use std::sync::{Arc, Mutex, PoisonError};

use pyo3::exceptions::PyOSError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

use super::waker::Waker;
use crate::fork::Origin;

/// A finished call, to hand to its future on the loop's thread.
pub trait Complete: Send {
    /// Resolves the call's future (unless it was cancelled), with the GIL held.
    fn complete(self: Box<Self>, py: Python<'_>);
}

/// The finished calls of one loop and the fd that announces them.
pub struct Channel {
    queue: Mutex<Vec<Box<dyn Complete>>>,
    waker: Waker,
    origin: Origin,
}

impl Channel {
    /// Leaves a finished call for the loop (any thread, no GIL needed).
    pub fn post(&self, done: Box<dyn Complete>) {
        let was_empty = {
            let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
            let was_empty = queue.is_empty();
            queue.push(done);
            was_empty
        };
        if was_empty {
            self.waker.wake();
        }
    }

    fn drain(&self, py: Python<'_>) {
        self.waker.consume();
        let batch = std::mem::take(&mut *self.queue.lock().unwrap_or_else(PoisonError::into_inner));
        for done in batch {
            done.complete(py);
        }
    }
}

/// The Python object a loop holds: its channel, and the reader callback.
#[pyclass(frozen, module = "sessionstore._sessionstore", name = "_LoopChannel")]
pub struct LoopChannel {
    channel: Arc<Channel>,
}

#[pymethods]
impl LoopChannel {
    /// The `add_reader` callback: resolves every call finished since the last one.
    fn drain(&self, py: Python<'_>) {
        // A loop inherited across a fork: the queue's lock may be held by a parent's worker.
        if self.channel.origin.is_here() {
            self.channel.drain(py);
        }
    }
}

/// Loops whose objects take no attribute (none of asyncio's or uvloop's): loop -> channel.
static FALLBACK: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

fn fallback(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    let map = FALLBACK.get_or_try_init(py, || -> PyResult<_> {
        Ok(py
            .import("weakref")?
            .getattr("WeakKeyDictionary")?
            .call0()?
            .unbind())
    })?;
    Ok(map.bind(py))
}

/// The channel of `event_loop` (the running loop), made and registered on its first call.
pub fn of(py: Python<'_>, event_loop: &Bound<'_, PyAny>) -> PyResult<Arc<Channel>> {
    let name = intern!(py, "_sessionstore_channel");
    if let Ok(found) = event_loop.getattr(name) {
        if let Ok(channel) = found.cast::<LoopChannel>() {
            return Ok(channel.get().channel.clone());
        }
    }
    if let Some(map) = FALLBACK.get(py) {
        if let Ok(found) = map.bind(py).get_item(event_loop) {
            if let Ok(channel) = found.cast::<LoopChannel>() {
                return Ok(channel.get().channel.clone());
            }
        }
    }
    let waker = Waker::new().map_err(|e| PyOSError::new_err(format!("eventfd: {e}")))?;
    let fd = waker.fd();
    let channel = Arc::new(Channel {
        queue: Mutex::new(Vec::new()),
        waker,
        origin: Origin::here(),
    });
    let holder = Bound::new(
        py,
        LoopChannel {
            channel: channel.clone(),
        },
    )?;
    // Registered first: a loop without add_reader (Windows' proactor) keeps no channel.
    event_loop.call_method1(
        intern!(py, "add_reader"),
        (fd, holder.getattr(intern!(py, "drain"))?),
    )?;
    if event_loop.setattr(name, &holder).is_err() {
        fallback(py)?.set_item(event_loop, &holder)?;
    }
    Ok(channel)
}
