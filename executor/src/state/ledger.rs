//! The ledger: what a Proxmox container made by `create` needs beyond what Proxmox holds, kept
//! where it survives a reboot and is seen from every node of the cluster.
//!
//! ```text
//! /etc/pve/priv/proxmox-lxcri/<id>.json   token, VMID (and the node last seen), bundle,
//!                                         created, stop signal, started, annotations
//! ```
//!
//! Proxmox is the source of truth for *where* a container is and whether it exists: its
//! config carries the identity line ([`crate::pve::identity`]), VMIDs are cluster-wide, and
//! `pct migrate` moves the config between `nodes/<node>/lxc/`. What Proxmox does not hold is
//! the OCI side: the bundle path, the creation time, the annotations, and above all the
//! creation token that makes an identity line ours. That goes here, and the state store under
//! `/run/proxmox-lxcri` becomes a cache of both, rebuilt from them after a reboot, on another
//! node, or by `list --refresh`.
//!
//! Why `/etc/pve/priv`: it is pmxcfs, so it is replicated to every node with the configs
//! (a container created on node A is known on node B), it survives reboots, and it is
//! root-only by construction: pmxcfs reports every path under `priv/` with its mode masked to
//! `0700` and refuses any chmod there but to `0600` (pve-cluster `src/pmxcfs/pmxcfs.c`,
//! `cfs_fuse_getattr` and `cfs_fuse_chmod`, with `path_is_private` in `cfs-utils.c`, at
//! 7091d92e), and only root writes anything in `/etc/pve`. The token in a CT's description is
//! readable through the API, but the pairing of id, token and VMID is only here: someone who
//! can write a CT's description (`VM.Config.Options`) cannot make a copied identity line match
//! on another VMID. A `/var/lib` directory would survive reboots too, but a second node would
//! not see it.
//!
//! The files are read through the [`Host`] like the configs are, and parsed strictly: at most
//! [`ENTRY_MAX`] bytes, unknown fields refused, the id inside must be the file's name, the
//! node a valid node name. With pmxcfs read-only (no quorum) writes fail with pmxcfs's error,
//! and so does every `pct` change; see docs/cluster.md.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::host::{Command, FileMode, Host, HostError};
use crate::id::{ContainerId, Vmid};
use crate::pve::identity::Token;
use crate::pve::paths::valid_node;
use crate::pve::PvePaths;

use super::mapping::rfc3339;
use super::{Backend, Mapping};

/// The ledger directory below `/etc/pve`.
pub const LEDGER_DIR: &str = "priv/proxmox-lxcri";
/// A ledger entry is a few hundred bytes; this bounds what a damaged file makes us read.
pub const ENTRY_MAX: usize = 64 * 1024;

/// One container's entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub id: ContainerId,
    pub token: Token,
    /// The VMID: cluster-wide unique and kept by `pct migrate`, so it finds the container on
    /// whichever node holds its config now.
    pub vmid: Vmid,
    /// The node the container was last seen on (a hint; the configs decide).
    pub node: String,
    pub bundle: PathBuf,
    #[serde(with = "rfc3339")]
    pub created: SystemTime,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "super::mapping::signal_name"
    )]
    pub stop_signal: Option<String>,
    /// Whether `start` ran: a stopped container that never started is OCI `created`, one that
    /// did is `stopped`, and Proxmox says only "stopped" for both.
    #[serde(default)]
    pub started: bool,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl Entry {
    /// The entry of a pct mapping; `None` for crun (whose state lives in `/run` with crun's
    /// own and does not outlive a reboot) and for a record without a token (nothing could be
    /// verified against it).
    pub fn of(
        mapping: &Mapping,
        started: bool,
        annotations: BTreeMap<String, String>,
    ) -> Option<Entry> {
        let Backend::Pct { vmid, node } = &mapping.backend else {
            return None;
        };
        Some(Entry {
            id: mapping.id.clone(),
            token: mapping.token.clone()?,
            vmid: *vmid,
            node: node.clone(),
            bundle: mapping.bundle.clone(),
            created: mapping.created,
            stop_signal: mapping.stop_signal.clone(),
            started,
            annotations,
        })
    }

    /// The mapping the cache holds for this entry, on `node`.
    pub fn mapping(&self, node: &str) -> Mapping {
        Mapping {
            id: self.id.clone(),
            bundle: self.bundle.clone(),
            backend: Backend::Pct {
                vmid: self.vmid,
                node: node.to_owned(),
            },
            created: self.created,
            token: Some(self.token.clone()),
            stop_signal: self.stop_signal.clone(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error(transparent)]
    Host(#[from] HostError),
    #[error("{path} is not a valid ledger entry: {why}")]
    Corrupt { path: PathBuf, why: String },
}

/// The ledger of a cluster, reached through a host.
pub struct Ledger<'h> {
    host: &'h dyn Host,
    dir: PathBuf,
}

fn not_found(e: &HostError) -> bool {
    matches!(e, HostError::Io { source, .. } if source.kind() == io::ErrorKind::NotFound)
}

impl<'h> Ledger<'h> {
    pub fn new(host: &'h dyn Host, paths: &PvePaths) -> Self {
        Self {
            host,
            dir: paths.etc_pve().join(LEDGER_DIR),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, id: &ContainerId) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    /// The entry of `id`; `None` if there is none.
    pub fn read(&self, id: &ContainerId) -> Result<Option<Entry>, LedgerError> {
        let path = self.path(id);
        let bytes = match self.host.read_file(&path) {
            Ok(b) => b,
            Err(e) if not_found(&e) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let corrupt = |why: String| LedgerError::Corrupt {
            path: path.clone(),
            why,
        };
        if bytes.len() > ENTRY_MAX {
            return Err(corrupt(format!("larger than {ENTRY_MAX} bytes")));
        }
        let entry: Entry = serde_json::from_slice(&bytes).map_err(|e| corrupt(e.to_string()))?;
        if entry.id != *id {
            return Err(corrupt(format!(
                "it names container {:?}",
                entry.id.as_str()
            )));
        }
        if !valid_node(&entry.node) {
            return Err(corrupt(format!("{:?} is not a node name", entry.node)));
        }
        Ok(Some(entry))
    }

    /// Writes (replaces) the entry, mode 0600 (the only mode pmxcfs allows under `priv/`).
    pub fn write(&self, entry: &Entry) -> Result<(), LedgerError> {
        let mut bytes = serde_json::to_vec_pretty(entry).map_err(|e| LedgerError::Corrupt {
            path: self.path(&entry.id),
            why: e.to_string(),
        })?;
        bytes.push(b'\n');
        let path = self.path(&entry.id);
        match self.host.write_file(&path, &bytes, FileMode::Exact(0o600)) {
            Err(HostError::Write(e)) if e.source.kind() == io::ErrorKind::NotFound => {
                // The first entry of the cluster: the directory is made in `priv/`, which
                // pmxcfs always has (no `-p`: off a Proxmox node nothing is created).
                let mkdir = Command::new("mkdir")
                    .arg("-m")
                    .arg("0700")
                    .arg("--")
                    .arg(&self.dir);
                let out = self.host.run(&mkdir)?;
                if !out.success() && !out.stderr_lossy().contains("File exists") {
                    out.check(&mkdir)?;
                }
                self.host
                    .write_file(&path, &bytes, FileMode::Exact(0o600))?;
            }
            other => other?,
        }
        Ok(())
    }

    /// Removes the entry; a missing one is fine.
    pub fn remove(&self, id: &ContainerId) -> Result<(), LedgerError> {
        Ok(self.host.remove_file(&self.path(id))?)
    }

    /// Removes `id`'s entry only if it is of the creation `token` names: another creation of the
    /// same id (on another node, after a delete) keeps its entry. Whether one was removed.
    pub fn remove_own(
        &self,
        id: &ContainerId,
        token: Option<&crate::pve::identity::Token>,
    ) -> Result<bool, LedgerError> {
        match self.read(id)? {
            Some(entry) if Some(&entry.token) == token => {
                self.remove(id)?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    /// Every id with an entry, sorted; names that are not `<valid id>.json` are skipped (a
    /// temporary file of a write in progress, or something that is not ours).
    pub fn ids(&self) -> Result<Vec<ContainerId>, LedgerError> {
        let names = match self.host.list_dir(&self.dir) {
            Ok(n) => n,
            Err(e) if not_found(&e) => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        };
        let mut ids: Vec<ContainerId> = names
            .iter()
            .filter_map(|n| n.to_str())
            .filter_map(|n| n.strip_suffix(".json"))
            .filter_map(|n| ContainerId::new(n).ok())
            .collect();
        ids.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        Ok(ids)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::RecordingHost;
    use std::time::Duration;

    fn entry() -> Entry {
        Entry {
            id: ContainerId::new("web").unwrap(),
            token: Token::parse("0123456789abcdef0123456789abcdef").unwrap(),
            vmid: Vmid::new(105).unwrap(),
            node: "pve1".into(),
            bundle: "/b/web".into(),
            created: SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
            stop_signal: Some("SIGQUIT".into()),
            started: false,
            annotations: BTreeMap::new(),
        }
    }

    #[test]
    fn entries_round_trip_and_are_listed() {
        let host = RecordingHost::new();
        let paths = PvePaths::under("/sim");
        let ledger = Ledger::new(&host, &paths);
        assert_eq!(ledger.ids().unwrap(), Vec::<ContainerId>::new());
        ledger.write(&entry()).unwrap();
        let path = Path::new("/sim/etc/pve/priv/proxmox-lxcri/web.json");
        assert!(host.file(path).is_some());
        assert_eq!(ledger.read(&entry().id).unwrap(), Some(entry()));
        assert_eq!(ledger.ids().unwrap(), vec![entry().id]);
        ledger.remove(&entry().id).unwrap();
        assert_eq!(ledger.read(&entry().id).unwrap(), None);
    }

    #[test]
    fn damaged_or_foreign_entries_are_refused() {
        let host = RecordingHost::new();
        let paths = PvePaths::under("/sim");
        let ledger = Ledger::new(&host, &paths);
        let path = "/sim/etc/pve/priv/proxmox-lxcri/web.json";
        let good = serde_json::to_string(&entry()).unwrap();
        for (bad, why) in [
            (good.replace("\"web\"", "\"db\""), "names container"),
            (good.replace("pve1", "../x"), "not a node name"),
            (
                good.replace("\"vmid\"", "\"extra\":1,\"vmid\""),
                "unknown field",
            ),
            (good.replace("0123456789abcdef0123", "zz"), "token"),
            (good.replace("SIGQUIT", "SIGNOPE"), "SIGNOPE"),
            ("x".repeat(ENTRY_MAX + 1), "larger than"),
        ] {
            host.with_file(path, bad.clone());
            let err = ledger.read(&entry().id).unwrap_err().to_string();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }
}
