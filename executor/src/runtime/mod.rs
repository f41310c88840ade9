//! The OCI runtime verbs (`create`, `start`, `state`, `kill`, `stop`, `delete`, `list`), one
//! file each, on top of the state store and the `pct` or crun driver the container was created
//! with. The backend of an existing container always comes from its record, never from
//! `--runtime`.
//!
//! Lifecycle on Proxmox: `create` makes the container (`pct create`, nothing runs: `created`),
//! `start` runs `pct start` (`running`, the init's host pid from `pct status --verbose`), the
//! init exiting makes it `stopped`, `delete` destroys it.

pub mod create;
pub mod delete;
pub mod engine_pct;
pub mod engine_verbs;
pub mod features;
pub mod foreground;
pub mod journal;
pub mod kill;
pub mod list;
pub mod log;
pub mod pct_verbs;
pub mod pid_file;
pub mod recover;
pub mod signal;
pub mod spec;
pub mod start;
pub mod state;
pub mod stop;

use std::sync::OnceLock;
use std::time::Duration;

pub use create::{check_node, create, create_reporting, place, CreateBackend, CreateRequest};
pub use delete::delete;
pub use kill::kill;
pub use list::{list, refresh, Listing};
pub use signal::Signal;
pub use start::start;
pub use state::state;
pub use stop::stop;

use crate::apply::ApplyError;
use crate::crun::{Crun, CrunError};
use crate::host::{Host, HostError};
use crate::id::ContainerId;
use crate::id::Vmid;
use crate::lock::{LockError, Wait};
use crate::pve::identity::{self, Ct, IdentityError};
use crate::pve::{cluster, PctError, PvePaths};
use crate::state::{
    Backend, ContainerLock, Entry, Ledger, LedgerError, Mapping, OciState, Partial, Record,
    StateStore, Status, StoreError,
};

/// Everything a verb needs.
pub struct Runtime<'a> {
    pub host: &'a dyn Host,
    pub store: StateStore,
    pub paths: PvePaths,
    pub crun: Crun,
    /// How long a verb waits for another command working on the same container.
    pub lock_wait: Duration,
    /// The node this runs on, read once ([`PvePaths::local_node`]).
    local_node: OnceLock<String>,
}

/// Where a container's Proxmox CT is now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Located {
    /// Its config, with our identity, is on this node.
    At(String),
    /// No node has its VMID.
    Gone,
}

impl<'a> Runtime<'a> {
    /// A runtime on `store`, with crun's root inside it.
    pub fn new(host: &'a dyn Host, store: StateStore, paths: PvePaths) -> Self {
        let crun = Crun {
            root: store.crun_root(),
            systemd_cgroup: false,
        };
        Self {
            host,
            store,
            paths,
            crun,
            lock_wait: Duration::from_secs(30),
            local_node: OnceLock::new(),
        }
    }

    /// The node this command runs on.
    pub fn local_node(&self) -> Result<&str, RuntimeError> {
        if let Some(n) = self.local_node.get() {
            return Ok(n);
        }
        let node = self.paths.local_node().map_err(RuntimeError::Usage)?;
        Ok(self.local_node.get_or_init(|| node))
    }

    /// `Some(node)` when `node` is another node than this one: the container is driven
    /// through `pvesh` there; `None` for the local node (`pct`).
    pub fn remote<'n>(&self, node: &'n str) -> Result<Option<&'n str>, RuntimeError> {
        Ok((node != self.local_node()?).then_some(node))
    }

    /// The cluster's ledger ([`crate::state::ledger`]).
    pub fn ledger(&self) -> Ledger<'a> {
        Ledger::new(self.host, &self.paths)
    }

    /// Where the container of a pct mapping is now, per Proxmox: its VMID's config on the node
    /// last recorded, else on any node ([`cluster::find`]), carrying our identity.
    pub fn locate(&self, mapping: &Mapping) -> Result<Option<Located>, RuntimeError> {
        match &mapping.backend {
            Backend::Pct { vmid, node } => Ok(Some(
                match cluster::find(
                    self.host,
                    &self.paths,
                    node,
                    *vmid,
                    &mapping.id,
                    mapping.token.as_ref(),
                )? {
                    Some(n) => Located::At(n),
                    None => Located::Gone,
                },
            )),
            Backend::Crun => Ok(None),
        }
    }

    /// Forgets a container: its ledger entry (if it is this record's, by token) and its
    /// record in the store.
    pub fn forget(
        &self,
        lock: ContainerLock,
        token: Option<&identity::Token>,
    ) -> Result<(), RuntimeError> {
        let ledger = self.ledger();
        if let Some(entry) = ledger.read(lock.id()).map_err(ledger_err)? {
            if Some(&entry.token) == token {
                ledger.remove(lock.id()).map_err(ledger_err)?;
            }
        }
        self.store.remove(lock)?;
        Ok(())
    }

    /// Writes the cache record of a ledger entry, under `lock` (after a reboot, on another
    /// node, after `list --refresh`). `created` until the first `start`, `stopped` after: the
    /// live status comes from Proxmox on every verb.
    fn rebuild(&self, lock: &ContainerLock, entry: &Entry) -> Result<Record, RuntimeError> {
        let mapping = entry.mapping(&entry.node);
        let status = if entry.started {
            Status::Stopped
        } else {
            Status::Created
        };
        let mut state = OciState::new(entry.id.clone(), status, entry.bundle.clone());
        state.annotations = entry.annotations.clone();
        self.store.begin_create(lock, &entry.bundle)?;
        self.store.write_mapping(lock, &mapping)?;
        self.store.write_state(lock, &state)?;
        self.store.finish_create(lock)?;
        Ok(Record::Complete { state, mapping })
    }

    /// The record of `id` under its lock, with Proxmox as the source of truth:
    /// - no cache record but a ledger entry: the cache is rebuilt from it;
    /// - a complete pct record without a ledger entry: if the CT is still ours (a record from
    ///   before the ledger), the entry is written; if it is gone or not ours, it was deleted
    ///   from another node, and the stale cache record is dropped (`NotFound`).
    pub(crate) fn resolve_locked(
        &self,
        lock: ContainerLock,
        record: Result<Record, StoreError>,
    ) -> Result<(ContainerLock, Record), RuntimeError> {
        let id = lock.id().clone();
        match record {
            Err(StoreError::NotFound { .. }) => {
                match self.ledger().read(&id).map_err(ledger_err)? {
                    Some(entry) => {
                        let record = self.rebuild(&lock, &entry)?;
                        Ok((lock, record))
                    }
                    None => {
                        self.store.release_unknown(lock)?;
                        Err(RuntimeError::NotFound { id })
                    }
                }
            }
            Ok(Record::Complete { state, mapping }) if mapping.token.is_some() => {
                if !matches!(mapping.backend, Backend::Pct { .. })
                    || self.ledger().read(&id).map_err(ledger_err)?.is_some()
                {
                    return Ok((lock, Record::Complete { state, mapping }));
                }
                match self.locate(&mapping) {
                    Ok(Some(Located::At(node))) => {
                        let mapping = self.moved(&lock, mapping, &node)?;
                        let started = state.status != Status::Created;
                        if let Some(entry) = Entry::of(&mapping, started, state.annotations.clone())
                        {
                            self.ledger().write(&entry).map_err(ledger_err)?;
                        }
                        Ok((lock, Record::Complete { state, mapping }))
                    }
                    Ok(_) | Err(RuntimeError::Identity(_)) => {
                        self.store.remove(lock)?;
                        Err(RuntimeError::NotFound { id })
                    }
                    Err(e) => Err(e),
                }
            }
            Ok(record) => Ok((lock, record)),
            Err(e) => Err(e.into()),
        }
    }

    /// The mapping with the node Proxmox has the CT on now, written to the cache when it moved.
    pub(crate) fn moved(
        &self,
        lock: &ContainerLock,
        mut mapping: Mapping,
        now: &str,
    ) -> Result<Mapping, RuntimeError> {
        if let Backend::Pct { node, .. } = &mut mapping.backend {
            if node != now {
                *node = now.to_owned();
                self.store.write_mapping(lock, &mapping)?;
                if let Some(mut entry) = self.ledger().read(&mapping.id).map_err(ledger_err)? {
                    if Some(&entry.token) == mapping.token.as_ref() && entry.node != now {
                        entry.node = now.to_owned();
                        self.ledger().write(&entry).map_err(ledger_err)?;
                    }
                }
            }
        }
        Ok(mapping)
    }

    /// Whether the ledger says the container was started (by any node).
    pub(crate) fn started_elsewhere(&self, mapping: &Mapping) -> Result<bool, RuntimeError> {
        Ok(self
            .ledger()
            .read(&mapping.id)?
            .is_some_and(|e| e.started && Some(&e.token) == mapping.token.as_ref()))
    }

    /// Notes in the ledger that the container was started (once), so that a cache rebuilt
    /// later says `stopped` rather than `created` for it.
    pub(crate) fn mark_started(&self, mapping: &Mapping) -> Result<(), RuntimeError> {
        let ledger = self.ledger();
        if let Some(mut entry) = ledger.read(&mapping.id).map_err(ledger_err)? {
            if !entry.started && Some(&entry.token) == mapping.token.as_ref() {
                entry.started = true;
                ledger.write(&entry).map_err(ledger_err)?;
            }
        }
        Ok(())
    }

    /// The record of `id` without holding its lock afterwards (`state`, `kill`, `list`): read
    /// from the cache, or resolved under the lock when the cache lacks it or it lacks a
    /// ledger entry ([`Runtime::lock_record`]).
    pub fn record(&self, id: &ContainerId) -> Result<Record, RuntimeError> {
        match self.store.read(id) {
            Ok(Record::Complete { state, mapping }) => {
                let pct_with_token =
                    matches!(mapping.backend, Backend::Pct { .. }) && mapping.token.is_some();
                if !pct_with_token || self.ledger().read(id).map_err(ledger_err)?.is_some() {
                    return Ok(Record::Complete { state, mapping });
                }
                self.lock_record(id).map(|(_, r)| r)
            }
            Ok(other) => Ok(other),
            Err(StoreError::NotFound { .. }) => self.lock_record(id).map(|(_, r)| r),
            Err(e) => Err(e.into()),
        }
    }

    /// The container's lock, waiting up to [`Runtime::lock_wait`].
    pub fn lock(&self, id: &ContainerId) -> Result<ContainerLock, RuntimeError> {
        match self.store.lock_container(id, Wait::Timeout(self.lock_wait)) {
            Ok(l) => Ok(l),
            Err(StoreError::Lock(LockError::Timeout { .. } | LockError::Busy { .. })) => {
                Err(RuntimeError::Busy { id: id.clone() })
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The container's lock and its record. An id the store does not know gives its lock file
    /// back ([`StateStore::release_unknown`]), so asking about it leaves nothing behind.
    pub fn lock_record(&self, id: &ContainerId) -> Result<(ContainerLock, Record), RuntimeError> {
        let lock = self.lock(id)?;
        let record = self.store.read_locked(&lock);
        self.resolve_locked(lock, record)
    }

    /// Checks, before anything acts on the VMID, that the Proxmox container the record names is
    /// the one this record's create made ([`crate::pve::identity`]), on the node the record
    /// names. `Ok(None)` for crun. A CT that moved to another node since the record was read
    /// is [`RuntimeError::Moved`]: the verb is not carried out on the wrong node.
    pub fn verify(&self, mapping: &Mapping) -> Result<Option<Ct>, RuntimeError> {
        let Backend::Pct { vmid, node } = &mapping.backend else {
            return Ok(None);
        };
        match self.locate(mapping)? {
            Some(Located::At(now)) if now == *node => Ok(Some(Ct::Ours)),
            Some(Located::At(now)) => Err(RuntimeError::Moved {
                id: mapping.id.clone(),
                vmid: *vmid,
                node: now,
            }),
            _ => Ok(Some(Ct::Gone)),
        }
    }
}

/// Why a verb failed. Messages keep the phrases engines match on (`does not exist`,
/// `container not running`).
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("container {id} does not exist")]
    NotFound { id: ContainerId },
    #[error("container {id} already exists")]
    Exists { id: ContainerId },
    #[error("container {id} is busy: another proxmox-lxcri command holds its lock")]
    Busy { id: ContainerId },
    #[error("{0}")]
    Partial(Box<Partial>),
    #[error("container not running: {id} is {status}")]
    NotRunning {
        id: ContainerId,
        status: &'static str,
    },
    #[error("cannot delete container {id} that is not stopped: running (use --force)")]
    Running { id: ContainerId },
    #[error("cannot {verb} container {id}: it is {status}, not {wanted}")]
    WrongStatus {
        verb: &'static str,
        id: ContainerId,
        status: &'static str,
        wanted: &'static str,
    },
    // Boxed: an ApplyError is large, and every verb returns this type.
    #[error("{error}")]
    Apply {
        error: Box<ApplyError>,
        id: ContainerId,
    },
    #[error("cleaning up the interrupted create of {id}: {error}")]
    Recovery {
        id: ContainerId,
        error: Box<ApplyError>,
    },
    #[error("{0}")]
    Usage(String),
    /// A verb the container's back end cannot do; `why` names what would do it there.
    #[error("{verb} is not supported for container {id} on the pct back end: {why}")]
    Unsupported {
        verb: &'static str,
        id: ContainerId,
        why: &'static str,
    },
    /// A request the pct back end cannot carry out as asked; `why` says what Proxmox lacks.
    #[error("{verb} of container {id} on the pct back end: {why}")]
    NotOnProxmox {
        verb: &'static str,
        id: ContainerId,
        why: String,
    },
    #[error("{0}")]
    Identity(Box<IdentityError>),
    #[error("Proxmox CT {vmid} of container {id} no longer exists on node {node}; `delete {id}` forgets the record")]
    Gone {
        id: ContainerId,
        vmid: Vmid,
        node: String,
    },
    #[error("Proxmox CT {vmid} of container {id} moved to node {node} while this command ran; run it again")]
    Moved {
        id: ContainerId,
        vmid: Vmid,
        node: String,
    },
    /// What only the node that runs the container can do.
    #[error("cannot {verb} container {id} from here: its Proxmox CT {vmid} runs on node {node}, and only that node can {verb} it; run the command on node {node}")]
    OtherNode {
        verb: &'static str,
        id: ContainerId,
        vmid: Vmid,
        node: String,
    },
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error(transparent)]
    Store(StoreError),
    #[error(transparent)]
    Pct(#[from] PctError),
    #[error(transparent)]
    Crun(#[from] CrunError),
    #[error(transparent)]
    Host(#[from] HostError),
    #[error(transparent)]
    Bundle(#[from] crate::bundle::BundleError),
}

impl From<StoreError> for RuntimeError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { id } => RuntimeError::NotFound { id },
            StoreError::AlreadyExists { id } => RuntimeError::Exists { id },
            other => RuntimeError::Store(other),
        }
    }
}

fn ledger_err(e: LedgerError) -> RuntimeError {
    RuntimeError::Ledger(e)
}

impl From<IdentityError> for RuntimeError {
    fn from(e: IdentityError) -> Self {
        RuntimeError::Identity(Box::new(e))
    }
}

impl RuntimeError {
    /// A hint for the user, when there is something to do about it.
    pub fn hint(&self) -> Option<String> {
        match self {
            RuntimeError::Apply { error, id } if !error.rolled_back() => Some(format!(
                "some steps could not be undone; `proxmox-lxcri delete --force {id}` retries them"
            )),
            RuntimeError::Recovery { id, .. } => {
                Some(format!("retry with `proxmox-lxcri delete --force {id}`"))
            }
            RuntimeError::Identity(e) => Some(format!(
                "`proxmox-lxcri delete --force {}` forgets the record without touching any Proxmox container",
                e.ours().id
            )),
            _ => None,
        }
    }
}

pub(crate) fn status_name(s: Status) -> &'static str {
    match s {
        Status::Creating => "creating",
        Status::Created => "created",
        Status::Running => "running",
        Status::Paused => "paused",
        Status::Stopped => "stopped",
    }
}

#[cfg(test)]
mod tests;
