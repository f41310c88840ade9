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
pub mod recover;
pub mod signal;
pub mod spec;
pub mod start;
pub mod state;
pub mod stop;

use std::time::Duration;

pub use create::{create, create_reporting, CreateBackend, CreateRequest};
pub use delete::delete;
pub use kill::kill;
pub use list::{list, Listing};
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
use crate::pve::{PctError, PvePaths};
use crate::state::{
    Backend, ContainerLock, Mapping, Partial, Record, StateStore, Status, StoreError,
};

/// Everything a verb needs.
pub struct Runtime<'a> {
    pub host: &'a dyn Host,
    pub store: StateStore,
    pub paths: PvePaths,
    pub crun: Crun,
    /// How long a verb waits for another command working on the same container.
    pub lock_wait: Duration,
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
        match self.store.read_locked(&lock) {
            Ok(record) => Ok((lock, record)),
            Err(StoreError::NotFound { id }) => {
                self.store.release_unknown(lock)?;
                Err(RuntimeError::NotFound { id })
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Checks, before anything acts on the VMID, that the Proxmox container the record names is
    /// the one this record's create made ([`crate::pve::identity`]). `Ok(None)` for crun.
    pub fn verify(&self, mapping: &Mapping) -> Result<Option<Ct>, RuntimeError> {
        match &mapping.backend {
            Backend::Pct { vmid, node } => Ok(Some(identity::check(
                self.host,
                &self.paths,
                node,
                *vmid,
                &mapping.id,
                mapping.token.as_ref(),
            )?)),
            Backend::Crun => Ok(None),
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
