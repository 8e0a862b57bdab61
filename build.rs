//! With the `capi` feature, generates the C header from `src/ffi/` into
//! `OUT_DIR/sessionstore.h` and gives the shared library its SONAME. `tests/header.rs` fails when the committed
//! `include/sessionstore.h` differs from it; `make header` refreshes the committed copy.
//! Without it (the Python and Java crates) there is nothing to do, and cbindgen is not built.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    #[cfg(feature = "capi")]
    {
        header::generate();
        // The shared library's SONAME: libsessionstore.so.<major>, so programs linked against
        // one ABI never load an incompatible one (`make install` adds the symlinks).
        let major = std::env::var("CARGO_PKG_VERSION_MAJOR").expect("set by cargo");
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libsessionstore.so.{major}");
    }
}

#[cfg(feature = "capi")]
mod header {
    use std::env;
    use std::path::PathBuf;

    pub fn generate() {
        println!("cargo:rerun-if-changed=src/ffi");
        println!("cargo:rerun-if-changed=cbindgen.toml");
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
}
