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
    /// The session's data is gone since this handle was opened: destroyed, reclaimed by its
    /// lease, or lost by the server (a restart without persistence).
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
    /// Every kind, in the order of their C statuses (`SS_ERR_NULL_ARG` = -1 first).
    pub const ALL: [ErrorKind; 11] = [
        ErrorKind::NullArg,
        ErrorKind::InvalidArg,
        ErrorKind::TooLarge,
        ErrorKind::InvalidHandle,
        ErrorKind::Destroyed,
        ErrorKind::Closed,
        ErrorKind::Config,
        ErrorKind::Backend,
        ErrorKind::Timeout,
        ErrorKind::Type,
        ErrorKind::Internal,
    ];

    /// The kind named `name` as in Rust (`"Timeout"`), if there is one.
    pub fn from_name(name: &str) -> Option<ErrorKind> {
        ErrorKind::ALL
            .into_iter()
            .find(|kind| format!("{kind:?}") == name)
    }

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
            "the session's data is gone since this store was opened: it was destroyed, its \
             lease expired, or the server lost it (a restart without persistence); open the \
             session again to start a new, empty one",
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_listed_once_and_named() {
        for (i, kind) in ErrorKind::ALL.into_iter().enumerate() {
            // An exhaustive match: a new kind fails to compile here until it is listed.
            let listed = match kind {
                ErrorKind::NullArg
                | ErrorKind::InvalidArg
                | ErrorKind::TooLarge
                | ErrorKind::InvalidHandle
                | ErrorKind::Destroyed
                | ErrorKind::Closed
                | ErrorKind::Config
                | ErrorKind::Backend
                | ErrorKind::Timeout
                | ErrorKind::Type
                | ErrorKind::Internal => 11,
            };
            assert_eq!(ErrorKind::ALL.len(), listed);
            assert_eq!(ErrorKind::ALL.iter().position(|k| *k == kind), Some(i));
            assert_eq!(ErrorKind::from_name(&format!("{kind:?}")), Some(kind));
        }
        assert_eq!(ErrorKind::from_name("Nope"), None);
    }
}
