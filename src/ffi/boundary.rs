//! The one boundary every export runs inside: panics are caught (never unwound into C) and
//! errors become a status plus the thread's last error message.

use std::panic::{catch_unwind, AssertUnwindSafe};

use super::status::{set_last_error, ss_status};
use crate::error::{Error, ErrorKind, Result};

/// Runs an export's body. `Ok` carries `SS_OK` or `SS_NOT_FOUND`.
pub(crate) fn call(body: impl FnOnce() -> Result<ss_status>) -> ss_status {
    // AssertUnwindSafe: the registries and the core keep no state that a panic half-updates
    // (every lock is taken poison-tolerant and updated in single steps).
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(status)) => status,
        Ok(Err(error)) => {
            set_last_error(&error);
            error.kind().into()
        }
        Err(panic) => {
            set_last_error(&panic_error(panic));
            ss_status::SS_ERR_INTERNAL
        }
    }
}

/// Runs an export that returns a pointer; `fallback` when the body panics.
pub(crate) fn call_ptr<T>(body: impl FnOnce() -> *const T, fallback: *const T) -> *const T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback)
}

/// Runs an export that returns nothing.
pub(crate) fn call_void(body: impl FnOnce()) {
    if let Err(panic) = catch_unwind(AssertUnwindSafe(body)) {
        set_last_error(&panic_error(panic));
    }
}

fn panic_error(panic: Box<dyn std::any::Any + Send>) -> Error {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned());
    Error::new(
        ErrorKind::Internal,
        format!("a bug in sessionstore (caught panic): {what}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_internal_with_a_message() {
        let status = call(|| panic!("boom"));
        assert_eq!(status, ss_status::SS_ERR_INTERNAL);
        let msg = unsafe { std::ffi::CStr::from_ptr(super::super::ss_last_error()) };
        assert!(msg.to_str().unwrap().contains("boom"));
        assert_eq!(call_ptr(|| panic!("x"), 7 as *const u8), 7 as *const u8);
        call_void(|| panic!("void"));
    }

    /// rustls-ffi once shipped an export without its panic boundary (their issue #286): every
    /// `extern "C"` function here must start by entering one.
    #[test]
    fn every_export_enters_the_boundary() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/ffi");
        let mut exports = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let source = std::fs::read_to_string(&path).unwrap();
            let mut rest = source.as_str();
            while let Some(at) = rest.find("pub extern \"C\" fn ") {
                rest = &rest[at..];
                let name: String = rest[18..].chars().take_while(|c| *c != '(').collect();
                let body_start = rest.find("{\n").unwrap() + 2;
                let first_line = rest[body_start..].lines().next().unwrap().trim();
                let entered = [
                    "call(",
                    "call_void(",
                    "super::boundary::call_ptr(",
                    "boundary::call_void(",
                ]
                .iter()
                .any(|b| first_line.starts_with(b));
                assert!(
                    entered,
                    "{} `{name}` does not start with the boundary",
                    path.display()
                );
                exports += 1;
                rest = &rest[body_start..];
            }
        }
        assert_eq!(exports, 20, "every function of API.md §4 is exported");
    }

    #[test]
    fn errors_map_to_their_status() {
        let status = call(|| Err(Error::new(ErrorKind::Timeout, "slow")));
        assert_eq!(status, ss_status::SS_ERR_TIMEOUT);
        assert_eq!(
            call(|| Ok(ss_status::SS_NOT_FOUND)),
            ss_status::SS_NOT_FOUND
        );
    }
}
