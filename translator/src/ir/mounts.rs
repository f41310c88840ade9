//! The root file system and mounts.
//!
//! Proxmox: `rootfs:`, `mpN:` (bind or volume, `ro=1`, `mountoptions=`), raw
//! `lxc.mount.entry` for other file systems. The OCI default mounts are
//! provided by LXC and recorded here only so they are not lost for OCI back ends.

use super::{MountTarget, RawKey};
use crate::source::Traced;

/// Where the root file system of the container comes from.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum RootSource {
    /// `STORAGE:SIZE_GiB`: a new volume that `pct create` fills from the template.
    Volume {
        /// The Proxmox storage id.
        storage: String,
        /// The size of the new volume.
        size_gib: u32,
    },
    /// A host directory used in place.
    HostPath(String),
    /// Not decided yet; lowering reports a missing or invalid root first, so no emitter sees it.
    #[default]
    Unset,
}

/// The Proxmox `rootfs` key and what the plan packs into it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rootfs {
    /// The storage volume or host directory.
    pub source: RootSource,
    /// `root.path` as written in the bundle (relative to it, or absolute).
    pub bundle_path: Option<Traced<String>>,
    /// `ro=1`: the root is mounted read-only.
    pub readonly: bool,
}

/// One `mpN` mount point: a host directory bound into the container.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MountPoint {
    /// An absolute host path (bind mount).
    pub source: Traced<String>,
    /// The path inside the container.
    pub target: Traced<MountTarget>,
    /// `ro=1`: mounted read-only.
    pub readonly: bool,
    /// Only Proxmox's `mountoptions` (discard, lazytime, noatime, nodev, noexec, nosuid).
    pub options: Vec<String>,
}

/// A mount of the config that LXC sets up itself, so nothing is emitted for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProvidedMount {
    /// Where the config mounts it.
    pub destination: Traced<String>,
    /// Its file system type (`proc`, `sysfs`, …).
    pub fs_type: String,
}

/// Every mount of the container, by how Proxmox gets it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Mounts {
    /// `mp0`… in order.
    pub points: Vec<MountPoint>,
    /// `lxc.mount.entry` lines (tmpfs and other file systems).
    pub entries: Vec<RawKey>,
    /// OCI default mounts that LXC provides itself.
    pub provided: Vec<ProvidedMount>,
}
