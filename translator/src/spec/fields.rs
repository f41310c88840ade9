//! Every field of OCI runtime-spec 1.3 as data: its JSON type, whether it is
//! required, and how the Proxmox translation handles it.
//!
//! This one table drives type checking and unknown-field reporting
//! (`super::validate`), the generic diagnostics for fields Proxmox cannot
//! express (`lower::table`), and the coverage test that compares it with the
//! runtime-spec JSON Schema. A field missing here is reported as unknown, so
//! nothing can be dropped silently.

/// Integer types of the runtime-spec (Go types in the reference implementation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Int {
    /// Go `int32`.
    I32,
    /// Go `int64`.
    I64,
    /// Go `uint16`.
    U16,
    /// Go `uint32`.
    U32,
    /// Go `uint64`.
    U64,
}

impl Int {
    /// The Go type name, as messages show it.
    pub fn name(self) -> &'static str {
        match self {
            Int::I32 => "int32",
            Int::I64 => "int64",
            Int::U16 => "uint16",
            Int::U32 => "uint32",
            Int::U64 => "uint64",
        }
    }

    /// The smallest and largest value the type holds.
    pub fn range(self) -> (i128, i128) {
        match self {
            Int::I32 => (i32::MIN.into(), i32::MAX.into()),
            Int::I64 => (i64::MIN.into(), i64::MAX.into()),
            Int::U16 => (0, u16::MAX.into()),
            Int::U32 => (0, u32::MAX.into()),
            Int::U64 => (0, u64::MAX.into()),
        }
    }
}

/// The JSON type of a field in the runtime-spec.
#[derive(Debug)]
pub enum Ty {
    /// Not checked: sections for other platforms, ignored as a whole.
    Any,
    /// `true` or `false`.
    Bool,
    /// A string.
    Str,
    /// An integer of a Go type.
    Int(Int),
    /// A string from a fixed set.
    Enum(&'static [&'static str]),
    /// An array of one item type.
    Array(&'static Ty),
    /// An object with free-form keys (annotations, sysctl, …).
    Map(&'static Ty),
    /// An object with these fields.
    Obj(&'static [Field]),
}

/// What the Proxmox translation does with a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handling {
    /// A lowering module reads it (and reports whatever it cannot express).
    Lower,
    /// An object whose fields each have their own handling.
    Fields,
    /// Proxmox/LXC has no equivalent: reported as `pve/unsupported` when present.
    Unsupported(&'static str),
    /// Deliberately not used: reported as `pve/ignored-by-design` when present.
    Ignored(&'static str),
}

/// One field of the runtime-spec: its name, type, whether it is required, and what the
/// translation does with it.
#[derive(Debug)]
pub struct Field {
    /// The JSON member name.
    pub name: &'static str,
    /// Its type.
    pub ty: Ty,
    /// Whether the runtime-spec requires it in its object.
    pub required: bool,
    /// What the Proxmox translation does with it.
    pub handling: Handling,
    /// The runtime-spec release that introduced the field.
    pub since: &'static str,
}

use Handling::{Fields, Ignored, Lower, Unsupported};

const fn f(name: &'static str, ty: Ty, handling: Handling) -> Field {
    Field {
        name,
        ty,
        required: false,
        handling,
        since: "1.0.0",
    }
}

const fn req(name: &'static str, ty: Ty, handling: Handling) -> Field {
    Field {
        name,
        ty,
        required: true,
        handling,
        since: "1.0.0",
    }
}

const fn since(mut field: Field, version: &'static str) -> Field {
    field.since = version;
    field
}

const STR: Ty = Ty::Str;
const BOOL: Ty = Ty::Bool;
const I32: Ty = Ty::Int(Int::I32);
const I64: Ty = Ty::Int(Int::I64);
const U16: Ty = Ty::Int(Int::U16);
const U32: Ty = Ty::Int(Int::U32);
const U64: Ty = Ty::Int(Int::U64);
const STRS: Ty = Ty::Array(&Ty::Str);

/// runtime-spec's namespace types (`config-linux.md`); the executor's `features` lists them.
pub const NAMESPACE_TYPES: &[&str] = &[
    "pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time",
];
pub(crate) const PROPAGATIONS: &[&str] = &[
    "private",
    "shared",
    "slave",
    "unbindable",
    "rprivate",
    "rshared",
    "rslave",
    "runbindable",
];
/// The seccomp actions the field table accepts; the executor's `features` lists them.
pub const SECCOMP_ACTIONS: &[&str] = &[
    "SCMP_ACT_KILL",
    "SCMP_ACT_KILL_PROCESS",
    "SCMP_ACT_KILL_THREAD",
    "SCMP_ACT_TRAP",
    "SCMP_ACT_ERRNO",
    "SCMP_ACT_TRACE",
    "SCMP_ACT_ALLOW",
    "SCMP_ACT_LOG",
    "SCMP_ACT_NOTIFY",
];
/// The seccomp argument operators the field table accepts; listed by `features`.
pub const SECCOMP_OPS: &[&str] = &[
    "SCMP_CMP_NE",
    "SCMP_CMP_LT",
    "SCMP_CMP_LE",
    "SCMP_CMP_EQ",
    "SCMP_CMP_GE",
    "SCMP_CMP_GT",
    "SCMP_CMP_MASKED_EQ",
];
/// The seccomp architectures the field table accepts; listed by `features`.
pub const SECCOMP_ARCHES: &[&str] = &[
    "SCMP_ARCH_X86",
    "SCMP_ARCH_X86_64",
    "SCMP_ARCH_X32",
    "SCMP_ARCH_ARM",
    "SCMP_ARCH_AARCH64",
    "SCMP_ARCH_MIPS",
    "SCMP_ARCH_MIPS64",
    "SCMP_ARCH_MIPS64N32",
    "SCMP_ARCH_MIPSEL",
    "SCMP_ARCH_MIPSEL64",
    "SCMP_ARCH_MIPSEL64N32",
    "SCMP_ARCH_PPC",
    "SCMP_ARCH_PPC64",
    "SCMP_ARCH_PPC64LE",
    "SCMP_ARCH_S390",
    "SCMP_ARCH_S390X",
    "SCMP_ARCH_PARISC",
    "SCMP_ARCH_PARISC64",
    "SCMP_ARCH_RISCV64",
    "SCMP_ARCH_LOONGARCH64",
    "SCMP_ARCH_M68K",
    "SCMP_ARCH_SH",
    "SCMP_ARCH_SHEB",
];
pub(crate) const SECCOMP_FLAGS: &[&str] = &[
    "SECCOMP_FILTER_FLAG_TSYNC",
    "SECCOMP_FILTER_FLAG_LOG",
    "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
];
pub(crate) const DEVICE_TYPES: &[&str] = &["c", "b", "u", "p"];
pub(crate) const IO_PRIORITY_CLASSES: &[&str] =
    &["IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE", "IOPRIO_CLASS_IDLE"];
pub(crate) const SCHED_POLICIES: &[&str] = &[
    "SCHED_OTHER",
    "SCHED_FIFO",
    "SCHED_RR",
    "SCHED_BATCH",
    "SCHED_ISO",
    "SCHED_IDLE",
    "SCHED_DEADLINE",
];
pub(crate) const SCHED_FLAGS: &[&str] = &[
    "SCHED_FLAG_RESET_ON_FORK",
    "SCHED_FLAG_RECLAIM",
    "SCHED_FLAG_DL_OVERRUN",
    "SCHED_FLAG_KEEP_POLICY",
    "SCHED_FLAG_KEEP_PARAMS",
    "SCHED_FLAG_UTIL_CLAMP_MIN",
    "SCHED_FLAG_UTIL_CLAMP_MAX",
];
pub(crate) const PERSONALITY_DOMAINS: &[&str] = &["LINUX", "LINUX32"];
pub(crate) const MEMORY_POLICY_MODES: &[&str] = &[
    "MPOL_DEFAULT",
    "MPOL_BIND",
    "MPOL_INTERLEAVE",
    "MPOL_WEIGHTED_INTERLEAVE",
    "MPOL_PREFERRED",
    "MPOL_PREFERRED_MANY",
    "MPOL_LOCAL",
];
pub(crate) const MEMORY_POLICY_FLAGS: &[&str] = &[
    "MPOL_F_NUMA_BALANCING",
    "MPOL_F_RELATIVE_NODES",
    "MPOL_F_STATIC_NODES",
];

const ID_MAPPING: Ty = Ty::Obj(&[
    req("containerID", U32, Lower),
    req("hostID", U32, Lower),
    req("size", U32, Lower),
]);
const ID_MAPPINGS: Ty = Ty::Array(&ID_MAPPING);

const HOOK: Ty = Ty::Obj(&[
    req("path", STR, Lower),
    f("args", STRS, Lower),
    f("env", STRS, Lower),
    f("timeout", Ty::Int(Int::I64), Lower),
]);
const HOOKS: Ty = Ty::Array(&HOOK);
const HOOK_WHY: &str = "Proxmox runs its own LXC hooks and has no per-container OCI hook phases; `lxc.hook.*` keys exist but run at different times with different arguments and environment";

const ROOT: &[Field] = &[req("path", STR, Lower), f("readonly", BOOL, Lower)];

const MOUNT: &[Field] = &[
    req("destination", STR, Lower),
    f("source", STR, Lower),
    f("options", STRS, Lower),
    f("type", STR, Lower),
    since(f("uidMappings", ID_MAPPINGS, Lower), "1.1.0"),
    since(f("gidMappings", ID_MAPPINGS, Lower), "1.1.0"),
];

const CAPABILITIES: &[Field] = &[
    f("bounding", STRS, Lower),
    f("effective", STRS, Lower),
    f("inheritable", STRS, Lower),
    f("permitted", STRS, Lower),
    f("ambient", STRS, Lower),
];

const RLIMIT: &[Field] = &[
    req("type", STR, Lower),
    req("soft", U64, Lower),
    req("hard", U64, Lower),
];

const USER: &[Field] = &[
    f("uid", U32, Lower),
    f("gid", U32, Lower),
    since(
        f(
            "umask",
            U32,
            Unsupported("LXC sets no umask for init; the init process inherits LXC's umask (022)"),
        ),
        "1.0.2",
    ),
    f("additionalGids", Ty::Array(&U32), Lower),
    f(
        "username",
        STR,
        Ignored("`username` is for Windows containers"),
    ),
];

const SCHEDULER: &[Field] = &[
    req("policy", Ty::Enum(SCHED_POLICIES), Lower),
    f("nice", I32, Lower),
    f("priority", I32, Lower),
    f("flags", Ty::Array(&Ty::Enum(SCHED_FLAGS)), Lower),
    f("runtime", U64, Lower),
    f("deadline", U64, Lower),
    f("period", U64, Lower),
];

const PROCESS: &[Field] = &[
    f("terminal", BOOL, Lower),
    f("consoleSize", Ty::Obj(&[req("height", Ty::Int(Int::U32), Lower), req("width", Ty::Int(Int::U32), Lower)]), Unsupported("the console size of a Proxmox container is set by the client that attaches (pct console, the web UI)")),
    req("cwd", STR, Lower),
    f("env", STRS, Lower),
    f("args", STRS, Lower),
    f("commandLine", STR, Ignored("`commandLine` is for Windows containers")),
    f("rlimits", Ty::Array(&Ty::Obj(RLIMIT)), Lower),
    f("apparmorProfile", STR, Lower),
    f("capabilities", Ty::Obj(CAPABILITIES), Lower),
    f("noNewPrivileges", BOOL, Lower),
    f("oomScoreAdj", Ty::Int(Int::I32), Unsupported("Proxmox drops `lxc.proc.oom_score_adj` (not on its allow-list)")),
    since(f("scheduler", Ty::Obj(SCHEDULER), Unsupported("LXC has no scheduling-policy key for init")), "1.1.0"),
    f("selinuxLabel", STR, Lower),
    since(f("ioPriority", Ty::Obj(&[req("class", Ty::Enum(IO_PRIORITY_CLASSES), Lower), f("priority", I32, Lower)]), Unsupported("LXC has no I/O priority key for init")), "1.1.0"),
    f("user", Ty::Obj(USER), Lower),
    since(f("execCPUAffinity", Ty::Obj(&[f("initial", STR, Lower), f("final", STR, Lower)]), Unsupported("LXC has no CPU affinity key for init; `linux.resources.cpu.cpus` limits the whole container")), "1.2.0"),
];

const DEVICE: &[Field] = &[
    req("type", Ty::Enum(DEVICE_TYPES), Lower),
    req("path", STR, Lower),
    f("major", I64, Lower),
    f("minor", I64, Lower),
    f("fileMode", U32, Lower),
    f("uid", U32, Lower),
    f("gid", U32, Lower),
];

const DEVICE_CGROUP: &[Field] = &[
    req("allow", BOOL, Lower),
    f("type", STR, Lower),
    f("major", I64, Lower),
    f("minor", I64, Lower),
    f("access", STR, Lower),
];

const MEMORY: &[Field] = &[
    f("limit", I64, Lower),
    f("reservation", I64, Lower),
    f("swap", I64, Lower),
    f("kernel", I64, Unsupported("kernel memory limits do not exist on cgroup v2, which Proxmox VE uses")),
    f("kernelTCP", I64, Unsupported("kernel TCP memory limits do not exist on cgroup v2, which Proxmox VE uses")),
    f("swappiness", U64, Unsupported("cgroup v2, which Proxmox VE uses, has no per-cgroup swappiness")),
    f("disableOOMKiller", BOOL, Lower),
    f("useHierarchy", BOOL, Ignored("cgroup v2 is always hierarchical")),
    since(f("checkBeforeUpdate", BOOL, Ignored("only matters when a runtime updates limits of a running container; Proxmox applies `memory` itself")), "1.2.0"),
];

const CPU: &[Field] = &[
    f("shares", U64, Lower),
    f("quota", I64, Lower),
    since(f("burst", U64, Lower), "1.2.0"),
    f("period", U64, Lower),
    f(
        "realtimeRuntime",
        I64,
        Unsupported("real-time CPU bandwidth is a cgroup v1 feature; Proxmox VE uses cgroup v2"),
    ),
    f(
        "realtimePeriod",
        U64,
        Unsupported("real-time CPU bandwidth is a cgroup v1 feature; Proxmox VE uses cgroup v2"),
    ),
    f("cpus", STR, Lower),
    f("mems", STR, Lower),
    since(f("idle", I64, Lower), "1.1.0"),
];

const LEAF_WEIGHT_WHY: &str = "leaf weights are a cgroup v1 (CFQ) feature; cgroup v2 has none";

const WEIGHT_DEVICE: Ty = Ty::Obj(&[
    req("major", I64, Lower),
    req("minor", I64, Lower),
    f("weight", U16, Lower),
    // cgroup v2's io.weight has no leaf weight per device either; this was
    // `Lower` with no reader, and `lower::consumers` found it dropped.
    f("leafWeight", U16, Unsupported(LEAF_WEIGHT_WHY)),
]);
const THROTTLE_DEVICE: Ty = Ty::Obj(&[
    req("major", I64, Lower),
    req("minor", I64, Lower),
    req("rate", U64, Lower),
]);

const BLOCK_IO: &[Field] = &[
    f("weight", U16, Lower),
    f("leafWeight", U16, Unsupported(LEAF_WEIGHT_WHY)),
    f("weightDevice", Ty::Array(&WEIGHT_DEVICE), Lower),
    f("throttleReadBpsDevice", Ty::Array(&THROTTLE_DEVICE), Lower),
    f("throttleWriteBpsDevice", Ty::Array(&THROTTLE_DEVICE), Lower),
    f("throttleReadIOPSDevice", Ty::Array(&THROTTLE_DEVICE), Lower),
    f(
        "throttleWriteIOPSDevice",
        Ty::Array(&THROTTLE_DEVICE),
        Lower,
    ),
];

const RESOURCES: &[Field] = &[
    f("devices", Ty::Array(&Ty::Obj(DEVICE_CGROUP)), Lower),
    f("memory", Ty::Obj(MEMORY), Fields),
    f("cpu", Ty::Obj(CPU), Fields),
    f("pids", Ty::Obj(&[req("limit", I64, Lower)]), Fields),
    f("blockIO", Ty::Obj(BLOCK_IO), Fields),
    // cgroup v2 names the files hugetlb.2MB.max, and Proxmox's config parser
    // accepts only lower-case raw keys (`^lxc\.[a-z0-9_\-.]+`).
    f("hugepageLimits", Ty::Array(&Ty::Obj(&[req("pageSize", STR, Lower), req("limit", U64, Lower)])), Unsupported("cgroup v2 names huge page limits with upper-case sizes (hugetlb.2MB.max), and Proxmox drops raw keys that are not lower-case")),
    f("network", Ty::Obj(&[f("classID", U32, Lower), f("priorities", Ty::Array(&Ty::Obj(&[req("name", STR, Lower), req("priority", U32, Lower)])), Lower)]), Unsupported("net_cls and net_prio are cgroup v1 controllers; Proxmox VE uses cgroup v2 and limits bandwidth with the `rate` option of netN")),
    f("rdma", Ty::Map(&Ty::Obj(&[f("hcaHandles", U32, Lower), f("hcaObjects", U32, Lower)])), Lower),
    since(f("unified", Ty::Map(&STR), Lower), "1.0.2"),
];

const SECCOMP_ARG: Ty = Ty::Obj(&[
    req("index", Ty::Int(Int::U32), Lower),
    req("value", U64, Lower),
    f("valueTwo", U64, Lower),
    req("op", Ty::Enum(SECCOMP_OPS), Lower),
]);

const SYSCALL: Ty = Ty::Obj(&[
    req("names", STRS, Lower),
    req("action", Ty::Enum(SECCOMP_ACTIONS), Lower),
    f("errnoRet", U32, Lower),
    f("args", Ty::Array(&SECCOMP_ARG), Lower),
]);

const SECCOMP: &[Field] = &[
    req("defaultAction", Ty::Enum(SECCOMP_ACTIONS), Lower),
    since(f("defaultErrnoRet", U32, Lower), "1.0.2"),
    f("architectures", Ty::Array(&Ty::Enum(SECCOMP_ARCHES)), Lower),
    since(
        f("flags", Ty::Array(&Ty::Enum(SECCOMP_FLAGS)), Lower),
        "1.0.2",
    ),
    since(f("listenerPath", STR, Lower), "1.0.2"),
    since(f("listenerMetadata", STR, Lower), "1.0.2"),
    f("syscalls", Ty::Array(&SYSCALL), Lower),
];

const INTEL_RDT: &[Field] = &[
    f("closID", STR, Lower),
    f("l3CacheSchema", STR, Lower),
    f("memBwSchema", STR, Lower),
    since(f("schemata", STRS, Lower), "1.3.0"),
    since(f("enableCMT", BOOL, Lower), "1.1.0"),
    since(f("enableMBM", BOOL, Lower), "1.1.0"),
    since(f("enableMonitoring", BOOL, Lower), "1.3.0"),
];

const TIME_OFFSET: Ty = Ty::Obj(&[f("secs", I64, Lower), f("nanosecs", U32, Lower)]);

const LINUX: &[Field] = &[
    f("devices", Ty::Array(&Ty::Obj(DEVICE)), Lower),
    f("uidMappings", ID_MAPPINGS, Lower),
    f("gidMappings", ID_MAPPINGS, Lower),
    f("sysctl", Ty::Map(&STR), Lower),
    f("cgroupsPath", STR, Ignored("Proxmox places every container in its own cgroup `lxc/<vmid>`")),
    f("resources", Ty::Obj(RESOURCES), Fields),
    f("rootfsPropagation", Ty::Enum(PROPAGATIONS), Lower),
    f("seccomp", Ty::Obj(SECCOMP), Lower),
    f("namespaces", Ty::Array(&Ty::Obj(&[req("type", Ty::Enum(NAMESPACE_TYPES), Lower), f("path", STR, Lower)])), Lower),
    f("maskedPaths", STRS, Lower),
    f("readonlyPaths", STRS, Lower),
    f("mountLabel", STR, Unsupported("LXC has no SELinux mount label key; only `lxc.selinux.context` for the process")),
    since(f("intelRdt", Ty::Obj(INTEL_RDT), Unsupported("LXC has no Intel RDT (resctrl) keys")), "1.0.0"),
    since(f("personality", Ty::Obj(&[req("domain", Ty::Enum(PERSONALITY_DOMAINS), Lower), f("flags", STRS, Lower)]), Lower), "1.0.2"),
    since(f("timeOffsets", Ty::Map(&TIME_OFFSET), Unsupported("Proxmox does not create time namespaces; `lxc.time.offset.*` is not on its allow-list")), "1.1.0"),
    since(f("memoryPolicy", Ty::Obj(&[req("mode", Ty::Enum(MEMORY_POLICY_MODES), Lower), f("nodes", STR, Lower), f("flags", Ty::Array(&Ty::Enum(MEMORY_POLICY_FLAGS)), Lower)]), Unsupported("LXC has no NUMA memory policy key; `linux.resources.cpu.mems` limits the container's memory nodes")), "1.3.0"),
    since(f("netDevices", Ty::Map(&Ty::Obj(&[f("name", STR, Lower)])), Lower), "1.3.0"),
];

const HOOK_PHASES: &[Field] = &[
    f("prestart", HOOKS, Unsupported(HOOK_WHY)),
    since(f("createRuntime", HOOKS, Unsupported(HOOK_WHY)), "1.0.2"),
    since(f("createContainer", HOOKS, Unsupported(HOOK_WHY)), "1.0.2"),
    since(f("startContainer", HOOKS, Unsupported(HOOK_WHY)), "1.0.2"),
    f("poststart", HOOKS, Unsupported(HOOK_WHY)),
    f("poststop", HOOKS, Unsupported(HOOK_WHY)),
];

const OTHER_OS: &str = "this section configures another platform; a Proxmox LXC container is Linux";

/// The top level of config.json.
pub const CONFIG: &[Field] = &[
    req("ociVersion", STR, Lower),
    f("root", Ty::Obj(ROOT), Lower),
    f("mounts", Ty::Array(&Ty::Obj(MOUNT)), Lower),
    f("process", Ty::Obj(PROCESS), Lower),
    f("hostname", STR, Lower),
    since(f("domainname", STR, Lower), "1.1.0"),
    f("hooks", Ty::Obj(HOOK_PHASES), Fields),
    f("annotations", Ty::Map(&STR), Lower),
    f("linux", Ty::Obj(LINUX), Fields),
    f("solaris", Ty::Any, Ignored(OTHER_OS)),
    f("windows", Ty::Any, Ignored(OTHER_OS)),
    f("vm", Ty::Any, Ignored(OTHER_OS)),
    since(f("zos", Ty::Any, Ignored(OTHER_OS)), "1.1.0"),
    since(f("freebsd", Ty::Any, Ignored(OTHER_OS)), "1.3.0"),
];

/// Every property path in JSON-pointer form (`*` for array items and map
/// values), with its field; the coverage test and docs read this.
pub fn paths() -> Vec<(String, &'static Field)> {
    fn walk(prefix: &str, fields: &'static [Field], out: &mut Vec<(String, &'static Field)>) {
        for field in fields {
            let path = format!("{prefix}/{}", field.name);
            out.push((path.clone(), field));
            walk_ty(&path, &field.ty, out);
        }
    }
    fn walk_ty(path: &str, ty: &'static Ty, out: &mut Vec<(String, &'static Field)>) {
        match ty {
            Ty::Obj(fields) => walk(path, fields, out),
            Ty::Array(inner) | Ty::Map(inner) => walk_ty(&format!("{path}/*"), inner, out),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk("", CONFIG, &mut out);
    out
}
