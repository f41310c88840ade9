//! The undo journal of a create, kept in the container's store directory (`undo.json`) until
//! the create finishes, so that the next command can undo what a killed create left behind.

use std::path::PathBuf;
use std::time::SystemTime;

use crate::apply::{Journal, UndoEntry};
use crate::id::{ContainerId, Vmid};
use crate::lock::{LockGuard, Wait};
use crate::pve::identity::{Owner, Token};
use crate::state::{
    Backend, ContainerFile, ContainerLock, Entry, Ledger, LedgerError, Mapping, OciState,
    StateStore, Status, StoreError,
};

fn ledger_io(op: &'static str, ledger: &Ledger<'_>, e: LedgerError) -> StoreError {
    StoreError::Io {
        op: if op == "write" {
            "write the ledger entry in"
        } else {
            "remove the ledger entry from"
        },
        path: ledger.dir().to_owned(),
        source: std::io::Error::other(e.to_string()),
    }
}

/// `<root>/<id>/undo.json`.
pub fn journal_path(store: &StateStore, id: &ContainerId) -> PathBuf {
    store.path(id, ContainerFile::Undo)
}

/// The undo list a create left, if any (read through the store's checks and size limit).
pub fn read_journal(
    store: &StateStore,
    id: &ContainerId,
) -> Result<Option<Vec<UndoEntry>>, StoreError> {
    store.read_file(id, ContainerFile::Undo)
}

/// A create's journal in the state store; writes need the container's lock.
pub struct StoreJournal<'s> {
    store: &'s StateStore,
    lock: &'s ContainerLock,
    bundle: PathBuf,
    created: SystemTime,
    /// The creation token the container is stamped with, recorded in its mapping.
    token: Option<Token>,
    stop_signal: Option<String>,
    /// The node of the VMID, once one is chosen (or from the record, when recovering).
    node: Option<String>,
    /// Where the record-state step writes the container's ledger entry (a create's journal;
    /// a recovery's writes none).
    ledger: Option<Ledger<'s>>,
}

impl<'s> StoreJournal<'s> {
    pub fn new(store: &'s StateStore, lock: &'s ContainerLock, bundle: PathBuf) -> Self {
        Self {
            store,
            lock,
            bundle,
            created: SystemTime::now(),
            token: None,
            stop_signal: None,
            node: None,
            ledger: None,
        }
    }

    /// The ledger the record-state step writes the entry to.
    pub fn with_ledger(mut self, ledger: Ledger<'s>) -> Self {
        self.ledger = Some(ledger);
        self
    }

    /// The identity token and stop signal to record with the mapping.
    pub fn with_identity(mut self, token: Option<Token>, stop_signal: Option<String>) -> Self {
        self.token = token;
        self.stop_signal = stop_signal;
        self
    }

    /// The node a recovered record names.
    pub fn with_node(mut self, node: Option<String>) -> Self {
        self.node = node;
        self
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
            token: self.token.clone(),
            stop_signal: self.stop_signal.clone(),
        }
    }

    /// Drops the journal once the create is complete (or fully undone).
    pub fn clear(&self) -> Result<(), StoreError> {
        self.store.remove_file(self.lock, ContainerFile::Undo)
    }
}

impl Journal for StoreJournal<'_> {
    fn save(&mut self, undos: &[UndoEntry]) -> Result<(), StoreError> {
        if undos.is_empty() {
            return self.store.remove_file(self.lock, ContainerFile::Undo);
        }
        self.store
            .write_file(self.lock, ContainerFile::Undo, &undos)
    }

    fn vmid_chosen(&mut self, vmid: Vmid, node: &str) -> Result<(), StoreError> {
        self.node = Some(node.to_owned());
        self.store
            .write_mapping(self.lock, &self.mapping(vmid, node))
    }

    fn record(&mut self, vmid: Vmid, node: &str) -> Result<(), StoreError> {
        self.node = Some(node.to_owned());
        self.store
            .write_mapping(self.lock, &self.mapping(vmid, node))?;
        let state = OciState::new(self.lock.id().clone(), Status::Created, self.bundle.clone());
        self.store.write_state(self.lock, &state)?;
        // The ledger entry before the create counts as finished: a record that is complete
        // in the cache always has one, and one written by a create killed right here is
        // removed with the record by the next command's cleanup.
        if let Some(ledger) = &self.ledger {
            if let Some(entry) = Entry::of(&self.mapping(vmid, node), false, state.annotations) {
                // Ids are cluster-wide and container locks per node: a create of the same id on
                // another node may have recorded itself since this one began. Its entry is not
                // replaced; this create is refused and undone instead.
                let other = ledger
                    .read(&entry.id)
                    .map_err(|e| ledger_io("write", ledger, e))?;
                if other.is_some_and(|o| o.token != entry.token) {
                    return Err(StoreError::AlreadyExists {
                        id: entry.id.clone(),
                    });
                }
                ledger
                    .write(&entry)
                    .map_err(|e| ledger_io("write", ledger, e))?;
            }
        }
        self.store.finish_create(self.lock)
    }

    fn forget(&mut self) -> Result<(), StoreError> {
        // The caller removes the whole record once the rollback is through; the ledger entry
        // goes now, so that no node rebuilds a container whose create was undone.
        if let Some(ledger) = &self.ledger {
            // Only this create's own entry: when another node's create of the id won,
            // the entry is that one's.
            let token = self.token.as_ref();
            ledger
                .remove_own(self.lock.id(), token)
                .map_err(|e| ledger_io("remove", ledger, e))?;
        }
        Ok(())
    }

    fn allocation_lock(&mut self) -> Result<Option<LockGuard>, StoreError> {
        self.store.lock_allocation(Wait::Forever).map(Some)
    }

    /// Always an owner: a journal in the store destroys only containers stamped with its
    /// record's identity; without a node or token nothing can be verified, and nothing is.
    fn owner(&self) -> Option<Owner> {
        Some(Owner {
            id: self.lock.id().clone(),
            node: self.node.clone().unwrap_or_default(),
            token: self.token.clone(),
        })
    }
}
