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
        .filter(|line| !line.trim_start().starts_with(['*', '/']))
        .flat_map(called)
        .collect();
    let declared = names.len();
    names.sort();
    names.dedup();
    assert_eq!(
        declared,
        names.len(),
        "a function is declared twice: {names:?}"
    );
    // The reference lists exactly the header's functions: neither is ahead of the other.
    let api = include_str!("../docs/API.md");
    let c_block = api
        .split("## 4. The C ABI")
        .nth(1)
        .and_then(|section| section.split("```c").nth(1))
        .and_then(|block| block.split("```").next())
        .expect("docs/API.md §4 has a C block");
    let mut documented: Vec<&str> = c_block
        .lines()
        .map(|line| line.split("/*").next().unwrap_or_default())
        .flat_map(called)
        .collect();
    documented.sort();
    documented.dedup();
    assert_eq!(
        names, documented,
        "docs/API.md §4 lists the header's functions"
    );
}

/// The `ss_…` names directly followed by `(` in `text`: the functions a C line declares.
fn called(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for (at, _) in text.match_indices('(') {
        let before = &text[..at];
        let start = before
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .map_or(0, |i| i + 1);
        let name = &before[start..];
        if name.starts_with("ss_") {
            out.push(name);
        }
    }
    out
}
