//! The node policy, attacked: bundles that reach past their container are refused by
//! `create` and `run` before the first host call, on both back ends, and nothing outside
//! changed (the simulator's whole tree, another container's record, a hook's canary file).
//! A bundle's own allow annotation does not let them through; the node's `--allow` and
//! policy file do; a broken policy file is a usage error (exit 2) that changes nothing.
//!
//! Real binary, real files, the Proxmox simulator, and real crun (through the cgroup wrapper
//! of tests/runtime_crun.rs). Needs root and the tools runtime_support lists.

mod runtime_support;

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use runtime_support::*;

/// Binds the host's `/` and `/etc/pve` into a privileged container with `/dev/mem`, and
/// allows every security finding in its own annotation.
const ATTACK: &str = r#"{
  "ociVersion": "1.0.2",
  "process": {"args": ["/bin/app.sh"], "env": ["PATH=/bin"], "cwd": "/srv"},
  "root": {"path": "rootfs"},
  "hostname": "evil",
  "mounts": [
    {"destination": "/host", "source": "/", "options": ["rbind"]},
    {"destination": "/pve", "source": "/etc/pve", "options": ["rbind"]}
  ],
  "linux": {
    "namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "ipc"}, {"type": "uts"}, {"type": "network"}],
    "devices": [{"path": "/dev/mem", "type": "c", "major": 1, "minor": 1}]
  },
  "annotations": {"org.proxmox-lxcri.lint.allow": "security/*: trust me"}
}
"#;

/// An unprivileged busybox bundle whose prestart hook writes CANARY on the host.
fn hook_config(canary: &Path, annotation: bool) -> String {
    let annotations = if annotation {
        r#", "annotations": {"org.proxmox-lxcri.lint.allow": "security/oci-hooks: trust me"}"#
    } else {
        ""
    };
    CONFIG.trim_end().trim_end_matches('}').to_string()
        + &format!(
            r#", "hooks": {{"prestart": [{{"path": "/bin/sh", "args": ["sh", "-c", "echo pwned > {}"]}}]}}{annotations}}}"#,
            canary.display()
        )
}

/// Every file under `dir` with its content (symlinks by target), for "nothing changed".
fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            let meta = fs::symlink_metadata(&p).expect("lstat");
            let rel = p.strip_prefix(dir).unwrap_or(&p).to_path_buf();
            if meta.is_dir() {
                out.insert(rel.join(""), Vec::new());
                stack.push(p);
            } else if meta.file_type().is_symlink() {
                out.insert(
                    rel,
                    fs::read_link(&p)
                        .map(|t| t.into_os_string().into_encoded_bytes())
                        .unwrap_or_default(),
                );
            } else {
                out.insert(rel, fs::read(&p).unwrap_or_default());
            }
        }
    }
    out
}

/// A simulated node with crun behind runtime_support's cgroup wrapper (crun 1.8.1 refuses
/// Debian 12's hybrid cgroup layout); crun containers left over are deleted on drop.
struct Env(CrunNode);

impl std::ops::Deref for Env {
    type Target = CrunNode;
    fn deref(&self) -> &CrunNode {
        &self.0
    }
}

impl Env {
    fn new() -> Env {
        require(SIM_TOOLS);
        ensure_subids();
        Env(CrunNode::new())
    }

    /// `proxmox-lxcri --runtime R [--crun wrapper] args`, stdio captured (stdin closed).
    fn run(&self, runtime: &str, args: &[&str]) -> Output {
        let mut c = self.node.lxcri();
        c.args(["--runtime", runtime]);
        if runtime == "crun" {
            c.arg("--crun").arg(&self.wrapper);
        }
        c.args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run proxmox-lxcri")
    }

    /// Like [`Env::run`] for a verb that leaves a crun container process behind: it
    /// inherits stdio, so a pipe would never close; output goes through a file.
    fn run_detached(&self, cmd: &mut std::process::Command) -> (bool, String) {
        let out = self.node.dir.path().join("detached.out");
        let file = fs::File::create(&out).expect("output file");
        let err = file.try_clone().expect("dup");
        let status = cmd
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

    fn crun(&self, args: &[&str]) -> std::process::Command {
        let mut c = self.node.lxcri();
        c.args(["--runtime", "crun", "--crun"])
            .arg(&self.wrapper)
            .args(args);
        c
    }

    /// A legitimate container made first, so an attack has something to damage.
    fn other_container(&self) -> tempfile::TempDir {
        let b = bundle(CONFIG);
        ok(&self.run(
            "pct",
            &["create", "other", "-b", &b.path().display().to_string()],
        ));
        assert_eq!(self.node.configs(), ["100.conf"]);
        b
    }

    /// The simulated node and the state store, byte for byte.
    fn snapshot(&self) -> (BTreeMap<PathBuf, Vec<u8>>, BTreeMap<PathBuf, Vec<u8>>) {
        (tree(&self.node.sim()), tree(&self.node.state_dir()))
    }
}

fn p(dir: &tempfile::TempDir) -> String {
    dir.path().display().to_string()
}

#[test]
fn a_bundle_binding_the_host_is_refused_on_both_back_ends_and_changes_nothing() {
    let env = Env::new();
    let _other = env.other_container();
    let attack = bundle(ATTACK);
    let log = env.node.dir.path().join("engine.log");
    let before = env.snapshot();
    for runtime in ["pct", "crun"] {
        for verb in ["create", "run"] {
            let out = env.run(
                runtime,
                &[
                    "--log",
                    &log.display().to_string(),
                    verb,
                    "evil",
                    "-b",
                    &p(&attack),
                ],
            );
            let err = fails(&out, 1);
            let config = format!("{}/config.json", p(&attack));
            // Each refusing finding: code, pointer and file:line:column of the value.
            for (code, pointer, line) in [
                ("security/sensitive-host-mount", "/mounts/0/source", 7),
                ("security/proxmox-state-mount", "/mounts/1/source", 8),
                ("security/dangerous-device", "/linux/devices/0", 12),
            ] {
                let expected = format!(
                    "proxmox-lxcri: refused: warning [{code}] at {pointer} ({config}:{line}:"
                );
                assert!(
                    err.contains(&expected),
                    "{runtime} {verb}: no `{expected}` in:\n{err}"
                );
            }
            assert!(
                err.contains(&format!(
                    "is refused by the built-in policy for the {runtime} back end: 3 finding(s)"
                )),
                "{err}"
            );
            assert!(err.contains("annotation allows 3 of these findings, but annotations never lower the node's policy"), "{err}");
            assert_eq!(
                env.snapshot(),
                before,
                "{runtime} {verb} changed the node or the state store"
            );
            assert_eq!(
                env.node.configs(),
                ["100.conf"],
                "no new container in the simulator's /etc/pve"
            );
            assert_eq!(
                env.node.templates(),
                Vec::<String>::new(),
                "nothing packed into the template storage"
            );
            assert_eq!(
                env.node.records(),
                ["other"],
                "no state record for the refused container"
            );
            assert_eq!(
                env.crun_dirs(),
                Vec::<String>::new(),
                "crun was never called"
            );
        }
    }
    let logged = fs::read_to_string(&log).unwrap_or_default();
    assert_eq!(
        logged
            .matches("[security/proxmox-state-mount] at /mounts/1/source")
            .count(),
        4,
        "{logged}"
    );
    assert!(logged.contains("level=error"), "{logged}");
}

#[test]
fn hooks_are_refused_on_crun_and_never_run() {
    let env = Env::new();
    let canary = env.node.dir.path().join("canary");
    fs::write(&canary, "untouched\n").expect("canary");
    for annotation in [false, true] {
        let b = bundle(&hook_config(&canary, annotation));
        for verb in ["create", "run"] {
            let err = fails(&env.run("crun", &[verb, "hooked", "-b", &p(&b)]), 1);
            assert!(
                err.contains("refused: warning [security/oci-hooks] at /hooks/prestart/0 ("),
                "{err}"
            );
            assert!(err.contains("for the crun back end: 1 finding(s)"), "{err}");
            assert_eq!(
                err.contains("annotations never lower the node's policy"),
                annotation,
                "{err}"
            );
            assert_eq!(
                fs::read_to_string(&canary).unwrap_or_default(),
                "untouched\n",
                "the hook ran"
            );
            assert_eq!(env.node.records(), Vec::<String>::new());
            assert_eq!(env.crun_dirs(), Vec::<String>::new());
        }
    }
}

#[test]
fn the_node_lets_it_through_with_allow_or_its_policy_file() {
    let env = Env::new();
    let canary = env.node.dir.path().join("canary");
    let b = bundle(&hook_config(&canary, false));
    // --allow, for this run only: the hook runs (crun runs prestart hooks at create).
    let created = |r: (bool, String)| assert!(r.0, "create failed: {}", r.1);
    created(env.run_detached(&mut env.crun(&[
        "--allow",
        "security/oci-hooks",
        "create",
        "one",
        "-b",
        &p(&b),
    ])));
    assert_eq!(
        fs::read_to_string(&canary).unwrap_or_default(),
        "pwned\n",
        "the allowed hook ran"
    );
    ok(&env.run("crun", &["delete", "--force", "one"]));
    fs::remove_file(&canary).expect("rm canary");
    // The next run has no --allow: refused again.
    fails(&env.run("crun", &["create", "two", "-b", &p(&b)]), 1);
    assert!(!canary.exists());

    // A policy file, by --policy and by PROXMOX_LXCRI_POLICY.
    let policy = env.node.dir.path().join("policy.toml");
    fs::write(
        &policy,
        "version = 1\n[crun]\nallow = [\"security/oci-hooks\"]\n",
    )
    .expect("policy");
    created(env.run_detached(&mut env.crun(&[
        "--policy",
        &policy.display().to_string(),
        "create",
        "three",
        "-b",
        &p(&b),
    ])));
    assert_eq!(fs::read_to_string(&canary).unwrap_or_default(), "pwned\n");
    ok(&env.run("crun", &["delete", "--force", "three"]));
    fs::remove_file(&canary).expect("rm canary");
    created(
        env.run_detached(
            env.crun(&["create", "four", "-b", &p(&b)])
                .env("PROXMOX_LXCRI_POLICY", &policy),
        ),
    );
    assert!(canary.exists());
    ok(&env.run("crun", &["delete", "--force", "four"]));

    // On pct, an allowed Proxmox-state bind becomes the mount point it asked for. (LXC's
    // /var/lib/lxc, which exists here: apply checks that a bind source is a directory on the
    // node, and this machine has no /etc/pve.)
    let pve = bundle(&CONFIG.replace(r#""hostname": "app","#, r#""hostname": "app", "mounts": [{"destination": "/pve", "source": "/var/lib/lxc", "options": ["bind", "ro"]}],"#));
    let err = fails(&env.run("pct", &["create", "pve", "-b", &p(&pve)]), 1);
    assert!(
        err.contains("[security/proxmox-state-mount] at /mounts/0/source"),
        "{err}"
    );
    assert_eq!(env.node.configs(), Vec::<String>::new());
    ok(&env.run(
        "pct",
        &["--allow", "security/*", "create", "pve", "-b", &p(&pve)],
    ));
    let conf =
        fs::read_to_string(env.node.host("/etc/pve/nodes/pve/lxc/100.conf")).unwrap_or_default();
    assert!(conf.contains("mp0: /var/lib/lxc,mp=/pve"), "{conf}");

    // A policy file can also refuse more than the defaults.
    fs::write(&policy, "version = 1\nrefuse = [\"security/privileged\"]\n").expect("policy");
    let privileged = bundle(&CONFIG.replace(r#"{"type": "user"}, "#, ""));
    let err = fails(
        &env.run(
            "pct",
            &[
                "--policy",
                &policy.display().to_string(),
                "create",
                "root",
                "-b",
                &p(&privileged),
            ],
        ),
        1,
    );
    assert!(
        err.contains("[security/privileged]")
            && err.contains("refused by the policy file's `security/privileged`"),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "is refused by {} for the pct back end",
            policy.display()
        )),
        "{err}"
    );
    assert_eq!(env.node.configs(), ["100.conf"]);
}

#[test]
fn a_broken_policy_file_is_a_usage_error_and_changes_nothing() {
    let env = Env::new();
    let _other = env.other_container();
    let b = bundle(CONFIG);
    let dir = env.node.dir.path().join("policies");
    fs::create_dir(&dir).expect("mkdir");
    let before = env.snapshot();
    let cases: &[(&str, &str, u32, &str)] = &[
        (
            "unknown-key",
            "version = 1\nalow = [\"pve/*\"]\n",
            0o644,
            "line 2, column 1: unknown field `alow`",
        ),
        (
            "bad-code",
            "version = 1\nallow = [\"security/privilged\"]\n",
            0o644,
            "line 2, column 10: `security/privilged` is not a rule code",
        ),
        (
            "section",
            "version = 1\n[lxc]\nallow = []\n",
            0o644,
            "unknown field `lxc`",
        ),
        (
            "version",
            "version = 7\n",
            0o644,
            "policy format version 7 is not supported",
        ),
        (
            "no-version",
            "allow = []\n",
            0o644,
            "missing field `version`",
        ),
        ("syntax", "version = 1\nallow = [\n", 0o644, "line "),
        (
            "severity",
            "version = 1\nrefuse-severity = \"never\"\n",
            0o644,
            "refuse-severity is `never`",
        ),
        (
            "writable",
            "version = 1\nallow = [\"security/*\"]\n",
            0o666,
            "writable by its group or others",
        ),
    ];
    for (name, text, mode, expected) in cases {
        let file = dir.join(format!("{name}.toml"));
        fs::write(&file, text).expect("policy");
        fs::set_permissions(&file, fs::Permissions::from_mode(*mode)).expect("chmod");
        for runtime in ["pct", "crun"] {
            let err = fails(
                &env.run(
                    runtime,
                    &[
                        "--policy",
                        &file.display().to_string(),
                        "run",
                        "web",
                        "-b",
                        &p(&b),
                    ],
                ),
                2,
            );
            assert!(
                err.contains(&format!("policy {}: ", file.display())) && err.contains(expected),
                "{name}: {err}"
            );
            assert_eq!(
                env.snapshot(),
                before,
                "{name} on {runtime} changed something"
            );
        }
    }
    let missing = dir.join("missing.toml");
    let err = fails(
        &env.run(
            "pct",
            &[
                "--policy",
                &missing.display().to_string(),
                "create",
                "web",
                "-b",
                &p(&b),
            ],
        ),
        2,
    );
    assert!(err.contains("No such file"), "{err}");
    let err = fails(
        &env.run(
            "pct",
            &[
                "--policy",
                &dir.display().to_string(),
                "create",
                "web",
                "-b",
                &p(&b),
            ],
        ),
        2,
    );
    assert!(err.contains("not a regular file"), "{err}");
    // A policy in a directory others can write could be swapped under us.
    let open = env.node.dir.path().join("open");
    fs::create_dir(&open).expect("mkdir");
    fs::set_permissions(&open, fs::Permissions::from_mode(0o777)).expect("chmod");
    fs::write(open.join("policy.toml"), "version = 1\n").expect("policy");
    let err = fails(
        &env.run(
            "pct",
            &[
                "--policy",
                &open.join("policy.toml").display().to_string(),
                "create",
                "web",
                "-b",
                &p(&b),
            ],
        ),
        2,
    );
    assert!(
        err.contains("its directory") && err.contains("writable by its group or others"),
        "{err}"
    );
    let err = fails(
        &env.run(
            "pct",
            &["--allow", "security/nope", "create", "web", "-b", &p(&b)],
        ),
        2,
    );
    assert!(
        err.contains("--allow: `security/nope` is not a rule code"),
        "{err}"
    );
    assert_eq!(env.snapshot(), before);
}

#[test]
fn lint_counts_annotation_allows_and_can_ignore_them() {
    let attack = bundle(ATTACK);
    let lint = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_proxmox-lxcri"))
            .arg("lint")
            .args(args)
            .arg(attack.path())
            .output()
            .expect("lint")
    };
    let out = lint(&["--deny", "warning"]);
    let summary = text(&out.stdout);
    assert!(
        summary.contains("suppressed (") && summary.contains("by bundle annotations)"),
        "{summary}"
    );
    assert!(
        !summary.contains("[security/proxmox-state-mount]")
            && !summary.contains("security/proxmox-state-mount\n"),
        "{summary}"
    );
    let out = lint(&[
        "--deny",
        "warning",
        "--no-annotation-allows",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let lines = text(&out.stdout);
    for code in [
        "security/sensitive-host-mount",
        "security/proxmox-state-mount",
        "security/dangerous-device",
        "security/privileged",
    ] {
        assert!(
            lines.contains(&format!("\"code\":\"{code}\"")),
            "{code}: {lines}"
        );
    }
    assert!(
        text(&out.stderr).contains("; 0 suppressed"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_host_symlink_to_a_protected_path_is_judged_by_its_target() {
    let env = Env::new();
    // The store's own directories exist from the first verb on (`list` makes them).
    ok(&env.run("pct", &["list"]));
    // Any user who can write some directory on the node can plant this link.
    let planted = env.node.dir.path().join("innocent");
    std::os::unix::fs::symlink("/usr/lib", &planted).expect("symlink");
    let via_parent = env.node.dir.path().join("d");
    std::os::unix::fs::symlink("/usr", &via_parent).expect("symlink");
    for source in [planted.clone(), via_parent.join("lib")] {
        let config = CONFIG.replace(
            r#""hostname": "app","#,
            &format!(r#""hostname": "app", "mounts": [{{"destination": "/data", "source": "{}", "options": ["bind", "ro"]}}],"#, source.display()),
        );
        let b = bundle(&config);
        let before = env.snapshot();
        for runtime in ["pct", "crun"] {
            let err = fails(&env.run(runtime, &["create", "web", "-b", &p(&b)]), 1);
            let expected = format!(
                "[security/host-system-mount] at /mounts/0/source ({}/config.json:",
                p(&b)
            );
            assert!(
                err.contains(&expected) && err.contains("resolves to `/usr/lib` on this node"),
                "{runtime}: {err}"
            );
            assert_eq!(env.snapshot(), before);
        }
    }
}

/// An overlay whose layers are host directories reaches them as surely as a bind: the
/// container would see the node's /etc/pve as a read-only layer, and write into /root
/// through the writable one. Refused on both back ends, before anything is made.
#[test]
fn an_overlay_built_from_host_directories_is_refused_and_changes_nothing() {
    let env = Env::new();
    let _other = env.other_container();
    let overlay = CONFIG.replace(
        r#""hostname": "app","#,
        r#""hostname": "app", "mounts": [{"destination": "/srv/o", "type": "overlay", "source": "overlay", "options": ["lowerdir=/srv/l:/etc/pve", "upperdir=/root", "workdir=/srv/w"]}],"#,
    );
    let b = bundle(&overlay);
    let before = env.snapshot();
    for runtime in ["pct", "crun"] {
        let err = fails(&env.run(runtime, &["create", "ov", "-b", &p(&b)]), 1);
        for (code, pointer) in [
            ("security/proxmox-state-mount", "/mounts/0/options/0"),
            ("security/sensitive-host-mount", "/mounts/0/options/1"),
        ] {
            assert!(
                err.contains(&format!("[{code}] at {pointer}")),
                "{runtime}: {err}"
            );
        }
        assert_eq!(
            env.snapshot(),
            before,
            "{runtime}: the node or the state store changed"
        );
        assert_eq!(
            env.node.configs(),
            ["100.conf"],
            "{runtime}: the other CT, and no other"
        );
        assert_eq!(
            env.crun_dirs(),
            Vec::<String>::new(),
            "{runtime}: no crun container"
        );
    }
}

/// A bind of the bundle's own file is the bundle's, not the host's: with the bundle under
/// `/run` (where podman's per-container files are), a bind of a regular file in it is created;
/// one that only *looks* inside the bundle (a symlink in it, a symlinked directory on the way,
/// `..`, a hard link to a file outside) is still judged by the node policy and refused on both
/// back ends, and nothing outside changed.
#[test]
fn a_bind_that_only_looks_inside_the_bundle_is_still_judged() {
    let env = Env::new();
    ok(&env.run("pct", &["list"]));
    let run = tempfile::Builder::new()
        .prefix("plxc-own-")
        .tempdir_in("/run")
        .expect("a directory under /run");
    let made = bundle(CONFIG);
    let b = run.path().join("bundle");
    let cp = std::process::Command::new("cp")
        .arg("-a")
        .arg(made.path())
        .arg(&b)
        .output()
        .expect("cp");
    assert!(cp.status.success(), "cp: {}", text(&cp.stderr));
    fs::write(b.join("own.txt"), "the bundle's\n").expect("own.txt");
    let outside = run.path().join("outside.txt");
    fs::write(&outside, "outside\n").expect("outside.txt");
    fs::hard_link(&outside, b.join("hard.txt")).expect("hard link");
    std::os::unix::fs::symlink("/usr/lib", b.join("link")).expect("symlink");
    std::os::unix::fs::symlink("/usr", b.join("d")).expect("symlink");
    let bp = b.display().to_string();
    let with_bind = |source: &str| {
        let config = CONFIG.replace(
            r#""hostname": "app","#,
            &format!(r#""hostname": "app", "mounts": [{{"destination": "/srv/x", "source": "{source}", "options": ["bind", "ro"]}}],"#),
        );
        fs::write(b.join("config.json"), config).expect("config.json");
    };

    // The bundle's own regular file: not the host's, so not judged; the container is made.
    with_bind(&format!("{bp}/own.txt"));
    let (created, out) = env.run_detached(&mut env.crun(&["create", "own", "-b", &bp]));
    assert!(created, "{out}");
    ok(&env.run("crun", &["delete", "--force", "own"]));

    for (source, code) in [
        // In `/run` by its text, and not the bundle's own (a symlink on the way): still judged.
        (format!("{bp}/link"), "security/host-socket"),
        (format!("{bp}/d/lib"), "security/host-socket"),
        // `..`: judged by where it leads.
        (
            format!("{bp}/../../../usr/lib"),
            "security/host-system-mount",
        ),
        (
            format!("{bp}/rootfs/../../../../etc/pve"),
            "security/proxmox-state-mount",
        ),
        // A second name of a file outside the bundle.
        (format!("{bp}/hard.txt"), "security/host-socket"),
    ] {
        with_bind(&source);
        let before = env.snapshot();
        for runtime in ["pct", "crun"] {
            let err = fails(&env.run(runtime, &["create", "web", "-b", &bp]), 1);
            assert!(
                err.contains(&format!("[{code}] at /mounts/0/source")),
                "{runtime}, {source}: {err}"
            );
            assert_eq!(
                env.snapshot(),
                before,
                "{runtime}, {source}: the node changed"
            );
            assert_eq!(
                env.crun_dirs(),
                Vec::<String>::new(),
                "{runtime}: no crun container"
            );
            assert_eq!(
                fs::read_to_string(&outside).unwrap_or_default(),
                "outside\n",
                "the file outside the bundle"
            );
        }
    }
}
