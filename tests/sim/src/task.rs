//! Output plumbing that mirrors how Proxmox CLI commands print.
//!
//! Task commands (create, start, stop, shutdown, destroy) run as a synchronous worker: whatever
//! the worker writes to stdout *or* stderr appears on the command's stdout, and a failure is
//! printed as one line on stderr (`TASK ERROR: ...` without the prefix) with exit status 255.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::SimResult;

static IN_WORKER: AtomicBool = AtomicBool::new(false);

/// Perl's `warn`: stderr, or stdout inside a worker (the worker's stderr is redirected there).
pub fn warn(msg: &str) {
    let mut text = msg.to_string();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    if IN_WORKER.load(Ordering::SeqCst) {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(text.as_bytes());
        let _ = out.flush();
    } else {
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(text.as_bytes());
    }
}

/// Perl's `print` to stdout.
pub fn print(msg: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(msg.as_bytes());
    let _ = out.flush();
}

/// Runs `work` as a synchronous CLI worker and returns the exit status.
pub fn run_worker(work: impl FnOnce() -> SimResult<()>) -> i32 {
    IN_WORKER.store(true, Ordering::SeqCst);
    let res = work();
    IN_WORKER.store(false, Ordering::SeqCst);
    match res {
        Ok(()) => 0,
        Err(e) => {
            let mut err = std::io::stderr().lock();
            let _ = writeln!(err, "{}", e.task_error_line());
            255
        }
    }
}
