//! `sessionstore.AsyncStoreFactory`: the asyncio face of a factory. The operations live in
//! [`FactoryHandle`] (shared with the sync `StoreFactory`); this class runs them on its own
//! [`Pool`] of workers, started on the first remote call and stopped by `close()`.

use std::sync::Arc;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use super::pool::{self, Pool};
use crate::factory_handle::FactoryHandle;

/// Opens `AsyncStore`s on the backend a url names (docs/API.md §1, §9): the same urls, values,
/// errors and lifecycle as `StoreFactory`, for asyncio code.
///
/// Nothing connects in the constructor (a bad url still raises `ConfigError` there): a remote
/// backend is connected by the first call, on a worker thread, or by `async with`. At most
/// `workers` threads run the blocking calls (default 16).
#[pyclass(frozen, module = "sessionstore", name = "AsyncStoreFactory")]
pub struct AsyncStoreFactory {
    handle: Arc<FactoryHandle>,
    pool: Pool,
}

#[pymethods]
impl AsyncStoreFactory {
    #[new]
    #[pyo3(signature = (url="memory://", allow_pickle=false, *, workers=None))]
    fn new(
        py: Python<'_>,
        url: &str,
        allow_pickle: bool,
        workers: Option<usize>,
    ) -> PyResult<Self> {
        let workers = workers.unwrap_or(pool::DEFAULT_WORKERS);
        if !(1..=256).contains(&workers) {
            return Err(PyValueError::new_err("workers is between 1 and 256"));
        }
        let handle = FactoryHandle::parse(py, url, allow_pickle)?;
        Ok(AsyncStoreFactory {
            handle: Arc::new(handle),
            pool: Pool::new(workers),
        })
    }

    /// Opens a store on session `session_id` (a `str` or `uuid.UUID`), attaching to its data
    /// if it has any; awaits to an `AsyncStore`.
    fn create_store<'py>(
        &self,
        py: Python<'py>,
        session_id: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.handle.create_store(&self.pool, py, session_id)
    }

    /// Deletes session `session_id` everywhere; every store open on it then raises
    /// `StoreDestroyedError`.
    fn destroy_session<'py>(
        &self,
        py: Python<'py>,
        session_id: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.handle.destroy_session(&self.pool, py, session_id)
    }

    /// Closes the factory and stops its workers: its stores then raise `FactoryClosedError`;
    /// with `memory://` the data goes. Closing twice is a no-op.
    fn close<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let closing = self.handle.close(&self.pool, py);
        // The workers finish what is queued (the close included), then exit.
        self.pool.stop();
        closing
    }

    /// The factory's counters since it opened, as a dict: `calls` (by operation: `open`,
    /// `get`, `set`, `has`, `del`, `len`, `keys`, `get_all`, `set_many`, `destroy`,
    /// `destroy_session`; failed calls included), `errors` (failed calls by kind: `NullArg` …
    /// `Internal`), `latency_us` (`count`, `p50`, `p99`, `max` of remote calls), `open_stores`,
    /// `lease` (`rounds`, `renewals`, `overruns` of the lease refresher).
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.handle.stats(py)
    }

    /// True once `close()` was called.
    #[getter]
    fn closed(&self) -> bool {
        self.handle.is_closed()
    }

    /// The url, with any password replaced by `***`.
    #[getter]
    fn url(&self) -> &str {
        self.handle.url()
    }

    /// Whether values of other types are stored pickled (and ext 80 values unpickled).
    #[getter]
    fn allow_pickle(&self) -> bool {
        self.handle.allow_pickle()
    }

    /// The bound on worker threads.
    #[getter]
    fn workers(&self) -> usize {
        self.pool.max_threads()
    }

    fn __aenter__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let this = slf.get();
        this.handle
            .ready(&this.pool, slf.py(), slf.clone().into_any().unbind())
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
        self.handle.repr("sessionstore.AsyncStoreFactory")
    }
}
