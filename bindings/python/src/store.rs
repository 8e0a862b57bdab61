//! `sessionstore.Store`: one handle on one session, with dict semantics. The operations live
//! in [`StoreHandle`]; this class runs them [`Blocking`] and adds the mapping protocol.

use std::sync::Arc;

use pyo3::exceptions::{PyKeyError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};

use crate::exec::Blocking;
use crate::handle::{self, StoreHandle};

/// One handle on one session's key-value data: a `collections.abc.MutableMapping` of `str`
/// keys.
///
/// Values are the portable types of docs/API.md §3. The handle is released by `close()` (or
/// the end of a `with` block, or garbage collection); the data stays until `destroy()`.
#[pyclass(frozen, mapping, module = "sessionstore", name = "Store")]
pub struct Store {
    handle: Arc<StoreHandle>,
}

/// A key argument as text: a `str`, else `TypeError("key must be str, not int")`.
pub(crate) fn key_arg<'a>(key: &'a Bound<'_, PyAny>) -> PyResult<&'a str> {
    match key.cast::<PyString>() {
        Ok(text) => text.to_str(),
        Err(_) => Err(PyTypeError::new_err(format!(
            "key must be str, not {}",
            key.get_type().qualname()?
        ))),
    }
}

impl From<StoreHandle> for Store {
    fn from(handle: StoreHandle) -> Self {
        Store {
            handle: Arc::new(handle),
        }
    }
}

#[pymethods]
impl Store {
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

    /// Stores `value` under `key`. `None` or an unsupported type: `TypeError`.
    fn set(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        self.handle
            .set(&Blocking, py, key_arg(key)?, value)
            .map(drop)
    }

    /// The value of `key`, or `default` when it has none (as a dict, a key that is not a
    /// `str` has none).
    #[pyo3(signature = (key, default=None))]
    fn get<'py>(
        &self,
        py: Python<'py>,
        key: &Bound<'py, PyAny>,
        default: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        match key.cast::<PyString>() {
            Ok(k) => self.handle.get(&Blocking, py, k.to_str()?, default),
            Err(_) => Ok(default.unwrap_or_else(|| py.None().into_bound(py))),
        }
    }

    /// Whether `key` has a value.
    fn has<'py>(&self, py: Python<'py>, key: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        self.handle.has(&Blocking, py, key_arg(key)?)
    }

    /// Deletes `key`; whether it had a value.
    fn delete<'py>(&self, py: Python<'py>, key: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        self.handle.delete(&Blocking, py, key_arg(key)?)
    }

    /// Removes `key` and answers its value, or `default` when it has none (`KeyError` without
    /// a default). Two calls on a remote backend: a read, then the delete.
    #[pyo3(signature = (key, *default))]
    fn pop<'py>(
        &self,
        py: Python<'py>,
        key: &Bound<'py, PyAny>,
        default: &Bound<'py, PyTuple>,
    ) -> PyResult<Bound<'py, PyAny>> {
        if default.len() > 1 {
            return Err(PyTypeError::new_err(format!(
                "pop expected at most 2 arguments, got {}",
                1 + default.len()
            )));
        }
        let missing = handle::missing(py)?;
        let value = self.get(py, key, Some(missing.clone()))?;
        if value.is(missing) {
            return match default.get_item(0) {
                Ok(default) => Ok(default),
                Err(_) => Err(PyKeyError::new_err(key.clone().unbind())),
            };
        }
        self.handle.delete(&Blocking, py, key_arg(key)?)?;
        Ok(value)
    }

    /// Removes some `(key, value)` pair and answers it; `KeyError` when the store is empty.
    fn popitem<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let keys = self.keys(py)?;
        for key in keys.try_iter()? {
            let key = key?;
            let missing = handle::missing(py)?;
            let value = self.pop(py, &key, &PyTuple::new(py, [missing.clone()])?)?;
            if !value.is(missing) {
                return PyTuple::new(py, [key, value]);
            }
        }
        Err(PyKeyError::new_err("popitem(): the store is empty"))
    }

    /// Deletes every key (the session itself stays; `destroy()` ends it).
    fn clear(&self, py: Python<'_>) -> PyResult<()> {
        for key in self.keys(py)?.try_iter()? {
            self.handle.delete(&Blocking, py, key_arg(&key?)?)?;
        }
        Ok(())
    }

    /// The value of `key`; when it has none, stores `default` and answers it.
    #[pyo3(signature = (key, default=None))]
    fn setdefault<'py>(
        &self,
        py: Python<'py>,
        key: &Bound<'py, PyAny>,
        default: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let name = key_arg(key)?;
        let missing = handle::missing(py)?;
        let value = self
            .handle
            .get(&Blocking, py, name, Some(missing.clone()))?;
        if !value.is(missing) {
            return Ok(value);
        }
        let default = default.unwrap_or_else(|| py.None().into_bound(py));
        self.handle.set(&Blocking, py, name, &default)?;
        Ok(default)
    }

    /// Every key, as a list.
    fn keys<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.handle.keys(&Blocking, py)
    }

    /// Every `(key, value)` pair, as a list.
    fn items<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.handle.items(&Blocking, py)
    }

    /// Every value, as a list.
    fn values<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.handle.values(&Blocking, py)
    }

    /// Stores every entry of a dict, a mapping or an iterable of pairs, and of `kwargs`, in
    /// one atomic batch: when any key or value is invalid, nothing is stored.
    #[pyo3(signature = (other=None, /, **kwargs))]
    fn update(
        &self,
        py: Python<'_>,
        other: Option<&Bound<'_, PyAny>>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        self.handle.update(&Blocking, py, other, kwargs).map(drop)
    }

    /// Makes the store hold exactly the entries of a dict, a mapping or an iterable of pairs,
    /// and of `kwargs`, in one atomic step: every other key goes. When any key or value is
    /// invalid, nothing changes.
    #[pyo3(signature = (other=None, /, **kwargs))]
    fn replace_all(
        &self,
        py: Python<'_>,
        other: Option<&Bound<'_, PyAny>>,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<()> {
        self.handle
            .replace_all(&Blocking, py, other, kwargs)
            .map(drop)
    }

    /// Deletes all of the session's data everywhere; every handle on it then raises
    /// `StoreDestroyedError`.
    fn destroy(&self, py: Python<'_>) -> PyResult<()> {
        self.handle.destroy(&Blocking, py).map(drop)
    }

    /// Releases the handle (the data stays). Closing twice is a no-op.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        self.handle.close(&Blocking, py).map(drop)
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, py: Python<'_>, _args: &Bound<'_, PyTuple>) -> PyResult<bool> {
        self.close(py)?;
        Ok(false)
    }

    fn __getitem__<'py>(
        &self,
        py: Python<'py>,
        key: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        if let Ok(k) = key.cast::<PyString>() {
            let missing = handle::missing(py)?;
            let value = self
                .handle
                .get(&Blocking, py, k.to_str()?, Some(missing.clone()))?;
            if !value.is(missing) {
                return Ok(value);
            }
        }
        Err(PyKeyError::new_err(key.clone().unbind()))
    }

    fn __setitem__(
        &self,
        py: Python<'_>,
        key: &Bound<'_, PyAny>,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        self.set(py, key, value)
    }

    fn __delitem__(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<()> {
        if let Ok(k) = key.cast::<PyString>() {
            if self
                .handle
                .delete(&Blocking, py, k.to_str()?)?
                .is_truthy()?
            {
                return Ok(());
            }
        }
        Err(PyKeyError::new_err(key.clone().unbind()))
    }

    fn __contains__(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<bool> {
        match key.cast::<PyString>() {
            Ok(k) => self.handle.has(&Blocking, py, k.to_str()?)?.is_truthy(),
            Err(_) => Ok(false),
        }
    }

    fn __len__(&self, py: Python<'_>) -> PyResult<usize> {
        self.handle.size(&Blocking, py)?.extract()
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(self.keys(py)?.try_iter()?.into_any())
    }

    /// False when the store has no key, and once it is destroyed or closed (it then has none
    /// to give): `bool()` of a store never raises for its lifecycle.
    fn __bool__(&self, py: Python<'_>) -> PyResult<bool> {
        if self.handle.closed(py)? || self.handle.destroyed(py)? {
            return Ok(false);
        }
        match self.handle.size(&Blocking, py) {
            Ok(n) => Ok(n.extract::<usize>()? > 0),
            Err(e) if crate::errors::is_destroyed(py, &e) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Equal to any mapping with the same keys and values (a `dict` snapshot compared).
    fn __eq__<'py>(
        &self,
        py: Python<'py>,
        other: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let mapping = py.import("collections.abc")?.getattr("Mapping")?;
        if !other.is_instance(&mapping)? {
            return Ok(py.NotImplemented().into_bound(py));
        }
        if let Ok(store) = other.cast::<Store>() {
            if Arc::ptr_eq(&store.get().handle, &self.handle) {
                return Ok(true.into_pyobject(py)?.to_owned().into_any());
            }
        }
        let mine = PyDict::new(py);
        for pair in self.items(py)?.cast::<PyList>()?.iter() {
            let (key, value): (Bound<'py, PyAny>, Bound<'py, PyAny>) = pair.extract()?;
            mine.set_item(key, value)?;
        }
        let theirs = PyDict::new(py);
        theirs.update(other.cast::<pyo3::types::PyMapping>()?)?;
        Ok(mine.eq(theirs)?.into_pyobject(py)?.to_owned().into_any())
    }

    fn __repr__(&self) -> String {
        self.handle.repr("sessionstore.Store")
    }
}
