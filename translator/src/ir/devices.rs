//! Device nodes and device cgroup rules.
//!
//! Proxmox: `devN: /dev/…,mode=0NNN,uid=N,gid=N`; `lxc.cgroup2.devices.allow/deny`.
//! OCI: `linux.devices`, `linux.resources.devices`.

use super::RawKey;
use crate::source::Traced;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Device {
    pub path: Traced<String>,
    pub mode: Option<u32>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Devices {
    pub nodes: Vec<Device>,
    pub rules: Vec<RawKey>,
}
