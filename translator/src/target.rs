//! Host facts the translator needs, given explicitly (never read from the host).

use std::borrow::Cow;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A pve-container package version (`6.1.10`): it decides which keys exist.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PveContainerVersion(pub u32, pub u32, pub u32);

impl PveContainerVersion {
    /// `devN` device passthrough: pve-container commit ce1976b ("Add device passthrough",
    /// 2023-11-17), released in 5.0.7. Before it, `devN` is an unknown setting that
    /// `parse_pct_config` warns about and drops, and `pct create --dev0` is a parameter error.
    pub(crate) const DEVICES: Self = Self(5, 0, 7);
    /// Nodes whose pve-common escapes `%` in descriptions (8.2.2, commit 06f436f): pve-container
    /// does not depend on that version, so only PVE 9 nodes (pve-container 6.x, shipped with
    /// pve-common 9.x) are sure to have it; a PVE 8 node may have either.
    pub const DESCRIPTION_PERCENT: Self = Self(6, 0, 0);
    /// `entrypoint`, `env`, `lxc.environment.runtime`, `host-managed` (PVE 9.1).
    pub(crate) const APP_CONTAINERS: Self = Self(6, 0, 15);
    /// `lxc.init.cwd` became an accepted raw key.
    pub(crate) const INIT_CWD: Self = Self(6, 0, 1);
    /// `lxc.init.uid`, `lxc.init.gid`, `lxc.init.groups`.
    pub(crate) const INIT_IDS: Self = Self(6, 1, 0);
    /// `/dev/shm` tmpfs added for application containers.
    pub(crate) const APP_DEV_SHM: Self = Self(6, 1, 10);

    /// A pve-container version `X.Y[.Z]` (a missing patch is 0).
    pub fn parse(s: &str) -> Option<Self> {
        let mut it = s.trim().split('.').map(|p| p.parse::<u32>().ok());
        let v = Self(it.next()??, it.next()??, it.next().unwrap_or(Some(0))?);
        if it.next().is_some() {
            return None;
        }
        Some(v)
    }

    /// The pve-container shipped with a Proxmox VE release (`9.1` → 6.0.18).
    ///
    /// Only the releases in [`PVE_RELEASES`] are known: a later one (`9.3`) is refused rather
    /// than taken as the newest known, since its pve-container may differ in what it accepts.
    pub fn for_pve_release(s: &str) -> Option<Self> {
        let s = s.trim();
        PVE_RELEASES
            .iter()
            .find(|(names, _)| names.contains(&s))
            .map(|(_, v)| *v)
    }

    /// Whether this version is `other` or later.
    pub fn at_least(self, other: Self) -> bool {
        self >= other
    }
}

/// Proxmox VE releases and the pve-container each is translated for. Every 8.x release is
/// taken as the oldest one, 5.0.0 (PVE 8.0): what it accepts, later 8.x releases accept too.
pub const PVE_RELEASES: &[(&[&str], PveContainerVersion)] = &[
    (
        &["8", "8.x", "8.0", "8.1", "8.2", "8.3", "8.4"],
        PveContainerVersion(5, 0, 0),
    ),
    (&["9.0"], PveContainerVersion(6, 0, 9)),
    (&["9.1"], PveContainerVersion(6, 0, 18)),
    (&["9.2"], PveContainerVersion(6, 1, 10)),
];

/// The spellings `--pve-version` accepts, for error messages and help.
pub(crate) fn known_pve_releases() -> String {
    let names: Vec<&str> = PVE_RELEASES
        .iter()
        .flat_map(|(names, _)| names.iter().copied())
        .collect();
    names.join(", ")
}

impl std::fmt::Display for PveContainerVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

impl Serialize for PveContainerVersion {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for PveContainerVersion {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("`{s}` is not a version like 6.1.10")))
    }
}

impl JsonSchema for PveContainerVersion {
    fn schema_name() -> Cow<'static, str> {
        "Version".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A package version: MAJOR.MINOR or MAJOR.MINOR.PATCH.",
            "type": "string",
            "pattern": "^[0-9]+\\.[0-9]+(\\.[0-9]+)?$"
        })
    }
}

/// Where the container's root file system comes from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "mode", rename_all = "kebab-case", deny_unknown_fields)]
pub enum RootfsTarget {
    /// A new volume `STORAGE:SIZE` that `pct create` fills from the packed template.
    #[serde(rename_all = "kebab-case")]
    Volume {
        /// The Proxmox storage id the volume is made on.
        storage: String,
        /// The size of the volume.
        size_gib: u32,
    },
    /// The bundle's rootfs directory used in place (`rootfs: /path`, root@pam only).
    HostPath,
}

/// What a container whose bundle asks for a new network namespace (no `path`) is given.
///
/// OCI gives such a namespace only `lo` (podman's `--network none` is exactly that), while a
/// Proxmox container is normally reached through a bridge: the node chooses, and the
/// translation says which it took.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum NetworkDefault {
    /// `eth0` on the target's `bridge`, configured by DHCP.
    #[default]
    Bridge,
    /// Only `lo`, as the runtime spec says: no `netN` key at all.
    Loopback,
}

/// The facts about the node a bundle is translated for (`--target FILE`);
/// every field is optional and defaults to a current Proxmox VE 9 node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct Target {
    /// The pve-container version on the node.
    pub pve_container: PveContainerVersion,
    /// The node's name, as in `/etc/pve/nodes/<node>`.
    pub node: String,
    /// Where the container's root file system goes.
    pub rootfs: RootfsTarget,
    /// Storage with `vztmpl` content for the packed rootfs template.
    pub template_storage: String,
    /// The bridge `net0` is attached to.
    pub bridge: String,
    /// What a new network namespace without `netDevices` gets: `bridge` (`eth0` on `bridge`
    /// with DHCP) or `loopback` (only `lo`, as OCI says).
    pub network: NetworkDefault,
    /// Written as `ostype`; `unmanaged` leaves the rootfs alone.
    pub ostype: String,
    /// The node's architecture, written as `arch` (a 32-bit personality makes it `i386`).
    pub arch: String,
    /// Used when a config says nothing about namespaces at all.
    pub unprivileged_default: bool,
    /// Absolute path of the bundle on the host, for host-path rootfs and relative root paths.
    pub bundle_dir: Option<String>,
    /// The crun version the crun back end writes for.
    pub crun_version: PveContainerVersion,
    /// Bind mount sources that are files on the node, not directories. Proxmox starts no
    /// container whose bind `mpN` source is not a directory (`__mountpoint_mount` in
    /// src/PVE/LXC.pm: `die "directory '$volid' does not exist"`), so these become
    /// `lxc.mount.entry … bind,create=file`; every other bind source is taken for a directory.
    /// `create` fills this in from the node itself; for `convert` it is the operator's word.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub bind_files: Vec<String>,
    /// Lines for people (JSON has no comments; JSON Schema's own `$comment` keyword is the
    /// convention): the translation never reads them. The packaged
    /// /etc/proxmox-lxcri/target.json explains itself here.
    #[serde(rename = "$comment", skip_serializing_if = "Vec::is_empty")]
    pub comment: Vec<String>,
}

impl Default for Target {
    /// A current Proxmox VE 9 node.
    fn default() -> Self {
        Target {
            pve_container: PveContainerVersion(6, 1, 10),
            node: "pve".into(),
            rootfs: RootfsTarget::Volume {
                storage: "local-lvm".into(),
                size_gib: 8,
            },
            template_storage: "local".into(),
            bridge: "vmbr0".into(),
            network: NetworkDefault::Bridge,
            ostype: "unmanaged".into(),
            arch: "amd64".into(),
            unprivileged_default: true,
            bundle_dir: None,
            crun_version: PveContainerVersion(1, 8, 1),
            bind_files: Vec::new(),
            comment: Vec::new(),
        }
    }
}

pub(crate) const OSTYPES: &[&str] = &[
    "debian",
    "devuan",
    "ubuntu",
    "centos",
    "fedora",
    "opensuse",
    "archlinux",
    "alpine",
    "gentoo",
    "nixos",
    "unmanaged",
];
pub(crate) const ARCHES: &[&str] = &["amd64", "i386", "arm64", "armhf", "riscv32", "riscv64"];

/// Why a target is not usable (the caller exits 2).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TargetError {
    /// Not JSON, or not the shape of a target.
    #[error("target JSON: {0}")]
    Json(String),
    /// An `ostype` Proxmox does not know.
    #[error("target: `{0}` is not a Proxmox ostype (one of {list})", list = OSTYPES.join(", "))]
    Ostype(String),
    /// An `arch` Proxmox does not know.
    #[error("target: `{0}` is not a Proxmox arch (one of {list})", list = ARCHES.join(", "))]
    Arch(String),
    /// A bridge name Proxmox would refuse.
    #[error("target: bridge `{0}` does not match [-_.A-Za-z0-9]+")]
    Bridge(String),
    /// A storage id Proxmox would refuse.
    #[error("target: storage id `{0}` is not valid")]
    Storage(String),
    /// A `bundle-dir` that is relative or has `..`.
    #[error("target: bundle-dir `{0}` must be an absolute path without `..`")]
    BundleDir(String),
    /// A root file system size of 0 GiB.
    #[error("target: rootfs size must be at least 1 GiB")]
    Size,
    /// A Proxmox VE release the translator does not know.
    #[error("target: unknown Proxmox VE release `{0}` (known: {known})", known = known_pve_releases())]
    PveRelease(String),
}

impl Target {
    /// The JSON Schema of target files (`schemas/target.schema.json`).
    pub fn schema() -> String {
        let schema = schemars::schema_for!(Target);
        let mut s = serde_json::to_string_pretty(&schema).unwrap_or_default();
        s.push('\n');
        s
    }

    /// Reads and checks a target file.
    pub fn from_json(text: &str) -> Result<Target, TargetError> {
        let t: Target = serde_json::from_str(text).map_err(|e| TargetError::Json(e.to_string()))?;
        t.check()?;
        Ok(t)
    }

    /// The target for a node of this Proxmox VE release (`--pve-version`).
    pub fn with_pve_release(mut self, release: &str) -> Result<Target, TargetError> {
        self.pve_container = PveContainerVersion::for_pve_release(release)
            .ok_or_else(|| TargetError::PveRelease(release.to_string()))?;
        Ok(self)
    }

    /// Checks the facts as a target file's are checked (names Proxmox accepts, sizes, paths).
    pub fn check(&self) -> Result<(), TargetError> {
        if !OSTYPES.contains(&self.ostype.as_str()) {
            return Err(TargetError::Ostype(self.ostype.clone()));
        }
        if !ARCHES.contains(&self.arch.as_str()) {
            return Err(TargetError::Arch(self.arch.clone()));
        }
        let word = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        };
        if !word(&self.bridge) {
            return Err(TargetError::Bridge(self.bridge.clone()));
        }
        let storage_id = |s: &str| {
            s.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        };
        for s in [
            Some(&self.template_storage),
            match &self.rootfs {
                RootfsTarget::Volume { storage, .. } => Some(storage),
                RootfsTarget::HostPath => None,
            },
        ]
        .into_iter()
        .flatten()
        {
            if !storage_id(s) {
                return Err(TargetError::Storage(s.clone()));
            }
        }
        if let RootfsTarget::Volume { size_gib: 0, .. } = self.rootfs {
            return Err(TargetError::Size);
        }
        if let Some(dir) = &self.bundle_dir {
            if !dir.starts_with('/')
                || dir.split('/').any(|c| c == "..")
                || dir.contains(['\n', '\0', ','])
            {
                return Err(TargetError::BundleDir(dir.clone()));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_map_to_pve_container() {
        assert_eq!(
            PveContainerVersion::for_pve_release("9.1"),
            Some(PveContainerVersion(6, 0, 18))
        );
        assert_eq!(
            PveContainerVersion::for_pve_release("8.4"),
            Some(PveContainerVersion(5, 0, 0))
        );
        assert_eq!(PveContainerVersion::for_pve_release("7.4"), None);
        // The spelling the help and this error name is accepted; an unknown later release is not
        // silently taken as the newest known one.
        assert_eq!(
            PveContainerVersion::for_pve_release("8.x"),
            Some(PveContainerVersion(5, 0, 0))
        );
        assert_eq!(PveContainerVersion::for_pve_release("9.3"), None);
        assert_eq!(PveContainerVersion::for_pve_release("9.2.1"), None);
        assert!(TargetError::PveRelease("9.3".into())
            .to_string()
            .contains("8.x, 8.0"));
    }

    #[test]
    fn target_json_is_strict() {
        assert!(Target::from_json(r#"{"bridge": "vmbr1"}"#).is_ok());
        assert!(matches!(
            Target::from_json(r#"{"brdge": "vmbr1"}"#),
            Err(TargetError::Json(_))
        ));
        assert!(matches!(
            Target::from_json(r#"{"ostype": "windows"}"#),
            Err(TargetError::Ostype(_))
        ));
        assert!(matches!(
            Target::from_json(r#"{"bridge": "vmbr0,firewall=1"}"#),
            Err(TargetError::Bridge(_))
        ));
        let t = Target::from_json(
            r#"{"rootfs": {"mode": "volume", "storage": "tank", "size-gib": 2}, "pve-container": "6.0.18"}"#,
        );
        assert_eq!(
            t.map(|t| t.pve_container),
            Ok(PveContainerVersion(6, 0, 18))
        );
    }
}
