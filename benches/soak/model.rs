//! The model of a session's keys: values that name their writer, a verdict on every read.

use std::time::Instant;

use sessionstore::value;

use crate::faults::Timeline;

pub(crate) const KEY_NAMES: [&str; 9] = ["k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "m"];
/// The data keys; the last name is the session's marker, written when the thread creates the
/// session, never deleted: which incarnation a freshly opened handle found.
pub(crate) const DATA_KEYS: usize = 8;
pub(crate) const MARKER: usize = 8;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Tag {
    pub(crate) thread: usize,
    pub(crate) slot: usize,
    pub(crate) inc: u32,
    pub(crate) key: usize,
    pub(crate) seq: u64,
}

fn padding(seq: u64) -> (usize, u8) {
    (
        (seq.wrapping_mul(7919) % 600) as usize,
        b'a' + (seq % 26) as u8,
    )
}

pub(crate) fn make_doc(tag: Tag) -> Vec<u8> {
    let (len, c) = padding(tag.seq);
    let mut text = format!(
        "{}.{}.{}.{}.{}:",
        tag.thread, tag.slot, tag.inc, tag.key, tag.seq
    );
    text.extend(std::iter::repeat_n(c as char, len));
    value::encode_str(&text)
}

/// The tag of a stored document; `None` when it is not one of ours or is corrupt.
pub(crate) fn parse_doc(doc: &[u8]) -> Option<Tag> {
    let (text, rest) = rmp::decode::read_str_from_slice(doc).ok()?;
    if !rest.is_empty() {
        return None;
    }
    let (head, pad) = text.split_once(':')?;
    let mut f = head.split('.');
    let tag = Tag {
        thread: f.next()?.parse().ok()?,
        slot: f.next()?.parse().ok()?,
        inc: f.next()?.parse().ok()?,
        key: f.next()?.parse().ok()?,
        seq: f.next()?.parse().ok()?,
    };
    let (len, c) = padding(tag.seq);
    if f.next().is_some() || pad.len() != len || pad.bytes().any(|b| b != c) {
        return None;
    }
    Some(tag)
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Val {
    Absent,
    Seq(u64),
}

impl Val {
    fn present(self) -> bool {
        self != Val::Absent
    }
}

pub(crate) struct KeyModel {
    /// The last acknowledged state (or the last one read, after an unknown outcome landed).
    pub(crate) acked: Val,
    pub(crate) acked_at: Instant,
    /// Operations whose outcome is unknown, with when they failed.
    pub(crate) maybe: Vec<(Val, Instant)>,
}

pub(crate) enum Verdict {
    Ok,
    /// An operation of unknown outcome had run.
    Landed,
    /// Lost by a cluster failover (see [`Timeline::at_risk`]).
    Reverted,
    Stale,
}

impl KeyModel {
    pub(crate) fn new(now: Instant) -> KeyModel {
        KeyModel {
            acked: Val::Absent,
            acked_at: now,
            maybe: Vec::new(),
        }
    }

    pub(crate) fn can_be(&self, present: bool) -> bool {
        self.acked.present() == present || self.maybe.iter().any(|(v, _)| v.present() == present)
    }

    pub(crate) fn ack(&mut self, v: Val, issued: Instant, tl: &Timeline) {
        self.acked = v;
        self.acked_at = Instant::now();
        // What had settled before this write was issued can no longer land after it.
        if !self.maybe.is_empty() {
            self.maybe
                .retain(|(_, failed)| !tl.settled(*failed, issued));
            if self.maybe.is_empty() {
                self.maybe = Vec::new();
            }
        }
    }

    pub(crate) fn unknown(&mut self, v: Val) {
        self.maybe.push((v, Instant::now()));
    }

    pub(crate) fn judge(&mut self, read: Val, risk: bool) -> Verdict {
        if read == self.acked {
            return Verdict::Ok;
        }
        if let Some(i) = self.maybe.iter().position(|(v, _)| *v == read) {
            // A request runs at most once: a value that landed cannot land again.
            self.maybe.swap_remove(i);
            self.acked = read;
            self.acked_at = Instant::now();
            return Verdict::Landed;
        }
        if risk {
            self.acked = read;
            self.acked_at = Instant::now();
            return Verdict::Reverted;
        }
        Verdict::Stale
    }

    pub(crate) fn judge_presence(&self, present: bool, risk: bool) -> Verdict {
        if self.acked.present() == present {
            Verdict::Ok
        } else if self.can_be(present) {
            Verdict::Landed
        } else if risk {
            Verdict::Reverted
        } else {
            Verdict::Stale
        }
    }
}
