//! sessionstore: a per-session key-value store for real-time servers.
//!
//! One [`StoreFactory`] per process and configuration; one [`Store`] per connected client
//! session. Values are MessagePack documents (see [`value`]), so every host (C, Python, Java)
//! reads what every other one wrote. The backend is chosen by the url alone (see [`Config`]).
//!
//! ```
//! use sessionstore::{StoreFactory, value};
//!
//! let factory = StoreFactory::open("memory://").unwrap();
//! let store = factory.create_store("6f1c9a2e").unwrap();
//! store.set_bytes("userId", b"42").unwrap();
//! assert_eq!(store.get_bytes("userId").unwrap().as_deref(), Some(&b"42"[..]));
//! store.set("claims", &value::encode_str("admin")).unwrap();
//! store.destroy().unwrap();
//! ```

// `unsafe` lives only in the C ABI layer (`ffi`), which allows it for itself.
#![deny(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "redis")]
pub mod admin;
pub mod backend;
pub mod backends;
pub mod bridge;
pub mod config;
pub mod error;
mod factory;
#[cfg(feature = "capi")]
pub mod ffi;
pub mod handles;
pub mod interrupt;
pub mod names;
mod periodic;
pub mod stats;
pub mod value;

pub use backends::BackendConfig;
pub use config::Config;
pub use error::{Error, ErrorKind, Result};
pub use factory::{Store, StoreFactory};
pub use names::SessionId;

/// The library version, as in `Cargo.toml`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
