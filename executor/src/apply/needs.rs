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

use translator::emit::plan::{Action, Arg, Plan};

use super::validate::{Invalid, Problem};

/// The bind mount points' sources, with the step (0-based) and the JSON pointer that bind each: derived from the
/// steps' own `--mpN` arguments and `mpN:` lines, never from what the plan says it needs (its
/// `needs: directory` entries document the same list for the reviewer). A volume under /dev/
/// is a device to Proxmox, not a bind, and the validator judges it as such.
pub fn directories(plan: &Plan) -> Vec<(usize, String, &str)> {
    use translator::host::bind_mount_point_source;
    let mut out = Vec::new();
    for (i, step) in plan.steps.iter().enumerate() {
        match &step.action {
            Action::PctCreate { argv } => {
                for (k, pair) in argv.windows(2).enumerate() {
                    if let [Arg::Lit(opt), Arg::Lit(value)] = pair {
                        let source = opt
                            .strip_prefix("--")
                            .and_then(|key| bind_mount_point_source(key, value));
                        out.extend(source.map(|s| (i, format!("/steps/{i}/argv/{}", k + 1), s)));
                    }
                }
            }
            Action::CreateConfig { text } => {
                for (n, line) in text.lines().enumerate() {
                    let source = line
                        .split_once(':')
                        .and_then(|(key, value)| bind_mount_point_source(key, value.trim()));
                    out.extend(source.map(|s| (i, format!("/steps/{i}/text line {}", n + 1), s)));
                }
            }
            _ => {}
        }
    }
    out
}

/// Of these bind sources, the ones that exist on the node and are not directories (files,
/// sockets, device nodes): Proxmox can bind them only as an `lxc.mount.entry` with
/// `create=file`. A missing source is left to `apply`'s check, which names it.
pub fn files_among<'a>(paths: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    paths
        .into_iter()
        .filter(|p| std::fs::metadata(p).is_ok_and(|m| !m.is_dir()))
        .map(str::to_string)
        .collect()
}

/// Checks, on this node, that every bind mount point's source is a directory: the plan is
/// refused before its first step otherwise, with every such source named.
pub fn check_directories(plan: &Plan) -> Result<(), Invalid> {
    let mut problems = Vec::new();
    for (i, pointer, path) in directories(plan) {
        let found = match std::fs::metadata(Path::new(path)) {
            Ok(m) if m.is_dir() => continue,
            Ok(_) => "it is not one",
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => "it does not exist",
            Err(_) => "it cannot be looked at",
        };
        let step = plan.steps.get(i).map(|s| super::step_label(i, &s.action));
        problems.push(Problem {
            step,
            pointer,
            message: format!(
                "the bind mount point needs {path} to be a directory on this node, and {found}: Proxmox would create the container and then refuse to start it (\"directory '{path}' does not exist\"); translate on this node (`create` looks), or name the file in the target's `bind-files`"
            ),
        });
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Invalid { problems })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_and_missing_paths_are_told_apart() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let file = dir.path().join("app.conf");
        std::fs::write(&file, "x").unwrap_or_else(|e| panic!("{e}"));
        let (d, f) = (
            dir.path().to_str().unwrap_or_default(),
            file.to_str().unwrap_or_default(),
        );
        let missing = dir.path().join("nothing");
        let m = missing.to_str().unwrap_or_default();
        assert_eq!(files_among([d, f, m]), vec![f.to_string()]);
    }

    #[test]
    fn directories_come_from_the_steps_not_from_their_needs() {
        use translator::emit::plan::Step;
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let file = dir.path().join("f");
        std::fs::write(&file, "x").unwrap_or_else(|e| panic!("{e}"));
        let (d, f) = (dir.path().display().to_string(), file.display().to_string());
        let argv = [
            "pct",
            "create",
            "--mp0",
            &format!("{d},mp=/a"),
            "--mp1",
            "/dev/sdb1,mp=/b",
            "--mp2",
            &format!("{f},mp=/c"),
        ]
        .map(|a| Arg::Lit(a.to_string()))
        .to_vec();
        let step = Step {
            action: Action::PctCreate { argv },
            sources: Vec::new(),
            needs: Vec::new(),
            undo: translator::emit::plan::Undo::DestroyCt,
        };
        let plan = Plan {
            format: 1,
            source: "t".into(),
            node: "pve".into(),
            pve_container: "6.1.10".into(),
            steps: vec![step],
        };
        let found: Vec<_> = directories(&plan)
            .into_iter()
            .map(|(i, p, s)| (i, p, s.to_string()))
            .collect();
        assert_eq!(
            found,
            vec![
                (0, "/steps/0/argv/3".to_string(), d.clone()),
                (0, "/steps/0/argv/7".to_string(), f.clone())
            ]
        );
        let err = check_directories(&plan)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains(&format!("/steps/0/argv/7 (step 1 (pct-create)): the bind mount point needs {f} to be a directory on this node, and it is not one")), "{err}");
    }
}
