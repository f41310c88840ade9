//! `linux.maskedPaths` and `linux.readonlyPaths`.
//!
//! LXC has no keys for either, but Proxmox accepts `lxc.mount.entry`, and
//! LXC mounts those entries after its `proc:mixed`/`sys:mixed` mounts. So the
//! well-known masked paths (the runc, crun and Docker default lists) are
//! masked as OCI runtimes do it, each entry `optional` so that a path the
//! host kernel lacks is skipped:
//!
//! - a file: `lxc.mount.entry: /dev/null proc/kcore none bind,optional 0 0`
//! - a directory: `lxc.mount.entry: tmpfs proc/acpi tmpfs ro,nosuid,nodev,noexec,optional 0 0`
//!
//! Checked with LXC 5.0.2 on this machine, privileged and unprivileged (id
//! map 0→100000): the container sees an empty `/proc/keys` and a read-only
//! empty `/proc/acpi`, and entries for paths the kernel lacks are skipped.
//! A path not in the table is reported: whether it is a file or a directory
//! decides the entry, and that cannot be known without the host.
//!
//! Read-only paths: `/proc/sys` and `/proc/sysrq-trigger` are already
//! read-only under `proc:mixed`, which Proxmox's LXC config uses. The other
//! paths of the default lists (`/proc/asound`, `/proc/bus`, `/proc/fs`,
//! `/proc/irq`) hold the same in every namespace, so a read-only bind of the
//! host's copy is what the container would see, read-only:
//! `lxc.mount.entry: /proc/bus proc/bus none bind,ro,optional 0 0` (checked
//! with LXC 5.0.2, privileged and unprivileged: mounted `ro`, writes fail
//! with EROFS). Any other path would need a bind of the container's own file
//! onto itself, which `lxc.mount.entry` cannot name (its source is a host
//! path), so it is reported.
//!
//! Both lists are kept as given for OCI back ends.

use crate::ir::{Container, RawKey};
use crate::lower::{keep_for_oci, Cx};
use crate::rules::pve;
use crate::spec::Cursor;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    File,
    Dir,
}

/// Paths OCI runtimes mask by default, and what they are.
pub(crate) const KNOWN_MASKED: &[(&str, Kind)] = &[
    ("/proc/acpi", Kind::Dir),
    ("/proc/asound", Kind::Dir),
    ("/proc/interrupts", Kind::File),
    ("/proc/kcore", Kind::File),
    ("/proc/keys", Kind::File),
    ("/proc/latency_stats", Kind::File),
    ("/proc/sched_debug", Kind::File),
    ("/proc/scsi", Kind::Dir),
    ("/proc/timer_list", Kind::File),
    ("/proc/timer_stats", Kind::File),
    ("/sys/dev/block", Kind::Dir),
    ("/sys/devices/virtual/powercap", Kind::Dir),
    ("/sys/firmware", Kind::Dir),
    ("/sys/fs/selinux", Kind::Dir),
];

/// Read-only already under LXC's `proc:mixed`.
pub(crate) const READONLY_BY_LXC: &[&str] = &["/proc/sys", "/proc/sysrq-trigger"];

/// Read-only paths of the runc/crun/Podman default lists whose contents are
/// the same in every namespace, so the host's /proc has them too.
pub(crate) const GLOBAL_PROC_DIRS: &[&str] = &[
    "/proc/acpi",
    "/proc/asound",
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/scsi",
];

/// The field-table entries (`spec::fields`, marked `Lower`) this module
/// reads; `lower::consumers::every_lowered_field_has_a_module` holds the table to it.
pub(in crate::lower) const CONSUMES: &[&str] = &["/linux/maskedPaths", "/linux/readonlyPaths"];

pub(crate) fn lower(linux: &Cursor<'_>, cx: &mut Cx<'_>, ir: &mut Container) {
    if let Some(list) = linux.get("maskedPaths") {
        masked(&list, cx, ir);
        keep_for_oci(ir, &list);
    }
    if let Some(list) = linux.get("readonlyPaths") {
        readonly(&list, cx, ir);
        keep_for_oci(ir, &list);
    }
}

fn masked(list: &Cursor<'_>, cx: &mut Cx<'_>, ir: &mut Container) {
    for item in list.items() {
        let Some(path) = item.str() else { continue };
        let normal = path.trim_end_matches('/');
        match KNOWN_MASKED.iter().find(|(p, _)| *p == normal) {
            Some((p, Kind::File)) => {
                let line = format!("/dev/null {} none bind,optional 0 0", relative(p));
                ir.mounts
                    .entries
                    .push(RawKey::new("lxc.mount.entry", line, item.ptr()));
            }
            Some((p, Kind::Dir)) => {
                let line = format!(
                    "tmpfs {} tmpfs ro,nosuid,nodev,noexec,optional 0 0",
                    relative(p)
                );
                ir.mounts
                    .entries
                    .push(RawKey::new("lxc.mount.entry", line, item.ptr()));
            }
            None => {
                cx.at(
                    &pve::UNSUPPORTED,
                    &item,
                    format!("`{}` is not masked on Proxmox: only the well-known masked paths are translated, because the `lxc.mount.entry` for a file differs from the one for a directory", path.escape_debug()),
                )
                .with_label("not masked")
                .with_help("mask it in the image, or add an `lxc.mount.entry` by hand");
            }
        }
    }
}

fn readonly(list: &Cursor<'_>, cx: &mut Cx<'_>, ir: &mut Container) {
    for item in list.items() {
        let Some(path) = item.str() else { continue };
        let normal = path.trim_end_matches('/');
        if READONLY_BY_LXC.contains(&normal) {
            continue;
        }
        if GLOBAL_PROC_DIRS.contains(&normal) {
            let line = format!("{normal} {} none bind,ro,optional 0 0", relative(normal));
            ir.mounts
                .entries
                .push(RawKey::new("lxc.mount.entry", line, item.ptr()));
        } else {
            cx.at(
                &pve::UNSUPPORTED,
                &item,
                format!("`{}` is not made read-only on Proxmox: `lxc.mount.entry` binds host paths, and only for a few /proc directories is the host's copy the container's too", path.escape_debug()),
            )
            .with_label("not read-only");
        }
    }
}

fn relative(path: &str) -> &str {
    path.trim_start_matches('/')
}

#[cfg(test)]
mod tests {
    use crate::lower::check;
    use crate::target::Target;

    fn paths(linux: &str) -> (Vec<String>, Vec<String>) {
        let json = format!(
            r#"{{"ociVersion": "1.2.0", "root": {{"path": "rootfs"}}, "linux": {{"namespaces": [{{"type": "user"}}, {{"type": "network"}}, {{"type": "pid"}}, {{"type": "ipc"}}, {{"type": "uts"}}, {{"type": "mount"}}, {{"type": "cgroup"}}]{linux}}}}}"#
        );
        let (ir, codes) = check(&json, &Target::default());
        (
            ir.mounts
                .entries
                .iter()
                .map(|e| format!("{}: {}", e.key, e.value))
                .collect(),
            codes,
        )
    }

    #[test]
    fn runc_defaults_are_masked() {
        let (entries, codes) = paths(
            r#", "maskedPaths": ["/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap"], "readonlyPaths": ["/proc/bus", "/proc/sys", "/proc/sysrq-trigger"]"#,
        );
        assert!(codes.is_empty(), "{codes:?}");
        assert_eq!(
            entries,
            vec![
                "lxc.mount.entry: tmpfs proc/acpi tmpfs ro,nosuid,nodev,noexec,optional 0 0",
                "lxc.mount.entry: /dev/null proc/kcore none bind,optional 0 0",
                "lxc.mount.entry: /dev/null proc/keys none bind,optional 0 0",
                "lxc.mount.entry: /dev/null proc/latency_stats none bind,optional 0 0",
                "lxc.mount.entry: /dev/null proc/timer_list none bind,optional 0 0",
                "lxc.mount.entry: /dev/null proc/timer_stats none bind,optional 0 0",
                "lxc.mount.entry: /dev/null proc/sched_debug none bind,optional 0 0",
                "lxc.mount.entry: tmpfs proc/scsi tmpfs ro,nosuid,nodev,noexec,optional 0 0",
                "lxc.mount.entry: tmpfs sys/firmware tmpfs ro,nosuid,nodev,noexec,optional 0 0",
                "lxc.mount.entry: tmpfs sys/devices/virtual/powercap tmpfs ro,nosuid,nodev,noexec,optional 0 0",
                "lxc.mount.entry: /proc/bus proc/bus none bind,ro,optional 0 0",
            ]
        );
    }

    #[test]
    fn others_are_reported_and_kept_for_oci() {
        let json = r#"{"ociVersion": "1.2.0", "root": {"path": "rootfs"}, "linux": {"maskedPaths": ["/etc/secret", "/proc/kcore"], "readonlyPaths": ["/proc/self/environ", "/data"]}}"#;
        let (ir, codes) = check(json, &Target::default());
        assert_eq!(ir.mounts.entries.len(), 1);
        let codes: Vec<&String> = codes
            .iter()
            .filter(|c| c.contains("/linux/maskedPaths") || c.contains("/linux/readonlyPaths"))
            .collect();
        assert_eq!(
            codes,
            vec![
                "pve/unsupported /linux/maskedPaths/0",
                "pve/unsupported /linux/readonlyPaths/0",
                "pve/unsupported /linux/readonlyPaths/1"
            ]
        );
        let kept: Vec<&str> = ir.oci_only.iter().map(|(p, _)| p.as_str()).collect();
        assert!(
            kept.contains(&"/linux/maskedPaths") && kept.contains(&"/linux/readonlyPaths"),
            "{kept:?}"
        );
    }
}
