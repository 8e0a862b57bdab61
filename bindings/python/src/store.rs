//! `sessionstore.Store`: one handle on one session, with dict semantics.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{PoisonError, RwLock, RwLockReadGuard};

use pyo3::exceptions::{PyKeyError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};
use sessionstore::Result as CoreResult;

use crate::codec;
use crate::errors::{self, IntoPy};
use crate::fork::Origin;

/// One handle on one session's key-value data.
///
/// Values are the portable types of API.md §3. The handle is released by `close()` (or the end
/// of a `with` block, or garbage collection); the data stays until `destroy()`.
#[pyclass(frozen, mapping, module = "sessionstore", name = "Store")]
pub struct Store {
    /// `None` once `close()` released the handle.
    inner: RwLock<Option<sessionstore::Store>>,
    session_id: Py<PyString>,
    allow_pickle: bool,
    /// The backend may block: run the core without the GIL.
    remote: bool,
    origin: Origin,
    /// `destroyed` as it was when the handle was released.
    destroyed_at_close: AtomicBool,
}

/// What a read under the backend's lock hands out.
enum Read<'py> {
    /// Decoded in place (a scalar: no Python code could run while the lock was held).
    Decoded(PyResult<Bound<'py, PyAny>>),
    /// A copy of the document, to decode once the lock is released.
    Copied(Vec<u8>),
}

impl Store {
    pub(crate) fn new(
        py: Python<'_>,
        inner: sessionstore::Store,
        allow_pickle: bool,
        origin: Origin,
    ) -> Self {
        Store {
            session_id: PyString::new(py, inner.session_id().as_str()).unbind(),
            remote: inner.is_remote(),
            inner: RwLock::new(Some(inner)),
            allow_pickle,
            origin,
            destroyed_at_close: AtomicBool::new(false),
        }
    }

    fn guard(&self) -> RwLockReadGuard<'_, Option<sessionstore::Store>> {
        // A panic cannot leave an `Option` half-written: a poisoned lock is still consistent.
        self.inner.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn is_destroyed(&self) -> bool {
        match self.guard().as_ref() {
            Some(store) => store.is_destroyed(),
            None => self.destroyed_at_close.load(Ordering::Relaxed),
        }
    }

    fn is_closed(&self) -> bool {
        self.guard().is_none()
    }

    fn closed_error(&self, py: Python<'_>) -> PyErr {
        errors::store_closed(py, &self.session_id.bind(py).to_string_lossy())
    }

    /// Runs `f` on the open core store, with the GIL held (memory backend: the core never
    /// blocks and never calls back into Python while it holds its locks).
    #[inline]
    fn with<R>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&sessionstore::Store) -> CoreResult<R>,
    ) -> PyResult<R> {
        self.origin.check(py)?;
        let guard = self.guard();
        let store = guard.as_ref().ok_or_else(|| self.closed_error(py))?;
        f(store).py_err(py)
    }

    /// Runs `f` on the open core store, without the GIL when the backend may block. `f` gets
    /// owned arguments only (it may run while other Python threads change their objects).
    #[inline]
    fn call<R: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&sessionstore::Store) -> CoreResult<R> + Send,
    ) -> PyResult<R> {
        if !self.remote {
            return self.with(py, f);
        }
        self.origin.check(py)?;
        let result = py.detach(|| {
            let guard = self.guard();
            guard.as_ref().map(f)
        });
        match result {
            Some(result) => result.py_err(py),
            None => Err(self.closed_error(py)),
        }
    }

    /// The decoded value of `key`, `None` when it has none.
    fn read<'py>(&self, py: Python<'py>, key: &str) -> PyResult<Option<Bound<'py, PyAny>>> {
        let allow_pickle = self.allow_pickle;
        if self.remote {
            let key = key.to_owned();
            let doc = self.call(py, move |s| s.get(&key))?;
            return doc
                .map(|doc| codec::decode(py, &doc, allow_pickle))
                .transpose();
        }
        let read = self.with(py, |s| {
            s.get_with(key, |doc| {
                if codec::decodes_without_python_code(doc) {
                    Read::Decoded(codec::decode(py, doc, allow_pickle))
                } else {
                    Read::Copied(doc.to_vec())
                }
            })
        })?;
        match read {
            None => Ok(None),
            Some(Read::Decoded(value)) => value.map(Some),
            Some(Read::Copied(doc)) => codec::decode(py, &doc, allow_pickle).map(Some),
        }
    }

    fn write(&self, py: Python<'_>, key: &str, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let mut doc = Vec::new();
        codec::encode(value, self.allow_pickle, &mut doc)?;
        if self.remote {
            let key = key.to_owned();
            return self.call(py, move |s| s.set_encoded(&key, &doc));
        }
        self.with(py, |s| s.set_encoded(key, &doc))
    }

    fn has_key(&self, py: Python<'_>, key: &str) -> PyResult<bool> {
        if self.remote {
            let key = key.to_owned();
            return self.call(py, move |s| s.has(&key));
        }
        self.with(py, |s| s.has(key))
    }

    fn del_key(&self, py: Python<'_>, key: &str) -> PyResult<bool> {
        if self.remote {
            let key = key.to_owned();
            return self.call(py, move |s| s.del(&key));
        }
        self.with(py, |s| s.del(key))
    }

    /// Adds the entries of a mapping, or of an iterable of pairs, to `out` (encoded).
    fn collect(&self, other: &Bound<'_, PyAny>, out: &mut Vec<(String, Vec<u8>)>) -> PyResult<()> {
        let mut push = |key: Bound<'_, PyAny>, value: Bound<'_, PyAny>| -> PyResult<()> {
            let key = key
                .cast::<PyString>()
                .map_err(|_| PyTypeError::new_err("store keys are str"))?
                .to_str()?
                .to_owned();
            let mut doc = Vec::new();
            codec::encode(&value, self.allow_pickle, &mut doc)?;
            out.push((key, doc));
            Ok(())
        };
        if let Ok(dict) = other.cast::<PyDict>() {
            for item in dict.items().iter() {
                let (key, value) = item.extract()?;
                push(key, value)?;
            }
        } else if other.hasattr("keys")? {
            for key in other.call_method0("keys")?.try_iter()? {
                let key = key?;
                let value = other.get_item(&key)?;
                push(key, value)?;
            }
        } else {
            for pair in other.try_iter()? {
                let (key, value) = pair?.extract()?;
                push(key, value)?;
            }
        }
        Ok(())
    }
}

#[pymethods]
impl Store {
    /// The session id this store is open on.
    #[getter]
    fn session_id(&self, py: Python<'_>) -> Py<PyString> {
        self.session_id.clone_ref(py)
    }

    /// True once this handle destroyed its session or saw it destroyed.
    #[getter]
    fn destroyed(&self, py: Python<'_>) -> PyResult<bool> {
        self.origin.check(py)?;
        Ok(self.is_destroyed())
    }

    /// True once `close()` released this handle.
    #[getter]
    fn closed(&self, py: Python<'_>) -> PyResult<bool> {
        self.origin.check(py)?;
        Ok(self.is_closed())
    }

    /// Stores `value` under `key`. `None` or an unsupported type: `TypeError`.
    fn set(&self, py: Python<'_>, key: &str, value: &Bound<'_, PyAny>) -> PyResult<()> {
        self.write(py, key, value)
    }

    /// The value of `key`, or `default` when it has none.
    #[pyo3(signature = (key, default=None))]
    fn get<'py>(
        &self,
        py: Python<'py>,
        key: &str,
        default: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        Ok(match self.read(py, key)? {
            Some(value) => value,
            None => default.unwrap_or_else(|| py.None().into_bound(py)),
        })
    }

    /// Whether `key` has a value.
    fn has(&self, py: Python<'_>, key: &str) -> PyResult<bool> {
        self.has_key(py, key)
    }

    /// Deletes `key`; whether it had a value.
    fn delete(&self, py: Python<'_>, key: &str) -> PyResult<bool> {
        self.del_key(py, key)
    }

    /// Every key, as a list.
    fn keys<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let keys = self.call(py, |s| s.keys())?;
        PyList::new(py, keys)
    }

    /// Every `(key, value)` pair, as a list.
    fn items<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let all = self.call(py, |s| s.get_all())?;
        let list = PyList::empty(py);
        for (key, doc) in all {
            let value = codec::decode(py, &doc, self.allow_pickle)?;
            list.append(PyTuple::new(
                py,
                [PyString::new(py, &key).into_any(), value],
            )?)?;
        }
        Ok(list)
    }

    /// Every value, as a list.
    fn values<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let all = self.call(py, |s| s.get_all())?;
        let list = PyList::empty(py);
        for (_, doc) in all {
            list.append(codec::decode(py, &doc, self.allow_pickle)?)?;
        }
        Ok(list)
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
        let mut entries = Vec::new();
        if let Some(other) = other {
            self.collect(other, &mut entries)?;
        }
        if let Some(kwargs) = kwargs {
            self.collect(kwargs.as_any(), &mut entries)?;
        }
        self.call(py, move |s| {
            let borrowed: Vec<(&str, &[u8])> = entries
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_slice()))
                .collect();
            s.set_many(&borrowed)
        })
    }

    /// Deletes all of the session's data everywhere; every handle on it then raises
    /// `StoreDestroyedError`.
    fn destroy(&self, py: Python<'_>) -> PyResult<()> {
        self.call(py, |s| s.destroy())
    }

    /// Releases the handle (the data stays). Closing twice is a no-op.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        self.origin.check(py)?;
        let release = || {
            let mut inner = self.inner.write().unwrap_or_else(PoisonError::into_inner);
            if let Some(store) = inner.take() {
                self.destroyed_at_close
                    .store(store.is_destroyed(), Ordering::Relaxed);
                drop(store);
            }
        };
        if self.remote {
            py.detach(release);
        } else {
            release();
        }
        Ok(())
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
        let found = match key.cast::<PyString>().ok() {
            Some(k) => self.read(py, k.to_str()?)?,
            None => None,
        };
        found.ok_or_else(|| PyKeyError::new_err(key.clone().unbind()))
    }

    fn __setitem__(&self, py: Python<'_>, key: &str, value: &Bound<'_, PyAny>) -> PyResult<()> {
        self.write(py, key, value)
    }

    fn __delitem__(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<()> {
        let existed = match key.cast::<PyString>().ok() {
            Some(k) => self.del_key(py, k.to_str()?)?,
            None => false,
        };
        if existed {
            Ok(())
        } else {
            Err(PyKeyError::new_err(key.clone().unbind()))
        }
    }

    fn __contains__(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<bool> {
        match key.cast::<PyString>().ok() {
            Some(k) => self.has_key(py, k.to_str()?),
            None => Ok(false),
        }
    }

    fn __len__(&self, py: Python<'_>) -> PyResult<usize> {
        self.call(py, |s| s.len())
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(self.keys(py)?.into_any().try_iter()?.into_any())
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        let sid = self.session_id.bind(py).to_string_lossy();
        if !self.origin.is_here() {
            // No lock is taken in a forked child: one may be held by a thread that is gone.
            return format!(
                "<sessionstore.Store session_id={sid:?} inherited across a fork: unusable>"
            );
        }
        let flag = |b: bool| if b { "True" } else { "False" };
        format!(
            "<sessionstore.Store session_id={sid:?} destroyed={} closed={}>",
            flag(self.is_destroyed()),
            flag(self.is_closed()),
        )
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        if !self.origin.is_here() {
            // An inherited handle in a forked child: a lock its parent's threads held at the
            // fork may never be released here, so leak it rather than risk hanging.
            let inner = self
                .inner
                .get_mut()
                .unwrap_or_else(PoisonError::into_inner)
                .take();
            std::mem::forget(inner);
        }
    }
}
