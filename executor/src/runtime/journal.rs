//! The undo journal of a create, kept in the container's store directory (`undo.json`) until
//! the create finishes, so that the next command can undo what a killed create left behind.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::apply::{Journal, UndoEntry};
use crate::host::{write_atomic, FileMode};
use crate::id::{ContainerId, Vmid};
use crate::lock::{LockGuard, Wait};
use crate::state::{Backend, ContainerLock, Mapping, OciState, StateStore, Status, StoreError};

const JOURNAL_FILE: &str = "undo.json";

/// `<root>/<id>/undo.json`.
pub fn journal_path(store: &StateStore, id: &ContainerId) -> PathBuf {
    store.root().join(id.as_str()).join(JOURNAL_FILE)
}

/// The undo list a create left, if any.
pub fn read_journal(
    store: &StateStore,
    id: &ContainerId,
) -> Result<Option<Vec<UndoEntry>>, StoreError> {
    let path = journal_path(store, id);
    match fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|source| StoreError::Corrupt { path, source }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(StoreError::Io {
            op: "read",
            path,
            source,
        }),
    }
}

fn remove(path: &Path) -> Result<(), StoreError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(StoreError::Io {
            op: "remove",
            path: path.to_owned(),
            source,
        }),
    }
}

/// A create's journal in the state store; writes need the container's lock.
pub struct StoreJournal<'s> {
    store: &'s StateStore,
    lock: &'s ContainerLock,
    bundle: PathBuf,
    created: SystemTime,
}

impl<'s> StoreJournal<'s> {
    pub fn new(store: &'s StateStore, lock: &'s ContainerLock, bundle: PathBuf) -> Self {
        Self {
            store,
            lock,
            bundle,
            created: SystemTime::now(),
        }
    }

    fn mapping(&self, vmid: Vmid, node: &str) -> Mapping {
        Mapping {
            id: self.lock.id().clone(),
            bundle: self.bundle.clone(),
            backend: Backend::Pct {
                vmid,
                node: node.to_owned(),
            },
            created: self.created,
        }
    }

    /// Drops the journal once the create is complete (or fully undone).
    pub fn clear(&self) -> Result<(), StoreError> {
        remove(&journal_path(self.store, self.lock.id()))
    }
}

impl Journal for StoreJournal<'_> {
    fn save(&mut self, undos: &[UndoEntry]) -> Result<(), StoreError> {
        let path = journal_path(self.store, self.lock.id());
        if undos.is_empty() {
            return remove(&path);
        }
        let mut bytes = serde_json::to_vec_pretty(undos).map_err(|source| StoreError::Corrupt {
            path: path.clone(),
            source,
        })?;
        bytes.push(b'\n');
        Ok(write_atomic(&path, &bytes, FileMode::Exact(0o600))?)
    }

    fn vmid_chosen(&mut self, vmid: Vmid, node: &str) -> Result<(), StoreError> {
        self.store
            .write_mapping(self.lock, &self.mapping(vmid, node))
    }

    fn record(&mut self, vmid: Vmid, node: &str) -> Result<(), StoreError> {
        self.store
            .write_mapping(self.lock, &self.mapping(vmid, node))?;
        let state = OciState::new(self.lock.id().clone(), Status::Created, self.bundle.clone());
        self.store.write_state(self.lock, &state)?;
        self.store.finish_create(self.lock)
    }

    fn forget(&mut self) -> Result<(), StoreError> {
        // The caller removes the whole record once the rollback is through.
        Ok(())
    }

    fn allocation_lock(&mut self) -> Result<Option<LockGuard>, StoreError> {
        self.store.lock_allocation(Wait::Forever).map(Some)
    }
}
