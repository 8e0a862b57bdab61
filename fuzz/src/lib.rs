//! Fuzz targets of sessionstore (fuzz/README.md). Each target is a `run(data)` function here
//! that panics when a property fails; `fuzz_targets/` wraps each in libFuzzer (`make fuzz`),
//! and `tests/replay.rs` runs each over its committed corpus (`make fuzz-replay`).

pub mod ffi_ops;
pub mod gen;
pub mod msgpack;
pub mod oracle;
pub mod url;

/// A target: one input in, a panic when a property fails.
pub type Target = fn(&[u8]);

/// The Rust targets, each by the name of its corpus folder `fuzz/corpus/<name>/`.
pub const TARGETS: &[(&str, Target)] = &[
    ("ffi_ops", ffi_ops::run),
    ("msgpack", msgpack::run),
    ("url", url::run),
];
