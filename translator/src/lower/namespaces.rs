//! Namespaces and id maps → `unprivileged`, `lxc.idmap`.
//!
//! Proxmox always gives a container its own mount, pid, ipc, uts and cgroup
//! namespaces; the user namespace is the `unprivileged` switch, and the
//! network namespace is lowered in `network`.

use super::Cx;
use crate::diag::{Diagnostic, Severity};
use crate::ir::ids::IdMap;
use crate::ir::Container;
use crate::rules::{pve, security};
use crate::spec::Cursor;

/// Proxmox's hard-coded map for unprivileged containers.
pub(crate) const DEFAULT_MAP: IdMap = IdMap {
    container: 0,
    host: 100_000,
    size: 65_536,
};

/// The field-table entries (`spec::fields`, marked `Lower`) this module
/// reads; `lower::consumers::every_lowered_field_has_a_module` holds the table to it.
pub(super) const CONSUMES: &[&str] = &[
    "/linux/uidMappings",
    "/linux/uidMappings/*/containerID",
    "/linux/uidMappings/*/hostID",
    "/linux/uidMappings/*/size",
    "/linux/gidMappings",
    "/linux/gidMappings/*/containerID",
    "/linux/gidMappings/*/hostID",
    "/linux/gidMappings/*/size",
    "/linux/namespaces",
    "/linux/namespaces/*/type",
    "/linux/namespaces/*/path",
];

pub(crate) fn lower(root: &Cursor<'_>, cx: &mut Cx<'_>, ir: &mut Container) {
    let linux = root.get("linux");
    let namespaces = linux.as_ref().and_then(|l| l.get("namespaces"));
    let Some(namespaces) = namespaces else {
        // No list at all: under the OCI spec the container would share every
        // namespace with the runtime; Proxmox always isolates it.
        if let Some(linux) = &linux {
            cx.at(&pve::LOSSY, linux, "no namespaces are listed, so under the OCI spec the container would share all of the host's; on Proxmox it gets its own (network included)")
                .with_label("no `namespaces`");
        }
        ir.ids.unprivileged = cx.target.unprivileged_default;
        if !ir.ids.unprivileged {
            cx.report(Diagnostic::new(
                &security::PRIVILEGED,
                "the config lists no namespaces and the target's default is a privileged container",
            ));
        }
        lower_maps(linux.as_ref(), false, cx, ir);
        return;
    };
    let items: Vec<_> = namespaces.items().collect();
    let mut seen: Vec<&str> = Vec::new();
    for ns in &items {
        let Some(kind) = ns.get("type").and_then(|t| t.str()) else {
            continue;
        };
        if seen.contains(&kind) {
            cx.at(
                &pve::INVALID_VALUE,
                ns,
                format!("the `{kind}` namespace is listed twice"),
            )
            .with_label("duplicate");
            continue;
        }
        seen.push(kind);
        if let Some(path) = ns.get("path") {
            match kind {
                // The network namespace is lowered (and reported) in `network`.
                "network" => {}
                _ => {
                    cx.at(&pve::UNSUPPORTED, &path, format!("joining an existing {kind} namespace is not possible on Proxmox; the container gets a new one"))
                        .with_severity(Severity::Error)
                        .with_label("cannot join");
                    super::keep_for_oci(ir, &path);
                }
            }
        }
        if kind == "time" {
            cx.unsupported(ir, ns, "Proxmox does not create time namespaces (the `lxc.time.offset.*` keys are not on its allow-list)");
        }
    }
    let has = |k: &str| seen.contains(&k);
    ir.ids.unprivileged = has("user");
    if !has("user") {
        cx.at(&security::PRIVILEGED, &namespaces, "no user namespace: the container will be privileged (`unprivileged: 0`)")
            .with_help("add {\"type\": \"user\"}; without id mappings Proxmox maps container ids 0–65535 to host ids 100000–165535")
            .with_label("no `user` entry");
    }
    let missing: Vec<&str> = ["pid", "ipc", "uts", "mount", "cgroup"]
        .into_iter()
        .filter(|k| !has(k))
        .collect();
    if !missing.is_empty() {
        let list = missing
            .iter()
            .map(|k| format!("`{k}`"))
            .collect::<Vec<_>>()
            .join(", ");
        cx.at(
            &pve::LOSSY,
            &namespaces,
            format!("no {list} namespace is listed, but every Proxmox container gets its own"),
        )
        .with_severity(Severity::Info)
        .with_label(format!("no {list} entry"));
    }
    lower_maps(linux.as_ref(), has("user"), cx, ir);
}

fn lower_maps(linux: Option<&Cursor<'_>>, user_ns: bool, cx: &mut Cx<'_>, ir: &mut Container) {
    let Some(linux) = linux else { return };
    let uid = linux.get("uidMappings");
    let gid = linux.get("gidMappings");
    if !user_ns {
        for maps in [&uid, &gid].into_iter().flatten() {
            if !maps.items().is_empty() {
                cx.at(&pve::INVALID_VALUE, maps, "id mappings are only meaningful with a user namespace, and this config has none")
                    .with_help("add {\"type\": \"user\"} to linux.namespaces, or remove the mappings")
                    .with_label("without a user namespace");
            }
        }
        return;
    }
    let read = |maps: &Option<Cursor<'_>>, cx: &mut Cx<'_>| -> Vec<crate::source::Traced<IdMap>> {
        let mut out = Vec::new();
        for m in maps.iter().flat_map(Cursor::items) {
            let (Some(c), Some(h), Some(s)) = (
                m.get("containerID").and_then(|v| v.u32()),
                m.get("hostID").and_then(|v| v.u32()),
                m.get("size").and_then(|v| v.u32()),
            ) else {
                continue;
            };
            if u64::from(c) + u64::from(s) > 1 << 32
                || u64::from(h) + u64::from(s) > 1 << 32
                || s == 0
            {
                cx.at(
                    &pve::OUT_OF_RANGE,
                    &m,
                    format!("the mapping {c} → {h} of size {s} does not fit in 32-bit ids"),
                );
                continue;
            }
            out.push(m.traced(IdMap {
                container: c,
                host: h,
                size: s,
            }));
        }
        out
    };
    let uid_map = read(&uid, cx);
    let gid_map = read(&gid, cx);
    let is_default = |m: &[crate::source::Traced<IdMap>]| {
        m.is_empty() || (m.len() == 1 && m.first().is_some_and(|x| x.value == DEFAULT_MAP))
    };
    if is_default(&uid_map) && is_default(&gid_map) {
        return;
    }
    for (maps, cursor, what) in [(&uid_map, &uid, "uid"), (&gid_map, &gid, "gid")] {
        let maps_root = maps.iter().any(|m| m.value.container == 0);
        if !maps_root {
            if let Some(c) = cursor {
                cx.at(&pve::INVALID_VALUE, c, format!("the {what} mappings do not map container id 0; LXC cannot start such a container"))
                    .with_label("no mapping for id 0");
            }
        }
    }
    // Proxmox adds its default map only when the config has no `lxc.idmap`
    // at all, so a custom map for one kind needs the default for the other.
    let fill = |m: Vec<crate::source::Traced<IdMap>>| {
        if m.is_empty() {
            vec![crate::source::Traced::synthetic(DEFAULT_MAP)]
        } else {
            m
        }
    };
    ir.ids.uid_map = fill(uid_map);
    ir.ids.gid_map = fill(gid_map);
    if let Some(c) = uid.as_ref().or(gid.as_ref()) {
        cx.at(&pve::LOSSY, c, "custom id mappings become `lxc.idmap` lines; the Proxmox node needs matching `root:` ranges in /etc/subuid and /etc/subgid")
            .with_severity(Severity::Info)
            .with_label("custom id map");
    }
}

#[cfg(test)]
mod tests {
    use crate::lower::check;
    use crate::target::Target;

    const HEAD: &str = r#""ociVersion": "1.2.0", "root": {"path": "rootfs"}"#;

    #[test]
    fn user_namespace_means_unprivileged_with_default_map() {
        let (ir, codes) = check(
            &format!(
                r#"{{{HEAD}, "linux": {{"namespaces": [{{"type": "user"}}, {{"type": "pid"}}, {{"type": "network"}}, {{"type": "ipc"}}, {{"type": "uts"}}, {{"type": "mount"}}, {{"type": "cgroup"}}]}}}}"#
            ),
            &Target::default(),
        );
        assert!(ir.ids.unprivileged);
        assert!(ir.ids.uid_map.is_empty() && ir.ids.gid_map.is_empty());
        assert!(codes.is_empty(), "{codes:?}");
    }

    #[test]
    fn no_user_namespace_is_privileged_and_reported() {
        let (ir, codes) = check(
            &format!(
                r#"{{{HEAD}, "linux": {{"namespaces": [{{"type": "pid"}}, {{"type": "network"}}, {{"type": "ipc"}}, {{"type": "uts"}}, {{"type": "mount"}}, {{"type": "cgroup"}}]}}}}"#
            ),
            &Target::default(),
        );
        assert!(!ir.ids.unprivileged);
        assert_eq!(codes, vec!["security/privileged /linux/namespaces"]);
    }

    #[test]
    fn custom_map_fills_the_other_kind_with_the_default() {
        let json = format!(
            r#"{{{HEAD}, "linux": {{"namespaces": [{{"type": "user"}}, {{"type": "network"}}], "uidMappings": [{{"containerID": 0, "hostID": 200000, "size": 65536}}]}}}}"#
        );
        let (ir, codes) = check(&json, &Target::default());
        assert_eq!(ir.ids.uid_map.len(), 1);
        assert_eq!(
            ir.ids.gid_map.first().map(|m| m.value),
            Some(super::DEFAULT_MAP)
        );
        assert!(codes.is_empty(), "{codes:?}");
        let conf = crate::lower::pve_conf(&json, &Target::default());
        assert!(
            conf.contains("lxc.idmap: u 0 200000 65536\nlxc.idmap: g 0 100000 65536\n"),
            "{conf}"
        );
    }

    #[test]
    fn mappings_without_user_namespace_are_refused() {
        let (_, codes) = check(
            &format!(
                r#"{{{HEAD}, "linux": {{"namespaces": [{{"type": "network"}}], "uidMappings": [{{"containerID": 0, "hostID": 1, "size": 1}}]}}}}"#
            ),
            &Target::default(),
        );
        assert!(
            codes.contains(&"pve/invalid-value /linux/uidMappings".to_string()),
            "{codes:?}"
        );
    }

    #[test]
    fn joining_a_namespace_by_path_is_an_error() {
        let (_, codes) = check(
            &format!(
                r#"{{{HEAD}, "linux": {{"namespaces": [{{"type": "user"}}, {{"type": "network"}}, {{"type": "pid", "path": "/proc/1/ns/pid"}}]}}}}"#
            ),
            &Target::default(),
        );
        assert!(
            codes.contains(&"pve/unsupported /linux/namespaces/2/path".to_string()),
            "{codes:?}"
        );
    }
}
