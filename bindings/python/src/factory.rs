//! `sessionstore.StoreFactory`: opens stores on one configured backend.

use std::mem::ManuallyDrop;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyString, PyTuple, PyType};
use sessionstore::config::BackendConfig;
use sessionstore::Config;

use crate::errors::IntoPy;
use crate::fork::Origin;
use crate::store::Store;

/// Opens stores on the backend a url names (API.md §1): `memory://` (the default) or Redis.
///
/// With `allow_pickle=True`, values of other types are stored pickled (MessagePack ext 80) and
/// ext 80 values are unpickled on read: only for data every writer is trusted with.
#[pyclass(frozen, module = "sessionstore", name = "StoreFactory")]
pub struct StoreFactory {
    inner: ManuallyDrop<sessionstore::StoreFactory>,
    url: String,
    allow_pickle: bool,
    remote: bool,
    origin: Origin,
}

static UUID_CLASS: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// A session id given as `str` or `uuid.UUID`, as the UTF-8 the core validates.
fn session_id(sid: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(text) = sid.cast::<PyString>() {
        return Ok(text.to_str()?.to_owned());
    }
    if sid.is_instance(UUID_CLASS.import(sid.py(), "uuid", "UUID")?)? {
        return Ok(sid.str()?.to_str()?.to_owned());
    }
    Err(PyTypeError::new_err(format!(
        "a session id is a str or a uuid.UUID, not {}",
        sid.get_type().qualname()?
    )))
}

impl StoreFactory {
    fn run<R: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&sessionstore::StoreFactory) -> sessionstore::Result<R> + Send,
    ) -> PyResult<R> {
        self.origin.check(py)?;
        let factory: &sessionstore::StoreFactory = &self.inner;
        if self.remote {
            py.detach(|| f(factory)).py_err(py)
        } else {
            f(factory).py_err(py)
        }
    }
}

#[pymethods]
impl StoreFactory {
    #[new]
    #[pyo3(signature = (url="memory://", allow_pickle=false))]
    fn new(py: Python<'_>, url: &str, allow_pickle: bool) -> PyResult<Self> {
        let config = Config::parse(url).py_err(py)?;
        let remote = !matches!(config.backend, BackendConfig::Memory);
        let redacted = config.redacted_url();
        let inner = if remote {
            // Connecting may block up to timeout_ms.
            py.detach(|| sessionstore::StoreFactory::with_config(config))
        } else {
            sessionstore::StoreFactory::with_config(config)
        }
        .py_err(py)?;
        Ok(StoreFactory {
            remote: inner.is_remote(),
            inner: ManuallyDrop::new(inner),
            url: redacted,
            allow_pickle,
            origin: Origin::here(),
        })
    }

    /// Opens a store on session `session_id` (a `str` or `uuid.UUID`), attaching to its data
    /// if it has any.
    fn create_store(&self, py: Python<'_>, session_id: &Bound<'_, PyAny>) -> PyResult<Store> {
        let sid = self::session_id(session_id)?;
        let store = self.run(py, move |f| f.create_store(&sid))?;
        Ok(Store::new(py, store, self.allow_pickle, self.origin))
    }

    /// Deletes session `session_id` everywhere; every store open on it then raises
    /// `StoreDestroyedError`.
    fn destroy_session(&self, py: Python<'_>, session_id: &Bound<'_, PyAny>) -> PyResult<()> {
        let sid = self::session_id(session_id)?;
        self.run(py, move |f| f.destroy_session(&sid))
    }

    /// Closes the factory: its stores then raise `FactoryClosedError`; with `memory://` the
    /// data goes. Closing twice is a no-op.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        self.run(py, |f| {
            f.close();
            Ok(())
        })
    }

    /// True once `close()` was called.
    #[getter]
    fn closed(&self) -> bool {
        self.inner.is_closed()
    }

    /// The url, with any password replaced by `***`.
    #[getter]
    fn url(&self) -> &str {
        &self.url
    }

    /// Whether values of other types are stored pickled (and ext 80 values unpickled).
    #[getter]
    fn allow_pickle(&self) -> bool {
        self.allow_pickle
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
        format!(
            "<sessionstore.StoreFactory url={:?} allow_pickle={} closed={}>",
            self.url,
            if self.allow_pickle { "True" } else { "False" },
            if self.closed() { "True" } else { "False" },
        )
    }
}

impl Drop for StoreFactory {
    fn drop(&mut self) {
        if self.origin.is_here() {
            // SAFETY: dropped exactly once, here, and never used after.
            unsafe { ManuallyDrop::drop(&mut self.inner) };
        }
        // In a forked child the core's locks may be held by threads that did not survive the
        // fork: leak the inherited factory rather than risk hanging.
    }
}
