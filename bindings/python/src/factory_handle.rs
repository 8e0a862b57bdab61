//! [`FactoryHandle`]: one configured core factory and its operations, written once for the
//! sync `StoreFactory` and the asyncio `AsyncStoreFactory` (the [`Exec`] decides how a call
//! runs).
//!
//! The core factory is opened on first use, so that an `AsyncStoreFactory` made inside a
//! running event loop connects on a worker thread instead of blocking the loop; the sync class
//! opens it in its constructor, as before.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyString, PyType};
use sessionstore::{Config, Error, ErrorKind, Result as CoreResult};

use crate::blocking;
use crate::codec;
use crate::errors::{self, IntoPy};
use crate::exec::{self, Exec, Finish};
use crate::fork::Origin;
use crate::handle::StoreHandle;

/// A configured factory: the core one once opened, and what its stores inherit.
pub struct FactoryHandle {
    config: Config,
    core: OnceLock<sessionstore::StoreFactory>,
    /// Held while opening or closing the core factory, so the two never interleave.
    opening: Mutex<()>,
    closed: AtomicBool,
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

fn closed_error() -> Error {
    Error::new(ErrorKind::Closed, "the store factory is closed")
}

impl FactoryHandle {
    /// Parses `url` (a bad one raises `ConfigError` here); nothing is opened yet.
    pub fn parse(py: Python<'_>, url: &str, allow_pickle: bool) -> PyResult<Self> {
        let config = Config::parse(url).py_err(py)?;
        Ok(FactoryHandle {
            remote: config.backend.is_remote(),
            url: config.redacted_url(),
            config,
            core: OnceLock::new(),
            opening: Mutex::new(()),
            closed: AtomicBool::new(false),
            allow_pickle,
            origin: Origin::here(),
        })
    }

    /// Opens the core factory now, on this thread (without the GIL when it may connect).
    pub fn open_here(&self, py: Python<'_>) -> PyResult<()> {
        if self.remote {
            blocking::without_gil(py, || self.core().map(drop))?.py_err(py)
        } else {
            self.core().map(drop).py_err(py)
        }
    }

    /// The core factory, opened on first use (connecting may block up to `timeout_ms`). A
    /// failed open is tried again by the next call.
    fn core(&self) -> CoreResult<&sessionstore::StoreFactory> {
        if let Some(core) = self.core.get() {
            return Ok(core);
        }
        let _opening = self.opening.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(core) = self.core.get() {
            return Ok(core);
        }
        if self.closed.load(Ordering::Acquire) {
            return Err(closed_error());
        }
        let core = sessionstore::StoreFactory::with_config(self.config.clone())?;
        Ok(self.core.get_or_init(|| core))
    }

    fn shut(&self) {
        let _opening = self.opening.lock().unwrap_or_else(PoisonError::into_inner);
        self.closed.store(true, Ordering::Release);
        if let Some(core) = self.core.get() {
            core.close();
        }
    }

    /// True once `close()` was called.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// The url, with any password replaced by `***`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Whether values of other types are stored pickled.
    pub fn allow_pickle(&self) -> bool {
        self.allow_pickle
    }

    /// One operation on the core factory: run here on a local backend, by `exec` on a remote one.
    fn op<'py, E: Exec, R: Send + 'static>(
        self: &Arc<Self>,
        exec: &E,
        py: Python<'py>,
        work: impl FnOnce(&sessionstore::StoreFactory) -> CoreResult<R> + Send + 'static,
        finish: impl Finish<R>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.origin.check(py)?;
        if !self.remote {
            let output = self.core().and_then(work).py_err(py);
            return exec.done(py, output.and_then(|r| Ok(finish(py, r)?.into_bound(py))));
        }
        let this = self.clone();
        exec.blocking(py, move || this.core().and_then(work), finish)
    }

    /// Opens a store on `session_id` (a `str` or `uuid.UUID`), as the executor's store class.
    pub fn create_store<'py, E: Exec>(
        self: &Arc<Self>,
        exec: &E,
        py: Python<'py>,
        session_id: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let sid = self::session_id(session_id)?;
        let make = exec.store_maker();
        let (allow_pickle, origin) = (self.allow_pickle, self.origin);
        self.op(
            exec,
            py,
            move |f| f.create_store(&sid),
            move |py, store| make(py, StoreHandle::new(py, store, allow_pickle, origin)),
        )
    }

    /// Deletes session `session_id` everywhere.
    pub fn destroy_session<'py, E: Exec>(
        self: &Arc<Self>,
        exec: &E,
        py: Python<'py>,
        session_id: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let sid = self::session_id(session_id)?;
        self.op(
            exec,
            py,
            move |f| f.destroy_session(&sid),
            |py, ()| Ok(py.None()),
        )
    }

    /// Opens the core factory if it is not yet (an `async with` entering), answering `this`.
    pub fn ready<'py, E: Exec>(
        self: &Arc<Self>,
        exec: &E,
        py: Python<'py>,
        this: Py<PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.op(exec, py, |_| Ok(()), move |_, ()| Ok(this))
    }

    /// Closes the factory (its stores then raise `FactoryClosedError`); a no-op the second time.
    pub fn close<'py, E: Exec>(
        self: &Arc<Self>,
        exec: &E,
        py: Python<'py>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.origin.check(py)?;
        let this = self.clone();
        exec::closing(exec, py, self.remote, move || this.shut())
    }

    /// The factory's counters since it opened, as a dict (no I/O: a factory not connected yet
    /// has counted nothing).
    pub fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.origin.check(py)?;
        if self.is_closed() {
            return Err(errors::to_py(
                py,
                Error::new(ErrorKind::Closed, "the store factory is closed"),
            ));
        }
        let snapshot = match self.core.get() {
            Some(core) => core.stats().py_err(py)?,
            None => sessionstore::stats::Snapshot::default(),
        };
        codec::decode(py, &snapshot.encode(), false)
    }

    /// The repr of the object wrapping this factory (`class` is its qualified name).
    pub fn repr(&self, class: &str) -> String {
        let flag = |b: bool| if b { "True" } else { "False" };
        format!(
            "<{class} url={:?} allow_pickle={} closed={}>",
            self.url,
            flag(self.allow_pickle),
            flag(self.is_closed()),
        )
    }
}

impl Drop for FactoryHandle {
    fn drop(&mut self) {
        if !self.origin.is_here() {
            // In a forked child the core's locks may be held by threads that did not survive
            // the fork: leak the inherited factory rather than risk hanging.
            std::mem::forget(self.core.take());
        }
    }
}
