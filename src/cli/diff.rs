//! `diff <id|vmid> (--image REF | BUNDLE)`: what a new image or bundle would change in an
//! existing container's Proxmox config, key by key.
//!
//! The new input is translated as `create` translates it (same target, same image
//! conversion, same volumes) into the config text `convert --to pct-conf` shows; the current
//! config is the container's file under `/etc/pve/nodes/<node>/lxc/<vmid>.conf`, found and
//! identity-checked as every other verb finds it ([`Runtime::locate`]). That file is what
//! `pct config` prints (pve-container `src/PVE/CLI/pct.pm` `config` reads the same
//! `load_config`), and it is readable for a container on any node of the cluster, which `pct
//! config` is not (it runs on the owning node only).
//!
//! Each change says how it can be applied ([`Apply`]), after pve-container's hotplug rules
//! (`src/PVE/LXC/Config.pm` `$LXC_FASTPLUG_OPTIONS` and `vmconfig_hotplug_pending`, at
//! 94f5585): the fast-plug options, `cpulimit`, `cpuunits`, `memory`, `swap`, `netN` and a
//! *new* `mpN`/`devN` change a running container; every other key is read when it starts. A
//! different root file system (the image's layers, `ostype`, `arch`, `unprivileged`, the rootfs
//! options) needs a new rootfs: `pct set` cannot change it.
//!
//! Keys we do not write are `kept`: a key only the current config has (`onboot`, `startup`, a
//! hand-set option), a property only the current value has (`net0`'s `hwaddr`, the rootfs'
//! volume and size), and the executor's identity line. A key of the families the translation
//! owns whole (environment, `lxc.*` lines, `entrypoint`, annotations, `mpN`, `devN`) that the
//! new input no longer has is `removed`.
//!
//! Exit codes, as `diff(1)`: 0 no change, 1 changes, 2 trouble (usage, unreadable or refused
//! input, container not found).

use std::collections::BTreeMap;
use std::path::PathBuf;

use executor::id::{ContainerId, Vmid};
use executor::pve::identity::IDENTITY_KEY;
use executor::runtime::{Located, Runtime, RuntimeError};
use executor::state::{Backend, Record, StateStore};
use serde::Serialize;

use super::runtime::CreateArgs;
use super::{bundle, Failure, Global, EXIT_USAGE};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The container id, or the VMID of a container proxmox-lxcri created
    pub id: String,
    /// The new bundle directory (config.json and rootfs/)
    #[arg(value_name = "BUNDLE", required_unless_present = "image")]
    pub bundle: Option<PathBuf>,
    /// The new OCI image: oci:DIR[:TAG], oci-archive:FILE[:TAG] or docker-archive:FILE[:NAME:TAG]
    #[arg(long, value_name = "REF", conflicts_with = "bundle")]
    pub image: Option<String>,
    /// The platform to take from a multi-platform image (os/arch[/variant])
    #[arg(long, value_name = "OS/ARCH", requires = "image")]
    pub platform: Option<String>,
    /// The size of each new volume the image's `Volumes` become, as for create [default: 1G]
    #[arg(long = "volume-size", value_name = "SIZE", requires = "image", value_parser = super::image::parse_volume_size)]
    pub volume_size: Option<u32>,
    /// A JSON file with the node's facts (as for create)
    #[arg(long, value_name = "FILE")]
    pub target: Option<PathBuf>,
    /// The Proxmox VE release of the node (8.x, 9.0, 9.1, 9.2); overrides the target's
    #[arg(long = "pve-version", value_name = "X.Y")]
    pub pve_version: Option<String>,
    /// Output: text for people, json for programs (shape in docs/runtime.md)
    #[arg(long, short = 'f', value_enum, default_value_t)]
    pub format: Format,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    #[default]
    Text,
    Json,
}

/// What a change is.
#[derive(Serialize, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    Added,
    Removed,
    Changed,
    Kept,
}

/// How a change gets onto the container.
#[derive(Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Apply {
    /// `pct set` changes it in the running container.
    Hot,
    /// `pct set` (or, for `lxc.*` lines, the config file) takes effect at the next start.
    NextStart,
    /// Only a new root file system (a new container from the input) has it.
    NewRootfs,
    /// Nothing to apply: a kept key.
    None,
}

/// One key of the comparison.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub key: String,
    pub kind: Kind,
    /// The current value(s); empty when the key is added.
    pub current: Vec<String>,
    /// The new value(s); empty when removed or kept.
    pub new: Vec<String>,
    pub apply: Apply,
}

/// `diff --format json`: the container, where it is, and the changes (kept keys included),
/// sorted by key.
#[derive(Serialize, Debug)]
pub struct Report {
    pub id: String,
    pub vmid: u32,
    pub node: String,
    /// Whether any key is added, removed or changed.
    pub changed: bool,
    /// Whether any change needs a new root file system.
    pub new_rootfs: bool,
    pub changes: Vec<Change>,
}

pub fn run(global: &Global, args: &Args) -> u8 {
    match diff(global, args) {
        Ok(report) => {
            match args.format {
                Format::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&report).unwrap_or_default()
                ),
                Format::Text => print!("{}", text(&report)),
            }
            u8::from(report.changed)
        }
        // diff(1): any trouble is 2, whatever the failure's own code would be.
        Err(f) => {
            f.report(Some(&global.log()));
            EXIT_USAGE
        }
    }
}

fn diff(global: &Global, args: &Args) -> Result<Report, Failure> {
    let host = global.host();
    let store = StateStore::open(&global.root).map_err(|e| Failure::refused(e.to_string()))?;
    let r = Runtime::new(&host, store, global.paths());
    let (id, vmid, node) = locate(&r, &args.id)?;
    let current = r
        .host
        .read_file(&r.paths.config(&node, vmid))
        .map_err(|e| Failure::refused(format!("the config of CT {vmid} on {node}: {e}")))?;
    let current = String::from_utf8_lossy(&current).into_owned();
    let create = CreateArgs {
        id: id.as_str().to_owned(),
        bundle: args.bundle.clone().unwrap_or_else(|| PathBuf::from(".")),
        image: args.image.clone(),
        platform: args.platform.clone(),
        volume_size: args.volume_size,
        runtime: None,
        target: args.target.clone(),
        pve_version: args.pve_version.clone(),
        rootfs_outside_bundle: None,
        pid_file: None,
        node: None,
        console_socket: None,
        no_pivot: false,
        no_new_keyring: false,
        preserve_fds: None,
    };
    let opened = bundle::open(&create, &global.log())?;
    let new = bundle::pct_conf(&opened, &create, &global.log())?;
    let changes = compare(&parse(&current), &parse(&new));
    Ok(Report {
        id: id.as_str().to_owned(),
        vmid: vmid.get(),
        node,
        changed: changes.iter().any(|c| c.kind != Kind::Kept),
        new_rootfs: changes.iter().any(|c| c.apply == Apply::NewRootfs),
        changes,
    })
}

/// The container of `arg`: a container id with a record, else a VMID whose config carries an
/// identity line; then where Proxmox has it, identity checked.
fn locate(r: &Runtime<'_>, arg: &str) -> Result<(ContainerId, Vmid, String), Failure> {
    let by_id = ContainerId::new(arg).ok().map(|id| (r.record(&id), id));
    let id = match by_id {
        Some((Ok(_), id)) => id,
        Some((Err(RuntimeError::NotFound { .. }), _)) | None => {
            let Ok(vmid) = arg.parse::<Vmid>() else {
                return Err(Failure::usage(format!("no container {arg}")));
            };
            let stamped = executor::pve::cluster::stamped(r.host, &r.paths)
                .map_err(|e| Failure::refused(e.to_string()))?;
            let Some((id, _)) = stamped
                .iter()
                .find(|s| s.vmid == vmid)
                .and_then(|s| s.identity())
            else {
                return Err(Failure::usage(format!(
                    "no container {arg}, and CT {vmid} carries no proxmox-lxcri identity"
                )));
            };
            id
        }
        Some((Err(e), _)) => return Err(e.into()),
    };
    let Record::Complete { mapping, .. } = r.record(&id)? else {
        return Err(Failure::refused(format!(
            "container {id} is not completely created"
        )));
    };
    let Backend::Pct { vmid, .. } = &mapping.backend else {
        return Err(Failure::usage(format!(
            "container {id} is a crun container: it has no Proxmox config"
        )));
    };
    let vmid = *vmid;
    match r.locate(&mapping)? {
        Some(Located::At(node)) => Ok((id, vmid, node)),
        _ => Err(Failure::refused(format!(
            "the Proxmox container of {id} (CT {vmid}) is gone"
        ))),
    }
}

/// A config's keys and their values in file order. The `#` description lines become one key
/// per annotation (`#name`); a repeated key (`lxc.*` lines) keeps every value; each
/// environment entry is its own key (`lxc.environment.runtime NAME`). Snapshot sections
/// (`[name]`) and pending changes are not the container's current config.
pub fn parse(text: &str) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in text.lines() {
        if line.starts_with('[') {
            break;
        }
        if let Some(desc) = line.strip_prefix('#') {
            let desc = translator::emit::pct_conf::decode_text(desc);
            let (k, v) = desc.split_once('=').unwrap_or((desc.as_str(), ""));
            out.entry(format!("#{k}")).or_default().push(v.to_owned());
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let (key, value) = (key.trim(), value.trim());
        let key = match key {
            "lxc.environment.runtime" | "lxc.environment" => {
                let name = value.split_once('=').map_or(value, |(n, _)| n);
                format!("{key} {name}")
            }
            _ => key.to_owned(),
        };
        out.entry(key).or_default().push(value.to_owned());
    }
    out
}

/// A key the translation writes whole: gone from its output means removed, not kept.
fn owned(key: &str) -> bool {
    key.starts_with("lxc.")
        || (key.starts_with('#') && key != format!("#{IDENTITY_KEY}"))
        || key == "entrypoint"
        || key == "env"
        || numbered(key, "mp")
        || numbered(key, "dev")
}

fn numbered(key: &str, prefix: &str) -> bool {
    key.strip_prefix(prefix)
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// How a changed key reaches the container (see the module's documentation).
fn apply_of(key: &str, kind: Kind) -> Apply {
    let rootfs_annotation = format!("#{}", translator::image::ROOTFS_ANNOTATION);
    match key {
        _ if kind == Kind::Kept => Apply::None,
        "rootfs" | "ostype" | "arch" | "unprivileged" => Apply::NewRootfs,
        k if k == rootfs_annotation => Apply::NewRootfs,
        "description" | "onboot" | "startup" | "protection" | "hostname" | "hookscript"
        | "cores" | "tags" | "cpulimit" | "cpuunits" | "memory" | "swap" => Apply::Hot,
        // Annotations are description lines: a fast-plug option.
        k if k.starts_with('#') => Apply::Hot,
        k if numbered(k, "net") => Apply::Hot,
        // A new mount point or device is hot-plugged; a changed one is not ("don't try to
        // hotplug over existing mp").
        k if (numbered(k, "mp") || numbered(k, "dev")) && kind == Kind::Added => Apply::Hot,
        _ => Apply::NextStart,
    }
}

/// A property string's `k=v` properties, and its leading positional value (a volume).
fn properties(value: &str) -> (Option<&str>, BTreeMap<&str, &str>) {
    let mut positional = None;
    let mut props = BTreeMap::new();
    for (i, part) in value.split(',').enumerate() {
        match part.split_once('=') {
            Some((k, v)) => {
                props.insert(k, v);
            }
            None if i == 0 => positional = Some(part),
            None => {
                props.insert(part, "");
            }
        }
    }
    (positional, props)
}

/// Whether `current` already has what `new` says: equal, or for a property string (`net0`,
/// `rootfs`, `mpN`, `features`) every property `new` names has that value in `current`, the
/// rest being Proxmox's or a person's (`hwaddr`, `type`, an allocated volume, `size`).
fn satisfies(key: &str, current: &str, new: &str) -> bool {
    if current == new {
        return true;
    }
    let volume = key == "rootfs" || numbered(key, "mp");
    if !(new.contains('=') || volume) || key.starts_with('#') || key.starts_with("lxc.") {
        return false;
    }
    let (cur_pos, cur) = properties(current);
    let (new_pos, want) = properties(new);
    // A volume Proxmox allocated (`local-lvm:vm-100-disk-0,size=8G`) stands for the
    // `STORAGE:SIZE` that asked for it; a different storage is a different volume. Its size is
    // not compared: a disk resized by hand (`pct resize`) is a person's choice, kept.
    fn storage(p: Option<&str>) -> Option<&str> {
        p.and_then(|p| p.split_once(':')).map(|(s, _)| s)
    }
    let volume_ok = match (cur_pos, new_pos) {
        (_, None) => true,
        (Some(c), Some(n)) => c == n || (storage(Some(c)) == storage(Some(n))),
        (None, Some(_)) => false,
    };
    volume_ok && want.iter().all(|(k, v)| cur.get(k) == Some(v))
}

/// Key by key: each key of either side once, sorted.
pub fn compare(
    current: &BTreeMap<String, Vec<String>>,
    new: &BTreeMap<String, Vec<String>>,
) -> Vec<Change> {
    let mut out = Vec::new();
    let keys: std::collections::BTreeSet<&String> = current.keys().chain(new.keys()).collect();
    for key in keys {
        let (c, n) = (current.get(key), new.get(key));
        let kind = match (c, n) {
            (None, Some(_)) => Kind::Added,
            (Some(_), None) if owned(key) => Kind::Removed,
            (Some(_), None) => Kind::Kept,
            (Some(c), Some(n)) => {
                let same = c.len() == n.len() && c.iter().zip(n).all(|(c, n)| satisfies(key, c, n));
                if same {
                    Kind::Kept
                } else {
                    Kind::Changed
                }
            }
            (None, None) => continue,
        };
        out.push(Change {
            key: key.clone(),
            kind,
            current: c.cloned().unwrap_or_default(),
            new: if matches!(kind, Kind::Removed) || (kind == Kind::Kept && n.is_none()) {
                Vec::new()
            } else {
                n.cloned().unwrap_or_default()
            },
            apply: apply_of(key, kind),
        });
    }
    out
}

/// The human form: a header, then one block per change (`+` added, `-` removed, `~` changed)
/// with how it applies, then the kept keys in one line.
pub fn text(report: &Report) -> String {
    let mut out = format!(
        "container {} (CT {} on {}): ",
        report.id, report.vmid, report.node
    );
    if !report.changed {
        out.push_str("no change\n");
    } else if report.new_rootfs {
        out.push_str("changes; some need a new root file system\n");
    } else {
        out.push_str("changes; pct set can apply them all\n");
    }
    let how = |a: Apply| match a {
        Apply::Hot => "hot",
        Apply::NextStart => "next start",
        Apply::NewRootfs => "new rootfs",
        Apply::None => "",
    };
    let mut kept = Vec::new();
    for c in &report.changes {
        match c.kind {
            Kind::Kept => kept.push(c.key.as_str()),
            Kind::Added => {
                for v in &c.new {
                    out.push_str(&format!("+ {}: {v}  [{}]\n", c.key, how(c.apply)));
                }
            }
            Kind::Removed => {
                for v in &c.current {
                    out.push_str(&format!("- {}: {v}  [{}]\n", c.key, how(c.apply)));
                }
            }
            Kind::Changed => {
                out.push_str(&format!("~ {}  [{}]\n", c.key, how(c.apply)));
                for v in &c.current {
                    out.push_str(&format!("    - {v}\n"));
                }
                for v in &c.new {
                    out.push_str(&format!("    + {v}\n"));
                }
            }
        }
    }
    if !kept.is_empty() {
        out.push_str(&format!("kept: {}\n", kept.join(", ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_added_removed_changed() {
        let current = parse(
            "#org.proxmox-lxcri.identity=a;b\n#x=1\narch: amd64\nnet0: name=eth0,bridge=vmbr0,hwaddr=BC:24:11:00:00:01,ip=dhcp,type=veth\nonboot: 1\nrootfs: local-lvm:vm-100-disk-0,size=8G\nlxc.environment.runtime: A=1\nlxc.environment.runtime: B=2\n[snap]\nmemory: 1\n",
        );
        let new = parse(
            "#x=2\narch: amd64\nnet0: name=eth0,bridge=vmbr0,ip=dhcp\nrootfs: local-lvm:8\nmemory: 256\nlxc.environment.runtime: A=1\n",
        );
        let changes = compare(&current, &new);
        let get = |k: &str| changes.iter().find(|c| c.key == k).unwrap();
        assert_eq!(get("#x").kind, Kind::Changed);
        assert_eq!(get("#x").apply, Apply::Hot);
        assert_eq!(get("#org.proxmox-lxcri.identity").kind, Kind::Kept);
        assert_eq!(get("net0").kind, Kind::Kept);
        assert_eq!(get("rootfs").kind, Kind::Kept);
        assert_eq!(get("onboot").kind, Kind::Kept);
        assert_eq!(get("memory").kind, Kind::Added);
        assert_eq!(get("memory").current, Vec::<String>::new());
        assert_eq!(get("lxc.environment.runtime A").kind, Kind::Kept);
        assert_eq!(get("lxc.environment.runtime B").kind, Kind::Removed);
        assert_eq!(get("lxc.environment.runtime B").apply, Apply::NextStart);
        let arch = parse("arch: arm64\n");
        let c = compare(&parse("arch: amd64\n"), &arch);
        assert_eq!((c[0].kind, c[0].apply), (Kind::Changed, Apply::NewRootfs));
    }
}
