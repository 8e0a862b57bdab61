//! [`Waker`]: one file descriptor that becomes readable when a worker has completions for the
//! event loop (an eventfd on Linux, a non-blocking pipe elsewhere). The loop watches it with
//! `add_reader`; a wake-up already pending is never doubled (see `channel.rs`).

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// The readable end the loop watches, and the end workers write to (the same fd for eventfd).
pub struct Waker {
    read: OwnedFd,
    #[cfg(not(target_os = "linux"))]
    write: OwnedFd,
}

impl Waker {
    /// A new, non-readable waker (close-on-exec, non-blocking).
    #[cfg(target_os = "linux")]
    pub fn new() -> io::Result<Self> {
        // SAFETY: eventfd takes no pointers; a negative result is an error, checked below.
        let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` was just opened and is owned by nothing else.
        let read = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(Waker { read })
    }

    /// A new, non-readable waker (close-on-exec, non-blocking).
    #[cfg(not(target_os = "linux"))]
    pub fn new() -> io::Result<Self> {
        let mut fds = [0 as libc::c_int; 2];
        // SAFETY: `fds` has room for the two descriptors pipe writes.
        if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: both were just opened and are owned by nothing else.
        let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        for fd in [&read, &write] {
            // SAFETY: fcntl on a descriptor we own, with integer arguments only.
            let ok = unsafe {
                libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, libc::O_NONBLOCK) == 0
                    && libc::fcntl(fd.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) == 0
            };
            if !ok {
                return Err(io::Error::last_os_error());
            }
        }
        Ok(Waker { read, write })
    }

    /// The descriptor to register with `loop.add_reader`.
    pub fn fd(&self) -> RawFd {
        self.read.as_raw_fd()
    }

    /// Makes the descriptor readable. Never blocks: a full counter or pipe is already readable.
    pub fn wake(&self) {
        #[cfg(target_os = "linux")]
        let (fd, buf) = (self.read.as_raw_fd(), 1u64.to_ne_bytes());
        #[cfg(not(target_os = "linux"))]
        let (fd, buf) = (self.write.as_raw_fd(), [1u8]);
        // SAFETY: writes `buf.len()` bytes from a live buffer to a descriptor we own. EAGAIN
        // (counter or pipe full) leaves it readable, which is all a wake-up needs.
        let _ = unsafe { libc::write(fd, buf.as_ptr().cast(), buf.len()) };
    }

    /// Makes the descriptor non-readable again (reads whatever wake-ups are pending).
    pub fn consume(&self) {
        let mut buf = [0u8; 64];
        loop {
            // SAFETY: reads at most `buf.len()` bytes into a live buffer from a descriptor we
            // own; non-blocking, so an empty one answers EAGAIN at once.
            let n =
                unsafe { libc::read(self.read.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
            // An eventfd is emptied by one read; a pipe may hold more than one buffer.
            if cfg!(target_os = "linux") || n < buf.len() as isize {
                return;
            }
        }
    }
}
