// A build script, so that cargo honours the crate's build-dependencies (hakari's layout).
fn main() {}
