//! The typed intermediate form: what Proxmox needs to know about a container,
//! in Proxmox terms with units resolved, every value carrying the JSON pointer
//! it came from. Back ends read only this (and `oci_only` for OCI runtimes).
//!
//! Invariant: values in the IR are already valid for Proxmox (newtypes check
//! them); lowering reports whatever could not be represented.

pub(crate) mod devices;
pub(crate) mod ids;
pub mod mounts;
pub(crate) mod network;
pub(crate) mod process;
pub(crate) mod resources;
pub(crate) mod security;
pub mod types;

use std::sync::Arc;

use crate::json::{NodeId, Tree, View};
use crate::source::{JsonPointer, Traced};
use crate::spec::OciVersion;

pub(crate) use types::{Hostname, MemoryMiB, MountTarget, Tag};

/// pve-common's `encode_text` escapes `%` as `%25` since 8.2.2 (commit 06f436f, "fix #5486:
/// tools: encode_text: add '%' to list of encoded characters", 2024-05-28); before, `%` was
/// written as it is, while `decode_text` has always `uri_unescape`d `%XX` on read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PercentInDescription {
    /// pve-common 8.2.2 and later: `%` is always `%25`.
    #[default]
    Escaped,
    /// Before 8.2.2: `%` stays, so a literal `%XX` in the text reads back as one byte.
    Unescaped,
}

/// What Proxmox's OCI import calls the container: an application runs something other than
/// `/sbin/init` as `argv[0]`; a system container boots Proxmox's default init. Lowering decides
/// it once, before any area runs ([`crate::lower`]), and every area and back end reads this.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ContainerKind {
    /// `/sbin/init` (or no process at all): Proxmox's default container.
    #[default]
    System,
    /// Any other command: `cmode: console`, `host-managed` networking, a halt signal.
    Application,
}

/// One container in Proxmox terms: what lowering decided, with where each value came from.
/// The back ends read only this (and, for spans, the parsed input).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Container {
    /// Application or system container, decided once from `process.args[0]`.
    pub kind: ContainerKind,
    /// The config's `ociVersion`, when it names one the translator knows.
    pub oci_version: Option<OciVersion>,
    /// The Proxmox `hostname`.
    pub hostname: Option<Traced<Hostname>>,
    /// The Proxmox `description`: the annotations, one `key=value` line each.
    pub description: Option<Traced<String>>,
    /// How the node's pve-common writes `%` in description lines (decided by lowering from the
    /// target's version, so the emitters need no `Target`).
    pub description_percent: PercentInDescription,
    /// The Proxmox `tags`.
    pub tags: Vec<Traced<Tag>>,
    /// Annotations as given, for OCI back ends and the state file.
    pub annotations: Vec<(Traced<String>, Traced<String>)>,
    /// The Proxmox `arch` (`amd64`, `arm64`, …).
    pub arch: String,
    /// The Proxmox `ostype`.
    pub ostype: String,
    /// The root file system and how the plan provides it.
    pub rootfs: mounts::Rootfs,
    /// The `mpN` mount points and `lxc.mount.entry` binds.
    pub mounts: mounts::Mounts,
    /// The command and its environment; none when the config has no `process`.
    pub init: Option<process::Init>,
    /// Memory, swap, cores, CPU limits and resource limits.
    pub resources: resources::Resources,
    /// User namespace and id mapping.
    pub ids: ids::Ids,
    /// The network interfaces and how networking is managed.
    pub network: network::Network,
    /// Capabilities, AppArmor, seccomp and privilege.
    pub security: security::Security,
    /// Device nodes and device cgroup rules.
    pub devices: devices::Devices,
    /// The Proxmox `features:` flags.
    pub features: Features,
    /// Fields that only OCI runtimes can honour (hooks, masked paths, …):
    /// Proxmox reports them, the crun back end writes them back as given.
    /// Also areas Proxmox expresses only approximately (resources, mounts,
    /// devices, seccomp), kept exact for OCI back ends.
    pub oci_only: Vec<(JsonPointer, OciValue)>,
}

/// A value of the validated input kept exactly for OCI back ends: a handle
/// into the parsed tree, not a copy (the mounts and seccomp rules of a large
/// config are most of it; only the crun back end ever reads them, and it
/// builds its own output from them).
#[derive(Clone)]
pub struct OciValue {
    tree: Arc<Tree>,
    id: NodeId,
}

impl OciValue {
    pub(crate) fn new(tree: Arc<Tree>, id: NodeId) -> OciValue {
        OciValue { tree, id }
    }

    /// The parsed input the value is in.
    pub(crate) fn tree(&self) -> &Tree {
        &self.tree
    }

    pub(crate) fn id(&self) -> NodeId {
        self.id
    }

    /// The value as validated, in serde_json's form.
    pub(crate) fn to_serde(&self) -> serde_json::Value {
        self.tree.to_serde(self.id, View::Validated)
    }
}

impl PartialEq for OciValue {
    fn eq(&self, other: &OciValue) -> bool {
        (Arc::ptr_eq(&self.tree, &other.tree) && self.id == other.id)
            || self.to_serde() == other.to_serde()
    }
}

impl PartialEq<serde_json::Value> for OciValue {
    fn eq(&self, other: &serde_json::Value) -> bool {
        self.to_serde() == *other
    }
}

impl std::fmt::Debug for OciValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.to_serde(), f)
    }
}

/// Proxmox `features:` flags.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Features {
    /// `nesting=1`: the container may run containers (a writable /proc/sys, …).
    pub nesting: bool,
    /// `keyctl=1`: the `keyctl` system call works.
    pub keyctl: bool,
    /// `fuse=1`: /dev/fuse is allowed.
    pub fuse: bool,
    /// `mknod=1`: device nodes may be made (Proxmox's seccomp notification).
    pub mknod: bool,
    /// File system types for `mount=`.
    pub mount: Vec<String>,
}

impl Features {
    pub(crate) fn is_empty(&self) -> bool {
        !self.nesting && !self.keyctl && !self.fuse && !self.mknod && self.mount.is_empty()
    }
}

/// A raw `lxc.*` line; the key is checked against Proxmox's allow-list when emitted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawKey {
    /// The `lxc.*` key.
    pub key: String,
    /// Its value.
    pub value: String,
    /// The field of the input it translates.
    pub from: JsonPointer,
}

impl RawKey {
    pub(crate) fn new(
        key: impl Into<String>,
        value: impl Into<String>,
        from: &JsonPointer,
    ) -> RawKey {
        RawKey {
            key: key.into(),
            value: value.into(),
            from: from.clone(),
        }
    }
}
