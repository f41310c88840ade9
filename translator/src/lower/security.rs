//! Capabilities, LSM labels, no_new_privs, seccomp, sysctls, masked and
//! read-only paths, personality → `lxc.cap.keep`, `lxc.apparmor.profile`,
//! `lxc.selinux.context`, a seccomp policy file, `lxc.mount.entry` and `arch`.
//!
//! Decisions (each one checked against LXC 5.0.2 here, LXC's sources, or
//! pve-container's `LXC.pm`):
//!
//! - **Capabilities** become `lxc.cap.keep` = the bounding set; see
//!   [`capabilities`]. The pct.conf writer must put an empty `lxc.cap.drop:`
//!   before it: LXC refuses `lxc.cap.keep` while LXC's common.conf has
//!   `lxc.cap.drop` entries ("Keeping and dropping capabilities are mutually
//!   exclusive"), and an empty value clears that list.
//! - **AppArmor**: the profile is written as given, unless it is one that
//!   Docker or Podman generate and load themselves (`docker-default`,
//!   `containers-default-*`): it does not exist on a Proxmox node, where
//!   LXC would fail to start the container, so Proxmox's own generated
//!   profile is kept instead. Any other profile must be loaded on the node.
//! - **SELinux**: written as given; Proxmox nodes run AppArmor, and LXC uses
//!   the label only where SELinux is enabled.
//! - **noNewPrivileges**: Proxmox drops `lxc.no_new_privs`, so `true` is
//!   reported and kept for OCI back ends; `false` is LXC's default.
//! - **Seccomp**: see [`seccomp`].
//! - **Sysctls**: none is written. Proxmox accepts `lxc.sysctl.*` only for
//!   the exact keys of its allow-list (a hash lookup, not a prefix: so
//!   `lxc.sysctl.fs.mqueue.msg_max` is dropped, and the listed
//!   `lxc.sysctl.fs.mqueue` names a directory, not a sysctl). And for the IPC
//!   keys it does accept, LXC writes the value through the container's
//!   `/proc/sys` after mounting it read-only (`proc:mixed`, from LXC's
//!   common.conf, which every Proxmox container includes): LXC 5.0.2 then
//!   fails to start the container ("Read-only file system - Failed to setup
//!   sysctl parameters"), and LXC 6's `lxc_setup` does the same in the same
//!   order. So IPC keys get `pve/sysctl-read-only`, the rest
//!   `pve/sysctl-not-allowed`, and the map is kept for OCI back ends.
//! - **Masked and read-only paths**: see [`paths`].
//! - **Personality**: `LINUX32` on a 64-bit target becomes the 32-bit
//!   Proxmox `arch` (`i386` for amd64, `armhf` for arm64): Proxmox writes it
//!   as `lxc.arch`, and LXC starts the container under the 32-bit
//!   personality for it. Flags have no LXC key.

mod capabilities;
mod paths;
pub(crate) use paths::GLOBAL_PROC_DIRS;
mod seccomp;

pub(super) use capabilities::CONSUMES as CAPABILITIES_CONSUMES;
pub(super) use paths::CONSUMES as PATHS_CONSUMES;
pub(super) use seccomp::CONSUMES as SECCOMP_CONSUMES;

use super::{keep_for_oci, Cx};
use crate::diag::Severity;
use crate::ir::Container;
use crate::rules::pve;
use crate::spec::Cursor;

/// The IPC sysctls whose `lxc.sysctl.` keys are on Proxmox's allow-list.
pub(crate) const IPC_SYSCTLS: &[&str] = &[
    "kernel.msgmax",
    "kernel.msgmnb",
    "kernel.msgmni",
    "kernel.sem",
    "kernel.shmall",
    "kernel.shmmax",
    "kernel.shmmni",
    "kernel.shm_rmid_forced",
];

/// The field-table entries (`spec::fields`, marked `Lower`) this module
/// reads; `lower::consumers::every_lowered_field_has_a_module` holds the table to it.
pub(super) const CONSUMES: &[&str] = &[
    "/process/apparmorProfile",
    "/process/noNewPrivileges",
    "/process/selinuxLabel",
    "/linux/sysctl",
    "/linux/personality",
    "/linux/personality/domain",
    "/linux/personality/flags",
];

pub(crate) fn lower(root: &Cursor<'_>, cx: &mut Cx<'_>, ir: &mut Container) {
    if let Some(process) = root.get("process") {
        capabilities::lower(&process, cx, ir);
        apparmor(&process, cx, ir);
        selinux(&process, cx, ir);
        no_new_privileges(&process, cx, ir);
    }
    if let Some(linux) = root.get("linux") {
        seccomp::lower(&linux, cx, ir);
        sysctls(&linux, cx, ir);
        paths::lower(&linux, cx, ir);
        personality(&linux, cx, ir);
    }
}

/// A label or profile name that fits on one config line unchanged.
fn check_label(value: &str) -> Result<(), &'static str> {
    if value.is_empty() {
        return Err("it is empty");
    }
    if value.contains('\t') || crate::ir::types::unsafe_char(value).is_some() {
        return Err("it contains a control character, line break or bidi control, which would start a new config line or hide part of it");
    }
    if value.trim() != value {
        return Err(
            "it starts or ends with white space, which Proxmox trims when it reads the config",
        );
    }
    Ok(())
}

fn apparmor(process: &Cursor<'_>, cx: &mut Cx<'_>, ir: &mut Container) {
    let Some(at) = process.get("apparmorProfile") else {
        return;
    };
    let Some(profile) = at.str() else { return };
    if let Err(why) = check_label(profile) {
        cx.at(
            &pve::INVALID_VALUE,
            &at,
            format!("the AppArmor profile cannot be written as `lxc.apparmor.profile`: {why}"),
        )
        .with_label("invalid profile");
        return;
    }
    if profile == "docker-default" || profile.starts_with("containers-default-") {
        cx.at(&pve::LOSSY, &at, format!("`{profile}` is a profile Docker or Podman generate and load themselves; it does not exist on a Proxmox node, so Proxmox's generated AppArmor profile is used instead"))
            .with_label("engine profile")
            .with_help("load an equivalent profile on the node under its own name and set that name");
        return;
    }
    // `unconfined` is the lint's business (security/apparmor-unconfined).
    if profile != "unconfined" {
        cx.at(&pve::NEEDS_HOST, &at, format!("the AppArmor profile `{profile}` must be loaded on the Proxmox node, or the container does not start; it replaces the profile Proxmox generates (and with it `features: nesting` and `mount=`)"))
            .with_label("must exist on the node");
    }
    ir.security.apparmor_profile = Some(at.traced(profile.to_string()));
}

fn selinux(process: &Cursor<'_>, cx: &mut Cx<'_>, ir: &mut Container) {
    let Some(at) = process.get("selinuxLabel") else {
        return;
    };
    let Some(label) = at.str() else { return };
    if let Err(why) = check_label(label) {
        cx.at(
            &pve::INVALID_VALUE,
            &at,
            format!("the SELinux label cannot be written as `lxc.selinux.context`: {why}"),
        )
        .with_label("invalid label");
        return;
    }
    cx.at(&pve::NEEDS_HOST, &at, "Proxmox nodes run AppArmor; LXC applies `lxc.selinux.context` only where SELinux is enabled").with_label("SELinux only");
    ir.security.selinux_context = Some(at.traced(label.to_string()));
}

fn no_new_privileges(process: &Cursor<'_>, cx: &mut Cx<'_>, ir: &mut Container) {
    let Some(at) = process.get("noNewPrivileges") else {
        return;
    };
    if at.bool() != Some(true) {
        return;
    }
    ir.security.no_new_privileges = Some(at.traced(true));
    cx.unsupported(ir, &at, "Proxmox drops `lxc.no_new_privs` from container configs (it is not on the raw key allow-list), so setuid programs in the container can still gain privileges");
}

fn sysctls(linux: &Cursor<'_>, cx: &mut Cx<'_>, ir: &mut Container) {
    let Some(map) = linux.get("sysctl") else {
        return;
    };
    for (key, _, value) in map.entries() {
        let name = key.replace('/', ".");
        if value
            .str()
            .is_some_and(|v| v.chars().any(|c| c.is_control() && c != '\t'))
        {
            cx.at(
                &pve::INVALID_VALUE,
                &value,
                format!(
                    "the value of `{}` contains a control character or line break",
                    key.escape_debug()
                ),
            )
            .with_label("invalid value");
            continue;
        }
        if IPC_SYSCTLS.contains(&name.as_str()) {
            cx.at(
                &pve::SYSCTL_READ_ONLY,
                &value,
                format!("`{name}` is not set: Proxmox accepts `lxc.sysctl.{name}`, but LXC writes it through the container's /proc/sys after mounting that read-only (`proc:mixed`), and the container would not start"),
            )
            .with_label("not applied")
            .with_help("the container keeps the kernel's defaults for a new IPC namespace; raise the limit on the node if the application needs more");
        } else if name.starts_with("fs.mqueue.") {
            cx.at(
                &pve::SYSCTL_NOT_ALLOWED,
                &value,
                format!("`{name}` is not set: Proxmox's allow-list names `lxc.sysctl.fs.mqueue` literally and drops `lxc.sysctl.{name}`"),
            )
            .with_label("dropped by Proxmox");
        } else {
            cx.at(
                &pve::SYSCTL_NOT_ALLOWED,
                &value,
                format!(
                    "`{}` is not set: Proxmox drops `lxc.sysctl.` keys other than its IPC ones",
                    key.escape_debug()
                ),
            )
            .with_label("dropped by Proxmox");
        }
    }
    keep_for_oci(ir, &map);
}

fn personality(linux: &Cursor<'_>, cx: &mut Cx<'_>, ir: &mut Container) {
    let Some(at) = linux.get("personality") else {
        return;
    };
    if let Some(flags) = at.get("flags").filter(|f| !f.items().is_empty()) {
        cx.unsupported(ir, &flags, "LXC has no key for personality flags");
    }
    let Some(domain) = at.get("domain") else {
        return;
    };
    // OCI back ends get the whole object: `domain` is required next to `flags`.
    keep_for_oci(ir, &domain);
    if domain.str() != Some("LINUX32") {
        return;
    }
    let arch32 = match ir.arch.as_str() {
        "amd64" => "i386",
        "arm64" => "armhf",
        "i386" | "armhf" | "riscv32" => return,
        _ => {
            cx.at(&pve::UNSUPPORTED, &domain, format!("there is no 32-bit Proxmox arch for `{}`, so the container does not run under the 32-bit personality", ir.arch))
                .with_label("no 32-bit arch");
            return;
        }
    };
    cx.at(
        &pve::LOSSY,
        &domain,
        format!("LINUX32 becomes `arch: {arch32}`: Proxmox writes it as `lxc.arch`, and LXC starts the container under the 32-bit personality; Proxmox also uses `arch` for its own set-up of the container"),
    )
    .with_severity(Severity::Info)
    .with_label(format!("arch: {arch32}"));
    ir.arch = arch32.to_string();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lower::{check, pve_conf};
    use crate::target::Target;

    fn config(process: &str, linux: &str) -> String {
        format!(
            r#"{{"ociVersion": "1.2.0", "root": {{"path": "rootfs"}}, "process": {{"cwd": "/", "args": ["/app"]{process}}}, "linux": {{"namespaces": [{{"type": "user"}}, {{"type": "network"}}, {{"type": "pid"}}, {{"type": "ipc"}}, {{"type": "uts"}}, {{"type": "mount"}}, {{"type": "cgroup"}}]{linux}}}}}"#
        )
    }

    fn run(process: &str, linux: &str) -> (Container, Vec<String>) {
        check(&config(process, linux), &Target::default())
    }

    #[test]
    fn labels() {
        assert!(check_label("lxc-container-default-cgns").is_ok());
        assert!(check_label("").is_err());
        assert!(check_label("a\nlxc.cap.keep = sys_admin").is_err());
        assert!(check_label(" a").is_err());
    }

    #[test]
    fn apparmor_profiles() {
        let (ir, codes) = run(r#", "apparmorProfile": "my-profile""#, "");
        assert_eq!(
            ir.security.apparmor_profile.map(|p| p.value),
            Some("my-profile".to_string())
        );
        assert!(codes.is_empty(), "{codes:?}");
        let (ir, codes) = run(r#", "apparmorProfile": "unconfined""#, "");
        assert_eq!(
            ir.security.apparmor_profile.map(|p| p.value),
            Some("unconfined".to_string())
        );
        assert!(codes.is_empty(), "{codes:?}");
        let (ir, codes) = run(r#", "apparmorProfile": "containers-default-0.50.1""#, "");
        assert_eq!(ir.security.apparmor_profile, None);
        assert_eq!(codes, vec!["pve/lossy /process/apparmorProfile"]);
        let (ir, codes) = run(r#", "apparmorProfile": "x\ny""#, "");
        assert_eq!(ir.security.apparmor_profile, None);
        assert_eq!(codes, vec!["pve/invalid-value /process/apparmorProfile"]);
    }

    #[test]
    fn selinux_labels() {
        let (ir, codes) = run(
            r#", "selinuxLabel": "system_u:system_r:container_t:s0:c1,c2""#,
            "",
        );
        assert_eq!(
            ir.security.selinux_context.map(|p| p.value),
            Some("system_u:system_r:container_t:s0:c1,c2".to_string())
        );
        assert!(codes.is_empty(), "{codes:?}");
        let (ir, codes) = run(r#", "selinuxLabel": """#, "");
        assert_eq!(ir.security.selinux_context, None);
        assert_eq!(codes, vec!["pve/invalid-value /process/selinuxLabel"]);
    }

    #[test]
    fn no_new_privileges_is_kept_for_oci() {
        let (ir, codes) = run(r#", "noNewPrivileges": true"#, "");
        assert_eq!(codes, vec!["pve/unsupported /process/noNewPrivileges"]);
        assert_eq!(ir.security.no_new_privileges.map(|n| n.value), Some(true));
        assert!(ir
            .oci_only
            .iter()
            .any(|(p, v)| p.as_str() == "/process/noNewPrivileges"
                && *v == serde_json::Value::Bool(true)));
        let (ir, codes) = run(r#", "noNewPrivileges": false"#, "");
        assert!(
            codes.is_empty() && ir.security.no_new_privileges.is_none(),
            "{codes:?}"
        );
    }

    #[test]
    fn sysctls_are_reported_never_written() {
        let (ir, codes) = run(
            "",
            r#", "sysctl": {"kernel.shmmax": "1073741824", "fs.mqueue.msg_max": "20", "net.ipv4.ip_forward": "1", "kernel.sem": "a\nb"}"#,
        );
        assert!(ir.security.sysctls.is_empty());
        assert_eq!(
            codes,
            vec![
                "pve/sysctl-read-only /linux/sysctl/kernel.shmmax",
                "pve/sysctl-not-allowed /linux/sysctl/fs.mqueue.msg_max",
                "pve/sysctl-not-allowed /linux/sysctl/net.ipv4.ip_forward",
                "pve/invalid-value /linux/sysctl/kernel.sem"
            ]
        );
        assert!(ir
            .oci_only
            .iter()
            .any(|(p, _)| p.as_str() == "/linux/sysctl"));
    }

    #[test]
    fn personality_linux32_sets_the_arch() {
        let (ir, codes) = run("", r#", "personality": {"domain": "LINUX32"}"#);
        assert_eq!(ir.arch, "i386");
        assert!(codes.is_empty(), "{codes:?}");
        assert!(pve_conf(
            &config("", r#", "personality": {"domain": "LINUX32"}"#),
            &Target::default()
        )
        .contains("arch: i386\n"));
        let (ir, codes) = run(
            "",
            r#", "personality": {"domain": "LINUX", "flags": ["ADDR_NO_RANDOMIZE"]}"#,
        );
        assert_eq!(ir.arch, "amd64");
        assert_eq!(codes, vec!["pve/unsupported /linux/personality/flags"]);
    }

    #[test]
    fn conf_lines() {
        let json = config(
            r#", "apparmorProfile": "unconfined", "capabilities": {"bounding": ["CAP_KILL", "CAP_CHOWN"]}"#,
            r#", "seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"], "syscalls": [{"names": ["kexec_load", "init_module", "finit_module", "delete_module", "open_by_handle_at"], "action": "SCMP_ACT_ERRNO"}]}, "maskedPaths": ["/proc/kcore"]"#,
        );
        let conf = pve_conf(&json, &Target::default());
        for line in [
            "lxc.apparmor.profile: unconfined\n",
            "lxc.cap.keep: chown kill\n",
            "lxc.mount.entry: /dev/null proc/kcore none bind,optional 0 0\n",
            "lxc.seccomp.profile: /var/lib/proxmox-lxcri/seccomp/",
        ] {
            assert!(conf.contains(line), "missing {line:?} in\n{conf}");
        }
    }
}
