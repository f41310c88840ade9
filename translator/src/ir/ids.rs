//! User namespace and id maps.
//!
//! Proxmox: `unprivileged: 1` (default map `u/g 0 100000 65536`), custom maps
//! as `lxc.idmap` lines. OCI: `linux.namespaces[user]`, `linux.uidMappings`, `linux.gidMappings`.

use crate::source::Traced;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdMap {
    pub container: u32,
    pub host: u32,
    pub size: u32,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ids {
    pub unprivileged: bool,
    /// Empty: Proxmox's default map. Otherwise written as `lxc.idmap`.
    pub uid_map: Vec<Traced<IdMap>>,
    pub gid_map: Vec<Traced<IdMap>>,
}
