//! `run` in the foreground on the crun back end, as `runc run` does it: the runtime stays
//! until the container's init exits, forwards the signals it gets to the init, exits with
//! the init's exit code (128 + N for signal N), and destroys the container afterwards
//! (runc `utils_linux.go` `runner.run`: `r.destroy()` unless `--keep` or `--detach`).
//!
//! crun's `create` forks the init and exits, so the init is nobody's child; this process
//! becomes a child subreaper first (`PR_SET_CHILD_SUBREAPER`, what conmon and containerd's
//! shim do), so the orphaned init is reparented to it and its exit status can be read with
//! `waitpid`. Signals are blocked before anything is spawned and taken with `sigtimedwait`,
//! so none is lost between `start` and the wait. Rust's `Command::spawn` does not clear the
//! signal mask in the child: the programs run in between (crun, pct, and what they start) get
//! an empty one from [`crate::host::clean_signal_mask`], and the pct stand-in sets its
//! own.

use std::io;

/// The signals `runc run` forwards to the init (runc `signals.go`: every signal except
/// SIGCHLD, SIGWINCH with a terminal, and SIGURG, which the Go runtime uses); these are
/// the ones a terminal or an engine sends.
const FORWARDED: &[libc::c_int] = &[
    libc::SIGHUP,
    libc::SIGINT,
    libc::SIGQUIT,
    libc::SIGTERM,
    libc::SIGUSR1,
    libc::SIGUSR2,
    libc::SIGWINCH,
    libc::SIGCONT,
    libc::SIGALRM,
];

/// This process prepared as the parent of a foreground container. The mask is never
/// restored: a signal that arrives after the init exited stays pending, and unblocking it
/// would kill this process with it instead of letting it exit with the init's code.
pub struct Foreground {
    set: libc::sigset_t,
}

impl Foreground {
    /// Becomes a child subreaper and blocks the forwarded signals and SIGCHLD.
    pub fn prepare() -> io::Result<Foreground> {
        rustix::process::set_child_subreaper(Some(rustix::process::getpid()))?;
        // SAFETY: sigset_t is plain data; sigemptyset initialises it before any use.
        let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
        // SAFETY: `set` is a live sigset_t of this frame, initialised by sigemptyset.
        unsafe {
            libc::sigemptyset(&mut set);
            for s in FORWARDED.iter().chain([&libc::SIGCHLD]) {
                libc::sigaddset(&mut set, *s);
            }
            if libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) != 0 {
                return Err(io::Error::last_os_error());
            }
        }
        Ok(Foreground { set })
    }

    /// Waits for `init` (a host pid) to exit, forwarding signals to it; returns its exit
    /// code. `alive` is asked once a second when no child exited: `false` means the init
    /// is gone without having been this process's child (no subreaper), whose status no
    /// one here can read.
    pub fn wait(&self, init: i32, alive: &mut dyn FnMut() -> bool) -> io::Result<i32> {
        loop {
            // Reap every exited child (the init and anything else reparented here).
            loop {
                let mut status: libc::c_int = 0;
                // SAFETY: waitpid writes only to `status`.
                let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
                if pid <= 0 {
                    break;
                }
                if pid == init {
                    return Ok(exit_code(status));
                }
            }
            let timeout = libc::timespec {
                tv_sec: 1,
                tv_nsec: 0,
            };
            // SAFETY: `self.set` is an initialised sigset_t; no siginfo is asked for.
            let sig = unsafe { libc::sigtimedwait(&self.set, std::ptr::null_mut(), &timeout) };
            if sig > 0 && sig != libc::SIGCHLD {
                // A dead init makes this fail with ESRCH; the reaping above reports it.
                // SAFETY: kill has no memory effects.
                unsafe { libc::kill(init, sig) };
            } else if sig < 0 && !alive() {
                return Err(io::Error::other(format!(
                    "the container's init {init} exited, but not as a child of this process: its exit code is unknown"
                )));
            }
        }
    }
}

/// The shell's convention, which runc and crun follow: the code, or 128 + the signal.
fn exit_code(status: libc::c_int) -> i32 {
    if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else if libc::WIFSIGNALED(status) {
        128 + libc::WTERMSIG(status)
    } else {
        255
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_shell() {
        // Encoded as the kernel reports them: code << 8, or the signal number.
        assert_eq!(exit_code(3 << 8), 3);
        assert_eq!(exit_code(libc::SIGKILL), 128 + 9);
    }
}
