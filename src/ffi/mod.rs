//! The C ABI of docs/API.md §4: a thin layer of exports over the core's [`bridge`](crate::bridge).
//!
//! Conventions (also in the README): inputs are `const` and each buffer is followed by its
//! length; outputs come last, are zeroed on entry and written only on success; every returned
//! `ss_bytes` is owned by the caller and freed exactly once with `ss_bytes_free`. Every export
//! runs inside [`boundary::call`], which catches panics and records the thread's last error.

#![allow(non_camel_case_types)]
#![allow(unsafe_code)]
// Exported functions take raw pointers by design (that is the C ABI); each dereference sits in
// an `unsafe` block with its SAFETY reason, resting on the header's documented contract.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

mod args;
mod boundary;
mod bytes;
mod factory;
mod status;
mod store;

pub use bytes::{ss_bytes, ss_bytes_free};
pub use factory::{
    ss_factory, ss_factory_close, ss_factory_destroy_session, ss_factory_open, ss_factory_stats,
};
pub use status::{ss_last_error, ss_status, ss_status_name, ss_version};
pub use store::{
    ss_store, ss_store_del, ss_store_destroy, ss_store_get, ss_store_get_all, ss_store_get_i64,
    ss_store_get_msgpack, ss_store_get_str, ss_store_has, ss_store_keys, ss_store_len,
    ss_store_open, ss_store_release, ss_store_set, ss_store_set_i64, ss_store_set_many,
    ss_store_set_msgpack, ss_store_set_str,
};
