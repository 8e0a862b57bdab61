//! The native methods of `io.sessionstore.Native`, by area. Each one starts with
//! [`run`](crate::runner::run).

mod factory;
mod misc;
mod store;
