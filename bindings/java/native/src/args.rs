//! Arguments in and results out: Java `byte[]` and `String` to Rust slices and back.

use jni::objects::{JByteArray, JString};
use jni::refs::Reference;
use jni::Env;
use sessionstore::{Error, ErrorKind};

use crate::runner::Result;

/// Arrays up to this size are copied to the stack: keys and most values are short.
const STACK_BYTES: usize = 256;

fn null(what: &str) -> Error {
    Error::new(ErrorKind::NullArg, format!("{what} is null"))
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
    let len = array.len(env)?;
    let mut stack = [0i8; STACK_BYTES];
    let mut heap = Vec::new();
    let buf: &mut [i8] = if len <= STACK_BYTES {
        &mut stack[..len]
    } else {
        heap.resize(len, 0i8);
        &mut heap
    };
    array.get_region(env, 0, buf)?;
    // SAFETY: i8 and u8 have the same size and alignment, and every bit pattern is valid for
    // both; the slice borrows `buf`, which outlives it.
    let bytes = unsafe { std::slice::from_raw_parts(buf.as_ptr().cast::<u8>(), buf.len()) };
    f(bytes)
}

/// Calls `f` with the key in `array`, which the Java side encoded as UTF-8.
pub(crate) fn with_key<R>(
    env: &Env<'_>,
    array: &JByteArray<'_>,
    f: impl FnOnce(&str) -> Result<R>,
) -> Result<R> {
    with_bytes(env, array, "key", |raw| {
        f(sessionstore::names::key_from_bytes(raw)?)
    })
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
