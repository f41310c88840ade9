//! Editing `/etc/pve/lxc/<vmid>.conf` by hand, as only root can: raw `lxc.*` lines that no API
//! sets, and whole configs for a host-directory root file system.
//!
//! Every edit holds Proxmox's own config lock (`flock` on `/run/lock/lxc/pve-config-<vmid>.lock`,
//! the lock `pct` takes) and replaces the file through a temporary file and a rename: pmxcfs
//! has no atomic truncating write. Keys outside Proxmox's allow-list are refused, because
//! Proxmox would drop them at its next write of the file.

use std::io;
use std::path::PathBuf;

use translator::emit::allow_list;
use translator::emit::plan::ConfigLine;

use super::paths::PvePaths;
use crate::host::{Command, FileMode, Host, HostError, HostLock, Output};
use crate::id::Vmid;
use crate::lock::{Wait, PVE_LOCK_TIMEOUT};

/// Mode of files in `/etc/pve` (pmxcfs enforces root:www-data 0640 anyway).
const CONF_MODE: u32 = 0o640;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(transparent)]
    Host(#[from] HostError),
    #[error("raw key `{key}` is not on Proxmox's allow-list; Proxmox would drop it at its next write of the config")]
    KeyNotAllowed { key: String },
    #[error("the value of `{key}` contains a line break or NUL, which would end the config line")]
    BadValue { key: String },
    #[error("{path} does not exist: the container's config was not created")]
    Missing { path: PathBuf },
    #[error("{path} already exists")]
    Exists { path: PathBuf },
    #[error("node name {node:?} is not a Proxmox node name")]
    BadNode { node: String },
}

/// `mkdir -p`, through the host so that a dry run shows it.
pub(crate) fn ensure_dir(host: &dyn Host, dir: &std::path::Path) -> Result<(), HostError> {
    let cmd = Command::new("mkdir").arg("-p").arg("--").arg(dir);
    host.run(&cmd)?.check(&cmd).map(drop)
}

/// Takes Proxmox's config lock of `vmid`, creating its directory as Proxmox does.
pub fn lock_config(host: &dyn Host, paths: &PvePaths, vmid: Vmid) -> Result<HostLock, HostError> {
    ensure_dir(host, &paths.lock_dir())?;
    host.lock(&paths.config_lock(vmid), Wait::Timeout(PVE_LOCK_TIMEOUT))
}

fn check_node(node: &str) -> Result<(), ConfigError> {
    if super::paths::valid_node(node) {
        Ok(())
    } else {
        Err(ConfigError::BadNode {
            node: node.to_owned(),
        })
    }
}

/// Checks a line before it goes anywhere near the file.
pub fn check_line(line: &ConfigLine) -> Result<(), ConfigError> {
    if !allow_list::is_allowed(&line.key) {
        return Err(ConfigError::KeyNotAllowed {
            key: line.key.clone(),
        });
    }
    if line.value.contains(['\n', '\r', '\0']) {
        return Err(ConfigError::BadValue {
            key: line.key.clone(),
        });
    }
    Ok(())
}

/// Inserts `lines` at the end of the main section of `text` (before a `[pve:pending]` or
/// snapshot section, where they would change nothing that runs).
pub fn insert_lines(text: &str, lines: &[ConfigLine]) -> String {
    let cut = section_start(text);
    let (main, rest) = text.split_at(cut);
    let main = main.trim_end_matches('\n');
    let mut out = String::with_capacity(text.len() + lines.len() * 32);
    out.push_str(main);
    if !main.is_empty() {
        out.push('\n');
    }
    for l in lines {
        out.push_str(&l.text());
        out.push('\n');
    }
    if !rest.is_empty() {
        out.push('\n');
        out.push_str(rest);
    }
    out
}

/// Byte offset of the first `[section]` line, or the end.
fn section_start(text: &str) -> usize {
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        if line.starts_with('[') {
            return at;
        }
        at += line.len();
    }
    text.len()
}

/// Appends `lines` to the config of `vmid` on `node` under the config lock. With `missing_ok`
/// (a dry run, where `pct create` did not really run) a missing file counts as empty.
pub fn append_lines(
    host: &dyn Host,
    paths: &PvePaths,
    node: &str,
    vmid: Vmid,
    lines: &[ConfigLine],
    missing_ok: bool,
) -> Result<(), ConfigError> {
    check_node(node)?;
    for l in lines {
        check_line(l)?;
    }
    let path = paths.config(node, vmid);
    let _lock = lock_config(host, paths, vmid)?;
    let text = match read_text(host, &path)? {
        Some(t) => t,
        None if missing_ok => String::new(),
        None => return Err(ConfigError::Missing { path }),
    };
    let new = insert_lines(&text, lines);
    host.write_file(&path, new.as_bytes(), FileMode::PreserveOr(CONF_MODE))?;
    Ok(())
}

/// Reads a file; `None` if it does not exist.
pub(crate) fn read_text(
    host: &dyn Host,
    path: &std::path::Path,
) -> Result<Option<String>, HostError> {
    match host.read_file(path) {
        Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
        Err(HostError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Why a config could not be created: the id is taken (retry with another), or anything else.
#[derive(Debug)]
pub enum CreateConfigError {
    /// `pvesh get /cluster/nextid --vmid N` refused the id; its output says why.
    Taken(Output),
    Other(ConfigError),
}

impl From<ConfigError> for CreateConfigError {
    fn from(e: ConfigError) -> Self {
        CreateConfigError::Other(e)
    }
}

impl From<HostError> for CreateConfigError {
    fn from(e: HostError) -> Self {
        CreateConfigError::Other(e.into())
    }
}

/// Creates `/etc/pve/nodes/<node>/lxc/<vmid>.conf` with `text` under the config lock, after
/// Proxmox confirms the id is unused cluster-wide (`pvesh get /cluster/nextid --vmid N` fails
/// with `VM N already exists` otherwise). Never replaces an existing file.
pub fn create_config(
    host: &dyn Host,
    paths: &PvePaths,
    node: &str,
    vmid: Vmid,
    text: &str,
) -> Result<(), CreateConfigError> {
    check_node(node)?;
    let path = paths.config(node, vmid);
    let _lock = lock_config(host, paths, vmid)?;
    let check = Command::new("pvesh")
        .args(["get", "/cluster/nextid", "--vmid"])
        .arg(vmid.to_string())
        .args(["--output-format", "json"])
        .read_only();
    let out = host.run(&check)?;
    if !out.success() {
        return Err(CreateConfigError::Taken(out));
    }
    if read_text(host, &path)?.is_some() {
        return Err(ConfigError::Exists { path }.into());
    }
    host.write_file(&path, text.as_bytes(), FileMode::Exact(CONF_MODE))?;
    Ok(())
}

/// Removes the config of `vmid` under the config lock (the undo of [`create_config`]).
pub fn remove_config(
    host: &dyn Host,
    paths: &PvePaths,
    node: &str,
    vmid: Vmid,
) -> Result<(), ConfigError> {
    check_node(node)?;
    let _lock = lock_config(host, paths, vmid)?;
    host.remove_file(&paths.config(node, vmid))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::{HostCall, RecordingHost};
    use std::path::Path;

    fn line(k: &str, v: &str) -> ConfigLine {
        ConfigLine {
            key: k.into(),
            value: v.into(),
        }
    }

    fn vmid(n: u64) -> Vmid {
        Vmid::new(n).unwrap()
    }

    #[test]
    fn lines_go_to_the_end_of_the_main_section() {
        let lines = [
            line("lxc.init.cwd", "/srv"),
            line("lxc.environment.runtime", "A=b c"),
        ];
        assert_eq!(
            insert_lines("arch: amd64\nmemory: 512\n", &lines),
            "arch: amd64\nmemory: 512\nlxc.init.cwd: /srv\nlxc.environment.runtime: A=b c\n"
        );
        assert_eq!(
            insert_lines("memory: 512\n\n[pve:pending]\nmemory: 256\n", &lines[..1]),
            "memory: 512\nlxc.init.cwd: /srv\n\n[pve:pending]\nmemory: 256\n"
        );
        assert_eq!(
            insert_lines("memory: 512", &lines[..1]),
            "memory: 512\nlxc.init.cwd: /srv\n"
        );
        assert_eq!(insert_lines("", &lines[..1]), "lxc.init.cwd: /srv\n");
    }

    #[test]
    fn refuses_keys_proxmox_drops_and_broken_values() {
        assert!(check_line(&line("lxc.init.cmd", "/bin/sh")).is_ok());
        assert!(check_line(&line("lxc.cgroup2.memory.max", "1G")).is_ok());
        assert!(matches!(
            check_line(&line("lxc.rootfs.path", "/x")),
            Err(ConfigError::KeyNotAllowed { .. })
        ));
        assert!(matches!(
            check_line(&line("memory", "5")),
            Err(ConfigError::KeyNotAllowed { .. })
        ));
        assert!(matches!(
            check_line(&line("lxc.sysctl.net.ipv4.ip_forward", "1")),
            Err(ConfigError::KeyNotAllowed { .. })
        ));
        assert!(matches!(
            check_line(&line("lxc.init.cmd", "a\nmemory: 1")),
            Err(ConfigError::BadValue { .. })
        ));
    }

    #[test]
    fn append_holds_the_lock_and_replaces_the_file() {
        let host = RecordingHost::new();
        let paths = PvePaths::under("/sim");
        let conf = Path::new("/sim/etc/pve/nodes/pve/lxc/100.conf");
        host.with_file(conf, "memory: 512\n");
        append_lines(
            &host,
            &paths,
            "pve",
            vmid(100),
            &[line("lxc.init.cwd", "/srv")],
            false,
        )
        .unwrap();
        assert_eq!(
            host.file(conf).unwrap(),
            b"memory: 512\nlxc.init.cwd: /srv\n"
        );
        let calls = host.calls();
        assert!(matches!(&calls[0], HostCall::Run(c) if c.program == "mkdir"));
        assert_eq!(
            calls[1],
            HostCall::Lock {
                path: "/sim/run/lock/lxc/pve-config-100.lock".into(),
                wait: Wait::Timeout(PVE_LOCK_TIMEOUT)
            }
        );
        assert_eq!(
            calls[2],
            HostCall::ReadFile {
                path: conf.to_owned()
            }
        );
        assert!(
            matches!(&calls[3], HostCall::WriteFile { path, mode: FileMode::PreserveOr(0o640), .. } if path == conf)
        );
    }

    #[test]
    fn append_to_a_missing_config_fails_unless_dry_run() {
        let host = RecordingHost::new();
        let paths = PvePaths::under("/sim");
        let err = append_lines(
            &host,
            &paths,
            "pve",
            vmid(100),
            &[line("lxc.init.cwd", "/")],
            false,
        )
        .unwrap_err();
        assert!(matches!(err, ConfigError::Missing { .. }), "{err}");
        append_lines(
            &host,
            &paths,
            "pve",
            vmid(100),
            &[line("lxc.init.cwd", "/")],
            true,
        )
        .unwrap();
        let err = append_lines(&host, &paths, "../x", vmid(100), &[], false).unwrap_err();
        assert!(matches!(err, ConfigError::BadNode { .. }), "{err}");
    }

    #[test]
    fn create_config_checks_the_id_and_never_replaces() {
        let host = RecordingHost::new();
        let paths = PvePaths::under("/sim");
        host.respond_to(
            "pvesh",
            &["get", "/cluster/nextid", "--vmid", "101"],
            Output::failed(255, "vmid: VM 101 already exists\n"),
        );
        assert!(matches!(
            create_config(&host, &paths, "pve", vmid(101), "x"),
            Err(CreateConfigError::Taken(_))
        ));
        create_config(&host, &paths, "pve", vmid(102), "rootfs: /b\n").unwrap();
        assert_eq!(
            host.file(Path::new("/sim/etc/pve/nodes/pve/lxc/102.conf"))
                .unwrap(),
            b"rootfs: /b\n"
        );
        let again = create_config(&host, &paths, "pve", vmid(102), "y");
        assert!(matches!(
            again,
            Err(CreateConfigError::Other(ConfigError::Exists { .. }))
        ));
        remove_config(&host, &paths, "pve", vmid(102)).unwrap();
        assert_eq!(
            host.file(Path::new("/sim/etc/pve/nodes/pve/lxc/102.conf")),
            None
        );
    }
}
