//! One handle on one session's entry, and the IMap operations it is made of. A read is one
//! `get`; a write changes the document and stores it with `replaceIfSame` on the bytes it
//! changed (compare-and-set), then, with a lease, restores the entry's TTL from the lease
//! deadline the document holds (a replace resets it to the map's default). The bytes changed
//! are the ones the handle last saw stored, when it has seen any: a handle's writes cost no
//! read until another writer changes the entry under it.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::codec::{self, Request, Response};
use super::doc::Doc;
use super::{now_ms, Shared};
use crate::backend::Session;
use crate::backends::{lock, new_generation, random_bytes};
use crate::error::{Error, ErrorKind, Result};
use crate::names::SessionId;

/// The thread id of every map request: it only matters to key locks, which we never take.
const THREAD: i64 = 1;

/// A handle: the session's entry key, the generation it attached to, and what it last saw.
pub(crate) struct HazelcastSession {
    shared: Arc<Shared>,
    key: String,
    generation: Vec<u8>,
    seen: Seen,
}

/// The entry's bytes as a handle last read or wrote them: its next write tries them as the
/// bytes to replace before reading the entry (a wrong guess only costs the read it saved).
type Seen = Mutex<Option<Vec<u8>>>;

/// One operation on one entry: its serialized key, its partition, and the deadline every
/// request of the operation shares, so `timeout_ms` bounds the whole operation (a write's
/// read, replace and TTL, its retries included), not each request.
struct Op<'a> {
    shared: &'a Shared,
    data: Vec<u8>,
    partition: i32,
    deadline: Instant,
}

impl Shared {
    /// An operation on entry `key`, starting now.
    fn op(&self, key: &str) -> Op<'_> {
        let data = codec::string_data(key);
        Op {
            shared: self,
            partition: self.pool.partition_of(&data),
            data,
            deadline: Instant::now() + self.timeout,
        }
    }
}

impl Op<'_> {
    /// Waits before the next try of a compare-and-set that lost to another writer on bytes it
    /// had just read: a random time up to 50 µs × 2^`tries` (at most 3.2 ms), never past the
    /// operation's deadline. Writers contending for one entry then stop colliding in
    /// lockstep: without it, one of eight writers lost 64 tries in a row on a loaded machine.
    fn back_off(&self, tries: u32) {
        let cap_us = 50u64 << tries.min(6);
        let mut random = [0u8; 8];
        random_bytes(&mut random);
        let wait = Duration::from_micros(u64::from_le_bytes(random) % (cap_us + 1));
        std::thread::sleep(wait.min(self.deadline.saturating_duration_since(Instant::now())));
    }

    /// Whether the operation's deadline passed: a compare-and-set tries until then.
    fn expired(&self) -> bool {
        Instant::now() >= self.deadline
    }

    fn request(&self, message_type: i32) -> Request {
        Request::new(message_type, self.partition)
    }

    fn call(&self, what: &str, request: &Request) -> Result<Response> {
        self.shared.pool.call(what, request, self.deadline)
    }

    /// The entry's stored bytes (byte[] heap data), if any.
    fn get_raw(&self) -> Result<Option<Vec<u8>>> {
        let mut r = self.request(codec::MAP_GET);
        r.fixed_i64(THREAD)
            .string(&self.shared.map)
            .bytes_frame(&self.data);
        Ok(self.call("get", &r)?.nullable_data().map(<[u8]>::to_vec))
    }

    /// Stores `value` unless the entry exists; the stored bytes when it did.
    fn put_if_absent(&self, value: &[u8], ttl_ms: i64) -> Result<Option<Vec<u8>>> {
        let mut r = self.request(codec::MAP_PUT_IF_ABSENT);
        r.fixed_i64(THREAD)
            .fixed_i64(ttl_ms)
            .string(&self.shared.map)
            .bytes_frame(&self.data)
            .bytes_frame(value);
        Ok(self
            .call("putIfAbsent", &r)?
            .nullable_data()
            .map(<[u8]>::to_vec))
    }

    /// Replaces the entry's bytes `old` with `new`; false when they were not `old` any more.
    fn replace_if_same(&self, old: &[u8], new: &[u8]) -> Result<bool> {
        let mut r = self.request(codec::MAP_REPLACE_IF_SAME);
        r.fixed_i64(THREAD)
            .string(&self.shared.map)
            .bytes_frame(&self.data)
            .bytes_frame(old)
            .bytes_frame(new);
        self.answer_bool("replaceIfSame", &r)
    }

    /// Removes the entry if it still holds `old`.
    fn remove_if_same(&self, old: &[u8]) -> Result<bool> {
        let mut r = self.request(codec::MAP_REMOVE_IF_SAME);
        r.fixed_i64(THREAD)
            .string(&self.shared.map)
            .bytes_frame(&self.data)
            .bytes_frame(old);
        self.answer_bool("removeIfSame", &r)
    }

    /// Sets the entry's TTL (ms; 0: none).
    fn set_ttl(&self, ttl_ms: i64) -> Result<()> {
        let mut r = self.request(codec::MAP_SET_TTL);
        r.fixed_i64(ttl_ms)
            .string(&self.shared.map)
            .bytes_frame(&self.data);
        self.call("setTtl", &r).map(drop)
    }

    fn answer_bool(&self, what: &str, request: &Request) -> Result<bool> {
        self.call(what, request)?.fixed_bool(0).ok_or_else(|| {
            Error::new(
                ErrorKind::Backend,
                format!("{what}: the member's answer has no result"),
            )
        })
    }
}

impl Shared {
    /// The entry's TTL in ms for a lease running out at `deadline` (0: no lease). Members
    /// keep TTLs in whole seconds, and one below a second removes the entry at once: the TTL
    /// is rounded up to seconds, so an entry outlives its lease by less than a second (the
    /// document's deadline is the exact one).
    fn ttl_until(deadline: u64) -> i64 {
        if deadline == 0 {
            0
        } else {
            let left = deadline.saturating_sub(now_ms()).max(1);
            left.div_ceil(1000) as i64 * 1000
        }
    }

    /// The deadline a write by this factory gives the session: its own lease from now, or
    /// the one the session had (a node without a lease never stretches another's).
    fn next_deadline(&self, had: u64) -> u64 {
        match self.ttl {
            Some(ttl) => now_ms() + ttl.as_millis() as u64,
            None => had,
        }
    }
}

/// The document stored as `raw` (byte[] heap data), or a `Backend` error naming what is there.
fn decode(raw: &[u8]) -> Result<Doc> {
    codec::byte_array_of(raw)
        .and_then(Doc::decode)
        .ok_or_else(|| {
            Error::new(
                ErrorKind::Backend,
                "the session's entry holds something sessionstore did not write",
            )
        })
}

/// The error of a session attached under another prefix whose key this one's also names.
fn other_prefix() -> Error {
    Error::invalid(
        "another prefix holds this session's entry (a prefix followed by ':' names the same keys)",
    )
}

impl HazelcastSession {
    /// Attaches to `sid`: adopts the generation of its entry, or creates the entry.
    pub(crate) fn attach(shared: &Arc<Shared>, sid: &SessionId) -> Result<Self> {
        let key = shared.key(sid);
        let op = shared.op(&key);
        let (generation, raw) = match op.get_raw()? {
            Some(raw) => (decode(&raw)?.generation, raw),
            None => {
                let fresh = Doc {
                    generation: new_generation(&shared.namespace),
                    deadline: shared.next_deadline(0),
                    entries: Vec::new(),
                };
                let value = codec::byte_array_data(&fresh.encode());
                let ttl = Shared::ttl_until(fresh.deadline);
                match op.put_if_absent(&value, ttl)? {
                    None => (fresh.generation, value),
                    Some(raw) => (decode(&raw)?.generation, raw),
                }
            }
        };
        if !generation.starts_with(shared.namespace.as_bytes()) {
            return Err(other_prefix());
        }
        let handle = HazelcastSession {
            shared: shared.clone(),
            key,
            generation,
            seen: Mutex::new(Some(raw)),
        };
        if shared.ttl.is_some() {
            // The lease counts from this attach, as the refresher would renew it.
            renew(&op, &handle.generation, Some(&handle.seen))?;
            shared.hold(&handle.key, &handle.generation);
        }
        Ok(handle)
    }

    /// The session's document; `Destroyed` when it is gone or another generation's.
    fn read_doc(&self) -> Result<Doc> {
        let raw = self.shared.op(&self.key).get_raw()?;
        let raw = raw.ok_or_else(Error::destroyed)?;
        let doc = decode(&raw)?;
        if doc.generation != self.generation {
            return Err(Error::destroyed());
        }
        *lock(&self.seen) = Some(raw);
        Ok(doc)
    }

    /// Applies `change` to the document by compare-and-set ([`cas`]).
    fn write<R>(&self, change: impl Fn(&mut Doc) -> (R, bool)) -> Result<R> {
        let op = self.shared.op(&self.key);
        match cas(&op, &self.generation, Some(&self.seen), change)? {
            Cas::Done(result) => Ok(result),
            Cas::Gone => Err(Error::destroyed()),
            Cas::Contended => Err(Error::new(
                ErrorKind::Backend,
                "the session's entry kept changing under this write until timeout_ms passed",
            )),
        }
    }
}

/// How a compare-and-set ended.
enum Cas<R> {
    /// Stored (or nothing to store), with `change`'s result.
    Done(R),
    /// The entry is gone, or of another generation.
    Gone,
    /// Other writers changed the entry under every try until the operation's deadline.
    Contended,
}

/// Applies `change` to the document of the entry of generation `generation` (it answers its
/// result and whether it changed anything: nothing is written when it did not) and stores it
/// with `replaceIfSame` on the bytes it changed, then restores the TTL from the document's
/// lease deadline (this factory's lease from now, with one).
///
/// The bytes changed are first the ones in `seen`, when it holds any, then the entry's as read.
/// A guess only counts when the replace proves it current: a failed replace, or a change that
/// changes nothing (the value may be there only in the guess), reads the entry and tries again.
/// `seen` ends holding what was stored.
fn cas<R>(
    op: &Op,
    generation: &[u8],
    seen: Option<&Seen>,
    change: impl Fn(&mut Doc) -> (R, bool),
) -> Result<Cas<R>> {
    let mut guess = seen.and_then(|seen| lock(seen).take());
    for tries in 0.. {
        if tries > 0 && op.expired() {
            break;
        }
        let (raw, read) = match guess.take() {
            Some(raw) => (raw, false),
            None => match op.get_raw()? {
                Some(raw) => (raw, true),
                None => return Ok(Cas::Gone),
            },
        };
        let mut doc = decode(&raw)?;
        if doc.generation != generation {
            if read {
                return Ok(Cas::Gone);
            }
            continue;
        }
        let (result, changed) = change(&mut doc);
        if !changed {
            if read {
                remember(seen, raw);
                return Ok(Cas::Done(result));
            }
            continue;
        }
        doc.deadline = op.shared.next_deadline(doc.deadline);
        let new = codec::byte_array_data(&doc.encode());
        if op.replace_if_same(&raw, &new)? {
            if doc.deadline != 0 {
                op.set_ttl(Shared::ttl_until(doc.deadline))?;
            }
            remember(seen, new);
            return Ok(Cas::Done(result));
        }
        if read {
            op.back_off(tries);
        }
    }
    Ok(Cas::Contended)
}

/// Keeps `raw` in `seen`, if there is one.
fn remember(seen: Option<&Seen>, raw: Vec<u8>) {
    if let Some(seen) = seen {
        *lock(seen) = Some(raw);
    }
}

impl Drop for HazelcastSession {
    fn drop(&mut self) {
        self.shared.release(&self.key);
    }
}

impl Session for HazelcastSession {
    fn get(&self, key: &str, visit: &mut dyn FnMut(&[u8])) -> Result<bool> {
        let doc = self.read_doc()?;
        Ok(doc.get(key).map(visit).is_some())
    }

    fn set(&self, key: &str, doc: &[u8]) -> Result<()> {
        self.write(|d| {
            let changed = d.get(key) != Some(doc);
            d.set(key, doc);
            ((), changed || self.shared.ttl.is_some())
        })
    }

    fn has(&self, key: &str) -> Result<bool> {
        Ok(self.read_doc()?.get(key).is_some())
    }

    fn del(&self, key: &str) -> Result<bool> {
        self.write(|d| {
            let existed = d.del(key);
            (existed, existed)
        })
    }

    fn len(&self) -> Result<usize> {
        Ok(self.read_doc()?.entries.len())
    }

    fn keys(&self) -> Result<Vec<String>> {
        Ok(self
            .read_doc()?
            .entries
            .into_iter()
            .map(|(k, _)| k)
            .collect())
    }

    fn get_all(&self) -> Result<Vec<(String, Vec<u8>)>> {
        Ok(self.read_doc()?.entries)
    }

    fn set_many(&self, entries: &[(&str, &[u8])]) -> Result<()> {
        self.write(|d| {
            for (key, value) in entries {
                d.set(key, value);
            }
            ((), true)
        })
    }

    fn replace_all(&self, entries: &[(&str, &[u8])]) -> Result<()> {
        self.write(|d| {
            d.entries.clear();
            for (key, value) in entries {
                d.set(key, value);
            }
            ((), true)
        })
    }

    fn destroy(&self) -> Result<()> {
        let op = self.shared.op(&self.key);
        // The bytes last seen first: while nobody else wrote, that is one request.
        if let Some(guess) = lock(&self.seen).take() {
            if op.remove_if_same(&guess)? {
                return Ok(());
            }
        }
        remove_ours(&op, Some(&self.generation))
    }
}

/// Removes the entry `key` when it is of generation `only` (any of this prefix's, with
/// `None`); an entry of another generation or prefix is left alone.
pub(crate) fn destroy_entry(shared: &Shared, key: &str, only: Option<&[u8]>) -> Result<()> {
    remove_ours(&shared.op(key), only)
}

/// [`destroy_entry`] of the entry `op` is on.
fn remove_ours(op: &Op, only: Option<&[u8]>) -> Result<()> {
    for tries in 0.. {
        if tries > 0 && op.expired() {
            break;
        }
        let Some(raw) = op.get_raw()? else {
            return Ok(());
        };
        let Ok(doc) = decode(&raw) else {
            return Ok(());
        };
        let ours = match only {
            Some(generation) => doc.generation == generation,
            None => doc.generation.starts_with(op.shared.namespace.as_bytes()),
        };
        if !ours || op.remove_if_same(&raw)? {
            return Ok(());
        }
        op.back_off(tries);
    }
    Err(Error::new(
        ErrorKind::Backend,
        "the session's entry kept changing under this destroy until timeout_ms passed",
    ))
}

/// Renews the lease of the entry `op` is on (generation `generation`): a full lease from now,
/// in the document and as its TTL; whether it did. An entry gone or of another generation is
/// left alone. `seen` as [`cas`]'s.
fn renew(op: &Op, generation: &[u8], seen: Option<&Seen>) -> Result<bool> {
    Ok(matches!(
        cas(op, generation, seen, |_| ((), true))?,
        Cas::Done(())
    ))
}

/// The refresher's round: renews every held session's lease (errors wait for the next round).
pub(crate) fn renew_held(shared: &Shared) {
    let held: Vec<(String, Vec<u8>)> = crate::backends::lock(&shared.held)
        .iter()
        .map(|(k, (g, _))| (k.clone(), g.clone()))
        .collect();
    for (key, generation) in held {
        if let Ok(true) = renew(&shared.op(&key), &generation, None) {
            shared.renewals.fetch_add(1, Ordering::Relaxed);
        }
    }
    shared.rounds.fetch_add(1, Ordering::Relaxed);
}
