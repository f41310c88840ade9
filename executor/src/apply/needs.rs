//! What a plan needs from the node that the translator could not see: the bind mount points'
//! sources are directories (`Need::Directory`).
//!
//! Proxmox accepts a bind `mpN` of a file at `pct create` and refuses to start it: the
//! prestart hook's `__mountpoint_mount` (src/PVE/LXC.pm, pve-container 94f5585, line 2300)
//! runs `die "directory '$volid' does not exist\n" if !-d $volid`. The translator never looks
//! at the node, so `create` asks here which sources are files (and translates them as
//! `lxc.mount.entry … create=file`), and `apply` checks a carried plan before its first step.
//! Both follow symlinks, as Perl's `-d` does: the question is what Proxmox will find.

use std::path::Path;

use translator::emit::plan::{Need, Plan};

/// The paths a plan needs to be directories, with the step (0-based) that needs each.
pub fn directories(plan: &Plan) -> impl Iterator<Item = (usize, &str)> {
    plan.steps.iter().enumerate().flat_map(|(i, step)| {
        step.needs.iter().filter_map(move |n| match n {
            Need::Directory(path) => Some((i, path.as_str())),
            _ => None,
        })
    })
}

/// Of these bind sources, the ones that exist on the node and are not directories (files,
/// sockets, device nodes): Proxmox can bind them only as an `lxc.mount.entry` with
/// `create=file`. A missing source is left to `apply`'s check, which names it.
pub fn files_among<'a>(paths: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    paths.into_iter().filter(|p| std::fs::metadata(p).is_ok_and(|m| !m.is_dir())).map(str::to_string).collect()
}

/// A `Need::Directory` the node does not meet.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "step {step} needs {path} to be a directory on this node, and it {found}: Proxmox would create the container and then refuse to start it (\"directory '{path}' does not exist\"); translate the bundle on this node (`create` checks it), or name the file in the target's `bind-files`"
)]
pub struct NotADirectory {
    /// 1-based, as in plan.sh.
    pub step: usize,
    pub path: String,
    pub found: &'static str,
}

/// Checks every `Need::Directory` of the plan, before anything runs.
pub fn check_directories(plan: &Plan) -> Result<(), NotADirectory> {
    for (i, path) in directories(plan) {
        let found = match std::fs::metadata(Path::new(path)) {
            Ok(m) if m.is_dir() => continue,
            Ok(_) => "is not one",
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => "does not exist",
            Err(_) => "cannot be looked at",
        };
        return Err(NotADirectory { step: i + 1, path: path.to_string(), found });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_and_missing_paths_are_told_apart() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let file = dir.path().join("app.conf");
        std::fs::write(&file, "x").unwrap_or_else(|e| panic!("{e}"));
        let (d, f) = (dir.path().to_str().unwrap_or_default(), file.to_str().unwrap_or_default());
        let missing = dir.path().join("nothing");
        let m = missing.to_str().unwrap_or_default();
        assert_eq!(files_among([d, f, m]), vec![f.to_string()]);
    }
}
