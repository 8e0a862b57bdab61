//! `sessionstore.StoreFactory`: opens stores on one configured backend. The operations live in
//! [`FactoryHandle`]; this class runs them [`Blocking`].

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::exec::Blocking;
use crate::factory_handle::FactoryHandle;
use crate::store::Store;

/// Opens stores on the backend a url names (docs/API.md §1): `memory://` (the default) or Redis.
///
/// With `allow_pickle=True`, values of other types are stored pickled (MessagePack ext 80) and
/// ext 80 values are unpickled on read: only for data every writer is trusted with.
#[pyclass(frozen, module = "sessionstore", name = "StoreFactory")]
pub struct StoreFactory {
    handle: Arc<FactoryHandle>,
}

#[pymethods]
impl StoreFactory {
    #[new]
    #[pyo3(signature = (url="memory://", allow_pickle=false))]
    fn new(py: Python<'_>, url: &str, allow_pickle: bool) -> PyResult<Self> {
        let handle = FactoryHandle::parse(py, url, allow_pickle)?;
        // Connecting may block up to timeout_ms: done here, without the GIL.
        handle.open_here(py)?;
        Ok(StoreFactory {
            handle: Arc::new(handle),
        })
    }

    /// Opens a store on session `session_id` (a `str` or `uuid.UUID`), attaching to its data
    /// if it has any.
    fn create_store(&self, py: Python<'_>, session_id: &Bound<'_, PyAny>) -> PyResult<Py<Store>> {
        Ok(self
            .handle
            .create_store(&Blocking, py, session_id)?
            .cast_into::<Store>()?
            .unbind())
    }

    /// Deletes session `session_id` everywhere; every store open on it then raises
    /// `StoreDestroyedError`.
    fn destroy_session(&self, py: Python<'_>, session_id: &Bound<'_, PyAny>) -> PyResult<()> {
        self.handle
            .destroy_session(&Blocking, py, session_id)
            .map(drop)
    }

    /// Closes the factory: its stores then raise `FactoryClosedError`; with `memory://` the
    /// data goes. Closing twice is a no-op.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        self.handle.close(&Blocking, py).map(drop)
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

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, py: Python<'_>, _args: &Bound<'_, PyTuple>) -> PyResult<bool> {
        self.close(py)?;
        Ok(false)
    }

    fn __repr__(&self) -> String {
        self.handle.repr("sessionstore.StoreFactory")
    }
}
