//! How an operation runs: [`Blocking`] on the calling thread (the sync classes), or on a
//! factory's worker pool with its result delivered to the event loop (the asyncio classes,
//! `aio::Pool`). Every store and factory operation is written once, generic over [`Exec`]
//! (`handle.rs`, `factory_handle.rs`); the Python classes only pick the executor.

use pyo3::prelude::*;
use sessionstore::Result as CoreResult;

use crate::blocking;
use crate::errors::IntoPy;
use crate::handle::StoreHandle;
use crate::store::Store;

/// Turns the output of a core call into its Python value, with the GIL held.
pub trait Finish<R>:
    for<'py> FnOnce(Python<'py>, R) -> PyResult<Py<PyAny>> + Send + 'static
{
}

impl<R, F> Finish<R> for F where
    F: for<'py> FnOnce(Python<'py>, R) -> PyResult<Py<PyAny>> + Send + 'static
{
}

/// Runs operations and hands back what the Python method returns: the value itself
/// ([`Blocking`]) or an awaitable of it (`aio::Pool`).
pub trait Exec {
    /// The answer of an operation that already finished in the call (an in-memory backend, or
    /// a failure before any I/O).
    fn done<'py>(
        &self,
        py: Python<'py>,
        result: PyResult<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>>;

    /// An operation whose `work` may block on I/O: it runs without the GIL, then `finish`
    /// turns its output into the Python value.
    fn blocking<'py, R: Send + 'static>(
        &self,
        py: Python<'py>,
        work: impl FnOnce() -> CoreResult<R> + Send + 'static,
        finish: impl Finish<R>,
    ) -> PyResult<Bound<'py, PyAny>>;

    /// What makes the Python store object of a newly opened handle (a `Store` or an
    /// `AsyncStore`), to call in a [`Finish`].
    fn store_maker(&self) -> impl Finish<StoreHandle>;
}

/// Runs `close`, which answers `None` and can wait only on a remote backend (for the calls in
/// flight it ends): at once on a local one, else as a [`blocking`](Exec::blocking) operation.
/// The `close()` of stores and factories.
pub fn closing<'py, E: Exec>(
    exec: &E,
    py: Python<'py>,
    remote: bool,
    close: impl FnOnce() + Send + 'static,
) -> PyResult<Bound<'py, PyAny>> {
    if !remote {
        close();
        return exec.done(py, Ok(py.None().into_bound(py)));
    }
    exec.blocking(
        py,
        move || {
            close();
            Ok(())
        },
        |py, ()| Ok(py.None()),
    )
}

/// The sync classes: every call blocks the calling thread, without the GIL while it may wait,
/// and interruptible by Python's signal handlers (Ctrl-C) while it does.
pub struct Blocking;

impl Exec for Blocking {
    #[inline]
    fn done<'py>(
        &self,
        _py: Python<'py>,
        result: PyResult<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        result
    }

    #[inline]
    fn blocking<'py, R: Send + 'static>(
        &self,
        py: Python<'py>,
        work: impl FnOnce() -> CoreResult<R> + Send + 'static,
        finish: impl Finish<R>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let output = blocking::without_gil(py, work)?.py_err(py)?;
        Ok(finish(py, output)?.into_bound(py))
    }

    fn store_maker(&self) -> impl Finish<StoreHandle> {
        |py: Python<'_>, handle: StoreHandle| Ok(Py::new(py, Store::from(handle))?.into_any())
    }
}
