//! The root file system and mounts.
//!
//! Proxmox: `rootfs:`, `mpN:` (bind or volume, `ro=1`, `mountoptions=`), raw
//! `lxc.mount.entry` for other file systems. The OCI default mounts are
//! provided by LXC and recorded here only so they are not lost for OCI back ends.

use super::{MountTarget, RawKey};
use crate::source::Traced;

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum RootSource {
    /// `STORAGE:SIZE_GiB`: a new volume that `pct create` fills from the template.
    Volume { storage: String, size_gib: u32 },
    /// A host directory used in place.
    HostPath(String),
    #[default]
    Unset,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rootfs {
    pub source: RootSource,
    /// `root.path` as written in the bundle (relative to it, or absolute).
    pub bundle_path: Option<Traced<String>>,
    pub readonly: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MountPoint {
    /// An absolute host path (bind mount).
    pub source: Traced<String>,
    pub target: Traced<MountTarget>,
    pub readonly: bool,
    /// Only Proxmox's `mountoptions` (discard, lazytime, noatime, nodev, noexec, nosuid).
    pub options: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProvidedMount {
    pub destination: Traced<String>,
    pub fs_type: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Mounts {
    /// `mp0`… in order.
    pub points: Vec<MountPoint>,
    /// `lxc.mount.entry` lines (tmpfs and other file systems).
    pub entries: Vec<RawKey>,
    /// OCI default mounts that LXC provides itself.
    pub provided: Vec<ProvidedMount>,
}
