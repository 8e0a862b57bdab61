//! One blocking connection to one Redis server: TCP (TLS over it for `rediss://`), the
//! AUTH/SELECT handshake, packed commands out and replies in through redis-rs's RESP parser.
//! Every read and write ends by a deadline, the TLS handshake included. A read that finds no
//! reply yet first polls the socket for a few tens of microseconds before it sleeps (see
//! [`Spin`]); replies that are already in can be taken without blocking at all
//! ([`Wire::recv_ready`]).

use std::io::{self, Read, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ::redis::{Cmd, ErrorKind as RedisKind, RedisError, RedisResult, Value};
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

use super::sock::{again, interrupted, time_left, Endpoint, Sock};

/// Who a connection logs in as, and which database it selects.
#[derive(Clone, Default)]
pub(crate) struct Login {
    pub username: Option<String>,
    pub password: Option<String>,
    pub db: u32,
}

/// The TLS settings of `rediss://`: the system's roots (and `SSL_CERT_FILE`), the ring
/// provider, verified host names.
pub(crate) fn tls_config() -> RedisResult<Arc<ClientConfig>> {
    let found = rustls_native_certs::load_native_certs();
    let mut roots = RootCertStore::empty();
    let (added, _) = roots.add_parsable_certificates(found.certs);
    if added == 0 {
        let detail = found
            .errors
            .first()
            .map_or_else(|| "none installed".to_owned(), ToString::to_string);
        return Err(RedisError::from((
            RedisKind::InvalidClientConfig,
            "no trusted TLS root certificate",
            detail,
        )));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(tls_error)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

fn tls_error(e: rustls::Error) -> RedisError {
    RedisError::from((RedisKind::InvalidClientConfig, "TLS", e.to_string()))
}

/// The error of an operation that passed its deadline.
pub(crate) fn timed_out() -> RedisError {
    RedisError::from(super::sock::timed_out())
}

enum Stream {
    Tcp(Sock),
    Tls(Box<StreamOwned<ClientConnection, Sock>>),
}

impl Stream {
    fn sock(&self) -> &Sock {
        match self {
            Stream::Tcp(s) => s,
            Stream::Tls(s) => &s.sock,
        }
    }
}

/// The socket timeouts last set, so a call changes them only when its deadline needs it.
#[derive(Default)]
struct Timeouts {
    read: Option<Duration>,
    write: Option<Duration>,
}

impl Timeouts {
    /// Bounds the blocking reads and writes of `sock` by `deadline`. Both, whatever the call
    /// does: a TLS write may read (the handshake) and a TLS read may write.
    fn arm(&mut self, sock: &Sock, deadline: Instant) -> io::Result<()> {
        let left = time_left(deadline)?;
        let tcp = sock.tcp();
        fit(&mut self.read, left, |t| tcp.set_read_timeout(t))?;
        fit(&mut self.write, left, |t| tcp.set_write_timeout(t))
    }
}

/// Sets a socket timeout to `left` unless the one in force already fits: not beyond `left`
/// (a blocking call must not outlive its deadline) and not under half of it (a call that
/// wakes too early just blocks again, but should not spin on it).
fn fit(
    current: &mut Option<Duration>,
    left: Duration,
    set: impl FnOnce(Option<Duration>) -> io::Result<()>,
) -> io::Result<()> {
    if !matches!(*current, Some(t) if t <= left && t >= left / 2) {
        set(Some(left))?;
        *current = Some(left);
    }
    Ok(())
}

/// How long a read polls for a reply before it sleeps: a little more than a loopback round
/// trip to a server whose CPU is awake.
const SPIN_FOR: Duration = Duration::from_micros(75);
/// Spinning stops paying when replies keep arriving after [`SPIN_FOR`] (a distant server):
/// each miss costs this much credit, each hit earns one back, up to [`MAX_CREDIT`].
const MISS_COST: i32 = 4;
const MAX_CREDIT: i32 = 16;
/// Out of credit, one read in this many spins again, to notice when spinning pays again.
const PROBE_EVERY: u32 = 256;

/// Polls a plain TCP socket briefly before a blocking read. Sleeping in `read` and being
/// woken by the reply costs the sleeper's CPU a halt and a wake-up, which on a virtual
/// machine takes longer than the round trip itself; a caller still polling when the reply
/// lands takes it at once. The poll is bounded by [`SPIN_FOR`] and turns itself off while it
/// does not pay (see [`MISS_COST`]).
struct Spin {
    credit: i32,
    skipped: u32,
}

impl Spin {
    fn new() -> Self {
        Spin {
            credit: MAX_CREDIT,
            skipped: 0,
        }
    }

    /// Reads from `sock` as soon as it has something (or an error or end to report) within
    /// the spin; `None` when the spin ended empty, or at once when spinning does not pay.
    fn poll(
        &mut self,
        sock: &Sock,
        buf: &mut [u8],
        deadline: Instant,
    ) -> Option<io::Result<usize>> {
        if self.credit <= 0 {
            self.skipped += 1;
            if self.skipped < PROBE_EVERY {
                return None;
            }
            self.skipped = 0;
            self.credit = 1;
        }
        let until = (Instant::now() + SPIN_FOR).min(deadline);
        loop {
            if let Some(read) = sock.recv_now(buf) {
                self.credit = (self.credit + 1).min(MAX_CREDIT);
                return Some(read);
            }
            if Instant::now() >= until {
                self.credit -= MISS_COST;
                return None;
            }
            std::hint::spin_loop();
        }
    }
}

/// One connection, used by one thread at a time.
pub(crate) struct Wire {
    stream: Stream,
    parser: ::redis::Parser,
    timeouts: Timeouts,
    spin: Spin,
    /// The last read ended because the host interrupted it (see [`crate::interrupt`]).
    interrupted: bool,
}

/// The reader redis-rs's parser pulls from. Without a deadline it never blocks: it answers
/// `WouldBlock` when nothing is in (the parser keeps a partial reply for the next call).
/// With one it blocks until then at most, polling first when it has a [`Spin`].
struct Paced<'a> {
    stream: &'a mut Stream,
    timeouts: &'a mut Timeouts,
    spin: Option<&'a mut Spin>,
    deadline: Option<Instant>,
    interrupted: &'a mut bool,
}

impl Read for Paced<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Some(deadline) = self.deadline else {
            return match &*self.stream {
                Stream::Tcp(sock) => sock.recv_now(buf),
                // rustls may hold decrypted bytes the socket no longer shows: TLS replies are
                // only ever read blocking.
                Stream::Tls(_) => None,
            }
            .unwrap_or_else(|| Err(io::ErrorKind::WouldBlock.into()));
        };
        if let (Stream::Tcp(sock), Some(spin)) = (&*self.stream, self.spin.as_mut()) {
            if let Some(read) = spin.poll(sock, buf, deadline) {
                return read;
            }
        }
        loop {
            let now = Instant::now();
            let wake = crate::interrupt::next_wake(now, deadline);
            self.timeouts.arm(self.stream.sock(), wake)?;
            let read = match self.stream {
                Stream::Tcp(sock) => sock.read(buf),
                Stream::Tls(tls) => tls.read(buf),
            };
            match read {
                Err(e) if again(&e) => {
                    if wake < deadline && Instant::now() >= wake && crate::interrupt::requested() {
                        *self.interrupted = true;
                        return Err(interrupted());
                    }
                }
                other => return other,
            }
        }
    }
}

impl Wire {
    /// Connects to `to`, logs in and selects the database, all before `deadline`.
    pub(crate) fn dial(
        to: &Endpoint,
        login: &Login,
        tls: Option<&Arc<ClientConfig>>,
        deadline: Instant,
    ) -> RedisResult<Wire> {
        let sock = Sock::connect(to, deadline)?;
        let stream = match tls {
            None => Stream::Tcp(sock),
            Some(config) => {
                let name = ServerName::try_from(to.host.clone()).map_err(|e| {
                    RedisError::from((
                        RedisKind::InvalidClientConfig,
                        "not a TLS server name",
                        e.to_string(),
                    ))
                })?;
                let conn = ClientConnection::new(config.clone(), name).map_err(tls_error)?;
                Stream::Tls(Box::new(StreamOwned::new(conn, sock)))
            }
        };
        let mut wire = Wire {
            stream,
            parser: ::redis::Parser::new(),
            timeouts: Timeouts::default(),
            spin: Spin::new(),
            interrupted: false,
        };
        wire.log_in(login, deadline)?;
        Ok(wire)
    }

    fn log_in(&mut self, login: &Login, deadline: Instant) -> RedisResult<()> {
        let mut hello = Vec::new();
        let mut replies = 0;
        if let Some(password) = &login.password {
            let mut auth = ::redis::cmd("AUTH");
            if let Some(user) = &login.username {
                auth.arg(user);
            }
            auth.arg(password).write_packed_command(&mut hello);
            replies += 1;
        }
        if login.db != 0 {
            ::redis::cmd("SELECT")
                .arg(login.db)
                .write_packed_command(&mut hello);
            replies += 1;
        }
        // A TLS handshake happens with the first bytes: make sure there are some.
        if replies == 0 && matches!(self.stream, Stream::Tls(_)) {
            ::redis::cmd("PING").write_packed_command(&mut hello);
            replies += 1;
        }
        self.send(&hello, deadline)?;
        for i in 0..replies {
            if let Value::ServerError(e) = self.recv(deadline, false)? {
                let is_auth = i == 0 && login.password.is_some();
                return Err(if is_auth {
                    RedisError::from((
                        RedisKind::AuthenticationFailed,
                        "authentication failed",
                        e.details().unwrap_or_default().to_owned(),
                    ))
                } else {
                    e.into()
                });
            }
        }
        Ok(())
    }

    /// Sends `cmd` and reads its reply, by `deadline` (one-off commands: discovery, topology).
    pub(crate) fn command(&mut self, cmd: &Cmd, deadline: Instant) -> RedisResult<Value> {
        self.send(&cmd.get_packed_command(), deadline)?;
        match self.recv(deadline, false)? {
            Value::ServerError(e) => Err(e.into()),
            reply => Ok(reply),
        }
    }

    /// The write side, for another thread to write while this one reads; `None` over TLS,
    /// where reads and writes go through one rustls state.
    pub(crate) fn sender(&self) -> Option<Sock> {
        match &self.stream {
            Stream::Tcp(s) => Some(s.clone()),
            Stream::Tls(_) => None,
        }
    }

    /// The socket, for another thread to [`abort`](Sock::abort) this connection.
    pub(crate) fn socket(&self) -> Sock {
        self.stream.sock().clone()
    }

    /// Writes `bytes` (packed commands) whole, before `deadline`.
    pub(crate) fn send(&mut self, bytes: &[u8], deadline: Instant) -> RedisResult<()> {
        let tls = match &mut self.stream {
            Stream::Tcp(sock) => return Ok(sock.send_all(bytes, deadline)?),
            Stream::Tls(tls) => tls,
        };
        let mut rest = bytes;
        while !rest.is_empty() {
            self.timeouts.arm(&tls.sock, deadline)?;
            match tls.write(rest) {
                Ok(0) => return Err(io::Error::from(io::ErrorKind::WriteZero).into()),
                Ok(n) => rest = &rest[n..],
                Err(e) if again(&e) => {}
                Err(e) => return Err(e.into()),
            }
        }
        loop {
            self.timeouts.arm(&tls.sock, deadline)?;
            match tls.flush() {
                Err(e) if again(&e) => {}
                other => return Ok(other?),
            }
        }
    }

    /// Reads the next reply (an error reply is a `Value::ServerError`), before `deadline`.
    /// `may_spin` when the caller has nothing else to do meanwhile (no other thread waits on
    /// it): then a read polls briefly before it sleeps.
    pub(crate) fn recv(&mut self, deadline: Instant, may_spin: bool) -> RedisResult<Value> {
        self.interrupted = false;
        let reader = Paced {
            stream: &mut self.stream,
            timeouts: &mut self.timeouts,
            spin: may_spin.then_some(&mut self.spin),
            deadline: Some(deadline),
            interrupted: &mut self.interrupted,
        };
        self.parser.parse_value(reader)
    }

    /// True when the last [`recv`](Self::recv) failed because the host interrupted it: the
    /// connection is fine (the parser keeps a partial reply for the next read).
    pub(crate) fn was_interrupted(&self) -> bool {
        self.interrupted
    }

    /// Appends to `into` every reply that is already in, without blocking.
    pub(crate) fn recv_ready(&mut self, into: &mut Vec<Value>) -> RedisResult<()> {
        loop {
            let reader = Paced {
                stream: &mut self.stream,
                timeouts: &mut self.timeouts,
                spin: None,
                deadline: None,
                interrupted: &mut self.interrupted,
            };
            match self.parser.parse_value(reader) {
                Ok(value) => into.push(value),
                // Never blocking, this reader has no timeout: this is its `WouldBlock`.
                Err(e) if e.is_timeout() => return Ok(()),
                Err(e) => return Err(e),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{TcpListener, TcpStream};

    #[test]
    fn a_fitting_timeout_is_kept_and_others_replaced() {
        let ms = Duration::from_millis;
        let mut sets = Vec::new();
        let mut current = None;
        for left in [ms(1000), ms(1100), ms(1900), ms(2100), ms(1500)] {
            fit(&mut current, left, |t| {
                sets.push(t.unwrap());
                Ok(())
            })
            .unwrap();
            assert!(current.unwrap() <= left && current.unwrap() >= left / 2);
        }
        // 1100 and 1900 keep the 1000 in force; 2100 is over twice it; 1500 is under 2100.
        assert_eq!(sets, [ms(1000), ms(2100), ms(1500)]);
    }

    fn socket_pair() -> (Sock, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let to = Endpoint {
            host: "127.0.0.1".into(),
            port: listener.local_addr().unwrap().port(),
        };
        let near = Sock::connect(&to, Instant::now() + Duration::from_secs(5)).unwrap();
        let (far, _) = listener.accept().unwrap();
        (near, far)
    }

    #[test]
    fn spinning_stops_when_it_misses_and_probes_again() {
        let (tcp, mut peer) = socket_pair();
        let mut spin = Spin::new();
        let far = Instant::now() + Duration::from_secs(5);
        let mut buf = [0u8; 16];
        // Nothing to read: every spin misses until the credit is gone.
        for _ in 0..MAX_CREDIT / MISS_COST {
            assert!(spin.poll(&tcp, &mut buf, far).is_none());
        }
        assert!(spin.credit <= 0);
        // Out of credit, a wait returns without polling until the probe comes round.
        peer.write_all(b"+OK\r\n").unwrap();
        for _ in 0..PROBE_EVERY - 1 {
            assert!(spin.poll(&tcp, &mut buf, far).is_none());
        }
        // The probe finds the bytes waiting: a hit, and spinning is back on.
        assert_eq!(spin.poll(&tcp, &mut buf, far).unwrap().unwrap(), 5);
        assert_eq!(&buf[..5], b"+OK\r\n");
        assert_eq!(spin.credit, 2);
    }

    /// A reply split across reads, with nothing to read in between, comes out whole: the
    /// parser keeps the part it has when the reader answers `WouldBlock`.
    #[test]
    fn replies_split_across_reads_are_taken_whole() {
        let (tcp, mut peer) = socket_pair();
        let mut wire = Wire {
            stream: Stream::Tcp(tcp),
            parser: ::redis::Parser::new(),
            timeouts: Timeouts::default(),
            spin: Spin::new(),
            interrupted: false,
        };
        let mut got = Vec::new();
        wire.recv_ready(&mut got).unwrap();
        assert!(got.is_empty());
        let replies: &[u8] = b"*2\r\n$3\r\nabc\r\n$-1\r\n:42\r\n+OK\r\n";
        // Cut inside the array, inside a bulk string, and between replies.
        let cuts = [3, 9, 12, 20, 24, replies.len()];
        let mut from = 0;
        for to in cuts {
            peer.write_all(&replies[from..to]).unwrap();
            from = to;
            // Until the bytes arrive the socket may show nothing; a blocking read of the
            // whole would hide the point, so poll until this part has been taken.
            let until = Instant::now() + Duration::from_secs(5);
            while Instant::now() < until {
                let before = got.len();
                wire.recv_ready(&mut got).unwrap();
                if got.len() > before || to != replies.len() {
                    break;
                }
            }
        }
        let far = Instant::now() + Duration::from_secs(5);
        while got.len() < 3 {
            got.push(wire.recv(far, false).unwrap());
        }
        assert_eq!(
            got,
            [
                Value::Array(vec![Value::BulkString(b"abc".to_vec()), Value::Nil]),
                Value::Int(42),
                Value::Okay,
            ]
        );
    }
}
