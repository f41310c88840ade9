//! `kill <id> [SIGNAL]`: a signal from the host to the container's init.
//!
//! On Proxmox the pid is the init's host pid from `pct status --verbose`, and the signal is
//! sent with the host's `kill`, never through `pct exec`: inside the container a signal to pid 1
//! is dropped unless the init handles it, so SIGKILL from within would do nothing. From the
//! host, SIGKILL always works; other signals reach the init only if it handles them.

use crate::host::Command;
use crate::id::ContainerId;
use crate::state::{Backend, Record, Status};

use super::state::{gone, live, live_checked};
use super::{status_name, Runtime, RuntimeError, Signal};

pub fn kill(rt: &Runtime<'_>, id: &ContainerId, signal: Signal) -> Result<(), RuntimeError> {
    let (stored, mapping) = match rt.record(id)? {
        Record::Complete { state, mapping } => (state, mapping),
        Record::Partial(p) => return Err(RuntimeError::Partial(Box::new(p))),
    };
    match &mapping.backend {
        Backend::Pct { vmid, .. } => {
            // The identity is checked before the pid is looked up: the pid is only ever that of
            // our own container's init.
            let now = live_checked(rt, stored, &mapping)?;
            if now.gone {
                return Err(gone(&mapping));
            }
            // The pid is the init's on the node that runs it: only that node can signal it.
            if let Some(node) = now.node.as_deref() {
                if rt.remote(node)?.is_some() {
                    return Err(RuntimeError::OtherNode {
                        verb: "kill",
                        id: id.clone(),
                        vmid: *vmid,
                        node: node.to_owned(),
                    });
                }
            }
            let now = now.state;
            let pid = match (now.status, now.pid) {
                (Status::Running, Some(pid)) => pid,
                (status, _) => {
                    return Err(RuntimeError::NotRunning {
                        id: id.clone(),
                        status: status_name(status),
                    })
                }
            };
            let cmd = Command::new("kill")
                .arg("-s")
                .arg(signal.number().to_string())
                .arg("--")
                .arg(pid.to_string());
            rt.host.run(&cmd)?.check(&cmd)?;
        }
        Backend::Crun => {
            let now = live(rt, stored, &mapping)?;
            if now.status == Status::Stopped {
                return Err(RuntimeError::NotRunning {
                    id: id.clone(),
                    status: "stopped",
                });
            }
            rt.crun.kill(rt.host, id, signal.number())?;
        }
    }
    Ok(())
}
