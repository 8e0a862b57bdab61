//! [`Pending`]: what every asyncio method returns. It is a coroutine as far as asyncio is
//! concerned (`__await__`, `send`, `throw`, `close`: `asyncio.create_task`, `gather`,
//! `wait_for` and `asyncio.run` take it), without a Python frame per call:
//!
//! - a call that finished in the method (an in-memory backend never blocks) answers on its
//!   first step, without suspending the awaiting task;
//! - a call running on the factory's pool yields its asyncio future (as `Future.__await__`
//!   does) and answers once the loop's reader has resolved it.
//!
//! The call itself starts when the method is called, as a task's would (awaiting only collects
//! the answer), or, when no loop is running then (`asyncio.run(factory.close())`), when first
//! awaited, on the loop that awaits it.

use std::sync::{Mutex, PoisonError};

use pyo3::exceptions::{PyBaseException, PyRuntimeError, PyStopIteration, PyTypeError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyTuple, PyType};

/// Starts a deferred call on the running loop, answering the future it will resolve.
pub type Start = Box<dyn FnOnce(Python<'_>) -> PyResult<Py<PyAny>> + Send>;

enum State {
    /// The answer is in (an in-memory call).
    Ready(PyResult<Py<PyAny>>),
    /// Made while no loop ran: starts when first awaited. (In a `Mutex` only so that the class
    /// is `Sync`, as PyO3 requires; the object's own borrow flag already serialises access.)
    Deferred(Mutex<Start>),
    /// Running on the pool; `yielded` once the future was handed to the awaiting task.
    Waiting { future: Py<PyAny>, yielded: bool },
    /// Answered, thrown into or closed.
    Done,
}

/// The awaitable answer of a sessionstore asyncio call.
#[pyclass(module = "sessionstore._sessionstore", name = "_Pending")]
pub struct Pending {
    state: State,
}

/// The exception `throw(typ, val)` raises: `typ` itself (an exception, or its class with no
/// value), or `typ(val)`; `Err` when that cannot be made.
pub(super) fn thrown(typ: &Bound<'_, PyAny>, val: Option<&Bound<'_, PyAny>>) -> PyResult<PyErr> {
    Ok(match val {
        Some(val) if !val.is_none() && typ.is_instance_of::<PyType>() => {
            if val.is_instance(typ)? {
                PyErr::from_value(val.clone())
            } else {
                PyErr::from_value(typ.call1((val,))?)
            }
        }
        _ => PyErr::from_value(typ.clone()),
    })
}

/// The exception that ends a coroutine with `value`. The value rides as the exception's
/// argument unwrapped, which the interpreter takes back without building a `StopIteration`
/// object; a tuple (which would be taken as the argument list) or an exception (which would
/// be raised itself) rides wrapped in one.
pub(super) fn finished(py: Python<'_>, value: Py<PyAny>) -> PyErr {
    let v = value.bind(py);
    if v.is_instance_of::<PyTuple>() || v.is_instance_of::<PyBaseException>() {
        PyStopIteration::new_err((value,))
    } else {
        PyStopIteration::new_err(value)
    }
}

impl Pending {
    /// The awaitable of a call that already finished.
    pub fn ready<'py>(
        py: Python<'py>,
        result: PyResult<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let state = State::Ready(result.map(Bound::unbind));
        Ok(Bound::new(py, Pending { state })?.into_any())
    }

    /// The awaitable of a call whose `future` the loop's reader will resolve.
    pub fn waiting<'py>(py: Python<'py>, future: Py<PyAny>) -> PyResult<Bound<'py, PyAny>> {
        let state = State::Waiting {
            future,
            yielded: false,
        };
        Ok(Bound::new(py, Pending { state })?.into_any())
    }

    /// The awaitable of a call that starts when first awaited.
    pub fn deferred<'py>(py: Python<'py>, start: Start) -> PyResult<Bound<'py, PyAny>> {
        let state = State::Deferred(Mutex::new(start));
        Ok(Bound::new(py, Pending { state })?.into_any())
    }

    /// One step: the future to wait for, or `Err(StopIteration(answer))`, or the call's error.
    fn step(&mut self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        match std::mem::replace(&mut self.state, State::Done) {
            State::Ready(result) => Err(finished(py, result?)),
            State::Deferred(start) => {
                let start = start.into_inner().unwrap_or_else(PoisonError::into_inner);
                self.state = State::Waiting {
                    future: start(py)?,
                    yielded: false,
                };
                self.step(py)
            }
            State::Waiting { future, yielded } => {
                let f = future.bind(py);
                // A task steps again only once the future is done; a first step may find it
                // done already (the call was started well before it was awaited).
                if yielded || f.call_method0(intern!(py, "done"))?.is_truthy()? {
                    return Err(finished(
                        py,
                        f.call_method0(intern!(py, "result"))?.unbind(),
                    ));
                }
                // What asyncio.Future.__await__ does: tell the task to wait for this future.
                f.setattr(intern!(py, "_asyncio_future_blocking"), true)?;
                let out = future.clone_ref(py);
                self.state = State::Waiting {
                    future,
                    yielded: true,
                };
                Ok(out)
            }
            State::Done => Err(PyRuntimeError::new_err(
                "cannot reuse an already awaited sessionstore call",
            )),
        }
    }

    /// Ends the call from the caller's side: its future is cancelled, so its answer is dropped.
    fn abandon(&mut self, py: Python<'_>) -> PyResult<()> {
        // A deferred call that never started is simply dropped.
        if let State::Waiting { future, .. } = std::mem::replace(&mut self.state, State::Done) {
            future.bind(py).call_method0(intern!(py, "cancel"))?;
        }
        Ok(())
    }
}

#[pymethods]
impl Pending {
    fn __await__<'py>(slf: &Bound<'py, Self>) -> Bound<'py, Self> {
        slf.clone()
    }

    fn __iter__<'py>(slf: &Bound<'py, Self>) -> Bound<'py, Self> {
        slf.clone()
    }

    fn __next__(&mut self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.step(py)
    }

    /// Coroutine protocol: resumes the call (`value` must be `None`, as a task sends).
    fn send(&mut self, py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        if !value.is_none() && !matches!(self.state, State::Waiting { yielded: true, .. }) {
            return Err(PyTypeError::new_err(
                "can't send non-None value to a just-started sessionstore call",
            ));
        }
        self.step(py)
    }

    /// Coroutine protocol: raises `typ` (an exception or its class, made with `val`) here; a
    /// call still running is abandoned (it may or may not happen; its answer is dropped).
    #[pyo3(signature = (typ, val=None, _tb=None))]
    fn throw(
        &mut self,
        py: Python<'_>,
        typ: &Bound<'_, PyAny>,
        val: Option<&Bound<'_, PyAny>>,
        _tb: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        self.abandon(py)?;
        Err(thrown(typ, val)?)
    }

    /// Coroutine protocol: abandons a call still running (see `throw`).
    fn close(&mut self, py: Python<'_>) -> PyResult<()> {
        self.abandon(py)
    }
}
