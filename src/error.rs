//! The one error type of the core. Each host maps [`ErrorKind`] to its own
//! status or exception in exactly one place.

use std::fmt;

/// What went wrong, as a kind a host can branch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A required pointer was NULL (only the C ABI can produce it).
    NullArg,
    /// A bad session id, key, or MessagePack document.
    InvalidArg,
    /// A value over `max_value_bytes`.
    TooLarge,
    /// An unknown, released, forged or wrong-kind handle.
    InvalidHandle,
    /// The session was destroyed (or its lease reclaimed it) after this handle was opened.
    Destroyed,
    /// The factory was closed.
    Closed,
    /// A malformed url, an unknown option, or an option out of range.
    Config,
    /// The backend refused the operation or the connection failed.
    Backend,
    /// A remote operation passed `timeout_ms`.
    Timeout,
    /// A raw (bytes) read of a value that is not MessagePack `bin`.
    Type,
    /// A bug: a caught panic. The process goes on.
    Internal,
}

impl ErrorKind {
    /// A short lowercase description of the kind.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::NullArg => "null argument",
            ErrorKind::InvalidArg => "invalid argument",
            ErrorKind::TooLarge => "value too large",
            ErrorKind::InvalidHandle => "invalid handle",
            ErrorKind::Destroyed => "session destroyed",
            ErrorKind::Closed => "factory closed",
            ErrorKind::Config => "configuration error",
            ErrorKind::Backend => "backend error",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Type => "type error",
            ErrorKind::Internal => "internal error",
        }
    }
}

/// An error of the core: a kind plus a human message (never containing a password).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
}

impl Error {
    /// Builds an error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
        }
    }

    /// The kind of this error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message alone, without the kind.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// True for [`ErrorKind::Timeout`].
    pub fn is_timeout(&self) -> bool {
        self.kind == ErrorKind::Timeout
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::InvalidArg, message)
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        Error::new(ErrorKind::Config, message)
    }

    pub(crate) fn destroyed() -> Self {
        Error::new(
            ErrorKind::Destroyed,
            "the session was destroyed after this store was opened",
        )
    }

    pub(crate) fn closed() -> Self {
        Error::new(ErrorKind::Closed, "the store factory is closed")
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.as_str(), self.message)
    }
}

impl std::error::Error for Error {}

/// The result type of the core.
pub type Result<T> = std::result::Result<T, Error>;
