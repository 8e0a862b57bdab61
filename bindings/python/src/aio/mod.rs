//! The asyncio classes (docs/API.md §9): `AsyncStoreFactory` and `AsyncStore`.
//!
//! The core is blocking, so a remote call runs on a small pool of worker threads per factory
//! (`pool.rs`), never with the GIL. Each finished call is queued for the event loop that made
//! it (`channel.rs`), which hears of it through one fd registered once with `loop.add_reader`
//! (`waker.rs`) and resolves a batch of futures per wake-up. Every method returns a
//! [`awaitable::Pending`], or, for a call that finished in the method (in-memory), a
//! `ready::_Ready` that answers without suspending the caller.

mod awaitable;
mod channel;
mod exec;
mod factory;
mod pool;
mod ready;
mod store;
mod waker;

pub use factory::AsyncStoreFactory;
pub use store::AsyncStore;
