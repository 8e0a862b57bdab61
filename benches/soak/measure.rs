//! What the soak measures of its own process: RSS, fds, live heap, mallinfo2, stalls.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::{Duration, Instant};

pub(crate) fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Open file descriptors of this process (the listing's own descriptor not counted).
pub(crate) fn fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count().saturating_sub(1))
}

/// The bytes this process holds: allocated and not yet freed, by every Rust allocation (the
/// library's included). A leak grows it; an allocator keeping freed memory for reuse, which
/// RSS and `mallinfo2` show, does not.
static LIVE: AtomicI64 = AtomicI64::new(0);

struct Counting;

// SAFETY: every method forwards to the system allocator with the caller's arguments, so it
// keeps GlobalAlloc's contract; the counter is only arithmetic beside it.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract (a non-zero-size layout) is System.alloc's.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size() as i64, Ordering::Relaxed);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for alloc.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size() as i64, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this allocator, i.e. from System, with `layout`.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size() as i64, Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` came from System with `layout`; the caller guarantees `new_size`.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_add(new_size as i64 - layout.size() as i64, Ordering::Relaxed);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

pub(crate) fn live_kib() -> i64 {
    LIVE.load(Ordering::Relaxed) / 1024
}

/// Bytes the allocator has handed out and not had back (glibc's `mallinfo2().uordblks`): a
/// leak grows it; RSS may also grow by what the allocator keeps without a leak.
pub(crate) fn heap_in_use_kib() -> u64 {
    // SAFETY: mallinfo2 takes no arguments, only reads the allocator's counters (under its
    // own locks) and returns them by value.
    let info = unsafe { libc::mallinfo2() };
    (info.uordblks / 1024) as u64
}

/// When this process was not scheduled: a thread sleeping 10 ms at a time notes every wake-up
/// more than 50 ms late, as (from, to). On a machine whose cores other work also uses, a call
/// can take longer than the library's bound without the library doing anything.
pub(crate) struct Heartbeat {
    pub(crate) stalls: std::sync::Mutex<Vec<(Instant, Instant)>>,
}

impl Heartbeat {
    pub(crate) fn run(&self, stop: &AtomicBool) {
        let tick = Duration::from_millis(10);
        while !stop.load(Ordering::Relaxed) {
            let before = Instant::now();
            std::thread::sleep(tick);
            let after = Instant::now();
            if after - before > tick + Duration::from_millis(50) {
                let mut s = self.stalls.lock().unwrap_or_else(|p| p.into_inner());
                if s.len() < 100_000 {
                    s.push((before + tick, after));
                }
            }
        }
    }

    /// How much of `[from, to]` the process spent not scheduled.
    pub(crate) fn overlap(&self, from: Instant, to: Instant) -> Duration {
        let s = self.stalls.lock().unwrap_or_else(|p| p.into_inner());
        s.iter()
            .filter(|(a, b)| *a < to && *b > from)
            .map(|(a, b)| (*b).min(to) - (*a).max(from))
            .sum()
    }
}
