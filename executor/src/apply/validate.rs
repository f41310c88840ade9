//! A plan is untrusted data: the whole of it is checked before its first step runs, for real
//! runs and dry runs alike, and every problem is reported (step, JSON pointer, why).
//!
//! What is checked, in order:
//!
//! 1. the bytes: JSON, the plan's JSON Schema (`schemas/plan.schema.json`, compiled in), the
//!    format version, no field the types do not know ([`parse`]);
//! 2. the shape: exactly the step sequence the translator builds (one pack / allocate / create /
//!    record sequence), no duplicate file, each step's `undo` the one the executor derives from
//!    its kind ([`Action::undo`]);
//! 3. every `pct create` argument against Proxmox's API schema ([`crate::pve::api`]) and the set
//!    of options a plan may set: no `--hookscript`, `--force`, `--restore`, `--password`, ...,
//!    no host path as `--rootfs`;
//! 4. every config line (`write-config-lines`, the text of `create-config`) against Proxmox's
//!    raw-key allow-list and the keys that make LXC run or open host files (`lxc.hook.*`,
//!    `lxc.include`, `lxc.log.file`, ...), which the translator never writes;
//! 5. the node policy, through the translator's host classifiers ([`translator::host`]): mount
//!    point and `lxc.mount.entry` sources and types, devices, device cgroup rules, host root file
//!    systems, privileged containers, `lxc.apparmor.profile: unconfined`;
//! 6. `write-file` only as a plain file name in the executor's seccomp directory, with a mode
//!    that has no setuid/setgid/sticky bit and no group or world write;
//! 7. `pack-rootfs` only from the bundle; a host directory only when the operator named it;
//!    an image only by a reference the executor parses itself (a known transport, an absolute
//!    path without `.` or `..`, outside `/proc`, `/sys` and `/dev`), with a well-formed
//!    platform. The image is only read, and every blob of it is checked against its digest
//!    when the step opens it ([`crate::image`]).

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Component, Path};
use std::sync::OnceLock;

use serde_json::Value;
use translator::emit::plan::{
    Action, Arg, ConfigLine, ImageSource, Plan, RootfsDir, Step, Var, FORMAT, VMID_ATTEMPTS,
};
use translator::host::{self as classify, HostFinding};
use translator::path::lxcri::SECCOMP_DIR;
use translator::policy::{Backend, Policy};
use translator::rules::security;
use translator::rules::Rule;

use crate::pve::api::{self, Api};
use crate::pve::paths::valid_node;

/// The plan's JSON Schema, generated from the plan types (a translator test keeps it current).
pub const PLAN_SCHEMA: &str = include_str!("../../../schemas/plan.schema.json");

/// The most a plan file may hold. The largest plans carry a seccomp profile of a few hundred
/// syscall names (tens of KB); a size limit keeps a hostile file from costing memory.
pub const MAX_PLAN_BYTES: u64 = 8 << 20;

/// One thing wrong with a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// `step 3 (pct-create)`, or None for the plan as a whole.
    pub step: Option<String>,
    /// Where in the plan: `/steps/2/argv/7`.
    pub pointer: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = if self.pointer.is_empty() {
            "/"
        } else {
            &self.pointer
        };
        match &self.step {
            Some(step) => write!(f, "{at} ({step}): {}", self.message),
            None => write!(f, "{at}: {}", self.message),
        }
    }
}

/// Every problem found; the plan is refused before anything runs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Invalid {
    pub problems: Vec<Problem>,
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the plan is refused before its first step ({} problem(s)):",
            self.problems.len()
        )?;
        for p in &self.problems {
            write!(f, "\n  {p}")?;
        }
        Ok(())
    }
}

/// What the checks need from the caller: trusted facts, never the plan's.
#[derive(Debug, Clone, Copy)]
pub struct Checks<'a> {
    /// The bundle `$bundle` binds to (absolute).
    pub bundle: Option<&'a Path>,
    /// A host directory the operator explicitly allowed as root file system
    /// (`apply --host-rootfs DIR`): a `path` rootfs outside the bundle must be exactly this.
    pub host_rootfs: Option<&'a Path>,
    /// The image the operator named for this run (`create --image`, `apply --image REF`): an
    /// `image` rootfs must be exactly this one. A plan is anyone's data, and packing an image is
    /// reading a file as root and putting its contents into a container, so a plan alone cannot
    /// name the file, as it cannot name a host directory outside the bundle.
    pub image: Option<&'a ImageSource>,
    /// The node policy.
    pub policy: &'a Policy,
}

fn schema_validator() -> Option<&'static jsonschema::Validator> {
    static V: OnceLock<Option<jsonschema::Validator>> = OnceLock::new();
    V.get_or_init(|| {
        let schema: Value = serde_json::from_str(PLAN_SCHEMA).ok()?;
        jsonschema::options().build(&schema).ok()
    })
    .as_ref()
}

fn problem(pointer: impl Into<String>, message: impl Into<String>) -> Problem {
    Problem {
        step: None,
        pointer: pointer.into(),
        message: message.into(),
    }
}

/// Reads a plan from its bytes: JSON, the schema, the format version, then the types; fields
/// the types do not know are refused (serde would drop them silently inside a step).
pub fn parse(bytes: &[u8]) -> Result<Plan, Invalid> {
    let refuse = |problems: Vec<Problem>| Err(Invalid { problems });
    let value: Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) => return refuse(vec![problem("", format!("not JSON: {e}"))]),
    };
    if let Some(found) = value.get("format") {
        if found.as_u64() != Some(u64::from(FORMAT)) {
            return refuse(vec![problem(
                "/format",
                format!(
                    "plan format {found} is not supported; this executor applies format {FORMAT}"
                ),
            )]);
        }
    }
    let mut problems = Vec::new();
    match schema_validator() {
        Some(v) => {
            for e in v.iter_errors(&value) {
                let mut msg = e.to_string();
                if msg.len() > 300 {
                    let cut = (0..=300)
                        .rev()
                        .find(|&i| msg.is_char_boundary(i))
                        .unwrap_or(0);
                    msg.truncate(cut);
                    msg.push('…');
                }
                problems.push(problem(
                    e.instance_path().as_str(),
                    format!("does not match the plan schema: {msg}"),
                ));
            }
        }
        None => problems.push(problem(
            "",
            "internal error: the plan schema does not compile",
        )),
    }
    if !problems.is_empty() {
        return refuse(problems);
    }
    let plan: Plan = match serde_json::from_value(value.clone()) {
        Ok(p) => p,
        Err(e) => return refuse(vec![problem("", format!("not a plan: {e}"))]),
    };
    // What the types keep, compared with what was written: a key that is not in the typed
    // form again was dropped by serde.
    let typed = serde_json::to_value(&plan).unwrap_or(Value::Null);
    unknown_fields(&value, &typed, "", &mut problems);
    if problems.is_empty() {
        Ok(plan)
    } else {
        refuse(problems)
    }
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn unknown_fields(raw: &Value, typed: &Value, at: &str, out: &mut Vec<Problem>) {
    match (raw, typed) {
        (Value::Object(r), Value::Object(t)) => {
            for (k, v) in r {
                let here = format!("{at}/{}", escape(k));
                match t.get(k) {
                    Some(tv) => unknown_fields(v, tv, &here, out),
                    None => out.push(problem(
                        here,
                        format!("unknown field `{}`", k.escape_debug()),
                    )),
                }
            }
        }
        (Value::Array(r), Value::Array(t)) => {
            for (i, (rv, tv)) in r.iter().zip(t).enumerate() {
                unknown_fields(rv, tv, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// The options a plan may pass to `pct create`: what the translator writes
/// (translator/src/emit/pve.rs), nothing that changes how Proxmox treats the
/// call itself (`--force` replaces an existing container, `--restore`/`--unique` restore a
/// backup, `--hookscript` runs a host script at every start, `--password`/`--ssh-public-keys`
/// write into the container, `--storage`/`--pool`/`--start` act beyond the one container).
const PLAN_OPTIONS: &[&str] = &[
    "arch",
    "cmode",
    "console",
    "cores",
    "cpulimit",
    "cpuunits",
    "description",
    "entrypoint",
    "features",
    "hostname",
    "memory",
    "ostype",
    "rootfs",
    "swap",
    "tags",
    "unprivileged",
];
/// Indexed options a plan may pass (`mp0`, `net1`, `dev2`).
const PLAN_INDEXED: &[&str] = &["mp", "net", "dev"];

/// Raw keys Proxmox keeps that name a host program or a host file LXC opens, writes or
/// includes: a plan never needs them (the translator writes none), so none is written.
/// LXC, src/lxc/confile.c (`lxc.hook.*` run on the host; `lxc.include` and `lxc.mount.fstab`
/// read host files; `lxc.log.file`, `lxc.console.logfile` write them; `lxc.console.path`
/// opens a host tty; `lxc.seccomp.notify.proxy` connects to a host socket;
/// `lxc.rootfs.mount` is a host mount point); `lxc.apparmor.raw` adds rules to the profile.
fn host_naming_key(key: &str) -> bool {
    key.starts_with("lxc.hook.")
        || matches!(
            key,
            "lxc.include"
                | "lxc.mount.fstab"
                | "lxc.log.file"
                | "lxc.console.logfile"
                | "lxc.console.path"
                | "lxc.seccomp.notify.proxy"
                | "lxc.rootfs.mount"
                | "lxc.apparmor.raw"
        )
}

struct Validator<'a> {
    checks: Checks<'a>,
    api: &'a Api,
    plan: &'a Plan,
    problems: Vec<Problem>,
    step: Option<String>,
}

/// Checks a parsed plan. `Ok` only when nothing is wrong.
pub fn check(plan: &Plan, checks: &Checks<'_>) -> Result<(), Invalid> {
    let api = match api::api() {
        Ok(a) => a,
        Err(e) => {
            return Err(Invalid {
                problems: vec![problem("", format!("internal error: {e}"))],
            })
        }
    };
    let mut v = Validator {
        checks: *checks,
        api,
        plan,
        problems: Vec::new(),
        step: None,
    };
    v.all();
    if v.problems.is_empty() {
        Ok(())
    } else {
        Err(Invalid {
            problems: v.problems,
        })
    }
}

/// Parses and checks plan bytes.
pub fn parse_and_check(bytes: &[u8], checks: &Checks<'_>) -> Result<Plan, Invalid> {
    let plan = parse(bytes)?;
    check(&plan, checks)?;
    Ok(plan)
}

impl Validator<'_> {
    fn refuse(&mut self, pointer: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem {
            step: self.step.clone(),
            pointer: pointer.into(),
            message: message.into(),
        });
    }

    /// A classifier's finding, refused when the node policy refuses it on Proxmox.
    fn judge(&mut self, pointer: &str, finding: Option<HostFinding>) {
        if let Some(f) = finding {
            self.judge_rule(pointer, f.rule, &f.message);
        }
    }

    fn judge_rule(&mut self, pointer: &str, rule: &'static Rule, message: &str) {
        let d = self
            .checks
            .policy
            .decide(rule.code, rule.severity, Backend::Pct);
        if d.refused {
            self.refuse(
                pointer,
                format!("{message} [{}] ({})", rule.code, d.explain()),
            );
        }
    }

    fn all(&mut self) {
        let plan = self.plan;
        if plan.format != FORMAT {
            self.refuse(
                "/format",
                format!(
                    "plan format {} is not supported; this executor applies format {FORMAT}",
                    plan.format
                ),
            );
        }
        if !valid_node(&plan.node) {
            self.refuse(
                "/node",
                format!("node {:?} is not a Proxmox node name", plan.node),
            );
        }
        self.sequence();
        let mut files = BTreeSet::new();
        for (i, step) in plan.steps.iter().enumerate() {
            self.step = Some(super::step_label(i, &step.action));
            let at = format!("/steps/{i}");
            let derived = step.action.undo();
            if !step.undo.same_effect(&derived) {
                self.refuse(
                    format!("{at}/undo"),
                    format!(
                        "the plan says its undo is `{}`; the executor undoes a {} step by `{}`",
                        step.undo.kind(),
                        step.action.op(),
                        derived.kind()
                    ),
                );
            }
            if let Action::WriteFile { path, .. } = &step.action {
                if !files.insert(path.clone()) {
                    self.refuse(format!("{at}/path"), format!("{path:?} is written twice"));
                }
            }
            self.step_action(step, &at);
        }
        self.step = None;
    }

    /// Exactly the translator's sequences (translator/src/emit/plan/build.rs `pve_to_plan`):
    /// volume: pack-rootfs, allocate-vmid, pct-create, [write-config-lines], write-file*,
    /// remove-template, record-state; host directory: allocate-vmid, create-config,
    /// write-file*, record-state.
    fn sequence(&mut self) {
        let ops: Vec<&str> = self.plan.steps.iter().map(|s| s.action.op()).collect();
        let mut rest: &[&str] = &ops;
        let mut take = |op: &str| match rest.split_first() {
            Some((first, tail)) if *first == op => {
                rest = tail;
                true
            }
            _ => false,
        };
        let shaped = if take("pack-rootfs") {
            let ok = take("allocate-vmid") && take("pct-create");
            take("write-config-lines");
            while take("write-file") {}
            ok && take("remove-template") && take("record-state")
        } else {
            let ok = take("allocate-vmid") && take("create-config");
            while take("write-file") {}
            ok && take("record-state")
        };
        if !shaped || !rest.is_empty() {
            self.refuse(
                "/steps",
                format!(
                    "the steps are [{}]; a plan is pack-rootfs, allocate-vmid, pct-create, [write-config-lines], write-file…, remove-template, record-state, or allocate-vmid, create-config, write-file…, record-state",
                    ops.join(", ")
                ),
            );
        }
    }

    fn step_action(&mut self, step: &Step, at: &str) {
        match &step.action {
            Action::PackRootfs {
                rootfs,
                storage,
                name_prefix,
            } => {
                if !plain_name(storage) || !storage.starts_with(|c: char| c.is_ascii_alphabetic()) {
                    self.refuse(
                        format!("{at}/storage"),
                        format!("storage {storage:?} is not a storage id"),
                    );
                }
                if !plain_name(name_prefix) {
                    self.refuse(
                        format!("{at}/name-prefix"),
                        format!("template prefix {name_prefix:?} is not letters, digits, _ . -"),
                    );
                }
                self.pack_dir(rootfs, &format!("{at}/rootfs"));
            }
            Action::AllocateVmid { attempts } => {
                if !(1..=VMID_ATTEMPTS * 4).contains(attempts) {
                    self.refuse(
                        format!("{at}/attempts"),
                        format!(
                            "{attempts} attempts; a plan may ask for 1 to {}",
                            VMID_ATTEMPTS * 4
                        ),
                    );
                }
            }
            Action::PctCreate { argv } => self.pct_create(argv, &format!("{at}/argv")),
            Action::WriteConfigLines { lines } => {
                for (j, line) in lines.iter().enumerate() {
                    self.config_line(line, &format!("{at}/lines/{j}"));
                }
            }
            Action::CreateConfig { text } => self.create_config(text, &format!("{at}/text")),
            Action::WriteFile { path, mode, .. } => {
                if let Err(why) = seccomp_file_name(path) {
                    self.refuse(format!("{at}/path"), why);
                }
                if mode.0 & 0o7000 != 0 {
                    self.refuse(
                        format!("{at}/mode"),
                        format!("mode {} has a setuid, setgid or sticky bit", mode.octal()),
                    );
                }
                if mode.0 & 0o022 != 0 {
                    self.refuse(
                        format!("{at}/mode"),
                        format!(
                            "mode {} lets the group or others write the file",
                            mode.octal()
                        ),
                    );
                }
            }
            Action::RemoveTemplate => {}
            Action::RecordState { node } => {
                if node != &self.plan.node {
                    self.refuse(
                        format!("{at}/node"),
                        format!(
                            "record-state names node {node:?}, the plan node {:?}",
                            self.plan.node
                        ),
                    );
                }
            }
        }
    }

    /// A directory to pack: inside the bundle, or exactly the one the operator allowed.
    fn pack_dir(&mut self, dir: &RootfsDir, at: &str) {
        match dir {
            RootfsDir::Bundle(rel) => {
                let inside = !rel.is_empty()
                    && Path::new(rel)
                        .components()
                        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
                if !inside {
                    self.refuse(
                        format!("{at}/bundle"),
                        format!("{rel:?} must be a path inside the bundle, without `..`"),
                    );
                }
            }
            RootfsDir::Path(abs) => {
                let at = format!("{at}/path");
                if !self.host_dir_allowed(abs) {
                    self.refuse(
                        &at,
                        format!("packs the host directory {abs:?}, which is neither inside the bundle nor the directory the operator allowed (apply --host-rootfs DIR)"),
                    );
                }
                self.judge(&at, classify::rootfs_path(abs));
            }
            RootfsDir::Image(image) => {
                if let Err(why) = image_reference(&image.reference) {
                    self.refuse(format!("{at}/image/reference"), why);
                } else if self.checks.image != Some(image) {
                    let platform = image
                        .platform
                        .as_deref()
                        .map(|p| format!(" --platform {p}"))
                        .unwrap_or_default();
                    let named = match self.checks.image {
                        Some(other) => format!(
                            "the image named for this run is {:?}{}",
                            other.reference,
                            other
                                .platform
                                .as_deref()
                                .map(|p| format!(" for {p}"))
                                .unwrap_or_default()
                        ),
                        None => "no image was named for this run".to_string(),
                    };
                    self.refuse(
                        format!("{at}/image"),
                        format!("packs the image {:?}{platform}, but {named}; a plan may pack only the image the operator names (apply --image {}{platform})", image.reference, image.reference),
                    );
                }
                if let Some(Err(why)) = image.platform.as_deref().map(crate::image::Platform::parse)
                {
                    self.refuse(format!("{at}/image/platform"), why);
                }
            }
        }
    }

    /// A host directory as root file system: inside the bound bundle, or the operator's.
    fn host_dir_allowed(&self, abs: &str) -> bool {
        let Some(norm) = translator::path::normalize(abs)
            .filter(|_| abs.starts_with('/') && !abs.contains('\0'))
        else {
            return false;
        };
        if Path::new(abs)
            .components()
            .any(|c| c == Component::ParentDir)
        {
            return false;
        }
        let within = |base: &Path| {
            base.to_str()
                .and_then(translator::path::normalize)
                .is_some_and(|b| classify::under(&norm, &b))
        };
        let exact = |base: &Path| {
            base.to_str()
                .and_then(translator::path::normalize)
                .is_some_and(|b| b == norm)
        };
        self.checks.bundle.is_some_and(within) || self.checks.host_rootfs.is_some_and(exact)
    }

    fn pct_create(&mut self, argv: &[Arg], at: &str) {
        let head = [
            Arg::lit("pct"),
            Arg::lit("create"),
            Arg::var(Var::Vmid),
            Arg::var(Var::Template),
        ];
        if argv.get(..4) != Some(&head[..]) {
            self.refuse(
                format!("{at}/0"),
                "a pct-create step runs `pct create $vmid $template` and then options",
            );
        }
        let options = argv.get(4..).unwrap_or_default();
        let mut seen = BTreeSet::new();
        let mut i = 0;
        while i < options.len() {
            let (k, name_at, value_at) =
                (i + 4, format!("{at}/{}", i + 4), format!("{at}/{}", i + 5));
            i += 2;
            let Some(Arg::Lit(word)) = options.get(k - 4) else {
                self.refuse(name_at, "a variable where an option name must be");
                continue;
            };
            let Some(key) = word.strip_prefix("--").filter(|k| !k.is_empty()) else {
                self.refuse(
                    name_at,
                    format!("{word:?} is not an option (`--name value`)"),
                );
                continue;
            };
            let value = match options.get(k - 3) {
                Some(Arg::Lit(v)) => v.as_str(),
                Some(Arg::Var { var }) => {
                    self.refuse(
                        value_at,
                        format!(
                            "--{key} takes ${}; options take literal values only",
                            var.name()
                        ),
                    );
                    continue;
                }
                None => {
                    self.refuse(name_at, format!("--{key} has no value"));
                    continue;
                }
            };
            if !seen.insert(key.to_owned()) {
                self.refuse(&name_at, format!("--{key} is given twice"));
            }
            self.option(key, value, &name_at, &value_at, true);
        }
        if !seen.contains("unprivileged") {
            self.unset_unprivileged(at);
        }
    }

    /// pve-container's `unprivileged` defaults to 0 (src/PVE/LXC/Config.pm, `$confdesc`
    /// `unprivileged => { default => 0 }`): a plan that leaves it out creates a privileged
    /// container, which the policy judges as if it said `--unprivileged 0`.
    fn unset_unprivileged(&mut self, at: &str) {
        self.judge_rule(at, &security::PRIVILEGED, "no `unprivileged` option: Proxmox creates a privileged container, its root the node's root");
    }

    /// One `pct create` option or config key: the API schema, the plan's option set, then the
    /// policy for what reaches the host.
    fn option(&mut self, key: &str, value: &str, name_at: &str, value_at: &str, create: bool) {
        let base = key.trim_end_matches(|c: char| c.is_ascii_digit());
        let indexed = base.len() < key.len() && PLAN_INDEXED.contains(&base);
        if key == "hookscript" {
            self.refuse(name_at, "--hookscript runs a host script as root at every start of the container; a plan never sets one");
            return;
        }
        if !(PLAN_OPTIONS.contains(&key) || indexed) {
            let what = if self.api.create_option(key).is_some() {
                "is not an option a plan may set"
            } else {
                "is not a pct create option"
            };
            self.refuse(name_at, format!("--{key} {what}"));
            return;
        }
        let prop = if create {
            self.api.create_option(key)
        } else {
            self.api.config_key(key)
        };
        let Some(prop) = prop else {
            self.refuse(name_at, format!("--{key} is not in Proxmox's API schema"));
            return;
        };
        if let Err(why) = prop.check(value) {
            self.refuse(
                value_at,
                format!("Proxmox refuses --{key} {value:?}: {why}"),
            );
            return;
        }
        if matches!(base, "rootfs" | "mp") && classify::pve_volume_path(value).is_none() {
            let volume = prop
                .properties(value)
                .and_then(Result::ok)
                .and_then(|p| p.get("volume").cloned())
                .unwrap_or_default();
            if let Err(why) = new_volume(&volume, create) {
                self.refuse(value_at, format!("{key} {volume:?}: {why}"));
                return;
            }
        }
        match base {
            "rootfs" if create && classify::pve_volume_path(value).is_some() => {
                self.refuse(value_at, "a host path as --rootfs: pct create takes a storage volume (`storage:size`); a host directory root file system is created with create-config");
            }
            "rootfs" if create => {}
            "rootfs" => match classify::pve_volume_path(value) {
                Some(path) => {
                    if !self.host_dir_allowed(path) {
                        self.refuse(
                            value_at,
                            format!("rootfs {path:?} is neither inside the bundle nor the directory the operator allowed (apply --host-rootfs DIR)"),
                        );
                    }
                    self.judge(value_at, classify::pve_rootfs(value));
                }
                None => self.refuse(
                    value_at,
                    "a create-config's rootfs is the bundle's host directory, not a storage volume",
                ),
            },
            "mp" => {
                // pve-container `classify_mountpoint` (src/PVE/LXC/Config.pm): a `/dev/` source is
                // a device mounted as a file system, another absolute path a bind.
                match classify::pve_volume_path(value) {
                    Some(src) if src.starts_with("/dev/") => {
                        self.judge(value_at, classify::device(src, None, None, None))
                    }
                    _ => self.judge(value_at, classify::pve_mount_point(value)),
                }
            }
            "dev" => self.judge(value_at, classify::pve_device(value)),
            "unprivileged" if value == "0" => {
                self.judge_rule(
                    value_at,
                    &security::PRIVILEGED,
                    "a privileged container: its root is the node's root",
                );
            }
            _ => {}
        }
    }

    fn config_line(&mut self, line: &ConfigLine, at: &str) {
        if let Err(e) = crate::pve::config::check_line(line) {
            self.refuse(at, e.to_string());
            return;
        }
        self.raw_policy(&line.key, &line.value, at);
    }

    /// The policy and the host-naming keys, for a raw `lxc.*` line.
    fn raw_policy(&mut self, key: &str, value: &str, at: &str) {
        if host_naming_key(key) {
            self.refuse(
                at,
                format!("`{key}` makes LXC run or open a host file; a plan never writes it"),
            );
            return;
        }
        if let Some(rest) = key.strip_prefix("lxc.net.") {
            // The translator writes one lxc.net key, `lxc.net.0.type: none` (the host's network,
            // for a privileged container without a network namespace). Every other one reaches
            // the node: `lxc.net.N.script.up`/`script.down` run host programs as root, `type: phys`
            // moves one of the node's interfaces into the container, `link` picks a host
            // interface (LXC, src/lxc/confile.c `set_config_net_*`; doc/lxc.container.conf.sgml.in).
            if rest == "0.type" && value.trim() == "none" {
                self.judge_rule(
                    at,
                    &security::HOST_NAMESPACE,
                    "`lxc.net.0.type: none`: the container uses the node's network",
                );
            } else {
                self.refuse(at, format!("`{key}` configures a host network device or runs a host script; a plan writes only `lxc.net.0.type: none`"));
            }
            return;
        }
        match key {
            "lxc.idmap" => self.idmap(value, at),
            "lxc.cap.keep" => self.cap_keep(value, at),
            "lxc.mount.entry" => self.judge(at, classify::lxc_mount_entry(value)),
            "lxc.cgroup2.devices.allow" | "lxc.cgroup.devices.allow" => {
                self.judge(at, classify::lxc_device_allow(value))
            }
            "lxc.apparmor.profile" if value.trim() == "unconfined" => {
                self.judge_rule(
                    at,
                    &security::APPARMOR_UNCONFINED,
                    "the container runs unconfined by AppArmor",
                );
            }
            "lxc.seccomp.profile" => {
                if let Err(why) = seccomp_file_name(value.trim()) {
                    self.refuse(at, format!("lxc.seccomp.profile: {why}"));
                }
            }
            _ => {}
        }
    }

    /// `lxc.idmap: u|g CONTAINER HOST COUNT` (LXC, src/lxc/confile.c `set_config_idmaps`). A
    /// range that maps a container id onto host id 0 makes that id the node's root for every
    /// file it reaches: the policy judges it as a privileged container.
    fn idmap(&mut self, value: &str, at: &str) {
        let words: Vec<&str> = value.split_whitespace().collect();
        let numbers = |w: &[&str]| -> Option<(u64, u64, u64)> {
            let n = |s: &str| s.parse::<u64>().ok().filter(|v| *v <= u64::from(u32::MAX));
            Some((n(w.first()?)?, n(w.get(1)?)?, n(w.get(2)?)?))
        };
        match (
            words.first(),
            words
                .get(1..)
                .and_then(|w| (w.len() == 3).then(|| numbers(w)).flatten()),
        ) {
            (Some(&("u" | "g")), Some((_, host, count))) if count > 0 => {
                if host == 0 {
                    self.judge_rule(at, &security::PRIVILEGED, &format!("`lxc.idmap: {value}` maps a container id onto the node's root (host id 0)"));
                }
            }
            _ => self.refuse(
                at,
                format!(
                    "`lxc.idmap: {}` is not `u|g CONTAINER HOST COUNT`",
                    value.escape_debug()
                ),
            ),
        }
    }

    /// `lxc.cap.keep`: the capabilities the container keeps (LXC names, `sys_admin`), judged as
    /// the lint judges them in `process.capabilities`; `none` keeps nothing.
    fn cap_keep(&mut self, value: &str, at: &str) {
        for cap in value.split_whitespace().filter(|c| *c != "none") {
            let name = format!("CAP_{}", cap.to_ascii_uppercase());
            if name == "CAP_SYS_ADMIN" {
                self.judge_rule(
                    at,
                    &security::CAP_SYS_ADMIN,
                    "`lxc.cap.keep` keeps CAP_SYS_ADMIN",
                );
            } else if let Some((_, why)) = translator::lint::security::DANGEROUS_CAPABILITIES
                .iter()
                .find(|(c, _)| *c == name)
            {
                self.judge_rule(
                    at,
                    &security::DANGEROUS_CAPABILITY,
                    &format!("`lxc.cap.keep` keeps {name}: it can {why}"),
                );
            }
        }
    }

    /// A whole config written by `create-config`: `#` description lines, then `key: value`
    /// lines; no section (a snapshot or `[pve:pending]` would not be what runs).
    fn create_config(&mut self, text: &str, at: &str) {
        let mut seen = BTreeSet::new();
        let mut rootfs = false;
        for (n, raw) in text.split('\n').enumerate() {
            let line_at = format!("{at} line {}", n + 1);
            if raw.is_empty() || raw.starts_with('#') {
                continue;
            }
            let Some((key, value)) = raw.split_once(':') else {
                self.refuse(
                    &line_at,
                    format!(
                        "{:?} is not a `key: value` line",
                        raw.escape_debug().to_string()
                    ),
                );
                continue;
            };
            let value = value.trim();
            if key.starts_with("lxc.") {
                self.config_line(
                    &ConfigLine {
                        key: key.to_owned(),
                        value: value.to_owned(),
                    },
                    &line_at,
                );
                continue;
            }
            if raw.contains('\r') {
                self.refuse(&line_at, "a carriage return in a config line");
                continue;
            }
            if !seen.insert(key.to_owned()) {
                self.refuse(&line_at, format!("`{key}` is set twice"));
            }
            rootfs |= key == "rootfs";
            self.option(key, value, &line_at, &line_at, false);
        }
        if !rootfs {
            self.refuse(at, "the config has no rootfs");
        }
        if !seen.contains("unprivileged") {
            self.unset_unprivileged(at);
        }
    }
}

/// A storage volume a plan names (the `volume` of `rootfs`/`mpN`): in `pct create` only a new
/// one, `STORAGE:SIZE_GiB`, which Proxmox allocates for this container; an existing volume id is
/// used as it is (pve-container, src/PVE/LXC.pm `create_disks`: only a value matching
/// `$NEW_DISK_RE = qr/^([^:\s]+):(\d+(\.\d+)?)$/` is allocated, "use specified/existing
/// volid" otherwise), so `--rootfs local-lvm:vm-100-disk-0` would give the new container another
/// container's disk, and the undo's `pct destroy --purge` would free it. `create-config`
/// allocates nothing, so every storage volume there is an existing one.
/// An image reference a plan may name: one of the transports read here, with a plain
/// absolute path (a relative one would be resolved against wherever the plan is applied)
/// that is not in the kernel's file systems (a device or `/proc` file read as an image could
/// block or never end).
fn image_reference(reference: &str) -> Result<(), String> {
    let r = crate::image::ImageRef::parse(reference)?;
    let path = r.path();
    let plain = path.is_absolute()
        && path
            .components()
            .all(|c| matches!(c, Component::RootDir | Component::Normal(_)))
        && path
            .to_str()
            .is_some_and(|t| !t.contains("/./") && !t.contains("//") && !t.ends_with("/."));
    if !plain {
        return Err(format!(
            "image path {} must be absolute, without `.` or `..`",
            path.display()
        ));
    }
    if ["/proc", "/sys", "/dev"]
        .iter()
        .any(|k| path.starts_with(k))
    {
        return Err(format!(
            "image path {} is in a kernel file system, not an image",
            path.display()
        ));
    }
    Ok(())
}

fn new_volume(volume: &str, create: bool) -> Result<(), &'static str> {
    if !create {
        return Err("a create-config names no storage volume: nothing allocates it, so it would be an existing volume (another container's disk)");
    }
    let new = volume.split_once(':').is_some_and(|(storage, size)| {
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        let size_ok = match size.split_once('.') {
            Some((a, b)) => digits(a) && digits(b),
            None => digits(size),
        };
        !storage.is_empty() && !storage.bytes().any(|b| b.is_ascii_whitespace()) && size_ok
    });
    if new {
        Ok(())
    } else {
        Err("a plan's storage volume is a new one (`storage:size`), never an existing volume (another container's disk)")
    }
}

fn plain_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
}

/// The file name of a `write-file` path: directly in the executor's seccomp directory
/// (translator/src/emit/pve.rs names each profile `<sha256>.seccomp` there).
pub fn seccomp_file_name(path: &str) -> Result<&str, String> {
    let name = path
        .strip_prefix(SECCOMP_DIR)
        .and_then(|rest| rest.strip_prefix('/'))
        .ok_or_else(|| format!("{path:?} is outside the executor's directory {SECCOMP_DIR}"))?;
    if !plain_name(name) || name.starts_with('.') {
        return Err(format!(
            "{path:?} is not a plain file name in {SECCOMP_DIR}"
        ));
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use translator::emit::plan::{ir_to_plan, FileMode, Undo};
    use translator::Target;

    const APP: &str = r#"{"ociVersion": "1.2.0", "root": {"path": "rootfs"}, "hostname": "web",
        "process": {"cwd": "/srv", "args": ["/app"], "env": ["A=1"]},
        "mounts": [{"destination": "/data", "source": "/srv/data", "type": "bind", "options": ["rbind"]}],
        "linux": {"namespaces": [{"type": "user"}, {"type": "network"}], "seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["kexec_load"], "action": "SCMP_ACT_ERRNO"}]}}}"#;

    fn plan() -> Plan {
        let target = Target::default();
        let t = translator::oci_to_ir("config.json", APP.as_bytes(), &target);
        assert!(!t.has_errors(), "{:?}", t.diagnostics);
        ir_to_plan(&t.ir.unwrap(), &target, "config.json").unwrap()
    }

    fn checked(p: &Plan) -> Vec<String> {
        checked_with_image(p, None)
    }

    fn checked_with_image(p: &Plan, image: Option<&ImageSource>) -> Vec<String> {
        let policy = Policy::builtin();
        let checks = Checks {
            bundle: Some(Path::new("/b/web")),
            host_rootfs: None,
            image,
            policy: &policy,
        };
        match check(p, &checks) {
            Ok(()) => Vec::new(),
            Err(e) => e.problems.iter().map(|p| p.to_string()).collect(),
        }
    }

    /// A node policy that refuses every warning: what the checks judge shows as a refusal.
    fn strict() -> Policy {
        Policy::from_toml("version = 1\nrefuse-severity = \"warning\"\n").unwrap()
    }

    fn step<'p>(p: &'p mut Plan, op: &str) -> &'p mut Step {
        p.steps.iter_mut().find(|s| s.action.op() == op).unwrap()
    }

    #[test]
    fn the_translators_plan_passes_and_round_trips() {
        let p = plan();
        assert_eq!(checked(&p), Vec::<String>::new());
        assert_eq!(parse(p.to_json().as_bytes()), Ok(p));
    }

    #[test]
    fn bytes_are_checked_with_pointers() {
        let json = plan().to_json();
        let mut v: Value = serde_json::from_str(&json).unwrap();
        v["steps"][0]["undo"] = serde_json::json!({"run": ["pvesh", "set", "/access/acl"]});
        v["steps"][1]["extra"] = serde_json::json!(1);
        let err = parse(v.to_string().as_bytes()).unwrap_err();
        assert!(
            err.problems.iter().any(|p| p.pointer == "/steps/0/undo"),
            "{err}"
        );
        v["steps"][0]["undo"] = serde_json::json!("free-template");
        let err = parse(v.to_string().as_bytes()).unwrap_err();
        assert_eq!(
            err.problems,
            vec![problem("/steps/1/extra", "unknown field `extra`")]
        );
        let err = parse(br#"{"format": 2}"#).unwrap_err();
        assert_eq!(err.problems[0].pointer, "/format");
        assert!(parse(b"[").is_err());
    }

    #[test]
    fn hostile_edits_are_each_refused_where_they_are() {
        type Edit = Box<dyn Fn(&mut Plan)>;
        let cases: Vec<(&str, Edit)> = vec![
            (
                "/steps/0/undo",
                Box::new(|p| step(p, "pack-rootfs").undo = Undo::DestroyCt),
            ),
            (
                "/steps/0/rootfs/path",
                Box::new(|p| {
                    if let Action::PackRootfs { rootfs, .. } = &mut step(p, "pack-rootfs").action {
                        *rootfs = RootfsDir::Path("/etc".into())
                    }
                }),
            ),
            (
                "/steps/0/rootfs/bundle",
                Box::new(|p| {
                    if let Action::PackRootfs { rootfs, .. } = &mut step(p, "pack-rootfs").action {
                        *rootfs = RootfsDir::Bundle("../x".into())
                    }
                }),
            ),
            (
                "/steps/2/argv/",
                Box::new(|p| {
                    if let Action::PctCreate { argv } = &mut step(p, "pct-create").action {
                        argv.extend([Arg::lit("--hookscript"), Arg::lit("local:snippets/x.sh")])
                    }
                }),
            ),
            (
                "/steps/2/argv/",
                Box::new(|p| {
                    if let Action::PctCreate { argv } = &mut step(p, "pct-create").action {
                        argv.extend([Arg::lit("--force"), Arg::lit("1")])
                    }
                }),
            ),
            (
                "/steps/2/argv/",
                Box::new(|p| {
                    if let Action::PctCreate { argv } = &mut step(p, "pct-create").action {
                        argv.extend([Arg::lit("--mp5"), Arg::lit("/etc/pve,mp=/x")])
                    }
                }),
            ),
            (
                "/steps/2/argv/",
                Box::new(|p| {
                    if let Action::PctCreate { argv } = &mut step(p, "pct-create").action {
                        let i = argv
                            .iter()
                            .position(|a| a == &Arg::lit("--rootfs"))
                            .unwrap();
                        argv[i + 1] = Arg::lit("/");
                    }
                }),
            ),
            (
                "/steps/3/lines/",
                Box::new(|p| {
                    if let Action::WriteConfigLines { lines } =
                        &mut step(p, "write-config-lines").action
                    {
                        lines.push(ConfigLine {
                            key: "lxc.hook.pre-start".into(),
                            value: "/bin/sh -c id".into(),
                        })
                    }
                }),
            ),
            (
                "/steps/3/lines/",
                Box::new(|p| {
                    if let Action::WriteConfigLines { lines } =
                        &mut step(p, "write-config-lines").action
                    {
                        lines.push(ConfigLine {
                            key: "lxc.mount.entry".into(),
                            value: "/etc/pve etc/pve none bind 0 0".into(),
                        })
                    }
                }),
            ),
            (
                "/steps/3/lines/",
                Box::new(|p| {
                    if let Action::WriteConfigLines { lines } =
                        &mut step(p, "write-config-lines").action
                    {
                        lines.push(ConfigLine {
                            key: "lxc.cgroup2.devices.allow".into(),
                            value: "c 1:1 rwm".into(),
                        })
                    }
                }),
            ),
            (
                "/steps/4/mode",
                Box::new(|p| {
                    if let Action::WriteFile { mode, .. } = &mut step(p, "write-file").action {
                        *mode = FileMode(0o4755)
                    }
                }),
            ),
            (
                "/steps/4/path",
                Box::new(|p| {
                    if let Action::WriteFile { path, .. } = &mut step(p, "write-file").action {
                        *path = "/usr/local/bin/x".into()
                    }
                }),
            ),
            (
                "/steps/4/path",
                Box::new(|p| {
                    if let Action::WriteFile { path, .. } = &mut step(p, "write-file").action {
                        *path = format!("{SECCOMP_DIR}/../../x")
                    }
                }),
            ),
            (
                "/steps/6/node",
                Box::new(|p| {
                    if let Action::RecordState { node } = &mut step(p, "record-state").action {
                        *node = "other".into()
                    }
                }),
            ),
            (
                "/steps",
                Box::new(|p| {
                    let s = p.steps[1].clone();
                    p.steps.insert(1, s)
                }),
            ),
        ];
        let ops: Vec<&str> = plan().steps.iter().map(|s| s.action.op()).collect();
        assert_eq!(
            ops,
            [
                "pack-rootfs",
                "allocate-vmid",
                "pct-create",
                "write-config-lines",
                "write-file",
                "remove-template",
                "record-state"
            ]
        );
        for (pointer, edit) in cases {
            let mut p = plan();
            edit(&mut p);
            let found = checked(&p);
            assert!(
                found.iter().any(|f| f.starts_with(pointer)),
                "expected a problem at {pointer}: {found:#?}"
            );
        }
    }

    #[test]
    fn a_bind_the_policy_allows_passes_and_one_it_refuses_does_not() {
        let mut p = plan();
        if let Action::PctCreate { argv } = &mut step(&mut p, "pct-create").action {
            assert!(
                argv.iter()
                    .any(|a| matches!(a, Arg::Lit(s) if s.starts_with("/srv/data,"))),
                "{argv:?}"
            );
            argv.extend([Arg::lit("--mp7"), Arg::lit("/var/lib/pve-cluster,mp=/x")]);
        }
        let found = checked(&p);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(
            found[0].contains("security/proxmox-state-mount"),
            "{found:#?}"
        );
    }

    /// Every plan the translator writes (the reviewed golden `plan.json` snapshots) passes, or is
    /// refused only for a finding the built-in policy refuses when `create` lints that case's
    /// config (src/cli/policy.rs `enforce`): the checks refuse nothing the translator makes on
    /// their own, and where they refuse they agree with `create`.
    #[test]
    fn every_golden_plan_passes_or_is_refused_as_create_refuses_it() {
        use translator::lint::engine::{lint, LintConfig};
        let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("../golden");
        let policy = Policy::builtin();
        let (mut cases, mut refused) = (0, 0);
        for dir in std::fs::read_dir(&golden)
            .unwrap()
            .map(|e| e.unwrap().path())
        {
            let Ok(snap) = std::fs::read_to_string(dir.join("plan.json.snap")) else {
                continue;
            };
            // An insta snapshot: a `---` header, then the content.
            let body = snap
                .splitn(3, "---\n")
                .nth(2)
                .unwrap_or_else(|| panic!("{}: no snapshot header", dir.display()));
            if !body.trim_start().starts_with('{') {
                continue; // a case whose plan is an error message
            }
            cases += 1;
            let target_text = std::fs::read_to_string(dir.join("target.json")).ok();
            let target = target_text
                .as_deref()
                .map(|t| Target::from_json(t).unwrap())
                .unwrap_or_default();
            let target_json: Value = target_text
                .as_deref()
                .map(|t| serde_json::from_str(t).unwrap())
                .unwrap_or(Value::Null);
            let bundle = target_json["bundle-dir"].as_str().unwrap_or("/b/case");
            // A root file system outside the bundle packs only when the operator names it, as
            // `create --rootfs-outside-bundle DIR` does: here, the one the plan names.
            let raw: Value = serde_json::from_str(body).unwrap();
            let outside = raw["steps"]
                .as_array()
                .into_iter()
                .flatten()
                .find_map(|s| s["rootfs"]["path"].as_str());
            let checks = Checks {
                bundle: Some(Path::new(bundle)),
                host_rootfs: outside.map(Path::new),
                image: None,
                policy: &policy,
            };
            let Err(e) = parse_and_check(body.as_bytes(), &checks) else {
                continue;
            };
            refused += 1;
            let config = std::fs::read(dir.join("config.json")).unwrap();
            let lint_config = LintConfig::for_policy(target);
            let report = lint("config.json", &config, &lint_config);
            let create_refuses: BTreeSet<&str> = policy
                .refusals(&report.findings, Backend::Pct)
                .iter()
                .map(|d| d.code())
                .collect();
            for p in &e.problems {
                let code = p
                    .message
                    .rsplit_once(" [")
                    .and_then(|(_, c)| c.split_once(']'))
                    .map(|(c, _)| c);
                assert!(
                    code.is_some_and(|c| create_refuses.contains(c)),
                    "{}: {p}; create refuses {create_refuses:?}",
                    dir.display()
                );
            }
        }
        assert!(cases > 50, "only {cases} golden plans");
        assert!(
            refused < cases / 4,
            "{refused} of {cases} golden plans refused"
        );
    }

    #[test]
    fn storage_volumes_are_new_ones_and_leaving_out_unprivileged_is_privileged() {
        let policy = strict();
        let checks = Checks {
            bundle: Some(Path::new("/b/web")),
            host_rootfs: None,
            image: None,
            policy: &policy,
        };
        let edit = |f: &dyn Fn(&mut Vec<Arg>)| {
            let mut p = plan();
            if let Action::PctCreate { argv } = &mut step(&mut p, "pct-create").action {
                f(argv);
            }
            check(&p, &checks)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        let set = |argv: &mut Vec<Arg>, key: &str, value: &str| {
            let i = argv.iter().position(|a| a == &Arg::lit(key)).unwrap();
            argv[i + 1] = Arg::lit(value);
        };
        assert_eq!(edit(&|_| {}), "");
        for rootfs in [
            "local-lvm:vm-100-disk-0",
            "local-lvm:base-9000-disk-0/vm-100-disk-0",
            "local:8x",
        ] {
            let found = edit(&|a| set(a, "--rootfs", rootfs));
            assert!(
                found.contains("never an existing volume"),
                "{rootfs}: {found}"
            );
        }
        let found =
            edit(&|a| a.extend([Arg::lit("--mp3"), Arg::lit("local-lvm:vm-100-disk-1,mp=/x")]));
        assert!(found.contains("never an existing volume"), "{found}");
        assert_eq!(
            edit(&|a| a.extend([Arg::lit("--mp3"), Arg::lit("local-lvm:1.5,mp=/x")])),
            ""
        );
        let found = edit(&|a| {
            let i = a
                .iter()
                .position(|w| w == &Arg::lit("--unprivileged"))
                .unwrap();
            a.drain(i..i + 2);
        });
        assert!(
            found.contains("no `unprivileged` option") && found.contains("security/privileged"),
            "{found}"
        );
    }

    #[test]
    fn raw_lines_that_reach_the_node_are_refused() {
        let policy = strict();
        let checks = Checks {
            bundle: Some(Path::new("/b/web")),
            host_rootfs: None,
            image: None,
            policy: &policy,
        };
        let with = |key: &str, value: &str| {
            let mut p = plan();
            if let Action::WriteConfigLines { lines } =
                &mut step(&mut p, "write-config-lines").action
            {
                lines.push(ConfigLine {
                    key: key.into(),
                    value: value.into(),
                });
            }
            check(&p, &checks)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        for (key, value, why) in [
            ("lxc.net.0.script.up", "/bin/sh -c id", "host script"),
            ("lxc.net.1.type", "phys", "host network device"),
            ("lxc.net.0.link", "eth0", "host network device"),
            ("lxc.net.0.type", "none", "security/host-namespace"),
            ("lxc.idmap", "u 0 0 65536", "security/privileged"),
            ("lxc.idmap", "u 0 100000", "not `u|g CONTAINER HOST COUNT`"),
            ("lxc.cap.keep", "sys_admin", "security/cap-sys-admin"),
            (
                "lxc.cap.keep",
                "chown sys_module",
                "security/dangerous-capability",
            ),
        ] {
            let found = with(key, value);
            assert!(found.contains(why), "{key}: {value}: {found}");
        }
        assert_eq!(with("lxc.idmap", "u 0 200000 65536"), "");
        assert_eq!(with("lxc.cap.keep", "chown net_bind_service"), "");
    }

    #[test]
    fn images_are_named_by_plain_absolute_references() {
        use translator::emit::plan::ImageSource;
        let with = |reference: &str, platform: Option<&str>| {
            let mut p = plan();
            if let Action::PackRootfs { rootfs, .. } = &mut step(&mut p, "pack-rootfs").action {
                *rootfs = RootfsDir::Image(ImageSource {
                    reference: reference.into(),
                    platform: platform.map(Into::into),
                });
            }
            // The operator named the same image: what is judged here is the reference itself.
            let named = ImageSource {
                reference: reference.into(),
                platform: platform.map(Into::into),
            };
            checked_with_image(&p, Some(&named))
        };
        assert_eq!(
            with("oci-archive:/srv/app.tar:v1", Some("linux/amd64")),
            Vec::<String>::new()
        );
        assert_eq!(with("oci:/srv/layout", None), Vec::<String>::new());
        for (bad, why) in [
            ("oci-archive:app.tar", "must be absolute"),
            ("oci:/srv/../etc", "must be absolute"),
            ("oci:/srv/./x", "must be absolute"),
            ("docker-archive:/dev/zero", "kernel file system"),
            ("oci:/proc/self/root", "kernel file system"),
            ("docker://alpine", "transport"),
            ("/srv/app.tar", "transport"),
        ] {
            let found = with(bad, None);
            assert!(
                found
                    .iter()
                    .any(|f| f.contains("/rootfs/image/reference") && f.contains(why)),
                "{bad}: {found:?}"
            );
        }
        let found = with("oci:/srv/layout", Some("linux"));
        assert!(
            found.iter().any(|f| f.contains("/rootfs/image/platform")),
            "{found:?}"
        );
    }

    #[test]
    fn a_plan_packs_only_the_image_the_operator_named() {
        let source = |reference: &str, platform: Option<&str>| ImageSource {
            reference: reference.into(),
            platform: platform.map(Into::into),
        };
        let mut p = plan();
        if let Action::PackRootfs { rootfs, .. } = &mut step(&mut p, "pack-rootfs").action {
            *rootfs = RootfsDir::Image(source("oci-archive:/root/secrets.tar", None));
        }
        let refused = |image: Option<&ImageSource>| {
            checked_with_image(&p, image)
                .into_iter()
                .filter(|f| f.contains("/rootfs/image") && f.contains("apply --image"))
                .count()
        };
        assert_eq!(refused(None), 1, "a plan alone cannot name a file to pack");
        assert_eq!(
            refused(Some(&source("oci-archive:/srv/app.tar", None))),
            1,
            "another image than the operator's"
        );
        assert_eq!(
            refused(Some(&source(
                "oci-archive:/root/secrets.tar",
                Some("linux/arm64")
            ))),
            1,
            "the same file for another platform is another image"
        );
        assert_eq!(
            checked_with_image(&p, Some(&source("oci-archive:/root/secrets.tar", None))),
            Vec::<String>::new()
        );
    }

    #[test]
    fn host_directories_need_the_bundle_or_the_operator() {
        let policy = Policy::builtin();
        let mut p = plan();
        if let Action::PackRootfs { rootfs, .. } = &mut step(&mut p, "pack-rootfs").action {
            *rootfs = RootfsDir::Path("/srv/images/web".into());
        }
        let with = |host: Option<&'static str>, bundle: &'static str| {
            check(
                &p,
                &Checks {
                    bundle: Some(Path::new(bundle)),
                    host_rootfs: host.map(Path::new),
                    image: None,
                    policy: &policy,
                },
            )
            .is_ok()
        };
        assert!(!with(None, "/b/web"));
        assert!(with(Some("/srv/images/web"), "/b/web"));
        assert!(
            !with(Some("/srv/images"), "/b/web"),
            "the operator's flag names the directory exactly"
        );
        assert!(with(None, "/srv/images"), "inside the bundle");
        if let Action::PackRootfs { rootfs, .. } = &mut step(&mut p, "pack-rootfs").action {
            *rootfs = RootfsDir::Path("/srv/images/web/../../../etc".into());
        }
        let refused = check(
            &p,
            &Checks {
                bundle: Some(Path::new("/srv/images")),
                host_rootfs: None,
                image: None,
                policy: &policy,
            },
        );
        assert!(refused.is_err(), "`..` does not climb out of the bundle");
    }
}
