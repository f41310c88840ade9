//! `start <id>`: runs a created container (`pct start`, or `crun start`), after checking that
//! the VMID is still the container this id created.

use crate::id::ContainerId;
use crate::state::{Backend, ContainerFile, OciState, Record, Status};

use super::state::{gone, live, live_checked};
use super::{status_name, Runtime, RuntimeError};

pub fn start(rt: &Runtime<'_>, id: &ContainerId) -> Result<OciState, RuntimeError> {
    let (lock, record) = rt.lock_record(id)?;
    let (stored, mapping) = match record {
        Record::Complete { state, mapping } => (state, mapping),
        Record::Partial(p) => return Err(RuntimeError::Partial(Box::new(p))),
    };
    let now = live_checked(rt, stored.clone(), &mapping)?;
    if now.gone {
        return Err(gone(&mapping));
    }
    // Proxmox says where the CT is: after a `pct migrate` the record follows it.
    let mapping = match &now.node {
        Some(node) => rt.moved(&lock, mapping, node)?,
        None => mapping,
    };
    if now.state.status != Status::Created {
        return Err(RuntimeError::WrongStatus {
            verb: "start",
            id: id.clone(),
            status: status_name(now.state.status),
            wanted: "created",
        });
    }
    let engine: Option<super::engine_pct::EngineRecord> =
        rt.store.read_file(id, ContainerFile::Engine)?;
    match &mapping.backend {
        // An engine's container runs already, its init waiting: release the process.
        Backend::Pct { .. } if engine.is_some() => {
            let fifo = rt.store.path(id, ContainerFile::ExecFifo);
            super::engine_pct::release(&fifo, std::time::Duration::from_secs(30))
                .map_err(|e| RuntimeError::Usage(format!("start: {e}")))?;
        }
        Backend::Pct { vmid, node } => match rt.remote(node)? {
            None => crate::pve::start(rt.host, *vmid)?,
            Some(remote) => crate::pve::cluster::start(rt.host, remote, *vmid)?,
        },
        Backend::Crun => rt.crun.start(rt.host, id)?,
    }
    let mut started = stored;
    started.status = Status::Running;
    let now = live(rt, started.clone(), &mapping)?;
    started.pid = now.pid;
    if let Some(e) = &engine {
        started.pid = Some(e.standin);
    }
    rt.store.write_state(&lock, &started)?;
    rt.mark_started(&mapping)?;
    Ok(now)
}
