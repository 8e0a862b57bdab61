//! Empty on purpose: this crate exists for its dependency list (Cargo.toml), which makes every
//! build of the workspace resolve the same features for shared dependencies.
