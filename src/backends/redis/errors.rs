//! Turns redis-rs errors into core errors: `Destroyed` for a generation mismatch,
//! `InvalidArg` for a session id another prefix's session holds, `Timeout` for an answer that
//! did not come in time, `Backend` (naming the server and what happened) for everything else.
//!
//! A password never reaches a message: messages name the servers by their redacted url, and
//! the texts they quote (server error replies, I/O errors) never carry the url's credentials,
//! which only ever travel inside an AUTH command.

use ::redis::{ErrorKind as RedisKind, RedisError, ServerErrorKind};

use super::scripts::{GONE, TAKEN};
use crate::error::{Error, ErrorKind};

/// What a failed call names in its message: the servers, password redacted.
pub(crate) struct Names {
    /// The redacted url of the servers, e.g. `redis://app:***@127.0.0.1:6379`.
    pub server: String,
}

impl Names {
    /// The error for a failed `op` (e.g. "get", "connect").
    pub(crate) fn error(&self, op: &str, e: &RedisError) -> Error {
        if e.code() == Some(GONE) {
            return Error::destroyed();
        }
        if e.code() == Some(TAKEN) {
            return Error::new(
                ErrorKind::InvalidArg,
                format!(
                    "{}: {op}: the session's key is another prefix's session ({}): \
                     choose prefixes that are not one another followed by ':'",
                    self.server,
                    e.detail().unwrap_or_default()
                ),
            );
        }
        if e.kind() == RedisKind::Parse {
            return Error::new(
                ErrorKind::Backend,
                format!(
                    "{}: {op}: the server did not answer like Redis (is the host and port \
                     of a Redis server?): {e}",
                    self.server
                ),
            );
        }
        let kind = if e.is_timeout() {
            ErrorKind::Timeout
        } else {
            ErrorKind::Backend
        };
        let what = match e.kind() {
            RedisKind::AuthenticationFailed => "authentication failed",
            RedisKind::Server(ServerErrorKind::NoPerm) => "permission denied",
            _ if e.is_connection_refusal() => "connection refused",
            _ if e.is_connection_dropped() => "connection lost",
            _ if e.is_io_error() => "I/O error",
            RedisKind::Server(ServerErrorKind::ReadOnly) => "server is a read-only replica",
            RedisKind::Server(ServerErrorKind::ClusterDown) => "cluster is down",
            RedisKind::Server(ServerErrorKind::MasterDown) => "master is down",
            _ => "request failed",
        };
        Error::new(kind, format!("{}: {op}: {what}: {e}", self.server))
    }

    /// The error for a call that passed `timeout_ms`.
    pub(crate) fn timeout(&self, op: &str, ms: u128) -> Error {
        Error::new(
            ErrorKind::Timeout,
            format!("{}: {op}: no answer within timeout_ms={ms}", self.server),
        )
    }

    /// The error for a reply of an unexpected shape (a bug or a foreign writer).
    pub(crate) fn unexpected(&self, op: &str, what: &str) -> Error {
        Error::new(
            ErrorKind::Backend,
            format!("{}: {op}: unexpected reply: {what}", self.server),
        )
    }
}

/// True when `e` means the connection it came through should not be used again.
pub(crate) fn breaks_connection(e: &RedisError) -> bool {
    e.is_io_error()
        || e.is_connection_dropped()
        || e.is_unrecoverable_error()
        || e.is_timeout()
        || matches!(
            e.kind(),
            RedisKind::Server(ServerErrorKind::ReadOnly | ServerErrorKind::MasterDown)
        )
}
