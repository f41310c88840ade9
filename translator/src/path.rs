//! Lexical path normalising, the one reading of `.`, `..` and `//` every crate shares.
//!
//! Lexical means by the text alone: no file system is consulted, so a `..` after a symbolic
//! link is resolved as if the link were a directory. The callers that act on a host check
//! what the kernel resolves on their own descriptors; this is for comparing, classifying and
//! writing paths.

/// A path's components after lexical normalising: empty and `.` components dropped, each `..`
/// taking back the component before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lexical<'a> {
    parts: Vec<&'a str>,
    parent: bool,
    escapes: bool,
}

/// `path` normalised by its text (see [`Lexical`]).
pub fn lexical(path: &str) -> Lexical<'_> {
    let mut l = Lexical {
        parts: Vec::new(),
        parent: false,
        escapes: false,
    };
    for comp in path.split('/') {
        match comp {
            "" | "." => {}
            ".." => {
                l.parent = true;
                // A `..` at the top stays there, as the kernel resolves `/..` to `/`.
                l.escapes |= l.parts.pop().is_none();
            }
            c => l.parts.push(c),
        }
    }
    l
}

/// `path` made lexically normal (`//`, `.` and `..` resolved), if it is absolute.
pub fn normalize(path: &str) -> Option<String> {
    path.starts_with('/').then(|| lexical(path).absolute())
}

impl Lexical<'_> {
    /// The components, `/`-joined after a leading `/`.
    pub fn absolute(&self) -> String {
        format!("/{}", self.parts.join("/"))
    }

    /// The components, `/`-joined (empty for the starting directory itself).
    pub fn relative(&self) -> String {
        self.parts.join("/")
    }

    /// Whether the text had a `..` at all.
    pub fn has_parent(&self) -> bool {
        self.parent
    }

    /// Whether a `..` climbed above the starting directory.
    pub fn escapes(&self) -> bool {
        self.escapes
    }
}

/// Where Proxmox VE keeps what this tool reads and writes on a node: the one list both crates
/// use (the plan's steps and `plan.sh`, the host classifiers, the executor's `PvePaths`).
pub mod pve {
    /// pmxcfs, the cluster file system: every guest's config, the cluster's keys and users.
    pub const ETC_PVE: &str = "/etc/pve";
    /// Every node's `lxc/` and `qemu-server/` (`PVE::Cluster`'s `nodes/<node>/...`).
    pub const NODES_DIR: &str = "/etc/pve/nodes";
    /// pmxcfs's link to the local node's `lxc/`: `PVE::LXC::Config::config_file`'s directory.
    pub const CONFIG_DIR: &str = "/etc/pve/lxc";
    /// Where pmxcfs keeps `/etc/pve` in `config.db` (pve-cluster, src/pmxcfs/database.c).
    pub const CLUSTER_DB_DIR: &str = "/var/lib/pve-cluster";
    /// Proxmox's runtime state (`/var/run/pve` is the same directory on a node).
    pub const RUN_DIR: &str = "/run/pve";
    /// Node-local config locks (`PVE::LXC::Config::config_file_lock`: `pve-config-<vmid>.lock`).
    pub const LOCK_DIR: &str = "/run/lock/lxc";
    /// The `local` directory storage: images, templates, backups.
    pub const VZ_DIR: &str = "/var/lib/vz";
    /// `local`'s `vztmpl` content, where `pvesm path local:vztmpl/<file>` points.
    pub const TEMPLATE_CACHE_DIR: &str = "/var/lib/vz/template/cache";
    /// LXC's per-container directories (`lxc.lxcpath` on Proxmox).
    pub const LXC_DIR: &str = "/var/lib/lxc";

    /// The file name of the config lock of `vmid` in [`LOCK_DIR`].
    pub fn config_lock_file(vmid: impl std::fmt::Display) -> String {
        format!("pve-config-{vmid}.lock")
    }
}

/// This tool's own directories on a node.
pub mod lxcri {
    /// The node's configuration: policy, target, routing.
    pub const ETC_DIR: &str = "/etc/proxmox-lxcri";
    /// The executor's lasting state.
    pub const STATE_DIR: &str = "/var/lib/proxmox-lxcri";
    /// The seccomp profiles the pct back end writes for `lxc.seccomp.profile`.
    pub const SECCOMP_DIR: &str = "/var/lib/proxmox-lxcri/seccomp";
    /// The container records of the runtime verbs.
    pub const RUN_DIR: &str = "/run/proxmox-lxcri";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_forms() {
        for (given, abs, rel) in [
            ("/", "/", ""),
            ("//a/./b//", "/a/b", "a/b"),
            ("/a/../b", "/b", "b"),
            ("/../a", "/a", "a"),
            ("rootfs", "/rootfs", "rootfs"),
            ("./rootfs/.", "/rootfs", "rootfs"),
            ("a/b/../..", "/", ""),
            ("", "/", ""),
        ] {
            let l = lexical(given);
            assert_eq!(
                (l.absolute().as_str(), l.relative().as_str()),
                (abs, rel),
                "{given}"
            );
        }
    }

    #[test]
    fn parents_and_escapes() {
        for (given, parent, escapes) in [
            ("a/b", false, false),
            ("a/../b", true, false),
            ("a/../..", true, true),
            ("../a", true, true),
            ("/..", true, true),
            ("a/..b", false, false),
        ] {
            let l = lexical(given);
            assert_eq!((l.has_parent(), l.escapes()), (parent, escapes), "{given}");
        }
    }

    #[test]
    fn nested_paths_agree() {
        for (dir, parent) in [
            (pve::NODES_DIR, pve::ETC_PVE),
            (pve::CONFIG_DIR, pve::ETC_PVE),
            (pve::TEMPLATE_CACHE_DIR, pve::VZ_DIR),
            (lxcri::SECCOMP_DIR, lxcri::STATE_DIR),
        ] {
            assert!(
                dir.starts_with(&format!("{parent}/")),
                "{dir} is not under {parent}"
            );
        }
        assert_eq!(pve::config_lock_file(105), "pve-config-105.lock");
    }

    #[test]
    fn only_absolute_paths_normalise() {
        assert_eq!(normalize("/a//b/../c/."), Some("/a/c".into()));
        assert_eq!(normalize("a/b"), None);
        assert_eq!(normalize(""), None);
    }
}
