//! `security/…`: configurations that weaken the container's isolation.

use crate::diag::Diagnostic;
use crate::host::{self, HostFinding};
use crate::linux::CapabilitySet;
use crate::rules::security::{
    APPARMOR_UNCONFINED, CAP_SYS_ADMIN, DANGEROUS_CAPABILITY, DANGEROUS_DEVICE, HOST_BLOCK_MOUNT,
    NEW_PRIVILEGES, NO_SECCOMP, OCI_HOOKS, ROOTFS_OUTSIDE_BUNDLE, WRITABLE_PROC_SYS,
};
use crate::spec::{Cursor, Spec};
use crate::target::{RootfsTarget, Target};

/// The set a capability's finding is placed at when several sets hold it:
/// the bounding set first (it limits every other), then the sets the
/// process holds now (effective, permitted), then those it passes on.
const FINDING_SET_ORDER: [CapabilitySet; 5] = [
    CapabilitySet::Bounding,
    CapabilitySet::Effective,
    CapabilitySet::Permitted,
    CapabilitySet::Inheritable,
    CapabilitySet::Ambient,
];

/// Capabilities that act beyond the container, with what they allow; also judged in a plan's
/// `lxc.cap.keep` (executor/src/apply/validate.rs).
pub const DANGEROUS_CAPABILITIES: &[(&str, &str)] = &[
    ("CAP_SYS_MODULE", "load and unload kernel modules"),
    ("CAP_SYS_RAWIO", "raw I/O port and memory access"),
    (
        "CAP_SYS_PTRACE",
        "trace and read the memory of other processes",
    ),
    ("CAP_SYS_BOOT", "reboot the node or load a new kernel"),
    ("CAP_SYS_TIME", "set the host's clock"),
    (
        "CAP_NET_ADMIN",
        "configure interfaces, routes and firewall rules",
    ),
    (
        "CAP_DAC_READ_SEARCH",
        "open any file by handle, bypassing the mount namespace",
    ),
    ("CAP_MAC_ADMIN", "change the AppArmor or SELinux policy"),
    ("CAP_MAC_OVERRIDE", "bypass the AppArmor or SELinux policy"),
    ("CAP_BPF", "load BPF programs into the kernel"),
    ("CAP_PERFMON", "use perf events on the host kernel"),
    ("CAP_SYSLOG", "read the kernel log and kernel addresses"),
    ("CAP_AUDIT_CONTROL", "change the host's audit rules"),
];

/// Findings of the rules above in a validated spec, for a target (which
/// says where a host-path rootfs is).
pub(crate) fn check(spec: &Spec, target: &Target) -> Vec<Diagnostic> {
    let root = spec.cursor();
    let mut out = Vec::new();
    if let Some(process) = root.get("process") {
        capabilities(&process, &mut out);
        apparmor(&process, &mut out);
        new_privileges(&process, &mut out);
    }
    seccomp(&root, &mut out);
    rootfs(&root, target, &mut out);
    mounts(&root, &mut out);
    devices(&root, &mut out);
    hooks(&root, &mut out);
    out
}

fn capabilities(process: &Cursor<'_>, out: &mut Vec<Diagnostic>) {
    let Some(caps) = process.get("capabilities") else {
        return;
    };
    // One finding per capability, at its first set; the other sets are labelled.
    let mut found: Vec<(&str, Vec<(&str, Cursor<'_>)>)> = Vec::new();
    for set in FINDING_SET_ORDER.map(CapabilitySet::key) {
        for item in caps.get(set).map(|s| s.items()).unwrap_or_default() {
            let Some(name) = item.str() else { continue };
            match found.iter_mut().find(|(n, _)| *n == name) {
                Some((_, places)) => places.push((set, item)),
                None => found.push((name, vec![(set, item)])),
            }
        }
    }
    for (name, places) in &found {
        let (rule, why) = if *name == "CAP_SYS_ADMIN" {
            (
                &CAP_SYS_ADMIN,
                "mount file systems and use much of the kernel's administrative interface",
            )
        } else if let Some((_, why)) = DANGEROUS_CAPABILITIES.iter().find(|(c, _)| c == name) {
            (&DANGEROUS_CAPABILITY, *why)
        } else {
            continue;
        };
        let Some(((first_set, first), rest)) = places.split_first() else {
            continue;
        };
        let mut d = Diagnostic::new(rule, format!("the process keeps {name}: it can {why}"))
            .at(first.ptr(), first.span())
            .with_label(format!("in the {first_set} set"))
            .with_help(format!(
                "remove {name} from every capability set unless the workload cannot run without it"
            ));
        for (set, item) in rest {
            d = d.with_related(item.span(), format!("also in the {set} set"));
        }
        out.push(d);
    }
}

fn apparmor(process: &Cursor<'_>, out: &mut Vec<Diagnostic>) {
    let Some(at) = process.get("apparmorProfile") else {
        return;
    };
    if at.str() == Some("unconfined") {
        out.push(
            Diagnostic::new(
                &APPARMOR_UNCONFINED,
                "the process runs unconfined by AppArmor",
            )
            .at(at.ptr(), at.span())
            .with_label("no AppArmor profile")
            .with_help("leave `apparmorProfile` out so Proxmox's generated profile applies"),
        );
    }
}

fn new_privileges(process: &Cursor<'_>, out: &mut Vec<Diagnostic>) {
    let Some(uid_at) = process.path(&["user", "uid"]) else {
        return;
    };
    let Some(uid) = uid_at.u32().filter(|u| *u != 0) else {
        return;
    };
    let nnp = process.get("noNewPrivileges");
    if nnp.as_ref().and_then(Cursor::bool) == Some(true) {
        return;
    }
    let at = nnp.unwrap_or(uid_at);
    out.push(
        Diagnostic::new(&NEW_PRIVILEGES, format!("the process runs as uid {uid} without `noNewPrivileges`: setuid programs in the image can make it root again"))
            .at(at.ptr(), at.span())
            .with_label("no_new_privs is off")
            .with_help("set \"noNewPrivileges\": true in `process`"),
    );
}

fn seccomp(root: &Cursor<'_>, out: &mut Vec<Diagnostic>) {
    let linux = root.get("linux");
    let Some(policy) = linux.as_ref().and_then(|l| l.get("seccomp")) else {
        let mut d = Diagnostic::new(&NO_SECCOMP, "the config has no seccomp policy: every system call of the host kernel is reachable")
            .with_help("add a `linux.seccomp` policy; on Proxmox LXC's default deny list applies, on crun none");
        if let Some(l) = &linux {
            d = d.at(l.ptr(), l.span()).with_label("no `seccomp`");
        }
        out.push(d);
        return;
    };
    let permissive =
        |action: Option<&str>| matches!(action, Some("SCMP_ACT_ALLOW" | "SCMP_ACT_LOG"));
    let Some(default) = policy.get("defaultAction") else {
        return;
    };
    if !permissive(default.str()) {
        return;
    }
    let refuses_something = policy
        .get("syscalls")
        .map(|s| s.items())
        .unwrap_or_default()
        .iter()
        .any(|rule| !permissive(rule.get("action").and_then(|a| a.str())));
    if !refuses_something {
        out.push(
            Diagnostic::new(&NO_SECCOMP, "the seccomp policy allows every system call")
                .at(default.ptr(), default.span())
                .with_label("allows everything")
                .with_help("use a default action that refuses (SCMP_ACT_ERRNO) and allow the system calls the workload needs"),
        );
    }
}

fn located(f: HostFinding, at: &Cursor<'_>, label: &str) -> Diagnostic {
    f.diagnostic().at(at.ptr(), at.span()).with_label(label)
}

/// `root.path` as the host sees it: absolute as written, or (host-path
/// rootfs) joined to the bundle directory, which is then used in place.
fn rootfs(root: &Cursor<'_>, target: &Target, out: &mut Vec<Diagnostic>) {
    let Some(at) = root.path(&["root", "path"]) else {
        return;
    };
    let Some(path) = at.str() else { return };
    let host_path = if path.starts_with('/') {
        Some(path.to_string())
    } else if target.rootfs == RootfsTarget::HostPath {
        target
            .bundle_dir
            .as_ref()
            .map(|dir| format!("{}/{path}", dir.trim_end_matches('/')))
    } else {
        None
    };
    let Some(host_path) = host_path else { return };
    if let Some(f) = host::rootfs_path(&host_path) {
        out.push(
            located(f, &at, "host directory as rootfs")
                .with_help("use a directory made for the container, inside the bundle"),
        );
    } else if path.starts_with('/') {
        let f = HostFinding {
            rule: &ROOTFS_OUTSIDE_BUNDLE,
            message: format!(
                "the root file system `{}` is outside the bundle",
                path.escape_debug()
            ),
        };
        out.push(located(f, &at, "outside the bundle").with_help(
            "put the rootfs into the bundle, or name it with `create --rootfs-outside-bundle`",
        ));
    }
}

fn mounts(root: &Cursor<'_>, out: &mut Vec<Diagnostic>) {
    let proc_sys_protected = {
        let linux = root.get("linux");
        let listed = |key: &str| {
            linux
                .as_ref()
                .and_then(|l| l.get(key))
                .map(|l| l.strings())
                .unwrap_or_default()
                .iter()
                .any(|p| {
                    crate::path::normalize(&p.value)
                        .is_some_and(|p| p == "/proc" || p == "/proc/sys")
                })
        };
        listed("readonlyPaths") || listed("maskedPaths")
    };
    let mut proc_at_proc = false;
    for m in root.get("mounts").map(|m| m.items()).unwrap_or_default() {
        let fs_type = m
            .get("type")
            .and_then(|t| t.str().map(str::to_string))
            .unwrap_or_default();
        let options: Vec<String> = m
            .get("options")
            .map(|o| o.strings().into_iter().map(|s| s.value).collect())
            .unwrap_or_default();
        let has = |o: &str| options.iter().any(|x| x == o);
        let readonly = has("ro") || has("rro");
        let is_bind = host::is_bind(&fs_type, &options);
        let dest = m
            .get("destination")
            .and_then(|d| d.str().map(str::to_string))
            .unwrap_or_default();
        let source_at = m.get("source");
        let source = source_at
            .as_ref()
            .and_then(|s| s.str().map(str::to_string))
            .unwrap_or_default();
        if !is_bind {
            if !readonly {
                let writable = match fs_type.as_str() {
                    "sysfs" => Some("sysfs is mounted writable"),
                    "proc" if !proc_sys_protected => Some(
                        "procfs is mounted writable and /proc/sys is neither read-only nor masked",
                    ),
                    _ => None,
                };
                if let Some(what) = writable {
                    out.push(
                        Diagnostic::new(&WRITABLE_PROC_SYS, format!("{what} at `{}`", dest.escape_debug()))
                            .at(m.ptr(), m.span())
                            .with_label("writable")
                            .with_help(if fs_type == "sysfs" { "add \"ro\" to the mount's options" } else { "add \"/proc/sys\" to linux.readonlyPaths, or \"ro\" to the mount's options" }),
                    );
                }
            }
            // The first procfs at /proc is the container's own; any other is a second one.
            let first_proc = fs_type == "proc"
                && !proc_at_proc
                && crate::path::normalize(&dest).as_deref() == Some("/proc");
            proc_at_proc |= first_proc;
            let destination = if fs_type == "proc"
                && !first_proc
                && crate::path::normalize(&dest).as_deref() == Some("/proc")
            {
                None
            } else {
                Some(dest.as_str())
            };
            if let Some(f) = host::filesystem(&fs_type, &source, destination) {
                let at = if f.rule == &HOST_BLOCK_MOUNT {
                    source_at.as_ref().unwrap_or(&m)
                } else {
                    &m
                };
                out.push(located(f, at, "host kernel or disk").with_help(
                    "give the container a Proxmox mount point or a bind of the directory it needs",
                ));
            }
            if fs_type == "overlay" {
                overlay_layers(&m, out);
            }
            continue;
        }
        let Some(source_at) = source_at else { continue };
        if let Some(f) = host::bind_source(&source) {
            let label = if f.rule == &DANGEROUS_DEVICE {
                "host device"
            } else {
                "sensitive host path"
            };
            let how = if readonly { "read-only" } else { "writable" };
            let f = HostFinding {
                message: format!("{} (bind-mounted {how})", f.message),
                ..f
            };
            out.push(
                located(f, &source_at, label)
                    .with_help("mount only the directory the workload needs"),
            );
        }
    }
}

/// An overlay's layers are host directories the container sees or writes: each is judged like
/// the source of a bind ([`host::overlay_layers`]), at the option that names it.
fn overlay_layers(m: &Cursor<'_>, out: &mut Vec<Diagnostic>) {
    let items: Vec<Cursor<'_>> = m
        .get("options")
        .map(|o| o.items().collect())
        .unwrap_or_default();
    let options: Vec<String> = items
        .iter()
        .map(|o| o.str().unwrap_or_default().to_string())
        .collect();
    for (i, f) in host::overlay_layers(&options) {
        if let Some(opt) = items.get(i) {
            out.push(
                located(f, opt, "sensitive host path")
                    .with_help("build the overlay from directories made for this container"),
            );
        }
    }
}

fn kind_char(kind: &str) -> Option<char> {
    let mut chars = kind.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => Some(c),
        _ => None,
    }
}

fn devices(root: &Cursor<'_>, out: &mut Vec<Diagnostic>) {
    let linux = root.get("linux");
    for dev in linux
        .as_ref()
        .and_then(|l| l.get("devices"))
        .map(|d| d.items())
        .unwrap_or_default()
    {
        let kind = dev
            .get("type")
            .and_then(|t| t.str().map(str::to_string))
            .unwrap_or_default();
        let path = dev
            .get("path")
            .and_then(|p| p.str().map(str::to_string))
            .unwrap_or_default();
        let major = dev.get("major").and_then(|m| m.i64());
        let minor = dev.get("minor").and_then(|m| m.i64());
        // A node is what its type and numbers say; without a type the runtime-spec entry is invalid.
        let Some(kind) = kind_char(&kind) else {
            continue;
        };
        if let Some(f) = host::device(&path, Some(kind), major, minor) {
            out.push(located(f, &dev, "host device"));
        }
    }
    let rules = linux
        .as_ref()
        .and_then(|l| l.path(&["resources", "devices"]))
        .map(|d| d.items())
        .unwrap_or_default();
    for rule in rules {
        if rule.get("allow").and_then(|a| a.bool()) != Some(true) {
            continue;
        }
        let access = rule
            .get("access")
            .and_then(|a| a.str().map(str::to_string))
            .unwrap_or_else(|| "rwm".into());
        let kind = rule
            .get("type")
            .and_then(|t| t.str().map(str::to_string))
            .unwrap_or_else(|| "a".into());
        let major = rule.get("major").and_then(|m| m.i64()).filter(|m| *m >= 0);
        let minor = rule.get("minor").and_then(|m| m.i64()).filter(|m| *m >= 0);
        let Some(kind) = kind_char(&kind) else {
            continue;
        };
        if let Some(f) = host::device_access(kind, major, minor, &access) {
            out.push(
                located(f, &rule, "allowed").with_help(
                    "allow only the devices the workload needs, by type, major and minor",
                ),
            );
        }
    }
}

fn hooks(root: &Cursor<'_>, out: &mut Vec<Diagnostic>) {
    for (phase, _, list) in root.get("hooks").map(|h| h.entries()).unwrap_or_default() {
        for hook in list.items() {
            let path = hook
                .get("path")
                .and_then(|p| p.str().map(str::to_string))
                .unwrap_or_default();
            out.push(
                Diagnostic::new(&OCI_HOOKS, format!("the `{}` hook runs `{}` as root on the node", phase.escape_debug(), path.escape_debug()))
                    .at(hook.ptr(), hook.span())
                    .with_label("runs on the host")
                    .with_help("do the work in the container's entrypoint; on Proxmox hooks are dropped, with crun the node policy refuses them"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::{
        BLOCK_DEVICE_PREFIXES, DANGEROUS_CHAR_DEVICES, DISK_FILESYSTEMS, KERNEL_FILESYSTEMS,
        PROXMOX_TREES, RUNTIME_TREES, SENSITIVE_EXACT, SENSITIVE_TREES, SYSTEM_TREES,
    };
    use crate::rules::security::{
        HOST_SOCKET, HOST_SYSTEM_MOUNT, KERNEL_FILESYSTEM, PROXMOX_STATE_MOUNT,
        SENSITIVE_HOST_MOUNT,
    };
    use crate::rules::Rule;

    /// The backticked names of the "What it does" paragraph.
    fn named(rule: &Rule) -> Vec<String> {
        let what = rule.explanation.split("\n\n").next().unwrap_or_default();
        what.split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect()
    }

    /// `explain` promises the exact list of paths; it must follow the lists the checks use.
    #[test]
    fn explanations_name_every_path_they_check() {
        let sensitive = named(&SENSITIVE_HOST_MOUNT);
        let listed: Vec<&str> = SENSITIVE_EXACT
            .iter()
            .chain(SENSITIVE_TREES)
            .copied()
            .collect();
        assert_eq!(
            sensitive
                .iter()
                .take(listed.len())
                .map(String::as_str)
                .collect::<Vec<_>>(),
            listed
        );
        let proxmox: Vec<&str> = PROXMOX_TREES.iter().map(|(t, _)| *t).collect();
        assert_eq!(
            named(&PROXMOX_STATE_MOUNT)
                .iter()
                .take(proxmox.len())
                .map(String::as_str)
                .collect::<Vec<_>>(),
            proxmox
        );
        let system = named(&HOST_SYSTEM_MOUNT);
        assert!(
            SYSTEM_TREES.iter().all(|t| system.iter().any(|n| n == t)),
            "{system:?}"
        );
        assert_eq!(
            system
                .iter()
                .filter(|n| !["/usr/local", "/lib/modules"].contains(&n.as_str()))
                .count(),
            SYSTEM_TREES.len()
        );
        let sockets = named(&HOST_SOCKET);
        assert!(RUNTIME_TREES.iter().all(|t| sockets.iter().any(|n| n == t)));
        let kernel = named(&KERNEL_FILESYSTEM);
        assert!(KERNEL_FILESYSTEMS
            .iter()
            .all(|(t, _)| kernel.iter().any(|n| n == t)));
        let disks = named(&HOST_BLOCK_MOUNT);
        assert!(
            DISK_FILESYSTEMS
                .iter()
                .all(|t| disks.iter().any(|n| n == t)),
            "{disks:?}"
        );
        let devices = named(&DANGEROUS_DEVICE);
        assert!(
            DANGEROUS_CHAR_DEVICES
                .iter()
                .all(|(_, _, d)| devices.iter().any(|n| n == d)),
            "{devices:?}"
        );
        assert!(!BLOCK_DEVICE_PREFIXES.is_empty());
    }

    fn codes(json: &str, target: &Target) -> Vec<String> {
        let mut diags = Vec::new();
        let (_, spec) = crate::spec::parse("t.json", json.as_bytes(), &mut diags);
        let Some(spec) = spec else {
            return vec![format!("unparsed {diags:?}")];
        };
        check(&spec, target)
            .iter()
            .map(|d| {
                format!(
                    "{} {}",
                    d.code(),
                    d.pointer.as_ref().map(|p| p.as_str()).unwrap_or("-")
                )
            })
            .collect()
    }

    fn with_mounts(mounts: &str) -> String {
        format!(
            r#"{{"ociVersion": "1.2.0", "root": {{"path": "rootfs"}}, "mounts": [{mounts}], "linux": {{"namespaces": [{{"type": "user"}}], "seccomp": {{"defaultAction": "SCMP_ACT_ERRNO"}}}}}}"#
        )
    }

    #[test]
    fn binds_the_issue_lists() {
        let t = Target::default();
        for (source, code) in [
            ("/var/lib/pve-cluster", "security/proxmox-state-mount"),
            ("/etc/pve", "security/proxmox-state-mount"),
            ("/run/pve", "security/proxmox-state-mount"),
            ("/var/lib/vz", "security/proxmox-state-mount"),
            ("/etc/cron.d", "security/host-system-mount"),
            ("/usr/local/bin", "security/host-system-mount"),
            ("/lib/modules", "security/host-system-mount"),
            ("/run/systemd/private", "security/host-socket"),
            ("/run/dbus/system_bus_socket", "security/host-socket"),
            ("/var/run/docker.sock", "security/host-socket"),
            ("/", "security/sensitive-host-mount"),
            ("/dev/mem", "security/dangerous-device"),
        ] {
            let json = with_mounts(&format!(
                r#"{{"destination": "/x", "source": "{source}", "options": ["rbind", "ro"]}}"#
            ));
            assert_eq!(
                codes(&json, &t),
                vec![format!("{code} /mounts/0/source")],
                "{source}"
            );
        }
    }

    #[test]
    fn other_mounts_the_issue_lists() {
        let t = Target::default();
        for (mount, code, at) in [
            (
                r#"{"destination": "/mnt", "type": "ext4", "source": "/dev/sda1"}"#,
                "security/host-block-mount",
                "/mounts/0/source",
            ),
            (
                r#"{"destination": "/d", "type": "debugfs", "source": "debugfs"}"#,
                "security/kernel-filesystem",
                "/mounts/0",
            ),
            (
                r#"{"destination": "/s", "type": "securityfs", "source": "securityfs"}"#,
                "security/kernel-filesystem",
                "/mounts/0",
            ),
            (
                r#"{"destination": "/e", "type": "efivarfs", "source": "efivarfs"}"#,
                "security/kernel-filesystem",
                "/mounts/0",
            ),
            (
                r#"{"destination": "/b", "type": "bpf", "source": "bpf"}"#,
                "security/kernel-filesystem",
                "/mounts/0",
            ),
            (
                r#"{"destination": "/t", "type": "tracefs", "source": "tracefs"}"#,
                "security/kernel-filesystem",
                "/mounts/0",
            ),
            (
                r#"{"destination": "/c", "type": "configfs", "source": "configfs"}"#,
                "security/kernel-filesystem",
                "/mounts/0",
            ),
            (
                r#"{"destination": "/host-proc", "type": "proc", "source": "proc", "options": ["ro"]}"#,
                "security/kernel-filesystem",
                "/mounts/0",
            ),
        ] {
            assert_eq!(
                codes(&with_mounts(mount), &t),
                vec![format!("{code} {at}")],
                "{mount}"
            );
        }
        let two = with_mounts(
            r#"{"destination": "/proc", "type": "proc", "source": "proc", "options": ["ro"]}, {"destination": "/proc", "type": "proc", "source": "proc", "options": ["ro"]}"#,
        );
        assert_eq!(
            codes(&two, &t),
            vec!["security/kernel-filesystem /mounts/1"]
        );
    }

    #[test]
    fn overlay_layers_are_judged_like_bind_sources() {
        let t = Target::default();
        let overlay = |opts: &str| {
            with_mounts(&format!(
                r#"{{"destination": "/o", "type": "overlay", "source": "overlay", "options": [{opts}]}}"#
            ))
        };
        assert_eq!(
            codes(
                &overlay(r#""lowerdir=/srv/l1:/etc/pve", "upperdir=/srv/u", "workdir=/srv/w""#),
                &t
            ),
            vec!["security/proxmox-state-mount /mounts/0/options/0"]
        );
        assert_eq!(
            codes(
                &overlay(r#""lowerdir=/srv/a", "upperdir=/usr/lib", "workdir=/srv/w""#),
                &t
            ),
            vec!["security/host-system-mount /mounts/0/options/1"]
        );
        assert_eq!(
            codes(&overlay(r#""lowerdir+=/", "upperdir=/srv/u""#), &t),
            vec!["security/sensitive-host-mount /mounts/0/options/0"]
        );
        // `\:` is part of a name, not a separator.
        assert_eq!(
            codes(&overlay(r#""lowerdir=/srv/a\\:/etc/pve""#), &t),
            Vec::<String>::new()
        );
        assert_eq!(
            codes(
                &overlay(r#""lowerdir=/srv/a:/srv/b", "upperdir=/srv/u", "workdir=/srv/w""#),
                &t
            ),
            Vec::<String>::new()
        );
    }

    #[test]
    fn root_paths() {
        let t = Target::default();
        let root = |p: &str| {
            format!(
                r#"{{"ociVersion": "1.2.0", "root": {{"path": "{p}"}}, "linux": {{"namespaces": [{{"type": "user"}}], "seccomp": {{"defaultAction": "SCMP_ACT_ERRNO"}}}}}}"#
            )
        };
        assert_eq!(
            codes(&root("/"), &t),
            vec!["security/host-rootfs /root/path"]
        );
        assert_eq!(
            codes(&root("/etc"), &t),
            vec!["security/host-rootfs /root/path"]
        );
        assert_eq!(
            codes(&root("/srv/images/web"), &t),
            vec!["security/rootfs-outside-bundle /root/path"]
        );
        assert_eq!(codes(&root("rootfs"), &t), Vec::<String>::new());
        let host_path = Target {
            rootfs: RootfsTarget::HostPath,
            bundle_dir: Some("/".into()),
            ..Target::default()
        };
        assert_eq!(
            codes(&root("usr"), &host_path),
            vec!["security/host-rootfs /root/path"]
        );
        let fine = Target {
            bundle_dir: Some("/srv/bundles/web".into()),
            ..host_path
        };
        assert_eq!(codes(&root("rootfs"), &fine), Vec::<String>::new());
    }

    #[test]
    fn every_hook_is_reported() {
        let json = r#"{"ociVersion": "1.2.0", "root": {"path": "rootfs"}, "hooks": {"prestart": [{"path": "/bin/a"}, {"path": "/bin/b"}], "poststop": [{"path": "/bin/c"}]}, "linux": {"namespaces": [{"type": "user"}], "seccomp": {"defaultAction": "SCMP_ACT_ERRNO"}}}"#;
        assert_eq!(
            codes(json, &Target::default()),
            vec![
                "security/oci-hooks /hooks/prestart/0",
                "security/oci-hooks /hooks/prestart/1",
                "security/oci-hooks /hooks/poststop/0"
            ]
        );
    }
}
