//! `_Ready`: the awaitable answer of a call that finished in the method (every successful
//! in-memory call). It is a C-level type made with `PyType_FromSpec` because it answers through
//! the `am_send` slot, which PyO3 classes cannot define: the interpreter's `await` then takes
//! the value back from one slot call, with no `StopIteration` raised and caught, and no
//! GC-tracked object allocated, per call. That is what keeps `await store.get(k)` on
//! `memory://` near the sync `store.get(k)`.
//!
//! Like [`Pending`](super::awaitable::Pending) it is a coroutine to asyncio (`__await__`,
//! `send`, `throw`, `close`), so `asyncio.create_task` and `asyncio.run` take it too. It holds
//! one reference (the answer, made for this call), so it cannot be part of a cycle and needs
//! no GC support.

use std::ffi::{c_int, c_uint, c_void};
use std::ptr;

use pyo3::exceptions::PyRuntimeError;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyTuple, PyType};

use super::awaitable::{finished, thrown};

/// The instance layout: the object header and the answer (NULL once handed out).
#[repr(C)]
struct ReadyObject {
    ob_base: ffi::PyObject,
    value: *mut ffi::PyObject,
}

static TYPE: PyOnceLock<Py<PyType>> = PyOnceLock::new();

fn reused() -> PyErr {
    PyRuntimeError::new_err("cannot reuse an already awaited sessionstore call")
}

/// The awaitable answering `value`.
pub fn ready<'py>(py: Python<'py>, value: Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let tp = TYPE.get_or_try_init(py, || make_type(py))?;
    // SAFETY: `tp` is the `_Ready` type, whose basicsize is `size_of::<ReadyObject>()`;
    // PyType_GenericAlloc (GIL held) returns a zeroed instance with one reference, or NULL
    // with an exception set, which `from_owned_ptr_or_err` turns into the error.
    let obj = unsafe {
        Bound::from_owned_ptr_or_err(py, ffi::PyType_GenericAlloc(tp.bind(py).as_type_ptr(), 0))?
    };
    // SAFETY: `obj` is a fresh `_Ready` instance no one else has seen; `value`'s reference
    // moves into it (released by `take` or `dealloc`).
    unsafe { (*obj.as_ptr().cast::<ReadyObject>()).value = value.into_ptr() };
    Ok(obj)
}

/// Takes the answer out of `obj` (a `_Ready` instance), once.
///
/// # Safety
/// `obj` must point to a live `_Ready` instance, with the GIL held.
unsafe fn take(py: Python<'_>, obj: *mut ffi::PyObject) -> Option<Py<PyAny>> {
    // SAFETY: per the contract, `obj` is a `ReadyObject`; the GIL serialises access to it.
    let value =
        unsafe { std::mem::replace(&mut (*obj.cast::<ReadyObject>()).value, ptr::null_mut()) };
    // SAFETY: a non-NULL `value` is an owned reference, moved out above.
    unsafe { Bound::from_owned_ptr_or_opt(py, value).map(Bound::unbind) }
}

unsafe extern "C" fn dealloc(obj: *mut ffi::PyObject) {
    // SAFETY: CPython calls tp_dealloc with the GIL held on a `_Ready` instance whose last
    // reference went; after freeing it, the instance's reference to its heap type is released.
    unsafe {
        let py = Python::assume_attached();
        drop(take(py, obj));
        let tp = ffi::Py_TYPE(obj);
        let free: ffi::freefunc = std::mem::transmute(ffi::PyType_GetSlot(tp, ffi::Py_tp_free));
        free(obj.cast());
        ffi::Py_DECREF(tp.cast());
    }
}

unsafe extern "C" fn am_await(obj: *mut ffi::PyObject) -> *mut ffi::PyObject {
    // SAFETY: `obj` is live (CPython holds a reference during the call); we return a new one.
    unsafe { ffi::Py_INCREF(obj) };
    obj
}

unsafe extern "C" fn am_send(
    obj: *mut ffi::PyObject,
    _arg: *mut ffi::PyObject,
    result: *mut *mut ffi::PyObject,
) -> ffi::PySendResult {
    // SAFETY: called by the interpreter (GIL held) on a live `_Ready` with a valid out-pointer.
    unsafe {
        let py = Python::assume_attached();
        match take(py, obj) {
            Some(value) => {
                *result = value.into_ptr();
                ffi::PySendResult::PYGEN_RETURN
            }
            None => {
                reused().restore(py);
                *result = ptr::null_mut();
                ffi::PySendResult::PYGEN_ERROR
            }
        }
    }
}

/// `__next__` and `send(value)`: the answer as `StopIteration(answer)`.
unsafe extern "C" fn iternext(obj: *mut ffi::PyObject) -> *mut ffi::PyObject {
    // SAFETY: called with the GIL held on a live `_Ready`.
    unsafe {
        let py = Python::assume_attached();
        match take(py, obj) {
            Some(value) => finished(py, value).restore(py),
            None => reused().restore(py),
        }
    }
    ptr::null_mut()
}

unsafe extern "C" fn send(
    obj: *mut ffi::PyObject,
    _value: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: METH_O method of `_Ready`: same contract as `iternext`.
    unsafe { iternext(obj) }
}

unsafe extern "C" fn throw(
    obj: *mut ffi::PyObject,
    args: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: METH_VARARGS method of `_Ready` (GIL held): `args` is a live tuple.
    unsafe {
        let py = Python::assume_attached();
        drop(take(py, obj));
        let args = Bound::from_borrowed_ptr(py, args);
        let error = match args.cast::<PyTuple>() {
            Ok(args) if !args.is_empty() => {
                let val = args.get_item(1).ok();
                thrown(&args.get_item(0).expect("checked non-empty"), val.as_ref())
            }
            _ => Err(pyo3::exceptions::PyTypeError::new_err(
                "throw expected at least 1 argument",
            )),
        };
        error.unwrap_or_else(|e| e).restore(py);
    }
    ptr::null_mut()
}

unsafe extern "C" fn close(
    obj: *mut ffi::PyObject,
    _unused: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    // SAFETY: METH_NOARGS method of `_Ready` (GIL held); returns a new reference to None.
    unsafe {
        let py = Python::assume_attached();
        drop(take(py, obj));
        py.None().into_ptr()
    }
}

fn make_type(py: Python<'_>) -> PyResult<Py<PyType>> {
    let method =
        |name: &'static std::ffi::CStr, meth: ffi::PyCFunction, flags: c_int| ffi::PyMethodDef {
            ml_name: name.as_ptr(),
            ml_meth: ffi::PyMethodDefPointer { PyCFunction: meth },
            ml_flags: flags,
            ml_doc: ptr::null(),
        };
    // The type keeps pointing at its method table: made once per process, and never freed.
    let methods: &'static mut [ffi::PyMethodDef; 4] = Box::leak(Box::new([
        method(c"send", send, ffi::METH_O),
        method(c"throw", throw, ffi::METH_VARARGS),
        method(c"close", close, ffi::METH_NOARGS),
        ffi::PyMethodDef::zeroed(),
    ]));
    let mut slots = [
        ffi::PyType_Slot {
            slot: ffi::Py_tp_dealloc,
            pfunc: dealloc as *mut c_void,
        },
        ffi::PyType_Slot {
            slot: ffi::Py_am_await,
            pfunc: am_await as *mut c_void,
        },
        ffi::PyType_Slot {
            slot: ffi::Py_am_send,
            pfunc: am_send as *mut c_void,
        },
        ffi::PyType_Slot {
            slot: ffi::Py_tp_iter,
            pfunc: am_await as *mut c_void,
        },
        ffi::PyType_Slot {
            slot: ffi::Py_tp_iternext,
            pfunc: iternext as *mut c_void,
        },
        ffi::PyType_Slot {
            slot: ffi::Py_tp_methods,
            pfunc: methods.as_mut_ptr().cast(),
        },
        ffi::PyType_Slot {
            slot: 0,
            pfunc: ptr::null_mut(),
        },
    ];
    let mut spec = ffi::PyType_Spec {
        // A 'static C string: the type may keep pointing at it.
        name: c"sessionstore._sessionstore._Ready".as_ptr(),
        basicsize: std::mem::size_of::<ReadyObject>() as c_int,
        itemsize: 0,
        flags: (ffi::Py_TPFLAGS_DEFAULT
            | ffi::Py_TPFLAGS_DISALLOW_INSTANTIATION
            | ffi::Py_TPFLAGS_IMMUTABLETYPE) as c_uint,
        slots: slots.as_mut_ptr(),
    };
    // SAFETY: the spec and its slot array are valid for the call (CPython copies them); the
    // method table and the name outlive the type. The result is a new reference or NULL with
    // an exception set.
    let tp = unsafe { Bound::from_owned_ptr_or_err(py, ffi::PyType_FromSpec(&mut spec))? };
    Ok(tp.cast_into::<PyType>()?.unbind())
}
