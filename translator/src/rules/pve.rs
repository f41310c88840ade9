//! `pve/…`: what the Proxmox translation cannot express, or refuses.
//! The lowering emits these; `lint` reports them for the chosen target.

use super::Rule;
use crate::diag::Severity::{Error, Info, Warning};

pub(crate) static RULES: &[&Rule] = &[
    &UNSUPPORTED,
    &LOSSY,
    &IGNORED_BY_DESIGN,
    &VERSION,
    &MEMORY_TOO_SMALL,
    &OUT_OF_RANGE,
    &INVALID_HOSTNAME,
    &INVALID_PATH,
    &TOO_MANY,
    &MOUNT_OPTION,
    &UNREPRESENTABLE_ARG,
    &INVALID_ENV,
    &UNKNOWN_CAPABILITY,
    &SYSCTL_NOT_ALLOWED,
    &INVALID_VALUE,
    &SYSCTL_READ_ONLY,
    &NEEDS_HOST,
    &CONFIG_TOO_LARGE,
];

pub(crate) static UNSUPPORTED: Rule = Rule {
    code: "pve/unsupported",
    severity: Warning,
    summary: "A field has no equivalent in a Proxmox container and is not applied",
    explanation: include_str!("pve/unsupported.md"),
};

pub(crate) static LOSSY: Rule = Rule {
    code: "pve/lossy",
    severity: Warning,
    summary: "A value is translated, but not exactly",
    explanation: include_str!("pve/lossy.md"),
};

pub(crate) static IGNORED_BY_DESIGN: Rule = Rule {
    code: "pve/ignored-by-design",
    severity: Info,
    summary: "A field is deliberately not used on Proxmox",
    explanation: include_str!("pve/ignored-by-design.md"),
};

pub(crate) static VERSION: Rule = Rule {
    code: "pve/version",
    severity: Warning,
    summary: "The target's pve-container is too old for a key this config needs",
    explanation: include_str!("pve/version.md"),
};

pub(crate) static MEMORY_TOO_SMALL: Rule = Rule {
    code: "pve/memory-too-small",
    severity: Error,
    summary: "The memory limit is below Proxmox's minimum of 16 MiB",
    explanation: include_str!("pve/memory-too-small.md"),
};

pub(crate) static OUT_OF_RANGE: Rule = Rule {
    code: "pve/out-of-range",
    severity: Error,
    summary: "A value is outside the range Proxmox accepts",
    explanation: include_str!("pve/out-of-range.md"),
};

pub(crate) static INVALID_HOSTNAME: Rule = Rule {
    code: "pve/invalid-hostname",
    severity: Error,
    summary: "The host name is not a DNS name Proxmox accepts",
    explanation: include_str!("pve/invalid-hostname.md"),
};

pub(crate) static INVALID_PATH: Rule = Rule {
    code: "pve/invalid-path",
    severity: Error,
    summary: "A path is relative, has `..`, or holds characters Proxmox cannot store",
    explanation: include_str!("pve/invalid-path.md"),
};

pub(crate) static TOO_MANY: Rule = Rule {
    code: "pve/too-many",
    severity: Error,
    summary: "More mount points, devices or interfaces than Proxmox allows",
    explanation: include_str!("pve/too-many.md"),
};

pub(crate) static MOUNT_OPTION: Rule = Rule {
    code: "pve/mount-option",
    severity: Warning,
    summary: "A mount option has no Proxmox mount point equivalent",
    explanation: include_str!("pve/mount-option.md"),
};

pub(crate) static UNREPRESENTABLE_ARG: Rule = Rule {
    code: "pve/unrepresentable-arg",
    severity: Error,
    summary: "A process argument cannot be written in LXC's init command",
    explanation: include_str!("pve/unrepresentable-arg.md"),
};

pub(crate) static INVALID_ENV: Rule = Rule {
    code: "pve/invalid-env",
    severity: Error,
    summary: "An environment entry cannot be stored in a Proxmox config",
    explanation: include_str!("pve/invalid-env.md"),
};

pub(crate) static UNKNOWN_CAPABILITY: Rule = Rule {
    code: "pve/unknown-capability",
    severity: Error,
    summary: "A capability name is not a Linux capability",
    explanation: include_str!("pve/unknown-capability.md"),
};

pub(crate) static SYSCTL_NOT_ALLOWED: Rule = Rule {
    code: "pve/sysctl-not-allowed",
    severity: Warning,
    summary: "A sysctl is not one Proxmox lets a container set",
    explanation: include_str!("pve/sysctl-not-allowed.md"),
};

pub(crate) static INVALID_VALUE: Rule = Rule {
    code: "pve/invalid-value",
    severity: Error,
    summary: "A value cannot be written into a Proxmox config line",
    explanation: include_str!("pve/invalid-value.md"),
};

pub(crate) static SYSCTL_READ_ONLY: Rule = Rule {
    code: "pve/sysctl-read-only",
    severity: Warning,
    summary: "An IPC sysctl cannot be set because LXC finds /proc/sys read-only",
    explanation: include_str!("pve/sysctl-read-only.md"),
};

pub(crate) static NEEDS_HOST: Rule = Rule {
    code: "pve/needs-host",
    severity: Info,
    summary: "The container relies on something that must exist on the Proxmox node",
    explanation: include_str!("pve/needs-host.md"),
};

pub(crate) static CONFIG_TOO_LARGE: Rule = Rule {
    code: "pve/config-too-large",
    severity: Error,
    summary: "The Proxmox container config would be larger than pmxcfs stores (1 MiB)",
    explanation: include_str!("pve/config-too-large.md"),
};
