//! `ss_factory_*`: opening, closing and destroying sessions through a factory.

use std::ffi::c_char;

use super::args;
use super::boundary::call;
use super::handles::FACTORIES;
use super::status::ss_status;
use crate::error::Error;
use crate::StoreFactory;

/// An opaque factory handle; 0 is never valid.
pub type ss_factory = u64;

/// Opens a factory on the backend that `url` (`url_len` bytes, UTF-8, no terminator needed)
/// names: `memory://` or the empty string for the in-memory default, or a Redis url, with
/// options on the query string. On success `*out` is the new handle.
///
/// Errors: `SS_ERR_NULL_ARG` (url or out NULL), `SS_ERR_CONFIG` (bad url, unknown option,
/// option out of range), `SS_ERR_BACKEND` / `SS_ERR_TIMEOUT` (servers unreachable).
#[no_mangle]
pub extern "C" fn ss_factory_open(
    url: *const c_char,
    url_len: usize,
    out: *mut ss_factory,
) -> ss_status {
    call(|| {
        // SAFETY: `out` points to a writable handle per the header's contract.
        let out = unsafe { args::out(out, "out") }?;
        // SAFETY: `url` points to `url_len` readable bytes per the header's contract.
        let url = unsafe { args::bytes(url.cast(), url_len, "url") }?;
        let url = std::str::from_utf8(url).map_err(|_| Error::config("the url is not UTF-8"))?;
        *out = FACTORIES.insert(StoreFactory::open(url)?)?;
        Ok(ss_status::SS_OK)
    })
}

/// Closes a factory: its connections and background work stop, every store opened from it
/// then answers `SS_ERR_CLOSED`, and with `memory://` its data goes. Store handles must still
/// be released. Closing a closed factory is `SS_OK`; the handle keeps answering
/// `SS_ERR_CLOSED` to every other call.
#[no_mangle]
pub extern "C" fn ss_factory_close(factory: ss_factory) -> ss_status {
    call(|| {
        FACTORIES.with(factory, StoreFactory::close)?;
        Ok(ss_status::SS_OK)
    })
}

/// Deletes all data of session `sid` (`sid_len` bytes) everywhere; every handle open on it
/// then answers `SS_ERR_DESTROYED`. A session with no data is `SS_OK`.
#[no_mangle]
pub extern "C" fn ss_factory_destroy_session(
    factory: ss_factory,
    sid: *const c_char,
    sid_len: usize,
) -> ss_status {
    call(|| {
        // SAFETY: `sid` points to `sid_len` readable bytes per the header's contract.
        let sid = unsafe { args::bytes(sid.cast(), sid_len, "sid") }?;
        FACTORIES.with(factory, |f| f.destroy_session(sid))??;
        Ok(ss_status::SS_OK)
    })
}
