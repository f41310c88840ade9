//! `exec` attacked: the process an exec asks for is untrusted input, judged by the node policy
//! exactly as `create` judges a bundle's process. A node whose policy refuses dangerous
//! capabilities, an unconfined AppArmor profile and a non-root process without
//! `noNewPrivileges` runs a container that passes; then execs asking for more (by
//! `--process` file and by runc's flags) are refused with exit 1, naming the finding, before
//! crun is called for them: the crun wrapper's call log has no `exec`, and the canary file
//! the process would write does not exist. A harmless exec in the same container still runs.
//!
//! Real binary, real crun (through the cgroup wrapper of tests/runtime_crun.rs). Needs root,
//! `crun`, `busybox-static` and `unshare`.

mod runtime_support;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

use runtime_support::*;

/// The cgroup wrapper, logging each call's arguments first.
fn wrapper(log: &Path) -> String {
    let exec = WRAPPER.strip_prefix("#!/bin/sh\n").unwrap_or(WRAPPER);
    format!("#!/bin/sh\necho \"$*\" >> {}\n{exec}", log.display())
}

const POLICY: &str = "version = 1\nrefuse = [\"security/cap-sys-admin\", \"security/dangerous-capability\", \"security/apparmor-unconfined\", \"security/new-privileges\"]\n";

/// [`CONFIG`] as an engine writes it, passing [`POLICY`]: uid 1000 with
/// `noNewPrivileges`, the capabilities a default runc spec has, in a user namespace.
fn config() -> String {
    let mut v: serde_json::Value = serde_json::from_str(CONFIG).expect("CONFIG is JSON");
    v["process"]["noNewPrivileges"] = serde_json::json!(true);
    let caps = serde_json::json!(["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]);
    v["process"]["capabilities"] =
        serde_json::json!({"bounding": caps, "effective": caps, "permitted": caps});
    v["mounts"] = serde_json::json!([
        {"destination": "/proc", "type": "proc", "source": "proc"},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=755"]}
    ]);
    v["linux"]["readonlyPaths"] = serde_json::json!(["/proc/sys", "/proc/sysrq-trigger"]);
    v["linux"]["uidMappings"] =
        serde_json::json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
    v["linux"]["gidMappings"] =
        serde_json::json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
    v.to_string()
}

/// runtime_support's crun node (which deletes leftover crun containers on drop), its crun
/// calls logged, and [`POLICY`].
struct Env {
    crun: CrunNode,
    calls: PathBuf,
    policy: PathBuf,
}

impl std::ops::Deref for Env {
    type Target = CrunNode;
    fn deref(&self) -> &CrunNode {
        &self.crun
    }
}

impl Env {
    fn new() -> Env {
        let crun = CrunNode::with_wrapper(|dir| wrapper(&dir.join("crun-calls.log")));
        let calls = crun.node.dir.path().join("crun-calls.log");
        let policy = crun.node.dir.path().join("policy.toml");
        fs::write(&policy, POLICY).expect("policy");
        fs::set_permissions(&policy, fs::Permissions::from_mode(0o600)).expect("chmod");
        Env {
            crun,
            calls,
            policy,
        }
    }

    fn cmd(&self, args: &[&str]) -> std::process::Command {
        let mut c = self.node.lxcri();
        c.arg("--policy")
            .arg(&self.policy)
            .args(["--runtime", "crun", "--crun"])
            .arg(&self.wrapper)
            .args(args);
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args)
            .stdin(Stdio::null())
            .output()
            .expect("run proxmox-lxcri")
    }

    /// A verb whose container process inherits stdio: output through a file.
    fn run_to_file(&self, args: &[&str]) -> (bool, String) {
        let out = self.node.dir.path().join("out.txt");
        let file = fs::File::create(&out).expect("output file");
        let err = file.try_clone().expect("dup");
        let status = self
            .cmd(args)
            .stdin(Stdio::null())
            .stdout(Stdio::from(file))
            .stderr(Stdio::from(err))
            .status()
            .expect("run proxmox-lxcri");
        (
            status.success(),
            fs::read_to_string(&out).unwrap_or_default(),
        )
    }

    fn exec_calls(&self) -> usize {
        fs::read_to_string(&self.calls)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.split_whitespace().any(|w| w == "exec"))
            .count()
    }
}

#[test]
fn an_exec_asking_for_more_than_the_policy_allows_is_refused_before_crun_runs_it() {
    let env = Env::new();
    let b = bundle(&config());
    let bundle = b.path().display().to_string();
    let (created, out) = env.run_to_file(&["create", "box", "-b", &bundle]);
    assert!(created, "the container itself passes the policy: {out}");
    let (started, out) = env.run_to_file(&["start", "box"]);
    assert!(started, "start: {out}");
    wait_for("the container to run", Duration::from_secs(15), || {
        state_json(&env.run(&["state", "box"]))["status"] == "running"
    });

    // What every attack would do if it ran.
    let canary = b.path().join("rootfs/tmp/canary");
    let write_canary = ["sh", "-c", "echo pwned > /tmp/canary"];
    let seq = std::cell::Cell::new(0);
    let process = |extra: serde_json::Value| {
        let mut p = serde_json::json!({
            "args": write_canary, "cwd": "/", "env": ["PATH=/bin"],
            "user": {"uid": 1000, "gid": 1000}, "noNewPrivileges": true
        });
        if let (Some(p), Some(extra)) = (p.as_object_mut(), extra.as_object()) {
            p.extend(extra.clone());
        }
        seq.set(seq.get() + 1);
        let path = env
            .node
            .dir
            .path()
            .join(format!("process-{}.json", seq.get()));
        fs::write(&path, p.to_string()).expect("process.json");
        path.display().to_string()
    };
    let attacks: Vec<(&str, Vec<String>, &str)> = vec![
        (
            "CAP_SYS_ADMIN in a --process file",
            vec![
                "--process".into(),
                process(
                    serde_json::json!({"capabilities": {"bounding": ["CAP_SYS_ADMIN"], "effective": ["CAP_SYS_ADMIN"], "permitted": ["CAP_SYS_ADMIN"]}}),
                ),
            ],
            "security/cap-sys-admin",
        ),
        (
            "CAP_SYS_MODULE added with --cap",
            vec!["--cap".into(), "CAP_SYS_MODULE".into()],
            "security/dangerous-capability",
        ),
        (
            "an unconfined AppArmor profile in a --process file",
            vec![
                "--process".into(),
                process(serde_json::json!({"apparmorProfile": "unconfined"})),
            ],
            "security/apparmor-unconfined",
        ),
        (
            "--apparmor unconfined",
            vec!["--apparmor".into(), "unconfined".into()],
            "security/apparmor-unconfined",
        ),
        (
            "uid 1000 without noNewPrivileges in a --process file",
            vec![
                "--process".into(),
                process(serde_json::json!({"noNewPrivileges": false})),
            ],
            "security/new-privileges",
        ),
    ];
    for (what, flags, code) in &attacks {
        let mut args: Vec<&str> = vec!["exec"];
        args.extend(flags.iter().map(String::as_str));
        args.push("box");
        if !flags.iter().any(|f| f == "--process") {
            args.extend(write_canary);
        }
        let err = fails(&env.run(&args), 1);
        assert!(err.contains(code), "{what}: {err}");
        assert!(
            err.contains("exec process") && err.contains("refused"),
            "{what}: {err}"
        );
        assert_eq!(env.exec_calls(), 0, "{what}: crun exec was called");
        assert!(!canary.exists(), "{what}: the process ran");
    }

    // The same container, a process the policy allows: it runs, with its exit code.
    let harmless = process(serde_json::json!({"args": ["sh", "-c", "id -u; exit 3"]}));
    let out = env.run(&["exec", "--process", &harmless, "box"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "1000\n");
    assert_eq!(env.exec_calls(), 1);
    // And from flags: the container's process (its uid, noNewPrivileges) with the command.
    let out = env.run(&["exec", "box", "sh", "-c", "id -u; echo $GREETING"]);
    assert_eq!(
        text(&out.stdout),
        "1000\nhello world\n",
        "{}",
        text(&out.stderr)
    );
    ok(&env.run(&["delete", "--force", "box"]));
}
/// Every file named `name` under `dir`.
fn find(dir: &Path, name: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(p),
                _ if e.file_name() == name => out.push(p),
                _ => {}
            }
        }
    }
    out
}

/// The same judgement on the pct back end: the policy refuses before `lxc-attach` runs.
#[test]
fn on_proxmox_the_policy_judges_the_exec_before_lxc_attach() {
    require(SIM_TOOLS);
    ensure_subids();
    let node = Node::new();
    let policy = node.dir.path().join("policy.toml");
    fs::write(
        &policy,
        "version = 1\nrefuse = [\"security/cap-sys-admin\", \"security/dangerous-capability\"]\n",
    )
    .expect("policy");
    fs::set_permissions(&policy, fs::Permissions::from_mode(0o600)).expect("chmod");
    let run = |args: &[&str]| {
        node.lxcri()
            .arg("--policy")
            .arg(&policy)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run proxmox-lxcri")
    };
    let b = bundle(CONFIG);
    ok(&run(&["create", "ct", "-b", b.path().to_str().unwrap()]));
    ok(&run(&["start", "ct"]));
    wait_for("the entrypoint", Duration::from_secs(15), || {
        node.console("100").contains("ready")
    });
    let write = "echo pwned > /tmp/canary";
    let err = fails(
        &run(&["exec", "--cap", "CAP_SYS_MODULE", "ct", "sh", "-c", write]),
        1,
    );
    assert!(err.contains("security/dangerous-capability"), "{err}");
    assert!(
        !err.contains("lxc-attach"),
        "the policy decided, not lxc-attach: {err}"
    );
    assert_eq!(find(&node.sim(), "canary"), Vec::<PathBuf>::new());
    // The same command without the capability runs, and its canary is where the check looks.
    ok(&run(&["exec", "ct", "sh", "-c", write]));
    assert_eq!(find(&node.sim(), "canary").len(), 1);
    ok(&run(&["delete", "--force", "ct"]));
}

/// The policy's `[exec]` rules: no uid 0 where the container has no user namespace (there it
/// is the node's root), and no resource limits above the container's. A container without a
/// user namespace, with `RLIMIT_NOFILE` 1024/1024, runs under such a policy; execs as uid 0
/// (by flag and by `--process`) and with a raised or new limit are refused with exit 1,
/// naming the rule, and crun is never called for them; a uid-1000 exec within the limits runs.
/// In a container with a user namespace, the same policy lets uid 0 exec.
#[test]
fn exec_as_root_without_a_user_namespace_or_above_the_containers_rlimits_is_refused() {
    let env = Env::new();
    fs::write(
        &env.policy,
        "version = 1\n[exec]\nroot = \"refuse-without-userns\"\nrlimits = \"not-above-container\"\n",
    )
    .expect("policy");
    let mut v: serde_json::Value = serde_json::from_str(&config()).expect("JSON");
    let ns = serde_json::json!([{"type": "pid"}, {"type": "mount"}, {"type": "ipc"}, {"type": "uts"}, {"type": "network"}]);
    v["linux"]["namespaces"] = ns;
    if let Some(l) = v["linux"].as_object_mut() {
        l.remove("uidMappings");
        l.remove("gidMappings");
    }
    v["process"]["rlimits"] =
        serde_json::json!([{"type": "RLIMIT_NOFILE", "soft": 1024, "hard": 1024}]);
    let b = bundle(&v.to_string());
    let bundle_dir = b.path().display().to_string();
    let (created, out) = env.run_to_file(&["create", "host-ids", "-b", &bundle_dir]);
    assert!(created, "the container itself passes the policy: {out}");
    let (started, out) = env.run_to_file(&["start", "host-ids"]);
    assert!(started, "start: {out}");
    wait_for("the container to run", Duration::from_secs(15), || {
        state_json(&env.run(&["state", "host-ids"]))["status"] == "running"
    });

    let canary = b.path().join("rootfs/tmp/canary");
    let write_canary = ["sh", "-c", "echo pwned > /tmp/canary"];
    let process = |name: &str, uid: u32, rlimits: serde_json::Value| {
        let p = serde_json::json!({
            "args": write_canary, "cwd": "/", "env": ["PATH=/bin"],
            "user": {"uid": uid, "gid": uid}, "noNewPrivileges": true, "rlimits": rlimits
        });
        let path = env.node.dir.path().join(format!("{name}.json"));
        fs::write(&path, p.to_string()).expect("process.json");
        path.display().to_string()
    };
    let nofile = |soft: u64, hard: u64| serde_json::json!([{"type": "RLIMIT_NOFILE", "soft": soft, "hard": hard}]);
    let attacks: Vec<(&str, Vec<String>, &str)> = vec![
        (
            "--user 0",
            vec!["--user".into(), "0".into()],
            "uid 0 in a container without a user namespace",
        ),
        (
            "uid 0 in a --process file",
            vec!["--process".into(), process("root", 0, nofile(1024, 1024))],
            "uid 0 in a container without a user namespace",
        ),
        (
            "a hard RLIMIT_NOFILE above the container's",
            vec![
                "--process".into(),
                process("raised", 1000, nofile(1024, 1 << 20)),
            ],
            "above the container's hard limit 1024",
        ),
        (
            "a limit the container does not set",
            vec![
                "--process".into(),
                process(
                    "new",
                    1000,
                    serde_json::json!([{"type": "RLIMIT_MEMLOCK", "soft": 1u64 << 40, "hard": 1u64 << 40}]),
                ),
            ],
            "RLIMIT_MEMLOCK",
        ),
    ];
    for (what, flags, says) in &attacks {
        let mut args: Vec<&str> = vec!["exec"];
        args.extend(flags.iter().map(String::as_str));
        args.push("host-ids");
        if !flags.iter().any(|f| f == "--process") {
            args.extend(write_canary);
        }
        let err = fails(&env.run(&args), 1);
        assert!(
            err.contains(says) && err.contains("refused: exec in host-ids"),
            "{what}: {err}"
        );
        assert!(
            err.contains("[exec]"),
            "{what}: names the policy's rule: {err}"
        );
        assert_eq!(env.exec_calls(), 0, "{what}: crun exec was called");
        assert!(!canary.exists(), "{what}: the process ran");
    }
    // Within the rules: uid 1000, the container's own limit or a lower one.
    let within = process("within", 1000, nofile(512, 1024));
    let out = env.run(&["exec", "--process", &within, "host-ids"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(canary.exists(), "the allowed exec ran");
    assert_eq!(env.exec_calls(), 1);
    ok(&env.run(&["delete", "--force", "host-ids"]));

    // With a user namespace, uid 0 is the container's own root: allowed by the same policy.
    let b = bundle(&config());
    let bundle_dir = b.path().display().to_string();
    let (created, out) = env.run_to_file(&["create", "mapped", "-b", &bundle_dir]);
    assert!(created, "{out}");
    let (started, out) = env.run_to_file(&["start", "mapped"]);
    assert!(started, "start: {out}");
    wait_for("the container to run", Duration::from_secs(15), || {
        state_json(&env.run(&["state", "mapped"]))["status"] == "running"
    });
    let out = env.run(&["exec", "--user", "0", "mapped", "id", "-u"]);
    assert_eq!(text(&out.stdout), "0\n", "{}", text(&out.stderr));
    ok(&env.run(&["delete", "--force", "mapped"]));
}
