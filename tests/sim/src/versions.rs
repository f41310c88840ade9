//! Which Proxmox packages the simulated node runs, and the behaviours that differ between them.
//!
//! Proxmox's behaviour is not one thing: keys, encodings and start-time mounts came in specific
//! releases. The node's versions are read once from the environment (`PVE_SIM_PVE_CONTAINER`,
//! `PVE_SIM_PVE_COMMON`), defaulting to a current Proxmox VE 9.2 node, and every gate below names
//! the commit that introduced the behaviour (pve-container at 94f558522ef6, pve-common at
//! 06f436f126869).

use std::sync::OnceLock;

use crate::error::{SimError, SimResult};

pub const PVE_CONTAINER_ENV: &str = "PVE_SIM_PVE_CONTAINER";
pub const PVE_COMMON_ENV: &str = "PVE_SIM_PVE_COMMON";

/// A Debian package version `MAJOR.MINOR.PATCH` (`6.1.10`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version(pub u32, pub u32, pub u32);

impl Version {
    pub fn parse(s: &str) -> Option<Self> {
        let mut it = s.trim().split('.').map(|p| p.parse::<u32>().ok());
        let v = Version(it.next()??, it.next()??, it.next().unwrap_or(Some(0))?);
        it.next().is_none().then_some(v)
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

/// The packages of the simulated node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Versions {
    pub pve_container: Version,
    pub pve_common: Version,
}

impl Default for Versions {
    /// Proxmox VE 9.2: pve-container 6.1.10 with pve-common 9.1.
    fn default() -> Self {
        Versions {
            pve_container: Version(6, 1, 10),
            pve_common: Version(9, 1, 0),
        }
    }
}

impl Versions {
    /// `devN` exists: pve-container commit ce1976b ("Add device passthrough"), released in
    /// 5.0.7. Before it the key is not in `$confdesc` (so `parse_pct_config` warns
    /// `unknown setting 'dev0'` and drops it) nor in the API schema (so `pct create --dev0`
    /// is a parameter error).
    pub fn has_devices(self) -> bool {
        self.pve_container >= Version(5, 0, 7)
    }

    /// `update_lxc_config` adds `lxc.mount.entry = shm dev/shm tmpfs …` for a custom
    /// `entrypoint`: pve-container commit a535b4c ("lxc config: mount /dev/shm tmpfs for
    /// application containers"), released in 6.1.10. Before it nothing mounts /dev/shm in a
    /// container whose init does not.
    pub fn mounts_app_dev_shm(self) -> bool {
        self.pve_container >= Version(6, 1, 10)
    }

    /// `PVE::Tools::encode_text` escapes `%` too: pve-common commit 06f436f ("fix #5486: …
    /// add '%' to list of encoded characters"), released in 8.2.2. Before it `%` is written
    /// as is, and `decode_text` still turns any `%XX` back into a byte on read.
    pub fn escapes_percent(self) -> bool {
        self.pve_common >= Version(8, 2, 2)
    }

    fn read(name: &str, default: Version) -> SimResult<Version> {
        match std::env::var(name) {
            Err(_) => Ok(default),
            Ok(s) => Version::parse(&s).ok_or_else(|| {
                SimError::Setup(format!("{name} '{s}' is not a version like 6.1.10"))
            }),
        }
    }

    pub fn from_env() -> SimResult<Self> {
        let d = Versions::default();
        Ok(Versions {
            pve_container: Self::read(PVE_CONTAINER_ENV, d.pve_container)?,
            pve_common: Self::read(PVE_COMMON_ENV, d.pve_common)?,
        })
    }
}

static CURRENT: OnceLock<Result<Versions, String>> = OnceLock::new();

/// The node's versions, read from the environment once per process.
pub fn current() -> SimResult<Versions> {
    CURRENT
        .get_or_init(|| Versions::from_env().map_err(|e| e.to_string()))
        .clone()
        .map_err(SimError::Setup)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gates_follow_the_releases() {
        let pve80 = Versions {
            pve_container: Version(5, 0, 0),
            pve_common: Version(8, 0, 7),
        };
        assert!(!pve80.has_devices() && !pve80.escapes_percent() && !pve80.mounts_app_dev_shm());
        let pve91 = Versions {
            pve_container: Version(6, 0, 18),
            pve_common: Version(9, 0, 0),
        };
        assert!(pve91.has_devices() && pve91.escapes_percent() && !pve91.mounts_app_dev_shm());
        assert!(Versions::default().mounts_app_dev_shm());
        assert_eq!(Version::parse("5.0.7"), Some(Version(5, 0, 7)));
        assert_eq!(Version::parse("6.1"), Some(Version(6, 1, 0)));
        assert_eq!(Version::parse("6.x"), None);
    }
}
