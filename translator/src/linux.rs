//! Kernel and LXC facts, each kept once, with one classifier per table: the
//! lint stage (`lint::spec`, `lint::security`), the lowering
//! (`lower::process`, `lower::security::capabilities`) and the crun back end
//! ask the same table the same question, so they cannot disagree about what
//! a name means.

/// A Linux capability: its number (include/uapi/linux/capability.h), the
/// name the runtime-spec and capabilities(7) use, and LXC's spelling in
/// `lxc.cap.keep` (LXC's `parse_cap` in src/lxc/conf.c accepts the
/// lower-case name without `CAP_`).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Capability {
    pub number: u8,
    /// `CAP_NET_RAW`.
    pub name: &'static str,
    /// `net_raw`.
    pub lxc: &'static str,
}

const fn cap(number: u8, name: &'static str, lxc: &'static str) -> Capability {
    Capability { number, name, lxc }
}

/// Every capability Linux defines, by number, up to CAP_CHECKPOINT_RESTORE
/// (Linux 5.9).
pub(crate) static CAPABILITIES: [Capability; 41] = [
    cap(0, "CAP_CHOWN", "chown"),
    cap(1, "CAP_DAC_OVERRIDE", "dac_override"),
    cap(2, "CAP_DAC_READ_SEARCH", "dac_read_search"),
    cap(3, "CAP_FOWNER", "fowner"),
    cap(4, "CAP_FSETID", "fsetid"),
    cap(5, "CAP_KILL", "kill"),
    cap(6, "CAP_SETGID", "setgid"),
    cap(7, "CAP_SETUID", "setuid"),
    cap(8, "CAP_SETPCAP", "setpcap"),
    cap(9, "CAP_LINUX_IMMUTABLE", "linux_immutable"),
    cap(10, "CAP_NET_BIND_SERVICE", "net_bind_service"),
    cap(11, "CAP_NET_BROADCAST", "net_broadcast"),
    cap(12, "CAP_NET_ADMIN", "net_admin"),
    cap(13, "CAP_NET_RAW", "net_raw"),
    cap(14, "CAP_IPC_LOCK", "ipc_lock"),
    cap(15, "CAP_IPC_OWNER", "ipc_owner"),
    cap(16, "CAP_SYS_MODULE", "sys_module"),
    cap(17, "CAP_SYS_RAWIO", "sys_rawio"),
    cap(18, "CAP_SYS_CHROOT", "sys_chroot"),
    cap(19, "CAP_SYS_PTRACE", "sys_ptrace"),
    cap(20, "CAP_SYS_PACCT", "sys_pacct"),
    cap(21, "CAP_SYS_ADMIN", "sys_admin"),
    cap(22, "CAP_SYS_BOOT", "sys_boot"),
    cap(23, "CAP_SYS_NICE", "sys_nice"),
    cap(24, "CAP_SYS_RESOURCE", "sys_resource"),
    cap(25, "CAP_SYS_TIME", "sys_time"),
    cap(26, "CAP_SYS_TTY_CONFIG", "sys_tty_config"),
    cap(27, "CAP_MKNOD", "mknod"),
    cap(28, "CAP_LEASE", "lease"),
    cap(29, "CAP_AUDIT_WRITE", "audit_write"),
    cap(30, "CAP_AUDIT_CONTROL", "audit_control"),
    cap(31, "CAP_SETFCAP", "setfcap"),
    cap(32, "CAP_MAC_OVERRIDE", "mac_override"),
    cap(33, "CAP_MAC_ADMIN", "mac_admin"),
    cap(34, "CAP_SYSLOG", "syslog"),
    cap(35, "CAP_WAKE_ALARM", "wake_alarm"),
    cap(36, "CAP_BLOCK_SUSPEND", "block_suspend"),
    cap(37, "CAP_AUDIT_READ", "audit_read"),
    cap(38, "CAP_PERFMON", "perfmon"),
    cap(39, "CAP_BPF", "bpf"),
    cap(40, "CAP_CHECKPOINT_RESTORE", "checkpoint_restore"),
];

/// The capability a runtime-spec name denotes: `CAP_NET_RAW`, exactly as
/// capabilities(7) writes it (runc's and crun's lookups are case-sensitive);
/// `None` for anything else.
pub(crate) fn capability(name: &str) -> Option<&'static Capability> {
    CAPABILITIES.iter().find(|c| c.name == name)
}

/// The runtime-spec names of every capability, for "did you mean".
pub fn capability_names() -> impl Iterator<Item = &'static str> {
    CAPABILITIES.iter().map(|c| c.name)
}

/// The capability whose LXC spelling (`net_raw`) this is.
pub(crate) fn capability_by_lxc(lxc: &str) -> Option<&'static Capability> {
    CAPABILITIES.iter().find(|c| c.lxc == lxc)
}

/// What a loosely written capability name was meant to be: upper case with
/// the `CAP_` prefix, the way the runtime-spec writes it (`net_raw` and
/// `cap_net_raw` → `CAP_NET_RAW`). The one reading of a misspelling that
/// the lint stage (`spec/invalid-capability`) and the lowering
/// (`pve/unknown-capability`) both offer as their help; whether the result
/// is a capability is still [`capability`]'s to say.
pub(crate) fn capability_meant(name: &str) -> String {
    let upper = name.to_ascii_uppercase();
    if upper.starts_with("CAP_") {
        upper
    } else {
        format!("CAP_{upper}")
    }
}

/// The five capability sets of `process.capabilities` (config.md, "POSIX
/// process"; capabilities(7), "Thread capability sets").
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum CapabilitySet {
    Bounding,
    Effective,
    Inheritable,
    Permitted,
    Ambient,
}

impl CapabilitySet {
    /// Every set, in the order crun's `crun spec` writes them.
    pub(crate) const ALL: [CapabilitySet; 5] = [
        CapabilitySet::Bounding,
        CapabilitySet::Effective,
        CapabilitySet::Inheritable,
        CapabilitySet::Permitted,
        CapabilitySet::Ambient,
    ];

    /// The key in `process.capabilities`.
    pub fn key(self) -> &'static str {
        match self {
            CapabilitySet::Bounding => "bounding",
            CapabilitySet::Effective => "effective",
            CapabilitySet::Inheritable => "inheritable",
            CapabilitySet::Permitted => "permitted",
            CapabilitySet::Ambient => "ambient",
        }
    }
}

/// A resource limit (getrlimit(2), include/uapi/asm-generic/resource.h): the
/// runtime-spec name and LXC's spelling after `lxc.prlimit.` (LXC's
/// `parse_resource` in src/lxc/confile.c, lower case without `RLIMIT_`).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ResourceLimit {
    /// `RLIMIT_NOFILE`.
    pub name: &'static str,
    /// `nofile`.
    pub lxc: &'static str,
}

const fn rlimit(name: &'static str, lxc: &'static str) -> ResourceLimit {
    ResourceLimit { name, lxc }
}

/// Every resource limit Linux defines (the generic numbering; LXC accepts
/// the same names).
pub(crate) static RESOURCE_LIMITS: [ResourceLimit; 16] = [
    rlimit("RLIMIT_AS", "as"),
    rlimit("RLIMIT_CORE", "core"),
    rlimit("RLIMIT_CPU", "cpu"),
    rlimit("RLIMIT_DATA", "data"),
    rlimit("RLIMIT_FSIZE", "fsize"),
    rlimit("RLIMIT_LOCKS", "locks"),
    rlimit("RLIMIT_MEMLOCK", "memlock"),
    rlimit("RLIMIT_MSGQUEUE", "msgqueue"),
    rlimit("RLIMIT_NICE", "nice"),
    rlimit("RLIMIT_NOFILE", "nofile"),
    rlimit("RLIMIT_NPROC", "nproc"),
    rlimit("RLIMIT_RSS", "rss"),
    rlimit("RLIMIT_RTPRIO", "rtprio"),
    rlimit("RLIMIT_RTTIME", "rttime"),
    rlimit("RLIMIT_SIGPENDING", "sigpending"),
    rlimit("RLIMIT_STACK", "stack"),
];

/// The resource limit a runtime-spec `type` names: `RLIMIT_NOFILE`; `None`
/// for anything else.
pub(crate) fn resource_limit(name: &str) -> Option<&'static ResourceLimit> {
    RESOURCE_LIMITS.iter().find(|r| r.name == name)
}

/// The runtime-spec names of every resource limit, for "did you mean".
pub fn resource_limit_names() -> impl Iterator<Item = &'static str> {
    RESOURCE_LIMITS.iter().map(|r| r.name)
}

/// The resource limit whose LXC spelling (`nofile`) this is.
pub(crate) fn resource_limit_by_lxc(lxc: &str) -> Option<&'static ResourceLimit> {
    RESOURCE_LIMITS.iter().find(|r| r.lxc == lxc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capabilities_are_numbered_in_order_and_lxc_spells_them_lower_case() {
        for (i, c) in CAPABILITIES.iter().enumerate() {
            assert_eq!(usize::from(c.number), i, "{}", c.name);
            assert_eq!(
                c.name
                    .strip_prefix("CAP_")
                    .map(str::to_ascii_lowercase)
                    .as_deref(),
                Some(c.lxc),
                "{}",
                c.name
            );
        }
        assert_eq!(capability("CAP_NET_RAW").map(|c| c.lxc), Some("net_raw"));
        assert_eq!(capability("cap_chown"), None);
        assert_eq!(capability("NET_RAW"), None);
        assert_eq!(capability("CAP_"), None);
        assert_eq!(
            capability_by_lxc("net_raw").map(|c| c.name),
            Some("CAP_NET_RAW")
        );
        assert_eq!(capability_by_lxc("NET_RAW"), None);
    }

    #[test]
    fn a_loose_capability_name_means_the_upper_case_prefixed_one() {
        assert_eq!(capability_meant("net_raw"), "CAP_NET_RAW");
        assert_eq!(capability_meant("cap_net_raw"), "CAP_NET_RAW");
        assert_eq!(capability_meant("CAP_KILL"), "CAP_KILL");
        assert_eq!(capability_meant("CAP_NET_BIND"), "CAP_NET_BIND");
        assert_eq!(capability(&capability_meant("NET_BIND")), None);
    }

    #[test]
    fn resource_limits_are_spelled_by_lxc_in_lower_case() {
        for r in &RESOURCE_LIMITS {
            assert_eq!(
                r.name
                    .strip_prefix("RLIMIT_")
                    .map(str::to_ascii_lowercase)
                    .as_deref(),
                Some(r.lxc),
                "{}",
                r.name
            );
        }
        assert_eq!(
            resource_limit("RLIMIT_NOFILE").map(|r| r.lxc),
            Some("nofile")
        );
        assert_eq!(resource_limit("RLIMIT_BOGUS"), None);
        assert_eq!(resource_limit("NOFILE"), None);
        assert_eq!(
            resource_limit_by_lxc("nofile").map(|r| r.name),
            Some("RLIMIT_NOFILE")
        );
    }

    #[test]
    fn capability_sets_have_their_runtime_spec_keys() {
        let keys: Vec<&str> = CapabilitySet::ALL.iter().map(|s| s.key()).collect();
        assert_eq!(
            keys,
            [
                "bounding",
                "effective",
                "inheritable",
                "permitted",
                "ambient"
            ]
        );
    }
}
