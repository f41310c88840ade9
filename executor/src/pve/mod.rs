//! The `pct` driver: status with the init's host pid, start, graceful shutdown, destroy, and
//! hand edits of the config under Proxmox's lock.

pub mod api;
pub mod cluster;
pub mod config;
pub mod identity;
pub mod lxc;
pub mod paths;
pub mod status;
pub mod vmid;

use std::time::Duration;

pub use config::{append_lines, create_config, remove_config, ConfigError, CreateConfigError};
pub use paths::{PvePaths, HOST_ROOT_ENV};
pub use status::{parse_status, CtStatus, StatusError};
pub use vmid::{
    allocate_vmid, allocate_vmid_locked, nextid_command, parse_nextid, vmid_taken, AllocError,
    AllocPolicy, CreateFailure,
};

use crate::host::{Command, Host, HostError};
use crate::id::Vmid;

#[derive(Debug, thiserror::Error)]
pub enum PctError {
    #[error(transparent)]
    Host(#[from] HostError),
    #[error(transparent)]
    Status(#[from] StatusError),
    #[error(transparent)]
    Identity(Box<identity::IdentityError>),
    /// A cross-node call whose Proxmox task did not do its work. `pvesh` runs the API method,
    /// which does the work in `fork_worker` and returns the task's UPID without dying when the
    /// task fails (pve-common src/PVE/RESTEnvironment.pm `fork_worker`; pvesh checks no task
    /// status, unlike `pct`'s `$upid_exit`), so the result is read back from Proxmox.
    #[error("`{call}` for CT {vmid} on node {node} returned, but the container {found}; see the task log on {node} (`pvesh get /nodes/{node}/tasks`)")]
    Task {
        call: &'static str,
        node: String,
        vmid: Vmid,
        found: String,
    },
}

impl From<identity::IdentityError> for PctError {
    fn from(e: identity::IdentityError) -> Self {
        PctError::Identity(Box::new(e))
    }
}

fn pct(args: &[&str], vmid: Vmid) -> Command {
    let mut it = args.iter();
    let mut cmd = Command::new("pct");
    if let Some(verb) = it.next() {
        cmd = cmd.arg(*verb);
    }
    cmd.arg(vmid.to_string()).args(it.copied())
}

/// `pct status <vmid> --verbose`; `None` when the container does not exist (any more).
pub fn status(host: &dyn Host, vmid: Vmid) -> Result<Option<CtStatus>, PctError> {
    let cmd = pct(&["status", "--verbose"], vmid).read_only();
    let out = host.run(&cmd)?;
    if !out.success() && status::is_missing_ct(&out.stderr_lossy()) {
        return Ok(None);
    }
    let out = out.check(&cmd)?;
    Ok(Some(parse_status(&out.stdout_lossy())?))
}

/// `pct start <vmid>`.
pub fn start(host: &dyn Host, vmid: Vmid) -> Result<(), PctError> {
    let cmd = pct(&["start"], vmid);
    host.run(&cmd)?.check(&cmd)?;
    Ok(())
}

/// `pct shutdown <vmid> --timeout N --forceStop 1`: sends `lxc.signal.halt` (the bundle's stop
/// signal, which the translator writes), and kills the container when the timeout passes.
pub fn shutdown(host: &dyn Host, vmid: Vmid, timeout: Duration) -> Result<(), PctError> {
    let secs = timeout.as_secs().to_string();
    let cmd = pct(&["shutdown", "--timeout", &secs, "--forceStop", "1"], vmid);
    host.run(&cmd)?.check(&cmd)?;
    Ok(())
}

/// `pct set <vmid> --<key> <value>...`: on a running container Proxmox applies what it can
/// hotplug at once (pve-container `src/PVE/LXC/Config.pm` `vmconfig_hotplug_pending` @ 94f55852:
/// `memory`/`swap` through `change_memory_limit`, `cpulimit`, `cpuunits`; `cores` is a
/// fast-plug option, written to the config).
pub fn set(host: &dyn Host, vmid: Vmid, options: &[(&str, String)]) -> Result<(), PctError> {
    let mut cmd = pct(&["set"], vmid);
    for (key, value) in options {
        cmd = cmd.arg(format!("--{key}")).arg(value);
    }
    host.run(&cmd)?.check(&cmd)?;
    Ok(())
}

/// `pct destroy <vmid> --purge`; a container that no longer exists counts as destroyed.
pub fn destroy(host: &dyn Host, vmid: Vmid) -> Result<(), PctError> {
    let cmd = destroy_command(vmid);
    let out = host.run(&cmd)?;
    if !out.success() && status::is_missing_ct(&out.stderr_lossy()) {
        return Ok(());
    }
    out.check(&cmd)?;
    Ok(())
}

/// The undo of `pct create`, as plans spell it.
pub fn destroy_command(vmid: Vmid) -> Command {
    pct(&["destroy", "--purge"], vmid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::{HostCall, Output, RecordingHost};

    fn vmid(n: u64) -> Vmid {
        Vmid::new(n).unwrap()
    }

    #[test]
    fn commands_are_what_proxmox_documents() {
        let host = RecordingHost::new();
        host.respond_to("pct", &["status"], Output::ok("pid: 77\nstatus: running\n"));
        start(&host, vmid(100)).unwrap();
        shutdown(&host, vmid(100), Duration::from_secs(7)).unwrap();
        destroy(&host, vmid(100)).unwrap();
        let s = status(&host, vmid(100)).unwrap().unwrap();
        assert_eq!(s.pid, Some(77));
        let words: Vec<String> = host
            .calls()
            .iter()
            .map(|c| match c {
                HostCall::Run(cmd) => cmd.to_string(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            words,
            [
                "pct start 100",
                "pct shutdown 100 --timeout 7 --forceStop 1",
                "pct destroy 100 --purge",
                "pct status 100 --verbose"
            ]
        );
    }

    #[test]
    fn missing_containers() {
        let host = RecordingHost::new();
        let gone = Output::failed(
            255,
            "Configuration file 'nodes/pve/lxc/100.conf' does not exist\n",
        );
        host.respond_to("pct", &[], gone);
        assert_eq!(status(&host, vmid(100)).unwrap(), None);
        destroy(&host, vmid(100)).unwrap();
        let err = start(&host, vmid(100)).unwrap_err();
        assert!(err.to_string().contains("does not exist"), "{err}");
    }

    #[test]
    fn failures_carry_stderr() {
        let host = RecordingHost::new();
        host.respond_to(
            "pct",
            &["destroy"],
            Output::failed(255, "unable to destroy CT 100 - container is running\n"),
        );
        let err = destroy(&host, vmid(100)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "`pct destroy 100 --purge` failed (exit code 255): unable to destroy CT 100 - container is running"
        );
    }
}
