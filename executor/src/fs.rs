//! File-system helpers at the bottom of the crate: atomic file replacement (readers see the old
//! file or the new one, never a mix, and after a crash the new content is either fully on disk
//! or not there at all) and directory fsync.
//!
//! A leaf: this module imports nothing from the crate, so `host` (which drives `pack`) and
//! `pack` (which fsyncs its output directory) both use it without importing each other.

use std::fmt;
use std::fs::{self, File, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Permission bits of a file written atomically.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileMode {
    Exact(u32),
    /// Keep the mode of the file being replaced; use this one if there is none.
    PreserveOr(u32),
}

impl fmt::Display for FileMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileMode::Exact(m) => write!(f, "mode {m:04o}"),
            FileMode::PreserveOr(m) => write!(f, "mode of the existing file or {m:04o}"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("cannot {op} {path}: {source}")]
pub struct WriteError {
    pub op: &'static str,
    pub path: PathBuf,
    #[source]
    pub source: io::Error,
}

/// Writes `contents` to a temp file next to `path`, fsyncs it, renames it over `path` and
/// fsyncs the directory. The temp file is removed if anything fails before the rename.
pub fn write_atomic(path: &Path, contents: &[u8], mode: FileMode) -> Result<(), WriteError> {
    let err = |op: &'static str, p: &Path| {
        let p = p.to_owned();
        move |source| WriteError {
            op,
            path: p,
            source,
        }
    };
    let name = path.file_name().ok_or_else(|| WriteError {
        op: "write",
        path: path.to_owned(),
        source: io::Error::new(io::ErrorKind::InvalidInput, "path has no file name"),
    })?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let bits = match mode {
        FileMode::Exact(m) => m,
        FileMode::PreserveOr(m) => match fs::metadata(path) {
            Ok(meta) => meta.permissions().mode() & 0o7777,
            Err(e) if e.kind() == io::ErrorKind::NotFound => m,
            Err(e) => return Err(err("stat", path)(e)),
        },
    };
    let mut prefix = std::ffi::OsString::from(".");
    prefix.push(name);
    prefix.push(".");
    let mut tmp = tempfile::Builder::new()
        .prefix(&prefix)
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(err("create a temp file in", dir))?;
    tmp.write_all(contents).map_err(err("write", tmp.path()))?;
    // fchmod after create: the umask must not weaken or strengthen the requested bits.
    tmp.as_file()
        .set_permissions(Permissions::from_mode(bits))
        .map_err(err("chmod", tmp.path()))?;
    tmp.as_file().sync_all().map_err(err("fsync", tmp.path()))?;
    tmp.persist(path).map_err(|e| WriteError {
        op: "rename a temp file onto",
        path: path.to_owned(),
        source: e.error,
    })?;
    sync_dir(dir).map_err(err("fsync directory", dir))
}

/// Makes a rename or unlink in `dir` durable. File systems that cannot fsync a directory
/// (some FUSE ones) report EINVAL; the rename is still atomic there, so that is not an error.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    let d = File::open(dir)?;
    match d.sync_all() {
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn writes_exact_mode_and_content() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.conf");
        write_atomic(&p, b"hello", FileMode::Exact(0o640)).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"hello");
        assert_eq!(fs::metadata(&p).unwrap().mode() & 0o7777, 0o640);
    }

    #[test]
    fn replaces_and_preserves_mode() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.conf");
        fs::write(&p, b"old").unwrap();
        fs::set_permissions(&p, Permissions::from_mode(0o600)).unwrap();
        let old_ino = fs::metadata(&p).unwrap().ino();
        write_atomic(&p, b"new", FileMode::PreserveOr(0o644)).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"new");
        let meta = fs::metadata(&p).unwrap();
        assert_eq!(meta.mode() & 0o7777, 0o600);
        assert_ne!(
            meta.ino(),
            old_ino,
            "must be a rename, not an in-place write"
        );
        let fresh = dir.path().join("b.conf");
        write_atomic(&fresh, b"x", FileMode::PreserveOr(0o644)).unwrap();
        assert_eq!(fs::metadata(&fresh).unwrap().mode() & 0o7777, 0o644);
    }

    #[test]
    fn failure_leaves_no_temp_file_and_old_content() {
        let dir = tempfile::tempdir().unwrap();
        // The target is a non-empty directory: the rename must fail.
        let p = dir.path().join("target");
        fs::create_dir(&p).unwrap();
        fs::write(p.join("keep"), b"k").unwrap();
        let err = write_atomic(&p, b"new", FileMode::Exact(0o644)).unwrap_err();
        assert_eq!(err.op, "rename a temp file onto");
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("target")]);
        assert_eq!(fs::read(p.join("keep")).unwrap(), b"k");
    }

    #[test]
    fn missing_directory_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("no/such/file");
        let err = write_atomic(&p, b"x", FileMode::Exact(0o644)).unwrap_err();
        assert_eq!(err.op, "create a temp file in");
        assert_eq!(err.path, dir.path().join("no/such"));
    }
}
