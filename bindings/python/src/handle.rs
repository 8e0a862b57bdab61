//! [`StoreHandle`]: one open core store and every operation on it, written once for the sync
//! `Store` and the asyncio `AsyncStore` (the [`Exec`] decides how a call runs).
//!
//! An in-memory backend never blocks: its calls run right here with the GIL held, borrowing
//! their arguments. A remote one runs its calls without the GIL, on owned arguments (other
//! Python threads may change the objects meanwhile).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard};

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyDict, PyList, PyString, PyTuple};
use sessionstore::Result as CoreResult;

use crate::codec;
use crate::errors::{self, IntoPy};
use crate::exec::{self, Exec, Finish};
use crate::fork::Origin;

/// One handle on one session, shared by the Python object that wraps it and by the calls in
/// flight on it.
pub struct StoreHandle {
    /// `None` once `close()` released the handle.
    inner: RwLock<Option<sessionstore::Store>>,
    sid: Box<str>,
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

/// A default no caller can pass: `__getitem__` asks `get` for it to tell "missing" apart.
static MISSING: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// A fresh `object()` that `get` answers for a missing key when given it as the default.
pub fn missing(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    let sentinel = MISSING.get_or_try_init(py, || -> PyResult<_> {
        Ok(py.import("builtins")?.getattr("object")?.call0()?.unbind())
    })?;
    Ok(sentinel.bind(py))
}

fn none(py: Python<'_>) -> PyResult<Py<PyAny>> {
    Ok(py.None())
}

impl StoreHandle {
    /// Wraps a core store opened by a factory created in `origin`.
    pub fn new(
        py: Python<'_>,
        inner: sessionstore::Store,
        allow_pickle: bool,
        origin: Origin,
    ) -> Self {
        let sid: Box<str> = inner.session_id().as_str().into();
        StoreHandle {
            session_id: PyString::new(py, &sid).unbind(),
            sid,
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

    /// The session id, as the Python str handed out.
    pub fn session_id(&self, py: Python<'_>) -> Py<PyString> {
        self.session_id.clone_ref(py)
    }

    /// True once this handle destroyed its session or saw it destroyed. Fails in a forked child.
    pub fn destroyed(&self, py: Python<'_>) -> PyResult<bool> {
        self.origin.check(py)?;
        Ok(self.is_destroyed())
    }

    /// True once `close()` released this handle. Fails in a forked child.
    pub fn closed(&self, py: Python<'_>) -> PyResult<bool> {
        self.origin.check(py)?;
        Ok(self.is_closed())
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

    /// Runs `f` on the open core store, on this thread (for a worker: without the GIL).
    fn run<R>(&self, f: impl FnOnce(&sessionstore::Store) -> CoreResult<R>) -> CoreResult<R> {
        match self.guard().as_ref() {
            Some(store) => f(store),
            None => Err(errors::released(&self.sid)),
        }
    }

    /// Releases the core store (waiting for the calls in flight on it); a no-op the second time.
    fn release(&self) {
        let mut inner = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(store) = inner.take() {
            self.destroyed_at_close
                .store(store.is_destroyed(), Ordering::Relaxed);
            drop(store);
        }
    }

    /// One operation that takes a key: borrowed and run here on a local backend, owned and run
    /// by `exec` on a remote one.
    fn keyed<'py, E: Exec, R: Send + 'static>(
        self: &Arc<Self>,
        exec: &E,
        py: Python<'py>,
        key: &str,
        work: impl FnOnce(&sessionstore::Store, &str) -> CoreResult<R> + Send + 'static,
        finish: impl Finish<R>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.origin.check(py)?;
        if !self.remote {
            let output = self.run(|s| work(s, key)).py_err(py);
            return exec.done(py, output.and_then(|r| Ok(finish(py, r)?.into_bound(py))));
        }
        let key = key.to_owned();
        let handle = self.clone();
        exec.blocking(py, move || handle.run(|s| work(s, &key)), finish)
    }

    /// One operation on the whole session (see [`keyed`](Self::keyed)).
    fn whole<'py, E: Exec, R: Send + 'static>(
        self: &Arc<Self>,
        exec: &E,
        py: Python<'py>,
        work: impl FnOnce(&sessionstore::Store) -> CoreResult<R> + Send + 'static,
        finish: impl Finish<R>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.keyed(exec, py, "", move |s, _| work(s), finish)
    }

    /// The decoded value of `key` when the core can answer without a round trip (a local
    /// backend, a near-cache hit; `None` otherwise): scalars are decoded under the backend's
    /// lock (no Python code can run), anything else from a copy once the lock is released.
    fn read_cached<'py>(
        &self,
        py: Python<'py>,
        key: &str,
    ) -> Option<PyResult<Option<Bound<'py, PyAny>>>> {
        let allow_pickle = self.allow_pickle;
        let read = match self.guard().as_ref() {
            Some(store) => store.get_cached_with(key, |doc| {
                if codec::decodes_without_python_code(doc) {
                    Read::Decoded(codec::decode(py, doc, allow_pickle))
                } else {
                    Read::Copied(doc.to_vec())
                }
            })?,
            None => Err(errors::released(&self.sid)),
        };
        Some(Self::decoded(py, read.py_err(py), allow_pickle))
    }

    /// The value a read under the backend's lock handed out, decoded.
    fn decoded<'py>(
        py: Python<'py>,
        read: PyResult<Option<Read<'py>>>,
        allow_pickle: bool,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        match read? {
            None => Ok(None),
            Some(Read::Decoded(value)) => value.map(Some),
            Some(Read::Copied(doc)) => codec::decode(py, &doc, allow_pickle).map(Some),
        }
    }

    /// `get(key, default)`: the value of `key`, or `default` (`None` when not given).
    pub fn get<'py, E: Exec>(
        self: &Arc<Self>,
        exec: &E,
        py: Python<'py>,
        key: &str,
        default: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.origin.check(py)?;
        // Memory, or a near-cache hit: answered here, with the GIL held and without waiting.
        if let Some(found) = self.read_cached(py, key) {
            let value = found.map(|found| {
                found.unwrap_or_else(|| default.unwrap_or_else(|| py.None().into_bound(py)))
            });
            return exec.done(py, value);
        }
        let allow_pickle = self.allow_pickle;
        let default = default.map(Bound::unbind);
        self.keyed(
            exec,
            py,
            key,
            |s, k| s.get(k),
            move |py, doc: Option<Vec<u8>>| {
                Ok(match doc {
                    Some(doc) => codec::decode(py, &doc, allow_pickle)?.unbind(),
                    None => default.unwrap_or_else(|| py.None()),
                })
            },
        )
    }

    /// `set(key, value)`: the value is encoded here, before any I/O.
    pub fn set<'py, E: Exec>(
        self: &Arc<Self>,
        exec: &E,
        py: Python<'py>,
        key: &str,
        value: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let mut doc = Vec::new();
        codec::encode(value, self.allow_pickle, &mut doc)?;
        self.keyed(
            exec,
            py,
            key,
            move |s, k| s.set_encoded(k, &doc),
            |py, ()| none(py),
        )
    }

    /// `has(key)`.
    pub fn has<'py, E: Exec>(
        self: &Arc<Self>,
        exec: &E,
        py: Python<'py>,
        key: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.keyed(exec, py, key, |s, k| s.has(k), boolean)
    }

    /// `delete(key)`: whether it had a value.
    pub fn delete<'py, E: Exec>(
        self: &Arc<Self>,
        exec: &E,
        py: Python<'py>,
        key: &str,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.keyed(exec, py, key, |s, k| s.del(k), boolean)
    }

    /// How many keys the session holds.
    pub fn size<'py, E: Exec>(
        self: &Arc<Self>,
        exec: &E,
        py: Python<'py>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.whole(
            exec,
            py,
            |s| s.len(),
            |py, n: usize| Ok(n.into_pyobject(py)?.into_any().unbind()),
        )
    }

    /// Every key, as a list.
    pub fn keys<'py, E: Exec>(
        self: &Arc<Self>,
        exec: &E,
        py: Python<'py>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.whole(
            exec,
            py,
            |s| s.keys(),
            |py, keys: Vec<String>| Ok(PyList::new(py, keys)?.into_any().unbind()),
        )
    }

    /// Every `(key, value)` pair, as a list.
    pub fn items<'py, E: Exec>(
        self: &Arc<Self>,
        exec: &E,
        py: Python<'py>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let allow_pickle = self.allow_pickle;
        self.whole(
            exec,
            py,
            |s| s.get_all(),
            move |py, all: Vec<(String, Vec<u8>)>| {
                let list = PyList::empty(py);
                for (key, doc) in all {
                    let value = codec::decode(py, &doc, allow_pickle)?;
                    list.append(PyTuple::new(
                        py,
                        [PyString::new(py, &key).into_any(), value],
                    )?)?;
                }
                Ok(list.into_any().unbind())
            },
        )
    }

    /// Every value, as a list.
    pub fn values<'py, E: Exec>(
        self: &Arc<Self>,
        exec: &E,
        py: Python<'py>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let allow_pickle = self.allow_pickle;
        self.whole(
            exec,
            py,
            |s| s.get_all(),
            move |py, all: Vec<(String, Vec<u8>)>| {
                let list = PyList::empty(py);
                for (_, doc) in all {
                    list.append(codec::decode(py, &doc, allow_pickle)?)?;
                }
                Ok(list.into_any().unbind())
            },
        )
    }

    /// Every entry of a dict, a mapping or an iterable of pairs, and of `kwargs`, in one atomic
    /// batch: all are encoded here first, so an invalid one stores nothing.
    pub fn update<'py, E: Exec>(
        self: &Arc<Self>,
        exec: &E,
        py: Python<'py>,
        other: Option<&Bound<'py, PyAny>>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.batch(exec, py, other, kwargs, false)
    }

    /// `replace_all(other, **kwargs)`: the session holds exactly these entries afterwards, in
    /// one atomic step (every other key goes); when any entry is invalid, nothing changes.
    pub fn replace_all<'py, E: Exec>(
        self: &Arc<Self>,
        exec: &E,
        py: Python<'py>,
        other: Option<&Bound<'py, PyAny>>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.batch(exec, py, other, kwargs, true)
    }

    /// The entries of `other` and `kwargs` stored in one atomic batch, replacing every other
    /// key when `replace`.
    fn batch<'py, E: Exec>(
        self: &Arc<Self>,
        exec: &E,
        py: Python<'py>,
        other: Option<&Bound<'py, PyAny>>,
        kwargs: Option<&Bound<'py, PyDict>>,
        replace: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let mut entries = Vec::new();
        if let Some(other) = other {
            self.collect(other, &mut entries)?;
        }
        if let Some(kwargs) = kwargs {
            self.collect(kwargs.as_any(), &mut entries)?;
        }
        self.whole(
            exec,
            py,
            move |s| {
                let borrowed: Vec<(&str, &[u8])> = entries
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_slice()))
                    .collect();
                if replace {
                    s.replace_all_encoded(&borrowed)
                } else {
                    s.set_many(&borrowed)
                }
            },
            |py, ()| none(py),
        )
    }

    /// Deletes the session's data everywhere.
    pub fn destroy<'py, E: Exec>(
        self: &Arc<Self>,
        exec: &E,
        py: Python<'py>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.whole(exec, py, |s| s.destroy(), |py, ()| none(py))
    }

    /// Releases the handle (the data stays); a no-op the second time. On a remote backend it
    /// waits for the calls in flight on this handle, so it runs where those may block.
    pub fn close<'py, E: Exec>(
        self: &Arc<Self>,
        exec: &E,
        py: Python<'py>,
    ) -> PyResult<Bound<'py, PyAny>> {
        self.origin.check(py)?;
        let handle = self.clone();
        exec::closing(exec, py, self.remote, move || handle.release())
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

    /// The repr of the object wrapping this handle (`class` is its qualified name).
    pub fn repr(&self, class: &str) -> String {
        let sid = &self.sid;
        if !self.origin.is_here() {
            // No lock is taken in a forked child: one may be held by a thread that is gone.
            return format!("<{class} session_id={sid:?} inherited across a fork: unusable>");
        }
        let flag = |b: bool| if b { "True" } else { "False" };
        format!(
            "<{class} session_id={sid:?} destroyed={} closed={}>",
            flag(self.is_destroyed()),
            flag(self.is_closed()),
        )
    }
}

fn boolean(py: Python<'_>, b: bool) -> PyResult<Py<PyAny>> {
    Ok(PyBool::new(py, b).to_owned().into_any().unbind())
}

impl Drop for StoreHandle {
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
