//! Where Proxmox keeps container configs and their locks on a node.
//!
//! On a real node the paths are the fixed `/etc/pve/...` and `/run/lock/lxc/...`. The test
//! simulator keeps the same tree under a state root, so tests relocate the prefix with
//! [`HOST_ROOT_ENV`]. That variable moves only these Proxmox paths; it is for tests and is
//! never needed on a Proxmox node.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use translator::path::pve;

use crate::id::Vmid;

/// Test-only: a directory that stands in for `/` for `/etc/pve` and `/run/lock/lxc`.
pub const HOST_ROOT_ENV: &str = "PROXMOX_LXCRI_HOST_ROOT";

/// Proxmox's config and lock paths, possibly under a relocated root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PvePaths {
    root: PathBuf,
    /// The local node's name when it cannot come from pmxcfs's `/etc/pve/local` link: on the
    /// simulator several nodes share one `/etc/pve` tree, and a link can point to only one of
    /// them ([`LOCAL_NODE_ENV`]).
    local_node: Option<String>,
}

/// Test-only, honoured only with [`HOST_ROOT_ENV`]: the node this process runs "on" in a
/// simulated cluster, standing in for the per-node `/etc/pve/local` link of pmxcfs.
pub const LOCAL_NODE_ENV: &str = "PROXMOX_LXCRI_LOCAL_NODE";

impl Default for PvePaths {
    fn default() -> Self {
        Self {
            root: PathBuf::from("/"),
            local_node: None,
        }
    }
}

impl PvePaths {
    /// The paths of a Proxmox node.
    pub fn node() -> Self {
        Self::default()
    }

    /// Everything under `root` instead of `/` (the simulator's state root).
    pub fn under(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            local_node: None,
        }
    }

    /// The same paths on a simulated node `node` ([`LOCAL_NODE_ENV`]).
    pub fn on_node(mut self, node: Option<String>) -> Self {
        self.local_node = node.filter(|n| !n.is_empty());
        self
    }

    /// The local node's name: pmxcfs's `/etc/pve/local` link to `nodes/<nodename>`
    /// ([`crate::node::node_name`]), unless a simulated node was named.
    pub fn local_node(&self) -> Result<String, String> {
        if let Some(n) = &self.local_node {
            return Ok(n.clone());
        }
        crate::node::node_name(&self.etc_pve().join("local")).map_err(|e| e.to_string())
    }

    /// `/etc/pve`.
    pub fn etc_pve(&self) -> PathBuf {
        self.join(pve::ETC_PVE)
    }

    /// [`HOST_ROOT_ENV`] if set and non-empty, otherwise the node's own paths.
    pub fn from_env_value(value: Option<OsString>) -> Self {
        match value.filter(|v| !v.is_empty()) {
            Some(root) => Self::under(root)
                .on_node(std::env::var_os(LOCAL_NODE_ENV).and_then(|n| n.into_string().ok())),
            None => Self::node(),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn join(&self, host_path: &str) -> PathBuf {
        self.root.join(host_path.trim_start_matches('/'))
    }

    /// `/etc/pve/nodes`: every node's `lxc/` and `qemu-server/` live below it.
    pub fn nodes_dir(&self) -> PathBuf {
        self.join(pve::NODES_DIR)
    }

    /// `/etc/pve/nodes/<node>/lxc/<vmid>.conf`: the file `/etc/pve/lxc/<vmid>.conf` links to on
    /// that node. Named through the node so that a wrong node fails instead of writing elsewhere.
    pub fn config(&self, node: &str, vmid: Vmid) -> PathBuf {
        self.nodes_dir()
            .join(node)
            .join("lxc")
            .join(format!("{vmid}.conf"))
    }

    /// `/etc/pve/lxc/<vmid>.conf`: pmxcfs's link to the *local* node's `lxc/` directory, the
    /// config `pct` acts on when run on this node.
    pub fn local_config(&self, vmid: Vmid) -> PathBuf {
        if let Some(node) = &self.local_node {
            return self.config(node, vmid);
        }
        self.join(pve::CONFIG_DIR).join(format!("{vmid}.conf"))
    }

    /// `/var/lib/lxc`: LXC's default lxcpath, where Proxmox keeps each running container's
    /// generated LXC config (pve-container `src/PVE/LXC.pm` `update_lxc_config` writes
    /// `/var/lib/lxc/$vmid/config` @ 94f55852). The `lxc-*` tools are given it with `-P`.
    pub fn lxc_path(&self) -> PathBuf {
        self.join(pve::LXC_DIR)
    }

    /// `/run/lock/lxc`.
    pub fn lock_dir(&self) -> PathBuf {
        self.join(pve::LOCK_DIR)
    }

    /// `/run/lock/lxc/pve-config-<vmid>.lock`: Proxmox's own config lock.
    pub fn config_lock(&self, vmid: Vmid) -> PathBuf {
        crate::lock::pve_config_lock_path_in(&self.lock_dir(), vmid)
    }
}

/// A node name as Proxmox allows it (`pve-node`: a DNS label), so it can be a path component.
pub fn valid_node(node: &str) -> bool {
    let b = node.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
        && b.first().is_some_and(u8::is_ascii_alphanumeric)
        && b.last().is_some_and(u8::is_ascii_alphanumeric)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vmid(n: u64) -> Vmid {
        Vmid::new(n).unwrap()
    }

    #[test]
    fn node_paths_are_proxmox_paths() {
        let p = PvePaths::node();
        assert_eq!(
            p.config("pve", vmid(105)),
            Path::new("/etc/pve/nodes/pve/lxc/105.conf")
        );
        assert_eq!(
            p.config_lock(vmid(105)),
            Path::new("/run/lock/lxc/pve-config-105.lock")
        );
        assert_eq!(p.nodes_dir(), Path::new("/etc/pve/nodes"));
    }

    #[test]
    fn relocated_paths_stay_under_the_root() {
        let p = PvePaths::from_env_value(Some("/tmp/sim".into()));
        assert_eq!(
            p.config("n1", vmid(100)),
            Path::new("/tmp/sim/etc/pve/nodes/n1/lxc/100.conf")
        );
        assert_eq!(
            p.config_lock(vmid(100)),
            Path::new("/tmp/sim/run/lock/lxc/pve-config-100.lock")
        );
        assert_eq!(PvePaths::from_env_value(Some("".into())), PvePaths::node());
        assert_eq!(PvePaths::from_env_value(None), PvePaths::node());
    }

    #[test]
    fn node_names() {
        for ok in ["pve", "node-1", "a", "PVE2"] {
            assert!(valid_node(ok), "{ok}");
        }
        for bad in ["", "-a", "a-", "a/b", "..", "a.b", "a b", &"x".repeat(64)] {
            assert!(!valid_node(bad), "{bad}");
        }
    }
}
