//! Undo: what each completed step left behind, how to take it back, and the journal that keeps
//! that list across a crash.
//!
//! Every undo is recorded *before* the step acts (write-ahead), so a process killed in the
//! middle of a step leaves a journal that names everything the step may have created. Each
//! undo therefore tolerates finding its object already gone.

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::{ApplyError, StepError};
use crate::host::Host;
use crate::id::Vmid;
use crate::lock::LockGuard;
use crate::pve::{self, PvePaths};
use crate::state::StoreError;

/// One concrete undo, with every value bound.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "undo", rename_all = "kebab-case")]
pub enum UndoAction {
    /// Remove a template the executor packed to the path `pvesm path <volid>` named.
    RemoveTemplate { volid: String, path: PathBuf },
    /// `pct destroy <vmid> --purge`; a container that does not exist is already undone.
    DestroyCt { vmid: Vmid },
    /// Remove `/etc/pve/nodes/<node>/lxc/<vmid>.conf` under the config lock.
    RemoveConfig { node: String, vmid: Vmid },
    /// Remove a file this create wrote where none was.
    RemoveFile { path: PathBuf },
    /// Nothing on Proxmox's side (`nextid` reserves nothing); the store's record goes with
    /// [`UndoAction::ForgetState`] or with the whole record.
    ReleaseVmid { vmid: Vmid },
    /// Drop the container's record from the state store.
    ForgetState,
}

impl fmt::Display for UndoAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UndoAction::RemoveTemplate { volid, path } => {
                write!(f, "remove template {volid} ({})", path.display())
            }
            UndoAction::DestroyCt { vmid } => write!(f, "{}", pve::destroy_command(*vmid)),
            UndoAction::RemoveConfig { node, vmid } => {
                write!(f, "remove the config of CT {vmid} on node {node}")
            }
            UndoAction::RemoveFile { path } => write!(f, "remove {}", path.display()),
            UndoAction::ReleaseVmid { vmid } => write!(f, "release VMID {vmid}"),
            UndoAction::ForgetState => f.write_str("forget the state record"),
        }
    }
}

/// An undo and the step it belongs to (`step 3 (pct-create)`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UndoEntry {
    pub step: String,
    #[serde(flatten)]
    pub action: UndoAction,
}

/// Where a create keeps what it has done: the state store for real runs, memory for tests,
/// stdout for a dry run.
pub trait Journal {
    /// Makes `undos` (oldest first) the durable list of what to undo.
    fn save(&mut self, undos: &[UndoEntry]) -> Result<(), StoreError>;
    /// The id the container is about to be created with (recorded before `pct create` runs).
    fn vmid_chosen(&mut self, vmid: Vmid, node: &str) -> Result<(), StoreError>;
    /// The `record-state` step: the container exists as `vmid` on `node`.
    fn record(&mut self, vmid: Vmid, node: &str) -> Result<(), StoreError>;
    /// The undo of `record-state`.
    fn forget(&mut self) -> Result<(), StoreError>;
    /// Serialises VMID allocation on this node; `None` where nothing needs serialising.
    fn allocation_lock(&mut self) -> Result<Option<LockGuard>, StoreError>;
    /// Who the containers this journal lists belong to: with an owner, undoing `pct create` or
    /// `create-config` destroys only a container stamped with that identity
    /// ([`crate::pve::identity`]). `None` (tests, dry runs): the VMID is trusted as it is.
    fn owner(&self) -> Option<pve::identity::Owner> {
        None
    }
}

/// A journal in memory: what tests inspect.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct MemoryJournal {
    pub undos: Vec<UndoEntry>,
    pub chosen: Vec<Vmid>,
    pub recorded: Option<(Vmid, String)>,
    pub saves: usize,
}

impl Journal for MemoryJournal {
    fn save(&mut self, undos: &[UndoEntry]) -> Result<(), StoreError> {
        self.undos = undos.to_vec();
        self.saves += 1;
        Ok(())
    }

    fn vmid_chosen(&mut self, vmid: Vmid, _node: &str) -> Result<(), StoreError> {
        self.chosen.push(vmid);
        Ok(())
    }

    fn record(&mut self, vmid: Vmid, node: &str) -> Result<(), StoreError> {
        self.recorded = Some((vmid, node.to_owned()));
        Ok(())
    }

    fn forget(&mut self) -> Result<(), StoreError> {
        self.recorded = None;
        Ok(())
    }

    fn allocation_lock(&mut self) -> Result<Option<LockGuard>, StoreError> {
        Ok(None)
    }
}

/// Runs one undo.
pub fn undo(
    host: &dyn Host,
    paths: &PvePaths,
    journal: &mut dyn Journal,
    action: &UndoAction,
) -> Result<(), StepError> {
    match action {
        UndoAction::RemoveTemplate { path, .. } | UndoAction::RemoveFile { path } => {
            Ok(host.remove_file(path)?)
        }
        UndoAction::DestroyCt { vmid } => match journal.owner() {
            Some(owner) => pve::identity::destroy_if_ours(host, paths, &owner, *vmid)
                .map(drop)
                .map_err(StepError::from),
            None => Ok(pve::destroy(host, *vmid)?),
        },
        UndoAction::RemoveConfig { node, vmid } => match journal.owner() {
            Some(owner) if &owner.node == node => {
                pve::identity::remove_config_if_ours(host, paths, &owner, *vmid)
                    .map(drop)
                    .map_err(StepError::from)
            }
            Some(owner) => Err(StepError::Plan(format!(
                "the journal removes a config on node {node:?}, but {} was created on node {:?}",
                owner.id, owner.node
            ))),
            None => Ok(pve::remove_config(host, paths, node, *vmid)?),
        },
        UndoAction::ReleaseVmid { .. } => Ok(()),
        UndoAction::ForgetState => Ok(journal.forget()?),
    }
}

/// Undoes `undos` newest first. Each success is saved at once, so a rollback that is itself
/// interrupted resumes where it stopped. Failed undos stay in `undos` (and in the journal) and
/// the rest still run; the failures come back chained, newest first.
pub fn rollback(
    host: &dyn Host,
    paths: &PvePaths,
    journal: &mut dyn Journal,
    undos: &mut Vec<UndoEntry>,
) -> Result<(), ApplyError> {
    // Newest first, like `undos` is consumed.
    let mut kept: Vec<UndoEntry> = Vec::new();
    let mut errors: Vec<(String, StepError)> = Vec::new();
    while let Some(entry) = undos.pop() {
        if let Err(e) = undo(host, paths, journal, &entry.action) {
            errors.push((format!("undo of {} ({})", entry.step, entry.action), e));
            kept.push(entry);
        }
        let remaining: Vec<UndoEntry> = undos.iter().chain(kept.iter().rev()).cloned().collect();
        if let Err(e) = journal.save(&remaining) {
            errors.push(("saving the undo journal".into(), StepError::Store(e)));
        }
    }
    undos.extend(kept.into_iter().rev());
    let mut chain: Option<Box<ApplyError>> = None;
    for (step, cause) in errors.into_iter().rev() {
        chain = Some(Box::new(ApplyError {
            step,
            cause,
            rollback: chain,
        }));
    }
    match chain {
        Some(e) => Err(*e),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::{Command, HostCall, Output, RecordingHost};

    fn entry(step: &str, action: UndoAction) -> UndoEntry {
        UndoEntry {
            step: step.into(),
            action,
        }
    }

    fn vmid(n: u64) -> Vmid {
        Vmid::new(n).unwrap()
    }

    #[test]
    fn undoes_newest_first_and_saves_each_time() {
        let host = RecordingHost::new();
        let mut j = MemoryJournal::default();
        let mut undos = vec![
            entry(
                "step 1 (pack-rootfs)",
                UndoAction::RemoveTemplate {
                    volid: "local:vztmpl/t.tar.zst".into(),
                    path: "/c/t.tar.zst".into(),
                },
            ),
            entry(
                "step 2 (allocate-vmid)",
                UndoAction::ReleaseVmid { vmid: vmid(100) },
            ),
            entry(
                "step 3 (pct-create)",
                UndoAction::DestroyCt { vmid: vmid(100) },
            ),
        ];
        rollback(&host, &PvePaths::node(), &mut j, &mut undos).unwrap();
        assert!(undos.is_empty());
        assert_eq!(j.saves, 3);
        assert_eq!(
            host.calls(),
            vec![
                HostCall::Run(Command::new("pct").args(["destroy", "100", "--purge"])),
                HostCall::RemoveFile {
                    path: "/c/t.tar.zst".into()
                },
            ]
        );
    }

    #[test]
    fn failures_are_kept_chained_and_the_rest_still_runs() {
        let host = RecordingHost::new();
        host.respond_to(
            "pct",
            &["destroy"],
            Output::failed(255, "CT 100 is locked (create)\n"),
        );
        host.fail_first(|c| matches!(c, HostCall::RemoveFile { .. }), "disk gone");
        let mut j = MemoryJournal::default();
        let t = entry(
            "step 1 (pack-rootfs)",
            UndoAction::RemoveTemplate {
                volid: "v".into(),
                path: "/c/t".into(),
            },
        );
        let d = entry(
            "step 3 (pct-create)",
            UndoAction::DestroyCt { vmid: vmid(100) },
        );
        let mut undos = vec![
            t.clone(),
            entry("step 2 (x)", UndoAction::ReleaseVmid { vmid: vmid(100) }),
            d.clone(),
        ];
        let err = rollback(&host, &PvePaths::node(), &mut j, &mut undos).unwrap_err();
        assert_eq!(undos, vec![t.clone(), d.clone()]);
        assert_eq!(j.undos, vec![t, d]);
        let text = err.to_string();
        assert!(text.starts_with("undo of step 3 (pct-create) (pct destroy 100 --purge) failed: `pct destroy 100 --purge` failed (exit code 255): CT 100 is locked (create)"), "{text}");
        assert!(text.contains("; then undo of step 1 (pack-rootfs) (remove template v (/c/t)) failed: injected failure"), "{text}");
    }

    #[test]
    fn a_journal_cannot_name_a_command() {
        // An undo journal is state on disk; the old `run` kind (a command line) is gone, so a
        // planted `{"undo": "run", "argv": [...]}` does not even parse.
        let planted =
            r#"{"step":"step 1 (pack-rootfs)","undo":"run","argv":["pvesh","set","/access/acl"]}"#;
        assert!(serde_json::from_str::<UndoEntry>(planted).is_err());
    }

    #[test]
    fn journal_entries_round_trip_as_json() {
        let e = entry(
            "step 3 (pct-create)",
            UndoAction::DestroyCt { vmid: vmid(105) },
        );
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(
            json,
            r#"{"step":"step 3 (pct-create)","undo":"destroy-ct","vmid":105}"#
        );
        assert_eq!(serde_json::from_str::<UndoEntry>(&json).unwrap(), e);
    }
}
