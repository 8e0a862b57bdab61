//! Python values <-> the portable MessagePack format of docs/API.md §3, implemented once here.
//!
//! Encoding writes with `rmp` straight from the Python objects into one buffer; decoding reads
//! markers with `rmp` from a borrowed slice and builds the Python objects directly. Both bound
//! the nesting to the core's [`MAX_DEPTH`], so what this module writes is a valid value per
//! `sessionstore::value::validate` (stored with `Store::set_encoded`, no second pass), and a
//! hostile document can never exhaust the stack.

use pyo3::exceptions::{PyOverflowError, PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{
    PyBool, PyByteArray, PyBytes, PyDict, PyFloat, PyInt, PyList, PyMemoryView, PyString, PyTuple,
};
use rmp::Marker;
use sessionstore::value::MAX_DEPTH;

use crate::errors;

/// The ext type of a pickled Python object (`'P'`).
pub const EXT_PICKLE: i8 = 80;

/// A MessagePack ext value of a type this binding does not interpret (e.g. Java's ext 74, or
/// ext 80 read by a factory without `allow_pickle`). Written back, it is the same ext again,
/// so copying a value between sessions keeps it.
#[pyclass(frozen, module = "sessionstore", name = "Opaque")]
pub struct Opaque {
    type_code: i8,
    data: Box<[u8]>,
}

#[pymethods]
impl Opaque {
    #[new]
    fn new(type_code: i8, data: &[u8]) -> Self {
        Opaque {
            type_code,
            data: data.into(),
        }
    }

    /// The MessagePack ext type code (-128..127; 74 is Java-serialized, 80 is a pickle).
    #[getter]
    fn type_code(&self) -> i8 {
        self.type_code
    }

    /// The ext payload.
    #[getter]
    fn data<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.data)
    }

    fn __repr__(&self) -> String {
        format!(
            "Opaque(type_code={}, data=<{} bytes>)",
            self.type_code,
            self.data.len()
        )
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        match other.cast::<Opaque>() {
            Ok(other) => {
                let other = other.get();
                self.type_code == other.type_code && self.data == other.data
            }
            Err(_) => false,
        }
    }

    fn __hash__(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        self.type_code.hash(&mut hasher);
        self.data.hash(&mut hasher);
        hasher.finish()
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Reduced<'py>> {
        let this = slf.get();
        Ok((
            slf.get_type().into_any(),
            (this.type_code, PyBytes::new(slf.py(), &this.data)),
        ))
    }
}

/// What `Opaque.__reduce__` answers: the class and its constructor arguments.
type Reduced<'py> = (Bound<'py, PyAny>, (i8, Bound<'py, PyBytes>));

static PICKLE_DUMPS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static PICKLE_LOADS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

fn pickle_fn<'py>(
    py: Python<'py>,
    cell: &'static PyOnceLock<Py<PyAny>>,
    name: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let f = cell.get_or_try_init(py, || -> PyResult<_> {
        Ok(py.import("pickle")?.getattr(name)?.unbind())
    })?;
    Ok(f.bind(py).clone())
}

// Writing into a Vec never fails (`rmp`'s errors are the writer's; lengths are checked by
// `len32` first). Hence the ignored results.

/// Encodes `value` as one MessagePack document appended to `out`. `None` at the top and
/// unsupported types are `TypeError`; with `allow_pickle`, other objects are ext 80.
pub fn encode(value: &Bound<'_, PyAny>, allow_pickle: bool, out: &mut Vec<u8>) -> PyResult<()> {
    if value.is_none() {
        return Err(PyTypeError::new_err(
            "None is not a storable value (delete the key instead); None is allowed inside a list or dict",
        ));
    }
    Encoder {
        py: value.py(),
        allow_pickle,
        out,
    }
    .value(value, 0)
}

struct Encoder<'py, 'a> {
    py: Python<'py>,
    allow_pickle: bool,
    out: &'a mut Vec<u8>,
}

impl Encoder<'_, '_> {
    fn value(&mut self, obj: &Bound<'_, PyAny>, depth: usize) -> PyResult<()> {
        // Exact types first: the common case costs one pointer compare each.
        if let Ok(s) = obj.cast_exact::<PyString>() {
            return self.str(s);
        }
        if obj.is_exact_instance_of::<PyInt>() {
            return self.int(obj);
        }
        if obj.is_instance_of::<PyBool>() {
            // Before any int subclass check: bool is an int in Python, not in MessagePack.
            let _ = rmp::encode::write_bool(self.out, obj.is_truthy()?);
            return Ok(());
        }
        if let Ok(f) = obj.cast_exact::<PyFloat>() {
            let _ = rmp::encode::write_f64(self.out, f.value());
            return Ok(());
        }
        if let Ok(b) = obj.cast_exact::<PyBytes>() {
            self.bin(b.as_bytes())?;
            return Ok(());
        }
        if obj.is_none() {
            let _ = rmp::encode::write_nil(self.out);
            return Ok(());
        }
        if let Ok(list) = obj.cast::<PyList>() {
            return self.list(list, depth);
        }
        if let Ok(dict) = obj.cast::<PyDict>() {
            return self.dict(dict, depth);
        }
        if let Ok(tuple) = obj.cast::<PyTuple>() {
            self.container(depth)?;
            let _ = rmp::encode::write_array_len(self.out, self.len32(tuple.len())?);
            for item in tuple.iter() {
                self.value(&item, depth + 1)?;
            }
            return Ok(());
        }
        // Subclasses (str and int enums, ...) are written as their base type.
        if let Ok(s) = obj.cast::<PyString>() {
            return self.str(s);
        }
        if obj.is_instance_of::<PyInt>() {
            return self.int(obj);
        }
        if let Ok(f) = obj.cast::<PyFloat>() {
            let _ = rmp::encode::write_f64(self.out, f.value());
            return Ok(());
        }
        if let Ok(b) = obj.cast::<PyBytes>() {
            self.bin(b.as_bytes())?;
            return Ok(());
        }
        if let Ok(b) = obj.cast::<PyByteArray>() {
            self.bin(&b.to_vec())?;
            return Ok(());
        }
        if obj.is_instance_of::<PyMemoryView>() {
            // bytes() copies any buffer, contiguous or not, in its logical order.
            let bytes = obj.py().get_type::<PyBytes>().call1((obj,))?;
            let bytes = bytes.cast::<PyBytes>()?;
            self.bin(bytes.as_bytes())?;
            return Ok(());
        }
        if let Ok(opaque) = obj.cast::<Opaque>() {
            let opaque = opaque.get();
            return self.ext(opaque.type_code, &opaque.data);
        }
        if self.allow_pickle {
            let pickled = pickle_fn(obj.py(), &PICKLE_DUMPS, "dumps")?.call1((obj,))?;
            let pickled = pickled.cast::<PyBytes>()?;
            return self.ext(EXT_PICKLE, pickled.as_bytes());
        }
        Err(PyTypeError::new_err(format!(
            "{} is not a portable value type (bytes, str, int, float, bool, list, tuple, dict with \
             str keys, None inside a container); open the StoreFactory with allow_pickle=True \
             to store other objects pickled",
            type_name(obj)
        )))
    }

    fn container(&self, depth: usize) -> PyResult<()> {
        if depth >= MAX_DEPTH {
            return Err(errors::invalid_document(
                self.py,
                format!("the value nests lists and dicts more than {MAX_DEPTH} deep"),
            ));
        }
        Ok(())
    }

    fn str(&mut self, s: &Bound<'_, PyString>) -> PyResult<()> {
        // Fails (UnicodeEncodeError, a ValueError) on lone surrogates, which no UTF-8 holds.
        let text = s.to_str()?;
        let _ = rmp::encode::write_str_len(self.out, self.len32(text.len())?);
        self.out.extend_from_slice(text.as_bytes());
        Ok(())
    }

    fn bin(&mut self, data: &[u8]) -> PyResult<()> {
        let _ = rmp::encode::write_bin_len(self.out, self.len32(data.len())?);
        self.out.extend_from_slice(data);
        Ok(())
    }

    /// A length as MessagePack writes it: at most u32::MAX.
    fn len32(&self, len: usize) -> PyResult<u32> {
        u32::try_from(len).map_err(|_| {
            errors::too_large(
                self.py,
                format!("{len} items or bytes: a MessagePack length is at most 4294967295"),
            )
        })
    }

    fn int(&mut self, obj: &Bound<'_, PyAny>) -> PyResult<()> {
        if let Ok(v) = obj.extract::<i64>() {
            sessionstore::value::write_int(self.out, v);
            return Ok(());
        }
        if let Ok(v) = obj.extract::<u64>() {
            let _ = rmp::encode::write_uint(self.out, v);
            return Ok(());
        }
        Err(PyOverflowError::new_err(
            "int out of range: MessagePack ints are -2**63 .. 2**64-1",
        ))
    }

    fn ext(&mut self, type_code: i8, data: &[u8]) -> PyResult<()> {
        let _ = rmp::encode::write_ext_meta(self.out, self.len32(data.len())?, type_code);
        self.out.extend_from_slice(data);
        Ok(())
    }

    fn list(&mut self, list: &Bound<'_, PyList>, depth: usize) -> PyResult<()> {
        self.container(depth)?;
        let len = list.len();
        let _ = rmp::encode::write_array_len(self.out, self.len32(len)?);
        // By index: a pickled item's code may shrink the list under us; get_item then fails
        // instead of the document announcing more items than it holds.
        for i in 0..len {
            let item = list.get_item(i).map_err(|_| {
                PyRuntimeError::new_err("the list changed size while it was being encoded")
            })?;
            self.value(&item, depth + 1)?;
        }
        Ok(())
    }

    fn dict(&mut self, dict: &Bound<'_, PyDict>, depth: usize) -> PyResult<()> {
        self.container(depth)?;
        if self.allow_pickle {
            // Pickling runs Python code that may change the dict: encode a snapshot, as
            // iterating a dict that changes is an error.
            let items = dict.items();
            let _ = rmp::encode::write_map_len(self.out, self.len32(items.len())?);
            for item in items.iter() {
                let (key, value): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item.extract()?;
                self.key(&key)?;
                self.value(&value, depth + 1)?;
            }
            return Ok(());
        }
        // Without pickling no Python code runs while encoding, so the dict cannot change.
        let _ = rmp::encode::write_map_len(self.out, self.len32(dict.len())?);
        for (key, value) in dict.iter() {
            self.key(&key)?;
            self.value(&value, depth + 1)?;
        }
        Ok(())
    }

    fn key(&mut self, key: &Bound<'_, PyAny>) -> PyResult<()> {
        match key.cast::<PyString>() {
            Ok(s) => self.str(s),
            Err(_) => Err(PyTypeError::new_err(format!(
                "dict keys must be str (every host reads maps with text keys), got {}",
                type_name(key)
            ))),
        }
    }
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .qualname()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "object".to_owned())
}

/// True when decoding `doc` builds only objects that the cyclic garbage collector does not
/// track (str, int, float, bool, bytes): creating them can never start a collection, and so
/// never runs Python code (a `__del__` or weakref callback that could call back into the store).
/// Only such documents are decoded while the backend holds its lock. Lists, dicts and `Opaque`
/// (every PyO3 class is GC-tracked), and pickles to load, are decoded from a copy after it.
#[inline]
pub fn decodes_without_python_code(doc: &[u8]) -> bool {
    !matches!(
        doc.first().map(|&b| Marker::from_u8(b)),
        None | Some(
            Marker::FixArray(_)
                | Marker::Array16
                | Marker::Array32
                | Marker::FixMap(_)
                | Marker::Map16
                | Marker::Map32
                | Marker::FixExt1
                | Marker::FixExt2
                | Marker::FixExt4
                | Marker::FixExt8
                | Marker::FixExt16
                | Marker::Ext8
                | Marker::Ext16
                | Marker::Ext32
        )
    )
}

/// Decodes one whole document (a value as stored: never a top-level nil).
pub fn decode<'py>(py: Python<'py>, doc: &[u8], allow_pickle: bool) -> PyResult<Bound<'py, PyAny>> {
    let mut decoder = Decoder {
        py,
        rest: doc,
        allow_pickle,
    };
    if doc.first() == Some(&0xc0) {
        return Err(errors::invalid_document(
            py,
            "a value is never a top-level nil".to_owned(),
        ));
    }
    let value = decoder.value(0)?;
    if !decoder.rest.is_empty() {
        return Err(errors::invalid_document(
            py,
            format!(
                "{} bytes follow the MessagePack document",
                decoder.rest.len()
            ),
        ));
    }
    Ok(value)
}

struct Decoder<'py, 'a> {
    py: Python<'py>,
    rest: &'a [u8],
    allow_pickle: bool,
}

impl<'py, 'a> Decoder<'py, 'a> {
    fn truncated(&self) -> PyErr {
        errors::invalid_document(self.py, "the MessagePack document is truncated".to_owned())
    }

    fn take(&mut self, n: usize) -> PyResult<&'a [u8]> {
        if self.rest.len() < n {
            return Err(self.truncated());
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> PyResult<[u8; N]> {
        let bytes = self.take(N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    fn u8(&mut self) -> PyResult<u8> {
        Ok(self.array::<1>()?[0])
    }
    fn u16(&mut self) -> PyResult<usize> {
        Ok(u16::from_be_bytes(self.array()?) as usize)
    }
    fn u32(&mut self) -> PyResult<usize> {
        Ok(u32::from_be_bytes(self.array()?) as usize)
    }

    fn str(&mut self, len: usize) -> PyResult<Bound<'py, PyString>> {
        let raw = self.take(len)?;
        let text = std::str::from_utf8(raw).map_err(|_| {
            errors::invalid_document(self.py, "a MessagePack str is not valid UTF-8".to_owned())
        })?;
        Ok(PyString::new(self.py, text))
    }

    fn ext(&mut self, len: usize) -> PyResult<Bound<'py, PyAny>> {
        let type_code = self.u8()? as i8;
        let data = self.take(len)?;
        if type_code == EXT_PICKLE && self.allow_pickle {
            let bytes = PyBytes::new(self.py, data);
            return pickle_fn(self.py, &PICKLE_LOADS, "loads")?.call1((bytes,));
        }
        Ok(Bound::new(
            self.py,
            Opaque {
                type_code,
                data: data.into(),
            },
        )?
        .into_any())
    }

    fn value(&mut self, depth: usize) -> PyResult<Bound<'py, PyAny>> {
        let py = self.py;
        let marker = Marker::from_u8(self.u8()?);
        Ok(match marker {
            Marker::FixStr(n) => self.str(n as usize)?.into_any(),
            Marker::Str8 => {
                let n = self.u8()? as usize;
                self.str(n)?.into_any()
            }
            Marker::Str16 => {
                let n = self.u16()?;
                self.str(n)?.into_any()
            }
            Marker::Str32 => {
                let n = self.u32()?;
                self.str(n)?.into_any()
            }
            Marker::FixPos(v) => v.into_pyobject(py)?.into_any(),
            Marker::FixNeg(v) => v.into_pyobject(py)?.into_any(),
            Marker::U8 => self.u8()?.into_pyobject(py)?.into_any(),
            Marker::U16 => (self.u16()? as u64).into_pyobject(py)?.into_any(),
            Marker::U32 => (self.u32()? as u64).into_pyobject(py)?.into_any(),
            Marker::U64 => u64::from_be_bytes(self.array()?)
                .into_pyobject(py)?
                .into_any(),
            Marker::I8 => (self.u8()? as i8).into_pyobject(py)?.into_any(),
            Marker::I16 => i16::from_be_bytes(self.array()?)
                .into_pyobject(py)?
                .into_any(),
            Marker::I32 => i32::from_be_bytes(self.array()?)
                .into_pyobject(py)?
                .into_any(),
            Marker::I64 => i64::from_be_bytes(self.array()?)
                .into_pyobject(py)?
                .into_any(),
            Marker::True => PyBool::new(py, true).to_owned().into_any(),
            Marker::False => PyBool::new(py, false).to_owned().into_any(),
            Marker::Null => py.None().into_bound(py),
            Marker::F32 => (f32::from_be_bytes(self.array()?) as f64)
                .into_pyobject(py)?
                .into_any(),
            Marker::F64 => f64::from_be_bytes(self.array()?)
                .into_pyobject(py)?
                .into_any(),
            Marker::Bin8 => {
                let n = self.u8()? as usize;
                PyBytes::new(py, self.take(n)?).into_any()
            }
            Marker::Bin16 => {
                let n = self.u16()?;
                PyBytes::new(py, self.take(n)?).into_any()
            }
            Marker::Bin32 => {
                let n = self.u32()?;
                PyBytes::new(py, self.take(n)?).into_any()
            }
            Marker::FixArray(n) => self.list(n as usize, depth)?,
            Marker::Array16 => {
                let n = self.u16()?;
                self.list(n, depth)?
            }
            Marker::Array32 => {
                let n = self.u32()?;
                self.list(n, depth)?
            }
            Marker::FixMap(n) => self.map(n as usize, depth)?,
            Marker::Map16 => {
                let n = self.u16()?;
                self.map(n, depth)?
            }
            Marker::Map32 => {
                let n = self.u32()?;
                self.map(n, depth)?
            }
            Marker::FixExt1 => self.ext(1)?,
            Marker::FixExt2 => self.ext(2)?,
            Marker::FixExt4 => self.ext(4)?,
            Marker::FixExt8 => self.ext(8)?,
            Marker::FixExt16 => self.ext(16)?,
            Marker::Ext8 => {
                let n = self.u8()? as usize;
                self.ext(n)?
            }
            Marker::Ext16 => {
                let n = self.u16()?;
                self.ext(n)?
            }
            Marker::Ext32 => {
                let n = self.u32()?;
                self.ext(n)?
            }
            Marker::Reserved => {
                return Err(errors::invalid_document(
                    py,
                    "0xc1 is not a MessagePack marker".to_owned(),
                ))
            }
        })
    }

    fn enter(&self, depth: usize) -> PyResult<()> {
        if depth >= MAX_DEPTH {
            return Err(errors::invalid_document(
                self.py,
                format!("the document nests arrays and maps more than {MAX_DEPTH} deep"),
            ));
        }
        Ok(())
    }

    fn list(&mut self, len: usize, depth: usize) -> PyResult<Bound<'py, PyAny>> {
        self.enter(depth)?;
        // Every item takes at least one byte: a forged length cannot make us allocate more.
        if len > self.rest.len() {
            return Err(self.truncated());
        }
        let list = PyList::empty(self.py);
        for _ in 0..len {
            list.append(self.value(depth + 1)?)?;
        }
        Ok(list.into_any())
    }

    fn map(&mut self, len: usize, depth: usize) -> PyResult<Bound<'py, PyAny>> {
        self.enter(depth)?;
        let dict = PyDict::new(self.py);
        for _ in 0..len {
            let key = match Marker::from_u8(self.u8()?) {
                Marker::FixStr(n) => self.str(n as usize)?,
                Marker::Str8 => {
                    let n = self.u8()? as usize;
                    self.str(n)?
                }
                Marker::Str16 => {
                    let n = self.u16()?;
                    self.str(n)?
                }
                Marker::Str32 => {
                    let n = self.u32()?;
                    self.str(n)?
                }
                _ => {
                    return Err(errors::invalid_document(
                        self.py,
                        "map keys are MessagePack str".to_owned(),
                    ))
                }
            };
            let value = self.value(depth + 1)?;
            dict.set_item(key, value)?;
        }
        Ok(dict.into_any())
    }
}
