//! The host itself: processes via `execve` with an argument vector, the local file system.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::io::{self, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::thread;

use super::{Command, Exit, FileMode, Host, HostError, HostLock, Output};
use crate::bundle::Rootfs;
use crate::lock::{self, Wait};
use crate::pack::{self, PackConfig, PackReport};

/// Makes `cmd`'s process start with no signal blocked. Rust's `Command` leaves the signal mask
/// as the spawning thread has it, and a foreground `run` blocks the signals it forwards
/// (`runtime::foreground`): without this, `crun`, `pct` and what they start (LXC restores its
/// caller's mask for the container's init, lxc `src/lxc/start.c` `do_start` @ e7b855a5) would
/// keep SIGTERM and SIGCHLD blocked, and a shell there could not trap or wait. Programs
/// started by systemd (Proxmox's `pct start` path) get an empty mask; this gives the same.
pub fn clean_signal_mask(cmd: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: sigemptyset and pthread_sigmask are async-signal-safe and touch only `set`.
    unsafe {
        cmd.pre_exec(|| {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            if libc::pthread_sigmask(libc::SIG_SETMASK, &set, std::ptr::null_mut()) != 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// Runs programs and touches files for real.
#[derive(Debug, Clone, Default)]
pub struct RealHost {
    programs: BTreeMap<OsString, PathBuf>,
}

impl RealHost {
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs `path` whenever a command names `program` (e.g. `pct` → the simulator's `pct`, or
    /// `crun` → a wrapper script). Other programs are looked up in `PATH`.
    pub fn with_program(mut self, program: impl Into<OsString>, path: impl Into<PathBuf>) -> Self {
        self.programs.insert(program.into(), path.into());
        self
    }

    fn resolve<'a>(&'a self, program: &'a OsStr) -> &'a OsStr {
        self.programs
            .get(program)
            .map_or(program, |p| p.as_os_str())
    }
}

impl Host for RealHost {
    fn run(&self, cmd: &Command) -> Result<Output, HostError> {
        let program = self.resolve(&cmd.program);
        let spawn_err = |source| HostError::Spawn {
            program: program.to_string_lossy().into_owned(),
            source,
        };
        let mut child = std::process::Command::new(program);
        if let Some(dir) = &cmd.cwd {
            child.current_dir(dir);
        }
        clean_signal_mask(&mut child);
        let mut child = child
            .args(&cmd.args)
            .envs(cmd.env.iter().map(|(k, v)| (k, v)))
            // An inherited-stdio command (`crun create`/`exec`/`run`) keeps the caller's stdin
            // too: `podman run -i` and `ctr run` hand the container's stdin to the runtime, and
            // crun's init keeps whatever fd 0 it was given. Everything else gets /dev/null.
            .stdin(match (&cmd.stdin, cmd.stdio) {
                (Some(_), _) => Stdio::piped(),
                (None, super::Stdio::Inherit) => Stdio::inherit(),
                (None, super::Stdio::Capture) => Stdio::null(),
            })
            .stdout(match cmd.stdio {
                super::Stdio::Capture => Stdio::piped(),
                super::Stdio::Inherit => Stdio::inherit(),
            })
            .stderr(match cmd.stdio {
                super::Stdio::Capture => Stdio::piped(),
                super::Stdio::Inherit => Stdio::inherit(),
            })
            .spawn()
            .map_err(spawn_err)?;
        // Feed stdin from another thread: a child that writes a lot before reading would
        // otherwise deadlock against us.
        let feeder = match (child.stdin.take(), cmd.stdin.clone()) {
            (Some(mut pipe), Some(bytes)) => Some(thread::spawn(move || -> io::Result<()> {
                match pipe.write_all(&bytes) {
                    // The child may exit without reading all of it; that is its business.
                    Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
                    other => other,
                }
            })),
            _ => None,
        };
        let out = child.wait_with_output().map_err(spawn_err)?;
        if let Some(f) = feeder {
            match f.join() {
                Ok(r) => r.map_err(spawn_err)?,
                Err(_) => return Err(spawn_err(io::Error::other("stdin writer thread panicked"))),
            }
        }
        let exit = match (out.status.code(), out.status.signal()) {
            (Some(c), _) => Exit::Code(c),
            (None, Some(s)) => Exit::Signal(s),
            (None, None) => Exit::Code(-1),
        };
        Ok(Output {
            exit,
            stdout: out.stdout,
            stderr: out.stderr,
        })
    }

    fn spawn(
        &self,
        cmd: &Command,
        terminal: Option<std::os::fd::BorrowedFd<'_>>,
    ) -> Result<u32, HostError> {
        let program = self.resolve(&cmd.program);
        let spawn_err = |source| HostError::Spawn {
            program: program.to_string_lossy().into_owned(),
            source,
        };
        if cmd.stdin.is_some() || cmd.stdio != super::Stdio::Inherit {
            return Err(spawn_err(io::Error::other(
                "a spawned program keeps its stdio: it has no input or output to capture",
            )));
        }
        let mut child = std::process::Command::new(program);
        if let Some(dir) = &cmd.cwd {
            child.current_dir(dir);
        }
        child
            .args(&cmd.args)
            .envs(cmd.env.iter().map(|(k, v)| (k, v)));
        clean_signal_mask(&mut child);
        if let Some(tty) = terminal {
            let dup = || tty.try_clone_to_owned().map(std::fs::File::from);
            child
                .stdin(dup().map_err(spawn_err)?)
                .stdout(dup().map_err(spawn_err)?)
                .stderr(dup().map_err(spawn_err)?);
            use std::os::unix::process::CommandExt;
            // SAFETY: setsid and ioctl are async-signal-safe and touch no memory of ours.
            unsafe {
                child.pre_exec(|| {
                    if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                        return Err(io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        // Dropped without a wait: the process outlives this one.
        let child = child.spawn().map_err(spawn_err)?;
        Ok(child.id())
    }

    fn read_file(&self, path: &Path) -> Result<Vec<u8>, HostError> {
        std::fs::read(path).map_err(|e| HostError::io("read", path, e))
    }

    fn list_dir(&self, path: &Path) -> Result<Vec<OsString>, HostError> {
        let mut names = std::fs::read_dir(path)
            .and_then(|rd| {
                rd.map(|e| e.map(|e| e.file_name()))
                    .collect::<io::Result<Vec<_>>>()
            })
            .map_err(|e| HostError::io("list", path, e))?;
        names.sort();
        Ok(names)
    }

    fn write_file(&self, path: &Path, contents: &[u8], mode: FileMode) -> Result<(), HostError> {
        crate::fs::write_atomic(path, contents, mode).map_err(HostError::from)
    }

    fn remove_file(&self, path: &Path) -> Result<(), HostError> {
        match std::fs::remove_file(path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(HostError::io("remove", path, e)),
        }
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
        crate::fs::sync_dir(dir.unwrap_or(Path::new(".")))
            .map_err(|e| HostError::io("fsync", path, e))
    }

    fn lock(&self, path: &Path, wait: Wait) -> Result<HostLock, HostError> {
        Ok(HostLock::held(lock::lock_required(path, wait)?))
    }

    fn pack_rootfs(
        &self,
        rootfs: &Rootfs,
        output: &Path,
        config: &PackConfig,
    ) -> Result<PackReport, HostError> {
        Ok(pack::pack_dir(rootfs, output, config)?)
    }

    fn pack_image(
        &self,
        image: &crate::image::Opened,
        output: &Path,
        config: &PackConfig,
    ) -> Result<PackReport, HostError> {
        Ok(pack::pack_layers(
            &image.image,
            &image.index,
            output,
            config,
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn spawned_programs_are_left_running_with_an_empty_signal_mask() {
        // This thread blocks SIGTERM, as a foreground `run` does; the child must not inherit it.
        // SAFETY: plain sigset calls on a local set.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGTERM);
            libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        }
        let host = RealHost::new();
        let out = host
            .run(&Command::new("grep").args(["^SigBlk:", "/proc/self/status"]))
            .unwrap();
        assert_eq!(out.stdout_lossy().trim(), "SigBlk:\t0000000000000000");
        let pid = host
            .spawn(
                &Command::new("sh").args(["-c", "exit 3"]).inherit_stdio(),
                None,
            )
            .unwrap();
        let mut status = 0;
        // SAFETY: a valid status pointer; the pid is our child, not yet reaped.
        assert_eq!(
            unsafe { libc::waitpid(pid as i32, &mut status, 0) },
            pid as i32
        );
        assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 3);
        // Nothing can be captured from a process nobody waits for.
        assert!(host.spawn(&Command::new("true"), None).is_err());
    }

    #[test]
    fn runs_argv_without_a_shell() {
        let host = RealHost::new();
        // If a shell were involved, `$HOME` and `;` would be interpreted.
        let out = host
            .run(&Command::new("printf").args(["%s|", "$HOME; echo hi", "a b"]))
            .unwrap();
        assert!(out.success());
        assert_eq!(out.stdout, b"$HOME; echo hi|a b|");
    }

    #[test]
    fn captures_exit_code_stderr_and_stdin() {
        let host = RealHost::new();
        let out = host
            .run(
                &Command::new("sh")
                    .args(["-c", "cat; echo err >&2; exit 3"])
                    .stdin("in"),
            )
            .unwrap();
        assert_eq!(out.exit, Exit::Code(3));
        assert_eq!(out.stdout, b"in");
        assert_eq!(out.stderr, b"err\n");
    }

    #[test]
    fn large_stdin_and_stdout_do_not_deadlock() {
        let host = RealHost::new();
        let big = vec![b'x'; 4 << 20];
        let out = host.run(&Command::new("cat").stdin(big.clone())).unwrap();
        assert_eq!(out.stdout.len(), big.len());
    }

    #[test]
    fn reports_signals() {
        let host = RealHost::new();
        let out = host
            .run(&Command::new("sh").args(["-c", "kill -TERM $$"]))
            .unwrap();
        assert_eq!(out.exit, Exit::Signal(libc::SIGTERM));
    }

    #[test]
    fn env_is_passed() {
        let host = RealHost::new();
        let out = host
            .run(
                &Command::new("printenv")
                    .arg("PLXC_TEST")
                    .env("PLXC_TEST", "v 1"),
            )
            .unwrap();
        assert_eq!(out.stdout, b"v 1\n");
    }

    #[test]
    fn inherited_stdio_is_not_captured() {
        // The background sleep keeps stdout open: a captured run would wait for it.
        let start = std::time::Instant::now();
        let out = RealHost::new()
            .run(
                &Command::new("sh")
                    .args(["-c", "sleep 5 & exit 0"])
                    .inherit_stdio(),
            )
            .unwrap();
        assert!(out.success());
        assert!(out.stdout.is_empty());
        assert!(
            start.elapsed() < std::time::Duration::from_secs(4),
            "{:?}",
            start.elapsed()
        );
    }

    #[test]
    fn missing_program_is_a_spawn_error() {
        let err = RealHost::new()
            .run(&Command::new("/nonexistent/pct"))
            .unwrap_err();
        assert!(matches!(err, HostError::Spawn { .. }), "{err}");
    }

    #[test]
    fn program_override_resolves_to_a_stand_in() {
        let dir = tempfile::tempdir().unwrap();
        let fake = dir.path().join("fake-pct");
        std::fs::write(&fake, "#!/bin/sh\necho fake \"$@\"\n").unwrap();
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
        let host = RealHost::new().with_program("pct", &fake);
        let out = host
            .run(&Command::new("pct").args(["status", "100"]))
            .unwrap();
        assert_eq!(out.stdout, b"fake status 100\n");
    }

    #[test]
    fn files_write_read_remove() {
        let dir = tempfile::tempdir().unwrap();
        let host = RealHost::new();
        let p = dir.path().join("f");
        host.write_file(&p, b"abc", FileMode::Exact(0o600)).unwrap();
        assert_eq!(host.read_file(&p).unwrap(), b"abc");
        host.remove_file(&p).unwrap();
        host.remove_file(&p).unwrap();
        assert!(matches!(
            host.read_file(&p),
            Err(HostError::Io { op: "read", .. })
        ));
    }

    #[test]
    fn lock_is_real_and_exclusive() {
        let dir = tempfile::tempdir().unwrap();
        let host = RealHost::new();
        let p = dir.path().join("l.lock");
        let held = host.lock(&p, Wait::No).unwrap();
        assert!(held.is_real());
        assert!(host.lock(&p, Wait::No).is_err());
        drop(held);
        assert!(host.lock(&p, Wait::No).is_ok());
    }
}
