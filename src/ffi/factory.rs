//! `ss_factory_*`: opening, closing and destroying sessions through a factory.

use std::ffi::c_char;

use super::args;
use super::boundary::call;
use super::bytes::ss_bytes;
use super::status::ss_status;
use crate::bridge;
use crate::error::Error;

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
        *out = bridge::open_factory(url)?;
        Ok(ss_status::SS_OK)
    })
}

/// Closes a factory and frees everything it holds: connections, threads, memory (with
/// `memory://`, its data). Every store opened from it then answers `SS_ERR_CLOSED` (store
/// handles must still be released), and so does the factory handle. Closing a closed factory
/// is `SS_OK`.
#[no_mangle]
pub extern "C" fn ss_factory_close(factory: ss_factory) -> ss_status {
    call(|| {
        bridge::close_factory(factory)?;
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
        bridge::with_factory(factory, |f| f.destroy_session(sid))??;
        Ok(ss_status::SS_OK)
    })
}

/// Sets `*out` to the factory's counters since it opened, as one MessagePack map (free it
/// with `ss_bytes_free`): `calls` (by operation: `open`, `get`, `set`, `has`, `del`, `len`,
/// `keys`, `get_all`, `set_many`, `replace_all`, `destroy`, `destroy_session`; failed calls included),
/// `errors` (failed calls by kind: `NullArg` … `Internal`, as the statuses), `latency_us`
/// (`count`, `p50`, `p99`, `max` of remote calls, in µs), `open_stores`, and `lease`
/// (`rounds`, `renewals`, `overruns` of the lease refresher). A closed factory answers
/// `SS_ERR_CLOSED`.
#[no_mangle]
pub extern "C" fn ss_factory_stats(factory: ss_factory, out: *mut ss_bytes) -> ss_status {
    call(|| {
        // SAFETY: `out` points to a writable ss_bytes per the header's contract.
        let out = unsafe { args::out(out, "out") }?;
        let stats = bridge::with_factory(factory, |f| f.stats().map(|s| s.encode()))??;
        *out = ss_bytes::copy_from(&stats)?;
        Ok(ss_status::SS_OK)
    })
}
