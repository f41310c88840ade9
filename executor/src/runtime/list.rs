//! `list`: every container in the store, with its live status.

use std::path::PathBuf;
use std::time::SystemTime;

use serde::Serialize;

use crate::id::ContainerId;
use crate::state::{Backend, Creator, Record};

use super::state::live_checked;
use super::{status_name, Runtime, RuntimeError};

/// One row of `list`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Listing {
    pub id: String,
    pub pid: i32,
    /// An OCI status, or `interrupted` (a create that did not finish) or `unknown` (with `error`).
    pub status: String,
    pub bundle: PathBuf,
    #[serde(with = "rfc3339_opt")]
    pub created: Option<SystemTime>,
    pub runtime: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vmid: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

mod rfc3339_opt {
    use std::time::SystemTime;

    pub fn serialize<S: serde::Serializer>(
        t: &Option<SystemTime>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.collect_str(&humantime::format_rfc3339_seconds(*t)),
            None => s.serialize_none(),
        }
    }
}

fn backend_fields(b: Option<&Backend>) -> (&'static str, Option<u32>, Option<String>) {
    match b {
        Some(Backend::Pct { vmid, node }) => ("pct", Some(vmid.get()), Some(node.clone())),
        Some(Backend::Crun) => ("crun", None, None),
        None => ("", None, None),
    }
}

/// Never fails as a whole: a broken entry is a row with `status` `unknown` and its error.
///
/// The ids are those of the local cache and of the cluster's ledger: a container created on
/// another node, or before a reboot, is listed (its cache record rebuilt on the way), and a
/// cached one deleted from another node is dropped ([`Runtime::record`]).
pub fn list(rt: &Runtime<'_>) -> Result<Vec<Listing>, super::RuntimeError> {
    let mut entries: Vec<(String, Result<Record, String>)> = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for entry in rt.store.list()? {
        seen.insert(entry.name.clone());
        let record = match (entry.record, ContainerId::new(entry.name.clone())) {
            // Complete pct records are resolved against the ledger; the rest as stored.
            (Ok(Record::Complete { .. }), Ok(id)) => match rt.record(&id) {
                Ok(r) => Ok(r),
                Err(RuntimeError::NotFound { .. }) => continue,
                Err(e) => Err(e.to_string()),
            },
            (Ok(r), _) => Ok(r),
            (Err(e), _) => Err(e.to_string()),
        };
        entries.push((entry.name, record));
    }
    for id in rt.ledger().ids()? {
        if seen.contains(id.as_str()) {
            continue;
        }
        let record = match rt.record(&id) {
            Ok(r) => Ok(r),
            Err(RuntimeError::NotFound { .. }) => continue,
            Err(e) => Err(e.to_string()),
        };
        entries.push((id.as_str().to_owned(), record));
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let mut rows = Vec::new();
    for (name, record) in entries {
        rows.push(row(rt, name, record));
    }
    Ok(rows)
}

/// `list --refresh`: the cache rebuilt from Proxmox and the ledger, then [`list`]. Every
/// complete pct record is dropped and rebuilt from its ledger entry (so a cache that went
/// wrong, or a record whose CT migrated, is corrected), records of creates in progress and
/// crun containers are kept. The notes name every CT config in the cluster whose identity
/// line no ledger entry vouches for (a forged or copied line, or one of a container whose
/// entry was lost): such a CT is not adopted, and is left as it is.
pub fn refresh(rt: &Runtime<'_>) -> Result<(Vec<Listing>, Vec<String>), RuntimeError> {
    let mut notes = Vec::new();
    for entry in rt.store.list()? {
        let Ok(Record::Complete { mapping, .. }) = entry.record else {
            continue;
        };
        if !matches!(mapping.backend, Backend::Pct { .. }) {
            continue;
        }
        // One container that cannot be refreshed (a corrupt entry, a config that cannot be
        // read) is a note; `list` never fails as a whole.
        if let Err(e) = refresh_one(rt, &mapping) {
            notes.push(format!("{} was not refreshed: {e}", mapping.id));
        }
    }
    let rows = list(rt)?;
    let ledger = rt.ledger();
    let stamped = match crate::pve::cluster::stamped(rt.host, &rt.paths) {
        Ok(s) => s,
        Err(e) => {
            notes.push(format!(
                "the cluster's container configs could not all be read, so CTs carrying an identity line no ledger entry vouches for are not named: {e}"
            ));
            Vec::new()
        }
    };
    for ct in stamped {
        let vouched = match ct.identity() {
            Some((id, token)) => match ledger.read(&id) {
                Ok(e) => e.is_some_and(|e| e.token == token && e.vmid == ct.vmid),
                Err(e) => {
                    notes.push(format!("CT {} on node {}: {e}", ct.vmid, ct.node));
                    continue;
                }
            },
            None => false,
        };
        if !vouched {
            let claimed: Vec<&str> = ct
                .found
                .stamps
                .iter()
                .map(|s| s.split(';').next().unwrap_or_default())
                .collect();
            notes.push(format!(
                "CT {} on node {} carries a proxmox-lxcri identity line for {:?} that no ledger entry vouches for; it was not adopted and is left as it is",
                ct.vmid, ct.node, claimed
            ));
        }
    }
    Ok((rows, notes))
}

/// One cache record made true to its ledger entry (see [`refresh`]).
fn refresh_one(rt: &Runtime<'_>, mapping: &crate::state::Mapping) -> Result<(), RuntimeError> {
    let lock = rt.lock(&mapping.id)?;
    match rt.ledger().read(&mapping.id)? {
        // Rewritten in place from the entry (the node it was last seen on, the bundle and
        // annotations), keeping the container's other files: an engine's container has its
        // stand-in record and the directory bound into the running CT there.
        Some(e) if Some(&e.token) == mapping.token.as_ref() => {
            rt.store.write_mapping(&lock, &e.mapping(&e.node))?;
            if let Ok(Record::Complete { mut state, .. }) = rt.store.read_locked(&lock) {
                state.bundle = e.bundle.clone();
                state.annotations = e.annotations.clone();
                rt.store.write_state(&lock, &state)?;
            }
        }
        // No entry (a record from before the ledger, or deleted elsewhere): resolved.
        _ => {
            let record = rt.store.read_locked(&lock);
            match rt.resolve_locked(lock, record) {
                Ok(_) | Err(RuntimeError::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(())
}

fn row(rt: &Runtime<'_>, name: String, record: Result<Record, String>) -> Listing {
    match record {
        Ok(Record::Complete { state, mapping }) => {
            let (runtime, vmid, node) = backend_fields(Some(&mapping.backend));
            let base = Listing {
                id: name,
                pid: 0,
                status: String::new(),
                bundle: mapping.bundle.clone(),
                created: Some(mapping.created),
                runtime,
                vmid,
                node,
                error: None,
            };
            match live_checked(rt, state, &mapping) {
                Ok(s) => Listing {
                    pid: s.state.pid.unwrap_or(0),
                    status: status_name(s.state.status).into(),
                    node: s.node.or(base.node.clone()),
                    ..base
                },
                Err(e) => Listing {
                    status: "unknown".into(),
                    error: Some(e.to_string()),
                    ..base
                },
            }
        }
        Ok(Record::Partial(p)) => {
            let (runtime, vmid, node) = backend_fields(p.mapping.as_ref().map(|m| &m.backend));
            let status = if p.creator == Creator::InProgress {
                "creating"
            } else {
                "interrupted"
            };
            Listing {
                id: name,
                pid: 0,
                status: status.into(),
                bundle: p
                    .marker
                    .as_ref()
                    .map(|m| m.bundle.clone())
                    .unwrap_or_default(),
                created: p.marker.as_ref().map(|m| m.started),
                runtime,
                vmid,
                node,
                error: (p.creator != Creator::InProgress).then(|| p.to_string()),
            }
        }
        Err(e) => Listing {
            id: name,
            pid: 0,
            status: "unknown".into(),
            bundle: PathBuf::new(),
            created: None,
            runtime: "",
            vmid: None,
            node: None,
            error: Some(e),
        },
    }
}
