//! libFuzzer entry point of the `url` target; the checks are in `sessionstore_fuzz::url`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sessionstore_fuzz::url::run(data));
