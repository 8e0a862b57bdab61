//! libFuzzer entry point of the `msgpack` target; the checks are in `sessionstore_fuzz::msgpack`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sessionstore_fuzz::msgpack::run(data));
