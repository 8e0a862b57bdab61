//! `ss_bytes`: byte buffers the library allocates and the caller frees once.

use super::args::Zeroed;
use super::boundary;
use crate::error::{Error, ErrorKind, Result};

/// A byte buffer owned by the library and handed to the caller, who frees it exactly once
/// with `ss_bytes_free`. A zeroed `ss_bytes` (`data == NULL`, `len == 0`) holds nothing.
#[repr(C)]
#[derive(Debug)]
pub struct ss_bytes {
    /// The first byte; NULL when the buffer holds nothing.
    pub data: *mut u8,
    /// How many bytes `data` holds.
    pub len: usize,
}

impl Zeroed for ss_bytes {
    const ZEROED: Self = ss_bytes {
        data: std::ptr::null_mut(),
        len: 0,
    };
}

impl ss_bytes {
    /// Copies `src` into a new malloc'd buffer.
    pub(crate) fn copy_from(src: &[u8]) -> Result<ss_bytes> {
        Self::copy_with(src, 0)
    }

    /// Copies the text `src` into a new malloc'd buffer followed by a NUL (not counted in
    /// `len`), so C may use `data` as a string.
    pub(crate) fn copy_text(src: &str) -> Result<ss_bytes> {
        Self::copy_with(src.as_bytes(), 1)
    }

    /// Copies `src` into a new malloc'd buffer of `extra` more bytes, zeroed.
    fn copy_with(src: &[u8], extra: usize) -> Result<ss_bytes> {
        let size = src.len().saturating_add(extra).max(1);
        // SAFETY: malloc of at least one byte (so an empty buffer is still a real, freeable
        // pointer); the result is checked for NULL before use.
        let data = unsafe { libc::malloc(size) }.cast::<u8>();
        if data.is_null() {
            return Err(Error::new(
                ErrorKind::Internal,
                format!("out of memory allocating {} bytes", src.len()),
            ));
        }
        // SAFETY: `data` has room for `size` >= `src.len() + extra` bytes and cannot overlap
        // `src`; the copy fills the first `src.len()`, the zeroing the `extra` after them.
        unsafe {
            std::ptr::copy_nonoverlapping(src.as_ptr(), data, src.len());
            std::ptr::write_bytes(data.add(src.len()), 0, size - src.len());
        }
        Ok(ss_bytes {
            data,
            len: src.len(),
        })
    }
}

/// Frees a buffer the library returned and zeroes it, so a second free is a no-op.
/// `NULL`, and an `ss_bytes` whose `data` is NULL, are no-ops.
#[no_mangle]
pub extern "C" fn ss_bytes_free(bytes: *mut ss_bytes) {
    boundary::call_void(|| {
        if bytes.is_null() {
            return;
        }
        // SAFETY: not NULL; the caller passes an `ss_bytes` this library filled (or zeroed).
        let bytes = unsafe { &mut *bytes };
        if !bytes.data.is_null() {
            // SAFETY: `data` came from `libc::malloc` in `copy_from` and is freed once:
            // it is zeroed right after.
            unsafe { libc::free(bytes.data.cast()) };
        }
        *bytes = ss_bytes::ZEROED;
    })
}
