//! Connections to the members, shared by a factory's threads: each call takes an idle
//! connection (or dials one, trying the members in turn), sends one request, reads its
//! answer and puts the connection back, all by the call's deadline. A connection that failed
//! or outlived its deadline mid-call is dropped: a late answer on it would answer the wrong
//! call. Unisocket routing: whichever member a connection reaches forwards each request to
//! the owner of the partition named in it.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicI64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::codec::{self, Request, Response};
use super::HazelcastConfig;
use crate::backends::{lock, time_left, timed_out};
use crate::error::{Error, ErrorKind, Result};

/// A connection idle for longer is closed rather than used: a member drops a client silent for
/// 300 s by default (`hazelcast.client.max.no.heartbeat.seconds`), so an old one may be dead.
const MAX_IDLE: Duration = Duration::from_secs(60);
/// The largest frame accepted from a member (a session's entry is bounded far below).
const MAX_FRAME: usize = 256 << 20;
/// The most idle connections kept.
const MAX_IDLE_CONNECTIONS: usize = 64;

/// One authenticated connection.
struct Conn {
    stream: TcpStream,
    /// Bytes read past the last answer.
    buf: Vec<u8>,
    idle_since: Instant,
}

/// The connections of one factory.
pub(crate) struct Pool {
    members: Vec<(String, u16)>,
    cluster: String,
    /// What error messages call the cluster.
    name: String,
    idle: Mutex<Vec<Conn>>,
    /// The cluster's partition count, from the first authentication.
    partitions: AtomicI32,
    correlation: AtomicI64,
    /// The member tried first by the next dial: the last one that answered.
    preferred: AtomicUsize,
    closed: AtomicBool,
}

impl Pool {
    /// Connects to a member by `timeout` from now, to learn the partition count.
    pub(crate) fn open(hz: &HazelcastConfig, timeout: Duration) -> Result<Pool> {
        let pool = Pool {
            members: hz.members.clone(),
            cluster: hz.cluster.clone(),
            name: hz.url(),
            idle: Mutex::new(Vec::new()),
            partitions: AtomicI32::new(0),
            correlation: AtomicI64::new(1),
            preferred: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
        };
        let conn = pool.dial(Instant::now() + timeout)?;
        pool.put_back(conn);
        Ok(pool)
    }

    /// The partition that owns the entry of serialized key `key`.
    pub(crate) fn partition_of(&self, key: &[u8]) -> i32 {
        codec::partition_of(key, self.partitions.load(Ordering::Relaxed))
    }

    /// Sends `request` and returns its answer by `deadline`. An error answer is a `Backend`
    /// error naming the member's exception; `what` names the operation in messages.
    pub(crate) fn call(
        &self,
        what: &str,
        request: &Request,
        deadline: Instant,
    ) -> Result<Response> {
        if self.closed.load(Ordering::Acquire) {
            return Err(Error::closed());
        }
        let mut conn = match self.take_idle() {
            Some(conn) => conn,
            None => self.dial(deadline)?,
        };
        let correlation = self.correlation.fetch_add(1, Ordering::Relaxed);
        let answer = exchange(
            &mut conn,
            &request.encode(correlation),
            correlation,
            deadline,
        );
        match answer {
            Ok(response) => {
                self.put_back(conn);
                if response.message_type() == Some(0) {
                    let text = response.error_text().unwrap_or_else(|| "no detail".into());
                    return Err(Error::new(
                        ErrorKind::Backend,
                        format!("{what} on {}: the member answered {text}", self.name),
                    ));
                }
                Ok(response)
            }
            Err(e) => {
                let _ = conn.stream.shutdown(Shutdown::Both);
                Err(self.io_error(what, &e))
            }
        }
    }

    /// Closes every idle connection; later calls answer `Closed`.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        for conn in lock(&self.idle).drain(..) {
            let _ = conn.stream.shutdown(Shutdown::Both);
        }
    }

    fn take_idle(&self) -> Option<Conn> {
        let mut idle = lock(&self.idle);
        while let Some(conn) = idle.pop() {
            if conn.idle_since.elapsed() < MAX_IDLE {
                return Some(conn);
            }
            let _ = conn.stream.shutdown(Shutdown::Both);
        }
        None
    }

    fn put_back(&self, mut conn: Conn) {
        conn.idle_since = Instant::now();
        let mut idle = lock(&self.idle);
        if idle.len() < MAX_IDLE_CONNECTIONS && !self.closed.load(Ordering::Acquire) {
            idle.push(conn);
        }
    }

    /// A new authenticated connection: the members in turn, from the preferred one, each for
    /// a share of the time left.
    fn dial(&self, deadline: Instant) -> Result<Conn> {
        let n = self.members.len();
        let first = self.preferred.load(Ordering::Relaxed) % n;
        let mut last_error = None;
        for i in 0..n {
            let at = (first + i) % n;
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            let share = Instant::now() + left / (n - i) as u32;
            match self.connect(&self.members[at], share) {
                Ok(conn) => {
                    self.preferred.store(at, Ordering::Relaxed);
                    return Ok(conn);
                }
                Err(e) => last_error = Some(e),
            }
        }
        Err(last_error.unwrap_or_else(|| {
            Error::new(
                ErrorKind::Timeout,
                format!("connect to {}: timed out", self.name),
            )
        }))
    }

    /// Connects to one member and authenticates, by `deadline`.
    fn connect(&self, (host, port): &(String, u16), deadline: Instant) -> Result<Conn> {
        let addrs: Vec<_> = (host.as_str(), *port)
            .to_socket_addrs()
            .map_err(|e| self.io_error("resolve", &e))?
            .collect();
        let mut last = io::Error::new(io::ErrorKind::NotFound, "no address");
        for addr in addrs {
            let Ok(left) = time_left(deadline) else {
                last = timed_out();
                break;
            };
            match TcpStream::connect_timeout(&addr, left) {
                Ok(stream) => return self.authenticate(stream, deadline),
                Err(e) => last = e,
            }
        }
        Err(self.io_error("connect", &last))
    }

    fn authenticate(&self, stream: TcpStream, deadline: Instant) -> Result<Conn> {
        let _ = stream.set_nodelay(true);
        let mut conn = Conn {
            stream,
            buf: Vec::new(),
            idle_since: Instant::now(),
        };
        let (msb, lsb) = client_uuid();
        let mut auth = Request::new(codec::AUTHENTICATION, -1);
        auth.fixed_uuid(msb, lsb)
            .fixed_u8(1) // serialization version
            .fixed_u8(0) // routing mode: single member
            .fixed_u8(0) // no CP direct-to-leader routing
            .string(&self.cluster)
            .null()
            .null()
            .string("RST")
            .string(env!("CARGO_PKG_VERSION"))
            .string("sessionstore")
            .empty_list();
        let mut wire = b"CP2".to_vec();
        wire.extend(auth.encode(0));
        let response = exchange(&mut conn, &wire, 0, deadline)
            .map_err(|e| self.io_error("authenticate", &e))?;
        if response.message_type() == Some(0) {
            let text = response.error_text().unwrap_or_default();
            return Err(Error::new(
                ErrorKind::Backend,
                format!("authenticate on {}: the member answered {text}", self.name),
            ));
        }
        match response.fixed_u8(0) {
            Some(0) => {}
            Some(1) => {
                return Err(Error::new(
                    ErrorKind::Backend,
                    format!(
                        "authenticate on {}: the member's cluster is not named {:?}",
                        self.name, self.cluster
                    ),
                ))
            }
            status => {
                return Err(Error::new(
                    ErrorKind::Backend,
                    format!("authenticate on {}: refused (status {status:?})", self.name),
                ))
            }
        }
        match response.fixed_i32(19) {
            Some(count) if count > 0 => self.partitions.store(count, Ordering::Relaxed),
            _ => {
                return Err(Error::new(
                    ErrorKind::Backend,
                    format!("authenticate on {}: no partition count", self.name),
                ))
            }
        }
        Ok(conn)
    }

    fn io_error(&self, what: &str, e: &io::Error) -> Error {
        let kind = if matches!(
            e.kind(),
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
        ) {
            ErrorKind::Timeout
        } else {
            ErrorKind::Backend
        };
        Error::new(kind, format!("{what} on {}: {e}", self.name))
    }
}

/// Writes `wire`, then reads until the answer to `correlation`, by `deadline`; other messages
/// (events) are skipped.
fn exchange(
    conn: &mut Conn,
    wire: &[u8],
    correlation: i64,
    deadline: Instant,
) -> io::Result<Response> {
    conn.stream.set_write_timeout(Some(time_left(deadline)?))?;
    conn.stream.write_all(wire)?;
    let mut chunk = [0u8; 16 * 1024];
    loop {
        match codec::split_message(&conn.buf, MAX_FRAME)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?
        {
            Some((frames, used)) => {
                conn.buf.drain(..used);
                let response = Response::new(frames);
                if response.correlation() == Some(correlation) {
                    return Ok(response);
                }
            }
            None => {
                conn.stream.set_read_timeout(Some(time_left(deadline)?))?;
                let n = conn.stream.read(&mut chunk)?;
                if n == 0 {
                    return Err(io::ErrorKind::UnexpectedEof.into());
                }
                conn.buf.extend_from_slice(&chunk[..n]);
            }
        }
    }
}

/// A random (version 4) client UUID: members refuse a null one.
fn client_uuid() -> (u64, u64) {
    let mut raw = [0u8; 16];
    crate::backends::random_bytes(&mut raw);
    let msb = (u64::from_be_bytes(raw[..8].try_into().unwrap_or_default()) & !0xF000) | 0x4000;
    let lsb = (u64::from_be_bytes(raw[8..].try_into().unwrap_or_default()) & !(0b11 << 62))
        | (0b10 << 62);
    (msb, lsb)
}
