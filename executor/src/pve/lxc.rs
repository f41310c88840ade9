//! LXC's own tools on a Proxmox node, for what `pct` has no command for.
//!
//! - Freezing: pve-container freezes a container with LXC itself (`src/PVE/LXC.pm` `freeze`/
//!   `thaw` @ 94f55852: `PVE::LXC::Command::freeze` over the container's command socket on
//!   cgroup v2, the v1 freezer otherwise), which is what `lxc-freeze`/`lxc-unfreeze` do. `pct
//!   suspend` is a CRIU checkpoint (`vm_suspend`), not a pause.
//! - Attaching a process: `pct exec <vmid> -- <args>` is `lxc-attach -n <vmid> --clear-env --
//!   <args>` (`src/PVE/CLI/pct.pm` `exec`), which sets neither user nor environment; the same
//!   `lxc-attach` with `--uid`, `--gid` and `--set-var` does.
//!
//! Every tool is given Proxmox's lxcpath with `-P` ([`PvePaths::lxc_path`]).

use crate::host::{Command, Host, HostError};
use crate::id::Vmid;

use super::PvePaths;

/// `tool -n <vmid> -P <lxcpath>`.
pub fn tool(tool: &str, paths: &PvePaths, vmid: Vmid) -> Command {
    Command::new(tool)
        .arg("-n")
        .arg(vmid.to_string())
        .arg("-P")
        .arg(paths.lxc_path())
}

/// Whether LXC reports the container `FROZEN` (`lxc-info -s`); a container LXC does not know
/// is not frozen.
pub fn frozen(host: &dyn Host, paths: &PvePaths, vmid: Vmid) -> Result<bool, HostError> {
    let cmd = tool("lxc-info", paths, vmid).arg("-s").read_only();
    let out = host.run(&cmd)?;
    if !out.success() {
        return Ok(false);
    }
    Ok(out
        .stdout_lossy()
        .lines()
        .filter_map(|l| l.strip_prefix("State:"))
        .any(|s| s.trim() == "FROZEN"))
}

/// `lxc-freeze` (`true`) or `lxc-unfreeze` (`false`).
pub fn freeze(host: &dyn Host, paths: &PvePaths, vmid: Vmid, pause: bool) -> Result<(), HostError> {
    let name = if pause { "lxc-freeze" } else { "lxc-unfreeze" };
    let cmd = tool(name, paths, vmid);
    host.run(&cmd)?.check(&cmd)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::{Output, RecordingHost};

    #[test]
    fn frozen_reads_lxc_info() {
        let host = RecordingHost::new();
        let paths = PvePaths::under("/sim");
        let vmid = Vmid::new(100).unwrap();
        host.respond_to("lxc-info", &[], Output::ok("State:          FROZEN\n"));
        assert!(frozen(&host, &paths, vmid).unwrap());
        assert_eq!(
            host.commands()[0].to_string(),
            "lxc-info -n 100 -P /sim/var/lib/lxc -s"
        );
        let host = RecordingHost::new();
        host.respond_to("lxc-info", &[], Output::ok("State:          RUNNING\n"));
        assert!(!frozen(&host, &paths, vmid).unwrap());
        freeze(&host, &paths, vmid, false).unwrap();
        assert_eq!(
            host.commands()[1].to_string(),
            "lxc-unfreeze -n 100 -P /sim/var/lib/lxc"
        );
    }
}
