//! The IR as an OCI runtime config for crun (runc and youki run it too).
//!
//! The container is the one the Proxmox back ends create: its own pid, ipc,
//! uts, mount and cgroup namespaces, a network namespace unless it uses the
//! host's, and the user namespace and id maps of an unprivileged Proxmox
//! container (`0 100000 65536` unless the bundle maps ids itself). Fields
//! Proxmox cannot express, and the areas it expresses only approximately
//! (resources, mounts, devices, seccomp), come from `ir.oci_only`, as given.
//!
//! Normalised for the target's crun: `ociVersion` down-levelled to one it
//! accepts, capabilities sorted, the root path resolved against the bundle
//! directory when the target names it, the mounts every Proxmox container
//! has added when the bundle lacks them. Fields the target's crun does not
//! apply stay in the config and are reported (`crun/unknown-field`).

mod out;
mod versions;

use std::io::{self, Write};

use serde_json::{json, Map, Value};

use crate::diag::Diagnostic;
use crate::ir::network::Network;
use crate::ir::{Container, OciValue};
use crate::json::{Kind, View};
use crate::linux::CapabilitySet;
use crate::path::lexical;
use crate::rules::crun as rules;
use crate::source::{JsonPointer, Span};
use crate::spec::{Cursor, Spec};
use crate::target::Target;

pub(crate) use out::Out;
pub use versions::accepts;

/// A crun config and what the crun back end reports about it.
///
/// The config borrows the IR and its parsed input: it is written straight
/// from them ([`Crun::write_to`]), never held as a second copy of the
/// config (README, "Memory").
#[derive(Clone, Debug)]
pub struct Crun<'a> {
    /// The config, borrowing the IR and its parsed input.
    pub config: Out<'a>,
    /// Pointers into the input; spans are undefined until [`locate`] fills them.
    pub diagnostics: Vec<Diagnostic>,
}

impl Crun<'_> {
    /// Writes the config as pretty JSON ending in a newline.
    pub fn write_to(&self, w: &mut dyn Write) -> io::Result<()> {
        out::write_pretty(w, &self.config)?;
        w.write_all(b"\n")
    }

    /// The config as pretty JSON ending in a newline.
    pub fn to_json(&self) -> String {
        let mut buf = Vec::new();
        // Writing to a Vec cannot fail.
        let _ = self.write_to(&mut buf);
        String::from_utf8(buf).unwrap_or_default()
    }

    /// The config in serde_json's form, for tests and tools; the binary writes it with [`Crun::write_to`].
    pub fn to_value(&self) -> Value {
        self.config.to_value()
    }
}

/// Proxmox's id map of unprivileged containers.
const DEFAULT_ID_MAP: (u32, u32, u32) = (0, 100_000, 65_536);

/// Builds the crun config of a container.
pub fn ir_to_crun<'a>(ir: &'a Container, target: &Target) -> Crun<'a> {
    let mut diagnostics = Vec::new();
    let mut config: Vec<(String, Out<'a>)> = Vec::new();

    let given = ir
        .oci_version
        .map(|v| v.to_string())
        .unwrap_or_else(|| "1.0.2".into());
    let version = versions::down_level(target.crun_version, &given);
    if version != given {
        diagnostics.push(Diagnostic::new(
            &rules::OCI_VERSION,
            format!("ociVersion {given} is written as {version}: crun {} refuses versions it does not know", target.crun_version),
        ).at(&JsonPointer::parse("/ociVersion"), Span::UNDEFINED));
    }
    config.push(("ociVersion".into(), Out::value(Value::String(version))));
    config.push(("process".into(), process(ir, &mut diagnostics)));
    config.push(("root".into(), Out::value(root(ir, target))));
    if let Some(h) = &ir.hostname {
        config.push(("hostname".into(), Out::Str(h.value.as_str())));
    }
    if !ir.annotations.is_empty() {
        // As a map: a later annotation of the same key replaces the earlier one in its place.
        let mut map: Vec<(String, Out<'a>)> = Vec::new();
        for (k, v) in &ir.annotations {
            match map.iter_mut().find(|(key, _)| *key == k.value) {
                Some((_, old)) => *old = Out::Str(&v.value),
                None => map.push((k.value.clone(), Out::Str(&v.value))),
            }
        }
        config.push(("annotations".into(), Out::Object(map)));
    }
    config.push(("linux".into(), Out::value(linux(ir))));

    let mut config = Out::Object(config);
    merge_oci_only(&mut config, ir);
    default_mounts(&mut config, ir, &mut diagnostics);
    order_top_level(&mut config);
    report_unknown_fields(&config, target, &mut diagnostics);
    Crun {
        config,
        diagnostics,
    }
}

fn process<'a>(ir: &'a Container, diagnostics: &mut Vec<Diagnostic>) -> Out<'a> {
    let mut p = Map::new();
    let Some(init) = &ir.init else {
        diagnostics.push(
            Diagnostic::new(
                &rules::DEFAULT_PROCESS,
                "the config has no process: the crun config runs /sbin/init, as Proxmox would",
            )
            .at(&JsonPointer::root(), Span::UNDEFINED),
        );
        return Out::value(
            json!({"terminal": false, "user": {"uid": 0, "gid": 0}, "args": ["/sbin/init"], "cwd": "/"}),
        );
    };
    p.insert("terminal".into(), Value::Bool(init.terminal));
    let mut user = Map::new();
    user.insert(
        "uid".into(),
        json!(init.uid.as_ref().map(|u| u.value).unwrap_or(0)),
    );
    user.insert(
        "gid".into(),
        json!(init.gid.as_ref().map(|g| g.value).unwrap_or(0)),
    );
    if !init.groups.is_empty() {
        user.insert(
            "additionalGids".into(),
            init.groups.iter().map(|g| json!(g.value)).collect(),
        );
    }
    p.insert("user".into(), Value::Object(user));
    // Placeholders for the IR's own strings, which are written from the IR in their place.
    p.insert("args".into(), Value::Null);
    p.insert("env".into(), Value::Null);
    p.insert("cwd".into(), Value::Null);
    let sets = &ir.security.capability_sets;
    if !sets.is_empty() {
        let mut caps = Map::new();
        for name in CapabilitySet::ALL.map(CapabilitySet::key) {
            if let Some((_, list)) = sets.iter().find(|(n, _)| n == name) {
                let mut list = list.clone();
                list.sort();
                list.dedup();
                caps.insert(name.into(), list.into_iter().map(Value::String).collect());
            }
        }
        p.insert("capabilities".into(), Value::Object(caps));
    }
    if !init.rlimits.is_empty() {
        let list = init
            .rlimits
            .iter()
            .map(|r| {
                // The IR holds LXC's spelling, which lowering took from
                // `linux::RESOURCE_LIMITS`, so the table has it; the kernel's
                // naming rule stands in for a name some other builder made.
                let name = crate::linux::resource_limit_by_lxc(&r.value.name).map_or_else(
                    || format!("RLIMIT_{}", r.value.name.to_ascii_uppercase()),
                    |l| l.name.to_string(),
                );
                json!({"type": name, "hard": r.value.hard, "soft": r.value.soft})
            })
            .collect();
        p.insert("rlimits".into(), list);
    }
    if let Some(nnp) = &ir.security.no_new_privileges {
        p.insert("noNewPrivileges".into(), Value::Bool(nnp.value));
    }
    if let Some(aa) = &ir.security.apparmor_profile {
        p.insert("apparmorProfile".into(), Value::String(aa.value.clone()));
    }
    if let Some(se) = &ir.security.selinux_context {
        p.insert("selinuxLabel".into(), Value::String(se.value.clone()));
    }
    let mut p = Out::value(Value::Object(p));
    p.expand();
    if let Some(args) = p.member_mut("args") {
        *args = Out::Array(init.args.iter().map(|a| Out::Str(&a.value)).collect());
    }
    if let Some(env) = p.member_mut("env") {
        *env = Out::Array(init.env.iter().map(|e| Out::Env(&e.value)).collect());
    }
    if let Some(cwd) = p.member_mut("cwd") {
        *cwd = Out::Str(init.cwd.as_ref().map(|c| c.value.as_str()).unwrap_or("/"));
    }
    p
}

/// The root path: absolute under the target's bundle directory when it names
/// one, otherwise relative to the bundle as crun resolves it.
fn root(ir: &Container, target: &Target) -> Value {
    let given = ir
        .rootfs
        .bundle_path
        .as_ref()
        .map(|p| p.value.as_str())
        .unwrap_or("rootfs");
    let path = if given.starts_with('/') {
        lexical(given).absolute()
    } else {
        match &target.bundle_dir {
            Some(dir) => lexical(&format!("{dir}/{given}")).absolute(),
            None => {
                let rel = lexical(given).relative();
                if rel.is_empty() {
                    ".".into()
                } else {
                    rel
                }
            }
        }
    };
    let mut r = Map::new();
    r.insert("path".into(), Value::String(path));
    if ir.rootfs.readonly {
        r.insert("readonly".into(), Value::Bool(true));
    }
    Value::Object(r)
}

/// The namespaces and id maps of the Proxmox container.
fn linux(ir: &Container) -> Value {
    let mut l = Map::new();
    let mut ns = vec!["pid"];
    if matches!(ir.network, Network::Isolated(_) | Network::Unset) {
        ns.push("network");
    }
    ns.extend(["ipc", "uts"]);
    if ir.ids.unprivileged {
        ns.push("user");
    }
    ns.extend(["mount", "cgroup"]);
    l.insert(
        "namespaces".into(),
        ns.into_iter().map(|t| json!({"type": t})).collect(),
    );
    if ir.ids.unprivileged {
        let maps = |m: &[crate::source::Traced<crate::ir::ids::IdMap>]| -> Value {
            if m.is_empty() {
                let (c, h, s) = DEFAULT_ID_MAP;
                json!([{"containerID": c, "hostID": h, "size": s}])
            } else {
                m.iter().map(|x| json!({"containerID": x.value.container, "hostID": x.value.host, "size": x.value.size})).collect()
            }
        };
        l.insert("uidMappings".into(), maps(&ir.ids.uid_map));
        l.insert("gidMappings".into(), maps(&ir.ids.gid_map));
    }
    Value::Object(l)
}

/// Writes every field kept for OCI back ends at its place. Parents go
/// first, so a field kept inside a kept area lands in that area.
fn merge_oci_only<'a>(config: &mut Out<'a>, ir: &'a Container) {
    let mut kept: Vec<&(JsonPointer, OciValue)> = ir.oci_only.iter().collect();
    kept.sort_by_key(|(p, _)| p.tokens().count());
    for (ptr, value) in kept {
        let tokens: Vec<String> = ptr.tokens().collect();
        match tokens
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice()
        {
            // The namespace list is the Proxmox container's, not index-aligned
            // with the input: an extra namespace joins it by type.
            ["linux", "namespaces", _] => add_namespace(config, value.to_serde()),
            // Joining by path is refused before any back end runs.
            ["linux", "namespaces", _, ..] => {}
            _ => set_at(config, &tokens, value),
        }
    }
}

fn add_namespace(config: &mut Out<'_>, ns: Value) {
    let Some(list) = config
        .member_mut("linux")
        .and_then(|l| l.member_mut("namespaces"))
    else {
        return;
    };
    // The list is small: edit it in serde_json's form.
    if !matches!(list, Out::Value(v) if v.is_array()) {
        let value = list.to_value();
        *list = Out::value(value);
    }
    let Out::Value(v) = list else { return };
    let Some(list) = v.as_array_mut() else { return };
    let kind = ns.get("type");
    if !list.iter().any(|n| n.get("type") == kind) {
        list.push(ns);
    }
}

/// Sets `value` at `tokens`, creating objects on the way; an array index
/// must name an existing item or the end.
fn set_at<'a>(node: &mut Out<'a>, tokens: &[String], value: &'a OciValue) {
    let Some((first, rest)) = tokens.split_first() else {
        *node = Out::Kept(value.tree(), value.id());
        return;
    };
    // A field kept inside an area kept whole is already there, as it reads
    // in the same validated input.
    if let Out::Kept(tree, id) = node {
        if std::ptr::eq(*tree, value.tree())
            && matches!(tree.kind(*id, View::Validated), Kind::Object | Kind::Array)
        {
            return;
        }
    }
    node.expand();
    match node {
        Out::Object(members) => {
            let i = match members.iter().position(|(k, _)| k == first) {
                Some(i) => i,
                None => {
                    members.push((
                        first.clone(),
                        if rest.is_empty() {
                            Out::value(Value::Null)
                        } else {
                            Out::Object(Vec::new())
                        },
                    ));
                    members.len() - 1
                }
            };
            if let Some((_, child)) = members.get_mut(i) {
                set_at(child, rest, value);
            }
        }
        Out::Array(items) => {
            let Ok(i) = first.parse::<usize>() else {
                return;
            };
            if i == items.len() {
                items.push(Out::value(Value::Null));
            }
            if let Some(child) = items.get_mut(i) {
                set_at(child, rest, value);
            }
        }
        _ => {
            *node = Out::Object(Vec::new());
            set_at(node, tokens, value);
        }
    }
}

/// `crun spec`'s mounts (crun 1.8.1), which LXC provides in every Proxmox container.
fn standard_mounts(ir: &Container) -> Vec<Value> {
    let userns = ir.ids.unprivileged;
    // In a user namespace gid 5 may be unmapped, and sysfs can only be
    // mounted with a network namespace of its own.
    let devpts = if userns {
        json!([
            "nosuid",
            "noexec",
            "newinstance",
            "ptmxmode=0666",
            "mode=0620"
        ])
    } else {
        json!([
            "nosuid",
            "noexec",
            "newinstance",
            "ptmxmode=0666",
            "mode=0620",
            "gid=5"
        ])
    };
    let sys = if userns && matches!(ir.network, Network::Host { .. }) {
        json!({"destination": "/sys", "type": "none", "source": "/sys", "options": ["rbind", "nosuid", "noexec", "nodev", "ro"]})
    } else {
        json!({"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]})
    };
    vec![
        json!({"destination": "/proc", "type": "proc", "source": "proc"}),
        json!({"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]}),
        json!({"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": devpts}),
        json!({"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]}),
        json!({"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]}),
        sys,
        json!({"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}),
    ]
}

fn destination(m: out::Any<'_, '_>) -> Option<String> {
    m.get("destination")
        .and_then(out::Any::as_str)
        .map(|d| lexical(d).absolute())
}

/// Puts the standard mounts the bundle lacks first, in `crun spec`'s order,
/// so that `/dev` is mounted before anything inside it.
fn default_mounts(config: &mut Out<'_>, ir: &Container, diagnostics: &mut Vec<Diagnostic>) {
    let standard = standard_mounts(ir);
    let wanted: Vec<String> = standard
        .iter()
        .filter_map(|m| destination(out::Any::Value(m)))
        .collect();
    let mut have = vec![false; wanted.len()];
    // The bundle's mounts, counted as the array holds them (nulls too).
    let mut given = 0usize;
    let mounts = config.any().get("mounts");
    if let Some(m) = mounts.filter(|m| is_array(*m)) {
        given = count_items(m);
        for item in m.items() {
            if let Some(d) = destination(item) {
                if let Some(i) = wanted.iter().position(|w| *w == d) {
                    if let Some(h) = have.get_mut(i) {
                        *h = true;
                    }
                }
            }
        }
    }
    let missing: Vec<Value> = standard
        .into_iter()
        .zip(&have)
        .filter(|(m, h)| !**h && destination(out::Any::Value(m)).is_some())
        .map(|(m, _)| m)
        .collect();
    if missing.is_empty() {
        return;
    }
    let names: Vec<String> = missing
        .iter()
        .filter_map(|m| destination(out::Any::Value(m)))
        .collect();
    diagnostics.push(
        Diagnostic::new(
            &rules::DEFAULT_MOUNTS,
            format!(
                "the crun config mounts {} as every Proxmox container has them",
                names.join(", ")
            ),
        )
        .at(
            &JsonPointer::parse(if given == 0 { "" } else { "/mounts" }),
            Span::UNDEFINED,
        ),
    );
    let mut list: Vec<Out<'_>> = missing.into_iter().map(Out::value).collect();
    let Out::Object(members) = config else { return };
    let slot = members.iter().position(|(k, _)| k == "mounts");
    if let Some(i) = slot {
        if let Some((_, old)) = members.get_mut(i) {
            match std::mem::replace(old, Out::value(Value::Null)) {
                Out::Kept(tree, id) if tree.kind(id, View::Validated) == Kind::Array => {
                    list.push(Out::Splice(tree, id))
                }
                Out::Array(items) => list.extend(items),
                Out::Value(v) => {
                    if let Value::Array(items) = *v {
                        list.extend(items.into_iter().map(Out::value));
                    }
                }
                _ => {}
            }
            *old = Out::Array(list);
        }
    } else {
        members.push(("mounts".into(), Out::Array(list)));
    }
}

/// Whether a value is an object (not an array or scalar).
fn is_objectish(v: out::Any<'_, '_>) -> bool {
    match v {
        out::Any::Out(Out::Object(_)) => true,
        out::Any::Value(x) => x.is_object(),
        out::Any::Kept(tree, id) => tree.kind(id, View::Validated) == Kind::Object,
        _ => false,
    }
}

/// Whether a value is an array.
fn is_array(v: out::Any<'_, '_>) -> bool {
    match v {
        out::Any::Out(Out::Array(_)) => true,
        out::Any::Value(x) => x.is_array(),
        out::Any::Kept(tree, id) => tree.kind(id, View::Validated) == Kind::Array,
        _ => false,
    }
}

/// How many items an array holds, nulls included.
fn count_items(v: out::Any<'_, '_>) -> usize {
    match v {
        out::Any::Out(Out::Array(items)) => items.len(),
        out::Any::Value(x) => x.as_array().map_or(0, Vec::len),
        out::Any::Kept(tree, id) => tree.items(id).count(),
        _ => 0,
    }
}

/// The runtime-spec's order of top-level fields, then anything else as it
/// came (after serde_json's `swap_remove` of the ordered ones, which the
/// written bytes have always followed).
fn order_top_level(config: &mut Out<'_>) {
    const ORDER: &[&str] = &[
        "ociVersion",
        "process",
        "root",
        "hostname",
        "domainname",
        "mounts",
        "hooks",
        "annotations",
        "linux",
    ];
    let Out::Object(obj) = config else { return };
    let mut old = std::mem::take(obj);
    for key in ORDER {
        if let Some(i) = old.iter().position(|(k, _)| k == key) {
            obj.push(old.swap_remove(i));
        }
    }
    obj.extend(old);
}

fn report_unknown_fields(config: &Out<'_>, target: &Target, diagnostics: &mut Vec<Diagnostic>) {
    for (pattern, since) in versions::FIELDS {
        if target.crun_version >= *since {
            continue;
        }
        for ptr in matches(config, pattern) {
            diagnostics.push(
                Diagnostic::new(
                    &rules::UNKNOWN_FIELD,
                    format!("crun {} does not apply `{ptr}` (crun {since} and later do); it stays in the config and crun ignores it", target.crun_version),
                )
                .at(&JsonPointer::parse(&ptr), Span::UNDEFINED),
            );
        }
    }
}

/// Every pointer in `config` that `pattern` matches (`*`: any index or key).
fn matches(config: &Out<'_>, pattern: &str) -> Vec<String> {
    let mut found = vec![(String::new(), config.any())];
    for token in pattern.split('/').skip(1) {
        let mut next = Vec::new();
        for (path, node) in found {
            if token == "*" {
                if is_objectish(node) {
                    next.extend(
                        node.members()
                            .into_iter()
                            .map(|(k, v)| (format!("{path}/{}", escape(k)), v)),
                    );
                } else {
                    next.extend(
                        node.items()
                            .into_iter()
                            .enumerate()
                            .map(|(i, v)| (format!("{path}/{i}"), v)),
                    );
                }
            } else if is_objectish(node) {
                next.extend(node.get(token).map(|v| (format!("{path}/{token}"), v)));
            }
        }
        found = next;
    }
    found.into_iter().map(|(p, _)| p).collect()
}

fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Gives the back end's diagnostics the spans of the input they point at.
pub fn locate(diagnostics: &mut [Diagnostic], spec: &Spec) {
    for d in diagnostics {
        let Some(ptr) = d.pointer.clone() else {
            continue;
        };
        if let Some(at) = find(spec.cursor(), &ptr) {
            d.span = at.span();
        }
    }
}

fn find<'a>(root: Cursor<'a>, ptr: &JsonPointer) -> Option<Cursor<'a>> {
    let mut at = root;
    for token in ptr.tokens() {
        at = match token.parse::<usize>() {
            Ok(i) if !at.has_member(&token) => at.items().nth(i)?,
            _ => at.get(&token)?,
        };
    }
    Some(at)
}

/// What `strip_nulls` did to the serde_json config: the written form leaves nulls out.
#[cfg(test)]
fn strip_nulls_for_tests(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.retain(|_, x| !x.is_null());
            map.values_mut().for_each(strip_nulls_for_tests);
        }
        Value::Array(items) => {
            items.retain(|x| !x.is_null());
            items.iter_mut().for_each(strip_nulls_for_tests);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::PveContainerVersion;

    fn crun(json: &str, target: &Target) -> (Value, Vec<String>) {
        let t = crate::oci_to_ir("config.json", json.as_bytes(), target);
        assert!(
            !t.has_errors(),
            "{:?}",
            t.diagnostics
                .iter()
                .map(|d| d.message.clone())
                .collect::<Vec<_>>()
        );
        let ir = t.ir.unwrap_or_default();
        let out = ir_to_crun(&ir, target);
        let config = out.to_value();
        let codes = out
            .diagnostics
            .iter()
            .map(|d| {
                format!(
                    "{} {}",
                    d.code(),
                    d.pointer
                        .as_ref()
                        .map(|p| p.to_string())
                        .unwrap_or_default()
                )
            })
            .collect();
        (config, codes)
    }

    const APP: &str = r#"{"ociVersion": "1.2.0", "root": {"path": "./rootfs/"}, "hostname": "web",
        "process": {"cwd": "/srv", "args": ["/app", "-x"], "env": ["A=1"], "user": {"uid": 1000, "gid": 100, "additionalGids": [10]},
            "capabilities": {"bounding": ["CAP_NET_BIND_SERVICE", "CAP_CHOWN", "CAP_CHOWN"], "effective": ["CAP_KILL"]},
            "rlimits": [{"type": "RLIMIT_NOFILE", "soft": 1024, "hard": 4096}], "oomScoreAdj": 100},
        "hooks": {"prestart": [{"path": "/bin/true"}]},
        "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}, {"destination": "/data", "type": "bind", "source": "/srv/data", "options": ["rbind", "sync"]}],
        "linux": {"namespaces": [{"type": "user"}, {"type": "network"}, {"type": "pid"}],
            "resources": {"memory": {"limit": 100000000}, "cpu": {"quota": 33333, "period": 100000}, "pids": {"limit": 64}},
            "maskedPaths": ["/proc/kcore"]}}"#;

    #[test]
    fn process_from_the_ir() {
        let (c, _) = crun(APP, &Target::default());
        assert_eq!(c["process"]["args"], json!(["/app", "-x"]));
        assert_eq!(
            c["process"]["user"],
            json!({"uid": 1000, "gid": 100, "additionalGids": [10]})
        );
        assert_eq!(c["process"]["cwd"], "/srv");
        assert_eq!(c["process"]["env"], json!(["A=1"]));
        assert_eq!(
            c["process"]["capabilities"],
            json!({"bounding": ["CAP_CHOWN", "CAP_NET_BIND_SERVICE"], "effective": ["CAP_KILL"]})
        );
        assert_eq!(
            c["process"]["rlimits"],
            json!([{"type": "RLIMIT_NOFILE", "hard": 4096, "soft": 1024}])
        );
        assert_eq!(c["process"]["oomScoreAdj"], 100, "kept, not dropped");
        assert_eq!(c["hostname"], "web");
    }

    #[test]
    fn exact_areas_and_oci_only_fields_are_kept() {
        let (c, _) = crun(APP, &Target::default());
        assert_eq!(
            c["linux"]["resources"],
            json!({"memory": {"limit": 100000000}, "cpu": {"quota": 33333, "period": 100000}, "pids": {"limit": 64}})
        );
        assert_eq!(c["hooks"], json!({"prestart": [{"path": "/bin/true"}]}));
        assert_eq!(c["linux"]["maskedPaths"], json!(["/proc/kcore"]));
        let data = c["mounts"]
            .as_array()
            .and_then(|m| m.iter().find(|m| m["destination"] == "/data"))
            .cloned();
        assert_eq!(
            data,
            Some(
                json!({"destination": "/data", "type": "bind", "source": "/srv/data", "options": ["rbind", "sync"]})
            )
        );
    }

    #[test]
    fn namespaces_and_id_maps_of_the_proxmox_container() {
        let (c, _) = crun(APP, &Target::default());
        let types: Vec<&str> = c["linux"]["namespaces"]
            .as_array()
            .map(|l| l.iter().filter_map(|n| n["type"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(
            types,
            ["pid", "network", "ipc", "uts", "user", "mount", "cgroup"]
        );
        assert_eq!(
            c["linux"]["uidMappings"],
            json!([{"containerID": 0, "hostID": 100000, "size": 65536}])
        );
        let privileged = r#"{"ociVersion": "1.0.2", "root": {"path": "rootfs"}, "process": {"cwd": "/", "args": ["sh"]}, "linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}]}}"#;
        let (c, _) = crun(privileged, &Target::default());
        let types: Vec<&str> = c["linux"]["namespaces"]
            .as_array()
            .map(|l| l.iter().filter_map(|n| n["type"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(
            types,
            ["pid", "ipc", "uts", "mount", "cgroup"],
            "no network namespace: the host's network"
        );
        assert!(c["linux"].get("uidMappings").is_none());
    }

    #[test]
    fn version_is_down_levelled_for_crun_1_8_1() {
        let (c, codes) = crun(APP, &Target::default());
        assert_eq!(c["ociVersion"], "1.1.0");
        assert!(
            codes.contains(&"crun/oci-version /ociVersion".to_string()),
            "{codes:?}"
        );
        let newer = Target {
            crun_version: PveContainerVersion(1, 19, 0),
            ..Target::default()
        };
        let (c, codes) = crun(APP, &newer);
        assert_eq!(c["ociVersion"], "1.2.0");
        assert!(
            !codes.iter().any(|c| c.starts_with("crun/oci-version")),
            "{codes:?}"
        );
    }

    #[test]
    fn fields_crun_does_not_know_are_reported_and_kept() {
        let json = r#"{"ociVersion": "1.2.0", "root": {"path": "rootfs"}, "process": {"cwd": "/", "args": ["sh"], "scheduler": {"policy": "SCHED_FIFO", "priority": 1}},
            "linux": {"namespaces": [{"type": "user"}, {"type": "network"}], "resources": {"cpu": {"burst": 1000}}}}"#;
        let (c, codes) = crun(json, &Target::default());
        assert_eq!(
            c["process"]["scheduler"],
            json!({"policy": "SCHED_FIFO", "priority": 1})
        );
        assert_eq!(c["linux"]["resources"]["cpu"]["burst"], 1000);
        assert!(
            codes.contains(&"crun/unknown-field /process/scheduler".to_string()),
            "{codes:?}"
        );
        assert!(
            codes.contains(&"crun/unknown-field /linux/resources/cpu/burst".to_string()),
            "{codes:?}"
        );
        let newer = Target {
            crun_version: PveContainerVersion(1, 19, 0),
            ..Target::default()
        };
        let (_, codes) = crun(json, &newer);
        assert!(
            !codes.iter().any(|c| c.starts_with("crun/unknown-field")),
            "{codes:?}"
        );
    }

    #[test]
    fn standard_mounts_are_added_first() {
        let (c, codes) = crun(APP, &Target::default());
        let dests: Vec<&str> = c["mounts"]
            .as_array()
            .map(|l| l.iter().filter_map(|m| m["destination"].as_str()).collect())
            .unwrap_or_default();
        assert_eq!(
            dests,
            [
                "/dev",
                "/dev/pts",
                "/dev/shm",
                "/dev/mqueue",
                "/sys",
                "/sys/fs/cgroup",
                "/proc",
                "/data"
            ]
        );
        assert!(
            codes.contains(&"crun/default-mounts /mounts".to_string()),
            "{codes:?}"
        );
        let devpts = c["mounts"]
            .as_array()
            .and_then(|l| l.iter().find(|m| m["destination"] == "/dev/pts"))
            .cloned()
            .unwrap_or_default();
        assert!(
            !devpts["options"].to_string().contains("gid=5"),
            "gid 5 need not be mapped in a user namespace"
        );
    }

    #[test]
    fn root_path_is_resolved() {
        let (c, _) = crun(APP, &Target::default());
        assert_eq!(c["root"], json!({"path": "rootfs"}));
        let target = Target {
            bundle_dir: Some("/srv/b/".into()),
            ..Target::default()
        };
        let (c, _) = crun(APP, &target);
        assert_eq!(c["root"], json!({"path": "/srv/b/rootfs"}));
    }

    #[test]
    fn no_process_runs_init() {
        let (c, codes) = crun(
            r#"{"ociVersion": "1.0.2", "root": {"path": "rootfs"}}"#,
            &Target::default(),
        );
        assert_eq!(c["process"]["args"], json!(["/sbin/init"]));
        assert!(
            codes.contains(&"crun/default-process /".to_string()),
            "{codes:?}"
        );
    }

    #[test]
    fn top_level_order_is_the_specs() {
        let (c, _) = crun(APP, &Target::default());
        let keys: Vec<&String> = c
            .as_object()
            .map(|o| o.keys().collect())
            .unwrap_or_default();
        assert_eq!(
            keys,
            [
                "ociVersion",
                "process",
                "root",
                "hostname",
                "mounts",
                "hooks",
                "linux"
            ]
        );
    }

    #[test]
    fn diagnostics_find_their_spans() {
        let json = r#"{"ociVersion": "1.2.0", "root": {"path": "rootfs"}, "process": {"cwd": "/", "args": ["sh"], "scheduler": {"policy": "SCHED_FIFO"}}}"#;
        let t = crate::oci_to_ir("c", json.as_bytes(), &Target::default());
        let (Some(ir), Some(spec)) = (t.ir.as_ref(), t.spec.as_ref()) else {
            panic!("no ir")
        };
        let mut out = ir_to_crun(ir, &Target::default());
        locate(&mut out.diagnostics, spec);
        let d = out
            .diagnostics
            .iter()
            .find(|d| d.code() == "crun/unknown-field")
            .cloned();
        let span = d.map(|d| d.span).unwrap_or(Span::UNDEFINED);
        assert_eq!(json.get(span.start..span.start + 11), Some("\"scheduler\""));
    }
}
