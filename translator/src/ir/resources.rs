//! Resource limits.
//!
//! Proxmox: `memory`, `swap` (MiB), `cores`, `cpulimit`, `cpuunits`, and raw
//! `lxc.cgroup2.*` for what has no key. OCI: `linux.resources.*`.

use super::{MemoryMiB, RawKey};
use crate::source::Traced;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Resources {
    pub memory: Option<Traced<MemoryMiB>>,
    /// Exact bytes, for OCI back ends.
    pub memory_bytes: Option<Traced<u64>>,
    pub swap_mib: Option<Traced<u64>>,
    /// OCI memory+swap in bytes; -1 for unlimited.
    pub memory_swap_bytes: Option<Traced<i64>>,
    pub cores: Option<Traced<u32>>,
    /// CPU time in units of whole CPUs (quota / period), at most two decimals.
    pub cpulimit: Option<Traced<String>>,
    pub cpuunits: Option<Traced<u64>>,
    /// `lxc.cgroup2.*` lines for limits without a Proxmox key.
    pub cgroup2: Vec<RawKey>,
}
