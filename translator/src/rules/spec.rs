//! `spec/…`: the document does not follow the OCI runtime-spec.
//! The field table (`spec::validate`) and the lint stage (`lint::spec`) report them.

use super::Rule;
use crate::diag::Severity::{Error, Warning};

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
