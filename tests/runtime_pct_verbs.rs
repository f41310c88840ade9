//! The engine verbs on the pct back end, on the Proxmox simulator with real LXC underneath:
//! `exec` through `lxc-attach` with the OCI process applied (args, env, uid, gid; exit code),
//! and refused for what `lxc-attach` cannot do (a working directory, capabilities, a console
//! socket); `exec --detach --pid-file` leaves lxc-attach to the caller, who reaps the exit
//! code; `ps` lists the container's cgroup; `pause`/`resume` freeze and thaw it (LXC says
//! `FROZEN`, `state` says `paused`); `update` becomes `pct set` (the config changes, and the
//! simulator hotplugs the limits into the running container's cgroup as Proxmox does) and
//! refuses a limit Proxmox has no key for; `kill --all` signals every process of the CT's
//! cgroup (one beside the init too) and nothing on the host.

mod runtime_support;

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use runtime_support::*;

/// `lxc-info -s` of the simulated node's CT `vmid`.
fn lxc_state(node: &Node, vmid: &str) -> String {
    let out = std::process::Command::new("lxc-info")
        .args(["-n", vmid, "-P"])
        .arg(node.host("/var/lib/lxc"))
        .arg("-s")
        .output()
        .expect("lxc-info");
    text(&out.stdout)
}

/// A value of CT 100's cgroup, by `lxc-cgroup`; `None` when LXC cannot read it.
fn lxc_cgroup(node: &Node, key: &str) -> Option<String> {
    let out = std::process::Command::new("lxc-cgroup")
        .args(["-n", "100", "-P"])
        .arg(node.host("/var/lib/lxc"))
        .arg(key)
        .output()
        .expect("lxc-cgroup");
    out.status
        .success()
        .then(|| text(&out.stdout).trim().to_owned())
}

#[test]
fn exec_ps_pause_resume_update_on_proxmox() {
    require(SIM_TOOLS);
    ensure_subids();
    let node = Node::new();
    let b = bundle(CONFIG);
    let bundle = b.path().to_str().unwrap();
    ok(&node.run(&["create", "web", "--bundle", bundle]));
    ok(&node.run(&["start", "web"]));
    wait_for("the entrypoint", Duration::from_secs(15), || {
        node.console("100").contains("ready")
    });
    let init = state_json(&node.run(&["state", "web"]))["pid"]
        .as_i64()
        .expect("init pid");

    // exec: the process's args, env, uid and gid; its exit code. LXC sets the container's
    // lxc.environment (the bundle's GREETING) under the process's own entries.
    let out = node
        .lxcri()
        .args([
            "exec",
            "--env",
            "X=one two",
            "--user",
            "1000:1000",
            "web",
            "sh",
            "-c",
        ])
        .arg("echo \"$(id -u):$(id -g) X=$X GREETING=$GREETING $(pwd)\"; exit 3")
        .stdin(Stdio::null())
        .output()
        .expect("exec");
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "1000:1000 X=one two GREETING=hello world /\n"
    );
    // A --process file, as engines pass it.
    let process = node.dir.path().join("process.json");
    std::fs::write(
        &process,
        r#"{"args": ["sh", "-c", "echo from-file $A"], "cwd": "/", "env": ["A=b", "PATH=/bin"], "user": {"uid": 0, "gid": 0}}"#,
    )
    .unwrap();
    let out = node
        .lxcri()
        .args(["exec", "--process"])
        .arg(&process)
        .arg("web")
        .stdin(Stdio::null())
        .output()
        .expect("exec --process");
    assert_eq!(ok(&out), "from-file b\n");

    // What lxc-attach cannot set is refused, not dropped.
    let err = fails(&node.run(&["exec", "--cwd", "/srv", "web", "true"]), 1);
    assert!(err.contains("no working-directory option"), "{err}");
    let err = fails(
        &node.run(&["exec", "--cap", "CAP_NET_RAW", "web", "true"]),
        1,
    );
    assert!(err.contains("`capabilities`"), "{err}");
    let err = fails(
        &node.run(&["exec", "--console-socket", "/nonexistent", "web", "true"]),
        1,
    );
    assert!(err.contains("has no --console-socket"), "{err}");

    // Detached, as conmon calls it: lxc-attach is the pid in the file, left to the caller's
    // subreaper (this test, as conmon), and exits with the process's status.
    // SAFETY: prctl with integer arguments.
    assert_eq!(
        unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) },
        0
    );
    let pid_file = node.dir.path().join("exec.pid");
    let out = node
        .lxcri()
        .args(["exec", "--detach", "--pid-file"])
        .arg(&pid_file)
        .args(["web", "sh", "-c", "exit 6"])
        .stdin(Stdio::null())
        .output()
        .expect("exec --detach");
    assert_eq!(ok(&out), "");
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .expect("pid file")
        .trim()
        .parse()
        .expect("a pid");
    let mut wstatus = 0;
    // SAFETY: a valid status pointer.
    assert_eq!(unsafe { libc::waitpid(pid, &mut wstatus, 0) }, pid);
    assert!(
        libc::WIFEXITED(wstatus) && libc::WEXITSTATUS(wstatus) == 6,
        "wait status {wstatus:#x}"
    );

    // ps: the container's cgroup, by host pid; the init is in it.
    let out = node.run(&["ps", "--format", "json", "web"]);
    let pids: Vec<i64> = serde_json::from_str(&ok(&out)).expect("ps json");
    assert!(pids.contains(&init), "init {init} not in {pids:?}");
    for p in &pids {
        assert!(
            Path::new(&format!("/proc/{p}")).exists(),
            "{p} is not a live pid"
        );
    }

    // pause/resume: the freezer; Proxmox still says running, LXC says FROZEN.
    ok(&node.run(&["pause", "web"]));
    assert!(
        lxc_state(&node, "100").contains("FROZEN"),
        "{}",
        lxc_state(&node, "100")
    );
    assert_eq!(state_json(&node.run(&["state", "web"]))["status"], "paused");
    let err = fails(&node.run(&["pause", "web"]), 1);
    assert!(err.contains("it is paused, not running"), "{err}");
    ok(&node.run(&["resume", "web"]));
    assert!(
        lxc_state(&node, "100").contains("RUNNING"),
        "{}",
        lxc_state(&node, "100")
    );
    assert_eq!(
        state_json(&node.run(&["state", "web"]))["status"],
        "running"
    );

    // update: pct set with the keys the translator maps to; the rest is refused.
    ok(&node.run(&["update", "--memory", "256m", "--cpu-share", "2048", "web"]));
    let conf = node.sim_cmd("pct", &["config", "100"]);
    let conf = ok(&conf);
    assert!(conf.contains("memory: 256\n"), "{conf}");
    let units: u64 = conf
        .lines()
        .find_map(|l| l.strip_prefix("cpuunits: "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no cpuunits: {conf}"));
    // And the running container's cgroup has them, as Proxmox's hotplug writes them
    // (cgroup v2 where the controller is there, else v1; PVE::CGroup).
    let v2 = lxc_cgroup(&node, "memory.max");
    if v2.is_some() {
        assert_eq!(v2.as_deref(), Some("268435456"));
        assert_eq!(lxc_cgroup(&node, "cpu.weight"), Some(units.to_string()));
    } else {
        assert_eq!(
            lxc_cgroup(&node, "memory.limit_in_bytes").as_deref(),
            Some("268435456")
        );
        assert_eq!(lxc_cgroup(&node, "cpu.shares"), Some(units.to_string()));
    }
    let err = fails(&node.run(&["update", "--pids-limit", "10", "web"]), 1);
    assert!(
        err.contains("Proxmox has no option for lxc.cgroup2.pids.max"),
        "{err}"
    );

    // kill --all: every process of the container's cgroup, none outside it. A long process
    // beside the init (attached, so in the CT's cgroup) and a canary on the host with the
    // same command line.
    let mut canary = std::process::Command::new("sleep")
        .arg("300")
        .spawn()
        .expect("the canary");
    let out = node
        .lxcri()
        .args(["exec", "--detach", "--pid-file"])
        .arg(&pid_file)
        .args(["web", "sleep", "300"])
        // Not piped: lxc-attach keeps its stdio until the process ends.
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("exec --detach");
    assert!(out.success(), "exec --detach sleep: {out:?}");
    let attach: i32 = std::fs::read_to_string(&pid_file)
        .expect("pid file")
        .trim()
        .parse()
        .expect("a pid");
    let cmdline = |p: i64| std::fs::read(format!("/proc/{p}/cmdline")).unwrap_or_default();
    let ps = || -> Vec<i64> {
        serde_json::from_str(&ok(&node.run(&["ps", "--format", "json", "web"]))).expect("ps")
    };
    let mut sleeper = None;
    wait_for("the attached sleep", Duration::from_secs(15), || {
        sleeper = ps()
            .into_iter()
            .find(|p| cmdline(*p) == b"sleep\x00300\x00");
        sleeper.is_some()
    });
    let sleeper = sleeper.unwrap();
    assert_eq!(cmdline(canary.id() as i64), b"sleep\x00300\x00");
    // USR1: the attached sleep dies of it; the CT's init (pid 1 of its namespace, no handler)
    // does not take it, so the container runs on: the signal went to more than the init.
    ok(&node.run(&["kill", "--all", "web", "USR1"]));
    let mut wstatus = 0;
    // SAFETY: a valid status pointer.
    assert_eq!(unsafe { libc::waitpid(attach, &mut wstatus, 0) }, attach);
    assert_ne!(wstatus, 0, "lxc-attach reports its process's death");
    assert!(!ps().contains(&sleeper), "the attached sleep is gone");
    assert!(ps().contains(&init), "the init lives on");
    assert_eq!(
        state_json(&node.run(&["state", "web"]))["status"],
        "running"
    );
    let before = ps();
    assert!(
        before.len() >= 2,
        "the init and its loop's sleep: {before:?}"
    );
    ok(&node.run(&["kill", "--all", "web", "KILL"]));
    wait_for(
        "every process of the CT to end",
        Duration::from_secs(30),
        || {
            before
                .iter()
                .all(|p| !Path::new(&format!("/proc/{p}")).exists())
        },
    );
    wait_for("the CT to stop", Duration::from_secs(30), || {
        state_json(&node.run(&["state", "web"]))["status"] == "stopped"
    });
    assert!(
        canary.try_wait().unwrap().is_none(),
        "the host's sleep was not signalled"
    );
    let _ = canary.kill();
    let _ = canary.wait();
    // A stopped container is not refused, as runc accepts it.
    ok(&node.run(&["kill", "--all", "web", "KILL"]));

    ok(&node.run(&["delete", "--force", "web"]));
    assert_eq!(node.configs(), Vec::<String>::new());
}
