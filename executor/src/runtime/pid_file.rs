//! The `--pid-file` an engine reads once `create` (or `exec --detach`) exits.
//!
//! Written as runc writes it (`createPidFile`, utils_linux.go, opencontainers/runc at
//! 76d9cf5d): into a new hidden file beside it, then renamed over the path, so an engine never
//! reads an empty or half-written number. That is [`crate::fs::write_atomic`]. The path is the
//! engine's (the caller's, trusted as the caller is), not a bundle's.

use std::path::Path;

use crate::fs::{write_atomic, FileMode};

/// Writes `pid` to `path` atomically, mode 0644 as runc leaves it (0666 less its umask). The
/// error keeps which step failed (`create a temp file in`, `rename a temp file onto`, …).
pub fn write(path: &Path, pid: u32) -> std::io::Result<()> {
    write_atomic(path, pid.to_string().as_bytes(), FileMode::Exact(0o644))
        .map_err(|e| std::io::Error::new(e.source.kind(), format!("{}: {}", e.op, e.source)))
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::MetadataExt;
    use std::path::Path;

    #[test]
    fn the_pid_replaces_the_file_whole_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pid");
        std::fs::write(&path, "123456789").unwrap();
        let before = std::fs::metadata(&path).unwrap().ino();
        super::write(&path, 42).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "42");
        assert_ne!(
            std::fs::metadata(&path).unwrap().ino(),
            before,
            "a rename, never a write into the file the engine may be reading"
        );
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["pid"]);
        assert!(super::write(&dir.path().join("missing/pid"), 1).is_err());
        assert!(super::write(Path::new("/"), 1).is_err());
    }
}
