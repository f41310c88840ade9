//! The plan: the ordered host steps that create this container on a Proxmox
//! VE node, as data.
//!
//! The executor validates the whole data form, then applies it step by step
//! and, when a step fails, undoes every completed step in reverse; each undo
//! is a typed kind ([`Undo`]) the executor derives from the step itself
//! ([`Action::undo`]), never a command read from the plan. [`shell::write`]
//! renders the same plan as a POSIX shell script for people to review; the
//! executor never runs that script.
//!
//! Symbolic values ([`Var`]) are bound while the plan runs: `$template` by
//! `pack-rootfs`, `$vmid` by `allocate-vmid`, and `$bundle` (the bundle
//! directory) by whoever applies the plan, when the target did not name it.
//! They appear in data as `{"var": "vmid"}`, never inside a string, so no
//! value from a config can be mistaken for one.
//!
//! The schema of this format is `schemas/plan.schema.json`, generated from
//! these types (a test fails when the two drift apart).

mod build;
pub mod quote;
pub mod shell;

use std::borrow::Cow;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use build::{ir_to_plan, pve_to_plan, with_image, PlanError, VMID_ATTEMPTS};

/// The version of the plan format this translator writes.
pub const FORMAT: u32 = 1;
/// Prefix of the template files the plan packs, so they are recognisable on the storage.
pub(crate) const TEMPLATE_PREFIX: &str = "proxmox-lxcri-";

/// Ordered host steps that create one container.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Plan {
    /// The version of this format (1); an executor refuses a plan it does not know.
    pub format: u32,
    /// The config the plan was made from, for messages.
    pub source: String,
    /// The Proxmox VE node the plan was made for.
    pub node: String,
    /// The pve-container version the plan was made for; the keys it sets depend on it.
    pub pve_container: String,
    /// The steps, in the order they run.
    pub steps: Vec<Step>,
}

/// One host step: what it does, where its values came from, what it needs
/// from the host and how to undo it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub struct Step {
    /// What the step does: its `op` and that kind's fields, inline in the step.
    #[serde(flatten)]
    pub action: Action,
    /// The input fields behind the step, item by item (a pct option, a config key, a file).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<Source>,
    /// What the step needs from the host.
    pub needs: Vec<Need>,
    /// How to undo the step once it has completed.
    pub undo: Undo,
}

/// What a step does. The executor applies each kind natively; the shell
/// rendering shows an equivalent command.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub enum Action {
    /// Packs a root file system directory, or an OCI image's layers merged in
    /// order (whiteouts and opaque directories applied, nothing unpacked on
    /// the way), into a container template on `storage` (content type
    /// `vztmpl`) and binds `$template` to its volume id
    /// `<storage>:vztmpl/<name-prefix><unique>.tar.zst`; the executor chooses
    /// the unique part. The archive holds `./`-prefixed members with numeric,
    /// container-side owners, modes, links, ACLs and xattrs, as Proxmox's
    /// `pct create` extracts it.
    #[serde(rename_all = "kebab-case")]
    PackRootfs {
        /// The directory or image to pack.
        rootfs: RootfsDir,
        /// The storage that receives the template (`local` on a stock node).
        storage: String,
        /// The start of the template's file name, before the executor's unique part.
        name_prefix: String,
    },
    /// Binds `$vmid` to a free id (`pvesh get /cluster/nextid`). The id is not
    /// reserved: when `pct-create` fails because the id was taken meanwhile
    /// (`CT <id> already exists`, `VM <id> already exists`), the executor
    /// allocates again and repeats `pct-create`, `attempts` times in all.
    AllocateVmid {
        /// How many times in all an id is allocated and `pct-create` tried.
        attempts: u32,
    },
    /// Runs `pct create` with this argument vector.
    PctCreate {
        /// The whole command, `pct` first; no element is ever split or quoted by a shell.
        argv: Vec<Arg>,
    },
    /// Appends lines `pct` cannot set (raw `lxc.*` keys and
    /// `lxc.environment.runtime` entries) to `/etc/pve/lxc/$vmid.conf`, holding
    /// Proxmox's config lock (`flock` on `/run/lock/lxc/pve-config-$vmid.lock`)
    /// and replacing the file through a temporary file and a rename. The file
    /// was just created by `pct-create`, so it has no snapshot or pending
    /// section the lines could land in.
    WriteConfigLines {
        /// The lines, in the order they are appended.
        lines: Vec<ConfigLine>,
    },
    /// Creates `/etc/pve/lxc/$vmid.conf` with `text` under the config lock,
    /// refusing when any node's `lxc/` or `qemu-server/` already has the id.
    /// Used for a root file system that is a host directory, which `pct create`
    /// would fill from a template instead of using as it is.
    CreateConfig {
        /// The whole config file, `key: value` lines as Proxmox writes them.
        text: String,
    },
    /// Writes a file through a temporary file and a rename, creating its directory.
    WriteFile {
        /// The absolute host path of the file.
        path: String,
        /// The file's permission bits.
        mode: FileMode,
        /// The file's whole content.
        content: String,
    },
    /// Removes `$template` from its storage (`pvesm free`): the container has its own copy.
    RemoveTemplate,
    /// Records the container and `$vmid` on `node` in the executor's state store.
    RecordState {
        /// The node the container was created on.
        node: String,
    },
}

/// What a `pack-rootfs` step packs: a root file system directory, or an image's layers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RootfsDir {
    /// Relative to the bundle directory (`$bundle`).
    Bundle(String),
    /// An absolute path on the host.
    Path(String),
    /// The layers of an OCI image, streamed into the template (`create --image`); the
    /// executor opens the image again and checks every blob against its digest.
    Image(ImageSource),
}

/// An OCI image on the node, as `--image` and `--platform` name it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ImageSource {
    /// skopeo's transport and an absolute path: `oci:DIR[:TAG]`, `oci-archive:FILE[:TAG]`,
    /// `docker-archive:FILE[:NAME:TAG]`.
    pub reference: String,
    /// The platform taken from a multi-platform image (`linux/amd64`); none: the node's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
}

/// A value bound while the plan runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Var {
    /// The container's id, bound by `allocate-vmid`.
    Vmid,
    /// The template's volume id, bound by `pack-rootfs`.
    Template,
    /// The bundle directory, bound by whoever applies the plan.
    Bundle,
}

impl Var {
    /// The value's name, as the plan and `plan.sh` spell it (`$vmid`).
    pub fn name(self) -> &'static str {
        match self {
            Var::Vmid => "vmid",
            Var::Template => "template",
            Var::Bundle => "bundle",
        }
    }
}

/// One element of an argument vector: a literal, or a symbolic value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Arg {
    /// A value bound while the plan runs, written `{"var": "vmid"}`.
    Var {
        /// Which value.
        var: Var,
    },
    /// A literal argument, passed as it is.
    Lit(String),
}

impl Arg {
    /// A literal argument.
    pub fn lit(s: impl Into<String>) -> Arg {
        Arg::Lit(s.into())
    }

    /// A symbolic argument.
    pub fn var(var: Var) -> Arg {
        Arg::Var { var }
    }
}

/// A `key: value` line of a container config.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigLine {
    /// The key (`lxc.cgroup2.memory.high`).
    pub key: String,
    /// The value, as Proxmox stores it after the `: `.
    pub value: String,
}

impl ConfigLine {
    /// The line as Proxmox writes it (`key: value`).
    pub fn text(&self) -> String {
        format!("{}: {}", self.key, self.value)
    }
}

/// Where an item of a step came from: JSON pointers into the config.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// The pct option, config key or file the pointers fed.
    pub item: String,
    /// JSON pointers into the config (`/process/env/2`).
    pub from: Vec<String>,
}

/// Something a step needs from the host.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Need {
    /// A program on the node's `PATH`.
    Program(String),
    /// Root on the node (`root@pam`), and why.
    Root(String),
    /// A storage with this content type enabled.
    Storage {
        /// The storage's id (`local`).
        id: String,
        /// The content type it must allow (`vztmpl`, `rootdir`).
        content: String,
    },
    /// A writable `/etc/pve`: the cluster file system has quorum.
    Quorum,
    /// Proxmox's config lock of `$vmid` (`flock` on `/run/lock/lxc/pve-config-$vmid.lock`).
    ConfigLock,
    /// The executor's state store.
    StateStore,
    /// A directory on the node at this path: the source of a bind mount point, which
    /// Proxmox does not start when it is a file (`__mountpoint_mount`, src/PVE/LXC.pm).
    /// `apply` checks it before the first step.
    Directory(String),
}

/// How to undo a completed step: one typed kind per effect, never a command.
///
/// The executor does not take this from the plan: it derives each step's undo
/// from the step's kind ([`Action::undo`]) and the step's result (the bound
/// `$vmid` and template, whether a file was created), and refuses a plan whose
/// `undo` says anything else. The field is there for review: `plan.sh` shows,
/// for each kind, exactly what the executor does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Undo {
    /// Nothing to undo, and why.
    Nothing(String),
    /// Remove the template `pack-rootfs` wrote (the file `pvesm path $template` names).
    FreeTemplate,
    /// `pct destroy $vmid --purge`: the container `pct-create` made, with its volumes.
    DestroyCt,
    /// Remove `/etc/pve/nodes/<node>/lxc/$vmid.conf` under the config lock.
    RemoveConfig,
    /// Remove the file, but only if this step created it: the path is named
    /// by content and other containers may use the same file.
    RemoveFileIfCreated(String),
    /// Give the id back (nothing on Proxmox's side: `nextid` reserves nothing).
    ReleaseVmid,
    /// Remove the container's record from the state store.
    ForgetState,
}

impl Undo {
    /// The kind's name in the plan (`destroy-ct`).
    pub fn kind(&self) -> &'static str {
        match self {
            Undo::Nothing(_) => "nothing",
            Undo::FreeTemplate => "free-template",
            Undo::DestroyCt => "destroy-ct",
            Undo::RemoveConfig => "remove-config",
            Undo::RemoveFileIfCreated(_) => "remove-file-if-created",
            Undo::ReleaseVmid => "release-vmid",
            Undo::ForgetState => "forget-state",
        }
    }

    /// Whether two undos have the same effect: the same kind and, for a file,
    /// the same path. The reason of `nothing` is prose and not compared.
    pub fn same_effect(&self, other: &Undo) -> bool {
        match (self, other) {
            (Undo::RemoveFileIfCreated(a), Undo::RemoveFileIfCreated(b)) => a == b,
            _ => self.kind() == other.kind(),
        }
    }
}

/// A file mode, written in octal (`"0644"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileMode(pub u32);

impl FileMode {
    /// The mode in octal with a leading 0 (`0644`), as the plan writes it.
    pub fn octal(self) -> String {
        format!("{:04o}", self.0)
    }
}

impl Serialize for FileMode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.octal())
    }
}

impl<'de> Deserialize<'de> for FileMode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let digits = s.strip_prefix('0').filter(|d| {
            (3..=4).contains(&d.len()) && d.bytes().all(|b| (b'0'..=b'7').contains(&b))
        });
        match digits.and_then(|d| u32::from_str_radix(d, 8).ok()) {
            Some(mode) => Ok(FileMode(mode)),
            None => Err(serde::de::Error::custom(format!(
                "`{s}` is not an octal file mode like 0644"
            ))),
        }
    }
}

impl JsonSchema for FileMode {
    fn schema_name() -> Cow<'static, str> {
        "FileMode".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A file mode in octal, with a leading 0.",
            "type": "string",
            "pattern": "^0[0-7]{3,4}$"
        })
    }
}

impl Plan {
    /// The JSON form, pretty-printed, ending in a newline.
    pub fn to_json(&self) -> String {
        // Serialising these types cannot fail: every map key is a string.
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }

    /// The JSON Schema of the plan format.
    pub fn schema() -> String {
        let schema = schemars::schema_for!(Plan);
        let mut s = serde_json::to_string_pretty(&schema).unwrap_or_default();
        s.push('\n');
        s
    }
}

impl Action {
    /// The step's name in the plan (`op`).
    pub fn op(&self) -> &'static str {
        match self {
            Action::PackRootfs { .. } => "pack-rootfs",
            Action::AllocateVmid { .. } => "allocate-vmid",
            Action::PctCreate { .. } => "pct-create",
            Action::WriteConfigLines { .. } => "write-config-lines",
            Action::CreateConfig { .. } => "create-config",
            Action::WriteFile { .. } => "write-file",
            Action::RemoveTemplate => "remove-template",
            Action::RecordState { .. } => "record-state",
        }
    }

    /// The undo of this kind of step. The translator writes it into the plan
    /// and the executor derives it again from the step it runs; there is no
    /// other source of undos.
    pub fn undo(&self) -> Undo {
        match self {
            Action::PackRootfs { .. } => Undo::FreeTemplate,
            Action::AllocateVmid { .. } => Undo::ReleaseVmid,
            Action::PctCreate { .. } => Undo::DestroyCt,
            Action::WriteConfigLines { .. } => Undo::Nothing(
                "the config file goes with the container when pct-create is undone".into(),
            ),
            Action::CreateConfig { .. } => Undo::RemoveConfig,
            Action::WriteFile { path, .. } => Undo::RemoveFileIfCreated(path.clone()),
            Action::RemoveTemplate => {
                Undo::Nothing("the template was only an intermediate copy".into())
            }
            Action::RecordState { .. } => Undo::ForgetState,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_modes_are_octal_strings() {
        assert_eq!(
            serde_json::to_string(&FileMode(0o644)).ok().as_deref(),
            Some("\"0644\"")
        );
        assert_eq!(
            serde_json::from_str::<FileMode>("\"0755\"").ok(),
            Some(FileMode(0o755))
        );
        assert_eq!(
            serde_json::from_str::<FileMode>("\"01777\"").ok(),
            Some(FileMode(0o1777))
        );
        for bad in ["\"644\"", "\"0648\"", "\"0\"", "\"0x1\"", "420"] {
            assert!(serde_json::from_str::<FileMode>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn args_are_literals_or_variables() {
        let argv = vec![
            Arg::lit("pct"),
            Arg::var(Var::Vmid),
            Arg::lit("{\"var\": \"vmid\"}"),
        ];
        let json = serde_json::to_string(&argv).unwrap_or_default();
        assert_eq!(json, r#"["pct",{"var":"vmid"},"{\"var\": \"vmid\"}"]"#);
        assert_eq!(serde_json::from_str::<Vec<Arg>>(&json).ok(), Some(argv));
    }
}
