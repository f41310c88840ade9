//! Plans against Proxmox's own rules, through the simulator (`tests/sim`,
//! package pve-sim), for every golden case that translates:
//!
//! - every `pct` call a plan makes (`pct create` and its undo `pct destroy`)
//!   parses and validates against the API parameter schemas in
//!   `schemas/pve-lxc-config.json`, the way pve-common's `get_options` and
//!   `validate` do; every config line it writes is a raw key Proxmox keeps;
//! - applying the plan to an empty simulated node (the simulator's `pct`,
//!   `pvesh` and `pvesm` binaries, a real template archive) gives the
//!   container config `--to pct-conf` shows: the same keys and values, except
//!   the two Proxmox fills in itself (the volume it allocates for
//!   `rootfs: STORAGE:SIZE`, and a MAC address per interface).
//!
//! The simulator's binaries are built by `cargo test --workspace`; with
//! `-p proxmox-lxcri-translator` alone, build them first
//! (`cargo build -p pve-sim --bins`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use pve_sim::cli::parse_args;
use pve_sim::conf::rawkeys::{classify, RawKeyVerdict};
use pve_sim::conf::{parse_pct_config, Section};
use pve_sim::getopt::CommandSpec;
use pve_sim::schema::schemas;
use translator::emit::plan::{ir_to_plan, Action, Arg, Plan, Undo, Var};
use translator::emit::{pct_conf, pve};
use translator::Target;

struct Case {
    name: String,
    plan: Plan,
    conf: String,
    /// The node the case is translated for: the simulator runs as that release.
    target: Target,
}

fn golden_cases() -> Vec<Case> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../golden");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.join("config.json").is_file())
                .collect()
        })
        .unwrap_or_default();
    dirs.sort();
    let mut out = Vec::new();
    for dir in dirs {
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let target = match std::fs::read_to_string(dir.join("target.json")) {
            Ok(text) => Target::from_json(&text).unwrap_or_else(|e| panic!("{name}: {e}")),
            Err(_) => Target::default(),
        };
        let bytes = std::fs::read(dir.join("config.json")).unwrap_or_default();
        let t = translator::oci_to_ir(&format!("golden/{name}/config.json"), &bytes, &target);
        let Some(ir) = t.ir.as_ref().filter(|_| !t.has_errors()) else {
            continue;
        };
        let plan = ir_to_plan(ir, &target, "config.json").unwrap_or_else(|e| panic!("{name}: {e}"));
        let conf = pct_conf::write(&pve::ir_to_pve(ir)).unwrap_or_else(|e| panic!("{name}: {e}"));
        out.push(Case {
            name,
            plan,
            conf,
            target,
        });
    }
    assert!(
        out.len() >= 20,
        "only {} golden cases translate; the golden folder is missing?",
        out.len()
    );
    out
}

const VMID: &str = "100";
const TEMPLATE: &str = "local:vztmpl/proxmox-lxcri-test.tar.zst";

fn bind(argv: &[Arg], vmid: &str, template: &str) -> Vec<String> {
    argv.iter()
        .map(|a| match a {
            Arg::Lit(s) => s.clone(),
            Arg::Var { var: Var::Vmid } => vmid.to_string(),
            Arg::Var { var: Var::Template } => template.to_string(),
            Arg::Var { var: Var::Bundle } => "/srv/bundle".to_string(),
        })
        .collect()
}

fn destroy_ct(vmid: &str) -> Vec<String> {
    ["pct", "destroy", vmid, "--purge"]
        .map(String::from)
        .to_vec()
}

fn pct_spec<'a>(
    prefix: &'a str,
    arg_params: &'a [&'a str],
    fixed: &'a [(&'a str, String)],
) -> CommandSpec<'a> {
    CommandSpec {
        prefix,
        arg_params,
        fixed,
        file_params: &["ssh-public-keys"],
        interactive: &["password"],
        format_options: false,
    }
}

#[test]
fn every_pct_call_and_config_line_is_valid_for_proxmox() {
    let schemas = schemas().unwrap_or_else(|e| panic!("{}", e.render()));
    let fixed = [("node", "pve".to_string())];
    let mut pct_calls = 0;
    for case in golden_cases() {
        for step in &case.plan.steps {
            let mut calls = Vec::new();
            if let Action::PctCreate { argv } = &step.action {
                calls.push(bind(argv, VMID, TEMPLATE));
            }
            // The command the executor runs for `destroy-ct` (executor/src/pve/mod.rs
            // `destroy_command`, the spelling plan.sh shows).
            if step.undo == Undo::DestroyCt {
                calls.push(destroy_ct(VMID));
            }
            for call in calls {
                let (schema, spec) = match call.get(..2).map(|w| [w[0].as_str(), w[1].as_str()]) {
                    Some(["pct", "create"]) => (
                        &schemas.create,
                        pct_spec("pct create", &["vmid", "ostemplate"], &fixed),
                    ),
                    Some(["pct", "destroy"]) => {
                        (&schemas.destroy, pct_spec("pct destroy", &["vmid"], &fixed))
                    }
                    Some(["pvesm", "free"]) => continue,
                    _ => panic!("{}: a command the test does not know: {call:?}", case.name),
                };
                pct_calls += 1;
                let args = call.get(2..).unwrap_or_default();
                if let Err(e) = parse_args(schema, args, &spec) {
                    panic!("{}: Proxmox refuses {call:?}:\n{}", case.name, e.render());
                }
            }
            if let Action::WriteConfigLines { lines } = &step.action {
                for line in lines {
                    let verdict = classify(&schemas.raw_keys, VMID, &line.key);
                    assert_eq!(
                        verdict,
                        RawKeyVerdict::Accepted,
                        "{}: Proxmox does not keep `{}`",
                        case.name,
                        line.text()
                    );
                }
            }
        }
    }
    assert!(pct_calls >= 40, "only {pct_calls} pct calls checked");
}

#[test]
fn the_validation_can_fail() {
    // A guard against a check that accepts everything.
    let schemas = schemas().unwrap_or_else(|e| panic!("{}", e.render()));
    let fixed = [("node", "pve".to_string())];
    let spec = pct_spec("pct create", &["vmid", "ostemplate"], &fixed);
    for bad in [
        &["--memory", "8"][..],
        &["--net0", "bridge=vmbr0"],
        &["--lxc.init.cmd", "/x"],
        &["--ostype", "windows"],
        &["--rootfs", "local-lvm:8,mp=/x"],
    ] {
        let mut args = vec![VMID.to_string(), TEMPLATE.to_string()];
        args.extend(bad.iter().map(|s| s.to_string()));
        assert!(
            parse_args(&schemas.create, &args, &spec).is_err(),
            "accepted {bad:?}"
        );
    }
    assert_ne!(
        classify(&schemas.raw_keys, VMID, "lxc.sysctl.net.ipv4.ip_forward"),
        RawKeyVerdict::Accepted
    );
}

/// The simulator's binaries, next to this test's own executable.
fn sim_bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let bin = dir.join(name);
    assert!(
        bin.is_file(),
        "{} is missing: the simulator's binaries are not built (cargo test --workspace builds them; or cargo build -p pve-sim --bins)",
        bin.display()
    );
    bin
}

struct Node {
    root: tempfile::TempDir,
    /// `PVE_SIM_PVE_CONTAINER` / `PVE_SIM_PVE_COMMON`: the release the plan was made for.
    versions: Vec<(&'static str, String)>,
}

impl Node {
    /// A node of the target's release. The translator takes a PVE 8 node (pve-container 5.x)
    /// for one whose pve-common may predate 8.2.2 (PveContainerVersion::DESCRIPTION_PERCENT);
    /// its simulator runs PVE 8.0's pve-common, so both models read the same description.
    fn for_target(target: &Target) -> Node {
        let pve_container = target.pve_container.to_string();
        let mut versions = vec![("PVE_SIM_PVE_CONTAINER", pve_container)];
        if !target
            .pve_container
            .at_least(translator::target::PveContainerVersion::DESCRIPTION_PERCENT)
        {
            versions.push(("PVE_SIM_PVE_COMMON", "8.0.7".to_string()));
        }
        Node {
            root: tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}")),
            versions,
        }
    }

    fn path(&self, host_path: &str) -> PathBuf {
        self.root.path().join(host_path.trim_start_matches('/'))
    }

    fn run(&self, program: &str, args: &[String]) -> String {
        let out = Command::new(sim_bin(program))
            .args(args)
            .env("PVE_SIM_ROOT", self.root.path())
            .env_remove("PVE_SIM_PVE_COMMON")
            .envs(self.versions.iter().map(|(k, v)| (k, v)))
            .output()
            .unwrap_or_else(|e| panic!("{program}: {e}"));
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        assert!(
            out.status.success(),
            "{program} {args:?} failed ({}):\n{}{}",
            out.status,
            text(&out.stdout),
            text(&out.stderr)
        );
        text(&out.stdout)
    }

    fn config_path(&self, vmid: &str) -> PathBuf {
        self.path(&format!("/etc/pve/lxc/{vmid}.conf"))
    }
}

fn write_atomic(path: &Path, text: &str) {
    let tmp = path.with_extension("conf.tmp");
    std::fs::write(&tmp, text).unwrap_or_else(|e| panic!("{}: {e}", tmp.display()));
    std::fs::rename(&tmp, path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

/// Applies a plan to a simulated node the way the executor does, step by
/// step; returns the container's id.
fn apply(node: &Node, plan: &Plan, rootfs: &Path) -> String {
    let mut vmid = String::new();
    let mut template = String::new();
    for step in &plan.steps {
        match &step.action {
            Action::PackRootfs {
                storage,
                name_prefix,
                ..
            } => {
                template = format!("{storage}:vztmpl/{name_prefix}test.tar.zst");
                let archive = node
                    .run("pvesm", &["path".into(), template.clone()])
                    .trim()
                    .to_string();
                // The simulator answers with the path under its state root.
                let archive = PathBuf::from(archive);
                if let Some(dir) = archive.parent() {
                    std::fs::create_dir_all(dir)
                        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
                }
                let status = Command::new("tar")
                    .args(["--create", "--zstd", "--numeric-owner", "--file"])
                    .arg(&archive)
                    .arg("--directory")
                    .arg(rootfs)
                    .arg(".")
                    .status()
                    .unwrap_or_else(|e| panic!("tar: {e}"));
                assert!(status.success(), "tar failed: {status}");
            }
            Action::AllocateVmid { .. } => {
                vmid = node
                    .run("pvesh", &["get".into(), "/cluster/nextid".into()])
                    .trim()
                    .to_string()
            }
            Action::PctCreate { argv } => {
                let args = bind(argv, &vmid, &template);
                node.run("pct", args.get(1..).unwrap_or_default());
            }
            Action::WriteConfigLines { lines } => {
                let path = node.config_path(&vmid);
                let mut text = std::fs::read_to_string(&path)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                for line in lines {
                    text.push_str(&line.text());
                    text.push('\n');
                }
                write_atomic(&path, &text);
            }
            Action::CreateConfig { text } => {
                let path = node.config_path(&vmid);
                assert!(!path.exists(), "{} exists", path.display());
                write_atomic(&path, text);
            }
            Action::WriteFile { path, content, .. } => {
                let path = node.path(path);
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir)
                        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
                }
                std::fs::write(&path, content)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            }
            Action::RemoveTemplate => {
                // `pvesm free` is not simulated; remove the file it names.
                let archive = node
                    .run("pvesm", &["path".into(), template.clone()])
                    .trim()
                    .to_string();
                std::fs::remove_file(&archive).unwrap_or_else(|e| panic!("{archive}: {e}"));
            }
            Action::RecordState { .. } => {}
        }
    }
    vmid
}

/// What Proxmox fills in itself, taken out of a section so the rest compares equal:
/// the volume allocated for `STORAGE:SIZE` (kept as `STORAGE:SIZE`) and MAC addresses.
fn without_proxmox_fill_ins(mut section: Section) -> Section {
    for (key, value) in section.keys.iter_mut() {
        let mut parts: Vec<String> = value.split(',').map(str::to_string).collect();
        if key == "rootfs" || key.starts_with("mp") {
            let size = parts.iter().find_map(|p| {
                p.strip_prefix("size=")
                    .and_then(|s| s.strip_suffix('G'))
                    .map(str::to_string)
            });
            if let (Some(first), Some(size)) = (parts.first_mut(), size) {
                if let Some((storage, volname)) = first.split_once(':') {
                    if volname.starts_with("vm-") || volname.starts_with("subvol-") {
                        *first = format!("{storage}:{size}");
                    }
                }
                parts.retain(|p| !p.starts_with("size="));
            }
        }
        if key.starts_with("net") {
            parts.retain(|p| !p.starts_with("hwaddr="));
        }
        *value = parts.join(",");
    }
    section
}

/// Keys whose value is the default the container has without them: `pct
/// create` writes memory and swap 512 and hostname `CT<vmid>` when it was not
/// given them, and writes `unprivileged` only when it is 1. Where only one
/// side has such a key with its default value, it is taken out.
fn without_defaults(mut actual: Section, mut expected: Section, vmid: &str) -> (Section, Section) {
    let ct = format!("CT{vmid}");
    for (key, default) in [
        ("memory", "512"),
        ("swap", "512"),
        ("hostname", ct.as_str()),
        ("unprivileged", "0"),
    ] {
        match (actual.get(key), expected.get(key)) {
            (Some(v), None) if v == default => {
                actual.keys.remove(key);
            }
            (None, Some(v)) if v == default => {
                expected.keys.remove(key);
            }
            _ => {}
        }
    }
    (actual, expected)
}

fn parse(name: &str, vmid: &str, text: &[u8]) -> Section {
    let schemas = schemas().unwrap_or_else(|e| panic!("{}", e.render()));
    match parse_pct_config(schemas, vmid, text, true) {
        Ok(parsed) => {
            assert!(
                parsed.warnings.is_empty(),
                "{name}: Proxmox warns reading the config: {:?}",
                parsed.warnings
            );
            parsed.conf.main
        }
        Err(e) => panic!(
            "{name}: Proxmox cannot read the config:\n{}\n{}",
            e.render(),
            String::from_utf8_lossy(text)
        ),
    }
}

#[test]
fn applying_a_plan_gives_the_pct_conf() {
    if !nix_root() {
        panic!("this test creates containers with the simulator, which extracts templates as root: run it as root");
    }
    let rootfs = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let mut applied = 0;
    for case in golden_cases() {
        let node = Node::for_target(&case.target);
        let vmid = apply(&node, &case.plan, rootfs.path());
        let actual =
            std::fs::read(node.config_path(&vmid)).unwrap_or_else(|e| panic!("{}: {e}", case.name));
        let expected = without_proxmox_fill_ins(parse(&case.name, &vmid, case.conf.as_bytes()));
        let actual = without_proxmox_fill_ins(parse(&case.name, &vmid, &actual));
        let (actual, expected) = without_defaults(actual, expected, &vmid);
        assert_eq!(
            actual, expected,
            "{}: the plan creates a different config than --to pct-conf:\n{}",
            case.name, case.conf
        );
        // The undo of pct-create takes the container away again.
        if let Some(Undo::DestroyCt) = case
            .plan
            .steps
            .iter()
            .find(|s| matches!(s.action, Action::PctCreate { .. }))
            .map(|s| &s.undo)
        {
            let args = destroy_ct(&vmid);
            node.run("pct", args.get(1..).unwrap_or_default());
            assert!(
                !node.config_path(&vmid).exists(),
                "{}: pct destroy left the config",
                case.name
            );
        }
        applied += 1;
    }
    assert!(applied >= 20, "only {applied} plans applied");
}

fn nix_root() -> bool {
    // The effective uid without a libc dependency: /proc/self/status `Uid:` (real, effective, …).
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let uids: BTreeMap<usize, &str> = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .map(|rest| rest.split_whitespace().enumerate().collect())
        .unwrap_or_default();
    uids.get(&1) == Some(&"0")
}
