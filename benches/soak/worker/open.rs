//! How a worker opens a handle: which incarnation it reached, what the lease let it expect.

use std::time::{Duration, Instant};

use sessionstore::ErrorKind;

use crate::faults::SETTLE;
use crate::model::{make_doc, parse_doc, Val, Verdict, KEY_NAMES, MARKER};
use crate::secs;
use crate::settings::Target;
use crate::stats::Op;

use super::{Handle, Life, Slot, Worker};

impl Worker<'_> {
    /// Opens a handle on the slot from factory `f` and finds which incarnation it reached.
    pub(super) fn open(&mut self, slot: &mut Slot, f: usize) {
        let s = self.cx.s;
        let current_open = slot.handles.iter().any(|h| h.inc == slot.inc);
        let start = Instant::now();
        let sid = slot.sid.clone();
        let cx = self.cx;
        let factory = &cx.factories[f];
        let store = match self.call(Op::Open, || factory.create_store(&sid)) {
            Ok(store) => store,
            Err(e) => {
                slot.last_unknown = Some(Instant::now());
                if !Self::transient(&e) {
                    self.unexpected(Op::Open, &e);
                }
                return;
            }
        };
        let done = Instant::now();
        // What the open should find.
        #[derive(PartialEq, Debug)]
        enum Expect {
            Absent,
            Present,
            Either,
        }
        let mut lease_case = false;
        let expect = if slot.life == Life::None {
            Expect::Absent
        } else if current_open {
            if self.cx.tl.explains_loss(slot.confirmed, s.ttl) {
                Expect::Either
            } else {
                Expect::Present
            }
        } else if s.target != Target::Memory && !slot.handles.is_empty() {
            // Stale handles renew the id's lease on Redis (on memory they hold a dead cell).
            Expect::Either
        } else if let Some((rel_start, rel_done)) = slot.released {
            lease_case = true;
            let gap_min = start.saturating_duration_since(rel_done);
            let gap_max = done.saturating_duration_since(rel_start);
            let from = rel_start.checked_sub(s.ttl).unwrap_or(rel_start);
            let disturbed = self.cx.tl.disturbed(from, done);
            if s.target == Target::Memory {
                if gap_min >= s.ttl {
                    Expect::Absent
                } else if gap_max < s.ttl {
                    Expect::Present
                } else {
                    Expect::Either
                }
            } else if disturbed {
                Expect::Either
            } else if start
                > (rel_done + s.timeout + Duration::from_secs(1))
                    .max(slot.last_unknown.map_or(rel_done, |u| u + SETTLE))
                    + s.ttl
            {
                // Past the last renewal a refresher round in flight, or an attach or write
                // of unknown outcome landing late, could have made.
                Expect::Absent
            } else if gap_max + s.period() + Duration::from_secs(1) < s.ttl {
                Expect::Present
            } else {
                Expect::Either
            }
        } else {
            Expect::Either
        };
        let handle = Handle {
            store,
            factory: f,
            inc: slot.inc,
        };
        let marker = self.call(Op::Get, || handle.store.get(KEY_NAMES[MARKER]));
        match marker {
            Err(e) if e.kind() == ErrorKind::Destroyed => {
                // Gone between the attach and the read: a loss (or a lease running out).
                drop(handle);
                if slot.life == Life::Marked {
                    self.lost(slot, Op::Get);
                } else if self.cx.tl.explains_loss(start, s.ttl) {
                    // The session this open created went: on a cluster, created by a master
                    // that had just been deposed, whose writes its successor never saw.
                    self.cx.tl.note_lost(Instant::now());
                    self.st.lost_explained += 1;
                } else {
                    self.unexpected(Op::Get, &e);
                }
            }
            Err(e) => {
                if !Self::transient(&e) {
                    self.unexpected(Op::Get, &e);
                }
                drop(handle);
            }
            Ok(None) => {
                self.st.reads_checked += 1;
                if slot.life == Life::Marked {
                    match expect {
                        Expect::Absent => self.st.lease_expired_due += 1,
                        Expect::Either => {
                            if lease_case {
                                self.st.lease_either += 1;
                            } else {
                                self.cx.tl.note_lost(Instant::now());
                                self.st.lost_explained += 1;
                            }
                        }
                        Expect::Present => {
                            self.st.lost_unexplained += 1;
                            let text = format!(
                                "t={} thread {} session {}: re-opened {} after its release \
                                 (lease {}), found empty",
                                self.since(start),
                                self.t,
                                slot.sid,
                                slot.released.map_or("-".into(), |r| secs(start - r.1)),
                                secs(s.ttl)
                            );
                            self.st.anomaly(text);
                        }
                    }
                    self.end_of_life(slot);
                }
                self.create(slot, handle);
            }
            Ok(Some(doc)) => match parse_doc(&doc) {
                Some(tag)
                    if tag.thread == self.t
                        && tag.slot == slot.idx
                        && tag.key == MARKER
                        && tag.inc == slot.inc
                        && slot.life == Life::Marked =>
                {
                    if expect == Expect::Absent {
                        self.st.lease_kept_past_due += 1;
                        let text = format!(
                            "t={} thread {} session {}: re-opened {} after its release, past \
                             its lease ({}), still there",
                            self.since(start),
                            self.t,
                            slot.sid,
                            slot.released.map_or("-".into(), |r| secs(start - r.1)),
                            secs(s.ttl)
                        );
                        self.st.anomaly(text);
                    } else if lease_case {
                        if expect == Expect::Present {
                            self.st.lease_kept_due += 1;
                        } else {
                            self.st.lease_either += 1;
                        }
                    }
                    self.check_doc(slot, Op::Get, MARKER, Some(&doc));
                    slot.confirmed = Instant::now();
                    slot.handles.push(handle);
                    slot.released = None;
                }
                Some(tag)
                    if tag.thread == self.t
                        && tag.slot == slot.idx
                        && tag.key == MARKER
                        && tag.inc < slot.inc =>
                {
                    // An older incarnation came back.
                    if slot.destroyed_at.is_some_and(|d| self.risk(slot, d)) {
                        self.st.reverted += 1;
                    } else {
                        let what = format!("the marker of incarnation {} is back", tag.inc);
                        self.verdict(Verdict::Stale, slot, Op::Open, what);
                    }
                    drop(handle);
                    self.release_all(slot);
                    slot.pending_destroy = true;
                }
                other => {
                    let what = format!("marker: {other:?}");
                    self.foreign(slot, Op::Open, what);
                    drop(handle);
                }
            },
        }
    }

    /// The handle found no session: start incarnation `slot.inc` by writing its marker.
    fn create(&mut self, slot: &mut Slot, mut handle: Handle) {
        handle.inc = slot.inc;
        let tag = self.next_tag(slot, MARKER);
        let doc = make_doc(tag);
        let issued = Instant::now();
        match self.call(Op::Set, || handle.store.set(KEY_NAMES[MARKER], &doc)) {
            Ok(()) => {
                slot.life = Life::Marked;
                slot.keys[MARKER].ack(Val::Seq(tag.seq), issued, self.cx.tl);
                slot.confirmed = Instant::now();
                slot.handles.push(handle);
                slot.released = None;
            }
            Err(e) => {
                if !Self::transient(&e) && e.kind() != ErrorKind::Destroyed {
                    self.unexpected(Op::Set, &e);
                }
                // The session exists, its marker maybe: destroy it to know where we stand.
                drop(handle);
                self.release_all(slot);
                slot.pending_destroy = true;
            }
        }
    }
}
