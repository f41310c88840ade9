//! The state store under `--root` (default `/run/proxmox-lxcri`).
//!
//! ```text
//! <root>/
//!   .locks/allocate-vmid.lock     one lock for VMID allocation on this node
//!   .locks/<id>.lock              one lock per container
//!   <id>/state.json               OCI runtime state
//!   <id>/mapping.json             id ↔ vmid/node/bundle/runtime, creation time
//!   <id>/creating                 present only while `create` runs (or after it died)
//! ```
//!
//! Every write is atomic (temp file, fsync, rename, fsync dir). Locks live outside the
//! container directories so that `remove` can delete a directory while holding its lock; the
//! `.locks` name cannot clash with a container, because ids cannot start with a dot.
//!
//! A container is created in steps: [`StateStore::begin_create`] makes the directory and the
//! `creating` marker, the caller records what it creates ([`StateStore::write_mapping`],
//! [`StateStore::write_state`]), and [`StateStore::finish_create`] removes the marker. A process
//! killed in between leaves a [`Partial`] record that says what is known, so that it can be
//! cleaned up (for example, the VMID that may exist on Proxmox).

mod mapping;
mod oci;
mod vmid;

use std::fmt;
use std::fs::{self, DirBuilder};
use std::io;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{de::DeserializeOwned, Deserialize, Serialize};

pub use mapping::{Backend, Mapping};
pub use oci::{OciState, Status, OCI_VERSION};
pub use vmid::{
    allocate_vmid, nextid_command, parse_nextid, vmid_taken, AllocError, AllocPolicy, CreateFailure,
};

use crate::host::{sync_dir, write_atomic, FileMode, Host, WriteError};
use crate::id::{ContainerId, Vmid};
use crate::lock::{self, LockError, LockGuard, Wait};

pub const DEFAULT_ROOT: &str = "/run/proxmox-lxcri";

const LOCK_DIR: &str = ".locks";
const ALLOC_LOCK: &str = "allocate-vmid.lock";
const STATE_FILE: &str = "state.json";
const MAPPING_FILE: &str = "mapping.json";
const MARKER_FILE: &str = "creating";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot {op} {path}: {source}")]
    Io {
        op: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error(transparent)]
    Write(#[from] WriteError),
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error("container {id} does not exist")]
    NotFound { id: ContainerId },
    #[error("container {id} already exists")]
    AlreadyExists { id: ContainerId },
    #[error("{path} is corrupt: {source}")]
    Corrupt {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("{path} belongs to container {found:?}, not {id}")]
    IdMismatch {
        path: PathBuf,
        id: ContainerId,
        found: String,
    },
    #[error("container {id} is not being created (no `creating` marker)")]
    NotCreating { id: ContainerId },
    #[error("container {id} cannot be finished: {missing} was never written")]
    Incomplete {
        id: ContainerId,
        missing: &'static str,
    },
    #[error("{path}: not a container directory ({reason})")]
    Stray { path: PathBuf, reason: String },
}

fn io_err(op: &'static str, path: &Path) -> impl FnOnce(io::Error) -> StoreError {
    let path = path.to_owned();
    move |source| StoreError::Io { op, path, source }
}

/// Proof that the caller holds a container's lock; the store's writes require it.
#[derive(Debug)]
pub struct ContainerLock {
    id: ContainerId,
    guard: LockGuard,
}

impl ContainerLock {
    pub fn id(&self) -> &ContainerId {
        &self.id
    }
}

/// `creating`: who started creating the container, and with which bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatingMarker {
    pub pid: u32,
    #[serde(with = "mapping::rfc3339")]
    pub started: SystemTime,
    pub bundle: PathBuf,
}

/// Whether the process that began creating a container may still be at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Creator {
    /// Another process holds the container lock: creation is under way.
    InProgress,
    /// Nobody holds the lock: the creator died (or failed) without cleaning up.
    Gone,
    /// Read under the caller's own lock; the caller knows whether it is the creator.
    ThisCaller,
}

/// A container whose creation did not finish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partial {
    pub id: ContainerId,
    pub marker: Option<CreatingMarker>,
    pub state: Option<OciState>,
    pub mapping: Option<Mapping>,
    pub creator: Creator,
}

impl Partial {
    /// The Proxmox container that may exist for it, if one was recorded.
    pub fn vmid(&self) -> Option<(Vmid, &str)> {
        match self.mapping.as_ref().map(|m| &m.backend) {
            Some(Backend::Pct { vmid, node }) => Some((*vmid, node.as_str())),
            _ => None,
        }
    }
}

impl fmt::Display for Partial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "container {} was not fully created", self.id)?;
        if let Some(m) = &self.marker {
            write!(
                f,
                " (create by pid {} at {}, bundle {})",
                m.pid,
                humantime::format_rfc3339_seconds(m.started),
                m.bundle.display()
            )?;
        }
        match self.creator {
            Creator::InProgress => f.write_str("; creation is still in progress")?,
            Creator::Gone => f.write_str("; the creating process is gone")?,
            Creator::ThisCaller => {}
        }
        match self.vmid() {
            Some((vmid, node)) => write!(
                f,
                "; Proxmox container {vmid} on node {node} may exist and must be destroyed"
            )?,
            None => f.write_str("; no Proxmox container was recorded")?,
        }
        if self.creator != Creator::InProgress {
            write!(f, "; `delete --force {}` cleans up", self.id)?;
        }
        Ok(())
    }
}

/// What the store holds for one container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    Complete { state: OciState, mapping: Mapping },
    Partial(Partial),
}

/// One directory found by [`StateStore::list`].
#[derive(Debug)]
pub struct Listed {
    /// The directory name (a valid id unless `record` says otherwise).
    pub name: String,
    pub record: Result<Record, StoreError>,
}

#[derive(Debug, Clone)]
pub struct StateStore {
    root: PathBuf,
}

impl StateStore {
    /// Opens (creating if needed, mode 0700) the store at `root`.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self, StoreError> {
        let root = root.into();
        let locks = root.join(LOCK_DIR);
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&locks)
            .map_err(io_err("create", &locks))?;
        Ok(Self { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn dir(&self, id: &ContainerId) -> PathBuf {
        self.root.join(id.as_str())
    }

    fn lock_path(&self, name: &str) -> PathBuf {
        self.root.join(LOCK_DIR).join(name)
    }

    /// Takes the container's lock. With [`Wait::No`] a held lock is [`LockError::Busy`].
    pub fn lock_container(
        &self,
        id: &ContainerId,
        wait: Wait,
    ) -> Result<ContainerLock, StoreError> {
        let guard = lock::lock_required(&self.lock_path(&format!("{id}.lock")), wait)?;
        Ok(ContainerLock {
            id: id.clone(),
            guard,
        })
    }

    /// Takes the node-wide VMID allocation lock.
    pub fn lock_allocation(&self, wait: Wait) -> Result<LockGuard, StoreError> {
        Ok(lock::lock_required(&self.lock_path(ALLOC_LOCK), wait)?)
    }

    /// [`allocate_vmid`] under the allocation lock, so creators on this node never race.
    pub fn allocate_vmid<H, T, E, F>(
        &self,
        host: &H,
        policy: AllocPolicy,
        create: F,
    ) -> Result<(Vmid, T), AllocError<E>>
    where
        H: Host + ?Sized,
        E: std::error::Error + From<StoreError> + 'static,
        F: FnMut(Vmid) -> Result<T, CreateFailure<E>>,
    {
        let _alloc = self
            .lock_allocation(Wait::Forever)
            .map_err(|e| AllocError::Other(E::from(e)))?;
        allocate_vmid(host, policy, create)
    }

    /// Starts creating a container: its directory and the `creating` marker.
    pub fn begin_create(&self, lock: &ContainerLock, bundle: &Path) -> Result<(), StoreError> {
        let dir = self.dir(&lock.id);
        match DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                return Err(StoreError::AlreadyExists {
                    id: lock.id.clone(),
                })
            }
            Err(e) => return Err(io_err("create", &dir)(e)),
        }
        sync_dir(&self.root).map_err(io_err("fsync", &self.root))?;
        let marker = CreatingMarker {
            pid: std::process::id(),
            started: SystemTime::now(),
            bundle: bundle.to_owned(),
        };
        self.write_json(&dir.join(MARKER_FILE), &marker)
    }

    pub fn write_state(&self, lock: &ContainerLock, state: &OciState) -> Result<(), StoreError> {
        self.check_owner(lock, &state.id, STATE_FILE)?;
        self.write_json(&self.existing_dir(lock)?.join(STATE_FILE), state)
    }

    pub fn write_mapping(&self, lock: &ContainerLock, mapping: &Mapping) -> Result<(), StoreError> {
        self.check_owner(lock, &mapping.id, MAPPING_FILE)?;
        self.write_json(&self.existing_dir(lock)?.join(MAPPING_FILE), mapping)
    }

    /// Ends creation: both files must be there; the marker goes.
    pub fn finish_create(&self, lock: &ContainerLock) -> Result<(), StoreError> {
        let dir = self.existing_dir(lock)?;
        let marker = dir.join(MARKER_FILE);
        if !exists(&marker)? {
            return Err(StoreError::NotCreating {
                id: lock.id.clone(),
            });
        }
        for (file, what) in [(STATE_FILE, "state.json"), (MAPPING_FILE, "mapping.json")] {
            if !exists(&dir.join(file))? {
                return Err(StoreError::Incomplete {
                    id: lock.id.clone(),
                    missing: what,
                });
            }
        }
        fs::remove_file(&marker).map_err(io_err("remove", &marker))?;
        sync_dir(&dir).map_err(io_err("fsync", &dir))
    }

    /// Reads a container without its lock (for `state` and `list`).
    pub fn read(&self, id: &ContainerId) -> Result<Record, StoreError> {
        self.read_record(id, None)
    }

    /// Reads a container under the caller's lock.
    pub fn read_locked(&self, lock: &ContainerLock) -> Result<Record, StoreError> {
        self.read_record(&lock.id, Some(Creator::ThisCaller))
    }

    /// Every container, sorted by id. A broken entry is listed with its error rather than
    /// failing the whole list.
    pub fn list(&self) -> Result<Vec<Listed>, StoreError> {
        let mut out = Vec::new();
        let entries = fs::read_dir(&self.root).map_err(io_err("read", &self.root))?;
        for entry in entries {
            let entry = entry.map_err(io_err("read", &self.root))?;
            let raw = entry.file_name();
            let name = raw.to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let record = match ContainerId::new(name.clone()) {
                Ok(id) if raw.to_str().is_some() => self.read(&id),
                Ok(_) | Err(_) => Err(StoreError::Stray {
                    path: entry.path(),
                    reason: "its name is not a valid container id".into(),
                }),
            };
            out.push(Listed { name, record });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// Deletes everything the store holds for the container, including its lock file.
    pub fn remove(&self, lock: ContainerLock) -> Result<(), StoreError> {
        let dir = self.dir(&lock.id);
        match fs::remove_dir_all(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(StoreError::NotFound { id: lock.id })
            }
            Err(e) => return Err(io_err("remove", &dir)(e)),
        }
        sync_dir(&self.root).map_err(io_err("fsync", &self.root))?;
        Ok(lock.guard.unlink()?)
    }

    fn read_record(
        &self,
        id: &ContainerId,
        creator: Option<Creator>,
    ) -> Result<Record, StoreError> {
        let dir = self.dir(id);
        match fs::symlink_metadata(&dir) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Err(StoreError::Stray {
                    path: dir,
                    reason: "not a directory".into(),
                })
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(StoreError::NotFound { id: id.clone() })
            }
            Err(e) => return Err(io_err("stat", &dir)(e)),
        }
        let marker: Option<CreatingMarker> = read_json(&dir.join(MARKER_FILE))?;
        let state: Option<OciState> = read_json(&dir.join(STATE_FILE))?;
        let mapping: Option<Mapping> = read_json(&dir.join(MAPPING_FILE))?;
        if let Some(s) = &state {
            check_id(id, s.id.as_str(), &dir.join(STATE_FILE))?;
        }
        if let Some(m) = &mapping {
            check_id(id, m.id.as_str(), &dir.join(MAPPING_FILE))?;
        }
        match (marker, state, mapping) {
            (None, Some(state), Some(mapping)) => Ok(Record::Complete { state, mapping }),
            (marker, state, mapping) => {
                let creator = match creator {
                    Some(c) => c,
                    None => self.creator_of(id)?,
                };
                Ok(Record::Partial(Partial {
                    id: id.clone(),
                    marker,
                    state,
                    mapping,
                    creator,
                }))
            }
        }
    }

    /// The creator holds the container lock for as long as it works; a free lock means it is gone.
    fn creator_of(&self, id: &ContainerId) -> Result<Creator, StoreError> {
        match lock::lock(&self.lock_path(&format!("{id}.lock")), Wait::No)? {
            Some(_free) => Ok(Creator::Gone),
            None => Ok(Creator::InProgress),
        }
    }

    fn existing_dir(&self, lock: &ContainerLock) -> Result<PathBuf, StoreError> {
        let dir = self.dir(&lock.id);
        match fs::symlink_metadata(&dir) {
            Ok(m) if m.is_dir() => Ok(dir),
            Ok(_) => Err(StoreError::Stray {
                path: dir,
                reason: "not a directory".into(),
            }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(StoreError::NotFound {
                id: lock.id.clone(),
            }),
            Err(e) => Err(io_err("stat", &dir)(e)),
        }
    }

    fn check_owner(
        &self,
        lock: &ContainerLock,
        id: &ContainerId,
        file: &str,
    ) -> Result<(), StoreError> {
        check_id(&lock.id, id.as_str(), &self.dir(&lock.id).join(file))
    }

    fn write_json<T: Serialize>(&self, path: &Path, value: &T) -> Result<(), StoreError> {
        let mut bytes = serde_json::to_vec_pretty(value).map_err(|source| StoreError::Corrupt {
            path: path.to_owned(),
            source,
        })?;
        bytes.push(b'\n');
        Ok(write_atomic(path, &bytes, FileMode::Exact(0o600))?)
    }
}

fn check_id(id: &ContainerId, found: &str, path: &Path) -> Result<(), StoreError> {
    if id.as_str() == found {
        Ok(())
    } else {
        Err(StoreError::IdMismatch {
            path: path.to_owned(),
            id: id.clone(),
            found: found.to_owned(),
        })
    }
}

fn exists(path: &Path) -> Result<bool, StoreError> {
    match fs::symlink_metadata(path) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(io_err("stat", path)(e)),
    }
}

fn read_json<T: DeserializeOwned>(path: &Path) -> Result<Option<T>, StoreError> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err("read", path)(e)),
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|source| StoreError::Corrupt {
            path: path.to_owned(),
            source,
        })
}
