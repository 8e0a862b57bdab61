//! What one worker thread counted (operations, errors, verdicts, slow calls), merged at the end.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use sessionstore::ErrorKind;

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub(crate) enum Op {
    Open,
    Get,
    Set,
    Has,
    Del,
    Len,
    Keys,
    GetAll,
    SetMany,
    Destroy,
    DestroySession,
    Release,
}

pub(crate) const OPS: [Op; 12] = [
    Op::Open,
    Op::Get,
    Op::Set,
    Op::Has,
    Op::Del,
    Op::Len,
    Op::Keys,
    Op::GetAll,
    Op::SetMany,
    Op::Destroy,
    Op::DestroySession,
    Op::Release,
];

impl Op {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Op::Open => "open",
            Op::Get => "get",
            Op::Set => "set",
            Op::Has => "has",
            Op::Del => "del",
            Op::Len => "len",
            Op::Keys => "keys",
            Op::GetAll => "get_all",
            Op::SetMany => "set_many",
            Op::Destroy => "destroy",
            Op::DestroySession => "destroy_session",
            Op::Release => "release",
        }
    }
}

#[derive(Default)]
pub(crate) struct Stats {
    pub(crate) ops: BTreeMap<Op, u64>,
    pub(crate) errors: BTreeMap<String, u64>,
    pub(crate) error_samples: BTreeMap<String, String>,
    pub(crate) slowest: Duration,
    pub(crate) slowest_what: String,
    pub(crate) over_bound: u64,
    pub(crate) reads_checked: u64,
    pub(crate) foreign: u64,
    pub(crate) stale: u64,
    pub(crate) reverted: u64,
    pub(crate) landed: u64,
    pub(crate) destroyed_expected: u64,
    pub(crate) lost_explained: u64,
    pub(crate) lost_unexplained: u64,
    pub(crate) lease_expired_due: u64,
    pub(crate) lease_kept_due: u64,
    pub(crate) lease_kept_past_due: u64,
    pub(crate) lease_either: u64,
    pub(crate) unexpected_errors: u64,
    pub(crate) anomalies: Vec<String>,
    pub(crate) quiet_samples: Vec<String>,
    /// Calls over the bound: (operation, start, duration, error kind if it failed).
    pub(crate) slow_calls: Vec<(Op, Instant, Duration, Option<ErrorKind>)>,
}

impl Stats {
    pub(crate) fn merge(&mut self, o: Stats) {
        for (k, v) in o.ops {
            *self.ops.entry(k).or_default() += v;
        }
        for (k, v) in o.errors {
            *self.errors.entry(k).or_default() += v;
        }
        for (k, v) in o.error_samples {
            self.error_samples.entry(k).or_insert(v);
        }
        if o.slowest > self.slowest {
            self.slowest = o.slowest;
            self.slowest_what = o.slowest_what;
        }
        self.over_bound += o.over_bound;
        self.reads_checked += o.reads_checked;
        self.foreign += o.foreign;
        self.stale += o.stale;
        self.reverted += o.reverted;
        self.landed += o.landed;
        self.destroyed_expected += o.destroyed_expected;
        self.lost_explained += o.lost_explained;
        self.lost_unexplained += o.lost_unexplained;
        self.lease_expired_due += o.lease_expired_due;
        self.lease_kept_due += o.lease_kept_due;
        self.lease_kept_past_due += o.lease_kept_past_due;
        self.lease_either += o.lease_either;
        self.unexpected_errors += o.unexpected_errors;
        for c in o.slow_calls {
            if self.slow_calls.len() < 400 {
                self.slow_calls.push(c);
            }
        }
        for q in o.quiet_samples {
            if self.quiet_samples.len() < 12 {
                self.quiet_samples.push(q);
            }
        }
        for a in o.anomalies {
            if self.anomalies.len() < 40 {
                self.anomalies.push(a);
            }
        }
    }

    pub(crate) fn anomaly(&mut self, text: String) {
        if self.anomalies.len() < 10 {
            self.anomalies.push(text);
        }
    }
}
