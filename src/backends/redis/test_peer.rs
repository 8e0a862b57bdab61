//! A scripted RESP peer on 127.0.0.1 for the connection tests: each test's peer reads
//! commands with redis-rs's parser and answers (or does not) as the test needs.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::time::Instant;

use ::redis::{RedisResult, Value};

use super::sock::Endpoint;
use super::wire::{Login, Wire};

/// A peer: `serve` runs on every connection the pipe makes, in turn, on one thread.
pub(crate) struct Peer {
    pub(crate) at: Endpoint,
}

impl Peer {
    pub(crate) fn start(serve: impl Fn(usize, TcpStream) + Send + 'static) -> Peer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let at = Endpoint {
            host: "127.0.0.1".into(),
            port: listener.local_addr().unwrap().port(),
        };
        std::thread::spawn(move || {
            for (n, conn) in listener.incoming().enumerate() {
                match conn {
                    Ok(conn) => serve(n, conn),
                    Err(_) => return,
                }
            }
        });
        Peer { at }
    }

    pub(crate) fn dial(&self) -> impl Fn(Instant) -> RedisResult<Wire> + '_ {
        move |deadline| Wire::dial(&self.at, &Login::default(), None, deadline)
    }
}

/// The next command the peer reads, as its arguments; `None` once the client is gone.
pub(crate) fn next_command(
    parser: &mut ::redis::Parser,
    conn: &mut TcpStream,
) -> Option<Vec<Vec<u8>>> {
    match parser.parse_value(&mut *conn).ok()? {
        Value::Array(args) => Some(
            args.into_iter()
                .map(|a| match a {
                    Value::BulkString(b) => b,
                    other => panic!("{other:?}"),
                })
                .collect(),
        ),
        other => panic!("{other:?}"),
    }
}

pub(crate) fn bulk(conn: &mut TcpStream, text: &[u8]) {
    let mut out = format!("${}\r\n", text.len()).into_bytes();
    out.extend_from_slice(text);
    out.extend_from_slice(b"\r\n");
    let _ = conn.write_all(&out);
}
