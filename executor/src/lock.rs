//! Exclusive `flock(2)` locks on files, held by a guard.
//!
//! `flock` locks belong to an open file description, so two `open`s of the same path conflict
//! even inside one process: the same guard type serialises threads and processes alike. The
//! kernel drops the lock when the process dies, so a killed executor never leaves one behind.
//!
//! Proxmox takes `flock` on `/run/lock/lxc/pve-config-<vmid>.lock` around every change of a
//! container's config ([`pve_config_lock_path`]); anything that edits `/etc/pve/lxc/<vmid>.conf`
//! by hand must take the same lock.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use std::os::fd::{AsFd, OwnedFd};
use std::sync::Arc;

use rustix::fs::{flock, AtFlags, FlockOperation, Mode, OFlags};

use crate::id::Vmid;

/// How long Proxmox itself waits for a config lock by default (`lock_config` → 10 s).
pub const PVE_LOCK_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("cannot open lock file {path}: {source}")]
    Open { path: PathBuf, source: io::Error },
    #[error("cannot lock {path}: {source}")]
    Flock { path: PathBuf, source: io::Error },
    #[error("lock {path} is held by another process")]
    Busy { path: PathBuf },
    #[error("timed out after {waited:?} waiting for lock {path}")]
    Timeout { path: PathBuf, waited: Duration },
    #[error("cannot remove lock file {path}: {source}")]
    Unlink { path: PathBuf, source: io::Error },
}

/// An exclusive lock; released when dropped (or when the process exits).
#[derive(Debug)]
pub struct LockGuard {
    // Held only for its open file description: closing it releases the flock.
    _file: File,
    path: PathBuf,
    /// For a lock taken with [`lock_at`]: the directory it was opened in and its name there.
    at: Option<(Arc<OwnedFd>, String)>,
}

impl LockGuard {
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Removes the lock file while still holding the lock. Waiters that already opened the old
    /// file notice, after they get the lock, that the path no longer names their file, and retry.
    pub fn unlink(self) -> Result<(), LockError> {
        let err = |source: io::Error| LockError::Unlink {
            path: self.path.clone(),
            source,
        };
        match &self.at {
            Some((dir, name)) => rustix::fs::unlinkat(dir.as_fd(), name.as_str(), AtFlags::empty())
                .map_err(|e| err(e.into())),
            None => std::fs::remove_file(&self.path).map_err(err),
        }
    }
}

/// How long to wait for a lock that someone else holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// Block until the lock is free.
    Forever,
    /// Fail at once if the lock is held.
    No,
    /// Poll until the deadline, then fail with [`LockError::Timeout`].
    Timeout(Duration),
}

/// Takes an exclusive lock on `path`, creating the file (mode 0600) if needed.
/// The parent directory must exist. Returns `Ok(None)` only with [`Wait::No`] when the lock is held.
pub fn lock(path: &Path, wait: Wait) -> Result<Option<LockGuard>, LockError> {
    lock_with(
        path,
        wait,
        None,
        || open(path),
        |file| still_names(path, file),
    )
}

/// [`lock`] on the file `name` inside the directory `dir` (whose path, for messages, is
/// `dir_path`): opened with `openat(…, O_NOFOLLOW)` from the descriptor, never by path, and
/// removed with `unlinkat` by [`LockGuard::unlink`].
pub fn lock_at(
    dir: &Arc<OwnedFd>,
    dir_path: &Path,
    name: &str,
    wait: Wait,
) -> Result<Option<LockGuard>, LockError> {
    let path = dir_path.join(name);
    let at = Some((dir.clone(), name.to_owned()));
    lock_with(
        &path,
        wait,
        at,
        || open_at(dir, name, &path, true).and_then(|f| f.ok_or_else(|| not_found(&path))),
        |file| still_names_at(dir, name, &path, file),
    )
}

/// Whether another process holds the lock `name` in `dir`. A missing lock file is free, and is
/// not created.
pub fn held_at(dir: &Arc<OwnedFd>, dir_path: &Path, name: &str) -> Result<bool, LockError> {
    let path = dir_path.join(name);
    let Some(file) = open_at(dir, name, &path, false)? else {
        return Ok(false);
    };
    loop {
        match flock(&file, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => return Ok(false),
            Err(e) if e == rustix::io::Errno::WOULDBLOCK => return Ok(true),
            Err(e) if e == rustix::io::Errno::INTR => continue,
            Err(e) => {
                return Err(LockError::Flock {
                    path,
                    source: e.into(),
                })
            }
        }
    }
}

fn not_found(path: &Path) -> LockError {
    LockError::Open {
        path: path.to_owned(),
        source: io::Error::from(io::ErrorKind::NotFound),
    }
}

fn open_at(
    dir: &Arc<OwnedFd>,
    name: &str,
    path: &Path,
    create: bool,
) -> Result<Option<File>, LockError> {
    let mut flags = OFlags::WRONLY | OFlags::APPEND | OFlags::CLOEXEC | OFlags::NOFOLLOW;
    if create {
        flags |= OFlags::CREATE;
    }
    match rustix::fs::openat(dir.as_fd(), name, flags, Mode::from_raw_mode(0o600)) {
        Ok(fd) => Ok(Some(File::from(fd))),
        Err(e) if e == rustix::io::Errno::NOENT && !create => Ok(None),
        Err(e) => Err(LockError::Open {
            path: path.to_owned(),
            source: e.into(),
        }),
    }
}

fn still_names_at(
    dir: &Arc<OwnedFd>,
    name: &str,
    path: &Path,
    file: &File,
) -> Result<bool, LockError> {
    let held = file.metadata().map_err(|source| LockError::Open {
        path: path.to_owned(),
        source,
    })?;
    match rustix::fs::statat(dir.as_fd(), name, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(now) => Ok(now.st_dev == held.dev() && now.st_ino == held.ino()),
        Err(e) if e == rustix::io::Errno::NOENT => Ok(false),
        Err(e) => Err(LockError::Open {
            path: path.to_owned(),
            source: e.into(),
        }),
    }
}

fn lock_with(
    path: &Path,
    wait: Wait,
    at: Option<(Arc<OwnedFd>, String)>,
    open: impl Fn() -> Result<File, LockError>,
    still_names: impl Fn(&File) -> Result<bool, LockError>,
) -> Result<Option<LockGuard>, LockError> {
    let start = Instant::now();
    let mut pause = Duration::from_millis(5);
    loop {
        let file = open()?;
        let op = match wait {
            Wait::Forever => FlockOperation::LockExclusive,
            Wait::No | Wait::Timeout(_) => FlockOperation::NonBlockingLockExclusive,
        };
        match flock(&file, op) {
            Ok(()) => {
                if still_names(&file)? {
                    return Ok(Some(LockGuard {
                        _file: file,
                        path: path.to_owned(),
                        at,
                    }));
                }
                // The holder before us unlinked the file: our lock is on an orphan inode.
                continue;
            }
            Err(e) if e == rustix::io::Errno::WOULDBLOCK => match wait {
                Wait::No => return Ok(None),
                Wait::Timeout(limit) => {
                    let waited = start.elapsed();
                    if waited >= limit {
                        return Err(LockError::Timeout {
                            path: path.to_owned(),
                            waited,
                        });
                    }
                    thread::sleep(pause.min(limit.saturating_sub(waited)));
                    pause = (pause * 2).min(Duration::from_millis(100));
                }
                Wait::Forever => unreachable_blocking(path)?,
            },
            Err(e) if e == rustix::io::Errno::INTR => continue,
            Err(e) => {
                return Err(LockError::Flock {
                    path: path.to_owned(),
                    source: e.into(),
                })
            }
        }
    }
}

/// A blocking flock never reports EWOULDBLOCK; treat it as an I/O error rather than panic.
fn unreachable_blocking(path: &Path) -> Result<(), LockError> {
    Err(LockError::Flock {
        path: path.to_owned(),
        source: io::Error::from(io::ErrorKind::WouldBlock),
    })
}

/// Blocks until the lock is ours.
pub fn lock_blocking(path: &Path) -> Result<LockGuard, LockError> {
    lock_required(path, Wait::Forever)
}

/// Waits at most `timeout` for the lock.
pub fn lock_timeout(path: &Path, timeout: Duration) -> Result<LockGuard, LockError> {
    lock_required(path, Wait::Timeout(timeout))
}

/// Like [`lock`], but a held lock with [`Wait::No`] is the error [`LockError::Busy`].
pub fn lock_required(path: &Path, wait: Wait) -> Result<LockGuard, LockError> {
    lock(path, wait)?.ok_or_else(|| LockError::Busy {
        path: path.to_owned(),
    })
}

/// Proxmox's config lock file for a container: `/run/lock/lxc/pve-config-<vmid>.lock`.
pub fn pve_config_lock_path(vmid: Vmid) -> PathBuf {
    pve_config_lock_path_in(Path::new(translator::path::pve::LOCK_DIR), vmid)
}

/// The same file name under another directory (tests, or a host with a relocated `/run`).
pub fn pve_config_lock_path_in(dir: &Path, vmid: Vmid) -> PathBuf {
    dir.join(translator::path::pve::config_lock_file(vmid))
}

/// Takes Proxmox's config lock for `vmid` under `dir` (normally [`translator::path::pve::LOCK_DIR`]), creating the
/// directory as Proxmox does.
pub fn lock_pve_config_in(
    dir: &Path,
    vmid: Vmid,
    timeout: Duration,
) -> Result<LockGuard, LockError> {
    std::fs::create_dir_all(dir).map_err(|source| LockError::Open {
        path: dir.to_owned(),
        source,
    })?;
    lock_timeout(&pve_config_lock_path_in(dir, vmid), timeout)
}

fn open(path: &Path) -> Result<File, LockError> {
    // Proxmox opens its lock files for append (`>>`); a lock file is never read or truncated.
    OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW)
        .open(path)
        .map_err(|source| LockError::Open {
            path: path.to_owned(),
            source,
        })
}

fn still_names(path: &Path, file: &File) -> Result<bool, LockError> {
    let held = file.metadata().map_err(|source| LockError::Open {
        path: path.to_owned(),
        source,
    })?;
    match std::fs::symlink_metadata(path) {
        Ok(now) => Ok(now.dev() == held.dev() && now.ino() == held.ino()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(source) => Err(LockError::Open {
            path: path.to_owned(),
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    #[test]
    fn second_lock_on_same_path_is_refused_until_release() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.lock");
        let first = lock(&path, Wait::No).unwrap().expect("free lock");
        assert!(lock(&path, Wait::No).unwrap().is_none(), "lock held twice");
        drop(first);
        assert!(lock(&path, Wait::No).unwrap().is_some());
    }

    #[test]
    fn timeout_reports_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.lock");
        let _held = lock_blocking(&path).unwrap();
        let err = lock_timeout(&path, Duration::from_millis(50)).unwrap_err();
        match err {
            LockError::Timeout { path: p, waited } => {
                assert_eq!(p, path);
                assert!(waited >= Duration::from_millis(50));
            }
            other => panic!("unexpected {other}"),
        }
    }

    #[test]
    fn threads_are_mutually_excluded() {
        let dir = tempfile::tempdir().unwrap();
        let path = Arc::new(dir.path().join("x.lock"));
        let inside = Arc::new(AtomicUsize::new(0));
        let max_seen = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let (path, inside, max_seen) = (path.clone(), inside.clone(), max_seen.clone());
                thread::spawn(move || {
                    for _ in 0..20 {
                        let _g = lock_blocking(&path).unwrap();
                        let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                        max_seen.fetch_max(now, Ordering::SeqCst);
                        thread::sleep(Duration::from_micros(200));
                        inside.fetch_sub(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert_eq!(max_seen.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn unlink_while_held_makes_waiters_retry_on_a_fresh_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.lock");
        let held = lock_blocking(&path).unwrap();
        let p2 = path.clone();
        let waiter = thread::spawn(move || lock_blocking(&p2).unwrap());
        thread::sleep(Duration::from_millis(50));
        held.unlink().unwrap();
        let g = waiter.join().unwrap();
        assert!(
            path.exists(),
            "waiter must lock a file that exists at the path"
        );
        // Had the waiter kept its lock on the unlinked inode, this would succeed.
        assert!(lock(&path, Wait::No).unwrap().is_none());
        drop(g);
    }

    #[test]
    fn pve_lock_path_matches_proxmox() {
        let vmid = Vmid::new(123).unwrap();
        assert_eq!(
            pve_config_lock_path(vmid),
            PathBuf::from("/run/lock/lxc/pve-config-123.lock")
        );
    }

    #[test]
    fn pve_lock_is_exclusive_and_creates_dir() {
        let dir = tempfile::tempdir().unwrap();
        let lockdir = dir.path().join("run/lock/lxc");
        let vmid = Vmid::new(4242).unwrap();
        let g = lock_pve_config_in(&lockdir, vmid, Duration::from_millis(10)).unwrap();
        assert_eq!(g.path(), lockdir.join("pve-config-4242.lock"));
        assert!(matches!(
            lock_pve_config_in(&lockdir, vmid, Duration::from_millis(10)),
            Err(LockError::Timeout { .. })
        ));
    }

    #[test]
    fn lock_file_symlink_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target");
        std::fs::write(&target, b"").unwrap();
        let link = dir.path().join("x.lock");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(matches!(lock(&link, Wait::No), Err(LockError::Open { .. })));
    }
}
