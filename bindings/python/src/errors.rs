//! The exception classes of docs/API.md §6 and the one place where a core [`ErrorKind`] becomes one.
//!
//! The classes subclass the built-ins a Python user already catches (`ValueError` for bad
//! input), which `create_exception!` cannot express (one base only), so they are made at
//! module init with `type(name, bases, namespace)` and kept for the life of the process.

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple, PyType};
use sessionstore::{Error, ErrorKind};

/// The exception classes, made once by [`register`].
struct Classes {
    store: Py<PyType>,
    store_closed: Py<PyType>,
    destroyed: Py<PyType>,
    factory_closed: Py<PyType>,
    backend: Py<PyType>,
    timeout: Py<PyType>,
    invalid_argument: Py<PyType>,
    too_large: Py<PyType>,
    config: Py<PyType>,
}

static CLASSES: PyOnceLock<Classes> = PyOnceLock::new();

/// Which class an error becomes.
#[derive(Clone, Copy)]
enum Class {
    Store,
    StoreClosed,
    Destroyed,
    FactoryClosed,
    Backend,
    Timeout,
    InvalidArgument,
    TooLarge,
    Config,
}

fn new_class<'py>(
    py: Python<'py>,
    name: &str,
    bases: &[&Bound<'py, PyType>],
    doc: &str,
) -> PyResult<Bound<'py, PyType>> {
    let namespace = PyDict::new(py);
    namespace.set_item("__module__", "sessionstore")?;
    namespace.set_item("__doc__", doc)?;
    namespace.set_item("__qualname__", name)?;
    let bases = PyTuple::new(py, bases)?;
    Ok(py
        .get_type::<PyType>()
        .call1((name, bases, namespace))?
        .cast_into::<PyType>()?)
}

/// Makes the exception classes and adds them to `module`.
pub fn register(module: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = module.py();
    let classes = CLASSES.get_or_try_init(py, || -> PyResult<Classes> {
        let exception = py.get_type::<pyo3::exceptions::PyException>();
        let value_error = py.get_type::<PyValueError>();
        let store = new_class(
            py,
            "StoreError",
            &[&exception],
            "Base class of every sessionstore error.",
        )?;
        let store_closed = new_class(
            py,
            "StoreClosedError",
            &[&store],
            "The store was closed (its handle released): open a new one with create_store.",
        )?;
        let destroyed = new_class(
            py,
            "StoreDestroyedError",
            &[&store],
            "The session was destroyed (or its lease reclaimed it) after this store was opened.",
        )?;
        let factory_closed = new_class(
            py,
            "FactoryClosedError",
            &[&store],
            "The StoreFactory was closed.",
        )?;
        let backend = new_class(
            py,
            "BackendError",
            &[&store],
            "The backend refused the operation or the connection failed.",
        )?;
        let timeout = new_class(
            py,
            "BackendTimeoutError",
            &[&backend],
            "A remote operation passed timeout_ms.",
        )?;
        let invalid_argument = new_class(
            py,
            "InvalidArgumentError",
            &[&store, &value_error],
            "A bad session id, key, or MessagePack document.",
        )?;
        let too_large = new_class(
            py,
            "ValueTooLargeError",
            &[&store, &value_error],
            "A value whose encoded form is over max_value_bytes.",
        )?;
        let config = new_class(
            py,
            "ConfigError",
            &[&store, &value_error],
            "A malformed url, an unknown option, or an option out of range.",
        )?;
        Ok(Classes {
            store: store.unbind(),
            store_closed: store_closed.unbind(),
            destroyed: destroyed.unbind(),
            factory_closed: factory_closed.unbind(),
            backend: backend.unbind(),
            timeout: timeout.unbind(),
            invalid_argument: invalid_argument.unbind(),
            too_large: too_large.unbind(),
            config: config.unbind(),
        })
    })?;
    for class in [
        &classes.store,
        &classes.store_closed,
        &classes.destroyed,
        &classes.factory_closed,
        &classes.backend,
        &classes.timeout,
        &classes.invalid_argument,
        &classes.too_large,
        &classes.config,
    ] {
        let class = class.bind(py);
        module.add(class.name()?, class)?;
    }
    Ok(())
}

fn raise(py: Python<'_>, class: Class, message: String) -> PyErr {
    let Some(classes) = CLASSES.get(py) else {
        // Only reachable if the module failed to initialise, in which case nothing runs.
        return pyo3::exceptions::PyRuntimeError::new_err(message);
    };
    let class = match class {
        Class::Store => &classes.store,
        Class::StoreClosed => &classes.store_closed,
        Class::Destroyed => &classes.destroyed,
        Class::FactoryClosed => &classes.factory_closed,
        Class::Backend => &classes.backend,
        Class::Timeout => &classes.timeout,
        Class::InvalidArgument => &classes.invalid_argument,
        Class::TooLarge => &classes.too_large,
        Class::Config => &classes.config,
    };
    PyErr::from_type(class.bind(py).clone(), message)
}

/// The Python exception for a core error: the one mapping of [`ErrorKind`].
pub fn to_py(py: Python<'_>, error: Error) -> PyErr {
    let class = match error.kind() {
        ErrorKind::NullArg | ErrorKind::InvalidArg => Class::InvalidArgument,
        ErrorKind::TooLarge => Class::TooLarge,
        ErrorKind::Destroyed => Class::Destroyed,
        ErrorKind::Closed => Class::FactoryClosed,
        ErrorKind::Config => Class::Config,
        ErrorKind::Backend => Class::Backend,
        ErrorKind::Timeout => Class::Timeout,
        // Only the raw (bytes) reads answer `Type`; this binding never makes them.
        ErrorKind::Type => return PyTypeError::new_err(error.message().to_owned()),
        // This binding's only invalid handle is a store its `close()` released.
        ErrorKind::InvalidHandle => Class::StoreClosed,
        // `Internal` and kinds added later.
        _ => Class::Store,
    };
    raise(py, class, error.message().to_owned())
}

/// True when `e` is a `StoreDestroyedError`.
pub fn is_destroyed(py: Python<'_>, e: &PyErr) -> bool {
    CLASSES
        .get(py)
        .is_some_and(|classes| e.is_instance(py, classes.destroyed.bind(py)))
}

/// Shorthand for `result.map_err(|e| to_py(py, e))`.
pub trait IntoPy<T> {
    /// Converts a core result into a Python one.
    fn py_err(self, py: Python<'_>) -> PyResult<T>;
}

impl<T> IntoPy<T> for Result<T, Error> {
    #[inline]
    fn py_err(self, py: Python<'_>) -> PyResult<T> {
        self.map_err(|e| to_py(py, e))
    }
}

/// A call on a store whose `close()` already released it, as a core error (it may be made on
/// a worker thread, without the GIL): a released handle, so a `StoreClosedError`.
pub fn released(session_id: &str) -> Error {
    Error::new(
        ErrorKind::InvalidHandle,
        format!("the store of session {session_id:?} was closed (released); open a new one with create_store"),
    )
}

/// A panic caught on a worker thread, as a core error (a bug: the process goes on).
pub fn panicked(payload: &(dyn std::any::Any + Send)) -> Error {
    let what = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic");
    Error::new(ErrorKind::Internal, format!("internal error: {what}"))
}

/// A call, in a forked child, on an object its parent created.
pub fn forked(py: Python<'_>, parent_pid: u32, child_pid: u32) -> PyErr {
    raise(
        py,
        Class::Store,
        format!(
            "this StoreFactory was created in process {parent_pid} before a fork; \
             this is process {child_pid}: open a new StoreFactory in the child"
        ),
    )
}

/// A document `unpackb` or a read cannot decode.
pub fn invalid_document(py: Python<'_>, message: String) -> PyErr {
    raise(py, Class::InvalidArgument, message)
}

/// A value too large for MessagePack itself (a length over u32::MAX).
pub fn too_large(py: Python<'_>, message: String) -> PyErr {
    raise(py, Class::TooLarge, message)
}
