//! A progress line on stderr while packing, only when stderr is a terminal.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Whether to show progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Progress {
    /// On stderr if it is a terminal; silent otherwise (logs, pipes, tests).
    #[default]
    Auto,
    Never,
}

pub(super) struct Meter {
    bar: Option<ProgressBar>,
    entries: u64,
}

impl Meter {
    pub fn new(mode: Progress) -> Self {
        let bar = (mode == Progress::Auto && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template(
                "{spinner} packing rootfs: {msg} entries, {bytes} read ({bytes_per_sec}), {elapsed}",
            ) {
                bar.set_style(style);
            }
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Self { bar, entries: 0 }
    }

    pub fn entry(&mut self) {
        self.entries += 1;
        if let Some(bar) = &self.bar {
            // Formatting a message per entry would cost more than small files take to pack.
            if self.entries % 64 == 1 {
                bar.set_message(self.entries.to_string());
            }
        }
    }

    pub fn bytes(&self, n: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(n);
        }
    }

    pub fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}
