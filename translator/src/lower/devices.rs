//! `linux.devices` → `devN`; `linux.resources.devices` → `lxc.cgroup2.devices.*`.
//!
//! **Device nodes.** Proxmox's `devN: /dev/…,mode=0NNN,uid=N,gid=N` passes
//! the *host's* node at that path through (root@pam only): its type and
//! major/minor come from the node, not from the bundle, and `pct set`
//! refuses a path the node lacks. So the bundle's numbers are only
//! compared with the well-known fixed ones, and a `pve/needs-host` note
//! says the rest. The OCI default devices (`/dev/null`, `zero`, `full`,
//! `random`, `urandom`, `tty`, `console`, `ptmx`, `/dev/pts/*`) are created
//! by LXC in every container and become nothing. `/dev/fuse` becomes
//! `features: fuse=1`, which binds the node and also lets the container
//! mount FUSE file systems under Proxmox's AppArmor profile. A FIFO (`p`)
//! is not a device node Proxmox can pass through.
//!
//! Proxmox allows read and write on every `devN` in the device cgroup; when
//! the bundle's `linux.resources.devices` allow only reading a node, the
//! device gets `deny-write=1`, and when they allow nothing, that is reported.
//!
//! **Device cgroup rules.** LXC keeps one list of rules for its cgroup2
//! device program (`bpf_list_add_device`, `__bpf_cgroup_devices` in LXC's
//! cgroup2_devices.c): the value `a` alone resets the list and sets the
//! default (`deny a`: refuse all; `allow a`: allow all); a rule equal to an
//! earlier one in type, numbers and access flips that one; any other rule is
//! added, but the program keeps only the rules that differ from the default:
//! under "refuse all" only allow rules count, under "allow all" only deny
//! rules. So a later rule undoes an earlier one only when it names exactly
//! the same devices and access, where OCI runtimes let later rules override
//! earlier ones in general; where the two differ it is `pve/lossy`. A rule
//! matches an access only if it covers all of it (a deny `w` does not stop
//! an open for reading and writing).
//!
//! The list a Proxmox container starts from (checked with LXC 5.0.2 on a
//! cgroup2 hierarchy, with the same configuration files):
//!
//! - privileged: LXC's common.conf, `deny a` and then allow `c *:* m`,
//!   `b *:* m` and 1:3, 1:5, 1:7, 1:8, 1:9, 5:0, 5:1, 5:2, 136:*, 10:229.
//!   That is what a bundle's usual first rule `{"allow": false, "access":
//!   "rwm"}` plus the devices OCI runtimes allow on their own amount to, so
//!   that rule is written as nothing (`deny a` would reset the list and take
//!   /dev/null away). The bundle's other rules follow in order.
//! - unprivileged: pve-container's `userns.conf.d/01-pve.conf` resets the
//!   list and writes `allow a`; the user namespace keeps the container from
//!   creating device nodes, so it can use only the nodes LXC and `devN` put
//!   in /dev. Here "refuse all" cannot be written (it would refuse
//!   /dev/null); it is reported, and only the bundle's deny rules have an
//!   effect.
//!
//! Rules that change nothing (they repeat a rule or the default) are left out.

use crate::diag::{Diagnostic, Severity};
use crate::ir::devices::Device;
use crate::ir::{Container, RawKey};
use crate::lower::Cx;
use crate::rules::pve;
use crate::spec::Cursor;
use crate::target::PveContainerVersion;

/// Proxmox's `dev0`–`dev255`.
pub(crate) const MAX_DEVICES: usize = 256;

/// Device nodes LXC creates in every container.
pub(crate) const LXC_NODES: &[&str] = &[
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/random",
    "/dev/urandom",
    "/dev/tty",
    "/dev/console",
    "/dev/ptmx",
    "/dev/pts",
];

/// Character devices whose numbers are fixed by the kernel (devices.txt).
const FIXED_NUMBERS: &[(&str, i64, i64)] = &[
    ("/dev/kvm", 10, 232),
    ("/dev/loop-control", 10, 237),
    ("/dev/net/tun", 10, 200),
    ("/dev/ppp", 108, 0),
    ("/dev/vhost-net", 10, 238),
    ("/dev/vhost-vsock", 10, 241),
];

/// The allow rules of LXC's common.conf, in order.
const LXC_DEFAULT_RULES: &[(char, Option<i64>, Option<i64>, u8)] = &[
    ('c', None, None, M),
    ('b', None, None, M),
    ('c', Some(1), Some(3), ALL),
    ('c', Some(1), Some(5), ALL),
    ('c', Some(1), Some(7), ALL),
    ('c', Some(5), Some(0), ALL),
    ('c', Some(5), Some(1), ALL),
    ('c', Some(5), Some(2), ALL),
    ('c', Some(1), Some(8), ALL),
    ('c', Some(1), Some(9), ALL),
    ('c', Some(136), None, ALL),
    ('c', Some(10), Some(229), ALL),
];

const R: u8 = 1;
const W: u8 = 2;
const M: u8 = 4;
const ALL: u8 = R | W | M;

fn access_text(access: u8) -> String {
    [(R, 'r'), (W, 'w'), (M, 'm')]
        .iter()
        .filter(|(bit, _)| access & bit != 0)
        .map(|(_, c)| *c)
        .collect()
}

/// One device cgroup rule, in the kernel's (and LXC's) terms.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Rule {
    allow: bool,
    /// `a`, `c` or `b`.
    kind: char,
    /// `None`: any (`*`).
    major: Option<i64>,
    minor: Option<i64>,
    access: u8,
    /// From the bundle, not LXC's defaults.
    ours: bool,
}

impl Rule {
    fn is_global(&self) -> bool {
        self.kind == 'a' && self.major.is_none() && self.minor.is_none() && self.access == ALL
    }

    fn text(&self) -> String {
        if self.is_global() {
            return "a".to_string();
        }
        let num = |n: Option<i64>| n.map_or_else(|| "*".to_string(), |n| n.to_string());
        format!(
            "{} {}:{} {}",
            self.kind,
            num(self.major),
            num(self.minor),
            access_text(self.access)
        )
    }

    /// LXC treats two rules as the same when all of these are equal.
    fn same_entry(&self, other: &Rule) -> bool {
        self.kind == other.kind
            && self.major == other.major
            && self.minor == other.minor
            && self.access == other.access
    }

    /// Whether some access can match both rules.
    fn intersects(&self, other: &Rule) -> bool {
        let num = |a: Option<i64>, b: Option<i64>| a.is_none() || b.is_none() || a == b;
        (self.kind == 'a' || other.kind == 'a' || self.kind == other.kind)
            && num(self.major, other.major)
            && num(self.minor, other.minor)
            && self.access & other.access != 0
    }

    fn covers(&self, kind: char, major: Option<i64>, minor: Option<i64>) -> bool {
        let num = |rule: Option<i64>, dev: Option<i64>| rule.is_none() || rule == dev;
        (self.kind == 'a' || self.kind == kind) && num(self.major, major) && num(self.minor, minor)
    }
}

fn lxc_defaults() -> Vec<Rule> {
    LXC_DEFAULT_RULES
        .iter()
        .map(|&(kind, major, minor, access)| Rule {
            allow: true,
            kind,
            major,
            minor,
            access,
            ours: false,
        })
        .collect()
}

/// The field-table entries (`spec::fields`, marked `Lower`) this module
/// reads; `lower::consumers::every_lowered_field_has_a_module` holds the table to it.
pub(super) const CONSUMES: &[&str] = &[
    "/linux/devices",
    "/linux/devices/*/type",
    "/linux/devices/*/path",
    "/linux/devices/*/major",
    "/linux/devices/*/minor",
    "/linux/devices/*/fileMode",
    "/linux/devices/*/uid",
    "/linux/devices/*/gid",
    "/linux/resources/devices",
    "/linux/resources/devices/*/allow",
    "/linux/resources/devices/*/type",
    "/linux/resources/devices/*/major",
    "/linux/resources/devices/*/minor",
    "/linux/resources/devices/*/access",
];

pub(crate) fn lower(root: &Cursor<'_>, cx: &mut Cx<'_>, ir: &mut Container) {
    let Some(linux) = root.get("linux") else {
        return;
    };
    let rules = linux
        .path(&["resources", "devices"])
        .map(|list| cgroup_rules(&list, cx, ir));
    if let Some(list) = linux.get("devices") {
        nodes(&list, rules.as_deref(), cx, ir);
    }
}

/// Reads one OCI device rule; reports what cannot be a cgroup rule.
fn parse_rule(item: &Cursor<'_>, cx: &mut Cx<'_>) -> Option<Rule> {
    let allow = item.get("allow").and_then(|a| a.bool())?;
    let kind = match item.get("type") {
        None => 'a',
        Some(t) => match t.str() {
            Some("a") => 'a',
            Some("c") => 'c',
            Some("b") => 'b',
            other => {
                cx.at(
                    &pve::INVALID_VALUE,
                    &t,
                    format!(
                        "`{}` is not a device cgroup type (`a`, `c` or `b`)",
                        other.unwrap_or_default().escape_debug()
                    ),
                )
                .with_label("invalid type");
                return None;
            }
        },
    };
    let mut numbers = [None, None];
    for (slot, field) in numbers.iter_mut().zip(["major", "minor"]) {
        let Some(n_at) = item.get(field) else {
            continue;
        };
        match n_at.i64() {
            Some(-1) | None => {}
            Some(n) if n >= 0 => *slot = Some(n),
            Some(n) => {
                cx.at(
                    &pve::INVALID_VALUE,
                    &n_at,
                    format!("a device {field} number cannot be {n} (-1 means any)"),
                )
                .with_label("invalid number");
                return None;
            }
        }
    }
    let [major, minor] = numbers;
    let access_text = item
        .get("access")
        .and_then(|a| a.str().map(str::to_string))
        .unwrap_or_default();
    if access_text.is_empty() {
        cx.at(
            &pve::INVALID_VALUE,
            item,
            "a device rule without `access` grants or refuses nothing; it is left out",
        )
        .with_severity(Severity::Warning)
        .with_label("no access");
        return None;
    }
    let mut access = 0;
    for c in access_text.chars() {
        access |= match c {
            'r' => R,
            'w' => W,
            'm' => M,
            _ => {
                let at = item.get("access").unwrap_or_else(|| item.clone());
                cx.at(
                    &pve::INVALID_VALUE,
                    &at,
                    format!(
                        "`{}` is not a device access (letters r, w and m)",
                        access_text.escape_debug()
                    ),
                )
                .with_label("invalid access");
                return None;
            }
        };
    }
    Some(Rule {
        allow,
        kind,
        major,
        minor,
        access,
        ours: true,
    })
}

/// Lowers the cgroup rules into `ir.devices.rules`; returns the bundle's rules.
fn cgroup_rules(list: &Cursor<'_>, cx: &mut Cx<'_>, ir: &mut Container) -> Vec<Rule> {
    let unprivileged = ir.ids.unprivileged;
    let start = || {
        if unprivileged {
            (Vec::new(), true)
        } else {
            (lxc_defaults(), false)
        }
    };
    let mut parsed = Vec::new();
    // LXC's list as it will be, and whether its default allows.
    let (mut lxc, mut default_allow) = start();
    let mut lines: Vec<RawKey> = Vec::new();
    let mut refused_all = false;
    for item in list.items() {
        let Some(rule) = parse_rule(&item, cx) else {
            continue;
        };
        parsed.push(rule.clone());
        if rule.is_global() {
            // OCI: a fresh start. LXC keeps its default list, as OCI runtimes add theirs.
            (lxc, default_allow) = start();
            lines.clear();
            if rule.allow && !unprivileged {
                default_allow = true;
                lxc.clear();
                lines.push(RawKey::new("lxc.cgroup2.devices.allow", "a", item.ptr()));
            }
            if !rule.allow && unprivileged && !refused_all {
                refused_all = true;
                cx.at(
                    &pve::LOSSY,
                    &item,
                    "Proxmox lets unprivileged containers use every device node they have (`lxc.cgroup2.devices.allow: a`); the user namespace keeps them from creating nodes, so they reach only those LXC and `devN` put in /dev",
                )
                .with_severity(Severity::Info)
                .with_label("not refused");
            }
            continue;
        }
        let key = if rule.allow {
            "lxc.cgroup2.devices.allow"
        } else {
            "lxc.cgroup2.devices.deny"
        };
        if let Some(existing) = lxc
            .iter_mut()
            .find(|e| e.same_entry(&rule) && e.allow != default_allow)
        {
            if existing.allow != rule.allow {
                existing.allow = rule.allow;
                lines.push(RawKey::new(key, rule.text(), item.ptr()));
            }
            continue;
        }
        let overlaps = lxc
            .iter()
            .any(|e| e.allow != default_allow && e.intersects(&rule));
        if !overlaps && rule.allow == default_allow {
            continue;
        }
        if let Some(earlier) = lxc.iter().find(|e| {
            e.ours && e.allow != default_allow && e.allow != rule.allow && e.intersects(&rule)
        }) {
            cx.lossy(
                &item,
                format!(
                    "LXC lets a rule undo an earlier one only when both name the same devices and access: `{}` does not {} what the earlier `{}` {}",
                    rule.text(),
                    if rule.allow { "allow" } else { "deny" },
                    earlier.text(),
                    if earlier.allow { "allows" } else { "denies" }
                ),
            );
        }
        if !rule.allow && default_allow && rule.access != ALL {
            cx.lossy(
                &item,
                format!("LXC applies a rule only to accesses it covers completely, so `deny {}` does not stop opening the device for reading and writing at once", rule.text()),
            );
        }
        if rule.allow != default_allow {
            lines.push(RawKey::new(key, rule.text(), item.ptr()));
            lxc.push(rule);
        }
    }
    ir.devices.rules = lines;
    parsed
}

/// What the bundle's rules allow on a device, as OCI runtimes read them (later rules win).
fn oci_access(rules: &[Rule], kind: char, major: Option<i64>, minor: Option<i64>) -> u8 {
    let mut allowed = 0;
    for rule in rules.iter().filter(|r| r.covers(kind, major, minor)) {
        if rule.allow {
            allowed |= rule.access;
        } else {
            allowed &= !rule.access;
        }
    }
    allowed
}

/// A `devN` path Proxmox accepts and that cannot break its property string.
fn check_dev_path(path: &str) -> Result<(), &'static str> {
    let Some(rest) = path.strip_prefix("/dev/") else {
        return Err("it is not under /dev/");
    };
    if rest
        .split('/')
        .any(|c| c.is_empty() || c == "." || c == "..")
    {
        return Err("it has an empty, `.` or `..` component");
    }
    if path
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || c == ',' || c == '=')
    {
        return Err("it contains white space, a control character, `,` or `=`, which Proxmox's property string cannot hold");
    }
    Ok(())
}

fn nodes(list: &Cursor<'_>, rules: Option<&[Rule]>, cx: &mut Cx<'_>, ir: &mut Container) {
    let mut too_many = false;
    for item in list.items() {
        let (Some(path_at), Some(kind)) =
            (item.get("path"), item.get("type").and_then(|t| t.str()))
        else {
            continue;
        };
        let Some(path) = path_at.str() else { continue };
        if LXC_NODES.contains(&path) || path.starts_with("/dev/pts/") {
            continue;
        }
        if let Err(why) = check_dev_path(path) {
            cx.at(
                &pve::INVALID_PATH,
                &path_at,
                format!(
                    "`{}` cannot be a Proxmox device: {why}",
                    path.escape_debug()
                ),
            )
            .with_label("invalid device path");
            continue;
        }
        if kind == "p" {
            cx.unsupported(ir, &item, "Proxmox passes host device nodes through (`devN`); a FIFO is not one, create it in the image or at start instead");
            continue;
        }
        if path == "/dev/fuse" {
            ir.features.fuse = true;
            cx.at(&pve::LOSSY, &item, "/dev/fuse becomes `features: fuse=1`: Proxmox binds the node's /dev/fuse and lets the container mount FUSE file systems; the node's owner and mode apply")
                .with_severity(Severity::Info)
                .with_label("features: fuse=1");
            continue;
        }
        if ir.devices.nodes.iter().any(|d| d.path.value == path) {
            cx.at(
                &pve::INVALID_VALUE,
                &path_at,
                format!("`{path}` is listed twice"),
            )
            .with_label("duplicate device");
            continue;
        }
        if ir.devices.nodes.len() >= MAX_DEVICES {
            if !too_many {
                cx.at(
                    &pve::TOO_MANY,
                    list,
                    format!(
                        "more than {MAX_DEVICES} devices; Proxmox has only dev0 to dev{}",
                        MAX_DEVICES - 1
                    ),
                )
                .with_label("too many devices");
                too_many = true;
            }
            continue;
        }
        let dev_kind = if kind == "b" { 'b' } else { 'c' };
        let major = item.get("major").and_then(|m| m.i64());
        let minor = item.get("minor").and_then(|m| m.i64());
        numbers(&item, path, dev_kind, major, minor, cx);
        let mode = item
            .get("fileMode")
            .and_then(|m| file_mode(&m, dev_kind, cx));
        let id = |field: &str| item.get(field).and_then(|v| v.u32()).filter(|v| *v != 0);
        let mut device = Device {
            path: path_at.traced(path.to_string()),
            mode,
            uid: id("uid"),
            gid: id("gid"),
            deny_write: false,
        };
        if let Some(rules) = rules {
            let allowed = oci_access(rules, dev_kind, major, minor);
            if allowed & (R | W) == R {
                device.deny_write = true;
            } else if allowed & R == 0 {
                cx.lossy(
                    &item,
                    format!("the bundle's device rules do not allow reading {path}, but Proxmox allows {} on every passed-through device", if allowed & W != 0 { "reading" } else { "reading and writing" }),
                );
            }
        }
        if !cx.pve_at_least(PveContainerVersion::DEVICES) {
            cx.too_old(&item, "devN", PveContainerVersion::DEVICES, &format!("Proxmox ignores the setting and refuses `pct create --dev0`, so {path} would be missing"), Severity::Error);
            continue;
        }
        ir.devices.nodes.push(device);
    }
}

/// Compares the bundle's numbers with what the node will have.
fn numbers(
    item: &Cursor<'_>,
    path: &str,
    kind: char,
    major: Option<i64>,
    minor: Option<i64>,
    cx: &mut Cx<'_>,
) {
    let fixed = FIXED_NUMBERS.iter().find(|(p, _, _)| *p == path);
    match (fixed, major, minor) {
        (Some((_, fma, fmi)), Some(ma), Some(mi)) if (ma, mi) != (*fma, *fmi) || kind != 'c' => {
            cx.lossy(item, format!("{path} is always c {fma}:{fmi}; Proxmox passes the node's device through, not {kind} {ma}:{mi}"));
        }
        (Some(_), _, _) => {}
        _ => {
            let numbers = match (major, minor) {
                (Some(ma), Some(mi)) => format!(" {ma}:{mi}"),
                _ => String::new(),
            };
            cx.report(
                Diagnostic::new(
                    &pve::NEEDS_HOST,
                    format!("Proxmox passes the node's own {path} through: it must exist on the node, and its type and numbers are used, not the bundle's {kind}{numbers}"),
                )
                .at(item.ptr(), item.span())
                .with_label("the node's device"),
            );
        }
    }
}

/// `fileMode` → the permission bits Proxmox's `mode=0NNN` can hold.
fn file_mode(at: &Cursor<'_>, kind: char, cx: &mut Cx<'_>) -> Option<u32> {
    let mode = at.u32()?;
    let type_bits = mode & 0o170_000;
    let expected = if kind == 'b' { 0o060_000 } else { 0o020_000 };
    if type_bits != 0 && type_bits != expected {
        cx.lossy(at, format!("the file type bits {type_bits:o} of mode {mode:o} do not match the device type; Proxmox takes the type from the node"));
    }
    let special = mode & 0o7000;
    if special != 0 {
        cx.lossy(at, format!("Proxmox's `mode` holds permission bits only: the setuid, setgid and sticky bits {special:o} of {mode:o} are dropped"));
    }
    Some(mode & 0o777)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lower::{check, pve_conf};
    use crate::target::Target;

    fn config(linux: &str) -> String {
        format!(
            r#"{{"ociVersion": "1.2.0", "root": {{"path": "rootfs"}}, "linux": {{"namespaces": [{{"type": "user"}}, {{"type": "network"}}, {{"type": "pid"}}, {{"type": "ipc"}}, {{"type": "uts"}}, {{"type": "mount"}}, {{"type": "cgroup"}}]{linux}}}}}"#
        )
    }

    fn run(linux: &str) -> (Container, Vec<String>) {
        check(&config(linux), &Target::default())
    }

    /// A privileged container: LXC's default device list applies.
    fn run_privileged(linux: &str) -> (Container, Vec<String>) {
        let json = format!(
            r#"{{"ociVersion": "1.2.0", "root": {{"path": "rootfs"}}, "linux": {{"namespaces": [{{"type": "network"}}, {{"type": "pid"}}, {{"type": "ipc"}}, {{"type": "uts"}}, {{"type": "mount"}}, {{"type": "cgroup"}}]{linux}}}}}"#
        );
        let (ir, codes) = check(&json, &Target::default());
        (
            ir,
            codes
                .into_iter()
                .filter(|c| {
                    c.contains(" /linux/resources/devices") || c.contains(" /linux/devices")
                })
                .collect(),
        )
    }

    fn lines(ir: &Container) -> Vec<String> {
        ir.devices
            .rules
            .iter()
            .map(|r| format!("{} = {}", r.key, r.value))
            .collect()
    }

    const PODMAN_RULES: &str = r#"[
        {"allow": false, "access": "rwm"},
        {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"},
        {"allow": true, "type": "c", "major": 1, "minor": 5, "access": "rwm"},
        {"allow": true, "type": "c", "major": 5, "minor": 2, "access": "rwm"},
        {"allow": true, "type": "c", "major": 136, "access": "rwm"},
        {"allow": true, "type": "c", "major": 10, "minor": 200, "access": "rwm"}
    ]"#;

    #[test]
    fn deny_all_and_default_devices_become_nothing() {
        let (ir, codes) =
            run_privileged(&format!(r#", "resources": {{"devices": {PODMAN_RULES}}}"#));
        assert_eq!(lines(&ir), vec!["lxc.cgroup2.devices.allow = c 10:200 rwm"]);
        assert!(codes.is_empty(), "{codes:?}");
        // Unprivileged: Proxmox allows every device node the container has; allow rules change nothing.
        let (ir, codes) = run(&format!(r#", "resources": {{"devices": {PODMAN_RULES}}}"#));
        assert!(ir.devices.rules.is_empty(), "{:?}", lines(&ir));
        assert!(codes.is_empty(), "{codes:?}");
    }

    #[test]
    fn allow_all_and_flips() {
        let (ir, _) = run_privileged(
            r#", "resources": {"devices": [{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 4, "access": "rwm"}, {"allow": true, "access": "rwm"}, {"allow": false, "type": "b", "major": 8, "minor": 0, "access": "rwm"}]}"#,
        );
        assert_eq!(
            lines(&ir),
            vec![
                "lxc.cgroup2.devices.allow = a",
                "lxc.cgroup2.devices.deny = b 8:0 rwm"
            ]
        );
        let (ir, codes) = run_privileged(
            r#", "resources": {"devices": [{"allow": false, "type": "c", "major": 5, "minor": 1, "access": "rwm"}, {"allow": true, "type": "b", "major": 8, "access": "r"}, {"allow": true, "type": "c", "major": 5, "minor": 1, "access": "rwm"}]}"#,
        );
        assert_eq!(
            lines(&ir),
            vec![
                "lxc.cgroup2.devices.deny = c 5:1 rwm",
                "lxc.cgroup2.devices.allow = b 8:* r",
                "lxc.cgroup2.devices.allow = c 5:1 rwm"
            ]
        );
        assert!(codes.is_empty(), "{codes:?}");
        let (ir, codes) = run(
            r#", "resources": {"devices": [{"allow": false, "type": "b", "major": 8, "access": "rwm"}, {"allow": true, "type": "b", "major": 8, "access": "rwm"}, {"allow": true, "access": "rwm"}, {"allow": false, "type": "c", "major": 10, "minor": 200, "access": "rwm"}]}"#,
        );
        assert_eq!(lines(&ir), vec!["lxc.cgroup2.devices.deny = c 10:200 rwm"]);
        assert!(codes.is_empty(), "{codes:?}");
    }

    #[test]
    fn contradictions_and_leaky_denies_are_lossy() {
        let (ir, codes) = run_privileged(
            r#", "resources": {"devices": [{"allow": true, "type": "c", "major": 4, "access": "rwm"}, {"allow": false, "type": "c", "major": 4, "minor": 1, "access": "rwm"}]}"#,
        );
        assert_eq!(lines(&ir), vec!["lxc.cgroup2.devices.allow = c 4:* rwm"]);
        assert_eq!(codes, vec!["pve/lossy /linux/resources/devices/1"]);
        let (ir, codes) = run_privileged(
            r#", "resources": {"devices": [{"allow": true, "access": "rwm"}, {"allow": false, "type": "b", "major": 8, "access": "w"}]}"#,
        );
        assert_eq!(
            lines(&ir),
            vec![
                "lxc.cgroup2.devices.allow = a",
                "lxc.cgroup2.devices.deny = b 8:* w"
            ]
        );
        assert_eq!(codes, vec!["pve/lossy /linux/resources/devices/1"]);
        let (_, codes) = run(
            r#", "resources": {"devices": [{"allow": false, "type": "b", "major": 8, "access": "rwm"}, {"allow": true, "type": "b", "major": 8, "minor": 1, "access": "rwm"}]}"#,
        );
        assert_eq!(codes, vec!["pve/lossy /linux/resources/devices/1"]);
    }

    #[test]
    fn invalid_rules() {
        let (ir, codes) = run(
            r#", "resources": {"devices": [{"allow": true, "type": "p", "access": "rwm"}, {"allow": true, "type": "c", "major": -5, "access": "r"}, {"allow": true, "type": "c", "access": "rx"}, {"allow": true, "type": "c", "major": 7}]}"#,
        );
        assert!(ir.devices.rules.is_empty());
        assert_eq!(
            codes,
            vec![
                "pve/invalid-value /linux/resources/devices/0/type",
                "pve/invalid-value /linux/resources/devices/1/major",
                "pve/invalid-value /linux/resources/devices/2/access",
                "pve/invalid-value /linux/resources/devices/3"
            ]
        );
    }

    #[test]
    fn device_nodes() {
        let (ir, codes) = run(r#", "devices": [
                {"path": "/dev/null", "type": "c", "major": 1, "minor": 3},
                {"path": "/dev/net/tun", "type": "c", "major": 10, "minor": 200, "fileMode": 8630, "uid": 0, "gid": 5},
                {"path": "/dev/dri/card0", "type": "c", "major": 226, "minor": 0, "fileMode": 432, "uid": 1000}
            ]"#);
        assert!(codes.is_empty(), "{codes:?}");
        let nodes: Vec<String> = ir
            .devices
            .nodes
            .iter()
            .map(|d| format!("{} {:?} {:?} {:?}", d.path.value, d.mode, d.uid, d.gid))
            .collect();
        assert_eq!(
            nodes,
            vec![
                format!("/dev/net/tun {:?} None Some(5)", Some(0o666)),
                format!("/dev/dri/card0 {:?} Some(1000) None", Some(0o660))
            ]
        );
        let conf = pve_conf(
            &config(
                r#", "devices": [{"path": "/dev/net/tun", "type": "c", "major": 10, "minor": 200, "fileMode": 438}]"#,
            ),
            &Target::default(),
        );
        assert!(conf.contains("dev0: /dev/net/tun,mode=0666\n"), "{conf}");
    }

    #[test]
    fn device_nodes_proxmox_cannot_take() {
        let (ir, codes) = run(r#", "devices": [
                {"path": "/dev/../etc/shadow", "type": "c", "major": 1, "minor": 1},
                {"path": "/dev/a,mode=4777", "type": "c", "major": 1, "minor": 1},
                {"path": "/tmp/x", "type": "c", "major": 1, "minor": 1},
                {"path": "/dev/fifo", "type": "p"},
                {"path": "/dev/net/tun", "type": "c", "major": 10, "minor": 201},
                {"path": "/dev/net/tun", "type": "c", "major": 10, "minor": 200},
                {"path": "/dev/sdz", "type": "b", "major": 8, "minor": 0, "fileMode": 3504}
            ]"#);
        assert_eq!(
            codes,
            vec![
                "pve/invalid-path /linux/devices/0/path",
                "pve/invalid-path /linux/devices/1/path",
                "pve/invalid-path /linux/devices/2/path",
                "pve/unsupported /linux/devices/3",
                "pve/lossy /linux/devices/4",
                "pve/invalid-value /linux/devices/5/path",
                "pve/lossy /linux/devices/6/fileMode"
            ]
        );
        assert_eq!(ir.devices.nodes.len(), 2);
        assert_eq!(ir.devices.nodes.get(1).and_then(|d| d.mode), Some(0o660));
    }

    /// pve-container 5.0.0 (PVE 8.0) has no `devN`: the device is refused there, accepted from
    /// 5.0.7 on, where device passthrough came in.
    #[test]
    fn devices_need_pve_container_5_0_7() {
        let linux =
            r#", "devices": [{"path": "/dev/ttyUSB0", "type": "c", "major": 188, "minor": 0}]"#;
        let at = |v| Target {
            pve_container: v,
            ..Target::default()
        };
        let (ir, codes) = check(&config(linux), &at(PveContainerVersion(5, 0, 0)));
        assert_eq!(codes, vec!["pve/version /linux/devices/0"]);
        assert!(ir.devices.nodes.is_empty());
        let (ir, codes) = check(&config(linux), &at(PveContainerVersion::DEVICES));
        assert!(codes.is_empty(), "{codes:?}");
        assert_eq!(ir.devices.nodes.len(), 1);
    }

    #[test]
    fn fuse_becomes_a_feature() {
        let (ir, codes) =
            run(r#", "devices": [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229}]"#);
        assert!(ir.features.fuse && ir.devices.nodes.is_empty());
        assert!(codes.is_empty(), "{codes:?}");
    }

    #[test]
    fn device_access_follows_the_rules() {
        let (ir, codes) = run(
            r#", "devices": [{"path": "/dev/ttyUSB0", "type": "c", "major": 188, "minor": 0}, {"path": "/dev/sdb", "type": "b", "major": 8, "minor": 16}],
               "resources": {"devices": [{"allow": false, "access": "rwm"}, {"allow": true, "type": "c", "major": 188, "minor": 0, "access": "r"}]}"#,
        );
        let flags: Vec<bool> = ir.devices.nodes.iter().map(|d| d.deny_write).collect();
        assert_eq!(flags, vec![true, false]);
        assert_eq!(codes, vec!["pve/lossy /linux/devices/1"]);
    }

    #[test]
    fn more_than_256_devices() {
        let devices: Vec<String> = (0..260)
            .map(|i| {
                format!(
                    r#"{{"path": "/dev/ttyS{i}", "type": "c", "major": 4, "minor": {}}}"#,
                    64 + i
                )
            })
            .collect();
        let (ir, codes) = run(&format!(r#", "devices": [{}]"#, devices.join(",")));
        assert_eq!(ir.devices.nodes.len(), 256);
        assert_eq!(codes, vec!["pve/too-many /linux/devices"]);
    }

    #[test]
    fn paths() {
        assert!(check_dev_path("/dev/dri/renderD128").is_ok());
        assert!(check_dev_path("/dev/").is_err());
        assert!(check_dev_path("/dev//x").is_err());
        assert!(check_dev_path("/dev/x/.").is_err());
        assert!(check_dev_path("/dev/x=y").is_err());
        assert!(check_dev_path("/dev/x y").is_err());
    }
}
