//! Proxmox's raw `lxc.*` allow-list (pve-container `Config.pm`
//! `$valid_lxc_conf_keys`), as in schemas/pve-lxc-config.json; a test keeps
//! the two equal. A key not accepted here is dropped by Proxmox at its next
//! config write, so the translator never emits one.

pub(crate) const ALLOWED: &[&str] = &[
    "lxc.apparmor.profile",
    "lxc.apparmor.allow_incomplete",
    "lxc.apparmor.allow_nesting",
    "lxc.apparmor.raw",
    "lxc.selinux.context",
    "lxc.include",
    "lxc.arch",
    "lxc.uts.name",
    "lxc.signal.halt",
    "lxc.signal.reboot",
    "lxc.signal.stop",
    "lxc.init.cmd",
    "lxc.init.cwd",
    "lxc.init.uid",
    "lxc.init.gid",
    "lxc.init.groups",
    "lxc.pty.max",
    "lxc.console.logfile",
    "lxc.console.path",
    "lxc.tty.max",
    "lxc.devtty.dir",
    "lxc.hook.autodev",
    "lxc.autodev",
    "lxc.kmsg",
    "lxc.mount.fstab",
    "lxc.mount.entry",
    "lxc.mount.auto",
    "lxc.rootfs.mount",
    "lxc.cap.drop",
    "lxc.cap.keep",
    "lxc.seccomp.profile",
    "lxc.seccomp.notify.proxy",
    "lxc.seccomp.notify.cookie",
    "lxc.idmap",
    "lxc.hook.pre-start",
    "lxc.hook.pre-mount",
    "lxc.hook.mount",
    "lxc.hook.start",
    "lxc.hook.stop",
    "lxc.hook.post-stop",
    "lxc.hook.clone",
    "lxc.hook.destroy",
    "lxc.hook.version",
    "lxc.log.level",
    "lxc.log.file",
    "lxc.start.auto",
    "lxc.start.delay",
    "lxc.start.order",
    "lxc.group",
    "lxc.environment",
    "lxc.environment.runtime",
    "lxc.environment.hooks",
    "lxc.sysctl.fs.mqueue",
    "lxc.sysctl.kernel.msgmax",
    "lxc.sysctl.kernel.msgmnb",
    "lxc.sysctl.kernel.msgmni",
    "lxc.sysctl.kernel.sem",
    "lxc.sysctl.kernel.shmall",
    "lxc.sysctl.kernel.shmmax",
    "lxc.sysctl.kernel.shmmni",
    "lxc.sysctl.kernel.shm_rmid_forced",
];

pub(crate) const ALLOWED_PREFIXES: &[&str] = &["lxc.cgroup2.", "lxc.prlimit.", "lxc.net."];

/// Whether Proxmox keeps this raw key (warning-free) in a container config.
pub fn is_allowed(key: &str) -> bool {
    let well_formed = key.starts_with("lxc.")
        && key.len() > 4
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-.".contains(&b));
    well_formed
        && (ALLOWED.contains(&key)
            || ALLOWED_PREFIXES
                .iter()
                .any(|p| key.starts_with(p) && key.len() > p.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_vendored_schema() {
        let text = include_str!("../../../schemas/pve-lxc-config.json");
        let data: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
        let raw = &data["pct_conf"]["raw_lxc_keys"];
        let allowed: Vec<&str> = raw["allowed"]
            .as_array()
            .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
            .unwrap_or_default();
        assert_eq!(allowed, ALLOWED);
        let prefixes: Vec<&str> = raw["allowed_prefixes"]
            .as_array()
            .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
            .unwrap_or_default();
        assert_eq!(prefixes, ALLOWED_PREFIXES);
    }

    #[test]
    fn keys() {
        assert!(is_allowed("lxc.cgroup2.pids.max"));
        assert!(is_allowed("lxc.init.cmd"));
        assert!(!is_allowed("lxc.cgroup2."));
        assert!(!is_allowed("lxc.no_new_privs"));
        assert!(!is_allowed("lxc.rootfs.path"));
        assert!(!is_allowed("lxc.sysctl.net.ipv4.ip_forward"));
        assert!(!is_allowed("lxc.cgroup2.X"));
    }
}
