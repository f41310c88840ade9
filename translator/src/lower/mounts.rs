//! `mounts` and `root`'s propagation → `mpN` bind mounts, `lxc.mount.entry`
//! lines, or nothing for the mounts LXC provides itself.

use super::Cx;
use crate::diag::Severity;
use crate::ir::mounts::{MountPoint, ProvidedMount};
use crate::ir::{Container, MountTarget, RawKey};
use crate::rules::pve;
use crate::spec::Cursor;
use crate::target::PveContainerVersion as V;

const MAX_MOUNT_POINTS: usize = 256;

/// Mount options Proxmox keeps in `mountoptions` (read-only mounts: the last three only).
const PVE_OPTIONS: &[&str] = &[
    "discard", "lazytime", "noatime", "nodev", "noexec", "nosuid",
];
const PVE_OPTIONS_RO: &[&str] = &["nodev", "noexec", "nosuid"];
/// Options every Proxmox bind mount has anyway.
const IMPLIED_BIND_OPTIONS: &[&str] = &["bind", "rw", "private", "rprivate"];
/// Files Proxmox writes into the container itself (except with ostype `unmanaged`).
const MANAGED_FILES: &[&str] = &["/etc/hosts", "/etc/hostname", "/etc/resolv.conf"];

enum Kind {
    /// Mounted by LXC and Proxmox's includes.
    Provided,
    /// A bind over something LXC provides (rootless engines bind the host's /sys).
    BindOverProvided,
    Bind,
    Entry,
}

/// Where LXC and Proxmox's includes mount file systems of their own.
const PROVIDED_DESTINATIONS: &[&str] = &[
    "/proc",
    "/sys",
    "/dev",
    "/dev/pts",
    "/sys/fs/cgroup",
    "/dev/shm",
    "/dev/mqueue",
];

/// File systems LXC mounts over the rootfs *after* Proxmox's pre-start hook has mounted every
/// `mpN` (`lxc-pve-prestart-hook`): `lxc_setup` in lxc's `src/lxc/conf.c` (lxc e7b855a) runs
/// `mount_autodev` (/dev), then `lxc_mount_auto_mounts` without cgroups (Proxmox's
/// `lxc.mount.auto = proc:mixed sys:mixed cgroup:mixed`: /proc, /sys), then the
/// `lxc.mount.entry` lines, and last the cgroup auto-mount. An `mpN` below one of these
/// is hidden by it; an entry is not, except below the cgroup mount.
const MOUNTED_OVER_MOUNT_POINTS: &[&str] = &["/dev", "/proc", "/sys"];
/// Mounted by LXC after every `lxc.mount.entry` (the last step above).
const MOUNTED_OVER_ENTRIES: &str = "/sys/fs/cgroup";

/// Host directories under /dev that are bound as directories (sound, GPUs, input, USB buses,
/// the `by-*` link folders, …). Any other /dev source is taken to be a device node, bound as a
/// file; the diagnostic says which was assumed, since the translator cannot look at the node.
const DEVICE_DIRECTORIES: &[&str] = &[
    "/dev/block",
    "/dev/bus",
    "/dev/bus/usb",
    "/dev/char",
    "/dev/disk",
    "/dev/disk/by-id",
    "/dev/disk/by-label",
    "/dev/disk/by-path",
    "/dev/disk/by-uuid",
    "/dev/dma_heap",
    "/dev/dri",
    "/dev/dri/by-path",
    "/dev/hugepages",
    "/dev/input",
    "/dev/input/by-id",
    "/dev/input/by-path",
    "/dev/mapper",
    "/dev/mqueue",
    "/dev/net",
    "/dev/pts",
    "/dev/serial",
    "/dev/serial/by-id",
    "/dev/serial/by-path",
    "/dev/shm",
    "/dev/snd",
    "/dev/usb",
    "/dev/v4l",
    "/dev/vfio",
    "/dev/xen",
];

/// The field-table entries (`spec::fields`, marked `Lower`) this module
/// reads; `lower::consumers::every_lowered_field_has_a_module` holds the table to it.
pub(super) const CONSUMES: &[&str] = &[
    "/mounts",
    "/mounts/*/destination",
    "/mounts/*/source",
    "/mounts/*/options",
    "/mounts/*/type",
    // Reported as not translated and kept whole for OCI back ends (`bind`).
    "/mounts/*/uidMappings/**",
    "/mounts/*/gidMappings/**",
    "/linux/rootfsPropagation",
];

pub(crate) fn lower(root: &Cursor<'_>, cx: &mut Cx<'_>, ir: &mut Container) {
    propagation(root, cx, ir);
    let Some(mounts) = root.get("mounts") else {
        return;
    };
    let app = ir.kind == crate::ir::ContainerKind::Application;
    let managed_etc = cx.target.ostype != "unmanaged";
    // Targets of `lxc.mount.entry` lines so far: a later bind below one of
    // them must follow it, and Proxmox mounts every `mpN` before any entry.
    let mut entry_targets: Vec<String> = Vec::new();
    for m in mounts.items() {
        let Some(dest_at) = m.get("destination") else {
            continue;
        };
        let dest = dest_at.str().unwrap_or_default();
        let fs_type = m
            .get("type")
            .and_then(|t| t.str().map(str::to_string))
            .unwrap_or_default();
        let options: Vec<String> = m
            .get("options")
            .map(|o| o.strings().into_iter().map(|s| s.value).collect())
            .unwrap_or_default();
        let is_bind = fs_type == "bind" || options.iter().any(|o| o == "bind" || o == "rbind");
        let target = match MountTarget::new(dest) {
            Ok(t) => t,
            Err(e) => {
                cx.at(
                    &pve::INVALID_PATH,
                    &dest_at,
                    format!(
                        "the mount destination `{}` cannot be used: {e}",
                        dest.escape_debug()
                    ),
                )
                .with_label("invalid destination");
                continue;
            }
        };
        let source = m
            .get("source")
            .and_then(|s| s.str().map(str::to_string))
            .unwrap_or_default();
        let over = MOUNTED_OVER_MOUNT_POINTS
            .iter()
            .find(|d| is_below(target.as_str(), d))
            .copied();
        match classify(
            target.as_str(),
            &fs_type,
            is_bind,
            app,
            cx.pve_at_least(V::APP_DEV_SHM),
        ) {
            Kind::Bind | Kind::Entry if is_below(target.as_str(), MOUNTED_OVER_ENTRIES) => {
                cx.unsupported(ir, &m, &format!("LXC mounts the cgroup file system on {MOUNTED_OVER_ENTRIES} after every other mount, so nothing mounted below it stays visible"));
            }
            Kind::Bind
                if is_below(&source, "/dev") && !MANAGED_FILES.contains(&target.as_str()) =>
            {
                // Proxmox takes any `mpN` volume under /dev/ for a block device and mounts the
                // file system on it (`classify_mountpoint` in src/PVE/LXC/Config.pm,
                // pve-container 94f5585: `return 'device' if $vol =~ m!^/dev/!`), so such a
                // bind is an `lxc.mount.entry` bind, never an `mpN`.
                let create = if DEVICE_DIRECTORIES.contains(&source.trim_end_matches('/')) {
                    "dir"
                } else {
                    "file"
                };
                cx.at(&pve::LOSSY, &m, format!("Proxmox would take an `mpN` from /dev/ for a disk to mount; this bind becomes an `lxc.mount.entry`, assuming {} is a {}", source.escape_debug(), if create == "dir" { "directory" } else { "device node (a file)" }))
                    .with_severity(Severity::Info)
                    .with_label("bound as an entry");
                bind_entry(&m, &target, &options, create, cx, ir);
                entry_targets.push(target.as_str().to_string());
            }
            Kind::Bind if over.is_some() => {
                let over = over.unwrap_or_default();
                cx.at(&pve::LOSSY, &m, format!("LXC mounts {over} after Proxmox's mount points, which would hide an `mpN` here; this bind becomes an `lxc.mount.entry`, mounted after it"))
                    .with_severity(Severity::Info)
                    .with_label("mounted after LXC's own");
                bind_entry(&m, &target, &options, "dir", cx, ir);
                entry_targets.push(target.as_str().to_string());
            }
            Kind::Provided => ir.mounts.provided.push(ProvidedMount {
                destination: dest_at.traced(target.as_str().to_string()),
                fs_type,
            }),
            Kind::BindOverProvided => {
                cx.ignored(
                    ir,
                    &m,
                    &format!(
                        "LXC mounts {} itself; a bind of a host directory there is not made",
                        target.as_str()
                    ),
                );
            }
            Kind::Bind if MANAGED_FILES.contains(&target.as_str()) && managed_etc => {
                cx.ignored(
                    ir,
                    &m,
                    &format!(
                        "Proxmox writes {} into the container itself for ostype `{}`",
                        target.as_str(),
                        cx.target.ostype
                    ),
                );
            }
            Kind::Bind if MANAGED_FILES.contains(&target.as_str()) => {
                // A file: `mpN` mounts directories, so it becomes an entry.
                bind_entry(&m, &target, &options, "file", cx, ir);
                entry_targets.push(target.as_str().to_string());
            }
            Kind::Bind if entry_targets.iter().any(|t| is_below(target.as_str(), t)) => {
                cx.at(&pve::LOSSY, &m, "this bind lies below an earlier tmpfs or other mount; it becomes an `lxc.mount.entry` (not `mpN`) so it is mounted after it, as the bundle orders it")
                    .with_severity(Severity::Info)
                    .with_label("mounted after its parent");
                bind_entry(&m, &target, &options, "dir", cx, ir);
                entry_targets.push(target.as_str().to_string());
            }
            Kind::Bind if cx.target.bind_files.contains(&source) => {
                cx.at(&pve::LOSSY, &m, format!("{} is a file on the node (the target's `bind-files`), and Proxmox starts no bind mount point of a file; it is bound as an `lxc.mount.entry` with create=file", source.escape_debug()))
                    .with_severity(Severity::Info)
                    .with_label("bound as an entry");
                bind_entry(&m, &target, &options, "file", cx, ir);
                entry_targets.push(target.as_str().to_string());
            }
            Kind::Bind => {
                let before = ir.mounts.points.len();
                bind(&m, target, &options, cx, ir);
                if ir.mounts.points.len() > before {
                    // The translator never looks at the node: say what the `mpN` assumes.
                    cx.at(&pve::NEEDS_HOST, &m, format!("{} is taken for a directory on the node: Proxmox starts no bind mount point of a file (`create` checks; name files in the target's `bind-files`)", source.escape_debug()))
                        .with_label("taken for a directory");
                }
            }
            Kind::Entry => {
                entry(&m, &target, &fs_type, &options, cx, ir);
                entry_targets.push(target.as_str().to_string());
            }
        }
    }
    if ir.mounts.points.len() > MAX_MOUNT_POINTS {
        cx.at(
            &pve::TOO_MANY,
            &mounts,
            format!(
                "{} bind mounts; Proxmox has mount points mp0–mp255 only",
                ir.mounts.points.len()
            ),
        )
        .with_label("too many mount points");
        ir.mounts.points.truncate(MAX_MOUNT_POINTS);
    }
}

fn classify(dest: &str, fs_type: &str, is_bind: bool, app: bool, pve_has_app_shm: bool) -> Kind {
    // An application container has no init to mount /dev/shm or /dev/mqueue, LXC mounts
    // neither, and Proxmox adds its own /dev/shm tmpfs only from 6.1.10 (and only for a custom
    // entrypoint): there, nothing else provides them, so the bundle's mount is made.
    let nobody_mounts =
        |d: &str| app && (d == "/dev/mqueue" || (d == "/dev/shm" && !pve_has_app_shm));
    if is_bind {
        return if PROVIDED_DESTINATIONS.contains(&dest) && !nobody_mounts(dest) {
            Kind::BindOverProvided
        } else {
            Kind::Bind
        };
    }
    match (dest, fs_type) {
        ("/proc", "proc") | ("/sys", "sysfs") | ("/dev", "tmpfs") | ("/dev/pts", "devpts") => {
            Kind::Provided
        }
        ("/sys/fs/cgroup", "cgroup" | "cgroup2") => Kind::Provided,
        // An init system mounts these; an application container has none, and
        // Proxmox adds /dev/shm for applications only from 6.1.10.
        ("/dev/shm", "tmpfs" | "shm") if !app || pve_has_app_shm => Kind::Provided,
        ("/dev/mqueue", "mqueue") if !app => Kind::Provided,
        _ => Kind::Entry,
    }
}

fn bind(
    m: &Cursor<'_>,
    target: MountTarget,
    options: &[String],
    cx: &mut Cx<'_>,
    ir: &mut Container,
) {
    let Some(src_at) = m.get("source") else {
        cx.at(&pve::INVALID_PATH, m, "a bind mount needs a `source`")
            .with_label("no source");
        return;
    };
    let src = src_at.str().unwrap_or_default();
    let source = match crate::ir::types::check_abs_path(src, &[',', '=', ';']) {
        Ok(s) => s,
        Err(e) => {
            cx.at(
                &pve::INVALID_PATH,
                &src_at,
                format!(
                    "the bind mount source `{}` cannot be used: {e}",
                    src.escape_debug()
                ),
            )
            .with_label("invalid source");
            return;
        }
    };
    let readonly = options.iter().any(|o| o == "ro");
    let allowed = if readonly {
        PVE_OPTIONS_RO
    } else {
        PVE_OPTIONS
    };
    let mut kept = Vec::new();
    for opt in options {
        if opt == "ro" || IMPLIED_BIND_OPTIONS.contains(&opt.as_str()) {
            continue;
        }
        if allowed.contains(&opt.as_str()) {
            if !kept.contains(opt) {
                kept.push(opt.clone());
            }
        } else if opt == "rbind" {
            cx.at(
                &pve::MOUNT_OPTION,
                m,
                "`rbind`: Proxmox bind-mounts the source without the mounts below it",
            )
            .with_label("not recursive on Proxmox");
        } else {
            cx.at(
                &pve::MOUNT_OPTION,
                m,
                format!(
                    "the mount option `{}` has no Proxmox mount point equivalent and is dropped",
                    opt.escape_debug()
                ),
            )
            .with_label("option dropped");
        }
    }
    kept.sort();
    for maps in ["uidMappings", "gidMappings"] {
        if let Some(at) = m.get(maps) {
            cx.at(&pve::UNSUPPORTED, &at, "id-mapped bind mounts are not translated yet; Proxmox's per-mount `idmap=` (pve-container 6.1.6) has different semantics for the default map")
                .with_severity(Severity::Warning);
            super::keep_for_oci(ir, &at);
        }
    }
    ir.mounts.points.push(MountPoint {
        source: src_at.traced(source),
        target: m.traced(target),
        readonly,
        options: kept,
    });
}

fn is_below(path: &str, parent: &str) -> bool {
    parent == "/"
        || path
            .strip_prefix(parent)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// A bind mount written as `lxc.mount.entry` (`create=file` or `create=dir`).
fn bind_entry(
    m: &Cursor<'_>,
    target: &MountTarget,
    options: &[String],
    create: &str,
    cx: &mut Cx<'_>,
    ir: &mut Container,
) {
    let Some(src_at) = m.get("source") else {
        cx.at(&pve::INVALID_PATH, m, "a bind mount needs a `source`")
            .with_label("no source");
        return;
    };
    let src = src_at.str().unwrap_or_default();
    let source = match crate::ir::types::check_abs_path(src, &[' ', '\t', '#']) {
        Ok(s) => s,
        Err(e) => {
            cx.at(
                &pve::INVALID_PATH,
                &src_at,
                format!(
                    "the bind mount source `{}` cannot be used: {e}",
                    src.escape_debug()
                ),
            )
            .with_label("invalid source");
            return;
        }
    };
    let mut opts = vec![if options.iter().any(|o| o == "rbind") {
        "rbind"
    } else {
        "bind"
    }
    .to_string()];
    for o in options {
        if matches!(
            o.as_str(),
            "ro" | "nosuid"
                | "nodev"
                | "noexec"
                | "noatime"
                | "relatime"
                | "nodiratime"
                | "strictatime"
        ) {
            if !opts.contains(o) {
                opts.push(o.clone());
            }
        } else if !matches!(o.as_str(), "bind" | "rbind" | "rw" | "private" | "rprivate") {
            cx.at(
                &pve::MOUNT_OPTION,
                m,
                format!("the mount option `{}` is dropped", o.escape_debug()),
            )
            .with_label("option dropped");
        }
    }
    opts.push(format!("create={create}"));
    let relative = target.as_str().trim_start_matches('/');
    ir.mounts.entries.push(RawKey::new(
        "lxc.mount.entry",
        format!("{source} {relative} none {} 0 0", opts.join(",")),
        m.ptr(),
    ));
}

fn entry(
    m: &Cursor<'_>,
    target: &MountTarget,
    fs_type: &str,
    options: &[String],
    cx: &mut Cx<'_>,
    ir: &mut Container,
) {
    let fs_type = if fs_type.is_empty() { "none" } else { fs_type };
    let source = m
        .get("source")
        .and_then(|s| s.str().map(str::to_string))
        .unwrap_or_else(|| fs_type.to_string());
    let fstab_safe = |s: &str| {
        !s.is_empty()
            && crate::ir::types::unsafe_char(s).is_none()
            && !s.chars().any(|c| c.is_whitespace() || c == '#')
    };
    if !fstab_safe(&source) || !fstab_safe(fs_type) {
        cx.at(&pve::INVALID_PATH, m, "a mount's source and type must not contain white space, `#` or control characters in an `lxc.mount.entry` line")
            .with_label("cannot be an fstab field");
        return;
    }
    let mut opts: Vec<String> = Vec::new();
    for o in options {
        if !fstab_safe(o) || o.contains(',') {
            cx.at(
                &pve::MOUNT_OPTION,
                m,
                format!(
                    "the mount option `{}` cannot be written in an fstab line",
                    o.escape_debug()
                ),
            );
            continue;
        }
        opts.push(o.clone());
    }
    // The mount point may not exist in an application image.
    opts.push("create=dir".into());
    let relative = target.as_str().trim_start_matches('/');
    let line = format!("{source} {relative} {fs_type} {} 0 0", opts.join(","));
    ir.mounts
        .entries
        .push(RawKey::new("lxc.mount.entry", line, m.ptr()));
}

fn propagation(root: &Cursor<'_>, cx: &mut Cx<'_>, ir: &mut Container) {
    let Some(at) = root.path(&["linux", "rootfsPropagation"]) else {
        return;
    };
    match at.str() {
        Some("private" | "rprivate") => {}
        _ => cx.unsupported(
            ir,
            &at,
            "Proxmox mounts the root file system privately and refuses `lxc.rootfs.options`",
        ),
    }
}

#[cfg(test)]
mod tests {
    use crate::lower::{check, pve_conf};
    use crate::target::Target;

    fn with_mounts(mounts: &str, args: &str) -> String {
        format!(
            r#"{{"ociVersion": "1.2.0", "root": {{"path": "rootfs"}}, "process": {{"cwd": "/", "args": [{args}]}}, "mounts": [{mounts}], "linux": {{"namespaces": [{{"type": "user"}}, {{"type": "network"}}]}}}}"#
        )
    }

    const DEFAULTS: &str = r#"{"destination": "/proc", "type": "proc", "source": "proc"},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
        {"destination": "/dev/pts", "type": "devpts", "source": "devpts"},
        {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
        {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup"},
        {"destination": "/dev/shm", "type": "tmpfs", "source": "shm"},
        {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue"}"#;

    #[test]
    fn default_mounts_are_not_mount_points() {
        let (ir, codes) = check(
            &with_mounts(DEFAULTS, r#""/sbin/init""#),
            &Target::default(),
        );
        assert!(
            ir.mounts.points.is_empty() && ir.mounts.entries.is_empty(),
            "{:?}",
            ir.mounts
        );
        assert_eq!(ir.mounts.provided.len(), 7);
        assert!(codes.is_empty(), "{codes:?}");
    }

    #[test]
    fn applications_get_mqueue_and_shm_on_older_nodes() {
        let target = Target::default()
            .with_pve_release("9.1")
            .unwrap_or_default();
        let conf = pve_conf(&with_mounts(DEFAULTS, r#""/app""#), &target);
        assert!(conf.contains("lxc.mount.entry: shm dev/shm tmpfs create=dir 0 0\nlxc.mount.entry: mqueue dev/mqueue mqueue create=dir 0 0\n"), "{conf}");
    }

    /// Proxmox classifies an `mpN` volume under /dev/ as a device: such binds are entries.
    #[test]
    fn binds_from_dev_are_entries_not_mount_points() {
        let json = with_mounts(
            r#"{"destination": "/dev/snd", "source": "/dev/snd", "options": ["rbind"]}, {"destination": "/dev/net/tun", "source": "/dev/net/tun", "options": ["bind"]}, {"destination": "/gpu", "source": "/dev/dri/", "options": ["bind"]}"#,
            r#""/app""#,
        );
        let conf = pve_conf(&json, &Target::default());
        assert!(!conf.contains("mp0"), "{conf}");
        assert!(
            conf.contains(
                "lxc.mount.entry: /dev/snd dev/snd none rbind,create=dir 0 0
lxc.mount.entry: /dev/net/tun dev/net/tun none bind,create=file 0 0
lxc.mount.entry: /dev/dri gpu none bind,create=dir 0 0
"
            ),
            "{conf}"
        );
    }

    /// LXC mounts /dev, /proc and /sys after the pre-start hook's `mpN`, and the cgroup file
    /// system after every entry.
    #[test]
    fn binds_below_what_lxc_mounts_later() {
        let json = with_mounts(
            r#"{"destination": "/proc/sys/fs/binfmt_misc", "source": "/srv/b", "options": ["bind"]}, {"destination": "/sys/fs/cgroup/x", "source": "/srv/c", "options": ["bind"]}, {"destination": "/sys/fs/cgroup/y", "type": "tmpfs", "source": "tmpfs"}"#,
            r#""/app""#,
        );
        let conf = pve_conf(&json, &Target::default());
        assert!(!conf.contains("mp0") && !conf.contains("cgroup/"), "{conf}");
        assert!(
            conf.contains(
                "lxc.mount.entry: /srv/b proc/sys/fs/binfmt_misc none bind,create=dir 0 0
"
            ),
            "{conf}"
        );
        let (_, codes) = check(&json, &Target::default());
        assert_eq!(
            codes,
            vec!["pve/unsupported /mounts/1", "pve/unsupported /mounts/2"]
        );
    }

    /// Before 6.1.10 nothing mounts /dev/shm in an application container: podman's shm bind
    /// is made, not dropped; a system container's init mounts its own.
    #[test]
    fn shm_binds_for_applications_on_older_nodes() {
        let shm = r#"{"destination": "/dev/shm", "source": "/var/lib/containers/storage/overlay-containers/c/userdata/shm", "options": ["bind", "rprivate", "nosuid", "noexec", "nodev"]}"#;
        let old = Target::default()
            .with_pve_release("9.1")
            .unwrap_or_default();
        let conf = pve_conf(&with_mounts(shm, r#""/app""#), &old);
        assert!(conf.contains("lxc.mount.entry: /var/lib/containers/storage/overlay-containers/c/userdata/shm dev/shm none bind,nosuid,noexec,nodev,create=dir 0 0
"), "{conf}");
        for (target, args) in [(Target::default(), r#""/app""#), (old, r#""/sbin/init""#)] {
            let (ir, codes) = check(&with_mounts(shm, args), &target);
            assert!(
                ir.mounts.entries.is_empty() && ir.mounts.points.is_empty(),
                "{args}: {:?}",
                ir.mounts
            );
            assert!(codes.is_empty(), "{args}: {codes:?}");
        }
    }

    #[test]
    fn bind_mounts_with_options() {
        let json = with_mounts(
            r#"{"destination": "/data", "source": "/srv/data", "type": "bind", "options": ["rbind", "ro", "nosuid", "noatime", "nodev"]},
            {"destination": "/cache", "source": "/srv/cache", "options": ["bind", "noatime", "sync"]}"#,
            r#""/app""#,
        );
        let conf = pve_conf(&json, &Target::default());
        assert!(conf.contains("mp0: /srv/data,mp=/data,mountoptions=nodev;nosuid,ro=1\nmp1: /srv/cache,mp=/cache,mountoptions=noatime\n"), "{conf}");
        let (_, codes) = check(&json, &Target::default());
        assert_eq!(
            codes,
            vec![
                "pve/mount-option /mounts/0",
                "pve/mount-option /mounts/0",
                "pve/mount-option /mounts/1"
            ]
        );
    }

    #[test]
    fn tmpfs_elsewhere_is_a_mount_entry() {
        let conf = pve_conf(
            &with_mounts(
                r#"{"destination": "/run", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "size=64m"]}"#,
                r#""/app""#,
            ),
            &Target::default(),
        );
        assert!(
            conf.contains("lxc.mount.entry: tmpfs run tmpfs nosuid,size=64m,create=dir 0 0\n"),
            "{conf}"
        );
    }

    #[test]
    fn bad_paths_are_refused() {
        let json = with_mounts(
            r#"{"destination": "data", "source": "/srv", "options": ["bind"]}, {"destination": "/x", "source": "/srv/../etc", "options": ["bind"]}, {"destination": "/y", "source": "rel", "options": ["bind"]}"#,
            r#""/app""#,
        );
        let (_, codes) = check(&json, &Target::default());
        assert_eq!(
            codes,
            vec![
                "pve/invalid-path /mounts/0/destination",
                "pve/invalid-path /mounts/1/source",
                "pve/invalid-path /mounts/2/source"
            ]
        );
    }

    #[test]
    fn binds_keep_their_order_below_earlier_mounts() {
        let json = with_mounts(
            r#"{"destination": "/run", "type": "tmpfs", "source": "tmpfs"}, {"destination": "/run/secrets", "source": "/srv/secrets", "options": ["rbind", "ro"]}, {"destination": "/data", "source": "/srv/data", "options": ["bind"]}"#,
            r#""/app""#,
        );
        let conf = pve_conf(&json, &Target::default());
        assert!(conf.contains("mp0: /srv/data,mp=/data\n"), "{conf}");
        assert!(conf.contains("lxc.mount.entry: tmpfs run tmpfs create=dir 0 0\nlxc.mount.entry: /srv/secrets run/secrets none rbind,ro,create=dir 0 0\n"), "{conf}");
    }

    #[test]
    fn etc_files_are_binds_only_where_proxmox_does_not_write_them() {
        let json = with_mounts(
            r#"{"destination": "/etc/resolv.conf", "source": "/var/lib/engine/resolv.conf", "options": ["bind", "ro"]}"#,
            r#""/app""#,
        );
        assert!(pve_conf(&json, &Target::default()).contains("lxc.mount.entry: /var/lib/engine/resolv.conf etc/resolv.conf none bind,ro,create=file 0 0\n"));
        let debian = Target {
            ostype: "debian".into(),
            ..Target::default()
        };
        let (ir, _) = check(&json, &debian);
        assert!(ir.mounts.entries.is_empty() && ir.mounts.points.is_empty());
    }

    #[test]
    fn binds_over_provided_mounts_are_not_made() {
        let (ir, codes) = check(
            &with_mounts(
                r#"{"destination": "/sys", "source": "/sys", "options": ["rbind", "ro"]}, {"destination": "/dev/shm", "source": "/var/lib/x/shm", "options": ["bind"]}"#,
                r#""/app""#,
            ),
            &Target::default(),
        );
        assert!(
            ir.mounts.points.is_empty() && ir.mounts.entries.is_empty(),
            "{:?}",
            ir.mounts
        );
        assert!(codes.is_empty(), "{codes:?}");
    }

    #[test]
    fn more_than_256_mount_points_is_an_error() {
        let mounts: Vec<String> = (0..257)
            .map(|i| {
                format!(r#"{{"destination": "/m{i}", "source": "/srv/{i}", "options": ["bind"]}}"#)
            })
            .collect();
        let (_, codes) = check(
            &with_mounts(&mounts.join(","), r#""/app""#),
            &Target::default(),
        );
        assert_eq!(codes, vec!["pve/too-many /mounts"]);
    }
}
