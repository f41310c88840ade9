//! `state <id>`: the stored record combined with what the backend says now.
//!
//! `created` lasts until `start`; afterwards the status and the init's host pid come from
//! `pct status --verbose` (or `crun state`) on every call, so an init that exited shows as
//! `stopped` without any command having run in between.
//!
//! Before `pct status`, the container's identity is checked ([`Runtime::verify`]): a VMID that
//! now belongs to another container is refused, and one whose config is gone is reported as
//! `stopped` with [`CT_ANNOTATION`] `gone`.

use crate::id::ContainerId;
use crate::state::{Backend, ContainerFile, Creator, Mapping, OciState, Record, Status};

use super::{Located, Runtime, RuntimeError};

/// Annotations `state` adds so that a user can find the Proxmox container.
pub const VMID_ANNOTATION: &str = "org.proxmox-lxcri.vmid";
pub const NODE_ANNOTATION: &str = "org.proxmox-lxcri.node";
/// `gone` when the Proxmox container no longer exists on its node.
pub const CT_ANNOTATION: &str = "org.proxmox-lxcri.ct";

pub fn state(rt: &Runtime<'_>, id: &ContainerId) -> Result<OciState, RuntimeError> {
    match rt.record(id)? {
        Record::Complete { state, mapping } => live(rt, state, &mapping),
        Record::Partial(p) if p.creator == Creator::InProgress => {
            let bundle = p
                .marker
                .as_ref()
                .map(|m| m.bundle.clone())
                .unwrap_or_default();
            Ok(OciState::new(id.clone(), Status::Creating, bundle))
        }
        Record::Partial(p) => Err(RuntimeError::Partial(Box::new(p))),
    }
}

/// `stored` with its status and pid brought up to date, and whether its Proxmox container is
/// gone.
pub(crate) struct Live {
    pub state: OciState,
    pub gone: bool,
    /// The node the Proxmox CT is on now (it may have migrated since the record was
    /// written); `None` for crun and for a gone CT.
    pub node: Option<String>,
}

/// `stored` with its status and pid brought up to date.
pub(crate) fn live(
    rt: &Runtime<'_>,
    stored: OciState,
    mapping: &Mapping,
) -> Result<OciState, RuntimeError> {
    live_checked(rt, stored, mapping).map(|l| l.state)
}

pub(crate) fn live_checked(
    rt: &Runtime<'_>,
    mut stored: OciState,
    mapping: &Mapping,
) -> Result<Live, RuntimeError> {
    let was_created = stored.status == Status::Created;
    stored.pid = None;
    let engine: Option<super::engine_pct::EngineRecord> = match &mapping.backend {
        Backend::Pct { .. } => rt.store.read_file(&stored.id, ContainerFile::Engine)?,
        Backend::Crun => None,
    };
    let mut gone = false;
    let mut at = None;
    match &mapping.backend {
        Backend::Pct { vmid, node } => {
            stored
                .annotations
                .insert(VMID_ANNOTATION.into(), vmid.to_string());
            let located = match rt.locate(mapping)? {
                Some(Located::At(now)) => Some(now),
                _ => None,
            };
            stored.annotations.insert(
                NODE_ANNOTATION.into(),
                located.clone().unwrap_or_else(|| node.clone()),
            );
            match located {
                None => {
                    gone = true;
                    stored
                        .annotations
                        .insert(CT_ANNOTATION.into(), "gone".into());
                    stored.status = Status::Stopped;
                }
                Some(now) => match status_on(rt, &now, *vmid)? {
                    // Proxmox's status is `running` or `stopped` (LXC.pm `vmstatus`); a frozen
                    // container is `running` there and `paused` here, as LXC reports it.
                    Some(s) if s.running && rt.remote(&now)?.is_some() => {
                        // Another node's pid means nothing here: OCI's pid is a pid on this
                        // host, so it is left out (and `kill` is refused with the node's name).
                        stored.status = Status::Running;
                        at = Some(now);
                    }
                    // An engine's container runs from create on, its init waiting for `start`;
                    // the engine knows the stand-in's pid (`--pid-file`).
                    Some(s) if s.running && engine.is_some() => {
                        stored.status = if was_created {
                            Status::Created
                        } else {
                            Status::Running
                        };
                        stored.pid = engine.as_ref().map(|e| e.standin);
                        at = Some(now);
                    }
                    Some(s) if s.running => {
                        stored.status = if crate::pve::lxc::frozen(rt.host, &rt.paths, *vmid)? {
                            Status::Paused
                        } else {
                            Status::Running
                        };
                        stored.pid = s.pid;
                        at = Some(now);
                    }
                    // pct create starts nothing: until `start`, a stopped container is `created`.
                    // ... unless another node started it since (the ledger says so).
                    Some(_) if was_created && !rt.started_elsewhere(mapping)? => {
                        stored.status = Status::Created;
                        at = Some(now);
                    }
                    Some(_) => {
                        stored.status = Status::Stopped;
                        at = Some(now);
                    }
                    None => stored.status = Status::Stopped,
                },
            }
        }
        Backend::Crun => match rt.crun.state(rt.host, &stored.id)? {
            Some(s) => {
                stored.status = match s.status.as_str() {
                    "created" => Status::Created,
                    "running" => Status::Running,
                    "paused" => Status::Paused,
                    _ => Status::Stopped,
                };
                if stored.status != Status::Stopped {
                    stored.pid = s.pid;
                }
            }
            None => stored.status = Status::Stopped,
        },
    }
    Ok(Live {
        state: stored,
        gone,
        node: at,
    })
}

/// `pct status` on this node, the API's `status/current` through `pvesh` for another.
fn status_on(
    rt: &Runtime<'_>,
    node: &str,
    vmid: crate::id::Vmid,
) -> Result<Option<crate::pve::CtStatus>, RuntimeError> {
    Ok(match rt.remote(node)? {
        None => crate::pve::status(rt.host, vmid)?,
        Some(remote) => crate::pve::cluster::status(rt.host, remote, vmid)?,
    })
}

/// The error for a verb that needs the Proxmox container when it is gone.
pub(crate) fn gone(mapping: &Mapping) -> RuntimeError {
    match &mapping.backend {
        Backend::Pct { vmid, node } => RuntimeError::Gone {
            id: mapping.id.clone(),
            vmid: *vmid,
            node: node.clone(),
        },
        Backend::Crun => RuntimeError::NotFound {
            id: mapping.id.clone(),
        },
    }
}
