//! `security/…`: configurations that weaken the container's isolation.
//! The lint stage (`lint::security`), the lowering and the host-effect
//! classifiers (`host`) report them; the node policy refuses some by default.

use super::Rule;
use crate::diag::Severity::Warning;

pub(crate) static RULES: &[&Rule] = &[
    &PRIVILEGED,
    &HOST_NAMESPACE,
    &CAP_SYS_ADMIN,
    &DANGEROUS_CAPABILITY,
    &NO_SECCOMP,
    &WRITABLE_PROC_SYS,
    &SENSITIVE_HOST_MOUNT,
    &DANGEROUS_DEVICE,
    &APPARMOR_UNCONFINED,
    &NEW_PRIVILEGES,
    &PROXMOX_STATE_MOUNT,
    &HOST_SOCKET,
    &HOST_SYSTEM_MOUNT,
    &HOST_BLOCK_MOUNT,
    &KERNEL_FILESYSTEM,
    &HOST_ROOTFS,
    &ROOTFS_OUTSIDE_BUNDLE,
    &OCI_HOOKS,
];

/// `security/privileged`: no user namespace, so the container runs privileged.
pub static PRIVILEGED: Rule = Rule {
    code: "security/privileged",
    severity: Warning,
    summary: "The container has no user namespace and runs privileged",
    explanation: include_str!("security/privileged.md"),
};

/// `security/host-namespace`: the container shares a namespace with the node.
pub static HOST_NAMESPACE: Rule = Rule {
    code: "security/host-namespace",
    severity: Warning,
    summary: "The container shares the host's network namespace",
    explanation: include_str!("security/host-namespace.md"),
};

// The rules below are found by `check` over the validated spec (not by the
// lowering): they describe the bundle, whatever back end runs it.

/// `security/cap-sys-admin`: the process keeps `CAP_SYS_ADMIN`.
pub static CAP_SYS_ADMIN: Rule = Rule {
    code: "security/cap-sys-admin",
    severity: Warning,
    summary: "The process keeps CAP_SYS_ADMIN",
    explanation: include_str!("security/cap-sys-admin.md"),
};

/// `security/dangerous-capability`: the process keeps a capability that reaches beyond the container.
pub static DANGEROUS_CAPABILITY: Rule = Rule {
    code: "security/dangerous-capability",
    severity: Warning,
    summary: "The process keeps a capability that reaches beyond the container",
    explanation: include_str!("security/dangerous-capability.md"),
};

pub(crate) static NO_SECCOMP: Rule = Rule {
    code: "security/no-seccomp",
    severity: Warning,
    summary: "No seccomp filter restricts the container's system calls",
    explanation: include_str!("security/no-seccomp.md"),
};

pub(crate) static WRITABLE_PROC_SYS: Rule = Rule {
    code: "security/writable-proc-sys",
    severity: Warning,
    summary: "sysfs or procfs is mounted writable",
    explanation: include_str!("security/writable-proc-sys.md"),
};

pub(crate) static SENSITIVE_HOST_MOUNT: Rule = Rule {
    code: "security/sensitive-host-mount",
    severity: Warning,
    summary: "A sensitive host path is bind-mounted into the container",
    explanation: include_str!("security/sensitive-host-mount.md"),
};

pub(crate) static DANGEROUS_DEVICE: Rule = Rule {
    code: "security/dangerous-device",
    severity: Warning,
    summary: "The container gets a device that exposes the host's hardware or memory",
    explanation: include_str!("security/dangerous-device.md"),
};

/// `security/apparmor-unconfined`: the container runs without an AppArmor profile.
pub static APPARMOR_UNCONFINED: Rule = Rule {
    code: "security/apparmor-unconfined",
    severity: Warning,
    summary: "The process runs without an AppArmor profile",
    explanation: include_str!("security/apparmor-unconfined.md"),
};

pub(crate) static NEW_PRIVILEGES: Rule = Rule {
    code: "security/new-privileges",
    severity: Warning,
    summary: "A non-root process can gain privileges through setuid programs",
    explanation: include_str!("security/new-privileges.md"),
};

pub(crate) static PROXMOX_STATE_MOUNT: Rule = Rule {
    code: "security/proxmox-state-mount",
    severity: Warning,
    summary: "Proxmox VE's own state or storage is bind-mounted into the container",
    explanation: include_str!("security/proxmox-state-mount.md"),
};

pub(crate) static HOST_SOCKET: Rule = Rule {
    code: "security/host-socket",
    severity: Warning,
    summary:
        "A host daemon's control socket or runtime directory is bind-mounted into the container",
    explanation: include_str!("security/host-socket.md"),
};

pub(crate) static HOST_SYSTEM_MOUNT: Rule = Rule {
    code: "security/host-system-mount",
    severity: Warning,
    summary: "A host directory of programs, libraries or start-up configuration is bind-mounted into the container",
    explanation: include_str!("security/host-system-mount.md"),
};

pub(crate) static HOST_BLOCK_MOUNT: Rule = Rule {
    code: "security/host-block-mount",
    severity: Warning,
    summary: "A host disk or disk image is mounted into the container",
    explanation: include_str!("security/host-block-mount.md"),
};

pub(crate) static KERNEL_FILESYSTEM: Rule = Rule {
    code: "security/kernel-filesystem",
    severity: Warning,
    summary: "A kernel interface file system, or a second procfs, is mounted in the container",
    explanation: include_str!("security/kernel-filesystem.md"),
};

pub(crate) static HOST_ROOTFS: Rule = Rule {
    code: "security/host-rootfs",
    severity: crate::diag::Severity::Error,
    summary: "The root file system is the host's root or a system directory",
    explanation: include_str!("security/host-rootfs.md"),
};

pub(crate) static ROOTFS_OUTSIDE_BUNDLE: Rule = Rule {
    code: "security/rootfs-outside-bundle",
    severity: Warning,
    summary: "The root file system is a host directory outside the bundle",
    explanation: include_str!("security/rootfs-outside-bundle.md"),
};

pub(crate) static OCI_HOOKS: Rule = Rule {
    code: "security/oci-hooks",
    severity: Warning,
    summary: "The bundle has OCI hooks: programs the runtime runs on the node as root",
    explanation: include_str!("security/oci-hooks.md"),
};
