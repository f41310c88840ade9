//! Unpacking a container template (Create.pm `restore_tar_archive`).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::error::{SimError, SimResult};
use crate::formats::parse_volume_id;
use crate::state::Sim;
use crate::storage::Storages;
use crate::task;

/// `tar_compression_option`: chosen by file suffix only (GNU tar does not detect it on a pipe).
pub fn compression_option(archive: &str) -> SimResult<Option<&'static str>> {
    let Some(pos) = archive.rfind(".tar") else {
        return Err(SimError::die(format!(
            "file does not look like a template archive: {archive}\n"
        )));
    };
    let rest = archive.get(pos + 4..).unwrap_or("");
    if rest.is_empty() {
        return Ok(None);
    }
    let Some(ext) = rest.strip_prefix('.').filter(|e| !e.contains('.')) else {
        return Err(SimError::die(format!(
            "file does not look like a template archive: {archive}\n"
        )));
    };
    match ext {
        "gz" => Ok(Some("-z")),
        "bz2" => Ok(Some("-j")),
        "xz" => Ok(Some("-J")),
        "lzo" => Ok(Some("--lzop")),
        "zst" => Ok(Some("--zstd")),
        other => Err(SimError::die(format!(
            "unrecognized compression format: .{other}\n"
        ))),
    }
}

/// `PVE::Storage::abs_filesystem_path`: the archive file (volid or absolute path) must exist.
pub fn archive_path(sim: &Sim, storages: &Storages, archive: &str) -> SimResult<PathBuf> {
    let path = if parse_volume_id(archive).is_some() {
        Some(storages.path(sim, archive)?)
    } else {
        let p = Path::new(archive);
        p.is_file().then(|| std::fs::canonicalize(p).ok()).flatten()
    };
    match path {
        Some(p) if p.is_file() => Ok(p),
        _ => Err(SimError::die(format!("can't find file '{archive}'\n"))),
    }
}

/// `archive_is_oci_format`: an uncompressed `.tar` listing `oci-layout`, `index.json`, `blobs/`.
pub fn is_oci_archive(path: &Path) -> bool {
    if !path.to_string_lossy().ends_with(".tar") {
        return false;
    }
    let Ok(out) = Command::new("tar")
        .arg("-tf")
        .arg(path)
        .stdin(Stdio::null())
        .output()
    else {
        return false;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let has = |f: &dyn Fn(&str) -> bool| text.lines().any(f);
    has(&|l| l == "oci-layout") && has(&|l| l == "index.json") && has(&|l| l.starts_with("blobs/"))
}

/// Shell-quotes a command line for messages (`PVE::Tools::cmd2string`).
pub fn cmd_string(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            if !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
            {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The extraction command (`restore_tar_archive_command`), run inside `lxc-usernsexec` with the
/// CT's id map for unprivileged CTs. The archive is read from stdin.
pub fn extract_command(
    id_map: &[[String; 4]],
    compression: Option<&str>,
    rootdir: &Path,
) -> Vec<String> {
    let mut cmd: Vec<String> = Vec::new();
    if !id_map.is_empty() {
        cmd.push("lxc-usernsexec".into());
        for m in id_map {
            cmd.push("-m".into());
            cmd.push(m.join(":"));
        }
        cmd.push("--".into());
    }
    cmd.extend(["tar", "xpf", "-"].map(String::from));
    if let Some(c) = compression {
        cmd.push(c.into());
    }
    cmd.push("--totals".into());
    for f in [
        "--one-file-system",
        "-p",
        "--sparse",
        "--numeric-owner",
        "--acls",
        "--xattrs",
        "--xattrs-include=user.*",
        "--xattrs-include=security.capability",
        "--warning=no-file-ignored",
        "--warning=no-xattr-write",
    ] {
        cmd.push(f.into());
    }
    cmd.push("-C".into());
    cmd.push(rootdir.display().to_string());
    cmd.extend(["--skip-old-files", "--anchored", "--exclude", "./dev/*"].map(String::from));
    cmd
}

/// Runs the extraction; its output (tar's `--totals` line, errors) goes to the task output.
pub fn extract(archive: &Path, cmd: &[String], ignore_errors: bool) -> SimResult<()> {
    task::print(&format!("extracting archive '{}'\n", archive.display()));
    let input = File::open(archive)
        .map_err(|e| SimError::die(format!("failed to open '{}': {e}\n", archive.display())))?;
    let (program, args) = cmd
        .split_first()
        .ok_or_else(|| SimError::die("empty command\n"))?;
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::from(input))
        .output()
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                SimError::Setup(format!(
                    "{program} not found (install tar, zstd, uidmap/lxc)"
                ))
            } else {
                SimError::io(format!("run {program}"), e)
            }
        })?;
    for chunk in [&out.stdout, &out.stderr] {
        let text = String::from_utf8_lossy(chunk);
        if !text.is_empty() {
            task::print(&text);
        }
    }
    if !out.status.success() && !ignore_errors {
        let code = out
            .status
            .code()
            .map_or_else(|| "killed".to_string(), |c| c.to_string());
        return Err(SimError::die(format!(
            "command '{}' failed: exit code {code}\n",
            cmd_string(cmd)
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compression_by_suffix() {
        assert_eq!(compression_option("a.tar.zst").unwrap(), Some("--zstd"));
        assert_eq!(compression_option("a.tar.gz").unwrap(), Some("-z"));
        assert_eq!(compression_option("a.tar").unwrap(), None);
        assert_eq!(
            compression_option("a.tar.lz4").unwrap_err().render(),
            "unrecognized compression format: .lz4\n"
        );
        assert_eq!(
            compression_option("a.zip").unwrap_err().render(),
            "file does not look like a template archive: a.zip\n"
        );
    }

    #[test]
    fn unprivileged_extraction_runs_in_the_user_namespace() {
        let map = vec![
            ["u".to_string(), "0".into(), "100000".into(), "65536".into()],
            ["g".to_string(), "0".into(), "100000".into(), "65536".into()],
        ];
        let cmd = extract_command(&map, Some("--zstd"), Path::new("/r"));
        assert_eq!(
            cmd_string(&cmd),
            "lxc-usernsexec -m u:0:100000:65536 -m g:0:100000:65536 -- tar xpf - --zstd --totals \
             --one-file-system -p --sparse --numeric-owner --acls --xattrs '--xattrs-include=user.*' \
             --xattrs-include=security.capability --warning=no-file-ignored --warning=no-xattr-write \
             -C /r --skip-old-files --anchored --exclude './dev/*'"
        );
    }
}
