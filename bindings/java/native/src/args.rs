//! Arguments in and results out: Java `byte[]` and `String` to Rust slices and back.
//!
//! The hot operations (get, set, has, del) take one `byte[]` buffer that the Java side reuses
//! per thread: the key's UTF-8 at `[0, key_len)`, then for `set` the document up to `len`;
//! `get` writes the document back into the same buffer. [`RawEnv`] reads and writes it with
//! two or three plain JNI calls.

use std::cell::RefCell;

use jni::objects::{JByteArray, JString};
use jni::refs::Reference;
use jni::sys::{jbyteArray, jint, jsize, JNIEnv};
use jni::Env;
use sessionstore::{Error, ErrorKind};

use crate::runner::Result;

thread_local! {
    /// Per-thread scratch for the hot calls: what a call copies in from Java, and what it
    /// copies out of the backend, without an allocation per call once warm.
    static SCRATCH: RefCell<(Vec<u8>, Vec<u8>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

/// Calls `f` with two scratch buffers of this thread: `input` resized to `len` bytes, and an
/// empty `output`. A reentrant call (none happens today) gets fresh buffers.
pub(crate) fn with_scratch<R>(len: usize, f: impl FnOnce(&mut [u8], &mut Vec<u8>) -> R) -> R {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut scratch) => {
            let (input, output) = &mut *scratch;
            input.clear();
            input.resize(len, 0);
            output.clear();
            let result = f(input, output);
            if input.capacity() > KEEP_BYTES || output.capacity() > KEEP_BYTES {
                *input = Vec::new();
                *output = Vec::new();
            }
            result
        }
        Err(_) => f(&mut vec![0; len], &mut Vec::new()),
    })
}

/// Scratch buffers larger than this are freed after the call.
const KEEP_BYTES: usize = 64 << 10;

fn null(what: &str) -> Error {
    Error::new(ErrorKind::NullArg, format!("{what} is null"))
}

/// The JNI environment of the current native call, for the few array calls of the hot path.
#[derive(Clone, Copy)]
pub(crate) struct RawEnv(*mut JNIEnv);

impl RawEnv {
    /// `env` is the environment the JVM passed to the running native method.
    pub(crate) fn new(env: *mut JNIEnv) -> Self {
        RawEnv(env)
    }

    /// The length of a `byte[]` argument.
    pub(crate) fn len(self, array: jbyteArray, what: &str) -> Result<usize> {
        if array.is_null() {
            return Err(null(what).into());
        }
        // SAFETY: `self.0` is the live environment of this native call (`RawEnv::new`), and
        // `array` is a non-null local reference the JVM passed as a `byte[]` parameter.
        let len = unsafe { ((**self.0).v1_1.GetArrayLength)(self.0, array) };
        Ok(usize::try_from(len).unwrap_or(0))
    }

    /// Copies `array[0..buf.len()]` into `buf`; `buf.len()` is at most the array's length.
    pub(crate) fn read(self, array: jbyteArray, buf: &mut [u8]) {
        // SAFETY: as in `len`; the region is within the array (callers check against `len`),
        // so the call raises no exception; `buf` is valid for `buf.len()` bytes, and jbyte
        // (i8) has the layout of u8.
        unsafe {
            ((**self.0).v1_1.GetByteArrayRegion)(
                self.0,
                array,
                0,
                buf.len() as jsize,
                buf.as_mut_ptr().cast(),
            )
        }
    }

    /// Copies `bytes` to `array[0..bytes.len()]`; `bytes.len()` is at most the array's length.
    pub(crate) fn write(self, array: jbyteArray, bytes: &[u8]) {
        // SAFETY: as in `read`, the other way round.
        unsafe {
            ((**self.0).v1_1.SetByteArrayRegion)(
                self.0,
                array,
                0,
                bytes.len() as jsize,
                bytes.as_ptr().cast(),
            )
        }
    }

    /// The buffer of a hot call: its length, checked against `key_len` and `len`.
    pub(crate) fn buffer(self, array: jbyteArray, key_len: jint, len: jint) -> Result<usize> {
        let capacity = self.len(array, "buffer")?;
        let ok = key_len >= 0 && len >= key_len && (len as usize) <= capacity;
        if !ok {
            return Err(Error::new(
                ErrorKind::InvalidArg,
                format!("bad buffer bounds: key {key_len}, length {len}, capacity {capacity}"),
            )
            .into());
        }
        Ok(capacity)
    }
}

/// Splits a buffer into its key (validated as UTF-8 of at most 1024 bytes) and the rest.
pub(crate) fn split_key(buf: &[u8], key_len: usize) -> Result<(&str, &[u8])> {
    let (key, rest) = buf.split_at(key_len);
    Ok((sessionstore::names::key_from_bytes(key)?, rest))
}

/// Calls `f` with a copy of the bytes of `array`; `what` names it in the null error.
pub(crate) fn with_bytes<R>(
    env: &Env<'_>,
    array: &JByteArray<'_>,
    what: &str,
    f: impl FnOnce(&[u8]) -> Result<R>,
) -> Result<R> {
    if array.is_null() {
        return Err(null(what).into());
    }
    let mut bytes = vec![0u8; array.len(env)?];
    // SAFETY: i8 and u8 have the same size and alignment, and every bit pattern is valid for
    // both; the slice reborrows `bytes` for this call only.
    let signed =
        unsafe { std::slice::from_raw_parts_mut(bytes.as_mut_ptr().cast::<i8>(), bytes.len()) };
    array.get_region(env, 0, signed)?;
    f(&bytes)
}

/// The text of `string`; `what` names it in the null error.
pub(crate) fn string(env: &Env<'_>, string: &JString<'_>, what: &str) -> Result<String> {
    if string.is_null() {
        return Err(null(what).into());
    }
    Ok(string.try_to_string(env)?)
}

/// A new Java `byte[]` holding `bytes`.
pub(crate) fn byte_array<'local>(
    env: &mut Env<'local>,
    bytes: &[u8],
) -> Result<JByteArray<'local>> {
    Ok(env.byte_array_from_slice(bytes)?)
}
