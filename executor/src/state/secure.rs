//! The state root checked the way sudo checks its own files, and every file of the store reached
//! through descriptors that were checked, never through a path that could change in between.
//!
//! The rule (sudo's `sudo_secure_path`: the owner must be the expected uid and the file must
//! not be writable by group or others):
//!
//! - The root and every ancestor directory are owned by root or by the caller's effective uid,
//!   and not group- or world-writable. They are opened one component at a time from `/` with
//!   `O_NOFOLLOW | O_DIRECTORY`, so a symlink anywhere along the way is refused, and each check
//!   is made on the descriptor that the next component is opened from (`fstat`, no
//!   check-then-open).
//! - One exception, for ancestors only: a directory with the sticky bit that is owned by root
//!   (`/tmp`, `/run/lock`). In it, others can create entries but cannot rename or remove ours
//!   (`unlink(2)`, "EPERM: the directory has the sticky bit set and the caller does not own the
//!   file"), and an entry someone else created is theirs, which the next check refuses. The
//!   state root itself is never allowed to be writable by others, sticky or not.
//! - Container directories, the lock directory and every record file are checked the same way
//!   on their own descriptor: owned by root or the caller, not group- or world-writable, not a
//!   symlink, and a record is a regular file no larger than [`RECORD_MAX`].

use std::ffi::{CStr, CString, OsStr};
use std::io::{Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use rustix::fs::{self as rfs, AtFlags, FileType, Mode, OFlags};
use rustix::io::Errno;

use super::StoreError;

/// The largest record file the store reads (`state.json`, `mapping.json`, `creating`,
/// `undo.json`): far above what the executor writes, small enough to read into memory.
pub const RECORD_MAX: u64 = 1024 * 1024;

/// Depth at which removing a container directory gives up (the store writes no subdirectories).
const REMOVE_DEPTH: usize = 8;

fn insecure(path: &Path, reason: impl Into<String>) -> StoreError {
    StoreError::Insecure {
        path: path.to_owned(),
        reason: reason.into(),
    }
}

fn io_at(op: &'static str, path: &Path, e: Errno) -> StoreError {
    StoreError::Io {
        op,
        path: path.to_owned(),
        source: e.into(),
    }
}

fn euid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// Who may own the store's files: root, and the caller (a store under a user's own directory).
fn trusted_owner(uid: u32) -> bool {
    uid == 0 || uid == euid()
}

/// Whether a directory may lead to the state root (`sticky_ok`) or be part of it.
fn check_dir(st: &rfs::Stat, path: &Path, sticky_ok: bool) -> Result<(), StoreError> {
    if FileType::from_raw_mode(st.st_mode) != FileType::Directory {
        return Err(insecure(path, "it is not a directory"));
    }
    check_owner_mode(st, path, sticky_ok)
}

fn check_owner_mode(st: &rfs::Stat, path: &Path, sticky_ok: bool) -> Result<(), StoreError> {
    let mode = st.st_mode & 0o7777;
    if !trusted_owner(st.st_uid) {
        return Err(insecure(
            path,
            format!(
                "it is owned by uid {}, not by root (or the caller)",
                st.st_uid
            ),
        ));
    }
    if mode & 0o022 != 0 {
        let sticky = mode & 0o1000 != 0;
        if !(sticky_ok && sticky && st.st_uid == 0) {
            let who = match (mode & 0o020 != 0, mode & 0o002 != 0) {
                (true, true) => "its group and by others",
                (true, false) => "its group",
                _ => "others",
            };
            return Err(insecure(
                path,
                format!("it is writable by {who} (mode {mode:04o})"),
            ));
        }
    }
    Ok(())
}

fn dir_flags() -> OFlags {
    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC
}

/// Opens the directory `name` in `dir`; a symlink is refused by name.
fn open_dir_in(
    dir: BorrowedFd<'_>,
    name: &OsStr,
    path: &Path,
) -> Result<Option<OwnedFd>, StoreError> {
    match rfs::openat(dir, name, dir_flags(), Mode::empty()) {
        Ok(fd) => Ok(Some(fd)),
        Err(Errno::NOENT) => Ok(None),
        Err(Errno::LOOP) => Err(insecure(path, "it is a symlink")),
        Err(Errno::NOTDIR) => match rfs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) if FileType::from_raw_mode(st.st_mode) == FileType::Symlink => {
                Err(insecure(path, "it is a symlink"))
            }
            _ => Err(insecure(path, "it is not a directory")),
        },
        Err(e) => Err(io_at("open", path, e)),
    }
}

/// Opens (and with `create`, makes, mode 0700) the state root, checking `/`, every ancestor
/// and the root itself on the descriptors the walk holds.
pub fn open_root(root: &Path, create: bool) -> Result<(PathBuf, OwnedFd), StoreError> {
    let abs = std::path::absolute(root).map_err(|source| StoreError::Io {
        op: "resolve",
        path: root.to_owned(),
        source,
    })?;
    let mut parts: Vec<&OsStr> = Vec::new();
    for c in abs.components() {
        match c {
            Component::RootDir | Component::CurDir => {}
            Component::Normal(n) => parts.push(n),
            Component::ParentDir => {
                return Err(insecure(&abs, "the path contains `..`; give it without"))
            }
            Component::Prefix(_) => return Err(insecure(&abs, "not a Unix path")),
        }
    }
    let slash = Path::new("/");
    let mut fd = rfs::openat(rfs::CWD, slash, dir_flags(), Mode::empty())
        .map_err(|e| io_at("open", slash, e))?;
    let mut at = PathBuf::from("/");
    check_dir(
        &rfs::fstat(&fd).map_err(|e| io_at("stat", slash, e))?,
        slash,
        !parts.is_empty(),
    )?;
    let last = parts.len();
    for (i, name) in parts.into_iter().enumerate() {
        at.push(name);
        let is_root = i + 1 == last;
        let next = match open_dir_in(fd.as_fd(), name, &at)? {
            Some(next) => next,
            None if create => {
                match rfs::mkdirat(&fd, name, Mode::from_raw_mode(0o700)) {
                    Ok(()) | Err(Errno::EXIST) => {}
                    Err(e) => return Err(io_at("create", &at, e)),
                }
                open_dir_in(fd.as_fd(), name, &at)?
                    .ok_or_else(|| io_at("open", &at, Errno::NOENT))?
            }
            None => return Err(io_at("open", &at, Errno::NOENT)),
        };
        let st = rfs::fstat(&next).map_err(|e| io_at("stat", &at, e))?;
        check_dir(&st, &at, !is_root)?;
        fd = next;
    }
    Ok((abs, fd))
}

/// Opens a directory of the store (`.locks`, a container's) and checks it; `None` if missing.
pub fn open_subdir(
    parent: BorrowedFd<'_>,
    name: &str,
    path: &Path,
    create: bool,
) -> Result<Option<OwnedFd>, StoreError> {
    let fd = match open_dir_in(parent, OsStr::new(name), path)? {
        Some(fd) => fd,
        None if create => {
            match rfs::mkdirat(parent, name, Mode::from_raw_mode(0o700)) {
                Ok(()) | Err(Errno::EXIST) => {}
                Err(e) => return Err(io_at("create", path, e)),
            }
            open_dir_in(parent, OsStr::new(name), path)?
                .ok_or_else(|| io_at("open", path, Errno::NOENT))?
        }
        None => return Ok(None),
    };
    let st = rfs::fstat(&fd).map_err(|e| io_at("stat", path, e))?;
    check_dir(&st, path, false)?;
    Ok(Some(fd))
}

/// Reads a record file: a regular file, trusted owner, not writable by others, at most
/// [`RECORD_MAX`] bytes. `None` if it does not exist. `O_NONBLOCK` keeps a FIFO from blocking
/// the open; the type check then refuses it.
pub fn read_record(
    dir: BorrowedFd<'_>,
    name: &str,
    path: &Path,
) -> Result<Option<Vec<u8>>, StoreError> {
    let flags =
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NONBLOCK | OFlags::NOCTTY;
    let fd = match rfs::openat(dir, name, flags, Mode::empty()) {
        Ok(fd) => fd,
        Err(Errno::NOENT) => return Ok(None),
        Err(Errno::LOOP) => return Err(insecure(path, "it is a symlink")),
        Err(e) => return Err(io_at("open", path, e)),
    };
    let st = rfs::fstat(&fd).map_err(|e| io_at("stat", path, e))?;
    if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile {
        return Err(insecure(path, "it is not a regular file"));
    }
    check_owner_mode(&st, path, false)?;
    let size = u64::try_from(st.st_size).unwrap_or(u64::MAX);
    if size > RECORD_MAX {
        return Err(insecure(
            path,
            format!("it is {size} bytes; records are at most {RECORD_MAX}"),
        ));
    }
    let mut bytes = Vec::new();
    // The size can change after fstat; never read more than the limit either way.
    std::fs::File::from(fd)
        .take(RECORD_MAX + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| StoreError::Io {
            op: "read",
            path: path.to_owned(),
            source,
        })?;
    if bytes.len() as u64 > RECORD_MAX {
        return Err(insecure(
            path,
            format!("it grew beyond {RECORD_MAX} bytes while read"),
        ));
    }
    Ok(Some(bytes))
}

/// Writes `name` in `dir` atomically (mode 0600): a new temp file (`O_EXCL`), fsync, rename,
/// fsync of the directory.
pub fn write_atomic_at(
    dir: BorrowedFd<'_>,
    name: &str,
    bytes: &[u8],
    path: &Path,
) -> Result<(), StoreError> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let tmp = format!(".{name}.{}.{nanos:x}.tmp", std::process::id());
    let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let fd = rfs::openat(dir, tmp.as_str(), flags, Mode::from_raw_mode(0o600))
        .map_err(|e| io_at("create a temp file for", path, e))?;
    let result = (|| {
        rfs::fchmod(&fd, Mode::from_raw_mode(0o600)).map_err(|e| io_at("chmod", path, e))?;
        let mut file = std::fs::File::from(fd);
        file.write_all(bytes).map_err(|source| StoreError::Io {
            op: "write",
            path: path.to_owned(),
            source,
        })?;
        file.sync_all().map_err(|source| StoreError::Io {
            op: "fsync",
            path: path.to_owned(),
            source,
        })?;
        rfs::renameat(dir, tmp.as_str(), dir, name)
            .map_err(|e| io_at("rename a temp file onto", path, e))
    })();
    if result.is_err() {
        let _ = rfs::unlinkat(dir, tmp.as_str(), AtFlags::empty());
        return result;
    }
    rfs::fsync(dir).map_err(|e| io_at("fsync", path, e))
}

/// Removes the file `name` in `dir`; a missing one is fine.
pub fn remove_at(dir: BorrowedFd<'_>, name: &str, path: &Path) -> Result<(), StoreError> {
    match rfs::unlinkat(dir, name, AtFlags::empty()) {
        Ok(()) | Err(Errno::NOENT) => Ok(()),
        Err(e) => Err(io_at("remove", path, e)),
    }
}

/// The names in a directory, without `.` and `..`.
pub fn names(dir: BorrowedFd<'_>, path: &Path) -> Result<Vec<CString>, StoreError> {
    let entries = rfs::Dir::read_from(dir).map_err(|e| io_at("read", path, e))?;
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| io_at("read", path, e))?;
        let name: &CStr = entry.file_name();
        if name.to_bytes() != b"." && name.to_bytes() != b".." {
            out.push(name.to_owned());
        }
    }
    Ok(out)
}

/// Removes the entry `name` of `parent` and, if it is a directory, everything below it, through
/// descriptors: a symlink is removed as a link, never followed.
pub fn remove_tree_at(
    parent: BorrowedFd<'_>,
    name: &CStr,
    path: &Path,
    depth: usize,
) -> Result<(), StoreError> {
    match rfs::unlinkat(parent, name, AtFlags::empty()) {
        Ok(()) | Err(Errno::NOENT) => return Ok(()),
        Err(Errno::ISDIR) => {}
        Err(e) => return Err(io_at("remove", path, e)),
    }
    if depth >= REMOVE_DEPTH {
        return Err(insecure(
            path,
            "it is nested deeper than the store ever writes",
        ));
    }
    let dir = rfs::openat(parent, name, dir_flags(), Mode::empty())
        .map_err(|e| io_at("open", path, e))?;
    for child in names(dir.as_fd(), path)? {
        let child_path = path.join(OsStr::from_bytes(child.to_bytes()));
        remove_tree_at(dir.as_fd(), &child, &child_path, depth + 1)?;
    }
    match rfs::unlinkat(parent, name, AtFlags::REMOVEDIR) {
        Ok(()) | Err(Errno::NOENT) => {}
        Err(e) => return Err(io_at("remove", path, e)),
    }
    rfs::fsync(parent).map_err(|e| io_at("fsync", path, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn chmod(p: &Path, mode: u32) {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn a_private_root_under_tmp_is_accepted_and_created() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("a/state");
        let (abs, _fd) = open_root(&root, true).unwrap();
        assert_eq!(abs, root);
        let mode = std::fs::metadata(&root).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode, 0o700);
    }

    #[test]
    fn writable_roots_ancestors_and_symlinks_are_refused() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("state");
        std::fs::create_dir(&root).unwrap();
        for (mode, why) in [
            (0o777, "group and by others"),
            (0o1777, "group and by others"),
            (0o770, "its group"),
            (0o702, "others"),
        ] {
            chmod(&root, mode);
            let err = open_root(&root, false).unwrap_err().to_string();
            assert!(
                err.contains(why) && err.contains(&root.display().to_string()),
                "{mode:o}: {err}"
            );
        }
        chmod(&root, 0o700);
        // A group-writable ancestor without the sticky bit.
        chmod(t.path(), 0o770);
        let err = open_root(&root, false).unwrap_err().to_string();
        assert!(
            err.contains("its group") && err.contains(&t.path().display().to_string()),
            "{err}"
        );
        chmod(t.path(), 0o700);
        let link = t.path().join("link");
        std::os::unix::fs::symlink(&root, &link).unwrap();
        let err = open_root(&link.join("x"), true).unwrap_err().to_string();
        assert!(err.contains("is a symlink"), "{err}");
        assert!(
            !root.join("x").exists(),
            "nothing is created through the link"
        );
    }

    #[test]
    fn records_are_checked_on_their_descriptor() {
        let t = tempfile::tempdir().unwrap();
        let (_, fd) = open_root(t.path(), false).unwrap();
        let p = t.path();
        write_atomic_at(fd.as_fd(), "ok.json", b"{}", &p.join("ok.json")).unwrap();
        assert_eq!(
            read_record(fd.as_fd(), "ok.json", p).unwrap().unwrap(),
            b"{}"
        );
        assert!(read_record(fd.as_fd(), "missing", p).unwrap().is_none());
        chmod(&p.join("ok.json"), 0o666);
        assert!(read_record(fd.as_fd(), "ok.json", p)
            .unwrap_err()
            .to_string()
            .contains("writable"));
        std::os::unix::fs::symlink("/etc/passwd", p.join("link")).unwrap();
        assert!(read_record(fd.as_fd(), "link", p)
            .unwrap_err()
            .to_string()
            .contains("symlink"));
        rustix::fs::mknodat(
            fd.as_fd(),
            "fifo",
            FileType::Fifo,
            Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        assert!(read_record(fd.as_fd(), "fifo", p)
            .unwrap_err()
            .to_string()
            .contains("not a regular file"));
        let big = std::fs::File::create(p.join("big")).unwrap();
        big.set_len(RECORD_MAX + 1).unwrap();
        assert!(read_record(fd.as_fd(), "big", p)
            .unwrap_err()
            .to_string()
            .contains("at most"));
    }

    #[test]
    fn removing_a_tree_never_follows_links() {
        let t = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("canary"), "keep").unwrap();
        let d = t.path().join("c");
        std::fs::create_dir_all(d.join("sub")).unwrap();
        std::fs::write(d.join("sub/f"), "x").unwrap();
        std::os::unix::fs::symlink(outside.path(), d.join("link")).unwrap();
        let (_, fd) = open_root(t.path(), false).unwrap();
        remove_tree_at(fd.as_fd(), c"c", &d, 0).unwrap();
        assert!(!d.exists());
        assert_eq!(
            std::fs::read_to_string(outside.path().join("canary")).unwrap(),
            "keep"
        );
    }
}
