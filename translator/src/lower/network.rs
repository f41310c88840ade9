//! The network namespace and `linux.netDevices` → `netN` or the host's network.

use super::Cx;
use crate::diag::Severity;
use crate::ir::network::{NetIf, Network};
use crate::ir::{Container, ContainerKind};
use crate::rules::{pve, security};
use crate::spec::Cursor;
use crate::target::{NetworkDefault, PveContainerVersion};

const MAX_NET: usize = 32;

/// The field-table entries (`spec::fields`, marked `Lower`) this module
/// reads; `lower::consumers::every_lowered_field_has_a_module` holds the table to it.
pub(super) const CONSUMES: &[&str] = &[
    "/linux/namespaces",
    "/linux/namespaces/*/type",
    "/linux/namespaces/*/path",
    "/linux/netDevices",
    "/linux/netDevices/*/name",
];

pub(crate) fn lower(root: &Cursor<'_>, cx: &mut Cx<'_>, ir: &mut Container) {
    let linux = root.get("linux");
    let namespaces = linux.as_ref().and_then(|l| l.get("namespaces"));
    let net_ns = namespaces.as_ref().and_then(|list| {
        list.items()
            .find(|ns| ns.get("type").and_then(|t| t.str()) == Some("network"))
    });
    let listed = namespaces.is_some();
    match &net_ns {
        None if listed => {
            if let Some(list) = &namespaces {
                if ir.ids.unprivileged {
                    // LXC cannot mount sysfs for a user namespace that does not
                    // own the network namespace (lxc/lxc#2463): it never starts.
                    cx.at(&pve::UNSUPPORTED, list, "an unprivileged container cannot share the host's network: LXC fails to mount /sys in it")
                        .with_severity(Severity::Error)
                        .with_help("add {\"type\": \"network\"} to give it its own interface on the target's bridge")
                        .with_label("no `network` entry");
                } else {
                    cx.at(&security::HOST_NAMESPACE, list, "no network namespace: the container will use the host's network (`lxc.net.0.type: none`)")
                        .with_help("add {\"type\": \"network\"} to give it its own interface on the target's bridge")
                        .with_label("no `network` entry");
                    ir.network = Network::Host {
                        from: list.ptr().clone(),
                    };
                }
            }
            if let Some(devs) = linux.as_ref().and_then(|l| l.get("netDevices")) {
                cx.at(
                    &pve::INVALID_VALUE,
                    &devs,
                    "`netDevices` needs a network namespace to move the devices into",
                )
                .with_label("no network namespace");
            }
            return;
        }
        Some(ns) if ns.get("path").is_some() => {
            // Engines such as podman hand over a namespace they set up
            // (/run/netns/…); on Proxmox the container gets its own instead.
            if let Some(path) = ns.get("path") {
                let instead = match cx.target.network {
                    NetworkDefault::Bridge => format!("its own interface on bridge `{}`", cx.target.bridge),
                    NetworkDefault::Loopback => "a network namespace of its own with only `lo` (the target's `network: loopback`)".to_string(),
                };
                cx.at(&pve::LOSSY, &path, format!("Proxmox cannot join an existing network namespace; the container gets {instead} instead"))
                    .with_label("not joined");
                super::keep_for_oci(ir, &path);
            }
        }
        _ => {}
    }
    let devices = linux.as_ref().and_then(|l| l.get("netDevices"));
    if devices.is_none() && cx.target.network == NetworkDefault::Loopback {
        // What OCI means by a new network namespace: `lo` only, so no `netN` at all.
        ir.network = Network::Isolated(Vec::new());
        return;
    }
    if let (None, Some(ns)) = (&devices, &net_ns) {
        if ns.get("path").is_none() {
            // OCI gives a new namespace only `lo`; a Proxmox container is reached through a
            // bridge, so the default target adds one, and says so (issue: podman's
            // `--network none` asked for no network and would silently get one).
            cx.at(&pve::LOSSY, ns, format!("a new network namespace has only `lo` in OCI; on Proxmox the container gets `eth0` on bridge `{}` with DHCP (the target's `network: bridge`; `network: loopback` keeps only `lo`)", cx.target.bridge))
                .with_severity(Severity::Info)
                .with_label("given eth0");
        }
    }
    let app = ir.kind == ContainerKind::Application;
    let host_managed = app && cx.pve_at_least(PveContainerVersion::APP_CONTAINERS);
    if app && !host_managed {
        if let Some(args) = root.path(&["process", "args"]) {
            cx.too_old(&args, "host-managed", PveContainerVersion::APP_CONTAINERS, "nothing configures the application's network (an application image runs no DHCP client), so it gets no address", Severity::Warning);
        }
    }
    let bridge = cx.target.bridge.clone();
    let mut ifs = Vec::new();
    match devices {
        Some(devs) => {
            let entries = devs.entries();
            if entries.len() > MAX_NET {
                cx.at(
                    &pve::TOO_MANY,
                    &devs,
                    format!(
                        "{} network devices; Proxmox allows at most {MAX_NET} (net0–net31)",
                        entries.len()
                    ),
                );
            }
            for (host_name, _, dev) in entries.into_iter().take(MAX_NET) {
                let name_cursor = dev.get("name");
                let name = name_cursor
                    .as_ref()
                    .and_then(|n| n.str())
                    .unwrap_or(host_name);
                let at = name_cursor.clone().unwrap_or_else(|| dev.clone());
                if !valid_ifname(name) {
                    cx.at(
                        &pve::INVALID_VALUE,
                        &at,
                        format!(
                            "`{}` is not a valid interface name (1–15 of A-Z a-z 0-9 - _ .)",
                            name.escape_debug()
                        ),
                    )
                    .with_label("invalid interface name");
                    continue;
                }
                if ifs.iter().any(|i: &NetIf| i.name.value == name) {
                    cx.at(
                        &pve::INVALID_VALUE,
                        &at,
                        format!("two network devices are named `{name}` in the container"),
                    );
                    continue;
                }
                cx.lossy(&dev, format!("Proxmox cannot move the host device `{host_name}` into the container; it gets a veth interface `{name}` on bridge `{bridge}` instead"));
                ifs.push(NetIf {
                    name: at.traced(name.to_string()),
                    bridge: bridge.clone(),
                    ip: "dhcp".into(),
                    host_managed,
                });
            }
        }
        None => ifs.push(NetIf {
            name: crate::source::Traced::synthetic("eth0".into()),
            bridge,
            ip: "dhcp".into(),
            host_managed,
        }),
    }
    ir.network = Network::Isolated(ifs);
}

fn valid_ifname(name: &str) -> bool {
    (1..=15).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

#[cfg(test)]
mod tests {
    use crate::lower::{check, pve_conf};
    use crate::target::Target;

    fn config(namespaces: &str, extra: &str) -> String {
        format!(
            r#"{{"ociVersion": "1.3.0", "root": {{"path": "rootfs"}}, "process": {{"cwd": "/", "args": ["/app"]}}, "linux": {{"namespaces": [{namespaces}]{extra}}}}}"#
        )
    }

    #[test]
    fn application_gets_host_managed_dhcp_on_the_bridge() {
        let conf = pve_conf(
            &config(r#"{"type": "user"}, {"type": "network"}"#, ""),
            &Target::default(),
        );
        assert!(
            conf.contains("net0: name=eth0,bridge=vmbr0,host-managed=1,ip=dhcp,type=veth\n"),
            "{conf}"
        );
    }

    #[test]
    fn older_pve_has_no_host_managed() {
        let target = Target::default()
            .with_pve_release("9.0")
            .unwrap_or_default();
        let conf = pve_conf(
            &config(r#"{"type": "user"}, {"type": "network"}"#, ""),
            &target,
        );
        assert!(
            conf.contains("net0: name=eth0,bridge=vmbr0,ip=dhcp,type=veth\n"),
            "{conf}"
        );
    }

    #[test]
    fn no_network_namespace_shares_the_host_network() {
        let json = config(r#"{"type": "pid"}"#, "");
        let (_, codes) = check(&json, &Target::default());
        assert!(
            codes.contains(&"security/host-namespace /linux/namespaces".to_string()),
            "{codes:?}"
        );
        let conf = pve_conf(&json, &Target::default());
        assert!(
            conf.contains("lxc.net.0.type: none\n") && !conf.contains("net0:"),
            "{conf}"
        );
    }

    #[test]
    fn unprivileged_containers_cannot_share_the_host_network() {
        let json = config(r#"{"type": "user"}"#, "");
        let t = crate::oci_to_ir("t", json.as_bytes(), &Target::default());
        assert!(t.has_errors());
        assert_eq!(
            t.diagnostics
                .iter()
                .filter(|d| d.is_error())
                .map(|d| d.code())
                .collect::<Vec<_>>(),
            vec!["pve/unsupported"]
        );
    }

    #[test]
    fn a_namespace_path_from_an_engine_becomes_an_own_network() {
        let json = config(
            r#"{"type": "user"}, {"type": "network", "path": "/run/netns/cni-1234"}"#,
            "",
        );
        let (_, codes) = check(&json, &Target::default());
        assert_eq!(codes, vec!["pve/lossy /linux/namespaces/1/path"]);
        assert!(pve_conf(&json, &Target::default())
            .contains("net0: name=eth0,bridge=vmbr0,host-managed=1,ip=dhcp,type=veth\n"));
    }

    #[test]
    fn applications_on_old_nodes_are_warned_about_dhcp() {
        let target = Target::default()
            .with_pve_release("9.0")
            .unwrap_or_default();
        let (_, codes) = check(
            &config(r#"{"type": "user"}, {"type": "network"}"#, ""),
            &target,
        );
        assert_eq!(codes, vec!["pve/version /process/args"]);
    }

    #[test]
    fn the_added_interface_is_said() {
        let json = config(r#"{"type": "user"}, {"type": "network"}"#, "");
        let t = crate::oci_to_ir("t", json.as_bytes(), &Target::default());
        let at_ns = |d: &&crate::diag::Diagnostic| {
            d.pointer
                .as_ref()
                .is_some_and(|p| p.as_str() == "/linux/namespaces/1")
        };
        let said: Vec<_> = t
            .diagnostics
            .iter()
            .filter(at_ns)
            .map(|d| (d.code(), d.severity))
            .collect();
        assert_eq!(said, vec![("pve/lossy", crate::diag::Severity::Info)]);
    }

    #[test]
    fn a_loopback_target_keeps_only_lo() {
        let target = Target::from_json(r#"{"network": "loopback"}"#).unwrap_or_default();
        assert_eq!(target.network, crate::target::NetworkDefault::Loopback);
        let json = config(r#"{"type": "user"}, {"type": "network"}"#, "");
        let t = crate::oci_to_ir("t", json.as_bytes(), &target);
        let about_net = t
            .diagnostics
            .iter()
            .filter(|d| {
                d.pointer
                    .as_ref()
                    .is_some_and(|p| p.as_str().starts_with("/linux/namespaces/1"))
            })
            .count();
        assert_eq!(
            about_net, 0,
            "nothing to say: the container has what the bundle asked for"
        );
        let conf = pve_conf(&json, &target);
        assert!(
            !conf.contains("net0:") && !conf.contains("lxc.net"),
            "{conf}"
        );
        // An engine's namespace is still reported as not joined, with what is given instead.
        let json = config(
            r#"{"type": "user"}, {"type": "network", "path": "/run/netns/x"}"#,
            "",
        );
        let (_, codes) = check(&json, &target);
        assert_eq!(codes, vec!["pve/lossy /linux/namespaces/1/path"]);
        assert!(!pve_conf(&json, &target).contains("net0:"));
        // Devices the bundle names still get interfaces.
        let json = config(
            r#"{"type": "user"}, {"type": "network"}"#,
            r#", "netDevices": {"eth9": {}}"#,
        );
        assert!(pve_conf(&json, &target).contains("net0: name=eth9,"));
    }

    #[test]
    fn net_devices_become_veths_with_a_lossy_note() {
        let json = config(
            r#"{"type": "user"}, {"type": "network"}"#,
            r#", "netDevices": {"enp5s0": {"name": "data0"}, "eth9": {}}"#,
        );
        let (_, codes) = check(&json, &Target::default());
        assert!(
            codes.contains(&"pve/lossy /linux/netDevices/enp5s0".to_string()),
            "{codes:?}"
        );
        let conf = pve_conf(&json, &Target::default());
        assert!(
            conf.contains(
                "net0: name=data0,bridge=vmbr0,host-managed=1,ip=dhcp,type=veth\nnet1: name=eth9,"
            ),
            "{conf}"
        );
    }

    #[test]
    fn bad_interface_names_are_refused() {
        let json = config(
            r#"{"type": "user"}, {"type": "network"}"#,
            r#", "netDevices": {"x": {"name": "a,bridge=evil"}}"#,
        );
        let (_, codes) = check(&json, &Target::default());
        assert!(
            codes.contains(&"pve/invalid-value /linux/netDevices/x/name".to_string()),
            "{codes:?}"
        );
    }
}
