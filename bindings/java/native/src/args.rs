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
use sessionstore::bridge::null;
use sessionstore::names::MAX_KEY_LEN;
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
            input.resize(len, SENTINEL);
            output.clear();
            let result = f(input, output);
            if input.capacity() > KEEP_BYTES || output.capacity() > KEEP_BYTES {
                *input = Vec::new();
                *output = Vec::new();
            }
            result
        }
        Err(_) => f(&mut vec![SENTINEL; len], &mut Vec::new()),
    })
}

/// What the input scratch holds before a read: 0xc1 is never valid in MessagePack, nor as a
/// UTF-8 byte, so bytes a failed read did not replace are refused by the core.
const SENTINEL: u8 = 0xc1;

/// Scratch buffers larger than this are freed after the call.
const KEEP_BYTES: usize = 64 << 10;

/// The JNI environment of the current native call, for the few array calls of the hot path.
#[derive(Clone, Copy)]
pub(crate) struct RawEnv(*mut JNIEnv);

impl RawEnv {
    /// `env` is the environment the JVM passed to the running native method.
    pub(crate) fn new(env: *mut JNIEnv) -> Self {
        RawEnv(env)
    }

    /// Copies `array[0..buf.len()]` into `buf`. `buf.len()` comes from the Java caller: when
    /// it passes the array's end, the JVM raises ArrayIndexOutOfBoundsException and copies
    /// nothing, so `buf` keeps the sentinel bytes that [`with_scratch`] put there, which are
    /// neither UTF-8 nor MessagePack: the core then refuses them, and the pending exception is
    /// what Java sees. (Asking the array's length first would cost one more JVM transition
    /// per call.)
    pub(crate) fn read(self, array: jbyteArray, buf: &mut [u8]) -> Result<()> {
        if array.is_null() {
            return Err(null("buffer").into());
        }
        // SAFETY: `self.0` is the live environment of this native call (`RawEnv::new`),
        // `array` a non-null local reference the JVM passed as a `byte[]` parameter, and `buf`
        // is valid for `buf.len()` bytes (jbyte, i8, has the layout of u8). A region outside
        // the array raises a Java exception, never an out-of-bounds access.
        unsafe {
            ((**self.0).v1_1.GetByteArrayRegion)(
                self.0,
                array,
                0,
                buf.len() as jsize,
                buf.as_mut_ptr().cast(),
            )
        }
        Ok(())
    }

    /// `write` to an array not yet checked for null.
    pub(crate) fn write_checked(self, array: jbyteArray, bytes: &[u8]) -> Result<()> {
        if array.is_null() {
            return Err(null("buffer").into());
        }
        self.write(array, bytes);
        Ok(())
    }

    /// Copies `bytes` to `array[0..bytes.len()]` (a region past the array's end raises
    /// ArrayIndexOutOfBoundsException, as in `read`).
    pub(crate) fn write(self, array: jbyteArray, bytes: &[u8]) {
        // SAFETY: as in `read`, the other way round; `array` was non-null there.
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
}

/// Checks the lengths of a hot call's buffer before anything is allocated or read:
/// `0 <= key_len <= len`, and a key of at most `MAX_KEY_LEN` bytes.
pub(crate) fn check_bounds(key_len: jint, len: jint) -> Result<()> {
    if key_len < 0 || len < key_len {
        return Err(Error::new(
            ErrorKind::InvalidArg,
            format!("bad buffer bounds: key length {key_len}, length {len}"),
        )
        .into());
    }
    if key_len as usize > MAX_KEY_LEN {
        return Err(Error::new(
            ErrorKind::InvalidArg,
            format!("a key is at most {MAX_KEY_LEN} bytes, got {key_len}"),
        )
        .into());
    }
    Ok(())
}

/// Checks that a document of `doc_len` bytes may be stored, before its bytes are copied.
pub(crate) fn check_doc_len(doc_len: usize, max: usize) -> Result<()> {
    Ok(sessionstore::value::check_size(doc_len, max)?)
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
