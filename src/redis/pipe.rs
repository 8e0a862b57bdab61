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
use super::wire::{timed_out, Sender, Wire};
use super::{closed, lock};

/// The shared connection and its queue.
pub(crate) struct Pipe {
    state: Mutex<State>,
    /// Held by the leader for its whole term (and by `close`); never contended otherwise.
    io: Mutex<Io>,
}

struct State {
    /// Packed commands not yet written.
    out: Vec<u8>,
    /// The write side of the live connection when callers write their commands themselves
    /// (plain TCP): then a command goes out at once, not when the leader's read returns.
    /// `None` while there is no connection, and over TLS: then the leader writes.
    sender: Option<Sender>,
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
    pub(crate) fn new() -> Self {
        Pipe {
            state: Mutex::new(State {
                out: Vec::new(),
                sender: None,
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
                Woken::Lead => {}
            }
        }
        self.lead(&slot, dial)
    }

    fn wait(&self, slot: &Slot) -> Woken {
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
            if now >= slot.deadline {
                let mut st = lock(&self.state);
                let mut s = lock(&slot.inner);
                return match s.phase {
                    Phase::Done => Woken::Done(slot.take(&mut s)),
                    Phase::Lead => {
                        s.phase = Phase::Abandoned;
                        drop(s);
                        pass_lead(&mut st);
                        Woken::TimedOut
                    }
                    Phase::Waiting | Phase::Abandoned => {
                        s.phase = Phase::Abandoned;
                        Woken::TimedOut
                    }
                };
            }
            thread::park_timeout(slot.deadline - now);
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
                io.wire = Some(dial(deadline)?);
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
    fn write_through(&self, sender: Sender, mut bytes: Vec<u8>, deadline: Instant) {
        loop {
            let sent = sender.send(&bytes, deadline);
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
        io.wire = None;
        let mut st = lock(&self.state);
        if let Some(sender) = st.sender.take() {
            sender.abort(); // a write in progress on it ends at once
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

    /// Refuses new requests, fails the queued ones and drops the connection (after the
    /// leader's term, which its deadline bounds).
    pub(crate) fn close(&self) {
        lock(&self.state).closed = true;
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
fn take_writing(st: &mut State) -> Option<(Sender, Vec<u8>)> {
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
