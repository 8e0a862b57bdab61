//! The native module `sessionstore._sessionstore`: PyO3 glue over the sessionstore core.
//!
//! `python/sessionstore/__init__.py` re-exports the public names; this module is private.

mod aio;
mod blocking;
mod codec;
mod errors;
mod exec;
mod factory;
mod factory_handle;
mod fork;
mod handle;
mod store;

use pyo3::prelude::*;
use pyo3::types::PyBytes;

/// Encodes `value` as the portable MessagePack document a store would keep for it.
#[pyfunction]
#[pyo3(signature = (value, *, allow_pickle=false))]
fn packb<'py>(value: &Bound<'py, PyAny>, allow_pickle: bool) -> PyResult<Bound<'py, PyBytes>> {
    let mut doc = Vec::new();
    codec::encode(value, allow_pickle, &mut doc)?;
    Ok(PyBytes::new(value.py(), &doc))
}

/// Decodes one portable MessagePack document (bytes-like) into a Python value.
#[pyfunction]
#[pyo3(signature = (data, *, allow_pickle=false))]
fn unpackb<'py>(data: &Bound<'py, PyAny>, allow_pickle: bool) -> PyResult<Bound<'py, PyAny>> {
    let py = data.py();
    if let Ok(bytes) = data.cast::<PyBytes>() {
        return codec::decode(py, bytes.as_bytes(), allow_pickle);
    }
    let bytes = py.get_type::<PyBytes>().call1((data,))?;
    codec::decode(py, bytes.cast::<PyBytes>()?.as_bytes(), allow_pickle)
}

#[pymodule]
fn _sessionstore(m: &Bound<'_, PyModule>) -> PyResult<()> {
    fork::register();
    blocking::register();
    errors::register(m)?;
    m.add_class::<factory::StoreFactory>()?;
    m.add_class::<store::Store>()?;
    m.add_class::<aio::AsyncStoreFactory>()?;
    m.add_class::<aio::AsyncStore>()?;
    m.add_class::<codec::Opaque>()?;
    m.add_function(wrap_pyfunction!(packb, m)?)?;
    m.add_function(wrap_pyfunction!(unpackb, m)?)?;
    m.add("MAX_DEPTH", sessionstore::value::MAX_DEPTH)?;
    m.add("CORE_VERSION", sessionstore::VERSION)?;
    Ok(())
}
