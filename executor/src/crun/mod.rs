//! The crun driver: the same OCI verbs on crun, under a crun root inside our state store.
//!
//! The program is named `crun`; the host resolves it ([`crate::host::RealHost::with_program`]),
//! so a wrapper script can stand in (see docs/runtime.md: hosts with a hybrid cgroup layout
//! need one). `create` runs with inherited stdio: the container's init keeps the runtime's
//! stdout and stderr, which are the engine's pipes.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::host::{Command, Host, HostError};
use crate::id::ContainerId;

pub mod engine;

/// How to call crun.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Crun {
    /// crun's own `--root` (its state directory).
    pub root: PathBuf,
    pub systemd_cgroup: bool,
}

/// Options of `create` that only an OCI runtime with a process can honour.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreateOptions {
    pub pid_file: Option<PathBuf>,
    pub console_socket: Option<PathBuf>,
    pub no_pivot: bool,
    pub no_new_keyring: bool,
    /// `--preserve-fds N`: fds 3..3+N of the caller are passed to the container's process.
    pub preserve_fds: Option<u32>,
}

/// `exec`'s options, as runc's and crun's: the process comes from `--process FILE` or from
/// the command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecOptions {
    pub process: Option<PathBuf>,
    pub tty: bool,
    pub console_socket: Option<PathBuf>,
    pub detach: bool,
    pub pid_file: Option<PathBuf>,
    pub cwd: Option<String>,
    pub env: Vec<String>,
    /// `UID[:GID]`.
    pub user: Option<String>,
    pub preserve_fds: Option<u32>,
    /// The command and its arguments (empty with `--process`).
    pub args: Vec<String>,
}

/// What `crun state` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrunState {
    /// crun's status: `created`, `running`, `stopped` or `paused`.
    pub status: String,
    pub pid: Option<i32>,
}

#[derive(Debug, thiserror::Error)]
pub enum CrunError {
    #[error(transparent)]
    Host(#[from] HostError),
    #[error("`crun state` printed {0:?}, not a state")]
    State(String),
}

/// The messages of the `error` lines of a crun JSON log (`{"msg":..,"level":"error",..}`),
/// one a line; other lines are ignored.
fn crun_errors(log: &[u8]) -> String {
    String::from_utf8_lossy(log)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v.get("level").and_then(Value::as_str) == Some("error"))
        .filter_map(|v| v.get("msg").and_then(Value::as_str).map(str::to_owned))
        .collect::<Vec<_>>()
        .join("\n")
}

/// crun's "no such container" message.
fn is_missing(stderr: &str) -> bool {
    stderr.contains("does not exist") || stderr.contains("No such file or directory")
}

impl Crun {
    fn cmd(&self, verb: &str) -> Command {
        self.cmd_logged(verb, None)
    }

    /// `crun [global options] <verb>`; with `log`, crun's `--log FILE --log-format json`.
    fn cmd_logged(&self, verb: &str, log: Option<&Path>) -> Command {
        let mut c = Command::new("crun");
        if self.systemd_cgroup {
            c = c.arg("--systemd-cgroup");
        }
        if let Some(log) = log {
            c = c.arg("--log").arg(log).arg("--log-format").arg("json");
        }
        c.arg("--root").arg(&self.root).arg(verb)
    }

    /// `crun create --bundle B --config C [options] <id>`, with the caller's stdio.
    pub fn create(
        &self,
        host: &dyn Host,
        id: &ContainerId,
        bundle: &Path,
        config: &Path,
        opts: &CreateOptions,
    ) -> Result<(), CrunError> {
        // crun's stderr is the container's (the engine's pipe), so crun is given a log file of
        // its own for its errors: without one, an engine would show a failed create as
        // "`crun create` failed" with no reason, where crun under the engine says why.
        let log = tempfile::Builder::new()
            .prefix("proxmox-lxcri-crun-")
            .suffix(".log")
            .tempfile()
            .map_err(|e| HostError::io("create", Path::new("a crun log file"), e))?;
        let mut c = self
            .cmd_logged("create", Some(log.path()))
            .arg("--bundle")
            .arg(bundle)
            .arg("--config")
            .arg(config);
        if let Some(p) = &opts.pid_file {
            c = c.arg("--pid-file").arg(p);
        }
        if let Some(s) = &opts.console_socket {
            c = c.arg("--console-socket").arg(s);
        }
        if opts.no_pivot {
            c = c.arg("--no-pivot");
        }
        if opts.no_new_keyring {
            c = c.arg("--no-new-keyring");
        }
        if let Some(n) = opts.preserve_fds {
            c = c.arg(format!("--preserve-fds={n}"));
        }
        let c = c.arg(id.as_str()).inherit_stdio();
        let out = host.run(&c)?;
        if !out.success() {
            let said = host
                .read_file(log.path())
                .map(|b| crun_errors(&b))
                .unwrap_or_default();
            // The command as the caller would type it: without the private log file, which
            // is gone when this returns.
            let mut shown = c.clone();
            if let Some(i) = shown.args.iter().position(|a| a == "--log") {
                shown.args.drain(i..(i + 4).min(shown.args.len()));
            }
            return Err(HostError::Failed {
                command: shown.to_string(),
                exit: out.exit,
                stderr: said,
            }
            .into());
        }
        Ok(())
    }

    pub fn start(&self, host: &dyn Host, id: &ContainerId) -> Result<(), CrunError> {
        let c = self.cmd("start").arg(id.as_str());
        host.run(&c)?.check(&c)?;
        Ok(())
    }

    /// `crun state <id>`; `None` when crun does not know the container.
    pub fn state(&self, host: &dyn Host, id: &ContainerId) -> Result<Option<CrunState>, CrunError> {
        let c = self.cmd("state").arg(id.as_str()).read_only();
        let out = host.run(&c)?;
        if !out.success() && is_missing(&out.stderr_lossy()) {
            return Ok(None);
        }
        let out = out.check(&c)?;
        let v: Value = serde_json::from_slice(&out.stdout)
            .map_err(|_| CrunError::State(out.stdout_lossy()))?;
        let status = v
            .get("status")
            .and_then(Value::as_str)
            .ok_or_else(|| CrunError::State(out.stdout_lossy()))?
            .to_owned();
        let pid = v
            .get("pid")
            .and_then(Value::as_i64)
            .and_then(|p| i32::try_from(p).ok())
            .filter(|p| *p > 0);
        Ok(Some(CrunState { status, pid }))
    }

    pub fn kill(&self, host: &dyn Host, id: &ContainerId, signal: i32) -> Result<(), CrunError> {
        let c = self.cmd("kill").arg(id.as_str()).arg(signal.to_string());
        host.run(&c)?.check(&c)?;
        Ok(())
    }

    /// `crun exec`: the process runs with the caller's stdio; its exit code is returned (runc
    /// and crun exit with the process's code, and engines read it as the exec's result).
    pub fn exec(
        &self,
        host: &dyn Host,
        id: &ContainerId,
        o: &ExecOptions,
    ) -> Result<i32, CrunError> {
        let mut c = self.cmd("exec");
        if let Some(p) = &o.process {
            c = c.arg("--process").arg(p);
        }
        if o.tty {
            c = c.arg("--tty");
        }
        if let Some(s) = &o.console_socket {
            c = c.arg("--console-socket").arg(s);
        }
        if o.detach {
            c = c.arg("--detach");
        }
        if let Some(p) = &o.pid_file {
            c = c.arg("--pid-file").arg(p);
        }
        if let Some(d) = &o.cwd {
            c = c.arg(format!("--cwd={d}"));
        }
        for e in &o.env {
            c = c.arg(format!("--env={e}"));
        }
        if let Some(u) = &o.user {
            c = c.arg(format!("--user={u}"));
        }
        if let Some(n) = o.preserve_fds {
            c = c.arg(format!("--preserve-fds={n}"));
        }
        // The command follows the id, as in runc's and crun's usage.
        let c = c
            .arg(id.as_str())
            .args(o.args.iter().map(|a| a.as_str()))
            .inherit_stdio();
        let out = host.run(&c)?;
        match out.exit {
            crate::host::Exit::Code(code) => Ok(code),
            // The shell convention engines use for a process killed by a signal.
            crate::host::Exit::Signal(s) => Ok(128 + s),
        }
    }

    /// `crun ps --format json <id>`: the host pids of the container's processes.
    pub fn ps(&self, host: &dyn Host, id: &ContainerId) -> Result<Vec<i64>, CrunError> {
        let c = self
            .cmd("ps")
            .arg("--format")
            .arg("json")
            .arg(id.as_str())
            .read_only();
        let out = host.run(&c)?.check(&c)?;
        let v: Value = serde_json::from_slice(&out.stdout)
            .map_err(|_| CrunError::State(out.stdout_lossy()))?;
        v.as_array()
            .map(|a| a.iter().filter_map(Value::as_i64).collect())
            .ok_or_else(|| CrunError::State(out.stdout_lossy()))
    }

    /// `crun pause` / `crun resume` (the cgroup freezer).
    pub fn freeze(&self, host: &dyn Host, id: &ContainerId, pause: bool) -> Result<(), CrunError> {
        let c = self
            .cmd(if pause { "pause" } else { "resume" })
            .arg(id.as_str());
        host.run(&c)?.check(&c)?;
        Ok(())
    }

    /// `crun update --resources FILE <id>`.
    pub fn update(
        &self,
        host: &dyn Host,
        id: &ContainerId,
        resources: &Path,
    ) -> Result<(), CrunError> {
        let c = self
            .cmd("update")
            .arg("--resources")
            .arg(resources)
            .arg(id.as_str());
        host.run(&c)?.check(&c)?;
        Ok(())
    }

    /// `crun kill --all <id> <signal>`: every process of the container, not only its init.
    pub fn kill_all(
        &self,
        host: &dyn Host,
        id: &ContainerId,
        signal: i32,
    ) -> Result<(), CrunError> {
        let c = self
            .cmd("kill")
            .arg("--all")
            .arg(id.as_str())
            .arg(signal.to_string());
        host.run(&c)?.check(&c)?;
        Ok(())
    }

    /// `crun delete [--force] <id>`; a container crun does not know is already deleted.
    pub fn delete(&self, host: &dyn Host, id: &ContainerId, force: bool) -> Result<(), CrunError> {
        let mut c = self.cmd("delete");
        if force {
            c = c.arg("--force");
        }
        let c = c.arg(id.as_str());
        let out = host.run(&c)?;
        if !out.success() && is_missing(&out.stderr_lossy()) {
            return Ok(());
        }
        out.check(&c)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::{Output, RecordingHost, Stdio};

    fn crun() -> Crun {
        Crun {
            root: "/run/plx/.crun".into(),
            systemd_cgroup: false,
        }
    }

    #[test]
    fn create_passes_engine_options_and_keeps_stdio() {
        let host = RecordingHost::new();
        let id = ContainerId::new("c1").unwrap();
        let opts = CreateOptions {
            pid_file: Some("/p/pid".into()),
            console_socket: None,
            no_pivot: true,
            no_new_keyring: false,
            preserve_fds: None,
        };
        crun()
            .create(
                &host,
                &id,
                Path::new("/b"),
                Path::new("/run/plx/c1/crun.json"),
                &opts,
            )
            .unwrap();
        let cmds = host.commands();
        let shown = cmds[0].to_string();
        // crun's own log file (a fresh temporary name) comes first, with the global options.
        let (head, rest) = shown.split_once(" --log-format json ").unwrap();
        assert!(head.starts_with("crun --log /"), "{shown}");
        assert_eq!(
            rest,
            "--root /run/plx/.crun create --bundle /b --config /run/plx/c1/crun.json --pid-file /p/pid --no-pivot c1"
        );
        assert_eq!(cmds[0].stdio, Stdio::Inherit);
    }

    #[test]
    fn crun_errors_are_read_from_its_json_log() {
        let log = concat!(
            "{\"msg\": \"a warning\", \"level\": \"warning\", \"time\": \"t\"}\n",
            "{\"msg\": \"executable file `nope` not found in $PATH: No such file or directory\", \"level\": \"error\", \"time\": \"t\"}\n",
            "not json\n"
        );
        assert_eq!(
            crun_errors(log.as_bytes()),
            "executable file `nope` not found in $PATH: No such file or directory"
        );
        assert_eq!(crun_errors(b""), "");
    }

    #[test]
    fn state_kill_delete() {
        let host = RecordingHost::new();
        let id = ContainerId::new("c1").unwrap();
        host.respond_to(
            "crun",
            &["--root", "/run/plx/.crun", "state"],
            Output::ok(
                r#"{"ociVersion":"1.0.0","id":"c1","pid":321,"status":"running","bundle":"/b"}"#,
            ),
        );
        assert_eq!(
            crun().state(&host, &id).unwrap(),
            Some(CrunState {
                status: "running".into(),
                pid: Some(321)
            })
        );
        crun().kill(&host, &id, 15).unwrap();
        let c = Crun {
            systemd_cgroup: true,
            ..crun()
        };
        c.delete(&host, &id, true).unwrap();
        let shown: Vec<String> = host.commands().iter().map(ToString::to_string).collect();
        assert_eq!(shown[1], "crun --root /run/plx/.crun kill c1 15");
        assert_eq!(
            shown[2],
            "crun --systemd-cgroup --root /run/plx/.crun delete --force c1"
        );
    }

    #[test]
    fn unknown_containers() {
        let host = RecordingHost::new();
        let id = ContainerId::new("c1").unwrap();
        host.respond_to(
            "crun",
            &[],
            Output::failed(
                1,
                "error opening file `/run/plx/.crun/c1/status`: No such file or directory\n",
            ),
        );
        assert_eq!(crun().state(&host, &id).unwrap(), None);
        crun().delete(&host, &id, false).unwrap();
        assert!(crun().start(&host, &id).is_err());
    }
}
