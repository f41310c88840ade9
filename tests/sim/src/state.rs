//! The simulator's state root (`PVE_SIM_ROOT`): a fake `/etc/pve`, storage tree, lock and run
//! directories, and `/var/lib/lxc`. Host paths that Proxmox uses are re-rooted under it.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::conf::{parse_pct_config, write_pct_config, PctConf};
use crate::error::{SimError, SimResult};
use crate::formats;
use crate::schema::{schemas, Schemas};
use crate::task;

/// Environment variable naming the state root. The simulator refuses to run without it.
pub const ROOT_ENV: &str = "PVE_SIM_ROOT";
/// Environment variable naming this node (default `pve`).
pub const NODE_ENV: &str = "PVE_SIM_NODE";

/// The storage configuration of a fresh Proxmox VE install on LVM.
pub const DEFAULT_STORAGE_CFG: &str =
    "dir: local\n\tpath /var/lib/vz\n\tcontent iso,vztmpl,backup\n\n\
lvmthin: local-lvm\n\tthinpool data\n\tvgname pve\n\tcontent rootdir,images\n";

/// What kind of guest a VMID belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuestKind {
    Ct,
    Vm,
}

/// An entry of the cluster-wide VM list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VmEntry {
    pub node: String,
    pub kind: GuestKind,
}

/// A handle on the state root.
#[derive(Debug, Clone)]
pub struct Sim {
    pub root: PathBuf,
    pub node: String,
    pub schemas: &'static Schemas,
}

impl Sim {
    /// Reads `PVE_SIM_ROOT` (and `PVE_SIM_NODE`) and makes sure the layout exists.
    pub fn from_env() -> SimResult<Self> {
        let root = std::env::var_os(ROOT_ENV).ok_or_else(|| {
            SimError::Setup(format!(
                "{ROOT_ENV} is not set; the simulator refuses to run without a state root"
            ))
        })?;
        let root = PathBuf::from(root);
        if !root.is_absolute() {
            return Err(SimError::Setup(format!(
                "{ROOT_ENV} must be an absolute path"
            )));
        }
        if !root.is_dir() {
            return Err(SimError::Setup(format!(
                "{ROOT_ENV} '{}' is not an existing directory",
                root.display()
            )));
        }
        let node = std::env::var(NODE_ENV).unwrap_or_else(|_| "pve".to_string());
        if formats::check_named("pve-node", &node).is_err() {
            return Err(SimError::Setup(format!(
                "{NODE_ENV} '{node}' is not a valid node name"
            )));
        }
        let sim = Sim {
            root,
            node,
            schemas: schemas()?,
        };
        sim.ensure_layout()?;
        Ok(sim)
    }

    /// A host path as seen by Proxmox (`/etc/pve/...`), re-rooted under the state root.
    pub fn path(&self, host_path: &str) -> PathBuf {
        self.root.join(host_path.trim_start_matches('/'))
    }

    fn ensure_layout(&self) -> SimResult<()> {
        // Unprivileged CTs (root mapped to uid 100000) must be able to traverse the state root to
        // reach their rootfs, as they can traverse /var/lib/vz on a real host.
        let meta = fs::metadata(&self.root)
            .map_err(|e| SimError::io(format!("stat {}", self.root.display()), e))?;
        let mode = meta.permissions().mode();
        if mode & 0o001 == 0 {
            fs::set_permissions(&self.root, fs::Permissions::from_mode(mode | 0o711))
                .map_err(|e| SimError::io(format!("chmod {}", self.root.display()), e))?;
        }
        let node_dir = format!("/etc/pve/nodes/{}", self.node);
        for dir in [
            format!("{node_dir}/lxc"),
            format!("{node_dir}/qemu-server"),
            "/etc/pve/priv".to_string(),
            "/run/lock/lxc".to_string(),
            "/run/pve".to_string(),
            "/var/lib/lxc".to_string(),
        ] {
            mkdir_p(&self.path(&dir))?;
        }
        // pmxcfs's links to this node's directories: `local` (src/pmxcfs/pmxcfs.c, main:
        // `cfs_plug_link_new("local", lnktarget)` with `nodes/<nodename>`, pve-cluster 7091d92e)
        // and `lxc` (`nodes/<nodename>/lxc`, the same function).
        for (name, target) in [
            ("/etc/pve/lxc", format!("nodes/{}/lxc", self.node)),
            ("/etc/pve/local", format!("nodes/{}", self.node)),
        ] {
            let link = self.path(name);
            if fs::symlink_metadata(&link).is_err() {
                if let Err(e) = symlink(&target, &link) {
                    if e.kind() != std::io::ErrorKind::AlreadyExists {
                        return Err(SimError::io(format!("symlink {}", link.display()), e));
                    }
                }
            }
        }
        // pmxcfs shows `priv/` with mode 0700 (pve-cluster `src/pmxcfs/pmxcfs.c`,
        // `cfs_fuse_getattr`: `st_mode &= 0777700` for `path_is_private`).
        let _ = fs::set_permissions(
            self.path("/etc/pve/priv"),
            fs::Permissions::from_mode(0o700),
        );
        let storage_cfg = self.path("/etc/pve/storage.cfg");
        if !storage_cfg.exists() {
            write_new(&storage_cfg, DEFAULT_STORAGE_CFG)?;
        }
        // Bridges are looked up under /sys/class/net/<bridge>/mtu; a stock host has vmbr0. The
        // kernel gives every bridge device a `bridge/` attribute directory (net/bridge/
        // br_sysfs_br.c, `bridge_group`, named SYSFS_BRIDGE_ATTR "bridge"), which is how a
        // bridge is told from other interfaces there.
        let vmbr0 = self.path("/sys/class/net/vmbr0/mtu");
        if !vmbr0.exists() {
            if let Some(parent) = vmbr0.parent() {
                mkdir_p(&parent.join("bridge"))?;
            }
            write_new(&vmbr0, "1500\n")?;
        }
        Ok(())
    }

    /// The same state root seen from node `node` (a `pvesh` call proxied there), which must
    /// be a member: pmxcfs has a `nodes/<node>` directory for each (`check_node_exists`,
    /// pve-cluster `src/PVE/Cluster.pm` @ 7091d92e, dies `no such cluster node '<node>'`).
    pub fn on_node(&self, node: &str) -> SimResult<Sim> {
        if formats::check_named("pve-node", node).is_err()
            || !self.path(&format!("/etc/pve/nodes/{node}")).is_dir()
        {
            return Err(SimError::die(format!("no such cluster node '{node}'\n")));
        }
        Ok(Sim {
            root: self.root.clone(),
            node: node.to_owned(),
            schemas: self.schemas,
        })
    }

    /// `cfs_config_path`: `nodes/<node>/lxc/<vmid>.conf` (used in messages).
    pub fn cfs_config_path(&self, vmid: &str) -> String {
        format!("nodes/{}/lxc/{vmid}.conf", self.node)
    }

    /// The config file on disk.
    pub fn config_file(&self, vmid: &str) -> PathBuf {
        self.path(&format!("/etc/pve/{}", self.cfs_config_path(vmid)))
    }

    /// The lxcpath given to `lxc-start -P`.
    pub fn lxc_path(&self) -> PathBuf {
        self.path("/var/lib/lxc")
    }

    /// `load_config`: parse warnings go to stderr, a missing file is an error.
    pub fn load_config(&self, vmid: &str) -> SimResult<PctConf> {
        match self.read_config(vmid)? {
            Some(conf) => Ok(conf),
            None => Err(SimError::die(format!(
                "Configuration file '{}' does not exist\n",
                self.cfs_config_path(vmid)
            ))),
        }
    }

    /// Reads and parses a config if it exists.
    pub fn read_config(&self, vmid: &str) -> SimResult<Option<PctConf>> {
        let path = self.config_file(vmid);
        let raw = match fs::read(&path) {
            Ok(r) => r,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(SimError::io(format!("read {}", path.display()), e)),
        };
        let parsed = parse_pct_config(self.schemas, vmid, &raw, false)?;
        for w in &parsed.warnings {
            task::warn(w);
        }
        Ok(Some(parsed.conf))
    }

    /// `write_config`: canonical form, written to a temporary file and renamed (pmxcfs has no
    /// atomic O_TRUNC).
    pub fn write_config(&self, vmid: &str, conf: &mut PctConf) -> SimResult<()> {
        let text = write_pct_config(self.schemas, conf)?;
        let path = self.config_file(vmid);
        let tmp = path.with_extension(format!("conf.tmp.{}", std::process::id()));
        {
            let mut f = File::create(&tmp)
                .map_err(|e| SimError::io(format!("create {}", tmp.display()), e))?;
            f.write_all(text.as_bytes())
                .and_then(|_| f.sync_all())
                .map_err(|e| SimError::io(format!("write {}", tmp.display()), e))?;
        }
        fs::rename(&tmp, &path)
            .map_err(|e| SimError::io(format!("rename to {}", path.display()), e))
    }

    /// `destroy_config`.
    pub fn destroy_config(&self, vmid: &str) -> SimResult<()> {
        let path = self.config_file(vmid);
        fs::remove_file(&path)
            .map_err(|e| SimError::die(format!("failed to remove config file: {e}\n")))
    }

    /// `PVE::Cluster::get_vmlist`: every guest config on every node.
    pub fn vmlist(&self) -> SimResult<BTreeMap<u64, VmEntry>> {
        let mut out = BTreeMap::new();
        let nodes_dir = self.path("/etc/pve/nodes");
        let Ok(nodes) = fs::read_dir(&nodes_dir) else {
            return Ok(out);
        };
        for node in nodes.flatten() {
            let node_name = node.file_name().to_string_lossy().into_owned();
            for (sub, kind) in [("lxc", GuestKind::Ct), ("qemu-server", GuestKind::Vm)] {
                let Ok(entries) = fs::read_dir(node.path().join(sub)) else {
                    continue;
                };
                for entry in entries.flatten() {
                    let name = entry.file_name().to_string_lossy().into_owned();
                    let Some(id) = name.strip_suffix(".conf") else {
                        continue;
                    };
                    if formats::check_named("pve-vmid", id).is_err() {
                        continue;
                    }
                    if let Ok(id) = id.parse::<u64>() {
                        out.insert(
                            id,
                            VmEntry {
                                node: node_name.clone(),
                                kind,
                            },
                        );
                    }
                }
            }
        }
        Ok(out)
    }

    /// `PVE::Cluster::check_vmid_unused`. Returns false (instead of failing) when `noerr`.
    pub fn check_vmid_unused(&self, vmid: u64, noerr: bool) -> SimResult<bool> {
        let list = self.vmlist()?;
        let Some(entry) = list.get(&vmid) else {
            return Ok(true);
        };
        if noerr {
            return Ok(false);
        }
        let kind = match entry.kind {
            GuestKind::Vm => "VM",
            GuestKind::Ct => "CT",
        };
        Err(SimError::die(format!(
            "{kind} {vmid} already exists on node '{}'\n",
            entry.node
        )))
    }

    /// The CT config lock file (`config_file_lock`).
    pub fn lock_file(&self, vmid: &str) -> PathBuf {
        self.path(&format!("/run/lock/lxc/pve-config-{vmid}.lock"))
    }

    /// `lock_config_full`: an exclusive `flock` on the CT's lock file for the duration of `code`.
    pub fn lock_config<T>(
        &self,
        vmid: &str,
        timeout: Duration,
        code: impl FnOnce() -> SimResult<T>,
    ) -> SimResult<T> {
        let path = self.lock_file(vmid);
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| {
                SimError::die(format!(
                    "can't lock file '{}' - can't open file - {e}\n",
                    path.display()
                ))
            })?;
        if !try_flock(&file) {
            task::warn("trying to acquire lock...");
            let deadline = Instant::now() + timeout;
            loop {
                std::thread::sleep(Duration::from_millis(50));
                if try_flock(&file) {
                    task::warn(" OK");
                    break;
                }
                if Instant::now() >= deadline {
                    return Err(SimError::die(format!(
                        "can't lock file '{}' - got timeout\n",
                        path.display()
                    )));
                }
            }
        }
        let res = code();
        // SAFETY: flock on a descriptor this function owns; closing it would release it too.
        unsafe { libc::flock(std::os::fd::AsRawFd::as_raw_fd(&file), libc::LOCK_UN) };
        res
    }

    /// `next-id` and `mac_prefix` from datacenter.cfg, if set.
    pub fn datacenter_option(&self, key: &str) -> Option<String> {
        let text = fs::read_to_string(self.path("/etc/pve/datacenter.cfg")).ok()?;
        text.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            (k.trim() == key).then(|| v.trim().to_string())
        })
    }
}

/// `mkdir -p`.
pub fn mkdir_p(path: &Path) -> SimResult<()> {
    fs::create_dir_all(path).map_err(|e| SimError::io(format!("mkdir {}", path.display()), e))
}

fn write_new(path: &Path, text: &str) -> SimResult<()> {
    match OpenOptions::new().write(true).create_new(true).open(path) {
        Ok(mut f) => f
            .write_all(text.as_bytes())
            .map_err(|e| SimError::io(format!("write {}", path.display()), e)),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(SimError::io(format!("create {}", path.display()), e)),
    }
}

/// An exclusive `flock` without waiting: the first try of pve-common's
/// `PVE::Tools::lock_file_full` (src/PVE/Tools.pm, `flock($fh, $mode | LOCK_NB)`).
/// (`File::try_lock` does the same but needs Rust 1.89; the workspace's MSRV is 1.88.)
fn try_flock(file: &File) -> bool {
    // SAFETY: flock takes any descriptor; `file` keeps this one open for the call.
    unsafe {
        libc::flock(
            std::os::fd::AsRawFd::as_raw_fd(file),
            libc::LOCK_EX | libc::LOCK_NB,
        ) == 0
    }
}
