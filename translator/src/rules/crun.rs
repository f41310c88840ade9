//! `crun/…`: what the crun back end (`--to crun`) changes or cannot promise
//! for the target's crun version.

use super::Rule;
use crate::diag::Severity::{Info, Warning};

pub static RULES: &[&Rule] = &[&UNKNOWN_FIELD, &OCI_VERSION, &DEFAULT_MOUNTS, &DEFAULT_PROCESS];

pub static UNKNOWN_FIELD: Rule = Rule {
    code: "crun/unknown-field",
    severity: Warning,
    summary: "The target's crun version does not apply a field of the config",
    explanation: "## What it does\nReports fields of the crun config that the target's crun (`crun-version` in the target; Debian 12 ships 1.8.1) does not apply because they came in later crun releases: `process.scheduler` (1.8.5), `process.ioPriority` (1.8.6), `process.execCPUAffinity` (1.19), `linux.timeOffsets` (1.8.4), `linux.intelRdt` (1.10; `schemata` 1.22, `enableMonitoring` 1.24), `linux.resources.cpu.burst` (1.11), `linux.netDevices` (1.22), `linux.memoryPolicy` (1.24). The field stays in the config.\n\n## Why is this bad?\ncrun ignores fields it does not know without a word, so the container runs without them: no real-time scheduling, no CPU burst, no moved network device.\n\n## Example\n```json\n{\"process\": {\"scheduler\": {\"policy\": \"SCHED_FIFO\", \"priority\": 10}}}\n```\nwith crun 1.8.1. Upgrade crun on the node (1.8.5 or later), or set the target's `crun-version` to the one it has. Use instead, on crun 1.8.1: no scheduler policy:\n```json\n{\"process\": {\"args\": [\"/usr/bin/server\"], \"cwd\": \"/\"}}\n```",
};

pub static OCI_VERSION: Rule = Rule {
    code: "crun/oci-version",
    severity: Info,
    summary: "The config's ociVersion is written as an older version the target's crun accepts",
    explanation: "## What it does\nNotes that the crun config declares an older `ociVersion` than the bundle. crun before 1.14.2 refuses to run a config whose `ociVersion` it does not recognise (\"unknown version specified\"): crun 1.8.1 accepts 1.0.x and 1.1.0 but not 1.2.0. The fields are kept; the ones crun does not apply are reported as `crun/unknown-field`.\n\n## Why is this bad?\nIt usually is not: runtime-spec minor versions add fields without changing old ones.\n\n## Example\n```json\n{\"ociVersion\": \"1.2.0\"}\n```\nbecomes `\"ociVersion\": \"1.1.0\"` for crun 1.8.1. Use instead, when the bundle needs nothing from 1.2.0:\n```json\n{\"ociVersion\": \"1.1.0\"}\n```",
};

pub static DEFAULT_MOUNTS: Rule = Rule {
    code: "crun/default-mounts",
    severity: Info,
    summary: "Mounts every container has on Proxmox are added to the crun config",
    explanation: "## What it does\nNotes the standard mounts (`/proc`, `/dev`, `/dev/pts`, `/dev/shm`, `/dev/mqueue`, `/sys`, `/sys/fs/cgroup`) that the bundle does not list and the crun config gets, as `crun spec` writes them. LXC mounts these in every Proxmox container; an OCI runtime mounts only what the config lists.\n\n## Why is this bad?\nIt is not: without them the container would differ between the two back ends (no `/proc`, no `/dev/pts`).\n\n## Example\n```json\n{\"mounts\": []}\n```\nUse instead: the mounts listed, when the bundle should say exactly what it gets:\n```json\n{\"mounts\": [{\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"}, {\"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\", \"options\": [\"nosuid\", \"strictatime\", \"mode=755\", \"size=65536k\"]}, {\"destination\": \"/dev/pts\", \"type\": \"devpts\", \"source\": \"devpts\", \"options\": [\"nosuid\", \"noexec\", \"newinstance\", \"ptmxmode=0666\", \"mode=0620\"]}, {\"destination\": \"/dev/shm\", \"type\": \"tmpfs\", \"source\": \"shm\", \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"mode=1777\", \"size=65536k\"]}, {\"destination\": \"/dev/mqueue\", \"type\": \"mqueue\", \"source\": \"mqueue\", \"options\": [\"nosuid\", \"noexec\", \"nodev\"]}, {\"destination\": \"/sys\", \"type\": \"sysfs\", \"source\": \"sysfs\", \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"ro\"]}, {\"destination\": \"/sys/fs/cgroup\", \"type\": \"cgroup\", \"source\": \"cgroup\", \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"relatime\", \"ro\"]}]}\n```",
};

pub static DEFAULT_PROCESS: Rule = Rule {
    code: "crun/default-process",
    severity: Info,
    summary: "The config has no process; the crun config runs /sbin/init as Proxmox would",
    explanation: "## What it does\nNotes that a config without `process` gets `/sbin/init` as its process in the crun config, run as root in `/`. Proxmox starts `/sbin/init` when a container has no entrypoint; an OCI runtime cannot start a container without a process.\n\n## Why is this bad?\nIt is not, if the root file system has an init system; otherwise the container fails to start on both back ends.\n\n## Example\n```json\n{\"ociVersion\": \"1.2.0\", \"root\": {\"path\": \"rootfs\"}}\n```\nUse instead: the process the container runs:\n```json\n{\"ociVersion\": \"1.2.0\", \"root\": {\"path\": \"rootfs\"}, \"process\": {\"cwd\": \"/\", \"args\": [\"/usr/bin/server\"]}}\n```",
};
