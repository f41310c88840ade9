//! The node's facts, asked of the node itself: what `proxmox-lxcri target detect` writes.
//!
//! The translator never looks at a host (its facts come in as a [`Target`]); this is where a
//! Target is made from one. Each fact has one source, read-only, through [`Host`]:
//!
//! | fact | source |
//! | --- | --- |
//! | `pve-container` | `pveversion --verbose`, the `pve-container: <version>` line |
//! | `node` | pmxcfs's `/etc/pve/local` link, `nodes/<nodename>` |
//! | `rootfs.storage` | `pvesm status --content rootdir --enabled 1`, the active ones |
//! | `template-storage` | `pvesm status --content vztmpl --enabled 1`, the active ones |
//! | `bridge` | `/sys/class/net/<name>/bridge/`, which the kernel gives only bridges |
//! | `arch` | the architecture this program was built for (it runs on the node) |
//! | `crun-version` | `crun --version`, its first line |
//!
//! The rest (`ostype`, `network`, sizes, `unprivileged-default`) are choices, not facts: they
//! keep the built-in defaults, and the operator edits the file for others.

use std::path::Path;

use translator::target::{PveContainerVersion, RootfsTarget, Target};

use crate::host::{Command, Exit, Host, HostError};
use crate::pve::PvePaths;

/// What detection found, and what it chose among several candidates or left at the built-in
/// default (one sentence each, for the operator).
#[derive(Debug)]
pub struct Detected {
    pub target: Target,
    pub notes: Vec<String>,
}

/// Why the node's facts could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    /// A program the node must have could not be run, or failed.
    #[error("{0}")]
    Host(#[from] HostError),
    /// A fact is missing or not in the form the node's programs print.
    #[error("{0}")]
    Fact(String),
}

fn fact(message: impl Into<String>) -> DetectError {
    DetectError::Fact(message.into())
}

/// Runs a read-only query and returns its stdout; a non-zero exit is an error with its stderr.
fn query(host: &dyn Host, program: &str, args: &[&str]) -> Result<String, HostError> {
    let cmd = Command::new(program).args(args).read_only();
    let out = host.run(&cmd)?;
    if out.exit != Exit::Code(0) {
        return Err(HostError::Failed {
            command: cmd.to_string(),
            exit: out.exit,
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Reads the node's facts. `crun` missing is not an error (a Proxmox node does not ship it):
/// the crun version then stays the built-in one and a note says so.
pub fn detect(host: &dyn Host, paths: &PvePaths) -> Result<Detected, DetectError> {
    let mut notes = Vec::new();
    let mut target = Target::default();

    let versions = query(host, "pveversion", &["--verbose"]).map_err(|e| match e {
        HostError::Spawn { .. } => fact(format!("{e}: this is not a Proxmox VE node")),
        e => DetectError::Host(e),
    })?;
    target.pve_container = pve_container_version(&versions)?;

    target.node = node_name(&paths.root().join("etc/pve/local"))?;

    let storages = |content: &str| -> Result<Vec<String>, DetectError> {
        let text = query(
            host,
            "pvesm",
            &["status", "--content", content, "--enabled", "1"],
        )?;
        Ok(active_storages(&text))
    };
    let rootdir = storages("rootdir")?;
    let storage = choose(
        "storage for container volumes (rootdir)",
        &rootdir,
        &mut notes,
    )?;
    let size_gib = match target.rootfs {
        RootfsTarget::Volume { size_gib, .. } => size_gib,
        RootfsTarget::HostPath => 8,
    };
    target.rootfs = RootfsTarget::Volume { storage, size_gib };
    let vztmpl = storages("vztmpl")?;
    target.template_storage = choose("storage for templates (vztmpl)", &vztmpl, &mut notes)?;

    let bridges = bridges(&paths.root().join("sys/class/net"))?;
    // vmbr0 is the bridge a Proxmox VE install creates; it is taken when present.
    target.bridge = if bridges.iter().any(|b| b == "vmbr0") {
        if bridges.len() > 1 {
            notes.push(format!(
                "bridge vmbr0 chosen among {}; edit \"bridge\" for another",
                bridges.join(", ")
            ));
        }
        "vmbr0".into()
    } else {
        choose("Linux bridge", &bridges, &mut notes)?
    };

    target.arch = debian_arch(std::env::consts::ARCH)
        .ok_or_else(|| {
            fact(format!(
                "this program's architecture {} has no Proxmox name",
                std::env::consts::ARCH
            ))
        })?
        .into();

    match query(host, "crun", &["--version"]) {
        Ok(text) => target.crun_version = crun_version(&text)?,
        Err(HostError::Spawn { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            notes.push(format!(
                "crun is not installed: crun-version stays {} (Debian 12's); only --runtime crun uses it",
                target.crun_version
            ));
        }
        Err(e) => return Err(e.into()),
    }

    target
        .check()
        .map_err(|e| fact(format!("the node's facts do not make a valid target: {e}")))?;
    Ok(Detected { target, notes })
}

/// The only candidate, or the first (in the order the node listed them) with a note naming the
/// others; none is an error naming what was looked for.
fn choose(
    what: &str,
    candidates: &[String],
    notes: &mut Vec<String>,
) -> Result<String, DetectError> {
    match candidates {
        [] => Err(fact(format!("the node has no active {what}"))),
        [one] => Ok(one.clone()),
        [first, ..] => {
            notes.push(format!(
                "{what}: {first} chosen among {}",
                candidates.join(", ")
            ));
            Ok(first.clone())
        }
    }
}

/// `pve-container: <version>` from `pveversion --verbose`. pve-manager's `bin/pveversion`
/// (`print_status`) prints `<package>: <version>` for an installed package, and `not correctly
/// installed` or `residual config` in place of the version otherwise; pve-container's versions
/// are native Debian versions (`6.1.10`), so anything after the numeric part (a backport
/// suffix) is ignored.
pub fn pve_container_version(pveversion: &str) -> Result<PveContainerVersion, DetectError> {
    let value = pveversion
        .lines()
        .find_map(|l| l.strip_prefix("pve-container: "))
        .ok_or_else(|| fact("pveversion --verbose lists no pve-container package"))?;
    let numeric: String = value
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    PveContainerVersion::parse(&numeric).ok_or_else(|| {
        fact(format!(
            "pve-container is `{}`, not an installed version",
            value.trim()
        ))
    })
}

/// The node name from pmxcfs's `/etc/pve/local` link to `nodes/<nodename>` (pve-cluster's
/// src/pmxcfs/pmxcfs.c, `main`: `cfs_plug_link_new("local", lnktarget)`), the name
/// `/etc/pve/nodes/<node>` and the API use.
pub fn node_name(local: &Path) -> Result<String, DetectError> {
    let target = std::fs::read_link(local).map_err(|e| {
        fact(format!(
            "{}: {e}: pmxcfs is not mounted, or this is not a Proxmox VE node",
            local.display()
        ))
    })?;
    let text = target.to_string_lossy();
    text.strip_prefix("nodes/")
        .filter(|n| !n.is_empty() && !n.contains('/'))
        .map(str::to_owned)
        .ok_or_else(|| {
            fact(format!(
                "{} points to {text}, not nodes/<nodename>",
                local.display()
            ))
        })
}

/// The storage ids of `pvesm status` whose status is `active`, in its order. Its table
/// (pve-storage 0c56bad8, src/PVE/CLI/pvesm.pm, `$print_status`) is a header line `Name Type
/// Status Total (KiB) …`,
/// then one row per storage sorted by id: id, type, then `active`, `inactive` or `disabled`.
/// `--content` keeps the storages whose config allows that content (src/PVE/API2/Storage/
/// Status.pm, `index`: "Only list stores which support this content type").
pub fn active_storages(status: &str) -> Vec<String> {
    status
        .lines()
        .skip(1)
        .filter_map(|l| {
            let mut cols = l.split_whitespace();
            let (id, _type, state) = (cols.next()?, cols.next()?, cols.next()?);
            (state == "active").then(|| id.to_owned())
        })
        .collect()
}

/// The Linux bridges under `/sys/class/net`, sorted: the interfaces with a `bridge/`
/// directory, which the kernel adds to bridge devices only (net/bridge/br_sysfs_br.c,
/// `bridge_group`, named `SYSFS_BRIDGE_ATTR` = "bridge"). Open vSwitch bridges have none and
/// are not found; name one in the file by hand.
pub fn bridges(class_net: &Path) -> Result<Vec<String>, DetectError> {
    let entries =
        std::fs::read_dir(class_net).map_err(|e| fact(format!("{}: {e}", class_net.display())))?;
    let mut out: Vec<String> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().join("bridge").is_dir())
        .filter_map(|e| e.file_name().to_str().map(str::to_owned))
        .collect();
    out.sort();
    Ok(out)
}

/// Debian's (and Proxmox's `arch`) name for a Rust target architecture.
pub fn debian_arch(rust_arch: &str) -> Option<&'static str> {
    Some(match rust_arch {
        "x86_64" => "amd64",
        "x86" => "i386",
        "aarch64" => "arm64",
        "arm" => "armhf",
        "riscv64" => "riscv64",
        "riscv32" => "riscv32",
        _ => return None,
    })
}

/// The version from `crun --version`, whose first line is `crun version 1.8.1` (crun's
/// src/crun.c, `print_version`: `"%s version %s\n", PACKAGE_NAME, PACKAGE_VERSION`).
pub fn crun_version(text: &str) -> Result<PveContainerVersion, DetectError> {
    let first = text.lines().next().unwrap_or_default();
    first
        .strip_prefix("crun version ")
        .and_then(PveContainerVersion::parse)
        .ok_or_else(|| {
            fact(format!(
                "crun --version printed `{first}`, not `crun version X.Y.Z`"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_the_node_prints() {
        // pveversion -v on a PVE 9 node (abridged; every line has the same form).
        let v = "proxmox-ve: 9.0.0 (running kernel: 6.14.8-2-pve)\n\
                 pve-manager: 9.0.3 (running version: 9.0.3/025864202ebb6109)\n\
                 libpve-common-perl: 9.0.9\npve-container: 6.0.9\npve-docs: 9.0.8\n";
        assert_eq!(
            pve_container_version(v).unwrap(),
            PveContainerVersion(6, 0, 9)
        );
        assert!(pve_container_version("pve-container: not correctly installed\n").is_err());
        assert!(pve_container_version("pve-manager: 9.0.3\n").is_err());

        let status = "Name             Type     Status     Total (KiB)      Used (KiB) Available (KiB)        %\n\
                      local-lvm     lvmthin     active       147275776        4518809       142756966    3.07%\n\
                      nfs               nfs   inactive               0              0               0    0.00%\n\
                      tank          zfspool     active       900000000         100000       899900000    0.01%\n";
        assert_eq!(active_storages(status), ["local-lvm", "tank"]);
        assert!(active_storages("Name Type Status Total Used Available %\n").is_empty());

        assert_eq!(
            crun_version("crun version 1.8.1\ncommit: f8a096be\n").unwrap(),
            PveContainerVersion(1, 8, 1)
        );
        assert!(crun_version("runc version 1.1.12\n").is_err());
        assert_eq!(debian_arch("x86_64"), Some("amd64"));
        assert_eq!(debian_arch("powerpc64"), None);
    }

    #[test]
    fn choosing_says_what_it_chose() {
        let mut notes = Vec::new();
        assert_eq!(choose("x", &["a".into()], &mut notes).unwrap(), "a");
        assert!(notes.is_empty());
        assert_eq!(
            choose("x", &["a".into(), "b".into()], &mut notes).unwrap(),
            "a"
        );
        assert_eq!(notes, ["x: a chosen among a, b"]);
        assert!(choose("x", &[], &mut notes).is_err());
    }

    #[test]
    fn the_node_name_comes_from_pmxcfs_local_link() {
        let dir = tempfile::tempdir().unwrap();
        let local = dir.path().join("local");
        std::os::unix::fs::symlink("nodes/pve7", &local).unwrap();
        assert_eq!(node_name(&local).unwrap(), "pve7");
        assert!(node_name(&dir.path().join("missing")).is_err());
        let odd = dir.path().join("odd");
        std::os::unix::fs::symlink("/elsewhere", &odd).unwrap();
        assert!(node_name(&odd).is_err());
    }
}
