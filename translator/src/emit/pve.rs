//! The IR in Proxmox's own terms: the normal keys with their values in
//! Proxmox's property-string order, the `env` entries, the raw `lxc.*` lines
//! in a stable order, and files the container config refers to.
//!
//! Both the pct.conf writer and the plan are built from this, so what the
//! plan creates is what `--to pct-conf` shows.

use crate::ir::mounts::RootSource;
use crate::ir::network::Network;
use crate::ir::process::{CommandKey, EnvKey};
use crate::ir::{Container, ContainerKind, PercentInDescription, RawKey};
use crate::source::JsonPointer;

// The plan writes seccomp policies under SECCOMP_DIR named by content, so the same policy
// never needs the VMID and two containers can share it.
use crate::path::lxcri::SECCOMP_DIR;
pub(crate) const DEFAULT_MEMORY_MIB: u64 = 512;

/// One normal key of the container config and its value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The key (`hostname`, `mp0`, …).
    pub key: String,
    /// The value in Proxmox's property-string order.
    pub value: String,
    /// The input fields this line comes from (empty for defaults).
    pub from: Vec<JsonPointer>,
}

/// A file the container config refers to (a seccomp policy), written by the plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct File {
    /// The absolute path on the node.
    pub path: String,
    /// The content.
    pub content: String,
    /// The permission bits it is written with.
    pub mode: u32,
    /// The input field it comes from.
    pub from: JsonPointer,
}

/// The IR in Proxmox's key/value form, read by the pct.conf writer and the plan.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PveConfig {
    /// The `#` comment lines at the top of the file (the annotations).
    pub description: Option<String>,
    /// How the node writes `%` in description lines, as lowering decided for the target.
    pub description_percent: PercentInDescription,
    /// Normal keys, sorted byte-wise as Proxmox writes them.
    pub keys: Vec<Entry>,
    /// `NAME=value` entries: `lxc.environment.runtime` lines (Proxmox's `env`).
    pub env: Vec<Entry>,
    /// Raw `lxc.*` lines in their final order.
    pub raw: Vec<Entry>,
    /// Files on the host the config refers to (seccomp policies).
    pub files: Vec<File>,
    /// The lines alone would make the file larger than pmxcfs keeps
    /// ([`super::pct_conf::MAX_BYTES`]): nothing else is filled in, and
    /// [`super::pct_conf::write`] refuses. Building them all first would cost
    /// a copy of every variable and mount line of a huge config for nothing.
    pub oversized: bool,
}

impl PveConfig {
    /// The value of a normal key, if the config has it.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.keys
            .iter()
            .find(|e| e.key == key)
            .map(|e| e.value.as_str())
    }
}

fn entry(
    key: impl Into<String>,
    value: impl Into<String>,
    from: impl IntoIterator<Item = JsonPointer>,
) -> Entry {
    Entry {
        key: key.into(),
        value: value.into(),
        from: from
            .into_iter()
            .filter(|p| !p.as_str().is_empty())
            .collect(),
    }
}

fn bool01(b: bool) -> &'static str {
    if b {
        "1"
    } else {
        "0"
    }
}

/// A lower bound of the config text's size: the lines that grow with the
/// input (one per variable and per mount entry, the init command, the
/// description), each at least `key: value` and a newline.
fn least_text_bytes(ir: &Container) -> usize {
    let line = |key: &str, value: usize| key.len() + 2 + value + 1;
    let env = ir
        .init
        .iter()
        .flat_map(|i| {
            i.env.iter().map(|v| {
                line(
                    i.env_key.lxc_key(),
                    v.value.name.len() + 1 + v.value.value.len(),
                )
            })
        })
        .sum::<usize>();
    let entries = ir
        .mounts
        .entries
        .iter()
        .map(|e| line(&e.key, e.value.len()))
        .sum::<usize>();
    // Written (as `entrypoint` or `lxc.init.cmd`) unless it is the plain default.
    let command = ir
        .init
        .as_ref()
        .filter(|i| i.command_key.is_some())
        .map_or(0, |i| line("entrypoint", i.command.value.len()));
    let description = ir.description.as_ref().map_or(0, |d| d.value.len());
    env + entries + command + description
}

/// The keys and lines of one area, before they are put in Proxmox's order.
#[derive(Default)]
struct Lines {
    keys: Vec<Entry>,
    env: Vec<Entry>,
    raw: Vec<RawKey>,
    files: Vec<File>,
}

/// Builds the Proxmox form of a container. Everything that depends on the node's
/// pve-container version was decided by lowering and is read from the IR, so this takes
/// no `Target`. One function per area of `ir/`.
pub fn ir_to_pve(ir: &Container) -> PveConfig {
    if least_text_bytes(ir) > super::pct_conf::MAX_BYTES {
        return PveConfig {
            oversized: true,
            ..PveConfig::default()
        };
    }
    let mut out = Lines::default();
    out.keys.push(entry("arch", ir.arch.clone(), []));
    out.keys.push(entry("ostype", ir.ostype.clone(), []));
    // The areas in the order their raw lines have always been pushed: lines of one key from
    // two areas (an `lxc.mount.entry` of a device and of a mount) keep this order.
    process(ir, &mut out);
    ids(ir, &mut out);
    security(ir, &mut out);
    resources(ir, &mut out);
    devices(ir, &mut out);
    mounts(ir, &mut out);
    network(ir, &mut out);
    misc(ir, &mut out);

    let Lines {
        mut keys,
        env,
        mut raw,
        files,
    } = out;
    keys.sort_by(|a, b| a.key.as_bytes().cmp(b.key.as_bytes()));
    // Sorted by key for a canonical file; lines of one key keep their order (the sort is
    // stable, and the areas push in the order below), and the device allow/deny lists are
    // one list whose order matters.
    let group = |k: &str| {
        if k.starts_with("lxc.cgroup2.devices.") {
            "lxc.cgroup2.devices".to_string()
        } else {
            k.to_string()
        }
    };
    raw.sort_by_key(|r| group(&r.key));
    // Not filtered against the allow-list here: lowering must never produce a
    // key Proxmox drops, and the writer refuses one loudly if it does.
    let raw = raw
        .into_iter()
        .map(|r| entry(r.key, r.value, [r.from]))
        .collect();

    PveConfig {
        description: ir.description.as_ref().map(|d| d.value.clone()),
        description_percent: ir.description_percent,
        keys,
        env,
        raw,
        files,
        oversized: false,
    }
}

/// `ir/devices.rs`: `devN` passthrough (properties sorted: gid, mode, uid) and the cgroup
/// device rules.
fn devices(ir: &Container, out: &mut Lines) {
    out.raw.extend(ir.devices.rules.iter().cloned());
    for (i, dev) in ir.devices.nodes.iter().enumerate() {
        let mut value = dev.path.value.clone();
        if let Some(g) = dev.gid {
            value.push_str(&format!(",gid={g}"));
        }
        if let Some(m) = dev.mode {
            value.push_str(&format!(",mode={m:04o}"));
        }
        if let Some(u) = dev.uid {
            value.push_str(&format!(",uid={u}"));
        }
        out.keys
            .push(entry(format!("dev{i}"), value, [dev.path.ptr.clone()]));
    }
}

/// `ir/ids.rs`: `unprivileged` and the `lxc.idmap` lines.
fn ids(ir: &Container, out: &mut Lines) {
    out.keys
        .push(entry("unprivileged", bool01(ir.ids.unprivileged), []));
    for (kind, maps) in [("u", &ir.ids.uid_map), ("g", &ir.ids.gid_map)] {
        for m in maps {
            out.raw.push(RawKey::new(
                "lxc.idmap",
                format!(
                    "{kind} {} {} {}",
                    m.value.container, m.value.host, m.value.size
                ),
                &m.ptr,
            ));
        }
    }
}

/// `ir/mounts.rs`: `mpN`, `rootfs`, and the `lxc.mount.entry` lines.
fn mounts(ir: &Container, out: &mut Lines) {
    for (i, mp) in ir.mounts.points.iter().enumerate() {
        let mut value = format!("{},mp={}", mp.source.value, mp.target.value);
        if !mp.options.is_empty() {
            value.push_str(&format!(",mountoptions={}", mp.options.join(";")));
        }
        if mp.readonly {
            value.push_str(",ro=1");
        }
        out.keys
            .push(entry(format!("mp{i}"), value, [mp.target.ptr.clone()]));
    }
    let rootfs_from: Vec<JsonPointer> = ir
        .rootfs
        .bundle_path
        .iter()
        .map(|p| p.ptr.clone())
        .collect();
    let rootfs = match &ir.rootfs.source {
        RootSource::Volume { storage, size_gib } => Some(format!("{storage}:{size_gib}")),
        RootSource::HostPath(p) => Some(p.clone()),
        RootSource::Unset => None,
    };
    if let Some(mut value) = rootfs {
        if ir.rootfs.readonly {
            value.push_str(",ro=1");
        }
        out.keys.push(entry("rootfs", value, rootfs_from));
    }
    out.raw.extend(ir.mounts.entries.iter().cloned());
}

/// `ir/network.rs`: `netN`, or no network namespace of its own.
fn network(ir: &Container, out: &mut Lines) {
    match &ir.network {
        Network::Isolated(ifs) => {
            for (i, net) in ifs.iter().enumerate() {
                // Property-string order: required `name`, then the rest sorted.
                let mut value = format!("name={},bridge={}", net.name.value, net.bridge);
                if net.host_managed {
                    value.push_str(",host-managed=1");
                }
                value.push_str(&format!(",ip={},type=veth", net.ip));
                out.keys
                    .push(entry(format!("net{i}"), value, [net.name.ptr.clone()]));
            }
        }
        Network::Host { from } => out.raw.push(RawKey::new("lxc.net.0.type", "none", from)),
        Network::Unset => {}
    }
}

/// `ir/process.rs`: `cmode`, the command (`entrypoint` or `lxc.init.cmd`, as lowering chose),
/// the environment (`env` or `lxc.environment`) and the other `lxc.init.*` lines.
fn process(ir: &Container, out: &mut Lines) {
    if ir.kind == ContainerKind::Application {
        // As Proxmox's own OCI import does: a non-init entrypoint breaks the tty console mode.
        out.keys.push(entry(
            "cmode",
            "console",
            ir.init.iter().map(|i| i.command.ptr.clone()),
        ));
    }
    let Some(init) = &ir.init else { return };
    match init.command_key {
        Some(CommandKey::Entrypoint) => out.keys.push(entry(
            "entrypoint",
            init.command.value.clone(),
            [init.command.ptr.clone()],
        )),
        Some(CommandKey::LxcInitCmd) => out.raw.push(RawKey::new(
            "lxc.init.cmd",
            init.command.value.clone(),
            &init.command.ptr,
        )),
        None => {}
    }
    for var in &init.env {
        let line = format!("{}={}", var.value.name, var.value.value);
        match init.env_key {
            EnvKey::Runtime => {
                out.env
                    .push(entry(EnvKey::Runtime.lxc_key(), line, [var.ptr.clone()]))
            }
            EnvKey::Environment => {
                out.raw
                    .push(RawKey::new(EnvKey::Environment.lxc_key(), line, &var.ptr))
            }
        }
    }
    if let Some(cwd) = &init.cwd {
        out.raw
            .push(RawKey::new("lxc.init.cwd", cwd.value.clone(), &cwd.ptr));
    }
    if let Some(uid) = &init.uid {
        out.raw
            .push(RawKey::new("lxc.init.uid", uid.value.to_string(), &uid.ptr));
    }
    if let Some(gid) = &init.gid {
        out.raw
            .push(RawKey::new("lxc.init.gid", gid.value.to_string(), &gid.ptr));
    }
    if let Some(first) = init.groups.first() {
        let groups: Vec<String> = init.groups.iter().map(|g| g.value.to_string()).collect();
        out.raw
            .push(RawKey::new("lxc.init.groups", groups.join(","), &first.ptr));
    }
    if let Some(sig) = &init.halt_signal {
        out.raw
            .push(RawKey::new("lxc.signal.halt", sig.value.clone(), &sig.ptr));
    }
    for rl in &init.rlimits {
        let value = |v: u64| {
            if v == u64::MAX {
                "unlimited".to_string()
            } else {
                v.to_string()
            }
        };
        let text = if rl.value.soft == rl.value.hard {
            value(rl.value.soft)
        } else {
            format!("{}:{}", value(rl.value.soft), value(rl.value.hard))
        };
        out.raw.push(RawKey::new(
            format!("lxc.prlimit.{}", rl.value.name),
            text,
            &rl.ptr,
        ));
    }
}

/// `ir/resources.rs`: `cores`, `cpulimit`, `cpuunits`, `memory`, `swap`, and the
/// `lxc.cgroup2.*` lines.
fn resources(ir: &Container, out: &mut Lines) {
    let r = &ir.resources;
    if let Some(c) = &r.cores {
        out.keys
            .push(entry("cores", c.value.to_string(), [c.ptr.clone()]));
    }
    if let Some(c) = &r.cpulimit {
        out.keys
            .push(entry("cpulimit", c.value.clone(), [c.ptr.clone()]));
    }
    if let Some(c) = &r.cpuunits {
        out.keys
            .push(entry("cpuunits", c.value.to_string(), [c.ptr.clone()]));
    }
    match &r.memory {
        Some(m) => out
            .keys
            .push(entry("memory", m.value.get().to_string(), [m.ptr.clone()])),
        None => out
            .keys
            .push(entry("memory", DEFAULT_MEMORY_MIB.to_string(), [])),
    }
    if let Some(s) = &r.swap_mib {
        out.keys
            .push(entry("swap", s.value.to_string(), [s.ptr.clone()]));
    }
    out.raw.extend(r.cgroup2.iter().cloned());
}

/// `ir/security.rs`: capabilities, AppArmor, SELinux, seccomp (and its policy file), sysctls.
fn security(ir: &Container, out: &mut Lines) {
    let sec = &ir.security;
    if let Some(keep) = &sec.cap_keep {
        // LXC refuses `lxc.cap.keep` while `lxc.cap.drop` has entries, and
        // Proxmox's includes (common.conf) add some; an empty value clears them.
        out.raw.push(RawKey::new("lxc.cap.drop", "", &keep.ptr));
        let value = if keep.value.is_empty() {
            "none".to_string()
        } else {
            keep.value.join(" ")
        };
        out.raw.push(RawKey::new("lxc.cap.keep", value, &keep.ptr));
    }
    if let Some(p) = &sec.apparmor_profile {
        out.raw
            .push(RawKey::new("lxc.apparmor.profile", p.value.clone(), &p.ptr));
    }
    if let Some(c) = &sec.selinux_context {
        out.raw
            .push(RawKey::new("lxc.selinux.context", c.value.clone(), &c.ptr));
    }
    if let Some(profile) = &sec.seccomp {
        let path = seccomp_path(&profile.value.text);
        out.raw.push(RawKey::new(
            "lxc.seccomp.profile",
            path.clone(),
            &profile.ptr,
        ));
        out.files.push(File {
            path,
            content: profile.value.text.clone(),
            mode: 0o644,
            from: profile.ptr.clone(),
        });
    }
    out.raw.extend(sec.sysctls.iter().cloned());
}

/// What `ir/mod.rs` holds itself: `features`, `hostname`, `tags`.
fn misc(ir: &Container, out: &mut Lines) {
    let f = &ir.features;
    if !f.is_empty() {
        let mut parts = Vec::new();
        if f.fuse {
            parts.push("fuse=1".to_string());
        }
        if f.keyctl {
            parts.push("keyctl=1".to_string());
        }
        if f.mknod {
            parts.push("mknod=1".to_string());
        }
        if !f.mount.is_empty() {
            parts.push(format!("mount={}", f.mount.join(";")));
        }
        if f.nesting {
            parts.push("nesting=1".to_string());
        }
        out.keys.push(entry("features", parts.join(","), []));
    }
    if let Some(h) = &ir.hostname {
        out.keys
            .push(entry("hostname", h.value.as_str(), [h.ptr.clone()]));
    }
    if !ir.tags.is_empty() {
        let mut tags: Vec<&str> = ir.tags.iter().map(|t| t.value.as_str()).collect();
        tags.sort_unstable();
        tags.dedup();
        out.keys.push(entry(
            "tags",
            tags.join(";"),
            ir.tags.first().map(|t| t.ptr.clone()),
        ));
    }
}

pub(crate) fn seccomp_path(text: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(text.as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("{SECCOMP_DIR}/{hex}.seccomp")
}
