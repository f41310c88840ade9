//! What a host path, device or file system gives a container: one place for
//! the facts every check of a host effect uses.
//!
//! `lint` applies these classifiers to the OCI spec (bind mount sources, the
//! root path, `linux.devices`, device cgroup rules, other mounts); the
//! executor's plan validator applies the same ones to what a plan would hand
//! to Proxmox (`--mpN` sources, `--devN` paths, `lxc.mount.entry` and
//! `lxc.cgroup2.devices.allow` lines). Each answer names the rule it is a
//! finding of, so the node's [policy](crate::policy) decides about both alike.
//!
//! Pure: paths are judged as text, lexically normalised (`//`, `.`, `..`).
//! Host symlinks (`/var/run -> /run`, `/lib -> /usr/lib` on merged-/usr
//! systems) cannot be resolved here, so each spelling is listed.

use crate::diag::Diagnostic;
use crate::path::{lxcri, normalize, pve};
use crate::rules::security::{
    DANGEROUS_DEVICE, HOST_BLOCK_MOUNT, HOST_ROOTFS, HOST_SOCKET, HOST_SYSTEM_MOUNT,
    KERNEL_FILESYSTEM, PROXMOX_STATE_MOUNT, SENSITIVE_HOST_MOUNT,
};
use crate::rules::Rule;

/// A host effect a check found: the rule it is a finding of, and what it gives the container.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostFinding {
    /// The rule the finding is of.
    pub rule: &'static Rule,
    /// What the effect gives the container.
    pub message: String,
}

impl HostFinding {
    fn new(rule: &'static Rule, message: impl Into<String>) -> HostFinding {
        HostFinding {
            rule,
            message: message.into(),
        }
    }

    /// A diagnostic of the finding's rule at its default severity; the caller locates it.
    pub(crate) fn diagnostic(&self) -> Diagnostic {
        Diagnostic::new(self.rule, self.message.clone())
    }

    /// The stable code of the finding's rule.
    pub fn code(&self) -> &'static str {
        self.rule.code
    }
}

/// Host paths reported when a bind source is exactly this path (their
/// subdirectories are ordinary data, or have entries of their own below).
pub(crate) const SENSITIVE_EXACT: &[&str] = &["/", "/etc", "/dev", "/var", "/home"];

/// Trees that hold the host's secrets, accounts or kernel interfaces.
pub(crate) const SENSITIVE_TREES: &[&str] = &[
    "/etc/ssh",
    "/etc/shadow",
    "/etc/gshadow",
    "/etc/sudoers",
    "/etc/sudoers.d",
    "/root",
    "/boot",
    "/proc",
    "/sys",
    "/var/lib/docker",
    "/var/lib/containerd",
];

/// Proxmox VE's own state and storage, and this tool's.
pub(crate) const PROXMOX_TREES: &[(&str, &str)] = &[
    // pmxcfs, the cluster file system: every guest's config, the cluster's keys and users.
    (
        pve::ETC_PVE,
        "the cluster configuration file system (guest configs, keys, users)",
    ),
    // pmxcfs keeps /etc/pve in config.db here (pve-cluster, src/pmxcfs/database.c).
    (pve::CLUSTER_DB_DIR, "the database behind /etc/pve"),
    (pve::RUN_DIR, "Proxmox's runtime state"),
    ("/var/run/pve", "Proxmox's runtime state"),
    ("/run/pve-cluster", "Proxmox's runtime state"),
    (
        "/var/lib/pve-manager",
        "Proxmox's manager state (jobs, certificates)",
    ),
    ("/var/lib/pve-firewall", "the node's firewall state"),
    // The `local` directory storage (images, templates, backups) and storages mounted by PVE.
    (
        pve::VZ_DIR,
        "the `local` storage: every guest's disks, templates and backups",
    ),
    ("/mnt/pve", "the node's mounted storages"),
    (
        "/etc/corosync",
        "corosync's configuration and cluster authentication key",
    ),
    (
        pve::LXC_DIR,
        "LXC's per-container configs and root file system mounts",
    ),
    (lxcri::ETC_DIR, "the node policy of proxmox-lxcri"),
    (lxcri::STATE_DIR, "proxmox-lxcri's state"),
    (lxcri::RUN_DIR, "proxmox-lxcri's container records"),
];

/// Runtime directories: they hold the control sockets of the node's daemons
/// (`/run/systemd/private`, `/run/dbus/system_bus_socket`, containerd, lxc, …).
pub(crate) const RUNTIME_TREES: &[&str] = &["/run", "/var/run"];

/// File names that are control sockets wherever they are.
const SOCKET_SUFFIXES: &[&str] = &[".sock", ".socket", "_socket"];

/// Directories whose contents the host executes or loads: programs,
/// libraries, kernel modules, and what runs at boot, at login or on a schedule.
pub(crate) const SYSTEM_TREES: &[&str] = &[
    "/usr",
    "/bin",
    "/sbin",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/opt",
    "/etc/cron.d",
    "/etc/cron.daily",
    "/etc/cron.hourly",
    "/etc/cron.weekly",
    "/etc/cron.monthly",
    "/etc/crontab",
    "/etc/anacrontab",
    "/var/spool/cron",
    "/etc/systemd",
    "/etc/init.d",
    "/etc/init",
    "/etc/rc.local",
    "/etc/rcS.d",
    "/etc/rc0.d",
    "/etc/rc1.d",
    "/etc/rc2.d",
    "/etc/rc3.d",
    "/etc/rc4.d",
    "/etc/rc5.d",
    "/etc/rc6.d",
    "/etc/udev",
    "/etc/modprobe.d",
    "/etc/modules",
    "/etc/modules-load.d",
    "/etc/ld.so.preload",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/profile",
    "/etc/profile.d",
    "/etc/environment",
    "/etc/pam.d",
    "/etc/security",
    "/etc/passwd",
    "/etc/group",
    "/etc/apt",
    "/etc/sysctl.conf",
    "/etc/sysctl.d",
    "/var/lib/dpkg",
];

/// Character devices that expose the host's hardware, memory or kernel:
/// (major, minor or any, name). Numbers from the kernel's
/// Documentation/admin-guide/devices.txt.
pub(crate) const DANGEROUS_CHAR_DEVICES: &[(i64, Option<i64>, &str)] = &[
    (10, Some(232), "/dev/kvm"),
    (1, Some(1), "/dev/mem"),
    (1, Some(2), "/dev/kmem"),
    (1, Some(4), "/dev/port"),
    (202, None, "/dev/cpu/*/msr"),
    (10, Some(231), "/dev/snapshot"),
    (10, Some(236), "/dev/mapper/control"),
    (10, Some(237), "/dev/loop-control"),
    (10, Some(234), "/dev/btrfs-control"),
    (10, Some(130), "/dev/watchdog"),
    (21, None, "/dev/sg*"),
];

/// Device paths that are block devices or their control nodes, for binds
/// and mount sources (where no type is given).
pub(crate) const BLOCK_DEVICE_PREFIXES: &[&str] = &[
    "/dev/sd",
    "/dev/hd",
    "/dev/vd",
    "/dev/xvd",
    "/dev/nvme",
    "/dev/dm-",
    "/dev/mapper/",
    "/dev/md",
    "/dev/loop",
    "/dev/zd",
    "/dev/zvol/",
    "/dev/rbd",
    "/dev/nbd",
    "/dev/disk/",
    "/dev/mmcblk",
    "/dev/sr",
    "/dev/pve/",
    "/dev/sg",
    "/dev/bsg/",
];

/// Device paths that are control nodes of the host's storage stack, matched exactly.
const STORAGE_CONTROL: &[&str] = &["/dev/zfs", "/dev/vfio/vfio"];

/// File systems that are interfaces of the host kernel, not storage.
pub(crate) const KERNEL_FILESYSTEMS: &[(&str, &str)] = &[
    (
        "debugfs",
        "the kernel's debugging interface (kernel memory, tracing, driver internals)",
    ),
    (
        "tracefs",
        "the kernel's tracing interface (kprobes, every process's events)",
    ),
    (
        "securityfs",
        "the loaded security policy (AppArmor profiles, IMA, lockdown)",
    ),
    (
        "efivarfs",
        "the firmware's variables (writing some bricks the machine)",
    ),
    ("bpf", "pinned BPF programs and maps of the host"),
    (
        "configfs",
        "kernel objects made by writing files (USB gadgets, iSCSI and NVMe targets)",
    ),
    ("pstore", "the kernel's crash logs"),
    (
        "binfmt_misc",
        "the interpreters the kernel runs programs with",
    ),
    ("fusectl", "the host's FUSE connections"),
];

/// File systems that live on a block device: their mount reads a host disk.
pub(crate) const DISK_FILESYSTEMS: &[&str] = &[
    "ext2", "ext3", "ext4", "xfs", "btrfs", "zfs", "vfat", "msdos", "exfat", "ntfs", "ntfs3",
    "f2fs", "jfs", "reiserfs", "iso9660", "udf", "squashfs", "erofs", "hfsplus", "nilfs2", "ocfs2",
    "gfs2",
];

/// Whether `path` is `tree` or inside it (both normal).
pub fn under(path: &str, tree: &str) -> bool {
    tree == "/"
        || path == tree
        || path
            .strip_prefix(tree)
            .is_some_and(|rest| rest.starts_with('/'))
}

fn show(path: &str) -> String {
    path.escape_debug().to_string()
}

/// Whether an OCI mount is a bind: type `bind`, or a `bind`/`rbind` option
/// (runc and crun bind whatever the type then).
pub fn is_bind(fstype: &str, options: &[String]) -> bool {
    fstype == "bind" || options.iter().any(|o| o == "bind" || o == "rbind")
}

/// A host path used as a bind mount's source (an OCI bind, a `--mpN`
/// source, an `lxc.mount.entry` bind). A directory that *contains* a
/// protected path (`/var/lib` holds `/var/lib/vz`) is reported like it.
pub fn bind_source(path: &str) -> Option<HostFinding> {
    let p = normalize(path)?;
    if let Some(f) = device_path(&p) {
        return Some(f);
    }
    if SENSITIVE_EXACT.contains(&p.as_str()) {
        return Some(sensitive(&p, None));
    }
    // Inside a protected tree: the most specific tree decides.
    if let Some((tree, what)) = PROXMOX_TREES.iter().find(|(t, _)| under(&p, t)) {
        return Some(proxmox(&p, tree, what, false));
    }
    if let Some(tree) = SENSITIVE_TREES.iter().find(|t| under(&p, t)) {
        return Some(sensitive(&p, Some(tree)));
    }
    if let Some(f) = socket(&p) {
        return Some(f);
    }
    if let Some(tree) = SYSTEM_TREES.iter().find(|t| under(&p, t)) {
        return Some(system(&p, tree, false));
    }
    // An ancestor of a protected tree gives the container that tree too.
    if let Some((tree, what)) = PROXMOX_TREES.iter().find(|(t, _)| under(t, &p)) {
        return Some(proxmox(&p, tree, what, true));
    }
    if let Some(tree) = RUNTIME_TREES.iter().find(|t| under(t, &p)) {
        return Some(HostFinding::new(
            &HOST_SOCKET,
            format!("the host path `{}` holds `{tree}`, the runtime directory with the control sockets of the node's daemons", show(&p)),
        ));
    }
    if let Some(tree) = SENSITIVE_TREES.iter().find(|t| under(t, &p)) {
        return Some(HostFinding::new(
            &SENSITIVE_HOST_MOUNT,
            format!(
                "the host path `{}` holds `{tree}`: the host's secrets or kernel interfaces",
                show(&p)
            ),
        ));
    }
    if let Some(tree) = SYSTEM_TREES.iter().find(|t| under(t, &p)) {
        return Some(system(&p, tree, true));
    }
    None
}

fn sensitive(p: &str, tree: Option<&str>) -> HostFinding {
    let what = match tree {
        None if p == "/" => "it is the host's root directory, every file of the node".to_string(),
        None => format!(
            "`{}` exposes the host's configuration, credentials or devices",
            show(p)
        ),
        Some(t) => format!("`{t}` holds the host's credentials, boot files or kernel interfaces"),
    };
    HostFinding::new(
        &SENSITIVE_HOST_MOUNT,
        format!(
            "the host path `{}` is bind-mounted into the container: {what}",
            show(p)
        ),
    )
}

fn proxmox(p: &str, tree: &str, what: &str, ancestor: bool) -> HostFinding {
    let how = if ancestor {
        format!("holds `{tree}`,")
    } else if p == tree {
        "is".to_string()
    } else {
        format!("is inside `{tree}`,")
    };
    HostFinding::new(
        &PROXMOX_STATE_MOUNT,
        format!("the host path `{}` {how} {what}", show(p)),
    )
}

fn system(p: &str, tree: &str, ancestor: bool) -> HostFinding {
    let how = if ancestor {
        format!("holds `{tree}`")
    } else if p == tree {
        "is a system directory".to_string()
    } else {
        format!("is inside `{tree}`")
    };
    HostFinding::new(
        &HOST_SYSTEM_MOUNT,
        format!(
            "the host path `{}` {how}: the host runs or loads what is there as root",
            show(p)
        ),
    )
}

fn socket(p: &str) -> Option<HostFinding> {
    let name = p.rsplit('/').next().unwrap_or_default();
    if SOCKET_SUFFIXES
        .iter()
        .any(|s| name.ends_with(s) && name.len() > s.len())
    {
        return Some(HostFinding::new(&HOST_SOCKET, format!("the host path `{}` is a control socket: whoever talks to it commands a daemon of the node", show(p))));
    }
    if let Some(tree) = RUNTIME_TREES.iter().find(|t| under(p, t)) {
        return Some(HostFinding::new(
            &HOST_SOCKET,
            format!("the host path `{}` is in `{tree}`, the runtime directory with the control sockets of the node's daemons", show(p)),
        ));
    }
    None
}

/// A device path as a bind source or mount source, by name (no type is known).
fn device_path(p: &str) -> Option<HostFinding> {
    if let Some((_, _, name)) = DANGEROUS_CHAR_DEVICES
        .iter()
        .find(|(_, _, name)| *name == p)
    {
        return Some(HostFinding::new(
            &DANGEROUS_DEVICE,
            format!("the container gets the device {name}"),
        ));
    }
    if p.starts_with("/dev/cpu/") && p.ends_with("/msr") {
        return Some(HostFinding::new(
            &DANGEROUS_DEVICE,
            format!(
                "the container gets the CPU's model-specific registers (`{}`)",
                show(p)
            ),
        ));
    }
    if STORAGE_CONTROL.contains(&p) {
        return Some(HostFinding::new(
            &DANGEROUS_DEVICE,
            format!(
                "the container gets `{}`, a control node of the host's storage",
                show(p)
            ),
        ));
    }
    if BLOCK_DEVICE_PREFIXES
        .iter()
        .any(|pre| p.starts_with(pre) && p.len() > pre.len())
    {
        return Some(HostFinding::new(
            &DANGEROUS_DEVICE,
            format!("the container gets a block device (`{}`)", show(p)),
        ));
    }
    None
}

/// Why a host directory (absolute, canonical) must never be packed or handed over as a
/// container's root file system, if it must not (the executor asks, for a rootfs it reached
/// through its checked descriptors).
///
/// It differs from [`rootfs_path`], the policy's judgement of a path in a config: a bundle
/// that engines unpack under `/run/containerd/…` or `/root/…` is an ordinary rootfs here,
/// while no path below the host's own system or Proxmox's state is, whatever a policy says.
pub fn never_a_rootfs(path: &str) -> Option<&'static str> {
    /// Trees of the host's own system and of Proxmox: neither they nor anything below them.
    const TREES: &[&str] = &[
        "/etc",
        "/usr",
        "/bin",
        "/sbin",
        "/lib",
        "/lib32",
        "/lib64",
        "/libx32",
        "/boot",
        "/dev",
        "/proc",
        "/sys",
        "/var/lib/pve-cluster",
        "/var/lib/vz",
        "/var/log",
        "/run/pve",
        "/run/systemd",
        "/run/dbus",
        "/root/.ssh",
    ];
    /// Shared host directories: not as a whole (below them, a directory may be a rootfs).
    const EXACT: &[&str] = &[
        "/",
        "/root",
        "/home",
        "/run",
        "/tmp",
        "/var",
        "/var/lib",
        "/var/tmp",
        "/var/cache",
        "/var/spool",
        "/srv",
        "/opt",
        "/mnt",
        "/media",
    ];
    // Fail closed: what cannot be read as an absolute path is not handed over.
    let Some(p) = normalize(path) else {
        return Some("not an absolute path without `..`");
    };
    if p == "/" {
        return Some("the host's root directory");
    }
    if EXACT.contains(&p.as_str()) {
        return Some("a shared host directory");
    }
    if TREES.iter().any(|t| under(&p, t)) {
        return Some("a host system directory");
    }
    if TREES.iter().any(|t| under(t, &p)) {
        return Some("a directory that holds host system directories");
    }
    None
}

/// A host path used as the container's root file system (a `--rootfs` host
/// path, an absolute `root.path`). `/`, a top-level directory and every
/// path [`bind_source`] reports are refused as `security/host-rootfs`.
pub fn rootfs_path(path: &str) -> Option<HostFinding> {
    let p = normalize(path)?;
    if p == "/" {
        return Some(HostFinding::new(
            &HOST_ROOTFS,
            "the root file system is the host's root directory `/`",
        ));
    }
    if !p[1..].contains('/') {
        return Some(HostFinding::new(
            &HOST_ROOTFS,
            format!(
                "the root file system is the host's top-level directory `{}`",
                show(&p)
            ),
        ));
    }
    bind_source(&p).map(|f| {
        HostFinding::new(
            &HOST_ROOTFS,
            format!(
                "the root file system is a host directory the node needs: {}",
                f.message
            ),
        )
    })
}

/// A device given to the container: `path` (its name, used when the numbers
/// are unknown), `kind` (`b`, `c`, `u`, `p`; None for a bind of the path) and
/// its numbers. For the container's device nodes (`linux.devices`, `--devN`).
pub fn device(
    path: &str,
    kind: Option<char>,
    major: Option<i64>,
    minor: Option<i64>,
) -> Option<HostFinding> {
    let at = if path.is_empty() {
        String::new()
    } else {
        format!(" at `{}`", show(path))
    };
    match kind {
        Some('b') => Some(HostFinding::new(
            &DANGEROUS_DEVICE,
            format!("the container gets a block device{at}"),
        )),
        Some('c' | 'u') if major.is_some() => dangerous_char(major, minor).map(|name| {
            HostFinding::new(
                &DANGEROUS_DEVICE,
                format!("the container gets the device {name}{at}"),
            )
        }),
        Some('p') => None,
        _ => normalize(path).and_then(|p| device_path(&p)),
    }
}

/// A device cgroup rule that allows access (`linux.resources.devices`,
/// `lxc.cgroup2.devices.allow = c 1:1 rwm`): `kind` `a`, `b` or `c`, None
/// numbers for `*`. Only rules that allow reading or writing matter: `m`
/// (mknod) alone opens nothing.
pub(crate) fn device_access(
    kind: char,
    major: Option<i64>,
    minor: Option<i64>,
    access: &str,
) -> Option<HostFinding> {
    if !access.contains(['r', 'w']) {
        return None;
    }
    let what = match (kind, major) {
        ('a', _) => "every device".to_string(),
        ('b', _) => "block devices".to_string(),
        ('c', None) => "every character device".to_string(),
        ('c', Some(_)) => format!("the device {}", dangerous_char(major, minor)?),
        _ => return None,
    };
    Some(HostFinding::new(
        &DANGEROUS_DEVICE,
        format!(
            "a device cgroup rule gives the container `{}` access to {what}",
            access.escape_debug()
        ),
    ))
}

/// The name of a dangerous character device matched by major/minor (None = any minor).
fn dangerous_char(major: Option<i64>, minor: Option<i64>) -> Option<&'static str> {
    let major = major?;
    DANGEROUS_CHAR_DEVICES
        .iter()
        .find(|(ma, mi, _)| *ma == major && (mi.is_none() || minor.is_none() || *mi == minor))
        .map(|(_, _, name)| *name)
}

/// A mount that is not a bind: its file system type and source. `destination`
/// is where it goes in the container; a `proc` anywhere but the container's
/// own `/proc` is a second procfs, which the masks and read-only overmounts
/// of /proc do not cover. Pass None for a back end that mounts /proc itself
/// (LXC: `lxc.mount.auto = proc:mixed`): every `proc` entry is then a second one.
pub(crate) fn filesystem(
    fstype: &str,
    source: &str,
    destination: Option<&str>,
) -> Option<HostFinding> {
    let fstype = fstype.trim();
    if let Some((_, what)) = KERNEL_FILESYSTEMS.iter().find(|(t, _)| *t == fstype) {
        return Some(HostFinding::new(
            &KERNEL_FILESYSTEM,
            format!("a `{fstype}` mount gives the container {what}"),
        ));
    }
    if fstype == "proc" && destination.and_then(normalize).as_deref() != Some("/proc") {
        let at = destination
            .map(|d| format!(" at `{}`", show(d)))
            .unwrap_or_default();
        return Some(HostFinding::new(
            &KERNEL_FILESYSTEM,
            format!("a second procfs{at}: it is not covered by the masked and read-only paths of /proc (/proc/sys, /proc/kcore, /proc/sysrq-trigger)"),
        ));
    }
    let source = source.trim();
    for tag in ["UUID=", "LABEL=", "PARTUUID=", "PARTLABEL="] {
        if source.starts_with(tag) {
            return Some(HostFinding::new(
                &HOST_BLOCK_MOUNT,
                format!("the mount's source `{}` names a host disk", show(source)),
            ));
        }
    }
    if let Some(p) = normalize(source) {
        if BLOCK_DEVICE_PREFIXES
            .iter()
            .any(|pre| p.starts_with(pre) && p.len() > pre.len())
        {
            return Some(HostFinding::new(
                &HOST_BLOCK_MOUNT,
                format!(
                    "a `{}` mount of the host's block device `{}`",
                    show(fstype),
                    show(&p)
                ),
            ));
        }
    }
    if DISK_FILESYSTEMS.contains(&fstype) {
        return Some(HostFinding::new(
            &HOST_BLOCK_MOUNT,
            format!("a `{fstype}` mount of `{}`: the host kernel mounts a disk or image file of the node for the container", show(source)),
        ));
    }
    None
}

// Proxmox and LXC spellings of the same effects, for checks of a plan or a
// config: each takes the value as written and hands it to a classifier above.

/// The host path of a Proxmox `mpN`/`rootfs` value (`/srv/x,mp=/x,ro=1` or
/// `volume=/srv/x,mp=/x`): None for storage volumes (`local-lvm:8`,
/// `local:subvol-100-disk-0`), which are Proxmox's own. pve-container,
/// src/PVE/LXC/Config.pm (`$mp_desc`: `volume` is the default key).
pub fn pve_volume_path(value: &str) -> Option<&str> {
    let mut default = None;
    for part in value.split(',') {
        match part.split_once('=') {
            Some(("volume", v)) => return Some(v).filter(|v| v.starts_with('/')),
            Some(_) => {}
            None if default.is_none() => default = Some(part),
            None => {}
        }
    }
    default.filter(|v| v.starts_with('/'))
}

/// A Proxmox mount point value (`--mpN`, `mpN:`): a host path bind is judged by [`bind_source`].
pub fn pve_mount_point(value: &str) -> Option<HostFinding> {
    pve_volume_path(value).and_then(bind_source)
}

/// A Proxmox `rootfs` value: a host path is judged by [`rootfs_path`].
pub fn pve_rootfs(value: &str) -> Option<HostFinding> {
    pve_volume_path(value).and_then(rootfs_path)
}

/// A Proxmox device value (`--devN /dev/mem,mode=0666` or `path=/dev/mem,…`):
/// Proxmox takes the type and numbers from the node's own node, so the path decides.
/// pve-container, src/PVE/LXC/Config.pm (`$dev_desc`: `path` is the default key).
pub fn pve_device(value: &str) -> Option<HostFinding> {
    let mut path = None;
    for part in value.split(',') {
        match part.split_once('=') {
            Some(("path", v)) => path = Some(v),
            Some(_) => {}
            None if path.is_none() => path = Some(part),
            None => {}
        }
    }
    device(path?, None, None, None)
}

/// LXC's fstab escapes (`\040` for a space), as `lxc.mount.entry` fields use them.
fn fstab_unescape(field: &str) -> String {
    let mut out = String::with_capacity(field.len());
    let bytes = field.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let octal = bytes
            .get(i + 1..i + 4)
            .filter(|d| b == b'\\' && d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match octal.and_then(|d| u8::from_str_radix(std::str::from_utf8(d).ok()?, 8).ok()) {
            Some(c) => {
                out.push(char::from(c));
                i += 4;
            }
            None => {
                out.push(char::from(b));
                i += 1;
            }
        }
    }
    out
}

/// The host directory a Proxmox mount point binds, if `key: value` is a bind `mpN`: an
/// absolute volume not under /dev/ (`classify_mountpoint`, src/PVE/LXC/Config.pm: `/dev/…` is
/// a device, anything else absolute a bind). The volume is the text before the first `,`
/// (a path with one is refused when lowering and by the API schema). The plan's
/// `needs: directory` and the executor's own check both come from here.
pub fn bind_mount_point_source<'a>(key: &str, value: &'a str) -> Option<&'a str> {
    let indexed = key
        .strip_prefix("mp")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    let volume = value.split(',').next()?;
    (indexed && volume.starts_with('/') && !volume.starts_with("/dev/")).then_some(volume)
}

/// The layers of an overlay mount, judged like bind sources: `lowerdir` (read-only layers
/// separated by `:`, `\:` being a literal colon), `lowerdir+=` and `datadir+=` (Linux 6.8, one
/// layer each), `upperdir` (written) and `workdir` (written by the kernel). Each finding comes
/// with the index of the option that names the layer.
pub(crate) fn overlay_layers(options: &[String]) -> Vec<(usize, HostFinding)> {
    let mut out = Vec::new();
    for (i, text) in options.iter().enumerate() {
        let Some((key, value)) = text.split_once('=') else {
            continue;
        };
        let (how, layers): (&str, Vec<String>) = match key {
            "lowerdir" => ("a read-only overlay layer", split_unescaped_colons(value)),
            "lowerdir+" | "datadir+" => ("a read-only overlay layer", vec![value.to_string()]),
            "upperdir" => ("the overlay's writable layer", vec![value.to_string()]),
            "workdir" => (
                "the overlay's work directory, written by the kernel",
                vec![value.to_string()],
            ),
            _ => continue,
        };
        for layer in layers.iter().filter(|l| l.starts_with('/')) {
            if let Some(f) = bind_source(layer) {
                out.push((
                    i,
                    HostFinding {
                        message: format!("{} ({how})", f.message),
                        ..f
                    },
                ));
            }
        }
    }
    out
}

fn split_unescaped_colons(value: &str) -> Vec<String> {
    let mut layers = vec![String::new()];
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let (Some(next), Some(last)) = (chars.next(), layers.last_mut()) {
                    last.push(next);
                }
            }
            ':' => layers.push(String::new()),
            c => {
                if let Some(last) = layers.last_mut() {
                    last.push(c);
                }
            }
        }
    }
    layers
}

/// An `lxc.mount.entry` value (`SOURCE DEST FSTYPE OPTIONS [DUMP PASS]`, fstab
/// syntax): a bind is judged by [`bind_source`], anything else by
/// `filesystem` (LXC mounts the container's /proc itself, so every `proc`
/// entry is a second one). A line that is not four fields or more is malformed
/// and reported as a block mount of what it names: it is refused, not passed.
pub fn lxc_mount_entry(value: &str) -> Option<HostFinding> {
    let fields: Vec<String> = value.split_whitespace().map(fstab_unescape).collect();
    let [source, dest, fstype, options, ..] = fields.as_slice() else {
        return Some(HostFinding::new(
            &HOST_BLOCK_MOUNT,
            format!(
                "the mount entry `{}` is not `SOURCE DEST TYPE OPTIONS`",
                value.escape_debug()
            ),
        ));
    };
    let options: Vec<String> = options.split(',').map(str::to_string).collect();
    if is_bind(fstype, &options) {
        // The translator's own `readonlyPaths` entries (lower/security/paths.rs): the node's copy
        // of a /proc directory that is the same in every namespace, bound read-only onto the same
        // place in the container's /proc. It is what the container sees anyway, made read-only;
        // any other /proc bind, or one without `ro`, is judged as a bind below.
        let readonly_onto_itself = options.iter().any(|o| o == "ro")
            && crate::lower::GLOBAL_PROC_DIRS.contains(&source.as_str())
            && dest.trim_end_matches('/') == source.trim_start_matches('/');
        if readonly_onto_itself {
            return None;
        }
        return bind_source(source);
    }
    if fstype == "overlay" {
        if let Some((_, f)) = overlay_layers(&options).into_iter().next() {
            return Some(f);
        }
    }
    filesystem(fstype, source, None)
}

/// An `lxc.cgroup2.devices.allow` (or `lxc.cgroup.devices.allow`) value:
/// `a`, or `TYPE MAJOR:MINOR ACCESS` with `*` for any number. A value that
/// does not parse is treated as `a` (every device): refused, not passed.
pub fn lxc_device_allow(value: &str) -> Option<HostFinding> {
    let mut words = value.split_whitespace();
    let kind = words.next().and_then(|k| {
        let mut c = k.chars();
        c.next().filter(|_| c.next().is_none())
    });
    let numbers = words.next();
    let access = words.next().unwrap_or("rwm");
    let number = |n: &str| {
        if n == "*" {
            Ok(None)
        } else {
            n.parse::<i64>().map(Some)
        }
    };
    let parsed = match (kind, numbers) {
        (Some('a'), _) => Some(('a', None, None)),
        (Some(k @ ('b' | 'c')), Some(nums)) => nums
            .split_once(':')
            .and_then(|(ma, mi)| Some((k, number(ma).ok()?, number(mi).ok()?))),
        _ => None,
    };
    let (kind, major, minor) = parsed.unwrap_or(('a', None, None));
    device_access(
        kind,
        major,
        minor,
        if parsed.is_some() { access } else { "rwm" },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(f: Option<HostFinding>) -> &'static str {
        f.map(|f| f.rule.code).unwrap_or("-")
    }

    #[test]
    fn bind_mount_points_are_absolute_volumes_outside_dev() {
        assert_eq!(
            bind_mount_point_source("mp0", "/srv/data,mp=/data"),
            Some("/srv/data")
        );
        assert_eq!(bind_mount_point_source("mp12", "/srv"), Some("/srv"));
        assert_eq!(
            bind_mount_point_source("mp0", "local-lvm:8,mp=/d"),
            None,
            "a storage volume"
        );
        assert_eq!(
            bind_mount_point_source("mp0", "/dev/sdb1,mp=/d"),
            None,
            "a device to Proxmox"
        );
        assert_eq!(bind_mount_point_source("rootfs", "/srv/r"), None);
        assert_eq!(bind_mount_point_source("mp", "/srv/r"), None);
        assert_eq!(bind_mount_point_source("mpx", "/srv/r"), None);
    }

    #[test]
    fn overlay_entries_are_judged_by_their_layers() {
        // A plan's raw line: the layers reach the node as surely as a bind's source.
        assert_eq!(
            code(lxc_mount_entry(
                "overlay srv/o overlay lowerdir=/srv/a:/etc/pve,upperdir=/srv/u,workdir=/srv/w 0 0"
            )),
            "security/proxmox-state-mount"
        );
        assert_eq!(
            code(lxc_mount_entry(
                "overlay srv/o overlay lowerdir=/srv/a,upperdir=/root,workdir=/srv/w 0 0"
            )),
            "security/sensitive-host-mount"
        );
        assert_eq!(
            code(lxc_mount_entry(
                "overlay srv/o overlay lowerdir=/srv/a,upperdir=/srv/u,workdir=/srv/w 0 0"
            )),
            "-"
        );
    }

    #[test]
    fn proxmox_state_and_storage() {
        for p in [
            "/etc/pve",
            "/etc/pve/priv",
            "/etc/pve/lxc/100.conf",
            "/var/lib/pve-cluster",
            "/var/lib/pve-cluster/config.db",
            "/run/pve",
            "/var/run/pve/",
            "/var/lib/vz",
            "/var/lib/vz/template/cache",
            "/mnt/pve/nfs",
            "/etc/corosync/authkey",
            "/var/lib/lxc/100",
            "/etc/proxmox-lxcri/policy.toml",
            "/var/lib",
            "/mnt",
            "//etc/./pve",
            "/srv/../etc/pve",
        ] {
            assert_eq!(code(bind_source(p)), "security/proxmox-state-mount", "{p}");
        }
    }

    #[test]
    fn runtime_sockets() {
        for p in [
            "/run/systemd/private",
            "/run/dbus/system_bus_socket",
            "/var/run/docker.sock",
            "/run/containerd/containerd.sock",
            "/run/lxc",
            "/run",
            "/var/run",
            "/srv/app/podman.sock",
            "/tmp/agent.socket",
            "/home/u/.ssh-agent_socket",
        ] {
            assert_eq!(code(bind_source(p)), "security/host-socket", "{p}");
        }
    }

    #[test]
    fn system_directories() {
        for p in [
            "/usr",
            "/usr/local/bin",
            "/usr/lib/x86_64-linux-gnu",
            "/lib",
            "/lib/modules",
            "/lib/modules/6.8.12-4-pve",
            "/bin",
            "/sbin",
            "/lib64",
            "/etc/cron.d",
            "/etc/cron.daily/x",
            "/etc/crontab",
            "/var/spool/cron/crontabs",
            "/etc/systemd/system",
            "/etc/init.d",
            "/etc/rc3.d",
            "/etc/ld.so.preload",
            "/etc/profile.d",
            "/etc/passwd",
            "/etc/apt/sources.list.d",
            "/var/lib/dpkg",
        ] {
            assert_eq!(code(bind_source(p)), "security/host-system-mount", "{p}");
        }
    }

    #[test]
    fn sensitive_paths_keep_their_code() {
        for p in [
            "/",
            "/etc",
            "/dev",
            "/var",
            "/home",
            "/root",
            "/root/.ssh",
            "/etc/ssh",
            "/etc/shadow",
            "/boot",
            "/proc/1",
            "/sys/kernel",
            "/var/lib/docker",
        ] {
            assert_eq!(code(bind_source(p)), "security/sensitive-host-mount", "{p}");
        }
    }

    #[test]
    fn devices_by_path() {
        for p in [
            "/dev/mem",
            "/dev/kmem",
            "/dev/port",
            "/dev/kvm",
            "/dev/sda",
            "/dev/sda1",
            "/dev/nvme0n1p2",
            "/dev/mapper/pve-root",
            "/dev/pve/data",
            "/dev/zd16",
            "/dev/cpu/0/msr",
            "/dev/zfs",
            "/dev/mapper/control",
            "/dev/disk/by-id/x",
        ] {
            assert_eq!(code(bind_source(p)), "security/dangerous-device", "{p}");
        }
    }

    #[test]
    fn ordinary_paths_are_not_reported() {
        for p in [
            "/srv/app/data",
            "/data",
            "/etc/localtime",
            "/etc/resolv.conf",
            "/var/log/app",
            "/var/cache/app",
            "/home/user/data",
            "/tmp/x",
            "/dev/null",
            "/dev/fuse",
            "/dev/net/tun",
            "relative/path",
            "/srvrun",
            "/usrx",
            "/etc/pvex",
        ] {
            assert_eq!(code(bind_source(p)), "-", "{p}");
        }
    }

    #[test]
    fn rootfs_paths() {
        for p in [
            "/",
            "/etc",
            "/srv",
            "/root",
            "/usr/lib",
            "/var/lib/vz",
            "/etc/pve",
            "/run/x",
            "/var/lib",
            "//",
            "/srv/..",
        ] {
            assert_eq!(code(rootfs_path(p)), "security/host-rootfs", "{p}");
        }
        for p in [
            "/srv/images/app",
            "/var/lib/machines/web",
            "rootfs",
            "./rootfs",
        ] {
            assert_eq!(code(rootfs_path(p)), "-", "{p}");
        }
    }

    #[test]
    fn devices_by_type_and_number() {
        assert_eq!(
            code(device("/dev/sda", Some('b'), Some(8), Some(0))),
            "security/dangerous-device"
        );
        assert_eq!(
            code(device("/dev/harmless", Some('b'), Some(7), Some(0))),
            "security/dangerous-device"
        );
        assert_eq!(
            code(device("/dev/null", Some('c'), Some(1), Some(1))),
            "security/dangerous-device",
            "numbers decide, not the name"
        );
        assert_eq!(
            code(device("/dev/mem", Some('c'), Some(1), Some(3))),
            "-",
            "numbers decide, not the name"
        );
        assert_eq!(
            code(device("/dev/kvm", Some('c'), Some(10), Some(232))),
            "security/dangerous-device"
        );
        assert_eq!(
            code(device("/dev/cpu/0/msr", Some('c'), Some(202), Some(0))),
            "security/dangerous-device"
        );
        assert_eq!(
            code(device("/dev/fuse", Some('c'), Some(10), Some(229))),
            "-"
        );
        assert_eq!(code(device("/dev/fifo", Some('p'), None, None)), "-");
        // A `--devN` path without numbers: Proxmox takes them from the host's node.
        assert_eq!(
            code(device("/dev/mem", None, None, None)),
            "security/dangerous-device"
        );
        assert_eq!(
            code(device("/dev/sdb1", Some('c'), None, None)),
            "security/dangerous-device"
        );
        assert_eq!(code(device("/dev/ttyUSB0", None, None, None)), "-");
    }

    #[test]
    fn device_cgroup_rules() {
        assert_eq!(
            code(device_access('a', None, None, "rwm")),
            "security/dangerous-device"
        );
        assert_eq!(
            code(device_access('b', Some(8), Some(0), "r")),
            "security/dangerous-device"
        );
        assert_eq!(
            code(device_access('c', None, None, "rw")),
            "security/dangerous-device"
        );
        assert_eq!(
            code(device_access('c', Some(1), None, "rw")),
            "security/dangerous-device",
            "1:* includes /dev/mem"
        );
        assert_eq!(code(device_access('c', Some(1), Some(3), "rwm")), "-");
        assert_eq!(code(device_access('a', None, None, "m")), "-");
    }

    #[test]
    fn file_systems() {
        for t in [
            "debugfs",
            "securityfs",
            "efivarfs",
            "bpf",
            "tracefs",
            "configfs",
            "pstore",
            "binfmt_misc",
        ] {
            assert_eq!(
                code(filesystem(t, t, Some("/x"))),
                "security/kernel-filesystem",
                "{t}"
            );
        }
        assert_eq!(code(filesystem("proc", "proc", Some("/proc"))), "-");
        assert_eq!(
            code(filesystem("proc", "proc", Some("/host/proc"))),
            "security/kernel-filesystem"
        );
        assert_eq!(
            code(filesystem("proc", "proc", None)),
            "security/kernel-filesystem"
        );
        assert_eq!(
            code(filesystem("ext4", "/dev/sda1", Some("/mnt"))),
            "security/host-block-mount"
        );
        assert_eq!(
            code(filesystem("", "/dev/mapper/pve-root", Some("/mnt"))),
            "security/host-block-mount"
        );
        assert_eq!(
            code(filesystem("xfs", "UUID=1234", Some("/mnt"))),
            "security/host-block-mount"
        );
        assert_eq!(
            code(filesystem(
                "zfs",
                "rpool/data/subvol-101-disk-0",
                Some("/mnt")
            )),
            "security/host-block-mount"
        );
        assert_eq!(
            code(filesystem(
                "ext4",
                "/var/lib/vz/images/100/vm-100-disk-0.raw",
                Some("/mnt")
            )),
            "security/host-block-mount"
        );
        for (t, s) in [
            ("tmpfs", "tmpfs"),
            ("sysfs", "sysfs"),
            ("devpts", "devpts"),
            ("mqueue", "mqueue"),
            ("cgroup2", "cgroup"),
            ("overlay", "overlay"),
            ("tmpfs", "/dev/shm"),
        ] {
            assert_eq!(code(filesystem(t, s, Some("/x"))), "-", "{t} {s}");
        }
    }

    #[test]
    fn proxmox_and_lxc_spellings() {
        assert_eq!(
            code(pve_mount_point("/etc/pve,mp=/x")),
            "security/proxmox-state-mount"
        );
        assert_eq!(
            code(pve_mount_point("mp=/x,volume=/var/lib/vz")),
            "security/proxmox-state-mount"
        );
        assert_eq!(
            code(pve_mount_point("/run/dbus,mp=/x,ro=1")),
            "security/host-socket"
        );
        assert_eq!(code(pve_mount_point("local-lvm:8,mp=/x")), "-");
        assert_eq!(code(pve_mount_point("/srv/data,mp=/x")), "-");
        assert_eq!(code(pve_rootfs("/,size=0T")), "security/host-rootfs");
        assert_eq!(code(pve_rootfs("volume=/etc")), "security/host-rootfs");
        assert_eq!(code(pve_rootfs("local-lvm:vm-100-disk-0,size=8G")), "-");
        assert_eq!(
            code(pve_device("/dev/mem,mode=0666")),
            "security/dangerous-device"
        );
        assert_eq!(
            code(pve_device("path=/dev/sda1")),
            "security/dangerous-device"
        );
        assert_eq!(code(pve_device("/dev/net/tun,mode=0666")), "-");
        assert_eq!(
            code(lxc_mount_entry("/etc/pve pve none rbind,create=dir 0 0")),
            "security/proxmox-state-mount"
        );
        assert_eq!(
            code(lxc_mount_entry(
                "/usr/lib/modules lib/modules none bind,ro 0 0"
            )),
            "security/host-system-mount"
        );
        assert_eq!(
            code(lxc_mount_entry("/srv/my\\040data data none bind 0 0")),
            "-"
        );
        assert_eq!(
            code(lxc_mount_entry("/etc/p\\166e x none bind 0 0")),
            "security/proxmox-state-mount",
            "\\166 is `v`"
        );
        assert_eq!(
            code(lxc_mount_entry("/dev/sda1 mnt ext4 defaults 0 0")),
            "security/host-block-mount"
        );
        assert_eq!(
            code(lxc_mount_entry("proc host-proc proc rw 0 0")),
            "security/kernel-filesystem"
        );
        assert_eq!(
            code(lxc_mount_entry("debugfs sys/kernel/debug debugfs rw 0 0")),
            "security/kernel-filesystem"
        );
        assert_eq!(
            code(lxc_mount_entry("tmpfs tmp tmpfs rw,size=64m 0 0")),
            "-"
        );
        // The translator's read-only /proc entries, and what is not one of them.
        assert_eq!(
            code(lxc_mount_entry(
                "/proc/bus proc/bus none bind,ro,optional 0 0"
            )),
            "-"
        );
        assert_eq!(
            code(lxc_mount_entry("/proc/bus proc/bus none bind,optional 0 0")),
            "security/sensitive-host-mount",
            "writable"
        );
        assert_eq!(
            code(lxc_mount_entry("/proc/bus mnt/bus none bind,ro 0 0")),
            "security/sensitive-host-mount",
            "elsewhere"
        );
        assert_eq!(
            code(lxc_mount_entry(
                "/proc/sysrq-trigger proc/sysrq-trigger none bind,ro 0 0"
            )),
            "security/sensitive-host-mount"
        );
        assert_eq!(
            code(lxc_mount_entry("/etc/pve")),
            "security/host-block-mount",
            "malformed is refused"
        );
        assert_eq!(
            code(lxc_device_allow("c 1:1 rwm")),
            "security/dangerous-device"
        );
        assert_eq!(
            code(lxc_device_allow("b 8:* rw")),
            "security/dangerous-device"
        );
        assert_eq!(code(lxc_device_allow("a")), "security/dangerous-device");
        assert_eq!(
            code(lxc_device_allow("c *:* rwm")),
            "security/dangerous-device"
        );
        assert_eq!(code(lxc_device_allow("c 10:200 rwm")), "-");
        assert_eq!(code(lxc_device_allow("c 10:200 m")), "-");
        assert_eq!(
            code(lxc_device_allow("c x:y rw")),
            "security/dangerous-device",
            "malformed is refused"
        );
        assert_eq!(code(lxc_device_allow("")), "security/dangerous-device");
    }

    #[test]
    fn messages_name_the_path() {
        let f = bind_source("/var/lib")
            .map(|f| f.message)
            .unwrap_or_default();
        assert!(
            f.contains("`/var/lib`") && f.contains("/var/lib/pve-cluster"),
            "{f}"
        );
        assert!(bind_source("/etc/pve/a\nb").is_some_and(|f| f.message.contains("\\n")));
    }
}
