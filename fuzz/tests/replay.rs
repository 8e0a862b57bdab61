//! Replays every target over its committed corpus (`fuzz/corpus/<target>/`), once, without a
//! fuzzer: what `make fuzz-replay` (and so `make test`) runs. A failing input names its file;
//! `make fuzz` or `cargo fuzz run <target> <file>` reproduces it under libFuzzer.

use std::path::Path;

#[test]
fn every_target_passes_its_corpus() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    for (name, run) in sessionstore_fuzz::TARGETS {
        let dir = root.join(name);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|entry| entry.expect("a corpus entry").path())
            .collect();
        files.sort();
        assert!(!files.is_empty(), "{} holds no input", dir.display());
        for file in &files {
            let data = std::fs::read(file).expect("a corpus file");
            let outcome = std::panic::catch_unwind(|| run(&data));
            assert!(outcome.is_ok(), "{name}: {} fails", file.display());
        }
        println!("{name}: {} inputs passed", files.len());
    }
}
