//! `pve/…`: what the Proxmox translation cannot express, or refuses.
//! The lowering emits these; `lint` reports them for the chosen target.

use super::Rule;
use crate::diag::Severity::{Error, Info, Warning};

pub static RULES: &[&Rule] = &[
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
];

pub static UNSUPPORTED: Rule = Rule {
    code: "pve/unsupported",
    severity: Warning,
    summary: "A field has no equivalent in a Proxmox container and is not applied",
    explanation: "## What it does\nReports a field that is set in config.json but that Proxmox VE cannot express: its config has no key for it, and the raw `lxc.*` key LXC would use is one Proxmox drops from its config files.\n\n## Why is this bad?\nThe container runs without it. For hooks, masked paths or a umask that can change behaviour or weaken isolation.\n\n## Example\n```json\n{\"hooks\": {\"prestart\": [{\"path\": \"/usr/bin/setup-net\"}]}}\n```\nUse instead: do the work in the image's entrypoint, which runs the server when it is done:\n```json\n{\"process\": {\"args\": [\"/usr/bin/entrypoint\"]}}\n```\nor allow the code for this bundle when losing the hook is fine.",
};

pub static LOSSY: Rule = Rule {
    code: "pve/lossy",
    severity: Warning,
    summary: "A value is translated, but not exactly",
    explanation: "## What it does\nReports a value whose Proxmox form is an approximation: a memory limit rounded up to whole MiB, a CPU quota rounded to hundredths of a CPU, a cpuset whose exact CPUs Proxmox would not keep, a seccomp rule whose argument filter LXC cannot express.\n\n## Why is this bad?\nThe container gets slightly different limits or policy than the bundle asked for.\n\n## Example\n```json\n{\"linux\": {\"resources\": {\"memory\": {\"limit\": 100000000}}}}\n```\nbecomes `memory: 96` (100000000 bytes rounded up to MiB). Use instead: a limit in whole MiB (100 MiB):\n```json\n{\"linux\": {\"resources\": {\"memory\": {\"limit\": 104857600}}}}\n```",
};

pub static IGNORED_BY_DESIGN: Rule = Rule {
    code: "pve/ignored-by-design",
    severity: Info,
    summary: "A field is deliberately not used on Proxmox",
    explanation: "## What it does\nNotes fields that have no meaning for a Proxmox LXC container and are left out on purpose: sections for other platforms (`windows`, `solaris`, `vm`, `zos`), `linux.cgroupsPath` (Proxmox places every container in `lxc/<vmid>`), cgroup v1 knobs that cgroup v2 does not have.\n\n## Why is this bad?\nIt usually is not; the note makes the choice visible.\n\n## Example\n```json\n{\"linux\": {\"cgroupsPath\": \"/machine/web\"}}\n```\nUse instead: no `cgroupsPath`; Proxmox names the container's cgroup itself:\n```json\n{\"linux\": {\"resources\": {\"memory\": {\"limit\": 268435456}}}}\n```",
};

pub static VERSION: Rule = Rule {
    code: "pve/version",
    severity: Warning,
    summary: "The target's pve-container is too old for a key this config needs",
    explanation: "## What it does\nReports keys the target Proxmox VE would drop or refuse because its pve-container predates them: `entrypoint` and `env` (6.0.15, PVE 9.1), `lxc.init.cwd` (6.0.1), `lxc.init.uid/gid/groups` (6.1.0), per-mount `idmap` (6.1.6). Where an older equivalent exists (raw `lxc.init.cmd`, `lxc.environment`) it is used and the note is informational; where none exists the value is lost.\n\n## Why is this bad?\nOn the older host the process would run as root instead of the configured user, or in the wrong directory.\n\n## Example\n```json\n{\"process\": {\"user\": {\"uid\": 1000, \"gid\": 1000}}}\n```\nlinted with `--pve-version 9.0`: Proxmox VE 9.0 drops `lxc.init.uid`, so the process would run as root. Use instead: upgrade the node, or let the image's entrypoint switch to the user:\n```json\n{\"process\": {\"args\": [\"/usr/bin/entrypoint\"]}}\n```",
};

pub static MEMORY_TOO_SMALL: Rule = Rule {
    code: "pve/memory-too-small",
    severity: Error,
    summary: "The memory limit is below Proxmox's minimum of 16 MiB",
    explanation: "## What it does\nRefuses `linux.resources.memory.limit` values below 16 MiB (16777216 bytes).\n\n## Why is this bad?\nProxmox's `memory` key has a minimum of 16; `pct create` would fail.\n\n## Example\n```json\n{\"linux\": {\"resources\": {\"memory\": {\"limit\": 8388608}}}}\n```\nUse instead: at least 16 MiB:\n```json\n{\"linux\": {\"resources\": {\"memory\": {\"limit\": 16777216}}}}\n```",
};

pub static OUT_OF_RANGE: Rule = Rule {
    code: "pve/out-of-range",
    severity: Error,
    summary: "A value is outside the range Proxmox accepts",
    explanation: "## What it does\nRefuses values Proxmox's schema rejects: `cores` or `cpulimit` above 8192, `cpuunits` above 500000, a swap smaller than zero, id maps beyond 32-bit ranges, a `description` longer than 8192 characters.\n\n## Why is this bad?\n`pct create` would fail with a parameter error, or the value would be clamped silently.\n\n## Example\n```json\n{\"linux\": {\"resources\": {\"cpu\": {\"quota\": 1000000000, \"period\": 100}}}}\n```\nUse instead: a quota the node can give (two CPUs):\n```json\n{\"linux\": {\"resources\": {\"cpu\": {\"quota\": 200000, \"period\": 100000}}}}\n```",
};

pub static INVALID_HOSTNAME: Rule = Rule {
    code: "pve/invalid-hostname",
    severity: Error,
    summary: "The host name is not a DNS name Proxmox accepts",
    explanation: "## What it does\nRefuses a `hostname` that is not a Proxmox `dns-name`: labels of letters, digits and inner hyphens joined by dots, at most 255 characters.\n\n## Why is this bad?\n`pct create --hostname` refuses it.\n\n## Example\n```json\n{\"hostname\": \"web_1\"}\n```\nUse instead: letters, digits and hyphens:\n```json\n{\"hostname\": \"web-1\"}\n```",
};

pub static INVALID_PATH: Rule = Rule {
    code: "pve/invalid-path",
    severity: Error,
    summary: "A path is relative, has `..`, or holds characters Proxmox cannot store",
    explanation: "## What it does\nRefuses mount sources and destinations, device paths and the working directory when they are relative, contain `.` or `..` components, or contain characters that would break a Proxmox property string or config line (`,`, `=`, `;`, white space, control characters).\n\n## Why is this bad?\nA `..` in a mount can point outside what the author meant; a comma or newline would inject options or lines into the container's config.\n\n## Example\n```json\n{\"mounts\": [{\"destination\": \"data\", \"source\": \"/srv/../etc\", \"options\": [\"bind\"]}]}\n```\nUse instead: absolute paths without `..`:\n```json\n{\"mounts\": [{\"destination\": \"/data\", \"source\": \"/srv/data\", \"options\": [\"bind\"]}]}\n```",
};

pub static TOO_MANY: Rule = Rule {
    code: "pve/too-many",
    severity: Error,
    summary: "More mount points, devices or interfaces than Proxmox allows",
    explanation: "## What it does\nRefuses more than 256 mount points (`mp0`–`mp255`), 256 devices (`dev0`–`dev255`) or 32 network interfaces (`net0`–`net31`).\n\n## Why is this bad?\nProxmox has no keys beyond these; the rest would be lost.\n\n## Example\nA bundle with 300 bind mounts, one per directory under `/srv/data`.\n\nUse instead: one bind mount of the directory that holds them:\n```json\n{\"mounts\": [{\"destination\": \"/data\", \"source\": \"/srv/data\", \"options\": [\"bind\"]}]}\n```",
};

pub static MOUNT_OPTION: Rule = Rule {
    code: "pve/mount-option",
    severity: Warning,
    summary: "A mount option has no Proxmox mount point equivalent",
    explanation: "## What it does\nReports bind-mount options that a Proxmox mount point cannot carry. Proxmox keeps `ro` and, in `mountoptions`, only `discard`, `lazytime`, `noatime`, `nodev`, `noexec` and `nosuid` (read-only mounts: only the last three). Options such as `rbind`, `rprivate` or `bind` are implied and not reported.\n\n## Why is this bad?\nThe mount behaves differently from what the bundle asked for, for example without `relatime` or `sync`.\n\n## Example\n```json\n{\"mounts\": [{\"destination\": \"/data\", \"source\": \"/srv/data\", \"options\": [\"bind\", \"sync\"]}]}\n```\nUse instead: options a Proxmox mount point has (`ro`, `nosuid`, `nodev`, `noexec`, `noatime`, …):\n```json\n{\"mounts\": [{\"destination\": \"/data\", \"source\": \"/srv/data\", \"options\": [\"bind\", \"noatime\"]}]}\n```",
};

pub static UNREPRESENTABLE_ARG: Rule = Rule {
    code: "pve/unrepresentable-arg",
    severity: Error,
    summary: "A process argument cannot be written in LXC's init command",
    explanation: "## What it does\nRefuses `process.args` elements that LXC's `lxc.init.cmd` splitter cannot reproduce. LXC 6 splits on white space; a word that starts with `'` or `\"` runs to the next same quote, and there are no backslash escapes. So an argument that contains white space (or starts with a quote) and both kinds of quote, or a control character other than tab, cannot be represented.\n\n## Why is this bad?\nThe process would start with different arguments than the bundle says: mangled quoting is a classic injection.\n\n## Example\n```json\n{\"process\": {\"args\": [\"sh\", \"-c\", \"echo \\\"it's\\\" done\"]}}\n```\nUse instead: the command in a script in the image:\n```json\n{\"process\": {\"args\": [\"/usr/local/bin/say-done\"]}}\n```",
};

pub static INVALID_ENV: Rule = Rule {
    code: "pve/invalid-env",
    severity: Error,
    summary: "An environment entry cannot be stored in a Proxmox config",
    explanation: "## What it does\nRefuses `process.env` entries without `=`, with a name that is not made of letters, digits and `_`, or with a control character (a newline would start a new config line).\n\n## Why is this bad?\nProxmox stores each variable as one `lxc.environment.runtime` line; a newline would inject config.\n\n## Example\n```json\n{\"process\": {\"env\": [\"PATH\", \"A=x\\nlxc.cap.drop=\"]}}\n```\nUse instead: `NAME=value` entries on one line each:\n```json\n{\"process\": {\"env\": [\"PATH=/usr/bin:/bin\", \"A=x\"]}}\n```",
};

pub static UNKNOWN_CAPABILITY: Rule = Rule {
    code: "pve/unknown-capability",
    severity: Error,
    summary: "A capability name is not a Linux capability",
    explanation: "## What it does\nRefuses capability names that are not `CAP_` followed by a capability Linux knows.\n\n## Why is this bad?\nLXC refuses to start a container whose `lxc.cap.keep` names an unknown capability; a typo could also keep more than meant.\n\n## Example\n```json\n{\"process\": {\"capabilities\": {\"bounding\": [\"CAP_NET_BIND\"]}}}\n```\nUse instead: the name capabilities(7) gives:\n```json\n{\"process\": {\"capabilities\": {\"bounding\": [\"CAP_NET_BIND_SERVICE\"]}}}\n```",
};

pub static SYSCTL_NOT_ALLOWED: Rule = Rule {
    code: "pve/sysctl-not-allowed",
    severity: Warning,
    summary: "A sysctl is not one Proxmox lets a container set",
    explanation: "## What it does\nReports `linux.sysctl` keys other than the IPC ones Proxmox accepts as raw keys (`fs.mqueue.*`, `kernel.msgmax`, `kernel.msgmnb`, `kernel.msgmni`, `kernel.sem`, `kernel.shmall`, `kernel.shmmax`, `kernel.shmmni`, `kernel.shm_rmid_forced`).\n\n## Why is this bad?\nProxmox drops any other `lxc.sysctl.*` line at its next config write, so the setting would vanish silently. `net.*` sysctls must be set inside the container.\n\n## Example\n```json\n{\"linux\": {\"sysctl\": {\"net.ipv4.ip_forward\": \"1\"}}}\n```\nUse instead: set it inside the container (in the entrypoint), and keep in `linux.sysctl` only the IPC keys Proxmox accepts:\n```json\n{\"linux\": {\"sysctl\": {\"kernel.msgmax\": \"65536\"}}}\n```",
};

pub static INVALID_VALUE: Rule = Rule {
    code: "pve/invalid-value",
    severity: Error,
    summary: "A value cannot be written into a Proxmox config line",
    explanation: "## What it does\nRefuses values that would break the config file or that Proxmox's schema rejects: control characters or newlines in labels, profiles, annotations and other strings, rlimit names LXC does not know, malformed cpusets, device paths outside `/dev/`.\n\n## Why is this bad?\nA newline in a value starts a new config line: it is an injection into the container's configuration.\n\n## Example\n```json\n{\"process\": {\"apparmorProfile\": \"unconfined\\nlxc.cap.keep=\"}}\n```\nUse instead: a value on one line, without control characters:\n```json\n{\"process\": {\"apparmorProfile\": \"lxc-container-default-cgns\"}}\n```",
};

pub static SYSCTL_READ_ONLY: Rule = Rule {
    code: "pve/sysctl-read-only",
    severity: Warning,
    summary: "An IPC sysctl cannot be set because LXC finds /proc/sys read-only",
    explanation: "## What it does\nReports `linux.sysctl` keys that Proxmox accepts as raw `lxc.sysctl.*` keys (`kernel.msgmax`, `kernel.msgmnb`, `kernel.msgmni`, `kernel.sem`, `kernel.shmall`, `kernel.shmmax`, `kernel.shmmni`, `kernel.shm_rmid_forced`) but that are not written: LXC sets sysctls by writing the container's /proc/sys after it has mounted /proc with `proc:mixed`, which makes /proc/sys read-only, and every Proxmox container gets `proc:mixed` from LXC's common.conf. LXC then refuses to start the container (\"Read-only file system - Failed to setup sysctl parameters\").\n\n## Why is this bad?\nThe container runs with the kernel's defaults for a new IPC namespace, which may be lower than the application expects (PostgreSQL and Oracle set `kernel.shmmax` and `kernel.sem`).\n\n## Example\n```json\n{\"linux\": {\"sysctl\": {\"kernel.shmmax\": \"1073741824\"}}}\n```\nCurrent kernels default `kernel.shmmax` and `kernel.shmall` to very large values; check whether the setting is still needed. Use instead: leave it out:\n```json\n{\"linux\": {\"sysctl\": {}}}\n```",
};

pub static NEEDS_HOST: Rule = Rule {
    code: "pve/needs-host",
    severity: Info,
    summary: "The container relies on something that must exist on the Proxmox node",
    explanation: "## What it does\nNotes what the translation cannot check because it never looks at the node: an AppArmor profile named in `process.apparmorProfile` must be loaded there; a `devN` device is the node's own device node (Proxmox takes its type and numbers from the node, and refuses a path that does not exist); an SELinux label needs SELinux, which Proxmox nodes do not run.\n\n## Why is this bad?\nIf the node lacks it, `pct create` or `pct start` fails, or the setting has no effect.\n\n## Example\n```json\n{\"linux\": {\"devices\": [{\"path\": \"/dev/ttyUSB0\", \"type\": \"c\", \"major\": 188, \"minor\": 0}]}}\n```\nbecomes `dev0: /dev/ttyUSB0`, the node's own USB serial adapter, which works only where the node has one at that path. Nothing needs to change when every node has it; a bundle meant for any node leaves it out. Use instead:\n```json\n{\"linux\": {\"devices\": []}}\n```",
};
