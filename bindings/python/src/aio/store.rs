//! `sessionstore.AsyncStore`: the asyncio face of one store handle. The operations live in
//! [`StoreHandle`] (shared with the sync `Store`); this class runs them on its factory's
//! [`Pool`], so each method returns an awaitable and never blocks the event loop.

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString, PyTuple};

use super::awaitable::Pending;
use super::pool::Pool;
use crate::handle::StoreHandle;

/// One handle on one session's key-value data, for asyncio code: every method is awaited.
///
/// Values are the portable types of docs/API.md §3. `await close()` (or the end of an `async with`
/// block, or garbage collection) releases the handle; the data stays until `await destroy()`.
#[pyclass(frozen, module = "sessionstore", name = "AsyncStore")]
pub struct AsyncStore {
    handle: Arc<StoreHandle>,
    pool: Pool,
}

impl AsyncStore {
    /// Wraps a handle opened by a factory whose workers are `pool`.
    pub fn new(handle: StoreHandle, pool: Pool) -> Self {
        AsyncStore {
            handle: Arc::new(handle),
            pool,
        }
    }
}

#[pymethods]
impl AsyncStore {
    /// The session id this store is open on.
    #[getter]
    fn session_id(&self, py: Python<'_>) -> Py<PyString> {
        self.handle.session_id(py)
    }

    /// True once this handle destroyed its session or saw it destroyed.
    #[getter]
    fn destroyed(&self, py: Python<'_>) -> PyResult<bool> {
        self.handle.destroyed(py)
    }

    /// True once `close()` released this handle.
    #[getter]
    fn closed(&self, py: Python<'_>) -> PyResult<bool> {
        self.handle.closed(py)
    }

    /// Stores `value` under `key`. `None` or an unsupported type: `TypeError` (raised by the
    /// call itself, before anything is sent).
    fn set<'py>(
        &self,
        py: Python<'py>,
        key: &str,
        value: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.handle.set(&self.pool, py, key, value)
    }

    /// The value of `key`, or `default` when it has none.
    #[pyo3(signature = (key, default=None))]
    fn get<'py>(
        &self,
        py: Python<'py>,
        key: &str,
        default: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.handle.get(&self.pool, py, key, default)
    }

    /// Whether `key` has a value.
    fn has<'py>(&self, py: Python<'py>, key: &str) -> PyResult<Bound<'py, PyAny>> {
        self.handle.has(&self.pool, py, key)
    }

    /// Deletes `key`; whether it had a value.
    fn delete<'py>(&self, py: Python<'py>, key: &str) -> PyResult<Bound<'py, PyAny>> {
        self.handle.delete(&self.pool, py, key)
    }

    /// How many keys the session holds.
    fn size<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.handle.size(&self.pool, py)
    }

    /// Every key, as a list.
    fn keys<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.handle.keys(&self.pool, py)
    }

    /// Every `(key, value)` pair, as a list.
    fn items<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.handle.items(&self.pool, py)
    }

    /// Every value, as a list.
    fn values<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.handle.values(&self.pool, py)
    }

    /// Stores every entry of a dict, a mapping or an iterable of pairs, and of `kwargs`, in
    /// one atomic batch: when any key or value is invalid, nothing is stored.
    #[pyo3(signature = (other=None, /, **kwargs))]
    fn update<'py>(
        &self,
        py: Python<'py>,
        other: Option<&Bound<'py, PyAny>>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.handle.update(&self.pool, py, other, kwargs)
    }

    /// Makes the store hold exactly the entries of a dict, a mapping or an iterable of pairs,
    /// and of `kwargs`, in one atomic step: every other key goes. When any key or value is
    /// invalid, nothing changes.
    #[pyo3(signature = (other=None, /, **kwargs))]
    fn replace_all<'py>(
        &self,
        py: Python<'py>,
        other: Option<&Bound<'py, PyAny>>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.handle.replace_all(&self.pool, py, other, kwargs)
    }

    /// Deletes all of the session's data everywhere; every handle on it then raises
    /// `StoreDestroyedError`.
    fn destroy<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.handle.destroy(&self.pool, py)
    }

    /// Releases the handle (the data stays). Closing twice is a no-op.
    fn close<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.handle.close(&self.pool, py)
    }

    fn __aenter__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        Pending::ready(slf.py(), Ok(slf.clone().into_any()))
    }

    #[pyo3(signature = (*_args))]
    fn __aexit__<'py>(
        &self,
        py: Python<'py>,
        _args: &Bound<'py, PyTuple>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.close(py)
    }

    fn __repr__(&self) -> String {
        self.handle.repr("sessionstore.AsyncStore")
    }
}
