//! Raw `lxc.*` keys in pct.conf: Config.pm `is_valid_lxc_conf_key`.

use crate::schema::RawKeyLists;

/// What Proxmox does with a raw key when it reads a pct.conf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawKeyVerdict {
    /// Kept, silently.
    Accepted,
    /// Kept, with a warning on every load (deprecated or renamed keys).
    Warned(String),
    /// Dropped with a specific message (`lxc.rootfs.path`, `lxc.rootfs.options`).
    Refused(String),
    /// Dropped with "unable to parse config" (anything not on the lists).
    Unknown,
}

/// Classifies `key` for CT `vmid` the way `is_valid_lxc_conf_key` does, in the same order:
/// `lxc.limit.*`, renamed keys, the explicit list, `lxc.cgroup.*`, allowed prefixes.
pub fn classify(lists: &RawKeyLists, vmid: &str, key: &str) -> RawKeyVerdict {
    if key.starts_with("lxc.limit.") {
        return RawKeyVerdict::Warned(format!(
            "vm {vmid} - {key}: lxc.limit.* was renamed to lxc.prlimit.*\n"
        ));
    }
    if let Some(new_name) = lists.renamed.get(key) {
        return RawKeyVerdict::Warned(format!(
            "vm {vmid} - {key} is deprecated and was renamed to {new_name}\n"
        ));
    }
    if lists.allowed.iter().any(|k| k == key) {
        return RawKeyVerdict::Accepted;
    }
    if let Some(msg) = lists.refused.get(key) {
        return RawKeyVerdict::Refused(msg.clone());
    }
    if key.starts_with("lxc.cgroup.") {
        return RawKeyVerdict::Warned(format!(
            "vm {vmid} - {key} is deprecated, this will be a hard error in the future!\n"
        ));
    }
    if lists
        .allowed_prefixes
        .iter()
        .any(|p| key.starts_with(p.as_str()))
    {
        return RawKeyVerdict::Accepted;
    }
    RawKeyVerdict::Unknown
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::schemas;

    #[test]
    fn verdicts_follow_config_pm() {
        let l = &schemas().unwrap().raw_keys;
        assert_eq!(classify(l, "100", "lxc.init.cmd"), RawKeyVerdict::Accepted);
        assert_eq!(
            classify(l, "100", "lxc.environment.runtime"),
            RawKeyVerdict::Accepted
        );
        assert_eq!(
            classify(l, "100", "lxc.cgroup2.memory.max"),
            RawKeyVerdict::Accepted
        );
        assert_eq!(
            classify(l, "100", "lxc.net.0.type"),
            RawKeyVerdict::Accepted
        );
        assert!(matches!(
            classify(l, "100", "lxc.cgroup.memory.limit_in_bytes"),
            RawKeyVerdict::Warned(_)
        ));
        assert!(matches!(
            classify(l, "100", "lxc.limit.nofile"),
            RawKeyVerdict::Warned(_)
        ));
        assert!(matches!(
            classify(l, "100", "lxc.id_map"),
            RawKeyVerdict::Warned(_)
        ));
        assert_eq!(
            classify(l, "100", "lxc.rootfs.path"),
            RawKeyVerdict::Refused("lxc.rootfs.path is auto generated from rootfs".into())
        );
        assert_eq!(
            classify(l, "100", "lxc.sysctl.net.ipv4.ip_forward"),
            RawKeyVerdict::Unknown
        );
        assert_eq!(
            classify(l, "100", "lxc.no_new_privs"),
            RawKeyVerdict::Unknown
        );
        assert_eq!(
            classify(l, "100", "lxc.hook.start-host"),
            RawKeyVerdict::Unknown
        );
    }
}
