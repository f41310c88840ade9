//! `stop <id> [--timeout N]`: a graceful stop.
//!
//! Proxmox: `pct shutdown --timeout N --forceStop 1`, which sends `lxc.signal.halt` (the
//! bundle's stop signal, written by the translator) and kills the container when the timeout
//! passes. crun: the stop signal recorded at create time (the translation's halt signal, from
//! the same three annotations), then SIGKILL after the timeout. Nothing here reads the bundle.

use std::time::{Duration, Instant};

use crate::id::ContainerId;
use crate::state::{Backend, Mapping, OciState, Record, Status};

use super::state::{gone, live, live_checked};
use super::{Runtime, RuntimeError, Signal};

/// The signal `stop` sends to a crun container: the recorded one, else SIGTERM (runc's and
/// crun's default for `kill`).
pub fn stop_signal(mapping: &Mapping) -> Signal {
    mapping
        .stop_signal
        .as_deref()
        .and_then(|s| Signal::parse(s).ok())
        .unwrap_or(Signal::TERM)
}

pub fn stop(rt: &Runtime<'_>, id: &ContainerId, timeout: Duration) -> Result<(), RuntimeError> {
    let (lock, record) = rt.lock_record(id)?;
    let (stored, mapping) = match record {
        Record::Complete { state, mapping } => (state, mapping),
        Record::Partial(p) => return Err(RuntimeError::Partial(Box::new(p))),
    };
    let now = live_checked(rt, stored.clone(), &mapping)?;
    if now.gone {
        return Err(gone(&mapping));
    }
    let mapping = match &now.node {
        Some(node) => rt.moved(&lock, mapping, node)?,
        None => mapping,
    };
    let now = now.state;
    if now.status == Status::Running {
        match &mapping.backend {
            Backend::Pct { vmid, node } => match rt.remote(node)? {
                None => crate::pve::shutdown(rt.host, *vmid, timeout)?,
                Some(remote) => crate::pve::cluster::shutdown(rt.host, remote, *vmid, timeout)?,
            },
            Backend::Crun => stop_crun(rt, id, timeout, stop_signal(&mapping), &mapping, &stored)?,
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
    mapping: &Mapping,
    stored: &OciState,
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
