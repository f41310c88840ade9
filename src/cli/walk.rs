//! Finding the configs `lint` reads: a config file, a bundle directory, or a
//! directory searched for bundles.
//!
//! A bundle is a directory with a `config.json`; the search does not descend
//! into one (its `rootfs/` is the image, which may hold other `config.json`
//! files). Symbolic links inside the tree are not followed, so the search
//! stays inside it and cannot loop; the paths given on the command line are
//! taken as the user wrote them. The order is sorted by path, so output is
//! the same on every run.

use std::path::{Path, PathBuf};

/// One thing the search found.
#[derive(Debug, PartialEq, Eq)]
pub enum Found {
    /// A config file to lint.
    Config(PathBuf),
    /// A path that could not be searched or is not a config.
    Unreadable { path: PathBuf, reason: String },
}

/// Directories never searched: version control metadata.
const SKIPPED_DIRS: &[&str] = &[".git", ".hg", ".svn"];

/// The configs at or below `arg`; `excluded` prunes the directories (and skips the configs)
/// it says yes to, below `arg`.
pub fn find(arg: &Path, excluded: &dyn Fn(&Path) -> bool) -> Vec<Found> {
    let meta = match std::fs::metadata(arg) {
        Ok(m) => m,
        Err(e) => {
            return vec![Found::Unreadable {
                path: arg.to_path_buf(),
                reason: e.to_string(),
            }]
        }
    };
    if !meta.is_dir() {
        return vec![Found::Config(arg.to_path_buf())];
    }
    let mut out = Vec::new();
    let mut skipped = 0;
    search(arg, excluded, &mut out, &mut skipped);
    if out.is_empty() && skipped == 0 {
        out.push(Found::Unreadable {
            path: arg.to_path_buf(),
            reason: "no bundle here: no directory below it has a config.json".into(),
        });
    }
    out
}

fn search(dir: &Path, excluded: &dyn Fn(&Path) -> bool, out: &mut Vec<Found>, skipped: &mut usize) {
    let config = dir.join("config.json");
    match std::fs::symlink_metadata(&config) {
        Ok(m) if m.file_type().is_symlink() => {
            out.push(Found::Unreadable { path: config, reason: "config.json is a symbolic link; a bundle's config must be a regular file inside it".into() });
            return;
        }
        Ok(_) => {
            out.push(Found::Config(config));
            return;
        }
        Err(_) => {}
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) => {
            out.push(Found::Unreadable {
                path: dir.to_path_buf(),
                reason: e.to_string(),
            });
            return;
        }
    };
    let mut subdirs = Vec::new();
    for entry in entries {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                out.push(Found::Unreadable {
                    path: dir.to_path_buf(),
                    reason: e.to_string(),
                });
                continue;
            }
        };
        // DirEntry::file_type does not follow symbolic links.
        let is_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false);
        let skipped_dir = entry
            .file_name()
            .to_str()
            .is_some_and(|n| SKIPPED_DIRS.contains(&n));
        if is_dir && !skipped_dir {
            let path = entry.path();
            if excluded(&path) {
                *skipped += 1;
            } else {
                subdirs.push(path);
            }
        }
    }
    subdirs.sort();
    for sub in subdirs {
        search(&sub, excluded, out, skipped);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(root: &Path, found: &[Found]) -> Vec<String> {
        found
            .iter()
            .map(|f| match f {
                Found::Config(p) => p.strip_prefix(root).unwrap_or(p).display().to_string(),
                Found::Unreadable { path, .. } => {
                    format!("! {}", path.strip_prefix(root).unwrap_or(path).display())
                }
            })
            .collect()
    }

    #[test]
    fn finds_bundles_sorted_and_does_not_enter_them_or_follow_links() -> std::io::Result<()> {
        let tmp = tempfile::tempdir()?;
        let root = tmp.path();
        for dir in ["b/web", "a", "a/rootfs/etc", "c/deep/er/x", "d/.git/x", "e"] {
            std::fs::create_dir_all(root.join(dir))?;
        }
        for file in [
            "b/web/config.json",
            "a/config.json",
            "a/rootfs/etc/config.json",
            "c/deep/er/x/config.json",
            "d/.git/x/config.json",
        ] {
            std::fs::write(root.join(file), "{}")?;
        }
        std::os::unix::fs::symlink(root.join("b"), root.join("e/link"))?;
        std::os::unix::fs::symlink(root.join("a/config.json"), root.join("e/config.json"))?;
        let found = find(root, &|_| false);
        assert_eq!(
            names(root, &found),
            vec![
                "a/config.json",
                "b/web/config.json",
                "c/deep/er/x/config.json",
                "! e/config.json"
            ]
        );
        Ok(())
    }

    #[test]
    fn a_file_is_taken_as_is_and_an_empty_directory_is_reported() -> std::io::Result<()> {
        let tmp = tempfile::tempdir()?;
        let file = tmp.path().join("my.json");
        std::fs::write(&file, "{}")?;
        assert_eq!(find(&file, &|_| false), vec![Found::Config(file.clone())]);
        assert!(matches!(
            find(tmp.path().join("missing").as_path(), &|_| false).as_slice(),
            [Found::Unreadable { .. }]
        ));
        std::fs::create_dir(tmp.path().join("empty"))?;
        assert!(matches!(
            find(tmp.path().join("empty").as_path(), &|_| false).as_slice(),
            [Found::Unreadable { .. }]
        ));
        Ok(())
    }
}
