//! `delete [--force] <id>`: destroys the container and forgets it.
//!
//! A running container is refused unless `--force`, which shuts it down first (with the
//! timeout, then a kill). A record whose create never finished is cleaned up from its journal.
//!
//! Nothing is destroyed that this id did not create: the Proxmox container's identity is
//! checked before the shutdown and again right before `pct destroy`. A container that is gone
//! is simply forgotten. With `--force`, a record that cannot be verified (another container now
//! holds the VMID, the record predates identity stamps, or the record itself is corrupt) is
//! removed from the store while every Proxmox container is left as it is; the returned notes
//! say so.

use std::time::Duration;

use crate::apply::{ApplyError, StepError};
use crate::id::ContainerId;
use crate::pve::identity::{destroy_if_ours, Ct, Owner};
use crate::pve::{cluster, PctError};
use crate::state::{Backend, Mapping, Record, Status, StoreError};

use super::state::live;
use super::{recover, Located, Runtime, RuntimeError};

/// Store errors that mean the record itself cannot be trusted or parsed.
fn unreadable(e: &StoreError) -> bool {
    matches!(
        e,
        StoreError::Corrupt { .. }
            | StoreError::Insecure { .. }
            | StoreError::IdMismatch { .. }
            | StoreError::Stray { .. }
    )
}

/// True when every failure in a recovery is an identity refusal: nothing of ours is left there.
fn only_identity_refusals(error: &ApplyError) -> bool {
    let mut at = Some(error);
    while let Some(e) = at {
        if !matches!(e.cause, StepError::Pct(PctError::Identity(_))) {
            return false;
        }
        at = e.rollback.as_deref();
    }
    true
}

/// Deletes `id`; the notes say what was left alone and why.
pub fn delete(
    rt: &Runtime<'_>,
    id: &ContainerId,
    force: bool,
    timeout: Duration,
) -> Result<Vec<String>, RuntimeError> {
    let lock = rt.lock(id)?;
    let mut notes = Vec::new();
    let (lock, record) = match rt.store.read_locked(&lock) {
        // Resolved with Proxmox and the ledger: a container created on another node, or
        // before a reboot, is rebuilt into the cache first; a stale record is dropped.
        Ok(r) => rt.resolve_locked(lock, Ok(r))?,
        Err(StoreError::NotFound { id }) => {
            rt.resolve_locked(lock, Err(StoreError::NotFound { id }))?
        }
        Err(e) if force && unreadable(&e) => {
            // Only the mapping is tried, for the message; nothing acts on what it says.
            let left = match rt.store.read_mapping_alone(id) {
                Ok(Some(Mapping {
                    backend: Backend::Pct { vmid, node },
                    ..
                })) => format!(
                    "; its mapping names Proxmox CT {vmid} on node {node}, which was not touched"
                ),
                _ => String::new(),
            };
            notes.push(format!(
                "the record of {id} could not be used ({e}); --force removed it without acting on any Proxmox container{left}"
            ));
            rt.store.remove(lock)?;
            return Ok(notes);
        }
        Err(e) => return Err(e.into()),
    };
    let token = match &record {
        Record::Complete { mapping, .. } => mapping.token.clone(),
        Record::Partial(p) => p.mapping.as_ref().and_then(|m| m.token.clone()),
    };
    match record {
        Record::Partial(p) => match recover::clean(rt, &lock, &p) {
            Ok(()) => {}
            Err(RuntimeError::Recovery { error, .. })
                if force && only_identity_refusals(&error) =>
            {
                notes.push(format!(
                    "the interrupted create of {id} named containers it did not make ({error}); --force removed the record and left them as they are"
                ));
            }
            Err(e) => return Err(e),
        },
        Record::Complete { state, mapping } => match rt.locate(&mapping) {
            Ok(Some(Located::Gone)) => {
                if let Backend::Pct { vmid, node } = &mapping.backend {
                    notes.push(format!(
                        "Proxmox CT {vmid} of {id} no longer exists on node {node} or any other node; only the record was removed"
                    ));
                }
            }
            Ok(located) => {
                let mapping = match &located {
                    Some(Located::At(node)) => rt.moved(&lock, mapping, node)?,
                    _ => mapping,
                };
                let engine = rt.store.read_file::<super::engine_pct::EngineRecord>(
                    id,
                    crate::state::ContainerFile::Engine,
                )?;
                let now = live(rt, state, &mapping)?;
                // An engine's created container runs (its init waits): it is shut down too.
                let runs = now.status == Status::Running
                    || (engine.is_some() && now.status == Status::Created);
                if now.status == Status::Running && !force {
                    return Err(RuntimeError::Running { id: id.clone() });
                }
                match &mapping.backend {
                    Backend::Pct { vmid, node } if rt.remote(node)?.is_some() => {
                        if now.status == Status::Running {
                            cluster::shutdown(rt.host, node, *vmid, timeout)?;
                        }
                        // Checked again, on the node it is on, right before the destroy.
                        if rt.verify(&mapping)? == Some(Ct::Ours) {
                            cluster::destroy(rt.host, node, *vmid)?;
                        }
                    }
                    Backend::Pct { vmid, node } => {
                        if runs {
                            crate::pve::shutdown(rt.host, *vmid, timeout)?;
                        }
                        // Checked again: the shutdown may have taken the whole timeout.
                        let owner = Owner {
                            id: id.clone(),
                            node: node.clone(),
                            token: mapping.token.clone(),
                        };
                        destroy_if_ours(rt.host, &rt.paths, &owner, *vmid)?;
                    }
                    Backend::Crun => rt.crun.delete(rt.host, id, force)?,
                }
            }
            Err(RuntimeError::Identity(e)) if force => {
                notes.push(format!("{e}; --force removed only the record of {id}"));
            }
            Err(e) => return Err(e),
        },
    }
    rt.forget(lock, token.as_ref())?;
    Ok(notes)
}
