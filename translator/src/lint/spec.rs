//! `spec/…`: the document does not follow the OCI runtime-spec.

use super::Rule;
use crate::diag::Diagnostic;
use crate::diag::Severity::{Error, Warning};
use crate::spec::{Cursor, OciVersion, Spec};

pub static RULES: &[&Rule] = &[
    &WRONG_TYPE,
    &INVALID_VALUE,
    &OUT_OF_RANGE,
    &MISSING_FIELD,
    &UNKNOWN_FIELD,
    &UNSUPPORTED_VERSION,
    &RELATIVE_CWD,
    &EMPTY_ARGS,
    &RELATIVE_MOUNT_DESTINATION,
    &RELATIVE_PATH,
    &DUPLICATE_NAMESPACE,
    &IDMAP_WITHOUT_USERNS,
    &INVALID_CAPABILITY,
    &INVALID_RLIMIT,
    &DUPLICATE_RLIMIT,
    &HOSTNAME_WITHOUT_UTS,
];

pub static WRONG_TYPE: Rule = Rule {
    code: "spec/wrong-type",
    severity: Error,
    summary: "A field has the wrong JSON type",
    explanation: "## What it does\nReports a value whose JSON type is not the one the runtime-spec defines for that field.\n\n## Why is this bad?\nRuntimes refuse such a config (runc: \"json: cannot unmarshal\"), so the bundle cannot run anywhere.\n\n## Example\n```json\n{\"process\": {\"user\": {\"uid\": \"1000\", \"gid\": 1000}}}\n```\nUse instead: a number:\n```json\n{\"process\": {\"user\": {\"uid\": 1000, \"gid\": 1000}}}\n```\n\n## References\n- runtime-spec, config.md, [Valid values](https://github.com/opencontainers/runtime-spec/blob/v1.2.1/config.md#valid-values): \"Runtimes MUST generate an error when invalid or unsupported values are encountered.\"\n- runtime-spec, config.md, [User](https://github.com/opencontainers/runtime-spec/blob/v1.2.1/config.md#user): `uid` and `gid` are `int`s; every field of config.md and config-linux.md is given with its type.",
};

pub static INVALID_VALUE: Rule = Rule {
    code: "spec/invalid-value",
    severity: Error,
    summary: "A field holds a value the runtime-spec does not allow",
    explanation: "## What it does\nReports an enumerated field (namespace type, seccomp action, propagation, …) whose value is not one the runtime-spec lists, or a string that is not of the required form.\n\n## Why is this bad?\nRuntimes refuse unknown values, or worse, some ignore them.\n\n## Example\n```json\n{\"linux\": {\"namespaces\": [{\"type\": \"networks\"}]}}\n```\nUse instead: a value the runtime-spec lists:\n```json\n{\"linux\": {\"namespaces\": [{\"type\": \"network\"}]}}\n```\n\n## References\n- runtime-spec, config.md, [Valid values](https://github.com/opencontainers/runtime-spec/blob/v1.2.1/config.md#valid-values): \"Runtimes MUST generate an error when invalid or unsupported values are encountered.\"\n- runtime-spec, config-linux.md, [Namespaces](https://github.com/opencontainers/runtime-spec/blob/v1.2.1/config-linux.md#namespaces): the namespace types (`pid`, `network`, `mount`, `ipc`, `uts`, `user`, `cgroup`, and from 1.1 `time`).",
};

pub static OUT_OF_RANGE: Rule = Rule {
    code: "spec/out-of-range",
    severity: Error,
    summary: "A number does not fit the field's integer type",
    explanation: "## What it does\nReports numbers that are fractional where an integer is required, or outside the range of the field's type (uint32 for ids, int64 for limits, …).\n\n## Why is this bad?\nRuntimes written in Go or C refuse or silently truncate them; a uid of 4294967296 must not become 0.\n\n## Example\n```json\n{\"process\": {\"user\": {\"uid\": 4294967296, \"gid\": 0}}}\n```\nUse instead: an id that fits 32 bits:\n```json\n{\"process\": {\"user\": {\"uid\": 1000, \"gid\": 0}}}\n```\n\n## References\n- runtime-spec, config.md, [User](https://github.com/opencontainers/runtime-spec/blob/v1.2.1/config.md#user): `uid` and `gid` are the user and group ids in the container; the spec's schema ([defs.json](https://github.com/opencontainers/runtime-spec/blob/v1.2.1/schema/defs.json)) defines `UID` and `GID` as `uint32` (0 to 4294967295).",
};

pub static MISSING_FIELD: Rule = Rule {
    code: "spec/missing-field",
    severity: Error,
    summary: "A field the runtime-spec requires is missing",
    explanation: "## What it does\nReports required fields that are absent: `ociVersion`, a mount's `destination`, a namespace's `type`, an id mapping's `containerID`/`hostID`/`size`, `process.cwd` when a process is given, and the like.\n\n## Why is this bad?\nWithout them the configuration is ambiguous; runtimes refuse it.\n\n## Example\n```json\n{\"process\": {\"args\": [\"sh\"]}}\n```\nUse instead: the required `ociVersion` and `process.cwd`:\n```json\n{\"ociVersion\": \"1.2.0\", \"process\": {\"cwd\": \"/\", \"args\": [\"sh\"]}}\n```\n\n## References\n- runtime-spec, config.md, [Specification version](https://github.com/opencontainers/runtime-spec/blob/v1.2.1/config.md#specification-version) and [Process](https://github.com/opencontainers/runtime-spec/blob/v1.2.1/config.md#process): `ociVersion` is REQUIRED, and so is `cwd` when `process` is given.",
};

pub static UNKNOWN_FIELD: Rule = Rule {
    code: "spec/unknown-field",
    severity: Warning,
    summary: "A field is not part of the runtime-spec",
    explanation: "## What it does\nReports object keys that the runtime-spec (up to 1.3) does not define, with a suggestion when the key looks like a misspelt one.\n\n## Why is this bad?\nRuntimes ignore unknown keys silently, so a typo such as `hostnmae` is lost without a word. Extensions belong in `annotations`.\n\n## Example\n```json\n{\"hostnmae\": \"web\"}\n```\nUse instead: the field's name as the runtime-spec spells it:\n```json\n{\"hostname\": \"web\"}\n```\n\n## References\n- runtime-spec, config.md, [Extensibility](https://github.com/opencontainers/runtime-spec/blob/v1.2.1/config.md#extensibility): \"Runtimes MAY log unknown properties but MUST otherwise ignore them.\"",
};

pub static UNSUPPORTED_VERSION: Rule = Rule {
    code: "spec/unsupported-version",
    severity: Error,
    summary: "The declared ociVersion is not 1.0.x to 1.3.x",
    explanation: "## What it does\nRefuses configs whose `ociVersion` is not a 1.0, 1.1, 1.2 or 1.3 release (with an optional pre-release suffix such as `1.0.2-dev`).\n\n## Why is this bad?\nThe meaning of fields can change between major versions; translating a config written for a spec we do not know would be guesswork.\n\n## Example\n```json\n{\"ociVersion\": \"2.0.0\"}\n```\nUse instead: a released version:\n```json\n{\"ociVersion\": \"1.2.0\"}\n```\n\n## References\n- runtime-spec, config.md, [Specification version](https://github.com/opencontainers/runtime-spec/blob/v1.2.1/config.md#specification-version): \"`ociVersion` (string, REQUIRED) MUST be in SemVer v2.0.0 format and specifies the version of the Open Container Initiative Runtime Specification with which the bundle complies.\"",
};

// The rules below are the runtime-spec's MUST and SHOULD requirements that the
// field table cannot express; `check` finds them in a validated spec.

pub static RELATIVE_CWD: Rule = Rule {
    code: "spec/relative-cwd",
    severity: Error,
    summary: "The process's working directory is not an absolute path",
    explanation: "## What it does\nReports a `process.cwd` that does not start with `/`.\n\n## Why is this bad?\nThe runtime-spec says the value MUST be an absolute path; runtimes refuse relative ones or resolve them differently, and Proxmox has no relative form of `lxc.init.cwd`.\n\n## Example\n```json\n{\"process\": {\"cwd\": \"app\", \"args\": [\"./server\"]}}\n```\nUse instead:\n```json\n{\"process\": {\"cwd\": \"/app\", \"args\": [\"./server\"]}}\n```\n\n## References\n- runtime-spec, config.md, [Process](https://github.com/opencontainers/runtime-spec/blob/v1.2.1/config.md#process): \"`cwd` … This value MUST be an absolute path.\"",
};

pub static EMPTY_ARGS: Rule = Rule {
    code: "spec/empty-args",
    severity: Error,
    summary: "A process is given without any `args`",
    explanation: "## What it does\nReports a `process` object whose `args` is missing or an empty array.\n\n## Why is this bad?\nOn Linux the runtime-spec REQUIRES at least one entry in `args`; it names the program to run. Runtimes refuse to start the container, and Proxmox would run `/sbin/init` instead of the intended program.\n\n## Example\n```json\n{\"process\": {\"cwd\": \"/\", \"args\": []}}\n```\nUse instead:\n```json\n{\"process\": {\"cwd\": \"/\", \"args\": [\"/usr/bin/server\"]}}\n```\n\n## References\n- runtime-spec, config.md, [Process](https://github.com/opencontainers/runtime-spec/blob/v1.2.1/config.md#process): \"`args` … at least one entry is REQUIRED (non-Windows)\".",
};

pub static RELATIVE_MOUNT_DESTINATION: Rule = Rule {
    code: "spec/relative-mount-destination",
    severity: Error,
    summary: "A mount destination is not an absolute path",
    explanation: "## What it does\nReports a mount whose `destination` does not start with `/`. Up to runtime-spec 1.1 this is an error (MUST be absolute); from 1.2 relative destinations are deprecated (SHOULD be absolute) and the finding is a warning.\n\n## Why is this bad?\nOlder runtimes refuse the config; newer ones resolve the path against `/`, which is easy to misread. Proxmox mount points need absolute paths.\n\n## Example\n```json\n{\"ociVersion\": \"1.1.0\", \"mounts\": [{\"destination\": \"data\", \"source\": \"/srv/data\", \"options\": [\"bind\"]}]}\n```\nFrom runtime-spec 1.2 the finding is a warning, and Proxmox's refusal of the relative path (`pve/invalid-path`, an error) is reported instead. Use instead:\n```json\n{\"ociVersion\": \"1.1.0\", \"mounts\": [{\"destination\": \"/data\", \"source\": \"/srv/data\", \"options\": [\"bind\"]}]}\n```\n\n## References\n- runtime-spec v1.0.2 and v1.1.0, config.md, [Mounts](https://github.com/opencontainers/runtime-spec/blob/v1.1.0/config.md#mounts): \"This value MUST be an absolute path.\"\n- runtime-spec v1.2.0 and later, config.md, [Mounts](https://github.com/opencontainers/runtime-spec/blob/v1.2.1/config.md#mounts): \"Linux: This value SHOULD be an absolute path … Relative paths are deprecated.\"",
};

pub static RELATIVE_PATH: Rule = Rule {
    code: "spec/relative-path",
    severity: Error,
    summary: "A path the runtime-spec requires to be absolute is relative",
    explanation: "## What it does\nReports relative paths where the runtime-spec requires absolute ones: a namespace's `path`, the entries of `linux.maskedPaths` and `linux.readonlyPaths`, and a hook's `path`.\n\n## Why is this bad?\nA relative path is resolved against whatever directory the runtime happens to run in, so the container may join the wrong namespace, or a path meant to be hidden stays visible.\n\n## Example\n```json\n{\"linux\": {\"maskedPaths\": [\"proc/kcore\"]}}\n```\nUse instead:\n```json\n{\"linux\": {\"maskedPaths\": [\"/proc/kcore\"]}}\n```\n\n## References\n- runtime-spec, config-linux.md, [Namespaces](https://github.com/opencontainers/runtime-spec/blob/v1.2.1/config-linux.md#namespaces): \"`path` … This value MUST be an absolute path\".\n- config-linux.md, [Masked Paths](https://github.com/opencontainers/runtime-spec/blob/v1.2.1/config-linux.md#masked-paths) and [Readonly Paths](https://github.com/opencontainers/runtime-spec/blob/v1.2.1/config-linux.md#readonly-paths): \"The values MUST be absolute paths\".\n- config.md, [POSIX-platform Hooks](https://github.com/opencontainers/runtime-spec/blob/v1.2.1/config.md#posix-platform-hooks): \"`path` … MUST be absolute\".",
};

pub static DUPLICATE_NAMESPACE: Rule = Rule {
    code: "spec/duplicate-namespace",
    severity: Error,
    summary: "A namespace type is listed twice",
    explanation: "## What it does\nReports a `linux.namespaces` entry whose `type` an earlier entry already has.\n\n## Why is this bad?\nThe runtime-spec says the runtime MUST generate an error, so the container does not start; which of the two entries was meant is unclear.\n\n## Example\n```json\n{\"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"pid\", \"path\": \"/proc/1/ns/pid\"}]}}\n```\nUse instead:\n```json\n{\"linux\": {\"namespaces\": [{\"type\": \"pid\"}]}}\n```\n\n## References\n- runtime-spec, config-linux.md, [Namespaces](https://github.com/opencontainers/runtime-spec/blob/v1.2.1/config-linux.md#namespaces): \"If a `namespaces` field contains duplicated namespaces with same `type`, the runtime MUST generate an error.\"",
};

pub static IDMAP_WITHOUT_USERNS: Rule = Rule {
    code: "spec/idmap-without-userns",
    severity: Error,
    summary: "Id mappings are given but there is no user namespace",
    explanation: "## What it does\nReports `linux.uidMappings` or `linux.gidMappings` in a config whose `linux.namespaces` has no `user` entry.\n\n## Why is this bad?\nThe mappings describe the user namespace; without one the container would inherit the host's user namespace, so the mappings cannot apply. runc refuses such a config (\"user namespace mappings specified, but user namespace isn't enabled\"), and the author probably meant an unprivileged container.\n\n## Example\n```json\n{\"linux\": {\"namespaces\": [{\"type\": \"pid\"}], \"uidMappings\": [{\"containerID\": 0, \"hostID\": 100000, \"size\": 65536}]}}\n```\nUse instead:\n```json\n{\"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"user\"}], \"uidMappings\": [{\"containerID\": 0, \"hostID\": 100000, \"size\": 65536}]}}\n```\n\n## References\n- runtime-spec, config-linux.md, [User namespace mappings](https://github.com/opencontainers/runtime-spec/blob/v1.2.1/config-linux.md#user-namespace-mappings): the mappings are \"the user namespace uid mappings\"; and [Namespaces](https://github.com/opencontainers/runtime-spec/blob/v1.2.1/config-linux.md#namespaces): \"If a namespace type is not specified in the `namespaces` array, the container MUST inherit the runtime namespace of that type.\"",
};

pub static INVALID_CAPABILITY: Rule = Rule {
    code: "spec/invalid-capability",
    severity: Error,
    summary: "A capability name is not one capabilities(7) defines",
    explanation: "## What it does\nReports entries of `process.capabilities` sets that are not Linux capability names (`CAP_` followed by a name from capabilities(7), in upper case). Up to runtime-spec 1.0 an unknown name MUST cause an error; from 1.1 runtimes MUST log a warning instead, so the finding is a warning there.\n\n## Why is this bad?\nA misspelt capability is silently not granted by newer runtimes, and LXC refuses to start a container whose `lxc.cap.keep` names one.\n\n## Example\n```json\n{\"ociVersion\": \"1.0.2\", \"process\": {\"capabilities\": {\"bounding\": [\"CAP_NET_BIND\"]}}}\n```\nFrom runtime-spec 1.1 the finding is a warning, and LXC's refusal of the name (`pve/unknown-capability`, an error) is reported instead. Use instead:\n```json\n{\"ociVersion\": \"1.0.2\", \"process\": {\"capabilities\": {\"bounding\": [\"CAP_NET_BIND_SERVICE\"]}}}\n```\n\n## References\n- runtime-spec v1.0.2, config.md, [Linux Process](https://github.com/opencontainers/runtime-spec/blob/v1.0.2/config.md#linux-process): \"Any value which cannot be mapped to a relevant kernel interface MUST cause an error.\"\n- runtime-spec v1.1.0 and later, config.md, [Linux Process](https://github.com/opencontainers/runtime-spec/blob/v1.2.1/config.md#linux-process): \"… MUST be logged as a warning by the runtime.\"",
};

pub static INVALID_RLIMIT: Rule = Rule {
    code: "spec/invalid-rlimit",
    severity: Error,
    summary: "An rlimit type is not a Linux resource limit",
    explanation: "## What it does\nReports `process.rlimits` entries whose `type` is not one of the resources getrlimit(2) defines on Linux (`RLIMIT_AS`, `RLIMIT_CORE`, `RLIMIT_CPU`, `RLIMIT_DATA`, `RLIMIT_FSIZE`, `RLIMIT_LOCKS`, `RLIMIT_MEMLOCK`, `RLIMIT_MSGQUEUE`, `RLIMIT_NICE`, `RLIMIT_NOFILE`, `RLIMIT_NPROC`, `RLIMIT_RSS`, `RLIMIT_RTPRIO`, `RLIMIT_RTTIME`, `RLIMIT_SIGPENDING`, `RLIMIT_STACK`).\n\n## Why is this bad?\nThe runtime-spec says the runtime MUST generate an error for values it cannot map to the kernel, so the container does not start.\n\n## Example\n```json\n{\"process\": {\"rlimits\": [{\"type\": \"RLIMIT_FILES\", \"soft\": 1024, \"hard\": 1024}]}}\n```\nUse instead:\n```json\n{\"process\": {\"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"soft\": 1024, \"hard\": 1024}]}}\n```\n\n## References\n- runtime-spec, config.md, [POSIX process](https://github.com/opencontainers/runtime-spec/blob/v1.2.1/config.md#posix-process): \"The runtime MUST generate an error for any values which cannot be mapped to a relevant kernel interface.\"",
};

pub static DUPLICATE_RLIMIT: Rule = Rule {
    code: "spec/duplicate-rlimit",
    severity: Error,
    summary: "The same rlimit type is given twice",
    explanation: "## What it does\nReports a `process.rlimits` entry whose `type` an earlier entry already has.\n\n## Why is this bad?\nThe runtime-spec says the runtime MUST generate an error, so the container does not start; which limit was meant is unclear.\n\n## Example\n```json\n{\"process\": {\"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"soft\": 1024, \"hard\": 1024}, {\"type\": \"RLIMIT_NOFILE\", \"soft\": 4096, \"hard\": 4096}]}}\n```\nUse instead:\n```json\n{\"process\": {\"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"soft\": 4096, \"hard\": 4096}]}}\n```\n\n## References\n- runtime-spec, config.md, [POSIX process](https://github.com/opencontainers/runtime-spec/blob/v1.2.1/config.md#posix-process): \"If `rlimits` contains duplicated entries with same `type`, the runtime MUST generate an error.\"",
};

pub static HOSTNAME_WITHOUT_UTS: Rule = Rule {
    code: "spec/hostname-without-uts",
    severity: Error,
    summary: "A host or domain name is set without a UTS namespace",
    explanation: "## What it does\nReports a non-empty `hostname` or `domainname` in a config whose `linux.namespaces` has no `uts` entry.\n\n## Why is this bad?\nWithout its own UTS namespace the container shares the runtime's, so setting the name would rename the host. runc and crun refuse to start such a container.\n\n## Example\n```json\n{\"hostname\": \"web\", \"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"mount\"}]}}\n```\nUse instead:\n```json\n{\"hostname\": \"web\", \"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"mount\"}, {\"type\": \"uts\"}]}}\n```\n\n## References\n- runtime-spec, config.md, [Hostname](https://github.com/opencontainers/runtime-spec/blob/v1.2.1/config.md#hostname): \"Depending on your namespace configuration, the container UTS namespace may be the runtime UTS namespace.\"\n- config-linux.md, [Namespaces](https://github.com/opencontainers/runtime-spec/blob/v1.2.1/config-linux.md#namespaces): \"If a namespace type is not specified in the `namespaces` array, the container MUST inherit the runtime namespace of that type.\"",
};

/// Linux capability names (capabilities(7), up to CAP_CHECKPOINT_RESTORE, Linux 5.9).
pub const CAPABILITIES: &[&str] = &[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

/// The capability sets of `process.capabilities`, in the order findings prefer them.
pub const CAPABILITY_SETS: &[&str] = &["bounding", "effective", "permitted", "inheritable", "ambient"];

/// Linux resource limits (getrlimit(2)).
pub const RLIMIT_TYPES: &[&str] = &[
    "RLIMIT_AS",
    "RLIMIT_CORE",
    "RLIMIT_CPU",
    "RLIMIT_DATA",
    "RLIMIT_FSIZE",
    "RLIMIT_LOCKS",
    "RLIMIT_MEMLOCK",
    "RLIMIT_MSGQUEUE",
    "RLIMIT_NICE",
    "RLIMIT_NOFILE",
    "RLIMIT_NPROC",
    "RLIMIT_RSS",
    "RLIMIT_RTPRIO",
    "RLIMIT_RTTIME",
    "RLIMIT_SIGPENDING",
    "RLIMIT_STACK",
];

/// Findings of the rules above in a validated spec, in document order.
pub fn check(spec: &Spec) -> Vec<Diagnostic> {
    let root = spec.cursor();
    let version = spec.version;
    let mut out = Vec::new();
    if let Some(process) = root.get("process") {
        process_rules(&process, version, &mut out);
    }
    mount_destinations(&root, version, &mut out);
    absolute_paths(&root, &mut out);
    namespace_rules(&root, &mut out);
    out
}

/// Whether the declared version is older than `major.minor`; an unknown
/// version is read as the newest, whose rules are the more lenient.
fn older_than(version: Option<OciVersion>, major: u32, minor: u32) -> bool {
    version.is_some_and(|v| (v.major, v.minor) < (major, minor))
}

fn process_rules(process: &Cursor<'_>, version: Option<OciVersion>, out: &mut Vec<Diagnostic>) {
    if let Some(cwd) = process.get("cwd") {
        if let Some(path) = cwd.str().filter(|p| !p.starts_with('/')) {
            out.push(
                Diagnostic::new(&RELATIVE_CWD, format!("the working directory `{}` is not an absolute path", path.escape_debug()))
                    .at(cwd.ptr(), cwd.span())
                    .with_label("relative path")
                    .with_help(format!("write it from the root: `/{}`", path.trim_start_matches("./"))),
            );
        }
    }
    match process.get("args") {
        None => out.push(
            Diagnostic::new(&EMPTY_ARGS, "the process has no `args`, so nothing says what to run")
                .at(process.ptr(), process.span())
                .with_label("no `args`")
                .with_help("add `\"args\": [\"/path/to/program\"]`"),
        ),
        Some(args) if args.items().is_empty() => out.push(
            Diagnostic::new(&EMPTY_ARGS, "`args` is empty, so nothing says what to run")
                .at(args.ptr(), args.span())
                .with_label("empty")
                .with_help("name the program to run as the first entry"),
        ),
        Some(_) => {}
    }
    capabilities(process, version, out);
    rlimits(process, out);
}

fn capabilities(process: &Cursor<'_>, version: Option<OciVersion>, out: &mut Vec<Diagnostic>) {
    let Some(caps) = process.get("capabilities") else { return };
    let severity = if older_than(version, 1, 1) { Error } else { Warning };
    for set in CAPABILITY_SETS {
        for item in caps.get(set).map(|s| s.items()).unwrap_or_default() {
            let Some(name) = item.str() else { continue };
            if CAPABILITIES.contains(&name) {
                continue;
            }
            let mut d = Diagnostic::new(&INVALID_CAPABILITY, format!("`{}` in the {set} set is not a Linux capability", name.escape_debug()))
                .at(item.ptr(), item.span())
                .with_label("unknown capability")
                .with_severity(severity);
            let upper = name.to_ascii_uppercase();
            let prefixed = if upper.starts_with("CAP_") { upper } else { format!("CAP_{upper}") };
            if let Some(hint) = crate::spec::validate::suggest(&prefixed, CAPABILITIES.iter().copied()) {
                d = d.with_help(format!("did you mean `{hint}`?"));
            }
            out.push(d);
        }
    }
}

fn rlimits(process: &Cursor<'_>, out: &mut Vec<Diagnostic>) {
    let Some(list) = process.get("rlimits") else { return };
    let mut seen: Vec<(&str, crate::source::Span)> = Vec::new();
    for item in list.items() {
        let Some(kind_at) = item.get("type") else { continue };
        let Some(kind) = kind_at.str() else { continue };
        if !RLIMIT_TYPES.contains(&kind) {
            let mut d = Diagnostic::new(&INVALID_RLIMIT, format!("`{}` is not a Linux resource limit", kind.escape_debug()))
                .at(item.ptr(), kind_at.span())
                .with_label("unknown rlimit");
            if let Some(hint) = crate::spec::validate::suggest(kind, RLIMIT_TYPES.iter().copied()) {
                d = d.with_help(format!("did you mean `{hint}`?"));
            }
            out.push(d);
            continue;
        }
        if let Some((_, first)) = seen.iter().find(|(k, _)| *k == kind) {
            out.push(
                Diagnostic::new(&DUPLICATE_RLIMIT, format!("{kind} is limited twice"))
                    .at(item.ptr(), kind_at.span())
                    .with_label("second entry")
                    .with_related(*first, "first entry")
                    .with_help("keep one entry per type"),
            );
            continue;
        }
        seen.push((kind, kind_at.span()));
    }
}

fn mount_destinations(root: &Cursor<'_>, version: Option<OciVersion>, out: &mut Vec<Diagnostic>) {
    let severity = if older_than(version, 1, 2) { Error } else { Warning };
    for m in root.get("mounts").map(|m| m.items()).unwrap_or_default() {
        let Some(dest) = m.get("destination") else { continue };
        let Some(path) = dest.str().filter(|p| !p.starts_with('/')) else { continue };
        let why = if severity == Error { "runtime-spec before 1.2 requires an absolute path" } else { "relative destinations are deprecated since runtime-spec 1.2" };
        out.push(
            Diagnostic::new(&RELATIVE_MOUNT_DESTINATION, format!("the mount destination `{}` is not an absolute path: {why}", path.escape_debug()))
                .at(dest.ptr(), dest.span())
                .with_label("relative path")
                .with_severity(severity)
                .with_help(format!("write it from the container's root: `/{}`", path.trim_start_matches("./"))),
        );
    }
}

fn absolute_paths(root: &Cursor<'_>, out: &mut Vec<Diagnostic>) {
    let mut relative = |at: &Cursor<'_>, what: &str| {
        if let Some(path) = at.str().filter(|p| !p.starts_with('/')) {
            out.push(
                Diagnostic::new(&RELATIVE_PATH, format!("{what} `{}` is not an absolute path", path.escape_debug()))
                    .at(at.ptr(), at.span())
                    .with_label("relative path"),
            );
        }
    };
    let linux = root.get("linux");
    for ns in linux.as_ref().and_then(|l| l.get("namespaces")).map(|n| n.items()).unwrap_or_default() {
        if let Some(path) = ns.get("path") {
            relative(&path, "the namespace path");
        }
    }
    for (key, what) in [("maskedPaths", "the masked path"), ("readonlyPaths", "the read-only path")] {
        for item in linux.as_ref().and_then(|l| l.get(key)).map(|p| p.items()).unwrap_or_default() {
            relative(&item, what);
        }
    }
    for (_, _, phase) in root.get("hooks").map(|h| h.entries()).unwrap_or_default() {
        for hook in phase.items() {
            if let Some(path) = hook.get("path") {
                relative(&path, "the hook path");
            }
        }
    }
}

fn namespace_rules(root: &Cursor<'_>, out: &mut Vec<Diagnostic>) {
    let linux = root.get("linux");
    let list = linux.as_ref().and_then(|l| l.get("namespaces"));
    let mut seen: Vec<(&str, crate::source::Span)> = Vec::new();
    for ns in list.as_ref().map(|l| l.items()).unwrap_or_default() {
        let Some(kind_at) = ns.get("type") else { continue };
        let Some(kind) = kind_at.str() else { continue };
        if let Some((_, first)) = seen.iter().find(|(k, _)| *k == kind) {
            out.push(
                Diagnostic::new(&DUPLICATE_NAMESPACE, format!("the `{kind}` namespace is listed twice"))
                    .at(ns.ptr(), kind_at.span())
                    .with_label("second entry")
                    .with_related(*first, "first entry")
                    .with_help("keep one entry per namespace type"),
            );
            continue;
        }
        seen.push((kind, kind_at.span()));
    }
    let has = |kind: &str| seen.iter().any(|(k, _)| *k == kind);
    if let Some(linux) = &linux {
        if !has("user") {
            for key in ["uidMappings", "gidMappings"] {
                let Some(maps) = linux.get(key) else { continue };
                if maps.items().is_empty() {
                    continue;
                }
                out.push(
                    Diagnostic::new(&IDMAP_WITHOUT_USERNS, format!("`{key}` is given, but there is no user namespace for it to map"))
                        .at(maps.ptr(), maps.span())
                        .with_label("no `user` namespace")
                        .with_help("add {\"type\": \"user\"} to linux.namespaces, or remove the mappings"),
                );
            }
        }
    }
    if !has("uts") {
        for key in ["hostname", "domainname"] {
            let Some(at) = root.get(key) else { continue };
            if at.str().is_some_and(|s| !s.is_empty()) {
                let where_ = if list.is_some() { "linux.namespaces has no `uts` entry" } else { "the config lists no namespaces" };
                out.push(
                    Diagnostic::new(&HOSTNAME_WITHOUT_UTS, format!("`{key}` is set, but {where_}, so the container would share the host's"))
                        .at(at.ptr(), at.span())
                        .with_label("needs a UTS namespace")
                        .with_help("add {\"type\": \"uts\"} to linux.namespaces"),
                );
            }
        }
    }
}
