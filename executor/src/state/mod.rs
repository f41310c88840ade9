//! The state store under `--root` (default `/run/proxmox-lxcri`).
//!
//! ```text
//! <root>/
//!   .locks/allocate-vmid.lock     one lock for VMID allocation on this node
//!   .locks/<id>.lock              one lock per container
//!   <id>/state.json               OCI runtime state
//!   <id>/mapping.json             id ↔ vmid/node/bundle/runtime, creation time
//!   <id>/creating                 present only while `create` runs (or after it died)
//!   <id>/undo.json                the undo journal of a create not yet finished
//!   <id>/crun.json                the config crun runs (crun containers)
//!   .crun/                        crun's own state (`crun --root`)
//! ```
//!
//! Every name in that tree is spelled here and nowhere else: other modules reach the files
//! beside the record through [`ContainerFile`] and the store's methods, never by a path.
//!
//! The root is checked as sudo checks its files before anything in it is read, and every file
//! is then reached from the root's descriptor ([`secure`]): a state directory that another user
//! can write, or that is reached through a symlink, is refused with the path and the reason.
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

pub mod ledger;
mod mapping;
mod oci;
pub mod secure;

use std::ffi::{CString, OsStr};
use std::fmt;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use serde::{de::DeserializeOwned, Deserialize, Serialize};

pub use ledger::{Entry, Ledger, LedgerError};
pub use mapping::{Backend, Mapping};
pub use oci::{OciState, Status, OCI_VERSION};

use crate::fs::WriteError;
use crate::id::{ContainerId, Vmid};
use crate::lock::{self, LockError, LockGuard, Wait};

/// Where the runtime verbs keep their records unless `--root` says otherwise.
pub const DEFAULT_ROOT: &str = translator::path::lxcri::RUN_DIR;

const LOCK_DIR: &str = ".locks";
const ALLOC_LOCK: &str = "allocate-vmid.lock";
const STATE_FILE: &str = "state.json";
/// The record file naming the container's backend.
const MAPPING_FILE: &str = "mapping.json";
const MARKER_FILE: &str = "creating";
/// crun's state directory: inside the store, under a name no container id can have.
const CRUN_ROOT: &str = ".crun";

/// The files of a container's directory that other modules keep through the store, beside
/// the record (state, mapping, marker) the store writes itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerFile {
    /// `undo.json`: the undo journal of a create that is running or was killed.
    Undo,
    /// `crun.json`: the translated config handed to `crun create --config`.
    CrunConfig,
    /// `engine.json`: an engine-driven pct container's stand-in and init pids
    /// ([`crate::runtime::engine_pct`]).
    Engine,
    /// `exec.fifo`: the FIFO `start` opens to release the process (runc's exec FIFO).
    ExecFifo,
    /// `engine/`: the directory bound into the container (the init and its socket).
    EngineDir,
}

impl ContainerFile {
    fn name(self) -> &'static str {
        match self {
            ContainerFile::Undo => "undo.json",
            ContainerFile::CrunConfig => "crun.json",
            ContainerFile::Engine => "engine.json",
            ContainerFile::ExecFifo => "exec.fifo",
            ContainerFile::EngineDir => "engine",
        }
    }
}

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
    #[error("refusing {path}: {reason}; the state directory and its files must be owned by root and writable by nobody else, with no symlinks on the way")]
    Insecure { path: PathBuf, reason: String },
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
    /// The root, opened and checked once ([`secure::open_root`]); every file is reached from it.
    fd: Arc<OwnedFd>,
    /// `.locks`, checked the same way.
    locks: Arc<OwnedFd>,
}

impl StateStore {
    /// Opens (creating if needed, mode 0700) the store at `root`, after checking it and every
    /// directory above it ([`secure`]).
    pub fn open(root: impl Into<PathBuf>) -> Result<Self, StoreError> {
        let (root, fd) = secure::open_root(&root.into(), true)?;
        let locks_path = root.join(LOCK_DIR);
        let locks = secure::open_subdir(fd.as_fd(), LOCK_DIR, &locks_path, true)?
            .ok_or_else(|| io_err("create", &locks_path)(io::ErrorKind::NotFound.into()))?;
        Ok(Self {
            root,
            fd: Arc::new(fd),
            locks: Arc::new(locks),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn dir(&self, id: &ContainerId) -> PathBuf {
        self.root.join(id.as_str())
    }

    /// Where `file` of container `id` is: for a program that is handed the path (crun's
    /// `--config`) and for messages; the store itself reaches it through descriptors.
    pub fn path(&self, id: &ContainerId, file: ContainerFile) -> PathBuf {
        self.dir(id).join(file.name())
    }

    /// crun's `--root`, inside the store.
    pub fn crun_root(&self) -> PathBuf {
        self.root.join(CRUN_ROOT)
    }

    fn root_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// The container's directory, checked; `None` when there is none.
    fn open_dir(&self, id: &ContainerId) -> Result<Option<OwnedFd>, StoreError> {
        match secure::open_subdir(self.root_fd(), id.as_str(), &self.dir(id), false) {
            Err(StoreError::Insecure { path, reason }) if reason == "it is not a directory" => {
                Err(StoreError::Stray {
                    path,
                    reason: "not a directory".into(),
                })
            }
            other => other,
        }
    }

    fn lock_name(id: &ContainerId) -> String {
        format!("{id}.lock")
    }

    /// Takes the container's lock. With [`Wait::No`] a held lock is [`LockError::Busy`].
    pub fn lock_container(
        &self,
        id: &ContainerId,
        wait: Wait,
    ) -> Result<ContainerLock, StoreError> {
        let dir = self.root.join(LOCK_DIR);
        let name = Self::lock_name(id);
        let guard =
            lock::lock_at(&self.locks, &dir, &name, wait)?.ok_or_else(|| LockError::Busy {
                path: dir.join(&name),
            })?;
        Ok(ContainerLock {
            id: id.clone(),
            guard,
        })
    }

    /// Takes the node-wide VMID allocation lock.
    pub fn lock_allocation(&self, wait: Wait) -> Result<LockGuard, StoreError> {
        let dir = self.root.join(LOCK_DIR);
        Ok(
            lock::lock_at(&self.locks, &dir, ALLOC_LOCK, wait)?.ok_or_else(|| LockError::Busy {
                path: dir.join(ALLOC_LOCK),
            })?,
        )
    }

    /// Gives up the lock of a container that turned out not to exist, removing its lock file so
    /// that asking about unknown ids leaves nothing behind.
    pub fn release_unknown(&self, lock: ContainerLock) -> Result<(), StoreError> {
        if self.open_dir(&lock.id)?.is_some() {
            // It exists after all (created under a lock this one replaced): keep the file.
            return Ok(());
        }
        Ok(lock.guard.unlink()?)
    }

    /// Starts creating a container: its directory and the `creating` marker.
    pub fn begin_create(&self, lock: &ContainerLock, bundle: &Path) -> Result<(), StoreError> {
        let dir = self.dir(&lock.id);
        match rustix::fs::mkdirat(
            self.root_fd(),
            lock.id.as_str(),
            rustix::fs::Mode::from_raw_mode(0o700),
        ) {
            Ok(()) => {}
            Err(rustix::io::Errno::EXIST) => {
                return Err(StoreError::AlreadyExists {
                    id: lock.id.clone(),
                })
            }
            Err(e) => return Err(io_err("create", &dir)(e.into())),
        }
        rustix::fs::fsync(self.root_fd()).map_err(|e| io_err("fsync", &self.root)(e.into()))?;
        let marker = CreatingMarker {
            pid: std::process::id(),
            started: SystemTime::now(),
            bundle: bundle.to_owned(),
        };
        self.write_json(lock, MARKER_FILE, &marker)
    }

    pub fn write_state(&self, lock: &ContainerLock, state: &OciState) -> Result<(), StoreError> {
        self.check_owner(lock, &state.id, STATE_FILE)?;
        self.write_json(lock, STATE_FILE, state)
    }

    pub fn write_mapping(&self, lock: &ContainerLock, mapping: &Mapping) -> Result<(), StoreError> {
        self.check_owner(lock, &mapping.id, MAPPING_FILE)?;
        self.write_json(lock, MAPPING_FILE, mapping)
    }

    /// Ends creation: both files must be there; the marker goes.
    pub fn finish_create(&self, lock: &ContainerLock) -> Result<(), StoreError> {
        let dir = self.existing_dir(lock)?;
        let path = self.dir(&lock.id);
        if !exists_at(dir.as_fd(), MARKER_FILE, &path)? {
            return Err(StoreError::NotCreating {
                id: lock.id.clone(),
            });
        }
        for (file, what) in [(STATE_FILE, "state.json"), (MAPPING_FILE, "mapping.json")] {
            if !exists_at(dir.as_fd(), file, &path)? {
                return Err(StoreError::Incomplete {
                    id: lock.id.clone(),
                    missing: what,
                });
            }
        }
        secure::remove_at(dir.as_fd(), MARKER_FILE, &path.join(MARKER_FILE))?;
        rustix::fs::fsync(&dir).map_err(|e| io_err("fsync", &path)(e.into()))
    }

    /// Reads a container without its lock (for `state` and `list`).
    pub fn read(&self, id: &ContainerId) -> Result<Record, StoreError> {
        self.read_record(id, None)
    }

    /// Reads a container under the caller's lock.
    pub fn read_locked(&self, lock: &ContainerLock) -> Result<Record, StoreError> {
        self.read_record(&lock.id, Some(Creator::ThisCaller))
    }

    /// The mapping alone, when the record around it cannot be used (`delete --force` names
    /// the VMID it leaves alone); `None` if there is none.
    pub fn read_mapping_alone(&self, id: &ContainerId) -> Result<Option<Mapping>, StoreError> {
        let Some(dir) = self.open_dir(id)? else {
            return Ok(None);
        };
        read_json(dir.as_fd(), MAPPING_FILE, &self.dir(id).join(MAPPING_FILE))
    }

    /// `file` of the container's directory, parsed as JSON (checked and size-limited, see
    /// [`secure::read_record`]); `None` if it does not exist.
    pub fn read_file<T: DeserializeOwned>(
        &self,
        id: &ContainerId,
        file: ContainerFile,
    ) -> Result<Option<T>, StoreError> {
        let Some(dir) = self.open_dir(id)? else {
            return Ok(None);
        };
        read_json(dir.as_fd(), file.name(), &self.path(id, file))
    }

    /// Writes `file` of the container's directory as pretty JSON, atomically (mode 0600).
    pub fn write_file<T: Serialize>(
        &self,
        lock: &ContainerLock,
        file: ContainerFile,
        value: &T,
    ) -> Result<(), StoreError> {
        self.write_json(lock, file.name(), value)
    }

    /// Writes raw bytes to `file` of the container's directory, atomically (mode 0600).
    pub fn write_bytes(
        &self,
        lock: &ContainerLock,
        file: ContainerFile,
        bytes: &[u8],
    ) -> Result<(), StoreError> {
        let dir = self.existing_dir(lock)?;
        secure::write_atomic_at(dir.as_fd(), file.name(), bytes, &self.path(&lock.id, file))
    }

    /// Removes `file` of the container's directory; a missing one is fine.
    pub fn remove_file(&self, lock: &ContainerLock, file: ContainerFile) -> Result<(), StoreError> {
        match self.open_dir(&lock.id)? {
            Some(dir) => secure::remove_at(dir.as_fd(), file.name(), &self.path(&lock.id, file)),
            None => Ok(()),
        }
    }

    /// Every container, sorted by id. A broken entry is listed with its error rather than
    /// failing the whole list.
    pub fn list(&self) -> Result<Vec<Listed>, StoreError> {
        let mut out = Vec::new();
        for raw in secure::names(self.root_fd(), &self.root)? {
            let bytes = raw.to_bytes();
            let name = String::from_utf8_lossy(bytes).into_owned();
            if name.starts_with('.') {
                continue;
            }
            let path = self.root.join(OsStr::from_bytes(bytes));
            let record = match ContainerId::new(name.clone()) {
                Ok(id) if std::str::from_utf8(bytes).is_ok() => self.read(&id),
                Ok(_) | Err(_) => Err(StoreError::Stray {
                    path,
                    reason: "its name is not a valid container id".into(),
                }),
            };
            out.push(Listed { name, record });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// Deletes everything the store holds for the container, including its lock file. Works on
    /// a record whose files are corrupt or refused: nothing in it is read.
    pub fn remove(&self, lock: ContainerLock) -> Result<(), StoreError> {
        let dir = self.dir(&lock.id);
        let name = CString::new(lock.id.as_str()).map_err(|_| StoreError::NotFound {
            id: lock.id.clone(),
        })?;
        match rustix::fs::statat(
            self.root_fd(),
            &*name,
            rustix::fs::AtFlags::SYMLINK_NOFOLLOW,
        ) {
            Ok(_) => {}
            Err(rustix::io::Errno::NOENT) => return Err(StoreError::NotFound { id: lock.id }),
            Err(e) => return Err(io_err("stat", &dir)(e.into())),
        }
        secure::remove_tree_at(self.root_fd(), &name, &dir, 0)?;
        Ok(lock.guard.unlink()?)
    }

    fn read_record(
        &self,
        id: &ContainerId,
        creator: Option<Creator>,
    ) -> Result<Record, StoreError> {
        let path = self.dir(id);
        let Some(dir) = self.open_dir(id)? else {
            return Err(StoreError::NotFound { id: id.clone() });
        };
        let fd = dir.as_fd();
        let marker: Option<CreatingMarker> = read_json(fd, MARKER_FILE, &path.join(MARKER_FILE))?;
        let state: Option<OciState> = read_json(fd, STATE_FILE, &path.join(STATE_FILE))?;
        let mapping: Option<Mapping> = read_json(fd, MAPPING_FILE, &path.join(MAPPING_FILE))?;
        if let Some(s) = &state {
            check_id(id, s.id.as_str(), &path.join(STATE_FILE))?;
        }
        if let Some(m) = &mapping {
            check_id(id, m.id.as_str(), &path.join(MAPPING_FILE))?;
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

    /// The creator holds the container lock for as long as it works; a free (or missing) lock
    /// means it is gone. Asking never creates the lock file.
    fn creator_of(&self, id: &ContainerId) -> Result<Creator, StoreError> {
        let dir = self.root.join(LOCK_DIR);
        if lock::held_at(&self.locks, &dir, &Self::lock_name(id))? {
            Ok(Creator::InProgress)
        } else {
            Ok(Creator::Gone)
        }
    }

    fn existing_dir(&self, lock: &ContainerLock) -> Result<OwnedFd, StoreError> {
        self.open_dir(&lock.id)?
            .ok_or_else(|| StoreError::NotFound {
                id: lock.id.clone(),
            })
    }

    fn check_owner(
        &self,
        lock: &ContainerLock,
        id: &ContainerId,
        file: &str,
    ) -> Result<(), StoreError> {
        check_id(&lock.id, id.as_str(), &self.dir(&lock.id).join(file))
    }

    fn write_json<T: Serialize>(
        &self,
        lock: &ContainerLock,
        name: &str,
        value: &T,
    ) -> Result<(), StoreError> {
        let path = self.dir(&lock.id).join(name);
        let mut bytes = serde_json::to_vec_pretty(value).map_err(|source| StoreError::Corrupt {
            path: path.clone(),
            source,
        })?;
        bytes.push(b'\n');
        let dir = self.existing_dir(lock)?;
        secure::write_atomic_at(dir.as_fd(), name, &bytes, &path)
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

fn exists_at(dir: BorrowedFd<'_>, name: &str, path: &Path) -> Result<bool, StoreError> {
    match rustix::fs::statat(dir, name, rustix::fs::AtFlags::SYMLINK_NOFOLLOW) {
        Ok(_) => Ok(true),
        Err(rustix::io::Errno::NOENT) => Ok(false),
        Err(e) => Err(io_err("stat", path)(e.into())),
    }
}

fn read_json<T: DeserializeOwned>(
    dir: BorrowedFd<'_>,
    name: &str,
    path: &Path,
) -> Result<Option<T>, StoreError> {
    let Some(bytes) = secure::read_record(dir, name, path)? else {
        return Ok(None);
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|source| StoreError::Corrupt {
            path: path.to_owned(),
            source,
        })
}
