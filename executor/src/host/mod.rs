//! The seam between the executor and the machine it changes.
//!
//! Every effect the executor has on a host goes through [`Host`]: running a program with an
//! argument vector (never a shell string), reading and atomically writing files, taking locks,
//! packing a rootfs. Three implementations:
//!
//! - [`RealHost`]: does it, with `std::process::Command` and the file system;
//! - [`RecordingHost`]: logs each typed [`HostCall`], answers from a script, and can be told to
//!   fail the Nth call (fault injection in tests);
//! - [`DryRunHost`]: prints each call it would make and changes nothing.
//!
//! The Proxmox test simulator is a [`RealHost`] whose `pct`/`pvesh` resolve to the simulator's
//! binaries ([`RealHost::with_program`]).
//!
//! Invariant: the implementation is always passed in by the caller, never picked by `cfg!(test)`.

mod dry_run;
mod quote;
mod real;
mod recording;

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

// `FileMode` is part of `Host::write_file`'s signature; the helpers themselves live in the
// leaf `crate::fs`.
pub use crate::fs::{FileMode, WriteError};
pub use dry_run::DryRunHost;
pub use quote::quote_arg;
pub use real::{clean_signal_mask, RealHost};
pub use recording::RecordingHost;

use crate::bundle::Rootfs;
use crate::lock::{LockError, LockGuard};
use crate::pack::{PackConfig, PackError, PackReport};

/// What the machine does for the executor.
pub trait Host {
    /// Runs `cmd.program` with `cmd.args` and returns its exit status and captured output.
    /// A non-zero exit is an `Ok` output; only failing to run the program at all is an error.
    fn run(&self, cmd: &Command) -> Result<Output, HostError>;

    fn read_file(&self, path: &Path) -> Result<Vec<u8>, HostError>;

    /// The names in directory `path`, sorted (`.` and `..` left out).
    fn list_dir(&self, path: &Path) -> Result<Vec<OsString>, HostError>;

    /// Starts `cmd` and leaves it running: it is not waited for (the caller's subreaper, an
    /// engine, inherits and reaps it once this process exits); its pid. Its stdio is this
    /// process's (`cmd.stdio` must be [`Stdio::Inherit`] and `cmd.stdin` empty: nothing is left
    /// here to capture or feed it), or `terminal`, which then is its stdin, stdout, stderr and
    /// controlling terminal, in a session of its own.
    fn spawn(
        &self,
        cmd: &Command,
        terminal: Option<std::os::fd::BorrowedFd<'_>>,
    ) -> Result<u32, HostError>;

    /// Replaces `path` atomically: temp file in the same directory, fsync, rename, fsync dir.
    fn write_file(&self, path: &Path, contents: &[u8], mode: FileMode) -> Result<(), HostError>;

    /// Removes a file; a missing file is not an error.
    fn remove_file(&self, path: &Path) -> Result<(), HostError>;

    /// Takes an exclusive lock on `path` (see [`crate::lock`]), released when the guard drops.
    fn lock(&self, path: &Path, wait: crate::lock::Wait) -> Result<HostLock, HostError>;

    /// Packs the checked rootfs directory (an open descriptor, see [`crate::bundle`]) into a
    /// Proxmox `.tar.zst` template.
    fn pack_rootfs(
        &self,
        rootfs: &Rootfs,
        output: &Path,
        config: &PackConfig,
    ) -> Result<PackReport, HostError>;

    /// Writes the opened image's layers, merged as its index decided (whiteouts and opaque
    /// directories applied), into a Proxmox `.tar.zst` template: one more read of every layer,
    /// nothing unpacked on disk (see [`crate::pack::pack_layers`]).
    fn pack_image(
        &self,
        image: &crate::image::Opened,
        output: &Path,
        config: &PackConfig,
    ) -> Result<PackReport, HostError>;
}

/// A program and its argument vector. Nothing here is ever joined into a shell string except for
/// display ([`fmt::Display`] quotes every argument).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub program: OsString,
    pub args: Vec<OsString>,
    /// Bytes fed to the program's stdin; `None` gives it `/dev/null`, or the caller's stdin
    /// with [`Stdio::Inherit`].
    pub stdin: Option<Vec<u8>>,
    /// Extra environment variables (the rest is inherited).
    pub env: Vec<(OsString, OsString)>,
    pub effect: Effect,
    pub stdio: Stdio,
    /// The program's working directory; `None` keeps the executor's.
    pub cwd: Option<PathBuf>,
}

/// Where a command's stdout and stderr go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Stdio {
    /// Captured into [`Output`].
    #[default]
    Capture,
    /// The executor's own stdout and stderr; [`Output`] holds none. For `crun create`: the
    /// container's init keeps the runtime's stdio (the engine's pipes), so capturing it would
    /// block until the container exits.
    Inherit,
}

/// Whether a command changes anything. A dry run may execute read-only queries so that what it
/// prints (a VMID, a status) is real.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Changes,
    ReadOnly,
}

impl Command {
    pub fn new(program: impl Into<OsString>) -> Self {
        Self {
            program: program.into(),
            args: Vec::new(),
            stdin: None,
            env: Vec::new(),
            effect: Effect::Changes,
            stdio: Stdio::Capture,
            cwd: None,
        }
    }

    /// Runs the program in `dir` (`lxc-attach` takes the caller's directory into the container).
    pub fn current_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cwd = Some(dir.into());
        self
    }

    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(bytes.into());
        self
    }

    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    pub fn read_only(mut self) -> Self {
        self.effect = Effect::ReadOnly;
        self
    }

    /// Lets the program write to the executor's own stdout and stderr (see [`Stdio::Inherit`]).
    pub fn inherit_stdio(mut self) -> Self {
        self.stdio = Stdio::Inherit;
        self
    }

    /// `program` as given, for matching in tests and scripts (`"pct"`, `"pvesh"`).
    pub fn program_name(&self) -> &OsStr {
        &self.program
    }

    /// True if the argument vector starts with `prefix` (e.g. `["get", "/cluster/nextid"]`).
    pub fn args_start_with(&self, prefix: &[&str]) -> bool {
        prefix.len() <= self.args.len() && self.args.iter().zip(prefix).all(|(a, p)| a == p)
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (k, v) in &self.env {
            let mut kv = k.clone();
            kv.push("=");
            kv.push(v);
            write!(f, "{} ", quote_arg(&kv))?;
        }
        f.write_str(&quote_arg(&self.program))?;
        for a in &self.args {
            write!(f, " {}", quote_arg(a))?;
        }
        if let Some(stdin) = &self.stdin {
            write!(f, " < ({} bytes on stdin)", stdin.len())?;
        }
        Ok(())
    }
}

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Code(i32),
    Signal(i32),
}

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Exit::Code(c) => write!(f, "exit code {c}"),
            Exit::Signal(s) => write!(f, "killed by signal {s}"),
        }
    }
}

/// A finished process: exit status and everything it wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub exit: Exit,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl Output {
    /// Exit 0 with the given stdout, for scripts and fakes.
    pub fn ok(stdout: impl Into<Vec<u8>>) -> Self {
        Self {
            exit: Exit::Code(0),
            stdout: stdout.into(),
            stderr: Vec::new(),
        }
    }

    /// A non-zero exit with the given stderr, for scripts and fakes.
    pub fn failed(code: i32, stderr: impl Into<Vec<u8>>) -> Self {
        Self {
            exit: Exit::Code(code),
            stdout: Vec::new(),
            stderr: stderr.into(),
        }
    }

    pub fn success(&self) -> bool {
        self.exit == Exit::Code(0)
    }

    pub fn stdout_lossy(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    pub fn stderr_lossy(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }

    /// `Ok(self)` on exit 0, otherwise [`HostError::Failed`] carrying the command and its stderr.
    pub fn check(self, cmd: &Command) -> Result<Output, HostError> {
        if self.success() {
            Ok(self)
        } else {
            Err(HostError::Failed {
                command: cmd.to_string(),
                exit: self.exit,
                stderr: self.stderr_lossy().trim_end().to_owned(),
            })
        }
    }
}

/// A lock taken through a [`Host`]. Real hosts hold a [`LockGuard`]; recording and dry-run hosts
/// only pretend.
#[derive(Debug)]
pub struct HostLock {
    path: PathBuf,
    guard: Option<LockGuard>,
}

impl HostLock {
    pub fn held(guard: LockGuard) -> Self {
        Self {
            path: guard.path().to_owned(),
            guard: Some(guard),
        }
    }

    pub fn pretend(path: &Path) -> Self {
        Self {
            path: path.to_owned(),
            guard: None,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// True if a real kernel lock backs this value.
    pub fn is_real(&self) -> bool {
        self.guard.is_some()
    }
}

/// One call made through a [`Host`], as data: what [`RecordingHost`] logs and [`DryRunHost`]
/// prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostCall {
    Run(Command),
    /// [`Host::spawn`]; `terminal`: whether it was given one.
    Spawn {
        cmd: Command,
        terminal: bool,
    },
    ReadFile {
        path: PathBuf,
    },
    ListDir {
        path: PathBuf,
    },
    WriteFile {
        path: PathBuf,
        contents: Vec<u8>,
        mode: FileMode,
    },
    RemoveFile {
        path: PathBuf,
    },
    Lock {
        path: PathBuf,
        wait: crate::lock::Wait,
    },
    PackRootfs {
        rootfs: PathBuf,
        output: PathBuf,
        config: PackConfig,
    },
    PackImage {
        /// The image reference, as the plan names it.
        image: String,
        output: PathBuf,
        config: PackConfig,
    },
}

impl HostCall {
    /// True for calls that change nothing on the host.
    pub fn is_read_only(&self) -> bool {
        match self {
            HostCall::Run(cmd) => cmd.effect == Effect::ReadOnly,
            HostCall::Spawn { .. } => false,
            HostCall::ReadFile { .. } | HostCall::ListDir { .. } | HostCall::Lock { .. } => true,
            HostCall::WriteFile { .. }
            | HostCall::RemoveFile { .. }
            | HostCall::PackRootfs { .. }
            | HostCall::PackImage { .. } => false,
        }
    }
}

/// Up to this many bytes of a written text file are shown in a dry run.
const SHOW_CONTENT_MAX: usize = 4096;

impl fmt::Display for HostCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostCall::Run(cmd) => write!(f, "run: {cmd}"),
            HostCall::Spawn { cmd, terminal } => write!(
                f,
                "spawn (not waited for{}): {cmd}",
                if *terminal { ", on a terminal" } else { "" }
            ),
            HostCall::ReadFile { path } => write!(f, "read: {}", quote_arg(path.as_os_str())),
            HostCall::ListDir { path } => write!(f, "list: {}", quote_arg(path.as_os_str())),
            HostCall::WriteFile {
                path,
                contents,
                mode,
            } => {
                write!(
                    f,
                    "write: {} ({} bytes, {mode}, atomic)",
                    quote_arg(path.as_os_str()),
                    contents.len()
                )?;
                match std::str::from_utf8(contents) {
                    Ok(text) if contents.len() <= SHOW_CONTENT_MAX => {
                        for line in text.lines() {
                            write!(f, "\n  | {line}")?;
                        }
                        Ok(())
                    }
                    _ => Ok(()),
                }
            }
            HostCall::RemoveFile { path } => write!(f, "remove: {}", quote_arg(path.as_os_str())),
            HostCall::Lock { path, wait } => {
                write!(f, "lock: {}", quote_arg(path.as_os_str()))?;
                match wait {
                    crate::lock::Wait::Forever => Ok(()),
                    crate::lock::Wait::No => f.write_str(" (no wait)"),
                    crate::lock::Wait::Timeout(t) => write!(f, " (wait up to {t:?})"),
                }
            }
            HostCall::PackRootfs {
                rootfs,
                output,
                config,
            } => write!(
                f,
                "pack-rootfs: {} -> {} ({config})",
                quote_arg(rootfs.as_os_str()),
                quote_arg(output.as_os_str())
            ),
            HostCall::PackImage {
                image,
                output,
                config,
            } => write!(
                f,
                "pack-image: {} -> {} ({config})",
                quote_arg(OsStr::new(image)),
                quote_arg(output.as_os_str())
            ),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error("cannot run {program}: {source}")]
    Spawn { program: String, source: io::Error },
    #[error("`{command}` failed ({exit}): {stderr}")]
    Failed {
        command: String,
        exit: Exit,
        stderr: String,
    },
    #[error("cannot {op} {path}: {source}")]
    Io {
        op: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error(transparent)]
    Write(#[from] WriteError),
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error(transparent)]
    Pack(#[from] PackError),
    #[error(transparent)]
    Image(#[from] crate::image::ImageError),
    /// A failure a [`RecordingHost`] was told to produce.
    #[error("injected failure at call #{call}: {message}")]
    Injected { call: usize, message: String },
}

impl HostError {
    pub(crate) fn io(op: &'static str, path: &Path, source: io::Error) -> Self {
        HostError::Io {
            op,
            path: path.to_owned(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_display_quotes_each_argument() {
        let cmd = Command::new("pct")
            .args(["create", "100", "local:vztmpl/a b.tar.zst"])
            .arg("--description")
            .arg("it's")
            .env("LC_ALL", "C");
        assert_eq!(
            cmd.to_string(),
            "LC_ALL=C pct create 100 'local:vztmpl/a b.tar.zst' --description 'it'\\''s'"
        );
    }

    #[test]
    fn args_prefix_match() {
        let cmd = Command::new("pvesh").args(["get", "/cluster/nextid"]);
        assert!(cmd.args_start_with(&["get"]));
        assert!(cmd.args_start_with(&["get", "/cluster/nextid"]));
        assert!(!cmd.args_start_with(&["get", "/cluster/nextid", "x"]));
        assert!(!cmd.args_start_with(&["set"]));
    }

    #[test]
    fn check_maps_failure_to_error_with_stderr() {
        let cmd = Command::new("false");
        let err = Output::failed(2, "boom\n").check(&cmd).unwrap_err();
        assert_eq!(err.to_string(), "`false` failed (exit code 2): boom");
        assert!(Output::ok("x").check(&cmd).is_ok());
    }

    #[test]
    fn write_call_shows_small_text_content() {
        let call = HostCall::WriteFile {
            path: "/etc/pve/lxc/100.conf".into(),
            contents: b"arch: amd64\nmemory: 512\n".to_vec(),
            mode: FileMode::Exact(0o640),
        };
        assert_eq!(
            call.to_string(),
            "write: /etc/pve/lxc/100.conf (24 bytes, mode 0640, atomic)\n  | arch: amd64\n  | memory: 512"
        );
        let binary = HostCall::WriteFile {
            path: "/x".into(),
            contents: vec![0xff, 0],
            mode: FileMode::PreserveOr(0o644),
        };
        assert_eq!(
            binary.to_string(),
            "write: /x (2 bytes, mode of the existing file or 0644, atomic)"
        );
    }
}
