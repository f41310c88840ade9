//! `crun/…`: what the crun back end (`--to crun`) changes or cannot promise
//! for the target's crun version.

use super::Rule;
use crate::diag::Severity::{Info, Warning};

pub(crate) static RULES: &[&Rule] = &[
    &UNKNOWN_FIELD,
    &OCI_VERSION,
    &DEFAULT_MOUNTS,
    &DEFAULT_PROCESS,
];

pub(crate) static UNKNOWN_FIELD: Rule = Rule {
    code: "crun/unknown-field",
    severity: Warning,
    summary: "The target's crun version does not apply a field of the config",
    explanation: include_str!("crun/unknown-field.md"),
};

pub(crate) static OCI_VERSION: Rule = Rule {
    code: "crun/oci-version",
    severity: Info,
    summary: "The config's ociVersion is written as an older version the target's crun accepts",
    explanation: include_str!("crun/oci-version.md"),
};

pub(crate) static DEFAULT_MOUNTS: Rule = Rule {
    code: "crun/default-mounts",
    severity: Info,
    summary: "Mounts every container has on Proxmox are added to the crun config",
    explanation: include_str!("crun/default-mounts.md"),
};

pub(crate) static DEFAULT_PROCESS: Rule = Rule {
    code: "crun/default-process",
    severity: Info,
    summary: "The config has no process; the crun config runs /sbin/init as Proxmox would",
    explanation: include_str!("crun/default-process.md"),
};
