//! One blocking connection to one Redis server: TCP (TLS over it for `rediss://`), the
//! AUTH/SELECT handshake, packed commands out and replies in through redis-rs's RESP parser.
//! Every read and write ends by a deadline. A read that finds no reply yet first polls the
//! socket for a few tens of microseconds before it sleeps (see [`Spin`]); replies that are
//! already in can be taken without blocking at all ([`Wire::recv_ready`]).

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ::redis::{ErrorKind as RedisKind, RedisError, RedisResult, Value};
use rustix::event::{PollFd, PollFlags, Timespec};
use rustix::io::Errno;
use rustix::net::{RecvFlags, SendFlags};
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

/// Where a connection goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Endpoint {
    pub host: String,
    pub port: u16,
}

/// Who a connection logs in as, and which database it selects.
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
    RedisError::from(io::Error::new(io::ErrorKind::TimedOut, "no reply in time"))
}

enum Stream {
    // Shared with the connection's [`Sender`]: TCP reads and writes may go on at once.
    Tcp(Arc<TcpStream>),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl Stream {
    fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Tcp(s) => s,
            Stream::Tls(s) => &s.sock,
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => (&**s).read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => (&**s).write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => (&**s).flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

/// The write side of a plain TCP connection, usable by one thread while another reads.
#[derive(Clone)]
pub(crate) struct Sender(Arc<TcpStream>);

impl Sender {
    /// Writes `bytes` whole before `deadline` (non-blocking sends, and `poll` while the
    /// socket's buffer is full).
    pub(crate) fn send(&self, mut bytes: &[u8], deadline: Instant) -> RedisResult<()> {
        while !bytes.is_empty() {
            match rustix::net::send(&*self.0, bytes, SendFlags::DONTWAIT | SendFlags::NOSIGNAL) {
                Ok(0) => return Err(io::Error::from(io::ErrorKind::WriteZero).into()),
                Ok(n) => bytes = &bytes[n..],
                Err(e) if e == Errno::INTR => {}
                Err(e) if e == Errno::WOULDBLOCK => {
                    let left = time_left(deadline)?;
                    let wait = Timespec::try_from(left).map_err(|_| timed_out())?;
                    let mut fds = [PollFd::new(&*self.0, PollFlags::OUT)];
                    match rustix::event::poll(&mut fds, Some(&wait)) {
                        Ok(_) => {}
                        Err(e) if e == Errno::INTR => {}
                        Err(e) => return Err(io::Error::from(e).into()),
                    }
                }
                Err(e) => return Err(io::Error::from(e).into()),
            }
        }
        Ok(())
    }

    /// Ends the connection in both directions: a read in progress on it returns at once.
    pub(crate) fn abort(&self) {
        // Already closed by the peer or by us: nothing more to end.
        let _ = self.0.shutdown(std::net::Shutdown::Both);
    }

    /// True when both are the same connection.
    pub(crate) fn same(&self, other: &Sender) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// The socket timeouts last set, so a call changes them only when its deadline needs it.
#[derive(Default)]
struct Timeouts {
    read: Option<Duration>,
    write: Option<Duration>,
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

fn time_left(deadline: Instant) -> io::Result<Duration> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left < Duration::from_micros(1) {
        return Err(io::Error::new(io::ErrorKind::TimedOut, "no reply in time"));
    }
    Ok(left)
}

fn again(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
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

/// Reads what `tcp` has now, without blocking: `None` when it has nothing yet.
fn recv_now(tcp: &TcpStream, buf: &mut [u8]) -> Option<io::Result<usize>> {
    match rustix::net::recv(tcp, buf, RecvFlags::DONTWAIT) {
        Ok((n, _)) => Some(Ok(n)),
        Err(e) if e == Errno::WOULDBLOCK || e == Errno::INTR => None,
        Err(e) => Some(Err(e.into())),
    }
}

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

    /// Reads from `tcp` as soon as it has something (or an error or end to report) within
    /// the spin; `None` when the spin ended empty, or at once when spinning does not pay.
    fn poll(
        &mut self,
        tcp: &TcpStream,
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
            if let Some(read) = recv_now(tcp, buf) {
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
}

/// The reader redis-rs's parser pulls from. Without a deadline it never blocks: it answers
/// `WouldBlock` when nothing is in (the parser keeps a partial reply for the next call).
/// With one it blocks until then at most, polling first when it has a [`Spin`].
struct Paced<'a> {
    stream: &'a mut Stream,
    timeouts: &'a mut Timeouts,
    spin: Option<&'a mut Spin>,
    deadline: Option<Instant>,
}

impl Read for Paced<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Some(deadline) = self.deadline else {
            return match &*self.stream {
                Stream::Tcp(tcp) => recv_now(tcp, buf),
                // rustls may hold decrypted bytes the socket no longer shows: TLS replies are
                // only ever read blocking.
                Stream::Tls(_) => None,
            }
            .unwrap_or_else(|| Err(io::ErrorKind::WouldBlock.into()));
        };
        if let (Stream::Tcp(tcp), Some(spin)) = (&*self.stream, self.spin.as_mut()) {
            if let Some(read) = spin.poll(tcp, buf, deadline) {
                return read;
            }
        }
        loop {
            let left = time_left(deadline)?;
            let tcp = self.stream.tcp();
            fit(&mut self.timeouts.read, left, |t| tcp.set_read_timeout(t))?;
            match self.stream.read(buf) {
                Err(e) if again(&e) => continue,
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
        let mut last = None;
        let mut tcp = None;
        for addr in (to.host.as_str(), to.port).to_socket_addrs()? {
            match TcpStream::connect_timeout(&addr, time_left(deadline)?) {
                Ok(s) => {
                    tcp = Some(s);
                    break;
                }
                Err(e) => last = Some(e),
            }
        }
        let tcp = match (tcp, last) {
            (Some(s), _) => s,
            (None, Some(e)) => return Err(e.into()),
            (None, None) => {
                return Err(io::Error::new(io::ErrorKind::NotFound, "no address").into())
            }
        };
        tcp.set_nodelay(true)?;
        let stream = match tls {
            None => Stream::Tcp(Arc::new(tcp)),
            Some(config) => {
                let name = ServerName::try_from(to.host.clone()).map_err(|e| {
                    RedisError::from((
                        RedisKind::InvalidClientConfig,
                        "not a TLS server name",
                        e.to_string(),
                    ))
                })?;
                let conn = ClientConnection::new(config.clone(), name).map_err(tls_error)?;
                Stream::Tls(Box::new(StreamOwned::new(conn, tcp)))
            }
        };
        let mut wire = Wire {
            stream,
            parser: ::redis::Parser::new(),
            timeouts: Timeouts::default(),
            spin: Spin::new(),
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

    /// The write side, for another thread to write while this one reads; `None` over TLS,
    /// where reads and writes go through one rustls state.
    pub(crate) fn sender(&self) -> Option<Sender> {
        match &self.stream {
            Stream::Tcp(s) => Some(Sender(s.clone())),
            Stream::Tls(_) => None,
        }
    }

    /// Writes `bytes` (packed commands) whole, before `deadline`.
    pub(crate) fn send(&mut self, bytes: &[u8], deadline: Instant) -> RedisResult<()> {
        let mut rest = bytes;
        while !rest.is_empty() {
            let left = time_left(deadline)?;
            let tcp = self.stream.tcp();
            fit(&mut self.timeouts.write, left, |t| tcp.set_write_timeout(t))?;
            match self.stream.write(rest) {
                Ok(0) => return Err(io::Error::from(io::ErrorKind::WriteZero).into()),
                Ok(n) => rest = &rest[n..],
                Err(e) if again(&e) => {}
                Err(e) => return Err(e.into()),
            }
        }
        loop {
            let left = time_left(deadline)?;
            let tcp = self.stream.tcp();
            fit(&mut self.timeouts.write, left, |t| tcp.set_write_timeout(t))?;
            match self.stream.flush() {
                Err(e) if again(&e) => {}
                other => return Ok(other?),
            }
        }
    }

    /// Reads the next reply (an error reply is a `Value::ServerError`), before `deadline`.
    /// `may_spin` when the caller has nothing else to do meanwhile (no other thread waits on
    /// it): then a read polls briefly before it sleeps.
    pub(crate) fn recv(&mut self, deadline: Instant, may_spin: bool) -> RedisResult<Value> {
        let reader = Paced {
            stream: &mut self.stream,
            timeouts: &mut self.timeouts,
            spin: may_spin.then_some(&mut self.spin),
            deadline: Some(deadline),
        };
        self.parser.parse_value(reader)
    }

    /// Appends to `into` every reply that is already in, without blocking.
    pub(crate) fn recv_ready(&mut self, into: &mut Vec<Value>) -> RedisResult<()> {
        loop {
            let reader = Paced {
                stream: &mut self.stream,
                timeouts: &mut self.timeouts,
                spin: None,
                deadline: None,
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

    fn socket_pair() -> (TcpStream, TcpStream) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let near = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
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

    /// A peer that stops reading fills the socket: the send ends by its deadline with a
    /// timeout, and `abort` ends a read that waits on the same connection.
    #[test]
    fn a_blocked_send_ends_by_its_deadline_and_abort_ends_reads() {
        let (tcp, peer) = socket_pair();
        let tcp = Arc::new(tcp);
        let sender = Sender(tcp.clone());
        let chunk = vec![b'x'; 1 << 20];
        let deadline = Instant::now() + Duration::from_millis(200);
        let e = loop {
            if let Err(e) = sender.send(&chunk, deadline) {
                break e;
            }
        };
        assert!(e.is_timeout(), "{e}");
        let reader = std::thread::spawn({
            let tcp = tcp.clone();
            move || (&*tcp).read(&mut [0u8; 16])
        });
        std::thread::sleep(Duration::from_millis(50));
        sender.abort();
        // Ended: the end of the stream, or an error, but not a wait for the peer.
        assert!(matches!(reader.join().unwrap(), Ok(0) | Err(_)));
        assert!(sender.same(&sender.clone()));
        assert!(!sender.same(&Sender(Arc::new(peer))));
    }

    /// A reply split across reads, with nothing to read in between, comes out whole: the
    /// parser keeps the part it has when the reader answers `WouldBlock`.
    #[test]
    fn replies_split_across_reads_are_taken_whole() {
        let (tcp, mut peer) = socket_pair();
        let mut wire = Wire {
            stream: Stream::Tcp(Arc::new(tcp)),
            parser: ::redis::Parser::new(),
            timeouts: Timeouts::default(),
            spin: Spin::new(),
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
