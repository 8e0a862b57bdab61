//! One connection shared by every calling thread, pipelined, with no I/O thread of its own.
//!
//! A caller appends its packed command to the outgoing buffer and its slot to the queue of
//! requests awaiting replies, in one step, so the queue is in the order of the bytes.
//!
//! *Reading.* If no thread is reading, the caller becomes the *leader*: it reads every reply
//! that is in, hands each to its slot and has its caller woken, and reads again, until its
//! own reply is in. Then the newest caller still waiting takes the lead (it has the most
//! replies ahead of its own to read), or the lead ends.
//!
//! *Writing.* Over plain TCP, a caller that finds few requests in flight writes the buffer
//! itself at once; with more in flight, its command waits for the leader's next turn and goes
//! out with the others in one write. One thread writes at a time, until the buffer is empty,
//! so bytes go out in queue order. Over TLS the leader does all the writing.
//!
//! A lone caller thus writes and reads on its own thread with no hand-off, and concurrent
//! callers share writes and reads: the pipelining of the Redis protocol, across threads.
//!
//! Every request ends by its deadline. A waiting caller whose deadline passes abandons its
//! slot (the leader drops that reply when it comes). A leader whose deadline passes, or whose
//! connection fails, fails every queued request and drops the connection: the next request
//! dials a new one.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::thread::{self, Thread};
use std::time::Instant;

use ::redis::{RedisError, RedisResult, Value};

use super::errors::breaks_connection;
use super::sock::{interrupted, Sock};
use super::wire::{timed_out, Wire};
use super::{closed, lock};

/// What a pipe tells whoever cached through its connection (the near cache) when that
/// connection is gone: called before any request queued on it answers.
pub(crate) type OnLost = Arc<dyn Fn() + Send + Sync>;

/// The shared connection and its queue.
pub(crate) struct Pipe {
    state: Mutex<State>,
    /// Held by the leader for its whole term (and by `close`); never contended otherwise.
    io: Mutex<Io>,
    on_lost: Option<OnLost>,
}

struct State {
    /// Packed commands not yet written.
    out: Vec<u8>,
    /// The write side of the live connection when callers write their commands themselves
    /// (plain TCP): then a command goes out at once, not when the leader's read returns.
    /// `None` while there is no connection, and over TLS: then the leader writes.
    sender: Option<Sock>,
    /// The socket of the live connection, for `close` to end a leader's blocked read.
    socket: Option<Sock>,
    /// A caller is writing `out` through `sender`; it writes until `out` is empty, so the
    /// bytes go out in the order of the queue.
    writing: bool,
    /// How many requests of `queue` are still in `out`, not written.
    unsent: usize,
    /// Requests awaiting replies, in the order of their commands.
    queue: VecDeque<Arc<Slot>>,
    /// Callers whose replies are in but who were not woken yet. The leader wakes one per
    /// turn and each woken caller wakes the rest, so the wake-ups (a system call each) are
    /// not all made by the leader, which does everyone's I/O.
    to_wake: Vec<Thread>,
    /// A thread is the leader.
    leading: bool,
    closed: bool,
}

struct Io {
    wire: Option<Wire>,
    /// The buffer being written; swapped with `State::out`, so both keep their capacity.
    sending: Vec<u8>,
}

/// One request: `expect` replies for the calling thread `owner`.
struct Slot {
    owner: Thread,
    deadline: Instant,
    expect: usize,
    inner: Mutex<SlotState>,
}

struct SlotState {
    phase: Phase,
    replies: Vec<Value>,
    failure: Option<RedisError>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Phase {
    /// Its caller sleeps until the replies are in, or it is made leader.
    Waiting,
    /// Its caller is to take the lead.
    Lead,
    /// Replies (or the failure) are in.
    Done,
    /// Its caller gave up; the replies are dropped when they come.
    Abandoned,
}

/// What a waiting caller woke up to.
enum Woken {
    Done(RedisResult<Vec<Value>>),
    Lead,
    TimedOut,
    /// The host interrupted the wait (see [`crate::interrupt`]).
    Interrupted,
}

impl Slot {
    fn take(&self, s: &mut SlotState) -> RedisResult<Vec<Value>> {
        match s.failure.take() {
            Some(e) => Err(e),
            None => Ok(std::mem::take(&mut s.replies)),
        }
    }
}

impl Pipe {
    /// A pipe that calls `on_lost` whenever its connection is dropped (a failure, a reset, a
    /// close), before the requests queued on it answer.
    pub(crate) fn watched(on_lost: Option<OnLost>) -> Self {
        Pipe {
            on_lost,
            state: Mutex::new(State {
                out: Vec::new(),
                sender: None,
                socket: None,
                writing: false,
                unsent: 0,
                queue: VecDeque::new(),
                to_wake: Vec::new(),
                leading: false,
                closed: false,
            }),
            io: Mutex::new(Io {
                wire: None,
                sending: Vec::new(),
            }),
        }
    }

    /// Sends `packed` (`expect` commands) and returns their replies, in order, by `deadline`.
    /// `dial` makes a connection when there is none. Error replies are `Value::ServerError`s.
    pub(crate) fn request(
        &self,
        packed: &[u8],
        expect: usize,
        deadline: Instant,
        dial: &dyn Fn(Instant) -> RedisResult<Wire>,
    ) -> RedisResult<Vec<Value>> {
        let slot = Arc::new(Slot {
            owner: thread::current(),
            deadline,
            expect,
            inner: Mutex::new(SlotState {
                phase: Phase::Waiting,
                replies: Vec::with_capacity(expect),
                failure: None,
            }),
        });
        let (lead, write) = {
            let mut st = lock(&self.state);
            if st.closed {
                return Err(closed());
            }
            st.out.extend_from_slice(packed);
            st.queue.push_back(slot.clone());
            st.unsent += 1;
            let lead = !std::mem::replace(&mut st.leading, true);
            if lead {
                lock(&slot.inner).phase = Phase::Lead;
            }
            // Few requests in flight: the server is about to idle, so this one goes out now.
            // Many: it waits for the leader's next turn, to go out with the others in one
            // write (one system call on each side for them all).
            let direct = st.queue.len().saturating_sub(st.unsent) < DIRECT_BELOW;
            (lead, if direct { take_writing(&mut st) } else { None })
        };
        if let Some((sender, bytes)) = write {
            self.write_through(sender, bytes, deadline);
        }
        if !lead {
            match self.wait(&slot) {
                Woken::Done(result) => return result,
                Woken::TimedOut => return Err(timed_out()),
                Woken::Interrupted => return Err(interrupted().into()),
                Woken::Lead => {}
            }
        }
        self.lead(&slot, dial)
    }

    fn wait(&self, slot: &Slot) -> Woken {
        let mut parked = false;
        loop {
            {
                let mut s = lock(&slot.inner);
                match s.phase {
                    Phase::Done => {
                        let result = slot.take(&mut s);
                        drop(s);
                        self.wake_the_rest(true);
                        return Woken::Done(result);
                    }
                    Phase::Lead => return Woken::Lead,
                    Phase::Waiting | Phase::Abandoned => {}
                }
            }
            let now = Instant::now();
            let gives_up = if now >= slot.deadline {
                Some(Woken::TimedOut)
            } else if parked && crate::interrupt::requested() {
                Some(Woken::Interrupted)
            } else {
                None
            };
            if let Some(why) = gives_up {
                let mut st = lock(&self.state);
                let mut s = lock(&slot.inner);
                return match s.phase {
                    Phase::Done => Woken::Done(slot.take(&mut s)),
                    Phase::Lead => {
                        s.phase = Phase::Abandoned;
                        drop(s);
                        pass_lead(&mut st);
                        why
                    }
                    Phase::Waiting | Phase::Abandoned => {
                        s.phase = Phase::Abandoned;
                        why
                    }
                };
            }
            thread::park_timeout(crate::interrupt::next_wake(now, slot.deadline) - now);
            parked = true;
        }
    }

    /// The leader's term: I/O for everyone until `mine` is answered. Each turn of the loop
    /// visits the shared state once: it hands over the replies just read and takes what
    /// queued up meanwhile, which it writes in one go before it reads again; a read takes
    /// every reply that is in.
    ///
    /// The lead passes to the newest waiting request, so a term reads the replies of all
    /// requests older than its own: one hand-off per round of callers, not per reply. When
    /// the leader's deadline passes, the server has left its request and every older one
    /// unanswered that long: the connection is failed, not waited on.
    fn lead(
        &self,
        mine: &Arc<Slot>,
        dial: &dyn Fn(Instant) -> RedisResult<Wire>,
    ) -> RedisResult<Vec<Value>> {
        let mut io = lock(&self.io);
        let io = &mut *io;
        let mut replies = Vec::new();
        let mut done = false;
        loop {
            let (alone, broken, first, write) = {
                let mut st = lock(&self.state);
                let mut broken = None;
                for value in replies.drain(..) {
                    if let Value::ServerError(e) = &value {
                        let e = RedisError::from(e.clone());
                        if broken.is_none() && breaks_connection(&e) {
                            broken = Some(e);
                        }
                    }
                    let (finished, owner) = deliver(&mut st, value);
                    done |= finished.is_some_and(|s| Arc::ptr_eq(&s, mine));
                    st.to_wake.extend(owner);
                }
                // The leader writes when callers cannot (no connection yet, or TLS). Once
                // done, only a live connection gets the requests that queued up (the next
                // leader dials for them otherwise, by its own deadline).
                if broken.is_none() && st.sender.is_none() && (!done || io.wire.is_some()) {
                    std::mem::swap(&mut st.out, &mut io.sending);
                    st.unsent = 0;
                }
                let write = if broken.is_none() {
                    take_writing(&mut st)
                } else {
                    None
                };
                (st.queue.len() <= 1, broken, st.to_wake.pop(), write)
            };
            if let Some((sender, bytes)) = write {
                self.write_through(sender, bytes, mine.deadline);
            }
            if let Some(owner) = first {
                owner.unpark();
            }
            if let Some(e) = broken {
                // The server stopped being a master: whatever else is in flight went to the
                // wrong server; the next request asks again.
                self.fail_all(io, &e);
                done = true;
            }
            if let Err(e) = self.write_sending(io, mine.deadline, dial) {
                self.fail_all(io, &e);
                done = true;
            }
            if done {
                break;
            }
            let read = match io.wire.as_mut() {
                // Polling for the reply only pays when no other caller needs the CPU
                // meanwhile; then there is no other reply to look for either.
                Some(wire) => wire.recv(mine.deadline, alone).and_then(|first| {
                    replies.push(first);
                    if alone {
                        Ok(())
                    } else {
                        wire.recv_ready(&mut replies)
                    }
                }),
                None => Err(std::io::Error::from(std::io::ErrorKind::NotConnected).into()),
            };
            if let Err(e) = read {
                // The replies read before the failure still go to their requests first.
                let mut st = lock(&self.state);
                for value in replies.drain(..) {
                    let owner = deliver(&mut st, value).1;
                    st.to_wake.extend(owner);
                }
                if io.wire.as_ref().is_some_and(Wire::was_interrupted) {
                    // The host interrupted this caller, not the connection: its request is
                    // abandoned (its reply will be dropped) and another caller leads.
                    let mut s = lock(&mine.inner);
                    if s.phase != Phase::Done {
                        s.phase = Phase::Abandoned;
                        s.failure = Some(e);
                    }
                    break;
                }
                drop(st);
                self.fail_all(io, &e);
                break;
            }
        }
        pass_lead(&mut lock(&self.state));
        self.wake_the_rest(false);
        let mut s = lock(&mine.inner);
        mine.take(&mut s)
    }

    /// Wakes callers whose replies are in and who are still asleep: all of them, or half
    /// (`share`), leaving the rest to the callers woken here, so the wake-ups spread out.
    fn wake_the_rest(&self, share: bool) {
        let woken: Vec<Thread> = {
            let mut st = lock(&self.state);
            let n = if share {
                st.to_wake.len().div_ceil(2)
            } else {
                st.to_wake.len()
            };
            let from = st.to_wake.len() - n;
            st.to_wake.drain(from..).collect()
        };
        for owner in woken {
            owner.unpark();
        }
    }

    /// Writes the requests taken from the queue, dialling first when there is no connection.
    /// A new plain TCP connection is then handed to the callers for their own writes.
    fn write_sending(
        &self,
        io: &mut Io,
        deadline: Instant,
        dial: &dyn Fn(Instant) -> RedisResult<Wire>,
    ) -> RedisResult<()> {
        if io.sending.is_empty() {
            return Ok(());
        }
        let fresh = io.wire.is_none();
        let result = (|| {
            if io.wire.is_none() {
                let wire = dial(deadline)?;
                let mut st = lock(&self.state);
                if st.closed {
                    return Err(closed()); // closed while dialling: nobody would end it
                }
                st.socket = Some(wire.socket());
                drop(st);
                io.wire = Some(wire);
            }
            let wire = io.wire.as_mut().expect("dialled above");
            wire.send(&io.sending, deadline)
        })();
        io.sending.clear();
        result?;
        if let Some(sender) = io.wire.as_ref().and_then(Wire::sender).filter(|_| fresh) {
            let write = {
                let mut st = lock(&self.state);
                st.sender = Some(sender);
                take_writing(&mut st)
            };
            if let Some((sender, bytes)) = write {
                self.write_through(sender, bytes, deadline);
            }
        }
        Ok(())
    }

    /// Writes `bytes`, then whatever queued up meanwhile, until nothing is left. A failed
    /// write aborts the connection: the leader's read then fails, and with it every request.
    fn write_through(&self, sender: Sock, mut bytes: Vec<u8>, deadline: Instant) {
        loop {
            let sent = sender.send_all(&bytes, deadline);
            let mut st = lock(&self.state);
            if !st.sender.as_ref().is_some_and(|s| s.same(&sender)) {
                return; // the connection was replaced; `writing` went with it
            }
            if sent.is_err() {
                sender.abort();
                st.writing = false;
                return;
            }
            if st.out.is_empty() {
                st.writing = false;
                return;
            }
            bytes.clear();
            std::mem::swap(&mut st.out, &mut bytes);
            st.unsent = 0;
        }
    }

    /// Drops the connection and fails every queued request with `e`.
    fn fail_all(&self, io: &mut Io, e: &RedisError) {
        if io.wire.take().is_some() {
            if let Some(on_lost) = &self.on_lost {
                on_lost();
            }
        }
        let mut st = lock(&self.state);
        st.sender = None;
        if let Some(socket) = st.socket.take() {
            socket.abort(); // a write in progress on it ends at once
        }
        st.writing = false;
        st.out.clear();
        st.unsent = 0;
        for slot in st.queue.drain(..) {
            let mut s = lock(&slot.inner);
            if s.phase == Phase::Abandoned {
                continue;
            }
            let wake = s.phase == Phase::Waiting;
            s.phase = Phase::Done;
            s.failure = Some(e.clone());
            drop(s);
            if wake {
                slot.owner.unpark();
            }
        }
    }

    /// Whether a connection is open (it may still turn out dead on its next request).
    pub(crate) fn connected(&self) -> bool {
        lock(&self.state).socket.is_some()
    }

    /// Ends the connection (the requests in flight on it fail); the next request dials a new
    /// one. For a connection whose state the server no longer keeps (its invalidations lost).
    pub(crate) fn reset(&self) {
        if let Some(socket) = &lock(&self.state).socket {
            socket.abort(); // a leader's read on it fails, and its term fails the queue
        }
        // No leader: drop it here, so the next request dials instead of failing on it.
        if let Ok(mut io) = self.io.try_lock() {
            let reset =
                ::redis::RedisError::from((::redis::ErrorKind::Io, "the connection was reset"));
            self.fail_all(&mut io, &reset);
        }
    }

    /// Refuses new requests, fails the queued ones and drops the connection. A leader
    /// blocked in a read or write on it returns at once: its socket is shut down first.
    pub(crate) fn close(&self) {
        {
            let mut st = lock(&self.state);
            st.closed = true;
            if let Some(socket) = &st.socket {
                socket.abort();
            }
        }
        let mut io = lock(&self.io);
        self.fail_all(&mut io, &closed());
    }
}

/// A caller writes its own command when fewer requests than this are in flight (16: what the
/// 32-thread benchmark liked best among 4, 8 and 16, favouring writes, whose server time is
/// longer; all within its noise for reads).
const DIRECT_BELOW: usize = 16;

/// Makes the caller the writer when callers write and nobody is writing: the connection's
/// write side and everything queued.
fn take_writing(st: &mut State) -> Option<(Sock, Vec<u8>)> {
    if st.writing || st.out.is_empty() {
        return None;
    }
    let sender = st.sender.clone()?;
    st.writing = true;
    st.unsent = 0;
    Some((sender, std::mem::take(&mut st.out)))
}

/// Hands a reply to the oldest request. Returns that request when it is complete, and the
/// thread to wake for it (after the lock is released).
fn deliver(st: &mut State, value: Value) -> (Option<Arc<Slot>>, Option<Thread>) {
    let Some(front) = st.queue.front() else {
        return (None, None); // a reply nobody asked for: nothing to give it to
    };
    let mut s = lock(&front.inner);
    s.replies.push(value);
    if s.replies.len() < front.expect {
        return (None, None);
    }
    let phase = s.phase;
    if phase != Phase::Abandoned {
        s.phase = Phase::Done;
    }
    drop(s);
    let slot = st.queue.pop_front();
    let wake = slot
        .as_ref()
        .filter(|_| phase == Phase::Waiting)
        .map(|s| s.owner.clone());
    (slot, wake)
}

/// Makes the newest caller still waiting the leader, or ends the lead when there is none.
fn pass_lead(st: &mut State) {
    for slot in st.queue.iter().rev() {
        let mut s = lock(&slot.inner);
        if s.phase == Phase::Waiting {
            s.phase = Phase::Lead;
            slot.owner.unpark();
            return;
        }
    }
    st.leading = false;
}

#[cfg(test)]
mod tests {
    //! The shared connection against a scripted RESP peer on 127.0.0.1: each test's peer reads
    //! commands with redis-rs's parser and answers (or does not) as the test needs.

    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::mpsc;
    use std::time::Duration;

    use super::*;
    use crate::backends::redis::test_peer::{bulk, next_command, Peer};

    fn echo(text: &str) -> Vec<u8> {
        ::redis::cmd("ECHO").arg(text).get_packed_command()
    }

    fn in_ms(ms: u64) -> Instant {
        Instant::now() + Duration::from_millis(ms)
    }

    /// An echo peer that answers in batches of at most three, out of step with the requests:
    /// 8 threads × 200 requests each get their own reply, whatever the batching.
    #[test]
    fn replies_reach_their_own_callers_in_order() {
        let peer = Peer::start(|_, mut conn| {
            let mut parser = ::redis::Parser::new();
            let mut pending = Vec::new();
            while let Some(cmd) = next_command(&mut parser, &mut conn) {
                pending.push(cmd[1].clone());
                if pending.len() == 3 || pending.len() % 2 == 1 {
                    for p in pending.drain(..) {
                        bulk(&mut conn, &p);
                    }
                }
            }
        });
        let pipe = Pipe::watched(None);
        std::thread::scope(|scope| {
            for t in 0..8 {
                let (pipe, peer) = (&pipe, &peer);
                scope.spawn(move || {
                    for i in 0..200 {
                        let mine = format!("{t}-{i}");
                        let got = pipe
                            .request(&echo(&mine), 1, in_ms(10_000), &peer.dial())
                            .unwrap();
                        assert_eq!(got, [Value::BulkString(mine.into_bytes())]);
                    }
                });
            }
        });
        pipe.close();
    }

    /// A waiter that gives up at its deadline never receives a late reply: its reply, when it
    /// comes, is dropped, and the next caller gets its own.
    #[test]
    fn a_waiter_that_gave_up_never_gets_a_late_reply() {
        let (late_tx, late_rx) = mpsc::channel::<()>();
        let late_rx = Mutex::new(late_rx);
        let (first_tx, first_rx) = mpsc::channel::<()>();
        let peer = Peer::start(move |_, mut conn| {
            let mut parser = ::redis::Parser::new();
            let hello = next_command(&mut parser, &mut conn).unwrap();
            bulk(&mut conn, &hello[1]);
            // The leader's and the follower's commands; the follower's reply waits until it
            // gave up.
            let first = next_command(&mut parser, &mut conn).unwrap();
            let _ = first_tx.send(());
            let second = next_command(&mut parser, &mut conn).unwrap();
            bulk(&mut conn, &first[1]);
            lock(&late_rx).recv().unwrap();
            bulk(&mut conn, &second[1]);
            while let Some(cmd) = next_command(&mut parser, &mut conn) {
                bulk(&mut conn, &cmd[1]);
            }
        });
        let pipe = Pipe::watched(None);
        // Connect first, so the two requests below are in flight together.
        pipe.request(&echo("hello"), 1, in_ms(10_000), &peer.dial())
            .unwrap();
        std::thread::scope(|scope| {
            let leader =
                scope.spawn(|| pipe.request(&echo("leader"), 1, in_ms(10_000), &peer.dial()));
            // The follower's command goes out once the server has read the leader's.
            first_rx
                .recv_timeout(Duration::from_secs(10))
                .expect("the leader's command reached the server");
            let gave_up = pipe.request(&echo("follower"), 1, in_ms(200), &peer.dial());
            assert!(gave_up.unwrap_err().is_timeout());
            late_tx.send(()).unwrap();
            assert_eq!(
                leader.join().unwrap().unwrap(),
                [Value::BulkString(b"leader".to_vec())]
            );
        });
        let next = pipe
            .request(&echo("next"), 1, in_ms(10_000), &peer.dial())
            .unwrap();
        assert_eq!(next, [Value::BulkString(b"next".to_vec())]);
        pipe.close();
    }

    /// When the leader's deadline passes unanswered, every queued request fails at once (the
    /// server left them all unanswered) and the next request dials a new connection.
    #[test]
    fn the_leaders_deadline_fails_the_queue_then_a_redial_works() {
        let (read_tx, read_rx) = mpsc::channel::<()>();
        let peer = Peer::start(move |n, mut conn| {
            let mut parser = ::redis::Parser::new();
            if n == 0 {
                // Mute: it reads every command and answers none.
                while next_command(&mut parser, &mut conn).is_some() {
                    let _ = read_tx.send(());
                }
                return;
            }
            while let Some(cmd) = next_command(&mut parser, &mut conn) {
                bulk(&mut conn, &cmd[1]);
            }
        });
        let pipe = Pipe::watched(None);
        std::thread::scope(|scope| {
            // The first request leads: the server leaves it unanswered past its deadline, by
            // which the follower has long been queued behind it.
            let leader =
                scope.spawn(|| pipe.request(&echo("leader"), 1, in_ms(2_000), &peer.dial()));
            read_rx
                .recv_timeout(Duration::from_secs(10))
                .expect("the leader's command reached the server");
            let (tx, rx) = mpsc::channel();
            let (pipe, peer) = (&pipe, &peer);
            scope.spawn(move || {
                tx.send(pipe.request(&echo("follower"), 1, in_ms(30_000), &peer.dial()))
                    .unwrap()
            });
            assert!(leader.join().unwrap().is_err());
            let follower = rx
                .recv_timeout(Duration::from_secs(10))
                .expect("the follower waited for its own deadline");
            assert!(follower.is_err(), "{follower:?}");
        });
        let again = pipe.request(&echo("again"), 1, in_ms(10_000), &peer.dial());
        let again = again.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(again, [Value::BulkString(b"again".to_vec())]);
        pipe.close();
    }

    /// A connection that breaks with requests in flight fails them all, and none is ever sent
    /// again: the server may have run it (a `del` run twice answers that its key was gone).
    #[test]
    fn a_broken_connection_fails_its_requests_and_never_resends_them() {
        let seen = std::sync::Arc::new(AtomicUsize::new(0));
        let counted = seen.clone();
        let peer = Peer::start(move |n, mut conn| {
            let mut parser = ::redis::Parser::new();
            while let Some(cmd) = next_command(&mut parser, &mut conn) {
                if cmd[1] == b"once" {
                    counted.fetch_add(1, Ordering::SeqCst);
                }
                if n == 0 {
                    // Read, never answered: the connection breaks mid-batch.
                    let _ = conn.shutdown(std::net::Shutdown::Both);
                    return;
                }
                bulk(&mut conn, &cmd[1]);
            }
        });
        let pipe = Pipe::watched(None);
        let broken = pipe.request(&echo("once"), 1, in_ms(10_000), &peer.dial());
        assert!(broken.is_err(), "{broken:?}");
        let after = pipe
            .request(&echo("after"), 1, in_ms(10_000), &peer.dial())
            .unwrap();
        assert_eq!(after, [Value::BulkString(b"after".to_vec())]);
        assert_eq!(
            seen.load(Ordering::SeqCst),
            1,
            "the broken request was sent again"
        );
        pipe.close();
    }

    static STOP: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

    /// A host interrupts calls waiting on a mute server, as leader and as follower: both end
    /// long before their deadlines, and the connection still serves the next caller.
    #[test]
    fn the_host_interrupts_waiting_calls() {
        crate::interrupt::set_hook(|| STOP.load(Ordering::SeqCst));
        let answer = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let answering = answer.clone();
        // A server that stops answering and then answers everything, in order (as a stopped
        // Redis does when it resumes).
        let peer = Peer::start(move |_, mut conn| {
            let mut parser = ::redis::Parser::new();
            let mut unanswered = Vec::new();
            while let Some(cmd) = next_command(&mut parser, &mut conn) {
                unanswered.push(cmd[1].clone());
                if answering.load(Ordering::SeqCst) {
                    for text in unanswered.drain(..) {
                        bulk(&mut conn, &text);
                    }
                }
            }
        });
        let pipe = Pipe::watched(None);
        std::thread::scope(|scope| {
            let (tx, rx) = mpsc::channel();
            for who in ["leader", "follower"] {
                let (pipe, peer, tx) = (&pipe, &peer, tx.clone());
                scope.spawn(move || {
                    let got = crate::interrupt::interruptible(|| {
                        pipe.request(&echo(who), 1, in_ms(60_000), &peer.dial())
                    });
                    tx.send((who, got)).unwrap();
                });
                std::thread::sleep(Duration::from_millis(50));
            }
            std::thread::sleep(Duration::from_millis(100));
            STOP.store(true, Ordering::SeqCst);
            for _ in 0..2 {
                let (who, got) = rx
                    .recv_timeout(Duration::from_secs(10))
                    .expect("an interrupted call went on waiting");
                assert!(got.is_err(), "{who}: {got:?}");
            }
        });
        STOP.store(false, Ordering::SeqCst);
        // The late replies of the abandoned requests are dropped; the next caller gets its own.
        answer.store(true, Ordering::SeqCst);
        let next = pipe
            .request(&echo("next"), 1, in_ms(10_000), &peer.dial())
            .unwrap();
        assert_eq!(next, [Value::BulkString(b"next".to_vec())]);
        pipe.close();
    }

    /// `close` ends a leader blocked on a mute server at once (its socket is shut down), long
    /// before the leader's own deadline.
    #[test]
    fn close_ends_a_running_leader() {
        let peer = Peer::start(|_, mut conn| {
            let mut parser = ::redis::Parser::new();
            while next_command(&mut parser, &mut conn).is_some() {} // mute
        });
        let pipe = Pipe::watched(None);
        std::thread::scope(|scope| {
            let (tx, rx) = mpsc::channel();
            let (pipe, peer) = (&pipe, &peer);
            scope.spawn(move || {
                tx.send(pipe.request(&echo("x"), 1, in_ms(60_000), &peer.dial()))
                    .unwrap()
            });
            std::thread::sleep(Duration::from_millis(100));
            pipe.close();
            let ended = rx
                .recv_timeout(Duration::from_secs(10))
                .expect("close left the leader blocked");
            assert!(ended.is_err());
        });
        assert!(pipe
            .request(&echo("y"), 1, in_ms(1000), &peer.dial())
            .is_err());
    }
}
