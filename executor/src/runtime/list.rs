//! `list`: every container in the store, with its live status.

use std::path::PathBuf;
use std::time::SystemTime;

use serde::Serialize;

use crate::state::{Backend, Creator, Record};

use super::state::live;
use super::{status_name, Runtime};

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
pub fn list(rt: &Runtime<'_>) -> Result<Vec<Listing>, super::RuntimeError> {
    let mut rows = Vec::new();
    for entry in rt.store.list()? {
        let row = match entry.record {
            Ok(Record::Complete { state, mapping }) => {
                let (runtime, vmid, node) = backend_fields(Some(&mapping.backend));
                let base = Listing {
                    id: entry.name.clone(),
                    pid: 0,
                    status: String::new(),
                    bundle: mapping.bundle.clone(),
                    created: Some(mapping.created),
                    runtime,
                    vmid,
                    node,
                    error: None,
                };
                match live(rt, state, &mapping) {
                    Ok(s) => Listing {
                        pid: s.pid.unwrap_or(0),
                        status: status_name(s.status).into(),
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
                    id: entry.name.clone(),
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
                id: entry.name.clone(),
                pid: 0,
                status: "unknown".into(),
                bundle: PathBuf::new(),
                created: None,
                runtime: "",
                vmid: None,
                node: None,
                error: Some(e.to_string()),
            },
        };
        rows.push(row);
    }
    Ok(rows)
}
