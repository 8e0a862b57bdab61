//! One TCP socket, as every Redis connection uses it: connecting within a deadline (name
//! resolution included), writes that never raise `SIGPIPE` in the host, reads and writes that
//! end by a deadline, and an abort that ends another thread's blocked read at once.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Instant;

pub(crate) use crate::backends::{resolve, time_left, timed_out};

use rustix::event::{PollFd, PollFlags, Timespec};
use rustix::io::Errno;
use rustix::net::{RecvFlags, SendFlags};

/// Where a connection goes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Endpoint {
    pub host: String,
    pub port: u16,
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.host, self.port)
    }
}

/// The error of a wait the host interrupted (see [`crate::interrupt`]).
pub(crate) fn interrupted() -> io::Error {
    io::Error::other("the call was interrupted by the host")
}

/// True for the errors a blocking call retries while its deadline allows.
pub(crate) fn again(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
}

/// A connected TCP socket, shared by the threads that read, write and abort it.
#[derive(Clone)]
pub(crate) struct Sock(Arc<TcpStream>);

impl Sock {
    /// Connects to `to` (each address in turn) by `deadline`, with Nagle off.
    pub(crate) fn connect(to: &Endpoint, deadline: Instant) -> io::Result<Sock> {
        let mut last = None;
        for addr in resolve(&to.host, to.port, deadline)? {
            match TcpStream::connect_timeout(&addr, time_left(deadline)?) {
                Ok(tcp) => {
                    tcp.set_nodelay(true)?;
                    return Ok(Sock(Arc::new(tcp)));
                }
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no address")))
    }

    /// The socket itself, for timeouts and non-blocking reads.
    pub(crate) fn tcp(&self) -> &TcpStream {
        &self.0
    }

    /// Writes `bytes` whole before `deadline`: non-blocking sends (never `SIGPIPE`), and a
    /// `poll` while the socket's buffer is full.
    pub(crate) fn send_all(&self, mut bytes: &[u8], deadline: Instant) -> io::Result<()> {
        while !bytes.is_empty() {
            match rustix::net::send(&*self.0, bytes, SendFlags::DONTWAIT | SendFlags::NOSIGNAL) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => bytes = &bytes[n..],
                Err(e) if e == Errno::INTR => {}
                Err(e) if e == Errno::WOULDBLOCK => self.wait(PollFlags::OUT, deadline)?,
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// Waits until the socket is ready for `what`, or `deadline` passed.
    fn wait(&self, what: PollFlags, deadline: Instant) -> io::Result<()> {
        let wait = Timespec::try_from(time_left(deadline)?).map_err(|_| timed_out())?;
        let mut fds = [PollFd::new(&*self.0, what)];
        match rustix::event::poll(&mut fds, Some(&wait)) {
            Ok(_) => Ok(()),
            Err(e) if e == Errno::INTR => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Reads what the socket has now, without blocking: `None` when it has nothing yet.
    pub(crate) fn recv_now(&self, buf: &mut [u8]) -> Option<io::Result<usize>> {
        match rustix::net::recv(&*self.0, buf, RecvFlags::DONTWAIT) {
            Ok((n, _)) => Some(Ok(n)),
            Err(e) if e == Errno::WOULDBLOCK || e == Errno::INTR => None,
            Err(e) => Some(Err(e.into())),
        }
    }

    /// Ends the connection in both directions: a read or write in progress on it returns.
    pub(crate) fn abort(&self) {
        // Already closed by the peer or by us: nothing more to end.
        let _ = self.0.shutdown(std::net::Shutdown::Both);
    }

    /// True when both are the same connection.
    pub(crate) fn same(&self, other: &Sock) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// Blocking reads and writes through the socket's own timeouts (the caller sets them), for
/// the TLS layer. Writes go through `send` with `MSG_NOSIGNAL`: a peer that closed the
/// connection is an error, never a `SIGPIPE` that kills the host.
impl Read for Sock {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (&*self.0).read(buf)
    }
}

impl Write for Sock {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        rustix::net::send(&*self.0, buf, SendFlags::NOSIGNAL).map_err(io::Error::from)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::time::Duration;

    fn pair() -> (Sock, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let to = Endpoint {
            host: "127.0.0.1".into(),
            port: listener.local_addr().unwrap().port(),
        };
        let near = Sock::connect(&to, Instant::now() + Duration::from_secs(5)).unwrap();
        let (far, _) = listener.accept().unwrap();
        (near, far)
    }

    /// A peer that stops reading fills the socket: the send ends by its deadline with a
    /// timeout, and `abort` ends a read that waits on the same connection.
    #[test]
    fn a_blocked_send_ends_by_its_deadline_and_abort_ends_reads() {
        let (sock, peer) = pair();
        let chunk = vec![b'x'; 1 << 20];
        let deadline = Instant::now() + Duration::from_millis(200);
        let e = loop {
            if let Err(e) = sock.send_all(&chunk, deadline) {
                break e;
            }
        };
        assert_eq!(e.kind(), io::ErrorKind::TimedOut, "{e}");
        let reader = std::thread::spawn({
            let mut sock = sock.clone();
            move || sock.read(&mut [0u8; 16])
        });
        std::thread::sleep(Duration::from_millis(50));
        sock.abort();
        // Ended: the end of the stream, or an error, but not a wait for the peer.
        assert!(matches!(reader.join().unwrap(), Ok(0) | Err(_)));
        assert!(sock.same(&sock.clone()));
        drop(peer);
    }

    /// Writing to a connection the peer closed is an error, not a `SIGPIPE` (which would end
    /// this test process).
    #[test]
    fn writes_to_a_closed_peer_fail_without_sigpipe() {
        let (mut sock, peer) = pair();
        drop(peer);
        let far = Instant::now() + Duration::from_secs(5);
        let mut failures = 0;
        for _ in 0..100 {
            let blocking = sock.write(b"PING\r\n").map(drop);
            let non_blocking = sock.send_all(b"PING\r\n", far);
            failures += usize::from(blocking.is_err()) + usize::from(non_blocking.is_err());
            std::thread::sleep(Duration::from_millis(1));
        }
        assert!(failures > 0, "the closed peer was never noticed");
    }
}
