//! The committed C header must be what cbindgen generates from `src/ffi/` now.
//! `make header` (which runs this test with SESSIONSTORE_BLESS=1) refreshes it.

#![cfg(feature = "capi")]

#[test]
fn committed_header_is_current() {
    let generated = include_str!(concat!(env!("OUT_DIR"), "/sessionstore.h"));
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/include/sessionstore.h");
    if std::env::var_os("SESSIONSTORE_BLESS").is_some() {
        std::fs::write(path, generated).expect("writing include/sessionstore.h");
        return;
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == generated,
        "include/sessionstore.h is stale: run `make header` and commit it"
    );
}

/// Every item of the header carries a doc comment (rustls-ffi's rule): a function or type
/// declaration must directly follow the end of a comment.
#[test]
fn every_header_item_is_documented() {
    let header = include_str!(concat!(env!("OUT_DIR"), "/sessionstore.h"));
    let lines: Vec<&str> = header.lines().collect();
    let mut undocumented = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let declares = ["ss_status ss_", "const char *ss_", "void ss_", "typedef "]
            .iter()
            .any(|start| line.starts_with(start))
            || line.trim_start().starts_with("SS_");
        if declares && i > 0 && !lines[i - 1].trim_end().ends_with("*/") {
            undocumented.push(*line);
        }
    }
    assert!(
        undocumented.is_empty(),
        "undocumented header items: {undocumented:#?}"
    );
}

/// Each function is declared exactly once (a redeclaration breaks `-Wredundant-decls -Werror`).
#[test]
fn every_function_is_declared_once() {
    let header = include_str!(concat!(env!("OUT_DIR"), "/sessionstore.h"));
    let mut names: Vec<&str> = header
        .lines()
        .filter_map(|line| {
            let at = line.find(" ss_").or_else(|| line.find("*ss_"))?;
            let rest = &line[at + 1..];
            rest.find('(').map(|end| &rest[..end])
        })
        .filter(|name| name.starts_with("ss_"))
        .collect();
    let declared = names.len();
    names.sort();
    names.dedup();
    assert_eq!(
        declared,
        names.len(),
        "a function is declared twice: {names:?}"
    );
    assert_eq!(declared, 20, "API.md §4 has 20 functions");
}
