//! libFuzzer entry point of the `ffi_ops` target; the checks are in `sessionstore_fuzz::ffi_ops`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sessionstore_fuzz::ffi_ops::run(data));
