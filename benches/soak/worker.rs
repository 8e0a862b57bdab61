//! A worker thread: random operations on its own sessions, every answer judged by its model.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sessionstore::{Error, ErrorKind, Result, Store, StoreFactory};

use crate::faults::{Timeline, SETTLE};
use crate::model::{make_doc, KeyModel, Tag, Val, Verdict, DATA_KEYS, KEY_NAMES};
use crate::rng::Rng;
use crate::settings::{Settings, Target};
use crate::stats::{Op, Stats};
use crate::{ms, secs};

mod judge;
mod open;

/// Whether a session of the slot's current incarnation exists (its marker acknowledged).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Life {
    None,
    Marked,
}

struct Handle {
    store: Store,
    factory: usize,
    /// The incarnation it attached to; older than the slot's: it must answer "destroyed".
    inc: u32,
}

/// One session id a thread owns, and its model.
struct Slot {
    idx: usize,
    sid: String,
    /// The cluster slot of its hash.
    hslot: u16,
    /// memory: the one factory the session lives in.
    world: Option<usize>,
    inc: u32,
    life: Life,
    keys: Vec<KeyModel>,
    handles: Vec<Handle>,
    seq: u64,
    /// When the last handle was released: (before, after) the release.
    released: Option<(Instant, Instant)>,
    parked_until: Option<Instant>,
    /// When it is next parked.
    park_at: Instant,
    pending_destroy: bool,
    /// Failed destroy_session calls that may still land (on a later incarnation).
    unsettled_destroys: Vec<Instant>,
    destroyed_at: Option<Instant>,
    /// When the current incarnation was last seen alive.
    confirmed: Instant,
    /// When a call on this id last failed with an unknown outcome: an attach or a write that
    /// lands late renews the lease from then.
    last_unknown: Option<Instant>,
}

pub(crate) struct Ctx<'a> {
    pub(crate) s: &'a Settings,
    pub(crate) factories: &'a [StoreFactory],
    pub(crate) tl: &'a Timeline,
    pub(crate) ops_total: &'a AtomicU64,
    pub(crate) stop: &'a AtomicBool,
}

pub(crate) struct Worker<'a> {
    pub(crate) cx: &'a Ctx<'a>,
    pub(crate) t: usize,
    pub(crate) rng: Rng,
    pub(crate) st: Stats,
}

fn cluster_slot(key: &[u8]) -> u16 {
    crc16::State::<crc16::XMODEM>::calculate(key) % 16384
}

impl<'a> Worker<'a> {
    fn since(&self, at: Instant) -> String {
        secs(at - self.cx.tl.t0)
    }

    /// Runs one call, timed; counts it and its error.
    fn call<T>(&mut self, op: Op, f: impl FnOnce() -> Result<T>) -> Result<T> {
        let start = Instant::now();
        let r = f();
        let took = start.elapsed();
        *self.st.ops.entry(op).or_default() += 1;
        self.cx.ops_total.fetch_add(1, Ordering::Relaxed);
        if took > self.st.slowest {
            self.st.slowest = took;
            self.st.slowest_what = format!(
                "{} at t={}{}",
                op.name(),
                self.since(start),
                match &r {
                    Err(e) => format!(" ({:?})", e.kind()),
                    Ok(_) => String::new(),
                }
            );
        }
        if took > self.cx.s.bound() {
            self.st.over_bound += 1;
            if self.st.slow_calls.len() < 200 {
                let kind = r.as_ref().err().map(Error::kind);
                self.st.slow_calls.push((op, start, took, kind));
            }
            let text = format!(
                "t={} thread {}: {} took {} (bound {})",
                self.since(start),
                self.t,
                op.name(),
                ms(took),
                ms(self.cx.s.bound())
            );
            self.st.anomaly(text);
        }
        if let Err(e) = &r {
            let kind = format!("{:?}", e.kind());
            *self.st.errors.entry(kind.clone()).or_default() += 1;
            self.st
                .error_samples
                .entry(kind)
                .or_insert_with(|| format!("{}: {e}", op.name()));
            let quiet = Self::transient(e) && self.cx.tl.note_error(e.kind(), Instant::now());
            if quiet && self.st.quiet_samples.len() < 3 {
                let text = format!("t={} {}: {e}", self.since(start), op.name());
                self.st.quiet_samples.push(text);
            }
            // A host backs off a little when its backend fails (and the model keeps fewer
            // unknown outcomes).
            if Self::transient(e) {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        r
    }

    /// An error of a kind the soak never expects (not a Timeout, Backend or Destroyed).
    fn unexpected(&mut self, op: Op, e: &Error) {
        self.st.unexpected_errors += 1;
        let text = format!(
            "t={} thread {}: {} answered {:?}: {e}",
            self.since(Instant::now()),
            self.t,
            op.name(),
            e.kind()
        );
        self.st.anomaly(text);
    }

    fn transient(e: &Error) -> bool {
        matches!(e.kind(), ErrorKind::Timeout | ErrorKind::Backend)
    }

    fn factory_for(&mut self, slot: &Slot) -> usize {
        slot.world
            .unwrap_or_else(|| self.rng.below(self.cx.factories.len()))
    }

    fn release(&mut self, slot: &mut Slot, j: usize) {
        let h = slot.handles.swap_remove(j);
        let was_current = h.inc == slot.inc;
        let start = Instant::now();
        let _ = self.call(Op::Release, || {
            drop(h);
            Ok(())
        });
        // The lease of the current incarnation runs from the release of its last handle.
        if was_current && !slot.handles.iter().any(|h| h.inc == slot.inc) {
            slot.released = Some((start, Instant::now()));
        }
    }

    fn release_all(&mut self, slot: &mut Slot) {
        while !slot.handles.is_empty() {
            let last = slot.handles.len() - 1;
            self.release(slot, last);
        }
    }

    /// The incarnation ends (destroyed, lost): its handles are stale from now on.
    fn end_of_life(&mut self, slot: &mut Slot) {
        slot.inc += 1;
        slot.life = Life::None;
        let now = Instant::now();
        for k in &mut slot.keys {
            *k = KeyModel::new(now);
        }
    }

    /// The session answered "destroyed" though nobody destroyed it.
    fn lost(&mut self, slot: &mut Slot, op: Op) {
        let now = Instant::now();
        self.cx.tl.note_lost(now);
        if self.cx.tl.explains_loss(slot.confirmed, self.cx.s.ttl) {
            self.st.lost_explained += 1;
        } else {
            self.st.lost_unexplained += 1;
            let text = format!(
                "t={} thread {} session {}: {} answered Destroyed with no fault to explain it \
                 (last seen alive at t={})",
                self.since(now),
                self.t,
                slot.sid,
                op.name(),
                self.since(slot.confirmed)
            );
            self.st.anomaly(text);
        }
        self.release_all(slot);
        self.end_of_life(slot);
    }

    fn next_tag(&self, slot: &mut Slot, k: usize) -> Tag {
        slot.seq += 1;
        Tag {
            thread: self.t,
            slot: slot.idx,
            inc: slot.inc,
            key: k,
            seq: slot.seq,
        }
    }

    // ---- destroying

    fn destroyed(&mut self, slot: &mut Slot) {
        self.end_of_life(slot);
        slot.destroyed_at = Some(Instant::now());
    }

    fn destroy_session(&mut self, slot: &mut Slot) {
        let f = self.factory_for(slot);
        let sid = slot.sid.clone();
        let cx = self.cx;
        let factory = &cx.factories[f];
        match self.call(Op::DestroySession, || factory.destroy_session(&sid)) {
            Ok(()) => {
                self.destroyed(slot);
                if slot.pending_destroy {
                    slot.pending_destroy = false;
                }
                // A failed destroy_session that lands later would delete a newer incarnation:
                // the id waits until they all settled.
                if !slot.unsettled_destroys.is_empty() {
                    self.release_all(slot);
                    slot.parked_until = Some(Instant::now() + SETTLE);
                }
            }
            Err(e) => {
                if !Self::transient(&e) {
                    self.unexpected(Op::DestroySession, &e);
                }
                slot.unsettled_destroys.push(Instant::now());
                self.release_all(slot);
                slot.pending_destroy = true;
            }
        }
    }

    // ---- one random step

    fn step(&mut self, slots: &mut [Slot]) {
        let now = Instant::now();
        let i = self.rng.below(slots.len());
        let slot = &mut slots[i];
        if let Some(until) = slot.parked_until {
            if now < until {
                return;
            }
            let tl = self.cx.tl;
            if slot.unsettled_destroys.iter().any(|&f| !tl.settled(f, now)) {
                slot.parked_until = Some(now + Duration::from_millis(500));
                return;
            }
            slot.unsettled_destroys.clear();
            slot.parked_until = None;
        }
        if slot.pending_destroy {
            self.destroy_session(slot);
            return;
        }
        if slot.handles.is_empty() {
            let f = self.factory_for(slot);
            self.open(slot, f);
            return;
        }
        let j = self.rng.below(slot.handles.len());
        if Instant::now() >= slot.park_at {
            // Park the id: released for less than the lease, around it, or past it.
            self.release_all(slot);
            let pause = match self.rng.below(10) {
                0..=3 => self.rng.millis(100, 1500),
                4..=6 => self.rng.millis(2500, 6500),
                _ => self.rng.millis(7000, 9000),
            };
            let now = Instant::now();
            slot.parked_until = Some(now + pause);
            slot.park_at = now + pause + self.rng.millis(5000, 25000);
            return;
        }
        // Per mille.
        match self.rng.below(1000) {
            0..=259 => self.op_get(slot, j),
            260..=459 => self.op_set(slot, j),
            460..=539 => self.op_has(slot, j),
            540..=599 => self.op_del(slot, j),
            600..=639 => self.op_len(slot, j),
            640..=679 => self.op_keys(slot, j),
            680..=729 => self.op_get_all(slot, j),
            730..=799 => self.op_set_many(slot, j),
            800..=839 => {
                if slot.handles.len() < 3 {
                    let f = match slot.world {
                        Some(w) => w,
                        // The other node, mostly.
                        None if self.rng.below(4) > 0 => {
                            (slot.handles[j].factory + 1) % self.cx.factories.len()
                        }
                        None => slot.handles[j].factory,
                    };
                    self.open(slot, f);
                }
            }
            840..=869 => self.release(slot, j),
            870..=879 => self.op_destroy(slot, j),
            880..=884 => self.destroy_session(slot),
            885..=904 => {
                // Re-open the same id at once.
                self.release_all(slot);
                let f = self.factory_for(slot);
                self.open(slot, f);
            }
            _ => self.op_get(slot, j),
        }
    }

    /// The outcome of a call through handle `j`, common to every operation: `Some(value)` to
    /// judge; `None` when it failed (and was dealt with). A stale handle must answer Destroyed.
    fn through<T>(
        &mut self,
        slot: &mut Slot,
        j: usize,
        op: Op,
        f: impl FnOnce(&Store) -> Result<T>,
    ) -> Option<T> {
        let stale = slot.handles[j].inc != slot.inc;
        let store = &slot.handles[j].store;
        let r = self.call(op, || f(store));
        match r {
            Ok(_) if stale => {
                let what = format!(
                    "a handle on incarnation {} (the session was destroyed or lost since) \
                     answered a success",
                    slot.handles[j].inc
                );
                let reverted = slot.destroyed_at.is_some_and(|d| self.risk(slot, d));
                let v = if reverted {
                    Verdict::Reverted
                } else {
                    Verdict::Stale
                };
                self.verdict(v, slot, op, what);
                self.release(slot, j);
                None
            }
            Ok(v) => {
                slot.confirmed = Instant::now();
                Some(v)
            }
            Err(e) if e.kind() == ErrorKind::Destroyed && stale => {
                self.st.destroyed_expected += 1;
                self.release(slot, j);
                None
            }
            Err(e) if e.kind() == ErrorKind::Destroyed => {
                self.lost(slot, op);
                None
            }
            Err(e) => {
                slot.last_unknown = Some(Instant::now());
                if !Self::transient(&e) {
                    self.unexpected(op, &e);
                }
                None
            }
        }
    }

    fn op_get(&mut self, slot: &mut Slot, j: usize) {
        let k = self.rng.below(KEY_NAMES.len());
        if let Some(doc) = self.through(slot, j, Op::Get, |s| s.get(KEY_NAMES[k])) {
            self.check_doc(slot, Op::Get, k, doc.as_deref());
        }
    }

    fn op_set(&mut self, slot: &mut Slot, j: usize) {
        let k = self.rng.below(DATA_KEYS);
        let tag = self.next_tag(slot, k);
        let doc = make_doc(tag);
        let current = slot.handles[j].inc == slot.inc;
        let issued = Instant::now();
        let r = self.through(slot, j, Op::Set, |s| s.set(KEY_NAMES[k], &doc));
        if !current || slot.inc != tag.inc {
            return;
        }
        match r {
            Some(()) => slot.keys[k].ack(Val::Seq(tag.seq), issued, self.cx.tl),
            None => slot.keys[k].unknown(Val::Seq(tag.seq)),
        }
    }

    fn op_has(&mut self, slot: &mut Slot, j: usize) {
        let k = self.rng.below(KEY_NAMES.len());
        if let Some(present) = self.through(slot, j, Op::Has, |s| s.has(KEY_NAMES[k])) {
            self.check_presence(slot, Op::Has, k, present);
        }
    }

    fn op_del(&mut self, slot: &mut Slot, j: usize) {
        let k = self.rng.below(DATA_KEYS);
        let inc = slot.inc;
        let current = slot.handles[j].inc == inc;
        let issued = Instant::now();
        let r = self.through(slot, j, Op::Del, |s| s.del(KEY_NAMES[k]));
        if !current || slot.inc != inc {
            return;
        }
        match r {
            Some(existed) => {
                self.check_presence(slot, Op::Del, k, existed);
                slot.keys[k].ack(Val::Absent, issued, self.cx.tl);
            }
            None => slot.keys[k].unknown(Val::Absent),
        }
    }

    fn op_len(&mut self, slot: &mut Slot, j: usize) {
        if let Some(n) = self.through(slot, j, Op::Len, Store::len) {
            let min = slot.keys.iter().filter(|k| !k.can_be(false)).count();
            let max = slot.keys.iter().filter(|k| k.can_be(true)).count();
            let risky = (0..KEY_NAMES.len()).any(|k| self.risk(slot, slot.keys[k].acked_at));
            let v = if (min..=max).contains(&n) {
                Verdict::Ok
            } else if risky {
                Verdict::Reverted
            } else {
                Verdict::Stale
            };
            self.verdict(
                v,
                slot,
                Op::Len,
                format!("len {n}, the model allows {min}..={max}"),
            );
        }
    }

    fn op_keys(&mut self, slot: &mut Slot, j: usize) {
        if let Some(keys) = self.through(slot, j, Op::Keys, Store::keys) {
            let mut present = [false; 9];
            for name in &keys {
                match KEY_NAMES.iter().position(|k| k == name) {
                    Some(k) if !present[k] => present[k] = true,
                    _ => {
                        let what = format!("key {name:?} among {keys:?}");
                        self.foreign(slot, Op::Keys, what);
                        return;
                    }
                }
            }
            for (k, &p) in present.iter().enumerate() {
                self.check_presence(slot, Op::Keys, k, p);
            }
        }
    }

    fn op_get_all(&mut self, slot: &mut Slot, j: usize) {
        if let Some(all) = self.through(slot, j, Op::GetAll, Store::get_all) {
            let mut docs: [Option<&[u8]>; 9] = [None; 9];
            for (name, doc) in &all {
                match KEY_NAMES.iter().position(|k| k == name) {
                    Some(k) if docs[k].is_none() => docs[k] = Some(doc),
                    _ => {
                        let what = format!("key {name:?} in get_all");
                        self.foreign(slot, Op::GetAll, what);
                        return;
                    }
                }
            }
            for (k, doc) in docs.iter().enumerate() {
                self.check_doc(slot, Op::GetAll, k, *doc);
            }
        }
    }

    fn op_set_many(&mut self, slot: &mut Slot, j: usize) {
        let n = 2 + self.rng.below(3);
        let mut ks: Vec<usize> = Vec::new();
        while ks.len() < n {
            let k = self.rng.below(DATA_KEYS);
            if !ks.contains(&k) {
                ks.push(k);
            }
        }
        let tags: Vec<Tag> = ks.iter().map(|&k| self.next_tag(slot, k)).collect();
        let docs: Vec<Vec<u8>> = tags.iter().map(|&t| make_doc(t)).collect();
        let entries: Vec<(&str, &[u8])> = ks
            .iter()
            .zip(&docs)
            .map(|(&k, d)| (KEY_NAMES[k], d.as_slice()))
            .collect();
        let inc = slot.inc;
        let current = slot.handles[j].inc == inc;
        let issued = Instant::now();
        let r = self.through(slot, j, Op::SetMany, |s| s.set_many(&entries));
        if !current || slot.inc != inc {
            return;
        }
        for (&k, t) in ks.iter().zip(&tags) {
            match r {
                Some(()) => slot.keys[k].ack(Val::Seq(t.seq), issued, self.cx.tl),
                None => slot.keys[k].unknown(Val::Seq(t.seq)),
            }
        }
    }

    fn op_destroy(&mut self, slot: &mut Slot, j: usize) {
        let stale = slot.handles[j].inc != slot.inc;
        let store = &slot.handles[j].store;
        match self.call(Op::Destroy, || store.destroy()) {
            Ok(()) if stale => {
                // Destroying a destroyed session succeeds and must not touch the newer one.
                self.release(slot, j);
            }
            Ok(()) => {
                self.release(slot, j);
                // The other handles stay open: they must answer Destroyed from now on.
                self.destroyed(slot);
            }
            Err(e) => {
                if !Self::transient(&e) {
                    self.unexpected(Op::Destroy, &e);
                }
                if !stale {
                    self.release_all(slot);
                    slot.pending_destroy = true;
                }
            }
        }
    }

    pub(crate) fn run(mut self) -> Stats {
        let s = self.cx.s;
        let now = Instant::now();
        let mut rng = Rng::new(self.rng.next());
        let mut slots: Vec<Slot> = (0..s.sessions)
            .map(|i| {
                let sid = format!("soak-{}-t{}-s{i}", std::process::id(), self.t);
                let prefix = format!("soak{}", std::process::id());
                Slot {
                    idx: i,
                    hslot: cluster_slot(format!("{prefix}:{sid}").as_bytes()),
                    sid,
                    world: (s.target == Target::Memory)
                        .then_some((self.t + i) % self.cx.factories.len()),
                    inc: 0,
                    life: Life::None,
                    keys: (0..KEY_NAMES.len()).map(|_| KeyModel::new(now)).collect(),
                    handles: Vec::new(),
                    seq: 0,
                    released: None,
                    parked_until: None,
                    park_at: now + rng.millis(5000, 25000),
                    pending_destroy: false,
                    unsettled_destroys: Vec::new(),
                    destroyed_at: None,
                    confirmed: now,
                    last_unknown: None,
                }
            })
            .collect();
        while !self.cx.stop.load(Ordering::Relaxed) {
            self.step(&mut slots);
            if !s.pause.is_zero() {
                std::thread::sleep(s.pause);
            }
        }
        for slot in &mut slots {
            slot.handles.clear();
        }
        self.st
    }
}
