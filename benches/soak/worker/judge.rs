//! How a worker judges a read against its model: ok, landed, reverted, stale or foreign.

use std::time::Instant;

use crate::model::{parse_doc, Val, Verdict, KEY_NAMES};
use crate::settings::Target;
use crate::stats::Op;

use super::{Slot, Worker};

impl Worker<'_> {
    pub(super) fn risk(&self, slot: &Slot, acked_at: Instant) -> bool {
        self.cx.s.target == Target::Cluster && self.cx.tl.at_risk(slot.hslot, acked_at)
    }

    pub(super) fn verdict(&mut self, v: Verdict, slot: &Slot, op: Op, what: String) {
        self.st.reads_checked += 1;
        match v {
            Verdict::Ok => {}
            Verdict::Landed => self.st.landed += 1,
            Verdict::Reverted => self.st.reverted += 1,
            Verdict::Stale => {
                self.st.stale += 1;
                let text = format!(
                    "t={} thread {} session {} inc {}: STALE {}: {what}",
                    self.since(Instant::now()),
                    self.t,
                    slot.sid,
                    slot.inc,
                    op.name()
                );
                self.st.anomaly(text);
            }
        }
    }

    pub(super) fn foreign(&mut self, slot: &Slot, op: Op, what: String) {
        self.st.foreign += 1;
        let text = format!(
            "t={} thread {} session {} inc {}: FOREIGN {}: {what}",
            self.since(Instant::now()),
            self.t,
            slot.sid,
            slot.inc,
            op.name()
        );
        self.st.anomaly(text);
    }

    /// Judges a document read for key `k` through a handle on incarnation `inc`.
    pub(super) fn check_doc(&mut self, slot: &mut Slot, op: Op, k: usize, doc: Option<&[u8]>) {
        let read = match doc {
            None => Val::Absent,
            Some(doc) => match parse_doc(doc) {
                Some(tag) if tag.thread == self.t && tag.slot == slot.idx && tag.key == k => {
                    if tag.inc == slot.inc {
                        Val::Seq(tag.seq)
                    } else if tag.inc < slot.inc
                        && slot.destroyed_at.is_some_and(|d| self.risk(slot, d))
                    {
                        self.st.reads_checked += 1;
                        self.st.reverted += 1;
                        return;
                    } else {
                        let what = format!(
                            "{}: a value of incarnation {} ({tag:?})",
                            KEY_NAMES[k], tag.inc
                        );
                        if tag.inc < slot.inc {
                            self.verdict(Verdict::Stale, slot, op, what);
                        } else {
                            self.foreign(slot, op, what);
                        }
                        return;
                    }
                }
                Some(tag) => {
                    let what = format!("{}: {tag:?}", KEY_NAMES[k]);
                    self.foreign(slot, op, what);
                    return;
                }
                None => {
                    let what = format!(
                        "{}: not one of ours or corrupt: {:?}",
                        KEY_NAMES[k],
                        String::from_utf8_lossy(&doc[..doc.len().min(60)])
                    );
                    self.foreign(slot, op, what);
                    return;
                }
            },
        };
        let risk = self.risk(slot, slot.keys[k].acked_at);
        let model = &mut slot.keys[k];
        let before = (model.acked, model.maybe.len());
        let v = model.judge(read, risk);
        let what = format!(
            "{}: read {read:?}, acknowledged {:?} at t={}, {} unknown outcome(s)",
            KEY_NAMES[k],
            before.0,
            self.since(model.acked_at),
            before.1
        );
        self.verdict(v, slot, op, what);
    }

    pub(super) fn check_presence(&mut self, slot: &mut Slot, op: Op, k: usize, present: bool) {
        let risk = self.risk(slot, slot.keys[k].acked_at);
        let v = slot.keys[k].judge_presence(present, risk);
        let what = format!(
            "{}: present={present}, acknowledged {:?}",
            KEY_NAMES[k], slot.keys[k].acked
        );
        self.verdict(v, slot, op, what);
    }
}
