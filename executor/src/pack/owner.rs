//! Owners as the container sees them.
//!
//! Proxmox extracts templates with `--numeric-owner`, and for unprivileged containers inside a
//! user namespace that maps exactly container ids 0..=65535 (`lxc-usernsexec -m u:0:100000:65536`).
//! So every owner in a template must be a container-side id in that range.

use std::fmt;

/// How on-disk owners become container-side owners.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OwnerMap {
    /// The rootfs is owned by container ids already (an OCI bundle unpacked as root).
    #[default]
    Identity,
    /// The rootfs is host-shifted (e.g. owned by 100000 + id, as an unprivileged container's
    /// rootfs is): subtract these bases.
    Shift { uid_base: u32, gid_base: u32 },
}

/// Container ids a Proxmox template may carry.
pub const CONTAINER_ID_COUNT: u32 = 65536;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    Uid,
    Gid,
}

impl fmt::Display for IdKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            IdKind::Uid => "uid",
            IdKind::Gid => "gid",
        })
    }
}

impl fmt::Display for OwnerMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OwnerMap::Identity => f.write_str("owners as on disk"),
            OwnerMap::Shift { uid_base, gid_base } => {
                write!(f, "owners shifted down by uid {uid_base}, gid {gid_base}")
            }
        }
    }
}

impl OwnerMap {
    /// The container-side id for a host id, or `None` if it has none in 0..=65535.
    pub fn map(self, kind: IdKind, host_id: u32) -> Option<u32> {
        let base = match (self, kind) {
            (OwnerMap::Identity, _) => 0,
            (OwnerMap::Shift { uid_base, .. }, IdKind::Uid) => uid_base,
            (OwnerMap::Shift { gid_base, .. }, IdKind::Gid) => gid_base,
        };
        host_id
            .checked_sub(base)
            .filter(|id| *id < CONTAINER_ID_COUNT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_accepts_only_container_range() {
        let m = OwnerMap::Identity;
        assert_eq!(m.map(IdKind::Uid, 0), Some(0));
        assert_eq!(m.map(IdKind::Uid, 65535), Some(65535));
        assert_eq!(m.map(IdKind::Uid, 65536), None);
        assert_eq!(m.map(IdKind::Gid, 100000), None);
    }

    #[test]
    fn shift_maps_back_and_refuses_outside() {
        let m = OwnerMap::Shift {
            uid_base: 100000,
            gid_base: 200000,
        };
        assert_eq!(m.map(IdKind::Uid, 100000), Some(0));
        assert_eq!(m.map(IdKind::Uid, 101000), Some(1000));
        assert_eq!(m.map(IdKind::Uid, 165535), Some(65535));
        assert_eq!(m.map(IdKind::Uid, 165536), None);
        assert_eq!(m.map(IdKind::Uid, 0), None);
        assert_eq!(m.map(IdKind::Gid, 100000), None);
        assert_eq!(m.map(IdKind::Gid, 200005), Some(5));
    }
}
