//! The static init (init/main.rs) and the stand-in (`executor::runtime::engine_pct`) speak
//! their protocol for real, without a container: the init runs as a plain process next to its
//! socket, as it would at `/dev/.proxmox-lxcri/init` in a container. What LXC and Proxmox add
//! is tested end to end in tests/engines_pct.rs.

use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::Duration;

use executor::runtime::engine_pct::{prepare, release, spawn_standin, StandIn};

fn pipe() -> (OwnedFd, OwnedFd) {
    use std::os::fd::FromRawFd;
    let mut fds = [0; 2];
    // SAFETY: a valid two-int buffer; both descriptors are fresh and ours.
    unsafe {
        assert_eq!(libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC), 0);
        (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1]))
    }
}

fn term(pid: u32) {
    // SAFETY: kill has no memory preconditions.
    assert_eq!(unsafe { libc::kill(pid as i32, libc::SIGTERM) }, 0);
}

struct Run {
    standin: StandIn,
    init: std::process::Child,
    dir: tempfile::TempDir,
    stdin: std::fs::File,
    stdout: std::fs::File,
    stderr: std::fs::File,
}

/// A stand-in with pipes for stdio, and the init running `argv` and connected to it.
fn run(argv: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let ch = prepare(
        &dir.path().join("engine"),
        &dir.path().join("exec.fifo"),
        proxmox_lxcri::INIT,
    )
    .unwrap();
    let (in_r, in_w) = pipe();
    let (out_r, out_w) = pipe();
    let (err_r, err_w) = pipe();
    let init_path = ch.dir.join("init");
    let mut standin = spawn_standin(
        Path::new(env!("CARGO_BIN_EXE_proxmox-lxcri")),
        ch,
        Some([in_r, out_w, err_w]),
    )
    .unwrap();
    // The init's own stdio is what LXC gives it (the console): nothing of the engine.
    let init = Command::new(&init_path)
        .args(argv)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = standin.wait_ready(Duration::from_secs(10)).unwrap();
    assert_eq!(pid as u32, init.id(), "SO_PEERCRED names the init");
    Run {
        standin,
        init,
        dir,
        stdin: in_w.into(),
        stdout: out_r.into(),
        stderr: err_r.into(),
    }
}

impl Run {
    fn start(&self) {
        release(&self.dir.path().join("exec.fifo"), Duration::from_secs(10)).unwrap();
    }

    fn finish(mut self) -> (ExitStatus, ExitStatus, String, String) {
        drop(self.stdin);
        let s = self.standin.child.wait().unwrap();
        let i = self.init.wait().unwrap();
        let (mut out, mut err) = (String::new(), String::new());
        self.stdout.read_to_string(&mut out).unwrap();
        self.stderr.read_to_string(&mut err).unwrap();
        (s, i, out, err)
    }
}

#[test]
fn the_process_gets_the_engines_stdio_and_the_stand_in_its_exit_code() {
    let mut r = run(&["/bin/sh", "-c", "read x; echo out $x; echo err >&2; exit 3"]);
    // Nothing runs before start: the process has not read its stdin yet.
    std::thread::sleep(Duration::from_millis(200));
    r.stdin.write_all(b"line\n").unwrap();
    r.start();
    let (standin, init, out, err) = r.finish();
    assert_eq!(out, "out line\n");
    assert_eq!(err, "err\n");
    assert_eq!(standin.code(), Some(3), "{standin:?}");
    assert_eq!(init.code(), Some(3), "{init:?}");
}

#[test]
fn a_signal_to_the_stand_in_reaches_the_process_and_its_death_is_mirrored() {
    use std::os::unix::process::ExitStatusExt;
    let r = run(&["/bin/sh", "-c", "echo up; exec sleep 30"]);
    r.start();
    let mut r = r;
    let mut line = [0u8; 3];
    r.stdout.read_exact(&mut line).unwrap();
    assert_eq!(&line, b"up\n");
    term(r.standin.child.id());
    let (standin, init, _, _) = r.finish();
    assert_eq!(standin.signal(), Some(15), "{standin:?}");
    assert_eq!(init.code(), Some(128 + 15), "{init:?}");
}

#[test]
fn a_kill_before_start_ends_the_container_without_running_the_process() {
    use std::os::unix::process::ExitStatusExt;
    let r = run(&["/bin/sh", "-c", "echo ran"]);
    term(r.init.id());
    let (standin, init, out, _) = r.finish();
    assert_eq!(out, "", "the process never ran");
    assert_eq!(standin.signal(), Some(15), "{standin:?}");
    assert_eq!(init.code(), Some(128 + 15), "{init:?}");
}

#[test]
fn a_missing_program_is_exit_127_with_the_reason_on_the_engines_stderr() {
    let r = run(&["/nonexistent/program"]);
    r.start();
    let (standin, _, _, err) = r.finish();
    assert_eq!(standin.code(), Some(127));
    assert!(err.contains("exec /nonexistent/program"), "{err}");
}
