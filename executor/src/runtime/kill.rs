//! `kill <id> [SIGNAL]`: a signal from the host to the container's init.
//!
//! On Proxmox the pid is the init's host pid from `pct status --verbose`, and the signal is
//! sent with the host's `kill`, never through `pct exec`: inside the container a signal to pid 1
//! is dropped unless the init handles it, so SIGKILL from within would do nothing. From the
//! host, SIGKILL always works; other signals reach the init only if it handles them.

use crate::host::Command;
use crate::id::ContainerId;
use crate::state::{Backend, ContainerFile, Record, Status};

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
            let engine = rt
                .store
                .read_file::<super::engine_pct::EngineRecord>(id, ContainerFile::Engine)?;
            let pid = match (now.status, now.pid, &engine) {
                // An engine's container: the CT's init (ours, `engine_pct`), which forwards the
                // signal to the process (or, before start, ends the container); the identity
                // was checked. The pid is Proxmox's, read now: never the one `engine.json`
                // recorded at create, which belongs to whatever process has it since, if the
                // container stopped in between.
                (Status::Created | Status::Running, Some(_), Some(_)) => {
                    match crate::pve::status(rt.host, *vmid)? {
                        Some(crate::pve::CtStatus {
                            running: true,
                            pid: Some(pid),
                            ..
                        }) => pid,
                        _ => {
                            return Err(RuntimeError::NotRunning {
                                id: id.clone(),
                                status: "stopped",
                            })
                        }
                    }
                }
                (Status::Running, Some(pid), None) => pid,
                (status, _, _) => {
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
