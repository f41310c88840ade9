//! Device nodes and device cgroup rules.
//!
//! Proxmox: `devN: /dev/…,mode=0NNN,uid=N,gid=N`; `lxc.cgroup2.devices.allow/deny`.
//! OCI: `linux.devices`, `linux.resources.devices`.

use super::RawKey;
use crate::source::Traced;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Device {
    /// The host's device node, passed through at the same path.
    pub path: Traced<String>,
    /// Permission bits only (`mode=0NNN`).
    pub mode: Option<u32>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    /// `deny-write=1`: the bundle's device rules allow reading only.
    pub deny_write: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Devices {
    /// `dev0`… in order; never the devices LXC provides itself.
    pub nodes: Vec<Device>,
    /// `lxc.cgroup2.devices.allow`/`.deny` lines, in order (LXC decides by
    /// the first matching rule, so their order matters).
    pub rules: Vec<RawKey>,
}
