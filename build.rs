//! Generates the C header from `src/ffi/` into `OUT_DIR/sessionstore.h`.
//! `tests/header.rs` fails when the committed `include/sessionstore.h` differs from it;
//! `make header` refreshes the committed copy.

use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=src/ffi");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    if env::var_os("CARGO_FEATURE_CAPI").is_none() {
        return;
    }
    let crate_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let out = PathBuf::from(env::var("OUT_DIR").expect("set by cargo")).join("sessionstore.h");
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .expect("reading cbindgen.toml");
    // Only the C ABI layer is parsed (cbindgen follows its `mod` items): the core's items
    // are not part of the header.
    cbindgen::Builder::new()
        .with_config(config)
        .with_src(crate_dir.join("src/ffi/mod.rs"))
        .generate()
        .expect("generating the C header")
        .write_to_file(out);
}
