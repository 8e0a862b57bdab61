//! The progress line of a long scan, on stderr: shown only once a scan has run for a second
//! (a quick one never flickers), only when stderr is a terminal (indicatif's own rule), and
//! cleared when the scan ends, so stdout stays what a script reads.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sessionstore::admin::ScanProgress;

use crate::output::count;

/// How long a scan runs before its progress shows.
const SHOW_AFTER: Duration = Duration::from_secs(1);

/// A scan's progress line.
pub struct Progress {
    bar: ProgressBar,
    /// Set when the scan ended, under the lock the timer takes to show the bar, so a bar is
    /// never shown after it was cleared.
    ended: Arc<Mutex<bool>>,
}

impl Progress {
    /// Starts timing a scan of `url`; the line shows after [`SHOW_AFTER`].
    pub fn start(url: &str) -> Progress {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        let style = ProgressStyle::with_template("{spinner} scanning {prefix} [{elapsed}] {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        bar.set_style(style);
        bar.set_prefix(url.to_owned());
        bar.set_message("0 sessions");
        let ended = Arc::new(Mutex::new(false));
        let (timer_bar, timer_ended) = (bar.clone(), ended.clone());
        // If the thread cannot start, the scan simply shows no progress.
        let _ = std::thread::Builder::new()
            .name("progress".into())
            .spawn(move || {
                std::thread::sleep(SHOW_AFTER);
                let ended = timer_ended.lock().unwrap_or_else(|p| p.into_inner());
                if !*ended {
                    timer_bar.set_draw_target(ProgressDrawTarget::stderr());
                    timer_bar.enable_steady_tick(Duration::from_millis(120));
                }
            });
        Progress { bar, ended }
    }

    /// Shows how far the scan got.
    pub fn update(&self, p: &ScanProgress) {
        let servers = if p.servers > 1 {
            format!(", {}/{} masters done", p.servers_done, p.servers)
        } else {
            String::new()
        };
        self.bar.set_message(format!(
            "{} sessions, {} keys matched{servers}",
            count(p.sessions),
            count(p.keys_scanned)
        ));
    }

    /// Clears the line (if it showed) before the results are printed.
    pub fn finish(self) {
        *self.ended.lock().unwrap_or_else(|p| p.into_inner()) = true;
        self.bar.finish_and_clear();
    }
}
