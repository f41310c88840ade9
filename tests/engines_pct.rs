//! The pct back end as an engine drives it, on the Proxmox simulator with real LXC: `create
//! --pid-file` makes a running Proxmox CT whose init waits; the pid in the file is the
//! stand-in, this test's child as it would be conmon's; `start` releases the process, whose
//! output reaches the stdio `create` was given (never the CT console), and whose exit code the
//! stand-in exits with; `delete` leaves nothing.

mod runtime_support;

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
