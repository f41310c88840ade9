//! Attacks on `apply` (issue 10 item 3): a plan is untrusted data. Each test takes a real plan
//! from `convert --to plan`, edits it as an attacker would, and runs the real binary on the
//! Proxmox simulator, for `apply` and `apply --dry-run`. Every hostile plan must be refused
//! (exit 1, the problem named by step and JSON pointer) before any host call: `pct`, `pvesh`
//! and `pvesm` are wrapped by stand-ins that log each call, and the log must stay empty. And
//! nothing may change: the whole simulated node (its /etc/pve with another container created
//! before, the storages, the state store) is compared file by file, and a canary file outside
//! the node keeps its bytes.

mod runtime_support;

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use runtime_support::*;

const CANARY: &[u8] = b"CANARY-plan-attack-81d2";

/// [`CONFIG`] with a seccomp profile, so that the plan has a `write-file` step.
fn config_with_seccomp() -> String {
    CONFIG.replace(
        r#""linux": {"#,
        r#""linux": {"seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["kexec_load"], "action": "SCMP_ACT_ERRNO"}]}, "#,
    )
}

/// Every file below `dir`, with its mode, owner, size, mtime and (small files) content.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            let Ok(m) = fs::symlink_metadata(&p) else {
                continue;
            };
            let mut line = format!(
                "{:o} {} {}:{} {} {}",
                m.mode(),
                m.len(),
                m.uid(),
                m.gid(),
                m.mtime(),
                m.mtime_nsec()
            );
            if m.file_type().is_symlink() {
                line.push_str(&format!(
                    " -> {}",
                    fs::read_link(&p)
                        .map(|l| l.display().to_string())
                        .unwrap_or_default()
                ));
            } else if m.is_file() && m.len() < 1 << 20 {
                line.push_str(&format!(" {:?}", fs::read(&p).unwrap_or_default()));
            } else if m.is_dir() {
                stack.push(p.clone());
            }
            out.insert(p.strip_prefix(dir).unwrap_or(&p).to_path_buf(), line);
        }
    }
    out
}

/// A node with another container (`other`, CT 100) made before the attack, stand-ins that log
/// every Proxmox tool call, a bundle, and a canary file outside the node.
struct Scene {
    node: Node,
    bundle: tempfile::TempDir,
    log: PathBuf,
    canary: PathBuf,
    _outside: tempfile::TempDir,
}

impl Scene {
    fn new() -> Scene {
        require(SIM_TOOLS);
        ensure_subids();
        let mut node = Node::new();
        let other = bundle(&CONFIG.replace(r#""hostname": "app""#, r#""hostname": "other""#));
        let out = node
            .lxcri()
            .args(["create", "other", "--bundle"])
            .arg(other.path())
            .output()
            .unwrap();
        ok(&out);
        assert_eq!(node.configs(), ["100.conf"]);
        // Stand-ins before the simulator on PATH: each call is logged, then the simulator runs
        // (`pct create` fails when FAIL_CREATE exists, for the rollback test).
        let wrap = node.dir.path().join("wrap");
        fs::create_dir_all(&wrap).unwrap();
        let log = node.dir.path().join("calls.log");
        let fail = node.dir.path().join("FAIL_CREATE");
        for tool in ["pct", "pvesh", "pvesm"] {
            let script = format!(
                "#!/bin/sh\necho \"{tool} $*\" >> '{log}'\nif [ \"{tool} $1\" = 'pct create' ] && [ -e '{fail}' ]; then echo 'simulated failure of pct create' >&2; exit 2; fi\nexec '{sim}' \"$@\"\n",
                log = log.display(),
                fail = fail.display(),
                sim = bin_dir().join(tool).display()
            );
            fs::write(wrap.join(tool), script).unwrap();
            fs::set_permissions(wrap.join(tool), fs::Permissions::from_mode(0o755)).unwrap();
        }
        node.extra_path = Some(wrap);
        let outside = tempfile::Builder::new()
            .prefix("plxc-outside")
            .tempdir()
            .unwrap();
        let canary = outside.path().join("canary");
        fs::write(&canary, CANARY).unwrap();
        Scene {
            node,
            bundle: bundle(&config_with_seccomp()),
            log,
            canary,
            _outside: outside,
        }
    }

    /// `convert --to plan` of the bundle (with `target`, a target file's JSON, if any).
    fn plan(&self, target: Option<Value>) -> Value {
        let out_file = self.node.dir.path().join("plan.json");
        let mut cmd = self.node.lxcri();
        cmd.args(["convert", "--to", "plan", "-o"]).arg(&out_file);
        if let Some(t) = target {
            let tf = self.node.dir.path().join("target.json");
            fs::write(&tf, t.to_string()).unwrap();
            cmd.arg("--target").arg(tf);
        }
        ok(&cmd.arg(self.bundle.path()).output().unwrap());
        serde_json::from_slice(&fs::read(&out_file).unwrap()).unwrap()
    }

    fn calls(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Runs `apply` (and `--dry-run`) of `plan`; returns (exit code, stderr).
    fn apply(&self, plan: &Value, dry_run: bool) -> (Option<i32>, String) {
        self.apply_with(plan, dry_run, &[])
    }

    /// [`Scene::apply`] with global options (`--policy FILE`) before the verb.
    fn apply_with(
        &self,
        plan: &Value,
        dry_run: bool,
        global: &[&std::ffi::OsStr],
    ) -> (Option<i32>, String) {
        let file = self.node.dir.path().join("hostile.json");
        fs::write(&file, serde_json::to_vec_pretty(plan).unwrap()).unwrap();
        let mut cmd = self.node.lxcri();
        cmd.args(global).arg("apply");
        if dry_run {
            cmd.arg("--dry-run");
        }
        let out = cmd
            .args(["--id", "attack", "--bundle"])
            .arg(self.bundle.path())
            .arg(&file)
            .output()
            .unwrap();
        (out.status.code(), text(&out.stderr))
    }

    /// Applies the hostile `plan` both ways and asserts it is refused before any host call,
    /// naming every `pointer`, with nothing changed.
    #[track_caller]
    fn refused(&self, what: &str, plan: &Value, pointers: &[&str]) {
        self.refused_with(what, plan, pointers, &[]);
    }

    /// [`Scene::refused`] with global options before the verb.
    #[track_caller]
    fn refused_with(
        &self,
        what: &str,
        plan: &Value,
        pointers: &[&str],
        global: &[&std::ffi::OsStr],
    ) {
        let sim = self.node.host("/");
        for dry_run in [true, false] {
            let before = snapshot(self.node.dir.path());
            let (code, err) = self.apply_with(plan, dry_run, global);
            let how = if dry_run { "apply --dry-run" } else { "apply" };
            assert_eq!(code, Some(1), "{what}: {how} exits 1: {err}");
            assert!(
                err.contains("the plan is refused before its first step"),
                "{what}: {how}: {err}"
            );
            for p in pointers {
                // `/steps/2/argv/7 (step 3 (pct-create)): …`, `/steps/2/undo: …` (the schema,
                // before steps are known), `/steps/1/text line 12 (step 2 …)` (inside a string).
                let named = [
                    format!("\n  {p} (step "),
                    format!("\n  {p}: "),
                    format!("\n  {p} line "),
                ];
                assert!(
                    named.iter().any(|n| err.contains(n.as_str())),
                    "{what}: {how} names {p}: {err}"
                );
            }
            assert_eq!(self.calls(), "", "{what}: {how} made host calls");
            let mut after = snapshot(self.node.dir.path());
            after.remove(Path::new("hostile.json"));
            let mut before = before;
            before.remove(Path::new("hostile.json"));
            assert_eq!(
                after,
                before,
                "{what}: {how} changed the node ({})",
                sim.display()
            );
            assert_eq!(
                fs::read(&self.canary).unwrap(),
                CANARY,
                "{what}: the canary"
            );
            assert_eq!(
                self.node.configs(),
                ["100.conf"],
                "{what}: the other CT is there, and no other"
            );
            assert_eq!(self.node.records(), ["other"], "{what}: state records");
            assert!(
                !Path::new("/usr/local/bin/plxc-attack").exists(),
                "{what}: nothing in /usr/local/bin"
            );
        }
    }
}

fn step_index(plan: &Value, op: &str) -> usize {
    plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .position(|s| s["op"] == op)
        .unwrap_or_else(|| panic!("no {op} step in {plan:#}"))
}

fn argv(plan: &mut Value) -> (usize, &mut Vec<Value>) {
    let i = step_index(plan, "pct-create");
    (i, plan["steps"][i]["argv"].as_array_mut().unwrap())
}

#[test]
fn the_unedited_plan_is_accepted() {
    // The guard against a check that refuses everything: the same plan, unedited, applies.
    let s = Scene::new();
    let plan = s.plan(None);
    let (code, err) = s.apply(&plan, true);
    assert_eq!(code, Some(0), "{err}");
    let (code, err) = s.apply(&plan, false);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(s.node.configs(), ["100.conf", "101.conf"]);
    ok(&s.node.run(&["delete", "attack"]));
    assert_eq!(s.node.configs(), ["100.conf"]);
}

#[test]
fn file_writes_go_only_into_the_seccomp_directory_without_setuid() {
    let s = Scene::new();
    let plan = s.plan(None);
    let w = step_index(&plan, "write-file");
    let mut setuid = plan.clone();
    setuid["steps"][w]["path"] = json!("/usr/local/bin/plxc-attack");
    setuid["steps"][w]["mode"] = json!("04755");
    setuid["steps"][w]["undo"] = json!({"remove-file-if-created": "/usr/local/bin/plxc-attack"});
    let (p, m) = (format!("/steps/{w}/path"), format!("/steps/{w}/mode"));
    s.refused("setuid file in /usr/local/bin", &setuid, &[&p, &m]);

    let mut outside = plan.clone();
    outside["steps"][w]["path"] = json!("/var/lib/proxmox-lxcri/seccomp/../../../../etc/cron.d/x");
    outside["steps"][w]["undo"] = json!({"remove-file-if-created": "/var/lib/proxmox-lxcri/seccomp/../../../../etc/cron.d/x"});
    s.refused(
        "write-file climbing out of the seccomp dir",
        &outside,
        &[&p],
    );

    let mut writable = plan.clone();
    writable["steps"][w]["mode"] = json!("0666");
    s.refused("a world-writable profile", &writable, &[&m]);
}

#[test]
fn a_plan_packs_only_its_bundle() {
    let s = Scene::new();
    let mut plan = s.plan(None);
    let i = step_index(&plan, "pack-rootfs");
    plan["steps"][i]["rootfs"] = json!({"path": "/etc"});
    s.refused("pack /etc", &plan, &[&format!("/steps/{i}/rootfs/path")]);
    plan["steps"][i]["rootfs"] = json!({"bundle": "../../../etc"});
    s.refused(
        "pack ../../../etc",
        &plan,
        &[&format!("/steps/{i}/rootfs/bundle")],
    );
    // A host directory that is no system directory, but not the bundle's and not the one the
    // operator named: the canary's.
    plan["steps"][i]["rootfs"] = json!({"path": s.canary.parent().unwrap()});
    s.refused(
        "pack another directory",
        &plan,
        &[&format!("/steps/{i}/rootfs/path")],
    );
}

#[test]
fn pct_create_takes_no_hookscript_host_rootfs_or_refused_mount_point() {
    let s = Scene::new();
    let plan = s.plan(None);

    let mut hook = plan.clone();
    let (i, a) = argv(&mut hook);
    let n = a.len();
    a.extend([json!("--hookscript"), json!("local:snippets/evil.sh")]);
    s.refused("--hookscript", &hook, &[&format!("/steps/{i}/argv/{n}")]);

    let mut root = plan.clone();
    let (i, a) = argv(&mut root);
    let r = a.iter().position(|w| w == "--rootfs").unwrap() + 1;
    a[r] = json!("/");
    s.refused("--rootfs /", &root, &[&format!("/steps/{i}/argv/{r}")]);

    let mut mp = plan.clone();
    let (i, a) = argv(&mut mp);
    let n = a.len();
    a.extend([json!("--mp0"), json!("/etc/pve,mp=/x")]);
    s.refused(
        "--mp0 /etc/pve",
        &mp,
        &[&format!("/steps/{i}/argv/{}", n + 1)],
    );

    let mut unknown = plan.clone();
    let (i, a) = argv(&mut unknown);
    let n = a.len();
    a.extend([json!("--force"), json!("1")]);
    s.refused("--force", &unknown, &[&format!("/steps/{i}/argv/{n}")]);

    // The other container's disk, as this container's root or as a mount point: Proxmox uses an
    // existing volume id as it is, and the undo's `pct destroy --purge` would free it.
    let mut theirs = plan.clone();
    let (i, a) = argv(&mut theirs);
    let r = a.iter().position(|w| w == "--rootfs").unwrap() + 1;
    a[r] = json!("local-lvm:vm-100-disk-0");
    s.refused(
        "--rootfs of CT 100's disk",
        &theirs,
        &[&format!("/steps/{i}/argv/{r}")],
    );
    let mut mounted = plan.clone();
    let (i, a) = argv(&mut mounted);
    let n = a.len();
    a.extend([json!("--mp0"), json!("local-lvm:vm-100-disk-0,mp=/other")]);
    s.refused(
        "--mp0 of CT 100's disk",
        &mounted,
        &[&format!("/steps/{i}/argv/{}", n + 1)],
    );
}

#[test]
fn the_node_policy_judges_what_the_plan_does_not_say() {
    // A node that refuses privileged containers: a plan that drops `--unprivileged 1` (Proxmox
    // defaults to 0) or maps the container's root onto host id 0 is one.
    let s = Scene::new();
    let policy = s.node.dir.path().join("policy.toml");
    fs::write(&policy, "version = 1\nrefuse = [\"security/privileged\"]\n").unwrap();
    let global = [std::ffi::OsStr::new("--policy"), policy.as_os_str()];
    let plan = s.plan(None);
    let (code, err) = s.apply_with(&plan, true, &global);
    assert_eq!(code, Some(0), "the unedited plan passes this policy: {err}");
    // That dry run's read-only queries (`pvesm path`, `nextid`) are not the attack's.
    fs::remove_file(&s.log).unwrap();

    let mut dropped = plan.clone();
    let (i, a) = argv(&mut dropped);
    let u = a.iter().position(|w| w == "--unprivileged").unwrap();
    a.drain(u..u + 2);
    s.refused_with(
        "no --unprivileged",
        &dropped,
        &[&format!("/steps/{i}/argv")],
        &global,
    );

    let mut root = plan.clone();
    let l = step_index(&plan, "write-config-lines");
    let n = plan["steps"][l]["lines"].as_array().unwrap().len();
    root["steps"][l]["lines"]
        .as_array_mut()
        .unwrap()
        .push(json!({"key": "lxc.idmap", "value": "u 0 0 65536"}));
    s.refused_with(
        "lxc.idmap onto host root",
        &root,
        &[&format!("/steps/{l}/lines/{n}")],
        &global,
    );
}

#[test]
fn config_lines_are_checked_against_the_allow_list_and_the_policy() {
    let s = Scene::new();
    let plan = s.plan(None);
    let i = step_index(&plan, "write-config-lines");
    let n = plan["steps"][i]["lines"].as_array().unwrap().len();
    for (key, value) in [
        ("lxc.hook.pre-start", "/bin/sh -c 'touch /tmp/pwned'"),
        ("lxc.mount.entry", "/etc/pve etc/pve none bind 0 0"),
        ("lxc.cgroup2.devices.allow", "c 1:1 rwm"),
        ("lxc.net.0.script.up", "/bin/sh -c 'touch /tmp/pwned'"),
        ("lxc.net.1.type", "phys"),
        ("lxc.include", "/etc/pve/priv/authkey.key"),
    ] {
        let mut p = plan.clone();
        p["steps"][i]["lines"]
            .as_array_mut()
            .unwrap()
            .push(json!({"key": key, "value": value}));
        s.refused(key, &p, &[&format!("/steps/{i}/lines/{n}")]);
    }

    // A host-directory plan: its create-config text is checked line by line the same way.
    let host_path = s.plan(Some(
        json!({"rootfs": {"mode": "host-path"}, "bundle-dir": s.bundle.path()}),
    ));
    let c = step_index(&host_path, "create-config");
    let mut p = host_path.clone();
    let text = p["steps"][c]["text"].as_str().unwrap().to_owned();
    p["steps"][c]["text"] = json!(format!(
        "{text}lxc.hook.pre-start: /bin/sh -c 'touch /tmp/pwned'\n"
    ));
    s.refused(
        "create-config with lxc.hook.pre-start",
        &p,
        &[&format!("/steps/{c}/text")],
    );
}

#[test]
fn undo_comes_from_the_executor_not_from_the_plan() {
    let s = Scene::new();
    let plan = s.plan(None);
    let create = step_index(&plan, "pct-create");
    // The old form: a command line, here destroying the other container and granting a role.
    let mut run = plan.clone();
    run["steps"][create]["undo"] = json!({"run": ["pct", "destroy", "100", "--purge"]});
    run["steps"][0]["undo"] = json!({"run": ["pvesh", "set", "/access/acl", "--path", "/", "--roles", "Administrator", "--users", "evil@pve"]});
    s.refused(
        "plan-supplied undo commands",
        &run,
        &[&format!("/steps/{create}/undo"), "/steps/0/undo"],
    );
    // A typed undo that is not the step's own.
    let mut typed = plan.clone();
    typed["steps"][0]["undo"] = json!("destroy-ct");
    s.refused(
        "a pack step claiming destroy-ct",
        &typed,
        &["/steps/0/undo"],
    );
}

#[test]
fn the_step_sequence_and_the_node_are_the_translators() {
    let s = Scene::new();
    let plan = s.plan(None);
    let mut dup = plan.clone();
    let create = plan["steps"][step_index(&plan, "pct-create")].clone();
    dup["steps"].as_array_mut().unwrap().push(create);
    s.refused("a second pct-create", &dup, &["/steps"]);
    let mut node = plan.clone();
    let r = step_index(&plan, "record-state");
    node["steps"][r]["node"] = json!("elsewhere");
    s.refused(
        "record-state on another node",
        &node,
        &[&format!("/steps/{r}/node")],
    );
}

#[test]
fn a_failed_apply_rolls_back_only_what_it_made() {
    let s = Scene::new();
    let plan = s.plan(None);
    let other_conf = fs::read(s.node.host("/etc/pve/nodes/pve/lxc/100.conf")).unwrap();
    let other_disk = snapshot(&s.node.host("/dev/pve/vm-100-disk-0"));
    assert!(!other_disk.is_empty());
    fs::write(s.node.dir.path().join("FAIL_CREATE"), b"").unwrap();
    let (code, err) = s.apply(&plan, false);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("simulated failure of pct create"), "{err}");
    // The rollback removed the template this apply packed and nothing else.
    assert_eq!(s.node.templates(), Vec::<String>::new(), "{err}");
    assert_eq!(s.node.configs(), ["100.conf"], "{err}");
    assert_eq!(
        fs::read(s.node.host("/etc/pve/nodes/pve/lxc/100.conf")).unwrap(),
        other_conf,
        "the other CT's config"
    );
    assert_eq!(
        snapshot(&s.node.host("/dev/pve/vm-100-disk-0")),
        other_disk,
        "the other CT's volume"
    );
    assert_eq!(s.node.records(), ["other"]);
    let calls = s.calls();
    assert!(
        !calls.contains("destroy"),
        "no pct destroy of anything: {calls}"
    );
    assert_eq!(
        state_json(&s.node.run(&["state", "other"]))["status"],
        "created"
    );
    assert_eq!(fs::read(&s.canary).unwrap(), CANARY);
}

#[test]
fn a_bind_mount_point_of_a_file_is_refused_before_anything_runs() {
    // Proxmox takes `--mp0 FILE` and creates the container, which then never starts (the
    // prestart hook wants a directory): a plan carried from another node, or edited, is
    // checked on this node before its first step. The translator says `needs: directory`;
    // the executor derives the list from the arguments themselves, so a plan that leaves
    // the need out is refused the same way.
    let s = Scene::new();
    let plan = s.plan(None);
    let mut file = plan.clone();
    let (i, a) = argv(&mut file);
    let n = a.len();
    let canary = s.canary.display().to_string();
    a.extend([json!("--mp0"), json!(format!("{canary},mp=/etc/app.conf"))]);
    s.refused(
        "--mp0 of a file",
        &file,
        &[&format!("/steps/{i}/argv/{}", n + 1)],
    );
    let mut missing = plan.clone();
    let (i, a) = argv(&mut missing);
    let n = a.len();
    a.extend([
        json!("--mp0"),
        json!("/nonexistent/proxmox-lxcri-dir,mp=/data"),
    ]);
    s.refused(
        "--mp0 of a missing path",
        &missing,
        &[&format!("/steps/{i}/argv/{}", n + 1)],
    );
}
