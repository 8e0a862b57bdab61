//! Status codes, status names, the thread's last error and the version string.

use std::cell::RefCell;
use std::ffi::{c_char, c_int, CStr, CString};

use once_cell::sync::Lazy;

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

impl ss_status {
    /// Every status: the two successes, then the error of each kind.
    fn all() -> impl Iterator<Item = ss_status> {
        [ss_status::SS_OK, ss_status::SS_NOT_FOUND]
            .into_iter()
            .chain(ErrorKind::ALL.into_iter().map(ss_status::from))
    }
}

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

/// Records `error` as this thread's last error. During the thread's exit (a call from an
/// `atexit` handler or a thread-local destructor, after the slot is gone) nothing is
/// recorded: the status still tells what happened.
pub(crate) fn set_last_error(error: &Error) {
    // An interior NUL would cut the message short in C; none is expected, so replace it.
    let text = error.to_string().replace('\0', "\u{FFFD}");
    let text = CString::new(text).unwrap_or_default();
    let _ = LAST_ERROR.try_with(|slot| *slot.borrow_mut() = text);
}

/// This thread's last error message, or `""` when no call on this thread has failed.
///
/// The string is owned by the library and stays valid until the next failing `ss_*` call on
/// this thread, and is freed when the thread exits; copy it to keep it. A successful call
/// leaves it unchanged (like `errno`).
#[no_mangle]
pub extern "C" fn ss_last_error() -> *const c_char {
    super::boundary::call_ptr(
        || {
            LAST_ERROR
                .try_with(|slot| slot.borrow().as_ptr())
                .unwrap_or(c"".as_ptr())
        },
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

/// The name of status `code`: the status's own name, as its `Debug` spells it.
fn status_name(code: c_int) -> &'static CStr {
    static NAMES: Lazy<Vec<(c_int, CString)>> = Lazy::new(|| {
        ss_status::all()
            .map(|s| {
                (
                    s as c_int,
                    CString::new(format!("{s:?}")).unwrap_or_default(),
                )
            })
            .collect()
    });
    NAMES
        .iter()
        .find(|(c, _)| *c == code)
        .map_or(c"SS_UNKNOWN", |(_, name)| name.as_c_str())
}

const VERSION: &CStr =
    match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
        Ok(v) => v,
        Err(_) => c"unknown",
    };

/// The library version, e.g. `"0.1.0"`, as a static string.
#[no_mangle]
pub extern "C" fn ss_version() -> *const c_char {
    super::boundary::call_ptr(|| VERSION.as_ptr(), c"unknown".as_ptr())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_has_its_own_code_and_name() {
        let all: Vec<ss_status> = ss_status::all().collect();
        assert_eq!(all.len(), 2 + ErrorKind::ALL.len());
        for (i, s) in all.iter().enumerate() {
            // Codes run 0, 1, then -1, -2, … in the order of ErrorKind::ALL.
            let code = if i < 2 { i as c_int } else { 1 - i as c_int };
            assert_eq!(*s as c_int, code, "{s:?}");
            assert_eq!(status_name(code).to_str().unwrap(), format!("{s:?}"));
        }
        assert_eq!(status_name(2), c"SS_UNKNOWN");
        assert_eq!(status_name(-12), c"SS_UNKNOWN");
        assert_eq!(status_name(c_int::MIN), c"SS_UNKNOWN");
    }
}
