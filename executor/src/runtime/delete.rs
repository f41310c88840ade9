//! `delete [--force] <id>`: destroys the container and forgets it.
//!
//! A running container is refused unless `--force`, which shuts it down first (with the
//! timeout, then a kill). A record whose create never finished is cleaned up from its journal.

use std::time::Duration;

use crate::id::ContainerId;
use crate::state::{Backend, Record, Status};

use super::state::live;
use super::{recover, Runtime, RuntimeError};

pub fn delete(
    rt: &Runtime<'_>,
    id: &ContainerId,
    force: bool,
    timeout: Duration,
) -> Result<(), RuntimeError> {
    let lock = rt.lock(id)?;
    match rt.store.read_locked(&lock)? {
        Record::Partial(p) => recover::clean(rt, &lock, &p)?,
        Record::Complete { state, mapping } => {
            let now = live(rt, state, &mapping)?;
            if now.status == Status::Running && !force {
                return Err(RuntimeError::Running { id: id.clone() });
            }
            match &mapping.backend {
                Backend::Pct { vmid, .. } => {
                    if now.status == Status::Running {
                        crate::pve::shutdown(rt.host, *vmid, timeout)?;
                    }
                    crate::pve::destroy(rt.host, *vmid)?;
                }
                Backend::Crun => rt.crun.delete(rt.host, id, force)?,
            }
        }
    }
    rt.store.remove(lock)?;
    Ok(())
}
