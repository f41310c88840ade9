//! `start <id>`: runs a created container (`pct start`, or `crun start`).

use crate::id::ContainerId;
use crate::state::{Backend, OciState, Record, Status};

use super::state::live;
use super::{status_name, Runtime, RuntimeError};

pub fn start(rt: &Runtime<'_>, id: &ContainerId) -> Result<OciState, RuntimeError> {
    let lock = rt.lock(id)?;
    let (stored, mapping) = match rt.store.read_locked(&lock)? {
        Record::Complete { state, mapping } => (state, mapping),
        Record::Partial(p) => return Err(RuntimeError::Partial(Box::new(p))),
    };
    let now = live(rt, stored.clone(), &mapping)?;
    if now.status != Status::Created {
        return Err(RuntimeError::WrongStatus {
            verb: "start",
            id: id.clone(),
            status: status_name(now.status),
            wanted: "created",
        });
    }
    match &mapping.backend {
        Backend::Pct { vmid, .. } => crate::pve::start(rt.host, *vmid)?,
        Backend::Crun => rt.crun.start(rt.host, id)?,
    }
    let mut started = stored;
    started.status = Status::Running;
    let now = live(rt, started.clone(), &mapping)?;
    started.pid = now.pid;
    rt.store.write_state(&lock, &started)?;
    Ok(now)
}
