//! `proxmox-lxcri` as an OCI runtime on the Proxmox simulator with real LXC: a busybox bundle
//! goes create → created → start → running (a live host pid) → kill TERM → stopped → delete,
//! and the container's output, environment, working directory and uid are checked.

mod runtime_support;

use std::path::Path;
use std::time::Duration;

use runtime_support::*;

fn setup() -> (Node, tempfile::TempDir) {
    require(SIM_TOOLS);
    ensure_subids();
    (Node::new(), bundle(CONFIG))
}

#[test]
fn lifecycle_on_proxmox() {
    let (node, b) = setup();
    let bundle = b.path().to_str().unwrap();

    let out = node.run(&["create", "web", "--bundle", bundle]);
    assert_eq!(ok(&out), "", "create prints nothing on stdout");
    assert_eq!(node.configs(), ["100.conf"]);
    assert_eq!(
        node.templates(),
        Vec::<String>::new(),
        "the intermediate template is removed"
    );
    let conf = std::fs::read_to_string(node.host("/etc/pve/nodes/pve/lxc/100.conf")).unwrap();
    assert!(
        conf.contains("lxc.init.uid: 1000\n") && conf.contains("lxc.signal.halt: SIGTERM\n"),
        "{conf}"
    );

    let s = state_json(&node.run(&["state", "web"]));
    assert_eq!(s["status"], "created");
    assert_eq!(s["id"], "web");
    assert_eq!(s["bundle"], bundle);
    assert!(s.get("pid").is_none(), "nothing runs before start: {s}");
    assert_eq!(s["annotations"]["org.proxmox-lxcri.vmid"], "100");

    ok(&node.run(&["start", "web"]));
    let s = state_json(&node.run(&["state", "web"]));
    assert_eq!(s["status"], "running");
    let pid = s["pid"].as_i64().expect("a running container has a pid");
    assert!(
        Path::new(&format!("/proc/{pid}")).exists(),
        "pid {pid} is alive on the host"
    );
    // Started as `pve-container@.service` starts it: the LXC monitor (`lxc-start -F`) is the
    // service manager's child, in a session of its own, not a descendant of whoever ran
    // `start` (so no engine's subreaper could adopt it).
    let monitor = proc_field(pid, "PPid");
    assert_eq!(
        proc_field(&monitor, "PPid"),
        node.systemd_pid().unwrap().to_string(),
        "the monitor {monitor} of init {pid} is the service manager's child"
    );
    let session = |p: &str| {
        std::fs::read_to_string(format!("/proc/{p}/stat"))
            .ok()
            .and_then(|st| st.rsplit(')').next().map(str::to_owned))
            .and_then(|rest| rest.split_whitespace().nth(3).map(str::to_owned))
            .unwrap_or_default()
    };
    assert_eq!(
        session(&monitor),
        monitor,
        "lxc-start leads its own session"
    );
    let nspid = proc_field(pid, "NSpid");
    assert!(
        nspid.ends_with("\t1") || nspid.ends_with(" 1"),
        "pid {pid} is the container's init (NSpid {nspid:?})"
    );
    assert!(
        proc_field(pid, "Uid").starts_with("101000"),
        "init runs as uid 1000, shifted by 100000"
    );

    wait_for("the entrypoint's output", Duration::from_secs(15), || {
        node.console("100").contains("ready")
    });
    let console = node.console("100");
    assert!(
        console.contains("uid=1000 gid=1000 cwd=/srv GREETING=hello world\n"),
        "{console}"
    );

    let err = fails(&node.run(&["start", "web"]), 1);
    assert!(
        err.contains("cannot start container web: it is running, not created"),
        "{err}"
    );
    let err = fails(&node.run(&["delete", "web"]), 1);
    assert!(
        err.contains("cannot delete container web that is not stopped: running"),
        "{err}"
    );

    let listed = ok(&node.run(&["list", "--format", "json"]));
    let rows: serde_json::Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(rows[0]["id"], "web");
    assert_eq!(rows[0]["status"], "running");
    assert_eq!(rows[0]["pid"], pid);
    assert_eq!(rows[0]["vmid"], 100);

    ok(&node.run(&["kill", "web", "TERM"]));
    wait_for("the container to stop", Duration::from_secs(15), || {
        state_json(&node.run(&["state", "web"]))["status"] == "stopped"
    });
    assert!(
        node.console("100").contains("got TERM"),
        "the init got SIGTERM from the host"
    );
    let s = state_json(&node.run(&["state", "web"]));
    assert!(s.get("pid").is_none(), "{s}");
    let err = fails(&node.run(&["kill", "web", "KILL"]), 1);
    assert!(err.contains("container not running"), "{err}");

    ok(&node.run(&["delete", "web"]));
    assert_eq!(node.configs(), Vec::<String>::new());
    assert_eq!(node.records(), Vec::<String>::new());
    let err = fails(&node.run(&["state", "web"]), 1);
    assert!(err.contains("container web does not exist"), "{err}");
}

#[test]
fn forced_delete_and_stop_of_a_running_container() {
    let (node, b) = setup();
    let bundle = b.path().to_str().unwrap();
    // Global flags after the verb work too, as runc's do.
    ok(&node.run(&["run", "-d", "a", "--bundle", bundle]));
    ok(&node.run(&["run", "-d", "b", "--bundle", bundle]));
    assert_eq!(state_json(&node.run(&["state", "a"]))["status"], "running");
    ok(&node.run(&["stop", "a", "--timeout", "10"]));
    assert_eq!(state_json(&node.run(&["state", "a"]))["status"], "stopped");
    assert!(
        node.console("100").contains("got TERM"),
        "stop sends the bundle's stop signal (lxc.signal.halt)"
    );
    let pid = state_json(&node.run(&["state", "b"]))["pid"]
        .as_i64()
        .unwrap();
    ok(&node.run(&["delete", "--force", "b"]));
    assert!(!Path::new(&format!("/proc/{pid}")).exists() || proc_field(pid, "NSpid").is_empty());
    ok(&node.run(&["delete", "a"]));
    assert_eq!(node.configs(), Vec::<String>::new());
    assert_eq!(node.records(), Vec::<String>::new());
}

#[test]
fn refusals_and_engine_facing_errors() {
    let (node, b) = setup();
    let bundle = b.path().to_str().unwrap();
    let log = node.dir.path().join("log.json");
    let log_s = log.to_str().unwrap();

    // Usage errors exit 2.
    let err = fails(&node.run(&["create", "../x", "--bundle", bundle]), 2);
    assert!(
        err.contains("must start with an ASCII letter or digit"),
        "{err}"
    );
    let err = fails(
        &node.run(&["create", "c", "--bundle", bundle, "--preserve-fds", "1"]),
        2,
    );
    assert!(err.contains("--preserve-fds needs --runtime crun"), "{err}");
    fails(&node.run(&["kill", "c", "NOSUCHSIG"]), 2);
    fails(&node.run(&["frobnicate"]), 2);

    // A bundle the translator refuses: exit 1, the finding on stderr and in the JSON log.
    let bad = bundle_with(
        r#"{"ociVersion": "1.0.2", "root": {"path": "rootfs"}, "process": {"cwd": "relative", "args": ["/bin/sh"]}}"#,
    );
    let out = node
        .lxcri()
        .args([
            "--log",
            log_s,
            "--log-format",
            "json",
            "create",
            "c",
            "--bundle",
        ])
        .arg(bad.path())
        .output()
        .unwrap();
    let err = fails(&out, 1);
    assert!(
        err.contains("proxmox-lxcri: error:") && err.contains("/process/cwd"),
        "{err}"
    );
    let last = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .to_owned();
    let entry: serde_json::Value = serde_json::from_str(&last).unwrap();
    assert_eq!(entry["level"], "error");
    assert!(
        entry["msg"].as_str().unwrap().contains("is refused"),
        "{entry}"
    );
    assert!(entry["time"].as_str().unwrap().ends_with('Z'));
    assert_eq!(node.records(), Vec::<String>::new());
    assert_eq!(node.configs(), Vec::<String>::new());

    // Unknown containers.
    for verb in [
        &["start", "nope"][..],
        &["state", "nope"],
        &["kill", "nope"],
        &["delete", "nope"],
    ] {
        let err = fails(&node.run(verb), 1);
        assert!(
            err.contains("container nope does not exist"),
            "{verb:?}: {err}"
        );
    }

    // The same id twice.
    ok(&node.run(&["create", "dup", "--bundle", bundle]));
    let err = fails(&node.run(&["create", "dup", "--bundle", bundle]), 1);
    assert!(err.contains("container dup already exists"), "{err}");
    ok(&node.run(&["delete", "dup"]));
}

fn bundle_with(config: &str) -> tempfile::TempDir {
    let b = bundle(CONFIG);
    std::fs::write(b.path().join("config.json"), config).unwrap();
    b
}

#[test]
fn a_failing_pct_create_names_the_step_and_leaves_nothing() {
    let (node, _) = setup();
    // A storage the node does not have: `pct create` fails with Proxmox's message.
    let b = bundle(CONFIG);
    let target = node.dir.path().join("target.json");
    std::fs::write(
        &target,
        r#"{"rootfs": {"mode": "volume", "storage": "nosuch", "size-gib": 1}}"#,
    )
    .unwrap();
    let out = node
        .lxcri()
        .args(["create", "c", "--target"])
        .arg(&target)
        .arg("--bundle")
        .arg(b.path())
        .output()
        .unwrap();
    let err = fails(&out, 1);
    assert!(
        err.contains("step 3 (pct-create) failed: creating container 100 failed (exit code 255):"),
        "{err}"
    );
    assert!(
        err.contains("nosuch"),
        "the host's stderr is in the message: {err}"
    );
    assert_eq!(node.templates(), Vec::<String>::new());
    assert_eq!(node.configs(), Vec::<String>::new());
    assert_eq!(node.records(), Vec::<String>::new());
}

#[test]
fn spec_writes_a_bundle_config_that_creates() {
    let (node, b) = setup();
    std::fs::remove_file(b.path().join("config.json")).unwrap();
    ok(&node
        .lxcri()
        .args(["spec", "--bundle"])
        .arg(b.path())
        .output()
        .unwrap());
    let err = fails(
        &node
            .lxcri()
            .args(["spec", "--bundle"])
            .arg(b.path())
            .output()
            .unwrap(),
        1,
    );
    assert!(err.contains("exists; remove it first"), "{err}");
    let spec: serde_json::Value =
        serde_json::from_slice(&std::fs::read(b.path().join("config.json")).unwrap()).unwrap();
    assert_eq!(spec["process"]["args"][0], "sh");
    ok(&node
        .lxcri()
        .args(["create", "s", "--bundle"])
        .arg(b.path())
        .output()
        .unwrap());
    assert_eq!(state_json(&node.run(&["state", "s"]))["status"], "created");
    ok(&node.run(&["delete", "s"]));
}

#[test]
fn apply_dry_run_prints_every_call_and_changes_nothing() {
    let (node, b) = setup();
    let plan = node.dir.path().join("plan.json");
    let out = node
        .lxcri()
        .args(["convert", "--to", "plan", "-o"])
        .arg(&plan)
        .arg(b.path())
        .output()
        .unwrap();
    ok(&out);
    let out = node
        .lxcri()
        .args(["apply", "--dry-run", "--bundle"])
        .arg(b.path())
        .arg(&plan)
        .output()
        .unwrap();
    let printed = ok(&out);
    let rootfs = b.path().join("rootfs");
    assert!(
        printed.contains(
            "run: pvesh get /cluster/nextid --output-format json  [executed: read-only]\n"
        ),
        "{printed}"
    );
    assert!(
        printed.contains(&format!("pack-rootfs: {} -> ", rootfs.display())),
        "{printed}"
    );
    assert!(
        printed.contains("run: pct create 100 local:vztmpl/proxmox-lxcri-"),
        "{printed}"
    );
    assert!(
        printed.contains("lock: ") && printed.contains("/run/lock/lxc/pve-config-100.lock"),
        "{printed}"
    );
    assert!(printed.contains("  | lxc.init.uid: 1000\n"), "{printed}");
    assert!(
        printed.contains("record-state: container plan-"),
        "{printed}"
    );
    assert_eq!(node.configs(), Vec::<String>::new());
    assert_eq!(node.templates(), Vec::<String>::new());
    assert_eq!(node.records(), Vec::<String>::new());

    // For real: the same plan creates the container and records it under --id.
    let out = node
        .lxcri()
        .args(["apply", "--id", "planned", "--bundle"])
        .arg(b.path())
        .arg(&plan)
        .output()
        .unwrap();
    let result: serde_json::Value = serde_json::from_str(&ok(&out)).unwrap();
    assert_eq!(
        result,
        serde_json::json!({"id": "planned", "vmid": 100, "node": "pve"})
    );
    assert_eq!(
        state_json(&node.run(&["state", "planned"]))["status"],
        "created"
    );
    ok(&node.run(&["delete", "planned"]));
}

/// A bind of a file: Proxmox accepts it as `mpN` and then refuses to start (the prestart hook
/// wants a directory), so `create` looks at the node and binds it as an `lxc.mount.entry`
/// with `create=file`; a directory stays an `mpN`. The simulator models the refusal, so the
/// start below is the check.
#[test]
fn a_file_bind_is_an_entry_and_the_container_starts() {
    let (node, _) = setup();
    let host = tempfile::tempdir().unwrap();
    let file = host.path().join("app.conf");
    std::fs::write(&file, "setting=from-the-host\n").unwrap();
    let data = host.path().join("data");
    std::fs::create_dir(&data).unwrap();
    // Reachable by the container's root (uid 100000 on the host).
    for p in [host.path(), data.as_path()] {
        std::fs::set_permissions(p, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    }
    let config = CONFIG
        .replace(r#""args": ["/bin/app.sh"]"#, r#""args": ["/bin/sh", "-c", "cat /srv/app.conf; test -d /data && echo data-is-a-dir; echo ready; exec sleep 60"]"#)
        .replace(
            r#""hostname": "app","#,
            &format!(
                r#""hostname": "app", "mounts": [{{"destination": "/srv/app.conf", "type": "bind", "source": "{}", "options": ["bind", "ro"]}}, {{"destination": "/data", "type": "bind", "source": "{}", "options": ["bind"]}}],"#,
                file.display(),
                data.display()
            ),
        );
    let b = bundle_with(&config);
    ok(&node
        .lxcri()
        .args(["create", "f", "--bundle"])
        .arg(b.path())
        .output()
        .unwrap());
    let conf = std::fs::read_to_string(node.host("/etc/pve/nodes/pve/lxc/100.conf")).unwrap();
    let entry = format!(
        "lxc.mount.entry: {} srv/app.conf none bind,ro,create=file 0 0\n",
        file.display()
    );
    assert!(conf.contains(&entry), "{conf}");
    assert!(
        conf.contains(&format!("mp0: {},mp=/data\n", data.display())),
        "{conf}"
    );
    ok(&node.run(&["start", "f"]));
    wait_for("the entrypoint's output", Duration::from_secs(15), || {
        node.console("100").contains("ready")
    });
    let console = node.console("100");
    assert!(
        console.contains("setting=from-the-host\ndata-is-a-dir\n"),
        "{console}"
    );
    ok(&node.run(&["kill", "f", "KILL"]));
    wait_for("the container to stop", Duration::from_secs(15), || {
        state_json(&node.run(&["state", "f"]))["status"] == "stopped"
    });
    ok(&node.run(&["delete", "f"]));
}
