//! The pct back end as an engine drives it, on the Proxmox simulator with real LXC: `create
//! --pid-file` makes a running Proxmox CT whose init waits; the pid in the file is the
//! stand-in, this test's child as it would be conmon's; `start` releases the process, whose
//! output reaches the stdio `create` was given (never the CT console), and whose exit code the
//! stand-in exits with; `delete` leaves nothing.

mod runtime_support;

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use runtime_support::*;

const ENGINE_CONFIG: &str = r#"{
  "ociVersion": "1.0.2",
  "process": {"args": ["/bin/sh", "-c", "read x; echo \"hi $x\"; echo to-stderr >&2; exit 3"],
              "env": ["PATH=/bin"], "cwd": "/", "user": {"uid": 0, "gid": 0}},
  "root": {"path": "rootfs"},
  "hostname": "eng",
  "linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "ipc"}, {"type": "uts"}, {"type": "network"}]}
}"#;

fn wait_exit(child: &mut std::process::Child, secs: u64) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        assert!(Instant::now() < deadline, "the stand-in did not exit");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn an_engine_create_runs_a_proxmox_ct_with_the_engines_stdio_and_exit_code() {
    require(SIM_TOOLS);
    ensure_subids();
    // This test stands where conmon and the containerd shim stand: a child subreaper, which
    // inherits the stand-in when `create` exits and reaps it for the exit status.
    // SAFETY: prctl with integer arguments.
    assert_eq!(
        unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) },
        0
    );
    let node = Node::new();
    let b = bundle(ENGINE_CONFIG);
    let bundle = b.path().to_str().unwrap();
    let io = tempfile::tempdir().unwrap();
    let (out, err) = (io.path().join("out"), io.path().join("err"));
    let pid_file = io.path().join("pid");
    // The engine's pipes: files here; stdin a pipe this test writes to.
    let mut create = node
        .lxcri()
        .args(["create", "eng", "--bundle", bundle, "--pid-file"])
        .arg(&pid_file)
        .stdin(Stdio::piped())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .spawn()
        .unwrap();
    let mut stdin = create.stdin.take().unwrap();
    let status = wait_exit(&mut create, 120);
    assert!(
        status.success(),
        "create: {status:?}\n{}",
        std::fs::read_to_string(&err).unwrap_or_default()
    );
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_eq!(node.configs(), ["100.conf"]);
    let conf = std::fs::read_to_string(node.host("/etc/pve/nodes/pve/lxc/100.conf")).unwrap();
    assert!(
        conf.contains("entrypoint: /dev/.proxmox-lxcri/init /bin/sh -c")
            && conf.contains(" dev/.proxmox-lxcri none bind,ro,create=dir 0 0\n"),
        "{conf}"
    );
    let listed = node.sim_cmd("pct", &["list"]);
    assert!(
        ok(&listed).contains("100 ") && ok(&listed).contains("running"),
        "{}",
        ok(&listed)
    );
    let s = state_json(&node.run(&["state", "eng"]));
    assert_eq!(
        (s["status"].as_str(), s["pid"].as_i64()),
        (Some("created"), Some(pid as i64))
    );
    // Nothing has run: the process has not read its stdin.
    use std::io::Write;
    stdin.write_all(b"there\n").unwrap();
    drop(stdin);
    assert_eq!(ok(&node.run(&["start", "eng"])), "");
    // The stand-in was create's child; now it is ours, and exits with the process's code.
    let mut wstatus = 0;
    // SAFETY: a valid status pointer.
    let reaped = unsafe { libc::waitpid(pid, &mut wstatus, 0) };
    assert_eq!(reaped, pid, "{}", std::io::Error::last_os_error());
    assert!(
        libc::WIFEXITED(wstatus) && libc::WEXITSTATUS(wstatus) == 3,
        "wait status {wstatus:#x}"
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "hi there\n");
    assert!(
        std::fs::read_to_string(&err)
            .unwrap()
            .contains("to-stderr\n"),
        "{}",
        std::fs::read_to_string(&err).unwrap()
    );
    assert!(
        !node.console("100").contains("hi there"),
        "not through the CT console"
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let s = state_json(&node.run(&["state", "eng"]));
        if s["status"] == "stopped" {
            break;
        }
        assert!(Instant::now() < deadline, "{s}");
        std::thread::sleep(Duration::from_millis(100));
    }
    ok(&node.run(&["delete", "eng"]));
    assert_eq!(node.configs(), Vec::<String>::new());
    assert_eq!(node.templates(), Vec::<String>::new());
    assert_eq!(node.records(), Vec::<String>::new());
}

/// `run` in the foreground on pct: this process is the engine; `config` with `args`.
fn fg_config(args: &str) -> String {
    ENGINE_CONFIG.replace(
        r#""/bin/sh", "-c", "read x; echo \"hi $x\"; echo to-stderr >&2; exit 3""#,
        args,
    )
}

#[test]
fn run_in_the_foreground_on_pct_waits_forwards_signals_and_deletes() {
    require(SIM_TOOLS);
    ensure_subids();
    let node = Node::new();
    let io = tempfile::tempdir().unwrap();
    let (out, err) = (io.path().join("out"), io.path().join("err"));
    let run = |id: &str, b: &tempfile::TempDir, stdin: Stdio| {
        node.lxcri()
            .args(["run", id, "--bundle"])
            .arg(b.path())
            .stdin(stdin)
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(std::fs::File::create(&err).unwrap())
            .spawn()
            .unwrap()
    };
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    // The process's stdin, stdout and stderr are this run's; its exit code is the run's.
    let b = bundle(ENGINE_CONFIG);
    let mut child = run("fg", &b, Stdio::piped());
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"there\n").unwrap();
    let status = wait_exit(&mut child, 120);
    assert_eq!(status.code(), Some(3), "{}", read(&err));
    assert_eq!(read(&out), "hi there\n");
    assert!(read(&err).contains("to-stderr\n"), "{}", read(&err));
    assert!(!node.console("100").contains("hi there"));
    // Deleted afterwards, as `runc run` does without --keep.
    assert_eq!(node.configs(), Vec::<String>::new());
    assert_eq!(node.records(), Vec::<String>::new());

    // A signal to the run reaches the process, which traps TERM and exits 7.
    let b = bundle(&fg_config(
        r#""/bin/sh", "-c", "trap 'echo got-term; exit 7' TERM; echo up; while :; do sleep 1; done""#,
    ));
    let mut child = run("fg-term", &b, Stdio::null());
    test_support::wait_for("the process", Duration::from_secs(120), || {
        read(&out) == "up\n"
    });
    let listed = ok(&node.sim_cmd("pct", &["list"]));
    assert!(
        listed.contains("running"),
        "a Proxmox CT while it runs: {listed}"
    );
    // SAFETY: kill has no memory effects.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    let status = wait_exit(&mut child, 60);
    assert_eq!(status.code(), Some(7), "{}", read(&err));
    assert_eq!(read(&out), "up\ngot-term\n");

    // A process killed by a signal: 128 + N.
    let b = bundle(&fg_config(r#""/bin/sh", "-c", "kill -9 $$""#));
    let mut child = run("fg-kill", &b, Stdio::null());
    let status = wait_exit(&mut child, 120);
    assert_eq!(status.code(), Some(128 + 9), "{}", read(&err));

    // --keep keeps it, stopped; delete then leaves nothing.
    let b = bundle(&fg_config(r#""/bin/sh", "-c", "exit 0""#));
    let mut child = node
        .lxcri()
        .args(["run", "--keep", "fg-keep", "--bundle"])
        .arg(b.path())
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    assert_eq!(wait_exit(&mut child, 120).code(), Some(0));
    assert_eq!(node.records(), ["fg-keep"]);
    test_support::wait_for("the CT to stop", Duration::from_secs(30), || {
        state_json(&node.run(&["state", "fg-keep"]))["status"] == "stopped"
    });
    ok(&node.run(&["delete", "fg-keep"]));
    assert_eq!(node.configs(), Vec::<String>::new());
    assert_eq!(node.templates(), Vec::<String>::new());
    assert_eq!(node.records(), Vec::<String>::new());
}

/// This process's hard limit of `what` (`ulimit -H`), at most `kernel.pid_max` for processes.
fn hard(resource: libc::__rlimit_resource_t) -> u64 {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: a valid rlimit buffer.
    assert_eq!(unsafe { libc::getrlimit(resource, &mut r) }, 0);
    let pid_max: u64 = std::fs::read_to_string("/proc/sys/kernel/pid_max")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(u64::MAX);
    match r.rlim_max {
        libc::RLIM_INFINITY if resource == libc::RLIMIT_NOFILE => 1_048_576,
        m if resource == libc::RLIMIT_NPROC => m.min(pid_max),
        m => m,
    }
}

/// podman with a private store, an image imported from a busybox tar, and the engine wrapper
/// docs/runtime.md describes with `--runtime pct`, on this simulator node.
fn podman(node: &Node, base: &Path) -> impl Fn(&[&str], Option<&str>) -> std::process::Output {
    let img = base.join("image");
    for d in ["bin", "etc", "proc", "sys", "dev", "tmp", "run"] {
        std::fs::create_dir_all(img.join(d)).unwrap();
    }
    std::fs::copy(
        test_support::on_path("busybox").unwrap(),
        img.join("bin/busybox"),
    )
    .unwrap();
    for a in ["sh", "echo", "cat", "true", "sleep"] {
        std::os::unix::fs::symlink("busybox", img.join("bin").join(a)).unwrap();
    }
    std::fs::write(img.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n").unwrap();
    let wrapper = base.join("proxmox-lxcri-engine");
    script(
        &wrapper,
        &format!(
            "#!/bin/sh\nPVE_SIM_ROOT={sim} PROXMOX_LXCRI_HOST_ROOT={sim} PATH={bins}:$PATH exec {bin} --root {state} --log {log} --log-format json --runtime pct --rootfs-under {store} --rootfs-under {run} \"$@\"\n",
            sim = node.sim().display(),
            bins = bin_dir().display(),
            bin = env!("CARGO_BIN_EXE_proxmox-lxcri"),
            state = node.state_dir().display(),
            log = base.join("lxcri.log").display(),
            store = base.join("store").display(),
            run = base.join("run").display(),
        ),
    );
    // Rootful podman asks for nofile/nproc limits above this process's hard limits otherwise
    // (tests/engines_podman.rs explains why; LXC's setrlimit fails the same way crun's does).
    let (nofile, nproc) = (hard(libc::RLIMIT_NOFILE), hard(libc::RLIMIT_NPROC));
    std::fs::write(
        base.join("containers.conf"),
        format!(
            "[containers]\ndefault_ulimits = [\"nofile={nofile}:{nofile}\", \"nproc={nproc}:{nproc}\"]\n\n[engine]\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"none\"\ntmp_dir = \"{tmp}\"\n\n[engine.runtimes]\nproxmox-lxcri = [\"{w}\"]\n",
            tmp = base.join("tmp").display(),
            w = wrapper.display()
        ),
    )
    .unwrap();
    let base = base.to_owned();
    let run = move |args: &[&str], stdin: Option<&str>| {
        let mut c = podman_cmd(&base);
        c.args(args)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn().expect("podman");
        if let Some(input) = stdin {
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
        }
        child.wait_with_output().unwrap()
    };
    let tar = base_tar(&img);
    let out = run(
        &["import", "-q", tar.to_str().unwrap(), "localhost/lxcri-bb"],
        None,
    );
    assert!(out.status.success(), "import: {}", text(&out.stderr));
    run
}

/// podman on the private store and configuration `podman` set up in `base`.
fn podman_cmd(base: &Path) -> std::process::Command {
    let mut c = std::process::Command::new("podman");
    c.env("CONTAINERS_CONF", base.join("containers.conf"))
        .arg("--root")
        .arg(base.join("store"))
        .arg("--runroot")
        .arg(base.join("run"))
        .args(["--storage-driver", "vfs", "--runtime", "proxmox-lxcri"]);
    c
}

fn base_tar(img: &Path) -> std::path::PathBuf {
    let tar = img.with_extension("tar");
    let out = std::process::Command::new("tar")
        .arg("-C")
        .arg(img)
        .arg("-cf")
        .arg(&tar)
        .arg(".")
        .output()
        .unwrap();
    assert!(out.status.success());
    tar
}

#[test]
fn podman_runs_proxmox_containers_through_the_pct_back_end() {
    require(SIM_TOOLS);
    if test_support::on_path("podman").is_none() || test_support::on_path("conmon").is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true: podman is missing"
        );
        eprintln!("skipped: podman/conmon not installed");
        return;
    }
    let node = Node::new();
    let base = tempfile::Builder::new()
        .prefix("lxcri-pct-podman-")
        .tempdir_in("/var/tmp")
        .unwrap();
    let podman = podman(&node, base.path());
    let img = "localhost/lxcri-bb";
    let log = || std::fs::read_to_string(base.path().join("lxcri.log")).unwrap_or_default();
    let out = podman(
        &["run", "--rm", "--network", "none", img, "echo", "hi"],
        None,
    );
    assert_eq!(
        (out.status.code(), text(&out.stdout)),
        (Some(0), "hi\n".to_owned()),
        "{}\n{}",
        text(&out.stderr),
        log()
    );
    // Translation warnings go to the log, not into the container's stderr.
    assert_eq!(text(&out.stderr), "");
    let out = podman(
        &[
            "run",
            "--rm",
            "--network",
            "none",
            img,
            "sh",
            "-c",
            "exit 3",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let out = podman(
        &["run", "--rm", "-i", "--network", "none", img, "cat"],
        Some("piped\n"),
    );
    assert_eq!(text(&out.stdout), "piped\n", "{}", text(&out.stderr));
    // -t: podman hands the runtime a --console-socket; the process's stdio is the terminal
    // whose master comes back over it. podman wants a terminal of its own for -t, so it runs
    // under script(1) (util-linux), which gives it one.
    let under_script = |args: &[&str], shell: &str| {
        let cmd = podman_cmd(base.path());
        let argv: Vec<String> = std::iter::once(cmd.get_program())
            .chain(cmd.get_args())
            .map(|a| a.to_str().unwrap().to_owned())
            .chain(args.iter().map(|a| a.to_string()))
            .map(|a| format!("'{a}'"))
            .collect();
        std::process::Command::new("script")
            .arg("-qec")
            .arg(format!("{} '{shell}'", argv.join(" ")))
            .arg("/dev/null")
            .env("CONTAINERS_CONF", base.path().join("containers.conf"))
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let out = under_script(
        &["run", "--rm", "-t", "--network", "none", img, "sh", "-c"],
        "test -t 0 && test -t 1 && echo tty-yes; exit 4",
    );
    assert!(
        (out.status.code(), text(&out.stdout).contains("tty-yes")) == (Some(4), true),
        "{:?}\n{}\n{}\n{}",
        out.status,
        text(&out.stdout),
        text(&out.stderr),
        log()
    );
    // Detached: a Proxmox container while it runs; `rm -f` reaches it through kill.
    let out = podman(
        &[
            "run",
            "-d",
            "--name",
            "sleeper",
            "--network",
            "none",
            img,
            "sh",
            "-c",
            "echo up; exec sleep 60",
        ],
        None,
    );
    assert!(out.status.success(), "{}\n{}", text(&out.stderr), log());
    let listed = ok(&node.sim_cmd("pct", &["list"]));
    assert!(listed.contains("running"), "{listed}");
    assert_eq!(node.configs().len(), 1, "its /etc/pve/lxc/<vmid>.conf");
    test_support::wait_for("podman logs", Duration::from_secs(20), || {
        text(&podman(&["logs", "sleeper"], None).stdout) == "up\n"
    });
    // exec: a process in the running CT's namespaces (it sees the CT's hostname and init),
    // its output and exit code podman's.
    let out = podman(
        &[
            "exec",
            "sleeper",
            "sh",
            "-c",
            "echo in; test -x /dev/.proxmox-lxcri/init && exit 5",
        ],
        None,
    );
    assert_eq!(
        (out.status.code(), text(&out.stdout)),
        (Some(5), "in\n".to_owned()),
        "{}\n{}",
        text(&out.stderr),
        log()
    );
    let out = podman(&["exec", "-i", "sleeper", "cat"], Some("to-exec\n"));
    assert_eq!(
        (out.status.code(), text(&out.stdout)),
        (Some(0), "to-exec\n".to_owned()),
        "{}\n{}",
        text(&out.stderr),
        log()
    );
    // exec -t: conmon hands the runtime a --console-socket for the exec too; lxc-attach gets
    // the terminal whose master went back over it, and gives the process one in the CT.
    let out = under_script(
        &["exec", "-t", "sleeper", "sh", "-c"],
        "test -t 0 && test -t 1 && echo exec-tty-yes; exit 6",
    );
    assert!(
        (
            out.status.code(),
            text(&out.stdout).contains("exec-tty-yes")
        ) == (Some(6), true),
        "{:?}\n{}\n{}\n{}",
        out.status,
        text(&out.stdout),
        text(&out.stderr),
        log()
    );
    let out = podman(&["rm", "-f", "-t", "2", "sleeper"], None);
    assert!(out.status.success(), "{}\n{}", text(&out.stderr), log());
    // What a Proxmox container cannot be is refused at create, and nothing is made.
    for (args, says) in [
        (&["--pid", "host"][..], "no pid namespace"),
        (&["--network", "host"], "no network namespace"),
        // podman's own network: a namespace it prepared, by path.
        (&[], "gets its own veth on the target bridge"),
    ] {
        let mut all = vec!["run", "--rm"];
        all.extend_from_slice(args);
        all.extend([img, "echo", "never"]);
        let out = podman(&all, None);
        assert_ne!(out.status.code(), Some(0), "{args:?}");
        assert!(!text(&out.stdout).contains("never"));
        assert!(
            text(&out.stderr).contains(says),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    // After --rm and rm: no CT, no template, no record.
    assert_eq!(node.configs(), Vec::<String>::new());
    assert_eq!(node.templates(), Vec::<String>::new());
    assert_eq!(node.records(), Vec::<String>::new());
    let _ = podman(&["rmi", "-a", "-f"], None);
}
