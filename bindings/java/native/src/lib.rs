//! JNI glue between the sessionstore core and its Java binding (`io.sessionstore`).
//!
//! "The bridging layer is not API": every function here is a static native method of the
//! package-private class `io.sessionstore.Native`, and the public Java classes sit on top.
//!
//! - Every export runs its body inside [`runner::run`], which catches panics and turns every
//!   error into the Java exception of its kind (the one mapping is [`runner::exception_class`]).
//!   `tests::every_export_enters_the_runner` fails when an export forgets it.
//! - Java objects hold `long` handles that index the registries of [`handles`], so a stale,
//!   released or forged handle throws instead of touching freed memory.
//! - Values cross as MessagePack documents in `byte[]`; the core validates every one of them.

mod args;
mod exports;
mod handles;
mod runner;

#[cfg(test)]
mod tests {
    /// rustls-ffi once shipped an export without its panic boundary (their issue #286): every
    /// `extern "system"` function here must start by entering the runner, and the exports are
    /// exactly the native methods `io.sessionstore.Native` declares.
    #[test]
    fn every_export_enters_the_runner() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/exports");
        let mut exported = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let source = std::fs::read_to_string(&path).unwrap();
            let mut rest = source.as_str();
            while let Some(at) = rest.find("pub extern \"system\" fn ") {
                rest = &rest[at..];
                let name: String = rest[23..].chars().take_while(|c| *c != '<').collect();
                let method = name
                    .strip_prefix("Java_io_sessionstore_Native_")
                    .unwrap_or_else(|| panic!("{name} is not a method of io.sessionstore.Native"));
                let body_start = rest.find(" {\n").unwrap() + 3;
                let first_line = rest[body_start..].lines().next().unwrap().trim();
                assert!(
                    first_line.starts_with("run(env, ") || first_line.starts_with("run_fast(env, "),
                    "{} `{name}` does not start with the runner",
                    path.display()
                );
                exported.push(method.to_owned());
                rest = &rest[body_start..];
            }
        }
        let java = include_str!("../../src/main/java/io/sessionstore/Native.java");
        let mut declared: Vec<String> = java
            .lines()
            .filter_map(|line| {
                let decl = line.trim().strip_prefix("static native ")?;
                let name = decl.split('(').next()?.rsplit(' ').next()?;
                Some(name.to_owned())
            })
            .collect();
        exported.sort();
        declared.sort();
        assert!(!declared.is_empty());
        assert_eq!(
            exported, declared,
            "the exports are Native's native methods"
        );
    }
}
