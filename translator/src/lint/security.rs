//! `security/…`: configurations that weaken the container's isolation.

use super::Rule;
use crate::diag::Severity::Warning;

pub static RULES: &[&Rule] = &[&PRIVILEGED, &HOST_NAMESPACE];

pub static PRIVILEGED: Rule = Rule {
    code: "security/privileged",
    severity: Warning,
    summary: "The container has no user namespace and runs privileged",
    explanation: "## What it does\nReports configs without a `user` namespace. They become `unprivileged: 0` containers, in which root is the host's root.\n\n## Why is this bad?\nA process that escapes a privileged container is root on the Proxmox node. Proxmox's own default is unprivileged.\n\n## Example\n```json\n{\"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"mount\"}]}}\n```\nAdd `{\"type\": \"user\"}` (and id mappings, or none for Proxmox's default `0 100000 65536`).",
};

pub static HOST_NAMESPACE: Rule = Rule {
    code: "security/host-namespace",
    severity: Warning,
    summary: "The container shares a namespace with the host",
    explanation: "## What it does\nReports configs that leave out the `network`, `pid`, `ipc`, `uts` or `mount` namespace, or join an existing one by `path`, so the container shares it with the host.\n\n## Why is this bad?\nWith the host's network the container can bind the node's ports and reach its management interfaces; with its pid namespace it can see and signal host processes.\n\n## Example\n```json\n{\"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"mount\"}]}}\n```\nhas no `network` namespace: it uses the host's network.",
};
