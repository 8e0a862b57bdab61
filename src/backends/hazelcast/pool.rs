//! Connections to the members, shared by a factory's threads: each call takes an idle
//! connection (or dials one, trying the members in turn), sends one request, reads its
//! answer and puts the connection back, all by the call's deadline. A connection that failed
//! or outlived its deadline mid-call is dropped: a late answer on it would answer the wrong
//! call. A heartbeat pings the idle connections, so members keep them, and closes those a
//! burst left unused; one the member closed anyway costs no error: the call is sent again on a
//! new one. Unisocket routing: whichever member a connection reaches forwards each request to
//! the owner of the partition named in it.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicI64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::codec::{self, Request, Response};
use super::HazelcastConfig;
use crate::backends::{lock, resolve, time_left, timed_out};
use crate::error::{Error, ErrorKind, Result};

/// How often the heartbeat runs, and how long an idle connection may stay silent before it
/// pings it: a member closes a client's connection silent for 60 s by default
/// (`hazelcast.client.max.no.heartbeat.seconds`). The official clients ping every 5 s too.
pub(crate) const HEARTBEAT: Duration = Duration::from_secs(5);
/// An idle connection no call used for longer is closed by the heartbeat, unless it is the
/// one used last: the pool shrinks back after a burst of concurrent calls, to one connection.
const MAX_UNUSED: Duration = Duration::from_secs(60);
/// The largest frame accepted from a member (a session's entry is bounded far below).
const MAX_FRAME: usize = 256 << 20;
/// The most idle connections kept.
const MAX_IDLE_CONNECTIONS: usize = 64;

/// One authenticated connection.
struct Conn {
    stream: TcpStream,
    /// Bytes read past the last answer.
    buf: Vec<u8>,
    /// When a call last put it back.
    used: Instant,
    /// When it last carried an answer (a call's or a ping's).
    heard: Instant,
}

/// The connections of one factory.
pub(crate) struct Pool {
    members: Vec<(String, u16)>,
    cluster: String,
    /// What error messages call the cluster.
    name: String,
    /// The factory's `timeout_ms`: the heartbeat's bound, and named in timeout errors.
    timeout: Duration,
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
            timeout,
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
        let (mut conn, mut reused) = match self.take_idle() {
            Some(conn) => (conn, true),
            None => (self.dial(deadline)?, false),
        };
        loop {
            let correlation = self.correlation.fetch_add(1, Ordering::Relaxed);
            let before = conn.buf.len();
            let answer = exchange(
                &mut conn,
                &request.encode(correlation),
                correlation,
                deadline,
            );
            let e = match answer {
                Ok(response) => {
                    self.put_back(conn);
                    if response.message_type() == Some(0) {
                        let text = response.error_text().unwrap_or_else(|| "no detail".into());
                        return Err(Error::new(
                            ErrorKind::Backend,
                            format!("{what} on {}: the member answered {text}", self.name),
                        ));
                    }
                    return Ok(response);
                }
                Err(e) => e,
            };
            let _ = conn.stream.shutdown(Shutdown::Both);
            if !(reused && conn.buf.len() == before && closed_by_peer(&e)) {
                return Err(self.io_error(what, &e));
            }
            // An idle connection the member had closed (it restarted, or dropped us): the
            // others idle beside it are likely as dead. The request is sent once more on a new
            // connection: it most likely never reached the member, and if the member did run it
            // before dying, every request we send is a read or a compare-and-set, whose second
            // run changes nothing more (a delete may then answer that the key was not there).
            self.drop_idle();
            conn = self.dial(deadline)?;
            reused = false;
        }
    }

    /// Closes every idle connection; later calls answer `Closed`.
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.drop_idle();
    }

    fn drop_idle(&self) {
        for conn in lock(&self.idle).drain(..) {
            let _ = conn.stream.shutdown(Shutdown::Both);
        }
    }

    /// The idle connection put back last.
    fn take_idle(&self) -> Option<Conn> {
        lock(&self.idle).pop()
    }

    fn put_back(&self, mut conn: Conn) {
        conn.used = Instant::now();
        conn.heard = conn.used;
        let mut idle = lock(&self.idle);
        if idle.len() < MAX_IDLE_CONNECTIONS && !self.closed.load(Ordering::Acquire) {
            idle.push(conn);
        }
    }

    /// One round of the heartbeat ([`HEARTBEAT`]): closes the idle connections unused for
    /// [`MAX_UNUSED`] but the one used last, and pings those silent for a heartbeat, all by one
    /// `timeout_ms` from now; a connection that does not answer is closed. Only the connections it
    /// pings leave the idle list meanwhile.
    pub(crate) fn heartbeat(&self) {
        let silent = {
            let mut idle = lock(&self.idle);
            let last = idle.len().saturating_sub(1);
            let mut silent = Vec::new();
            let mut kept = Vec::with_capacity(idle.len());
            for (i, conn) in idle.drain(..).enumerate() {
                if i < last && conn.used.elapsed() >= MAX_UNUSED {
                    let _ = conn.stream.shutdown(Shutdown::Both);
                } else if conn.heard.elapsed() >= HEARTBEAT {
                    silent.push(conn);
                } else {
                    kept.push(conn);
                }
            }
            *idle = kept;
            silent
        };
        if silent.is_empty() {
            return;
        }
        let deadline = Instant::now() + self.timeout;
        let mut alive = Vec::with_capacity(silent.len());
        for mut conn in silent {
            let correlation = self.correlation.fetch_add(1, Ordering::Relaxed);
            let ping = Request::new(codec::PING, -1).encode(correlation);
            if exchange(&mut conn, &ping, correlation, deadline).is_ok() {
                conn.heard = Instant::now();
                alive.push(conn);
            } else {
                let _ = conn.stream.shutdown(Shutdown::Both);
            }
        }
        // Below the idle connections: those were used more recently.
        let mut idle = lock(&self.idle);
        alive.append(&mut idle);
        let surplus = alive.len().saturating_sub(MAX_IDLE_CONNECTIONS);
        alive.drain(..surplus);
        *idle = alive;
        if self.closed.load(Ordering::Acquire) {
            drop(idle);
            self.drop_idle();
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
        let addrs = resolve(host, *port, deadline).map_err(|e| self.io_error("resolve", &e))?;
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
            used: Instant::now(),
            heard: Instant::now(),
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

    /// The error of `what` failing with `e`: a timeout says which bound it passed (the
    /// system's text for it is "Resource temporarily unavailable").
    fn io_error(&self, what: &str, e: &io::Error) -> Error {
        if matches!(
            e.kind(),
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
        ) {
            return Error::new(
                ErrorKind::Timeout,
                format!(
                    "{what} on {}: no answer within timeout_ms={}",
                    self.name,
                    self.timeout.as_millis()
                ),
            );
        }
        Error::new(ErrorKind::Backend, format!("{what} on {}: {e}", self.name))
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

/// Whether `e` says the member closed the connection (rather than that it went silent).
fn closed_by_peer(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::UnexpectedEof
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
    )
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
