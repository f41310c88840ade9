//! `stop <id> [--timeout N]`: a graceful stop.
//!
//! Proxmox: `pct shutdown --timeout N --forceStop 1`, which sends `lxc.signal.halt` (the
//! bundle's stop signal, written by the translator) and kills the container when the timeout
//! passes. crun: the stop signal, then SIGKILL after the timeout.

use std::time::{Duration, Instant};

use crate::id::ContainerId;
use crate::state::{Backend, Record, Status};

use super::state::live;
use super::{Runtime, RuntimeError, Signal};

pub fn stop(
    rt: &Runtime<'_>,
    id: &ContainerId,
    timeout: Duration,
    signal: Signal,
) -> Result<(), RuntimeError> {
    let lock = rt.lock(id)?;
    let (stored, mapping) = match rt.store.read_locked(&lock)? {
        Record::Complete { state, mapping } => (state, mapping),
        Record::Partial(p) => return Err(RuntimeError::Partial(Box::new(p))),
    };
    let now = live(rt, stored.clone(), &mapping)?;
    if now.status == Status::Running {
        match &mapping.backend {
            Backend::Pct { vmid, .. } => crate::pve::shutdown(rt.host, *vmid, timeout)?,
            Backend::Crun => stop_crun(rt, id, timeout, signal, &mapping, &stored)?,
        }
    }
    if now.status != Status::Created {
        let mut stopped = stored;
        stopped.status = Status::Stopped;
        stopped.pid = None;
        rt.store.write_state(&lock, &stopped)?;
    }
    Ok(())
}

fn stop_crun(
    rt: &Runtime<'_>,
    id: &ContainerId,
    timeout: Duration,
    signal: Signal,
    mapping: &crate::state::Mapping,
    stored: &crate::state::OciState,
) -> Result<(), RuntimeError> {
    rt.crun.kill(rt.host, id, signal.number())?;
    let start = Instant::now();
    while start.elapsed() < timeout {
        if live(rt, stored.clone(), mapping)?.status == Status::Stopped {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    rt.crun.kill(rt.host, id, Signal::KILL.number())?;
    Ok(())
}
