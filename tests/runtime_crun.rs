//! `proxmox-lxcri --runtime crun` as an OCI runtime on real crun: a busybox bundle goes
//! create → created (crun's init waits, a live host pid) → start → running → kill TERM →
//! stopped → delete, and the container's output, environment, working directory and uid are
//! checked. Engines call runtimes with their own pipes as stdio; the container inherits them,
//! so here stdout goes to a file (a pipe would stay open for as long as the container runs).
//!
//! crun 1.8.1 refuses the hybrid cgroup layout of Debian 12 hosts; `--crun` points at a
//! wrapper that hides the cgroup2 mount in a private mount namespace (test-environment.md,
//! docs/runtime.md). Needs root, `crun`, `busybox-static` and `unshare` (util-linux).

mod runtime_support;

use std::fs::File;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use runtime_support::*;

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

#[test]
fn lifecycle_on_crun() {
    let c = CrunNode::new();
    let b = bundle(&crun_config());
    let bundle = b.path().to_str().unwrap();
    let out = c.node.dir.path().join("web.out");
    let pid_file = c.node.dir.path().join("web.pid");

    let status = c.run_to(
        &[
            "create",
            "web",
            "--bundle",
            bundle,
            "--pid-file",
            pid_file.to_str().unwrap(),
        ],
        &out,
    );
    assert!(status.success(), "create failed: {}", read(&out));
    assert_eq!(c.crun_dirs(), ["web"], "crun's state is inside the store");
    assert_eq!(c.node.records(), ["web"]);

    // created: crun's init exists and waits for start; nothing of the entrypoint ran yet.
    let s = state_json(&c.run(&["state", "web"]));
    assert_eq!(s["status"], "created");
    assert_eq!(s["id"], "web");
    assert_eq!(s["bundle"], bundle);
    let pid = s["pid"]
        .as_i64()
        .expect("a created crun container has its init's pid");
    assert_eq!(
        read(&pid_file).trim(),
        pid.to_string(),
        "--pid-file has the same pid"
    );
    assert!(
        Path::new(&format!("/proc/{pid}")).exists(),
        "pid {pid} is alive on the host"
    );
    let nspid = proc_field(pid, "NSpid");
    assert!(
        nspid.ends_with("\t1") || nspid.ends_with(" 1"),
        "pid {pid} is the container's init (NSpid {nspid:?})"
    );
    assert!(
        !read(&out).contains("ready"),
        "nothing runs before start: {}",
        read(&out)
    );

    let err = fails(&c.run(&["create", "web", "--bundle", bundle]), 1);
    assert!(err.contains("container web already exists"), "{err}");

    assert!(
        c.run_to(&["start", "web"], &out).success(),
        "start failed: {}",
        read(&out)
    );
    let s = state_json(&c.run(&["state", "web"]));
    assert_eq!(s["status"], "running");
    assert_eq!(
        s["pid"].as_i64(),
        Some(pid),
        "the init that waited is the one that runs"
    );
    // The bundle asks for uid 1000 in a user namespace with Proxmox's map (0 → 100000).
    wait_for("the entrypoint's output", Duration::from_secs(15), || {
        read(&out).contains("ready")
    });
    assert_eq!(
        read(&out),
        "uid=1000 gid=1000 cwd=/srv GREETING=hello world\nready\n"
    );
    assert!(
        proc_field(pid, "Uid").starts_with("101000"),
        "uid 1000 in the container is 101000 on the host"
    );

    let err = fails(&c.run(&["start", "web"]), 1);
    assert!(
        err.contains("cannot start container web: it is running, not created"),
        "{err}"
    );
    let err = fails(&c.run(&["delete", "web"]), 1);
    assert!(
        err.contains("cannot delete container web that is not stopped: running"),
        "{err}"
    );

    let rows: serde_json::Value =
        serde_json::from_str(&ok(&c.run(&["list", "--format", "json"]))).unwrap();
    assert_eq!(rows.as_array().map(Vec::len), Some(1), "{rows}");
    assert_eq!(rows[0]["id"], "web");
    assert_eq!(rows[0]["runtime"], "crun");
    assert_eq!(rows[0]["status"], "running");
    assert_eq!(rows[0]["pid"], pid);
    assert!(
        rows[0].get("vmid").is_none(),
        "a crun container has no VMID: {rows}"
    );

    ok(&c.run(&["kill", "web", "TERM"]));
    wait_for("the container to stop", Duration::from_secs(15), || {
        state_json(&c.run(&["state", "web"]))["status"] == "stopped"
    });
    assert!(
        read(&out).ends_with("ready\ngot TERM\n"),
        "the init got SIGTERM: {}",
        read(&out)
    );
    let s = state_json(&c.run(&["state", "web"]));
    assert!(
        s.get("pid").is_none(),
        "a stopped container has no pid: {s}"
    );
    let err = fails(&c.run(&["kill", "web", "KILL"]), 1);
    assert!(err.contains("container not running"), "{err}");

    ok(&c.run(&["delete", "web"]));
    assert_eq!(c.node.records(), Vec::<String>::new());
    assert_eq!(
        c.crun_dirs(),
        Vec::<String>::new(),
        "crun forgot the container too"
    );
    let err = fails(&c.run(&["state", "web"]), 1);
    assert!(err.contains("container web does not exist"), "{err}");
}

#[test]
fn run_stop_and_forced_delete_on_crun() {
    let c = CrunNode::new();
    let b = bundle(&crun_config());
    let bundle = b.path().to_str().unwrap();
    let (out_a, out_b) = (
        c.node.dir.path().join("a.out"),
        c.node.dir.path().join("b.out"),
    );
    assert!(
        c.run_to(&["run", "--detach", "a", "--bundle", bundle], &out_a)
            .success(),
        "{}",
        read(&out_a)
    );
    assert!(
        c.run_to(&["run", "-d", "b", "--bundle", bundle], &out_b)
            .success(),
        "{}",
        read(&out_b)
    );
    assert_eq!(state_json(&c.run(&["state", "a"]))["status"], "running");

    // stop: the stop signal (TERM; the entrypoint traps it), within the timeout.
    wait_for("a's entrypoint", Duration::from_secs(15), || {
        read(&out_a).contains("ready")
    });
    ok(&c.run(&["stop", "a", "--timeout", "10"]));
    assert_eq!(state_json(&c.run(&["state", "a"]))["status"], "stopped");
    assert!(read(&out_a).ends_with("got TERM\n"), "{}", read(&out_a));

    let pid = state_json(&c.run(&["state", "b"]))["pid"].as_i64().unwrap();
    ok(&c.run(&["delete", "--force", "b"]));
    wait_for("b's init to be gone", Duration::from_secs(10), || {
        proc_field(pid, "NSpid").is_empty()
    });
    ok(&c.run(&["delete", "a"]));
    assert_eq!(c.node.records(), Vec::<String>::new());
    assert_eq!(c.crun_dirs(), Vec::<String>::new());
}

#[test]
fn a_failing_crun_create_leaves_nothing() {
    let c = CrunNode::new();
    // The entrypoint does not exist: crun create fails, and the record goes with it.
    let b = bundle(&crun_config().replace("/bin/app.sh", "/bin/nosuch"));
    let out = c.node.dir.path().join("bad.out");
    let status = c.run_to(
        &["create", "bad", "--bundle", b.path().to_str().unwrap()],
        &out,
    );
    assert_eq!(status.code(), Some(1), "{}", read(&out));
    let text = read(&out);
    // crun's own message reaches the engine's stderr (inherited), then ours names the command.
    assert!(
        text.contains("executable file `/bin/nosuch` not found"),
        "{text}"
    );
    assert!(
        text.contains("proxmox-lxcri: error: `crun --root ") && text.contains(" create --bundle "),
        "{text}"
    );
    assert_eq!(c.node.records(), Vec::<String>::new());
    assert_eq!(c.crun_dirs(), Vec::<String>::new());
    let err = fails(&c.run(&["state", "bad"]), 1);
    assert!(err.contains("container bad does not exist"), "{err}");
}

/// Item 1 of issue 12: under `--runtime crun` the bundle runs with crun's semantics. The
/// network namespace path the engine prepared is joined (not replaced by a private one), the
/// pid namespace absent from the list is the host's, the caller's stdin reaches the container,
/// and the runtime's own findings go to the `--log` file, never into the container's output.
#[test]
fn the_bundle_runs_with_crun_semantics() {
    let c = CrunNode::new();
    // A network namespace held by a sleeping process, as an engine's network setup holds one.
    let mut holder = std::process::Command::new("unshare")
        .args(["--net", "sleep", "60"])
        .spawn()
        .expect("unshare --net");
    let netns = format!("/proc/{}/ns/net", holder.id());
    wait_for("the holder's namespace", Duration::from_secs(5), || {
        std::fs::read_link(&netns).ok() != std::fs::read_link("/proc/self/ns/net").ok()
    });
    let want_net = std::fs::read_link(&netns)
        .expect("readlink netns")
        .display()
        .to_string();
    let mut v: serde_json::Value = serde_json::from_str(&crun_config()).unwrap();
    v["process"]["args"] = serde_json::json!([
        "sh",
        "-c",
        "readlink /proc/self/ns/net; readlink /proc/self/ns/pid; cat"
    ]);
    // No pid namespace (the host's, like `podman run --pid host`); an unknown field the log reports.
    // No user namespace either: procfs of the host's pid namespace cannot be mounted from one
    // (plain crun refuses that too).
    v["linux"]["namespaces"] = serde_json::json!([{"type": "mount"}, {"type": "ipc"}, {"type": "uts"}, {"type": "network", "path": netns}]);
    let linux = v["linux"].as_object_mut().unwrap();
    linux.remove("uidMappings");
    linux.remove("gidMappings");
    v["process"]["user"] = serde_json::json!({"uid": 0, "gid": 0});
    v["vendorExtension"] = serde_json::json!(true);
    let b = bundle(&v.to_string());
    let out = c.node.dir.path().join("sem.out");
    let log = c.node.dir.path().join("sem.log");
    let input = c.node.dir.path().join("stdin.txt");
    std::fs::write(&input, "from stdin\n").unwrap();
    let file = File::options()
        .create(true)
        .append(true)
        .open(&out)
        .unwrap();
    let status = c
        .node
        .lxcri()
        .args(["--runtime", "crun", "--crun"])
        .arg(&c.wrapper)
        .args([
            "--log",
            log.to_str().unwrap(),
            "--log-format",
            "json",
            "create",
            "sem",
            "--bundle",
            b.path().to_str().unwrap(),
        ])
        .stdin(Stdio::from(File::open(&input).unwrap()))
        .stdout(Stdio::from(file.try_clone().unwrap()))
        .stderr(Stdio::from(file))
        .status()
        .unwrap();
    assert!(status.success(), "create failed: {}", read(&out));
    ok(&c.run(&["start", "sem"]));
    wait_for("the container to finish", Duration::from_secs(15), || {
        state_json(&c.run(&["state", "sem"]))["status"] == "stopped"
    });
    let host_pid = std::fs::read_link("/proc/self/ns/pid")
        .unwrap()
        .display()
        .to_string();
    assert_eq!(
        read(&out),
        format!("{want_net}\n{host_pid}\nfrom stdin\n"),
        "only the container's output"
    );
    let logged = read(&log);
    assert!(
        logged.contains("vendorExtension") && logged.contains("\"level\":\"warning\""),
        "{logged}"
    );
    ok(&c.run(&["delete", "sem"]));
    let _ = holder.kill();
    let _ = holder.wait();
}

/// `run` without `--detach`, as `runc run`: it waits for the init, exits with its code, and
/// forgets the container afterwards; a SIGTERM to proxmox-lxcri reaches the init (which
/// traps it and exits 0).
#[test]
fn run_in_the_foreground_on_crun() {
    let c = CrunNode::new();
    let exits = bundle(&crun_config().replace(
        "\"/bin/app.sh\"",
        "\"/bin/sh\", \"-c\", \"echo fg; exit 5\"",
    ));
    let out = c.node.dir.path().join("fg.out");
    let status = c.run_to(
        &["run", "fg", "--bundle", exits.path().to_str().unwrap()],
        &out,
    );
    assert_eq!(status.code(), Some(5), "{}", read(&out));
    assert!(read(&out).starts_with("fg\n"), "{}", read(&out));
    assert_eq!(
        c.node.records(),
        Vec::<String>::new(),
        "run deletes the container after it exits"
    );
    assert_eq!(c.crun_dirs(), Vec::<String>::new());

    let traps = bundle(&crun_config());
    let out = c.node.dir.path().join("sig.out");
    let file = File::options()
        .create(true)
        .append(true)
        .open(&out)
        .unwrap();
    let mut child = c
        .node
        .lxcri()
        .args(["--runtime", "crun", "--crun"])
        .arg(&c.wrapper)
        .args(["run", "sig", "--bundle", traps.path().to_str().unwrap()])
        .stdin(Stdio::null())
        .stdout(Stdio::from(file.try_clone().unwrap()))
        .stderr(Stdio::from(file))
        .spawn()
        .unwrap();
    wait_for("the entrypoint", Duration::from_secs(15), || {
        read(&out).contains("ready")
    });
    let kill = std::process::Command::new("kill")
        .args(["-s", "TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{}", read(&out));
    assert!(read(&out).contains("got TERM"), "{}", read(&out));
    assert_eq!(c.node.records(), Vec::<String>::new());
}
