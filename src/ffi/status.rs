//! Status codes, status names, the thread's last error and the version string.

use std::cell::RefCell;
use std::ffi::{c_char, c_int, CString};

use crate::error::{Error, ErrorKind};

/// The result of every `ss_*` call. Zero and positive values are successes.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ss_status {
    /// The call succeeded.
    SS_OK = 0,
    /// The key has no value (a success: out-parameters are zeroed).
    SS_NOT_FOUND = 1,
    /// A required pointer was NULL (a value included).
    SS_ERR_NULL_ARG = -1,
    /// A bad session id, key, or MessagePack document.
    SS_ERR_INVALID_ARG = -2,
    /// A value over `max_value_bytes`.
    SS_ERR_TOO_LARGE = -3,
    /// An unknown, released, forged or wrong-kind handle.
    SS_ERR_INVALID_HANDLE = -4,
    /// The session was destroyed through this factory (or reclaimed) after the handle opened.
    SS_ERR_DESTROYED = -5,
    /// The factory was closed.
    SS_ERR_CLOSED = -6,
    /// A bad url or option.
    SS_ERR_CONFIG = -7,
    /// The backend refused the operation or the connection failed.
    SS_ERR_BACKEND = -8,
    /// A remote operation passed `timeout_ms`.
    SS_ERR_TIMEOUT = -9,
    /// A raw call on a value that is not MessagePack `bin`.
    SS_ERR_TYPE = -10,
    /// A bug: a caught panic. The process goes on.
    SS_ERR_INTERNAL = -11,
}

impl From<ErrorKind> for ss_status {
    fn from(kind: ErrorKind) -> Self {
        match kind {
            ErrorKind::NullArg => ss_status::SS_ERR_NULL_ARG,
            ErrorKind::InvalidArg => ss_status::SS_ERR_INVALID_ARG,
            ErrorKind::TooLarge => ss_status::SS_ERR_TOO_LARGE,
            ErrorKind::InvalidHandle => ss_status::SS_ERR_INVALID_HANDLE,
            ErrorKind::Destroyed => ss_status::SS_ERR_DESTROYED,
            ErrorKind::Closed => ss_status::SS_ERR_CLOSED,
            ErrorKind::Config => ss_status::SS_ERR_CONFIG,
            ErrorKind::Backend => ss_status::SS_ERR_BACKEND,
            ErrorKind::Timeout => ss_status::SS_ERR_TIMEOUT,
            ErrorKind::Type => ss_status::SS_ERR_TYPE,
            ErrorKind::Internal => ss_status::SS_ERR_INTERNAL,
        }
    }
}

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

/// Records `error` as this thread's last error.
pub(crate) fn set_last_error(error: &Error) {
    // An interior NUL would cut the message short in C; none is expected, so replace it.
    let text = error.to_string().replace('\0', "\u{FFFD}");
    let text = CString::new(text).unwrap_or_default();
    LAST_ERROR.with(|slot| *slot.borrow_mut() = text);
}

/// This thread's last error message, or `""` when no call on this thread has failed.
///
/// The string is owned by the library and stays valid until the next failing `ss_*` call on
/// this thread, and is freed when the thread exits; copy it to keep it. A successful call
/// leaves it unchanged (like `errno`).
#[no_mangle]
pub extern "C" fn ss_last_error() -> *const c_char {
    super::boundary::call_ptr(
        || LAST_ERROR.with(|slot| slot.borrow().as_ptr()),
        c"".as_ptr(),
    )
}

/// The name of a status as a static string, e.g. `"SS_ERR_TIMEOUT"`; `"SS_UNKNOWN"` for a
/// value that is not a status.
///
/// Takes an `int` (an `ss_status` converts implicitly) so that any integer a caller passes is
/// defined behaviour.
#[no_mangle]
pub extern "C" fn ss_status_name(status: c_int) -> *const c_char {
    super::boundary::call_ptr(|| status_name(status).as_ptr(), c"SS_UNKNOWN".as_ptr())
}

fn status_name(code: i32) -> &'static std::ffi::CStr {
    match code {
        0 => c"SS_OK",
        1 => c"SS_NOT_FOUND",
        -1 => c"SS_ERR_NULL_ARG",
        -2 => c"SS_ERR_INVALID_ARG",
        -3 => c"SS_ERR_TOO_LARGE",
        -4 => c"SS_ERR_INVALID_HANDLE",
        -5 => c"SS_ERR_DESTROYED",
        -6 => c"SS_ERR_CLOSED",
        -7 => c"SS_ERR_CONFIG",
        -8 => c"SS_ERR_BACKEND",
        -9 => c"SS_ERR_TIMEOUT",
        -10 => c"SS_ERR_TYPE",
        -11 => c"SS_ERR_INTERNAL",
        _ => c"SS_UNKNOWN",
    }
}

const VERSION: &std::ffi::CStr = match std::ffi::CStr::from_bytes_with_nul(
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes(),
) {
    Ok(v) => v,
    Err(_) => c"unknown",
};

/// The library version, e.g. `"0.1.0"`, as a static string.
#[no_mangle]
pub extern "C" fn ss_version() -> *const c_char {
    super::boundary::call_ptr(|| VERSION.as_ptr(), c"unknown".as_ptr())
}
