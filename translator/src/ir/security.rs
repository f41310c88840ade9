//! Capabilities, LSM labels, seccomp, sysctls.
//!
//! Proxmox: `lxc.cap.keep`/`lxc.cap.drop`, `lxc.apparmor.profile`,
//! `lxc.selinux.context`, `lxc.seccomp.profile` (a file the plan writes),
//! `lxc.sysctl.*` for the IPC keys Proxmox allows.

use super::RawKey;
use crate::source::Traced;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Security {
    /// Capability names without `CAP_`, lower-case as LXC writes them, sorted and unique.
    /// `None`: the config says nothing and LXC's defaults apply.
    pub cap_keep: Option<Traced<Vec<String>>>,
    /// The OCI capability sets as given (sorted, unique), for OCI back ends.
    pub capability_sets: Vec<(String, Vec<String>)>,
    pub apparmor_profile: Option<Traced<String>>,
    pub selinux_context: Option<Traced<String>>,
    pub seccomp: Option<Traced<SeccompProfile>>,
    pub no_new_privileges: Option<Traced<bool>>,
    pub sysctls: Vec<RawKey>,
}

/// A seccomp policy in LXC's "2" text format.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeccompProfile {
    /// The file body; the plan writes it and `lxc.seccomp.profile` points at it.
    pub text: String,
}
