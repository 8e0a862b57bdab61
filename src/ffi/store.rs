//! `ss_store_*`: one session's key-value operations.

use std::ffi::c_char;

use super::args;
use super::boundary::call;
use super::bytes::ss_bytes;
use super::factory::ss_factory;
use super::status::ss_status;
use crate::bridge;
use crate::error::{Error, Result};
use crate::value;
use crate::Store;

/// An opaque store handle; 0 is never valid.
pub type ss_store = u64;

/// Runs `op` on the store of `handle`.
fn with_store<R>(handle: ss_store, op: impl FnOnce(&Store) -> Result<R>) -> Result<R> {
    bridge::with_store(handle, op)?
}

/// Hands a read's buffer to the caller: `SS_OK` with `*out` set, or `SS_NOT_FOUND`.
fn deliver(read: Option<Result<ss_bytes>>, out: &mut ss_bytes) -> Result<ss_status> {
    match read {
        Some(bytes) => {
            *out = bytes?;
            Ok(ss_status::SS_OK)
        }
        None => Ok(ss_status::SS_NOT_FOUND),
    }
}

/// Opens a store on session `sid` (`sid_len` bytes of `[A-Za-z0-9._~:-]`, 1 to 128) through
/// `factory`. A session that already has data is attached to (another handle, another node,
/// a reconnect); otherwise a new, empty session starts. On success `*out` is the new handle,
/// to be released once with `ss_store_release`.
#[no_mangle]
pub extern "C" fn ss_store_open(
    factory: ss_factory,
    sid: *const c_char,
    sid_len: usize,
    out: *mut ss_store,
) -> ss_status {
    call(|| {
        // SAFETY: `out` points to a writable handle per the header's contract.
        let out = unsafe { args::out(out, "out") }?;
        // SAFETY: `sid` points to `sid_len` readable bytes per the header's contract.
        let sid = unsafe { args::bytes(sid.cast(), sid_len, "sid") }?;
        *out = bridge::open_store(factory, sid)?;
        Ok(ss_status::SS_OK)
    })
}

/// Stores the raw bytes `val` (`val_len` bytes; NULL is `SS_ERR_NULL_ARG` even for 0 bytes)
/// under `key` (`key_len` bytes of UTF-8, at most 1024) as MessagePack `bin`.
/// `SS_ERR_TOO_LARGE` when the encoded value passes `max_value_bytes`.
#[no_mangle]
pub extern "C" fn ss_store_set(
    store: ss_store,
    key: *const c_char,
    key_len: usize,
    val: *const u8,
    val_len: usize,
) -> ss_status {
    call(|| {
        // SAFETY: `key` points to `key_len` readable bytes per the header's contract.
        let key = unsafe { args::key(key, key_len) }?;
        // SAFETY: `val` points to `val_len` readable bytes per the header's contract.
        let val = unsafe { args::bytes(val, val_len, "val") }?;
        with_store(store, |s| s.set_bytes(key, val))?;
        Ok(ss_status::SS_OK)
    })
}

/// Reads the raw bytes of `key` into `*out` (free it with `ss_bytes_free`).
/// `SS_NOT_FOUND` when the key has no value; `SS_ERR_TYPE` when its value is not MessagePack
/// `bin` (read it with `ss_store_get_msgpack`).
#[no_mangle]
pub extern "C" fn ss_store_get(
    store: ss_store,
    key: *const c_char,
    key_len: usize,
    out: *mut ss_bytes,
) -> ss_status {
    call(|| {
        // SAFETY: `out` points to a writable ss_bytes per the header's contract.
        let out = unsafe { args::out(out, "out") }?;
        // SAFETY: `key` points to `key_len` readable bytes per the header's contract.
        let key = unsafe { args::key(key, key_len) }?;
        let read = with_store(store, |s| {
            s.get_with(key, |doc| {
                value::decode_bin(doc).and_then(ss_bytes::copy_from)
            })
        })?;
        deliver(read, out)
    })
}

/// Stores the MessagePack document `doc` (`doc_len` bytes) under `key`. The document must be
/// one whole value: not a top-level nil, map keys of type str, at most 128 levels deep;
/// otherwise `SS_ERR_INVALID_ARG`. `SS_ERR_TOO_LARGE` past `max_value_bytes`.
#[no_mangle]
pub extern "C" fn ss_store_set_msgpack(
    store: ss_store,
    key: *const c_char,
    key_len: usize,
    doc: *const u8,
    doc_len: usize,
) -> ss_status {
    call(|| {
        // SAFETY: `key` points to `key_len` readable bytes per the header's contract.
        let key = unsafe { args::key(key, key_len) }?;
        // SAFETY: `doc` points to `doc_len` readable bytes per the header's contract.
        let doc = unsafe { args::bytes(doc, doc_len, "doc") }?;
        with_store(store, |s| s.set(key, doc))?;
        Ok(ss_status::SS_OK)
    })
}

/// Reads the value of `key` as its MessagePack document into `*out` (free it with
/// `ss_bytes_free`). `SS_NOT_FOUND` when the key has no value.
#[no_mangle]
pub extern "C" fn ss_store_get_msgpack(
    store: ss_store,
    key: *const c_char,
    key_len: usize,
    out: *mut ss_bytes,
) -> ss_status {
    call(|| {
        // SAFETY: `out` points to a writable ss_bytes per the header's contract.
        let out = unsafe { args::out(out, "out") }?;
        // SAFETY: `key` points to `key_len` readable bytes per the header's contract.
        let key = unsafe { args::key(key, key_len) }?;
        deliver(
            with_store(store, |s| s.get_with(key, ss_bytes::copy_from))?,
            out,
        )
    })
}

/// Stores the text `val` (`val_len` bytes of UTF-8, else `SS_ERR_INVALID_ARG`) under `key` as
/// MessagePack `str`: what Python reads as `str` and Java as `String`.
#[no_mangle]
pub extern "C" fn ss_store_set_str(
    store: ss_store,
    key: *const c_char,
    key_len: usize,
    val: *const c_char,
    val_len: usize,
) -> ss_status {
    call(|| {
        // SAFETY: `key` points to `key_len` readable bytes per the header's contract.
        let key = unsafe { args::key(key, key_len) }?;
        // SAFETY: `val` points to `val_len` readable bytes per the header's contract.
        let val = unsafe { args::bytes(val.cast(), val_len, "val") }?;
        let text = std::str::from_utf8(val).map_err(|e| {
            Error::invalid(format!(
                "val is not UTF-8 (invalid byte at {})",
                e.valid_up_to()
            ))
        })?;
        with_store(store, |s| s.set_encoded(key, &value::encode_str(text)))?;
        Ok(ss_status::SS_OK)
    })
}

/// Reads the text of `key` into `*out` (free it with `ss_bytes_free`): `out->len` bytes of
/// UTF-8, followed by a NUL not counted in `len`. `SS_NOT_FOUND` when the key has no value;
/// `SS_ERR_TYPE` when its value is not a MessagePack `str` (a Python `str`, a Java `String`).
#[no_mangle]
pub extern "C" fn ss_store_get_str(
    store: ss_store,
    key: *const c_char,
    key_len: usize,
    out: *mut ss_bytes,
) -> ss_status {
    call(|| {
        // SAFETY: `out` points to a writable ss_bytes per the header's contract.
        let out = unsafe { args::out(out, "out") }?;
        // SAFETY: `key` points to `key_len` readable bytes per the header's contract.
        let key = unsafe { args::key(key, key_len) }?;
        let read = with_store(store, |s| {
            s.get_with(key, |doc| {
                value::decode_str(doc).and_then(ss_bytes::copy_text)
            })
        })?;
        deliver(read, out)
    })
}

/// Stores the integer `val` under `key` as a MessagePack int: what Python reads as `int` and
/// Java as `Integer` (or `Long` past its range).
#[no_mangle]
pub extern "C" fn ss_store_set_i64(
    store: ss_store,
    key: *const c_char,
    key_len: usize,
    val: i64,
) -> ss_status {
    call(|| {
        // SAFETY: `key` points to `key_len` readable bytes per the header's contract.
        let key = unsafe { args::key(key, key_len) }?;
        with_store(store, |s| s.set_encoded(key, &value::encode_int(val)))?;
        Ok(ss_status::SS_OK)
    })
}

/// Sets `*out` to the integer of `key`. `SS_NOT_FOUND` when the key has no value (`*out` is
/// then 0); `SS_ERR_TYPE` when its value is not a MessagePack int of 64 signed bits (any int a
/// Python `int`, a Java `Integer`, `Long`, `Short` or `Byte` wrote, but for uint64 past
/// `INT64_MAX`).
#[no_mangle]
pub extern "C" fn ss_store_get_i64(
    store: ss_store,
    key: *const c_char,
    key_len: usize,
    out: *mut i64,
) -> ss_status {
    call(|| {
        // SAFETY: `out` points to a writable int64_t per the header's contract.
        let out = unsafe { args::out(out, "out") }?;
        // SAFETY: `key` points to `key_len` readable bytes per the header's contract.
        let key = unsafe { args::key(key, key_len) }?;
        match with_store(store, |s| s.get_with(key, value::decode_int))? {
            Some(n) => {
                *out = n?;
                Ok(ss_status::SS_OK)
            }
            None => Ok(ss_status::SS_NOT_FOUND),
        }
    })
}

/// Sets `*out` to whether `key` has a value.
#[no_mangle]
pub extern "C" fn ss_store_has(
    store: ss_store,
    key: *const c_char,
    key_len: usize,
    out: *mut bool,
) -> ss_status {
    call(|| {
        // SAFETY: `out` points to a writable bool per the header's contract.
        let out = unsafe { args::out(out, "out") }?;
        // SAFETY: `key` points to `key_len` readable bytes per the header's contract.
        let key = unsafe { args::key(key, key_len) }?;
        *out = with_store(store, |s| s.has(key))?;
        Ok(ss_status::SS_OK)
    })
}

/// Deletes `key`. When `existed` is not NULL it is set to whether the key had a value.
#[no_mangle]
pub extern "C" fn ss_store_del(
    store: ss_store,
    key: *const c_char,
    key_len: usize,
    existed: *mut bool,
) -> ss_status {
    call(|| {
        // SAFETY: `existed` is NULL or points to a writable bool per the header's contract.
        let existed = unsafe { args::optional_out(existed) };
        // SAFETY: `key` points to `key_len` readable bytes per the header's contract.
        let key = unsafe { args::key(key, key_len) }?;
        let had = with_store(store, |s| s.del(key))?;
        if let Some(existed) = existed {
            *existed = had;
        }
        Ok(ss_status::SS_OK)
    })
}

/// Sets `*out` to how many keys the session holds.
#[no_mangle]
pub extern "C" fn ss_store_len(store: ss_store, out: *mut usize) -> ss_status {
    call(|| {
        // SAFETY: `out` points to a writable size_t per the header's contract.
        let out = unsafe { args::out(out, "out") }?;
        *out = with_store(store, Store::len)?;
        Ok(ss_status::SS_OK)
    })
}

/// Sets `*out` to every key, as a MessagePack array of str (free it with `ss_bytes_free`).
#[no_mangle]
pub extern "C" fn ss_store_keys(store: ss_store, out: *mut ss_bytes) -> ss_status {
    call(|| {
        // SAFETY: `out` points to a writable ss_bytes per the header's contract.
        let out = unsafe { args::out(out, "out") }?;
        *out = ss_bytes::copy_from(&with_store(store, Store::keys_encoded)?)?;
        Ok(ss_status::SS_OK)
    })
}

/// Sets `*out` to every key and value, as a MessagePack map of str to value documents
/// (free it with `ss_bytes_free`).
#[no_mangle]
pub extern "C" fn ss_store_get_all(store: ss_store, out: *mut ss_bytes) -> ss_status {
    call(|| {
        // SAFETY: `out` points to a writable ss_bytes per the header's contract.
        let out = unsafe { args::out(out, "out") }?;
        *out = ss_bytes::copy_from(&with_store(store, Store::get_all_encoded)?)?;
        Ok(ss_status::SS_OK)
    })
}

/// Stores every entry of the MessagePack map `map_doc` (`len` bytes, str keys), all or
/// nothing: when any key or value is invalid or too large, nothing is stored.
#[no_mangle]
pub extern "C" fn ss_store_set_many(store: ss_store, map_doc: *const u8, len: usize) -> ss_status {
    call(|| {
        // SAFETY: `map_doc` points to `len` readable bytes per the header's contract.
        let map_doc = unsafe { args::bytes(map_doc, len, "map_doc") }?;
        with_store(store, |s| s.set_many_encoded(map_doc))?;
        Ok(ss_status::SS_OK)
    })
}

/// Deletes all of the session's data everywhere. Every handle on the session in this
/// factory (this one included) then answers `SS_ERR_DESTROYED` until released; a later
/// `ss_store_open` of the same id starts a new, empty session. Destroying an already
/// destroyed session is `SS_OK`. The handle itself must still be released.
#[no_mangle]
pub extern "C" fn ss_store_destroy(store: ss_store) -> ss_status {
    call(|| {
        with_store(store, Store::destroy)?;
        Ok(ss_status::SS_OK)
    })
}

/// Frees the handle; the session's data stays. A released handle answers
/// `SS_ERR_INVALID_HANDLE` to every later call, a second release included.
#[no_mangle]
pub extern "C" fn ss_store_release(store: ss_store) -> ss_status {
    call(|| {
        bridge::release_store(store)?;
        Ok(ss_status::SS_OK)
    })
}
