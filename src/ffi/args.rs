//! Turning raw C arguments into checked Rust values.

use std::slice;

use crate::bridge::null;
use crate::error::{Error, ErrorKind, Result};

/// The `len` bytes at `ptr`. NULL is `SS_ERR_NULL_ARG` even when `len` is 0.
///
/// # Safety
/// When not NULL, `ptr` must point to `len` readable bytes that stay unchanged for `'a`.
pub(crate) unsafe fn bytes<'a>(ptr: *const u8, len: usize, what: &str) -> Result<&'a [u8]> {
    if ptr.is_null() {
        return Err(null(what));
    }
    if len == 0 {
        return Ok(&[]);
    }
    if len > isize::MAX as usize {
        return Err(Error::new(
            ErrorKind::InvalidArg,
            format!("{what} length {len} is impossible"),
        ));
    }
    // SAFETY: not NULL, and the caller promises `len` readable bytes (the header's contract).
    Ok(unsafe { slice::from_raw_parts(ptr, len) })
}

/// A key: `len` bytes of UTF-8 at `ptr`, at most 1024.
///
/// # Safety
/// As [`bytes`].
pub(crate) unsafe fn key<'a>(ptr: *const std::ffi::c_char, len: usize) -> Result<&'a str> {
    // SAFETY: forwarded contract.
    let raw = unsafe { bytes(ptr.cast(), len, "key") }?;
    crate::names::key_from_bytes(raw)
}

/// Zeroes the out-parameter `out` (when not NULL) and returns it, or `SS_ERR_NULL_ARG`.
///
/// # Safety
/// When not NULL, `out` must point to a writable `T` not otherwise borrowed for `'a`.
pub(crate) unsafe fn out<'a, T: Zeroed>(out: *mut T, what: &str) -> Result<&'a mut T> {
    if out.is_null() {
        return Err(null(what));
    }
    // SAFETY: not NULL, writable per the caller; written before it is read, so any prior
    // content (even uninitialised) is never observed.
    unsafe {
        out.write(T::ZEROED);
        Ok(&mut *out)
    }
}

/// Zeroes an optional out-parameter and returns it when present.
///
/// # Safety
/// As [`out`].
pub(crate) unsafe fn optional_out<'a, T: Zeroed>(ptr: *mut T) -> Option<&'a mut T> {
    // SAFETY: forwarded contract.
    (!ptr.is_null())
        .then(|| unsafe { out(ptr, "") }.ok())
        .flatten()
}

/// Types with an all-zero value for out-parameters.
pub(crate) trait Zeroed {
    const ZEROED: Self;
}

impl Zeroed for u64 {
    const ZEROED: Self = 0;
}
impl Zeroed for i64 {
    const ZEROED: Self = 0;
}
impl Zeroed for usize {
    const ZEROED: Self = 0;
}
impl Zeroed for bool {
    const ZEROED: Self = false;
}
