//! The `--pid-file` an engine reads once `create` (or `exec --detach`) exits.
//!
//! Written the way runc writes it (`createPidFile`, utils_linux.go, opencontainers/runc at
//! 76d9cf5d): the pid into a new hidden file beside it, then renamed over the path, so an engine
//! that reads it never sees an empty or half-written number. The path is the engine's (the
//! caller's, trusted as the caller is), not a bundle's.

use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Writes `pid` to `path` atomically.
pub fn write(path: &Path, pid: u32) -> io::Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "a pid file names a file"))?;
    let mut hidden = std::ffi::OsString::from(".");
    hidden.push(name);
    // Our pid too: two runtimes writing pid files of one name do not share the temporary.
    hidden.push(format!(".{}", std::process::id()));
    let tmp = path.with_file_name(hidden);
    let written = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o644)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&tmp)?;
        f.write_all(pid.to_string().as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    #[test]
    fn the_pid_replaces_the_file_whole_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pid");
        std::fs::write(&path, "123456789").unwrap();
        super::write(&path, 42).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "42");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["pid"]);
        assert!(super::write(&dir.path().join("missing/pid"), 1).is_err());
        assert!(super::write(Path::new("/"), 1).is_err());
    }
}
