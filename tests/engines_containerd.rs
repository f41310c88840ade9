//! Real containerd drives `proxmox-lxcri --runtime crun` through its runc shim
//! (`ctr run --runc-binary`), and the same cases run with crun itself as the baseline in the
//! same daemon: exit codes, stdout/stderr, env, cwd, user, stdin, a terminal (`run -t`,
//! `task exec -t`), `ctr task exec`, `kill`, `pause`/`resume`, `ps`, `--rm`, and a detached
//! task listed, killed and deleted. Every case
//! must come out the same on both (ids normalised), and the baseline must show what the case
//! is about, so a case that fails on both is a failure too.
//!
//! The test starts a private containerd (its own root, state, socket and config in a temporary
//! directory; CRI and the snapshotters that need a special file system disabled) and imports a
//! local image it builds: a docker-archive tar (`manifest.json`, config, one layer) with
//! Debian's busybox-static `/bin/busybox`, so no registry is needed. The daemon, its shims and
//! every task are killed at the end.
//!
//! crun 1.8.1 refuses the hybrid cgroup layout of Debian 12 hosts; the baseline is crun behind
//! the wrapper docs/runtime.md describes (a private mount namespace without the cgroup2 mount),
//! and proxmox-lxcri gets the same wrapper with `--crun`, so both run the same crun.
//!
//! Needs root, `containerd` and `ctr` (Debian: containerd), `crun`, `busybox-static`,
//! `unshare`, `script` (bsdutils). Without them the test is skipped with a message, except under `CI=true`, where
//! that is a failure.

use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use test_support::{is_root, on_path, script, text, APPLETS};

mod runtime_support;
use runtime_support::WRAPPER;

const TOOLS: &[(&str, &str)] = &[
    ("containerd", "containerd"),
    ("ctr", "containerd"),
    ("crun", "crun"),
    ("busybox", "busybox-static"),
    ("unshare", "util-linux"),
    ("script", "bsdutils"),
];

const NS: &str = "plxtest";
const IMAGE: &str = "plx.test/busybox:latest";
/// The same layer with `User` set in the image config (ctr 1.6 has no `run --user`).
const IMAGE_NOBODY: &str = "plx.test/busybox:nobody";

/// `None` (after saying why) when the test cannot run here; a failure under `CI=true`.
fn missing() -> Option<String> {
    if !is_root() {
        return Some("it runs containerd and containers and needs root".into());
    }
    TOOLS.iter().find_map(|(tool, package)| {
        on_path(tool)
            .is_none()
            .then(|| format!("`{tool}` is not installed: apt-get install -y {package}"))
    })
}

fn skip_or_fail() -> bool {
    match missing() {
        None => false,
        Some(why) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "engines_containerd cannot run under CI=true: {why}"
            );
            eprintln!("skipped: engines_containerd: {why}");
            true
        }
    }
}

/// A tar of `files` (path, mode, contents) and `links` (path, target), with the directories
/// they need, in a fixed order and with fixed times.
fn layer_tar() -> Vec<u8> {
    let busybox = fs::read(on_path("busybox").expect("busybox")).expect("read busybox");
    let mut b = tar::Builder::new(Vec::new());
    let dir = |b: &mut tar::Builder<Vec<u8>>, path: &str, mode: u32| {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Directory);
        h.set_mode(mode);
        h.set_size(0);
        h.set_mtime(0);
        b.append_data(&mut h, path, std::io::empty())
            .expect("tar dir");
    };
    for (d, mode) in [
        ("bin/", 0o755),
        ("etc/", 0o755),
        ("tmp/", 0o1777),
        ("srv/", 0o755),
        ("proc/", 0o755),
        ("sys/", 0o755),
        ("dev/", 0o755),
    ] {
        dir(&mut b, d, mode);
    }
    let file = |b: &mut tar::Builder<Vec<u8>>, path: &str, mode: u32, data: &[u8]| {
        let mut h = tar::Header::new_gnu();
        h.set_mode(mode);
        h.set_size(data.len() as u64);
        h.set_mtime(0);
        b.append_data(&mut h, path, data).expect("tar file");
    };
    file(&mut b, "bin/busybox", 0o755, &busybox);
    file(
        &mut b,
        "etc/passwd",
        0o644,
        b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n",
    );
    file(&mut b, "etc/group", 0o644, b"root:x:0:\nnogroup:x:65534:\n");
    for a in APPLETS {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_mode(0o777);
        h.set_size(0);
        h.set_mtime(0);
        b.append_link(&mut h, format!("bin/{a}"), "busybox")
            .expect("tar symlink");
    }
    b.into_inner().expect("tar")
}

/// A docker-archive (what `docker save` writes, which `ctr image import` reads) with two tags
/// of one layer: root, and `User` 65534.
fn image_archive() -> Vec<u8> {
    let layer = layer_tar();
    let diff_id = format!("sha256:{:x}", Sha256::digest(&layer));
    let config = |user: &str| {
        serde_json::json!({
            "architecture": "amd64", "os": "linux",
            "config": {"Env": ["PATH=/bin", "FROM_IMAGE=1"], "Cmd": ["sh"], "WorkingDir": "/", "User": user},
            "rootfs": {"type": "layers", "diff_ids": [diff_id]}
        })
        .to_string()
    };
    let manifest = serde_json::json!([
        {"Config": "root.json", "RepoTags": [IMAGE], "Layers": ["layer.tar"]},
        {"Config": "nobody.json", "RepoTags": [IMAGE_NOBODY], "Layers": ["layer.tar"]}
    ])
    .to_string();
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in [
        ("layer.tar", layer),
        ("root.json", config("").into_bytes()),
        ("nobody.json", config("65534:65534").into_bytes()),
        ("manifest.json", manifest.into_bytes()),
    ] {
        let mut h = tar::Header::new_gnu();
        h.set_mode(0o644);
        h.set_size(data.len() as u64);
        h.set_mtime(0);
        b.append_data(&mut h, name, data.as_slice())
            .expect("tar entry");
    }
    b.into_inner().expect("tar")
}

/// A private containerd with the test image imported.
struct Daemon {
    dir: tempfile::TempDir,
    child: Option<Child>,
    /// Runs crun itself (through the cgroup wrapper).
    crun: PathBuf,
    /// Runs proxmox-lxcri --runtime crun with the same crun.
    plx: PathBuf,
}

/// Which OCI runtime the shim calls.
#[derive(Clone, Copy, Debug)]
enum Rt {
    Crun,
    Plx,
}

impl Daemon {
    fn start() -> Daemon {
        // Short: the shim's and containerd's socket paths must fit in sun_path.
        let dir = tempfile::Builder::new()
            .prefix("plxctr")
            .tempdir_in("/tmp")
            .expect("tempdir");
        let p = dir.path();
        let config = format!(
            r#"version = 2
root = "{root}"
state = "{state}"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.internal.v1.tracing", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "{sock}"
[ttrpc]
  address = "{sock}.ttrpc"
[debug]
  level = "debug"
[metrics]
  address = ""
"#,
            root = p.join("root").display(),
            state = p.join("state").display(),
            sock = p.join("c.sock").display(),
        );
        fs::write(p.join("config.toml"), config).expect("config.toml");
        let crun = p.join("crun-wrapper");
        script(&crun, WRAPPER);
        let plx = p.join("plx-wrapper");
        // The shim passes --root, --log and --log-format itself; the wrapper adds only the back
        // end, the crun to use, and a node policy of the test's (the built-in defaults), so
        // the host's /etc/proxmox-lxcri does not change the test.
        let policy = p.join("policy.toml");
        fs::write(&policy, "version = 1\n").expect("policy.toml");
        fs::set_permissions(&policy, fs::Permissions::from_mode(0o600)).expect("chmod policy");
        script(
            &plx,
            &format!(
                "#!/bin/sh\nexec env -u PROXMOX_LXCRI_TARGET PROXMOX_LXCRI_POLICY={policy} {bin} --runtime crun --crun {crun} \"$@\"\n",
                policy = policy.display(),
                bin = env!("CARGO_BIN_EXE_proxmox-lxcri"),
                crun = crun.display(),
            ),
        );
        let log = fs::File::create(p.join("containerd.log")).expect("containerd.log");
        let child = Command::new("containerd")
            .arg("--config")
            .arg(p.join("config.toml"))
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone().expect("dup log")))
            .stderr(Stdio::from(log))
            .spawn()
            .expect("start containerd");
        let d = Daemon {
            dir,
            child: Some(child),
            crun,
            plx,
        };
        let start = Instant::now();
        while !d.ctr(&["version"]).status.success() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "containerd did not come up: {}",
                d.daemon_log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let archive = d.dir.path().join("image.tar");
        fs::write(&archive, image_archive()).expect("image.tar");
        let out = d.ctr(&["image", "import", archive.to_str().expect("utf-8")]);
        assert!(
            out.status.success(),
            "ctr image import: {}",
            text(&out.stderr)
        );
        d
    }

    fn daemon_log(&self) -> String {
        fs::read_to_string(self.dir.path().join("containerd.log")).unwrap_or_default()
    }

    fn ctr_cmd(&self) -> Command {
        let mut c = Command::new("ctr");
        c.arg("--address")
            .arg(self.dir.path().join("c.sock"))
            .arg("--namespace")
            .arg(NS)
            .stdin(Stdio::null());
        c
    }

    /// `ctr args`, killed after 30 s (a hang is a failure, not a stuck test run).
    fn ctr(&self, args: &[&str]) -> Output {
        self.ctr_input(args, None)
    }

    fn ctr_input(&self, args: &[&str], stdin: Option<&[u8]>) -> Output {
        let mut c = self.ctr_cmd();
        c.args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            });
        let mut child = c.spawn().expect("run ctr");
        if let (Some(mut pipe), Some(bytes)) = (child.stdin.take(), stdin) {
            pipe.write_all(bytes).expect("write ctr stdin");
        }
        let pid = child.id();
        let (tx, rx) = std::sync::mpsc::channel();
        let waiter = std::thread::spawn(move || {
            let out = child.wait_with_output();
            let _ = tx.send(());
            out
        });
        if rx.recv_timeout(Duration::from_secs(30)).is_err() {
            // SAFETY: kill has no memory effects; `pid` is our unreaped child.
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            let out = waiter.join().expect("ctr waiter").expect("ctr output");
            panic!(
                "`ctr {}` hung for 30 s; stdout: {} stderr: {}",
                args.join(" "),
                text(&out.stdout),
                text(&out.stderr)
            );
        }
        waiter.join().expect("ctr waiter").expect("ctr output")
    }

    fn binary(&self, rt: Rt) -> &Path {
        match rt {
            Rt::Crun => &self.crun,
            Rt::Plx => &self.plx,
        }
    }

    /// The runc root the shim passes as `--root`: proxmox-lxcri's state directory.
    fn runc_root(&self, rt: Rt) -> PathBuf {
        self.dir.path().join(format!("{rt:?}-root").to_lowercase())
    }

    /// `ctr run` on `rt` with the runtime flags in front of `args`.
    fn run(&self, rt: Rt, args: &[&str], stdin: Option<&[u8]>) -> Output {
        self.run_on(self.binary(rt), &self.runc_root(rt), args, stdin)
    }

    /// `ctr run` with the shim calling `bin` with `--root root`.
    fn run_on(&self, bin: &Path, root: &Path, args: &[&str], stdin: Option<&[u8]>) -> Output {
        let bin = bin.to_str().expect("utf-8").to_owned();
        let root = root.to_str().expect("utf-8").to_owned();
        let mut all = vec!["run", "--runc-binary", &bin, "--runc-root", &root];
        all.extend_from_slice(args);
        self.ctr_input(&all, stdin)
    }

    /// The task's row in `ctr task ls`: (pid, status).
    fn task(&self, id: &str) -> Option<(String, String)> {
        let out = self.ctr(&["task", "ls"]);
        text(&out.stdout).lines().skip(1).find_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.first() == Some(&id)).then(|| (f[1].to_owned(), f[2].to_owned()))
        })
    }

    fn wait_status(&self, id: &str, status: &str) -> String {
        let start = Instant::now();
        loop {
            let now = self.task(id).map(|t| t.1).unwrap_or_default();
            if now == status || start.elapsed() > Duration::from_secs(10) {
                return now;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn containers(&self) -> Vec<String> {
        let out = self.ctr(&["containers", "ls", "-q"]);
        text(&out.stdout).lines().map(str::to_owned).collect()
    }
}

impl Drop for Daemon {
    /// No task, shim or daemon outlives the test.
    fn drop(&mut self) {
        for id in self.containers() {
            let _ = self.ctr(&["task", "kill", "-s", "KILL", &id]);
            let _ = self.wait_status(&id, "STOPPED");
            let _ = self.ctr(&["task", "rm", "-f", &id]);
            let _ = self.ctr(&["containers", "rm", &id]);
        }
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        // Snapshots containerd left mounted would make the directory impossible to remove.
        let mounts = fs::read_to_string("/proc/self/mounts").unwrap_or_default();
        let prefix = self.dir.path().to_string_lossy().into_owned();
        for m in mounts.lines().filter_map(|l| l.split(' ').nth(1)).rev() {
            if m.starts_with(&prefix) {
                let _ = Command::new("umount").args(["-l", m]).status();
            }
        }
    }
}

/// What a case produced, with the container id replaced by `ID`.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn outcome(out: &Output, id: &str) -> Outcome {
    let norm = |b: &[u8]| {
        text(b)
            .replace(id, "ID")
            .lines()
            // ctr's own log lines carry a time stamp.
            .map(|l| match l.find(" level=") {
                Some(i) if l.starts_with("time=") => l[i + 1..].to_owned(),
                _ => l.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    Outcome {
        code: out.status.code(),
        stdout: norm(&out.stdout),
        stderr: norm(&out.stderr),
    }
}

/// Runs `case` on crun and on proxmox-lxcri; returns crun's outcome after checking that
/// proxmox-lxcri's is the same.
fn same(d: &Daemon, name: &str, case: impl Fn(Rt, &str) -> Vec<Outcome>) -> Vec<Outcome> {
    let base = case(Rt::Crun, &format!("{name}-crun"));
    let ours = case(Rt::Plx, &format!("{name}-plx"));
    assert_eq!(
        ours,
        base,
        "{name}: proxmox-lxcri (left) differs from crun (right)\ncontainerd log tail: {}",
        d.daemon_log()
            .lines()
            .rev()
            .take(15)
            .collect::<Vec<_>>()
            .join("\n")
    );
    base
}

#[test]
fn containerd_drives_proxmox_lxcri_as_it_drives_crun() {
    if skip_or_fail() {
        return;
    }
    let started = Instant::now();
    let d = Daemon::start();

    // Exit code and both streams; `--rm` removes the container afterwards.
    let o = same(&d, "exit", |rt, id| {
        let out = d.run(
            rt,
            &[
                "--rm",
                IMAGE,
                id,
                "sh",
                "-c",
                "echo out; echo err >&2; exit 7",
            ],
            None,
        );
        let gone = !d.containers().iter().any(|c| c == id);
        vec![
            outcome(&out, id),
            Outcome {
                code: Some(i32::from(gone)),
                stdout: String::new(),
                stderr: String::new(),
            },
        ]
    });
    assert_eq!(o[0].code, Some(7));
    assert_eq!(o[0].stdout, "out");
    assert!(o[0].stderr.contains("err"), "{:?}", o[0]);
    assert_eq!(o[1].code, Some(1), "--rm left the container");
    // Nothing of the container is left in proxmox-lxcri's state directory either.
    // The shim adds the namespace to the root it is given.
    let root = d.runc_root(Rt::Plx).join(NS);
    assert!(
        root.is_dir(),
        "{} is not proxmox-lxcri's state directory",
        root.display()
    );
    let left: Vec<_> = fs::read_dir(&root)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| !n.starts_with('.'))
                .collect()
        })
        .unwrap_or_default();
    assert!(
        left.is_empty(),
        "records left in {}: {left:?}",
        root.display()
    );

    // A create crun refuses: the same exit code, and the engine shows crun's reason (ours
    // wraps it, so the texts are not the same).
    let failed: Vec<Outcome> = [Rt::Crun, Rt::Plx]
        .into_iter()
        .map(|rt| {
            let id = format!("nope-{rt:?}").to_lowercase();
            let out = d.run(rt, &["--rm", IMAGE, &id, "/no/such/program"], None);
            let _ = d.ctr(&["containers", "rm", &id]);
            outcome(&out, &id)
        })
        .collect();
    assert_eq!(failed[0].code, failed[1].code, "{failed:?}");
    assert_ne!(failed[0].code, Some(0));
    let reason = "`/no/such/program` not found";
    assert!(failed[0].stderr.contains(reason), "{:?}", failed[0]);
    assert!(failed[1].stderr.contains(reason), "{:?}", failed[1]);

    // Environment (the image's and --env), working directory, and the image's user.
    let o = same(&d, "env", |rt, id| {
        let out = d.run(
            rt,
            &[
                "--rm",
                "--env",
                "FOO=bar baz",
                "--cwd",
                "/tmp",
                IMAGE,
                id,
                "sh",
                "-c",
                "echo \"$FOO|$FROM_IMAGE|$(pwd)|$(id -u):$(id -g)\"",
            ],
            None,
        );
        let user = d.run(
            rt,
            &["--rm", IMAGE_NOBODY, &format!("{id}-u"), "id", "-u"],
            None,
        );
        vec![outcome(&out, id), outcome(&user, &format!("{id}-u"))]
    });
    assert_eq!(o[0].stdout, "bar baz|1|/tmp|0:0");
    assert_eq!(o[1].stdout, "65534");

    // stdin reaches the container, and its end is seen.
    let o = same(&d, "stdin", |rt, id| {
        let out = d.run(
            rt,
            &[
                "--rm",
                IMAGE,
                id,
                "sh",
                "-c",
                "read a; read b; echo \"got $a+$b\"",
            ],
            Some(b"one\ntwo\n"),
        );
        vec![outcome(&out, id)]
    });
    assert_eq!(o[0].stdout, "got one+two");

    // Detached: listed, exec (exit code, env, cwd, user), ps, pause/resume, kill, delete.
    let o = same(&d, "detached", |rt, id| {
        let mut v = Vec::new();
        let out = d.run(
            rt,
            &[
                "-d",
                "--env",
                "FOO=detached",
                IMAGE,
                id,
                "sh",
                "-c",
                "trap 'exit 5' TERM; while :; do sleep 0.1; done",
            ],
            None,
        );
        v.push(outcome(&out, id));
        let status = d.wait_status(id, "RUNNING");
        let pid = d.task(id).map(|t| t.0).unwrap_or_default();
        let host_pid_alive = Path::new(&format!("/proc/{pid}")).exists();
        v.push(Outcome {
            code: Some(i32::from(host_pid_alive)),
            stdout: status,
            stderr: String::new(),
        });
        let exec = d.ctr(&[
            "task",
            "exec",
            "--exec-id",
            "e1",
            "--cwd",
            "/srv",
            id,
            "sh",
            "-c",
            "echo \"$FOO $(pwd) $(id -u)\"; exit 4",
        ]);
        v.push(outcome(&exec, id));
        let exec = d.ctr(&[
            "task",
            "exec",
            "--exec-id",
            "e2",
            "--user",
            "65534",
            id,
            "id",
            "-u",
        ]);
        v.push(outcome(&exec, id));
        let stdin = d.ctr_input(
            &["task", "exec", "--exec-id", "e3", id, "cat"],
            Some(b"to exec\n"),
        );
        v.push(outcome(&stdin, id));
        // ps: the init (and its sleep child of the moment) by host pid; the init is listed.
        let ps = d.ctr(&["task", "ps", id]);
        let listed = text(&ps.stdout)
            .lines()
            .skip(1)
            .any(|l| l.split_whitespace().next() == Some(pid.as_str()));
        v.push(Outcome {
            code: ps.status.code(),
            stdout: format!("init listed: {listed}"),
            stderr: text(&ps.stderr),
        });
        for (verb, want) in [("pause", "PAUSED"), ("resume", "RUNNING")] {
            let out = d.ctr(&["task", verb, id]);
            let mut o = outcome(&out, id);
            o.stdout = d.wait_status(id, want);
            v.push(o);
        }
        // TERM (ctr's default): the trap exits 5.
        let out = d.ctr(&["task", "kill", id]);
        let mut o = outcome(&out, id);
        o.stdout = d.wait_status(id, "STOPPED");
        v.push(o);
        let out = d.ctr(&["task", "rm", id]);
        v.push(outcome(&out, id));
        let out = d.ctr(&["containers", "rm", id]);
        v.push(outcome(&out, id));
        v.push(Outcome {
            code: Some(i32::from(d.task(id).is_none())),
            stdout: format!("{:?}", d.containers().contains(&id.to_owned())),
            stderr: String::new(),
        });
        v
    });
    assert_eq!(o[0].code, Some(0), "{:?}", o[0]);
    assert_eq!((o[1].code, o[1].stdout.as_str()), (Some(1), "RUNNING"));
    assert_eq!(
        (o[2].code, o[2].stdout.as_str()),
        (Some(4), "detached /srv 0")
    );
    assert_eq!(o[3].stdout, "65534");
    assert_eq!(o[4].stdout, "to exec");
    assert_eq!(o[5].stdout, "init listed: true");
    assert_eq!(o[6].stdout, "PAUSED");
    assert_eq!(o[7].stdout, "RUNNING");
    assert_eq!(o[8].stdout, "STOPPED");
    assert!(o[9].stderr.contains("exit code 5"), "{:?}", o[9]);
    assert_eq!((o[11].code, o[11].stdout.as_str()), (Some(1), "false"));

    // A terminal (`-t`: the shim passes --console-socket to create and exec). ctr needs a
    // terminal of its own, which `script` gives it.
    let o = same(&d, "tty", |rt, id| {
        let bin = d.binary(rt).display().to_string();
        let root = d.runc_root(rt).display().to_string();
        let ctr = |args: &str| {
            format!(
                "ctr --address {} --namespace {NS} {args}",
                d.dir.path().join("c.sock").display()
            )
        };
        let run = ctr(&format!(
            "run -t --rm --runc-binary {bin} --runc-root {root} {IMAGE} {id} sh -c 'tty; exit 3'"
        ));
        let detached = ctr(&format!(
            "run -d --runc-binary {bin} --runc-root {root} {IMAGE} {id}-d sleep 1000"
        ));
        let exec = ctr(&format!(
            "task exec -t --exec-id t1 {id}-d sh -c 'tty; exit 4'"
        ));
        let mut v = Vec::new();
        for (line, target) in [
            (&run, id.to_owned()),
            (&detached, format!("{id}-d")),
            (&exec, format!("{id}-d")),
        ] {
            let out = Command::new("timeout")
                .args(["-s", "KILL", "30", "script", "-qec", line, "/dev/null"])
                .stdin(Stdio::null())
                .output()
                .expect("script");
            let mut o = outcome(&out, &target);
            // What the terminal carried, without ctr's races: a NUL (shown `^@`) and a
            // "resize pty" complaint when the process exits before ctr's first resize, on
            // either runtime.
            o.stdout = o
                .stdout
                .lines()
                .filter(|l| !l.contains("resize pty"))
                .map(|l| l.replace("^@", "").replace('\r', ""))
                .filter(|l| !l.is_empty())
                .collect::<Vec<_>>()
                .join("\n");
            v.push(o);
        }
        let _ = d.ctr(&["task", "kill", "-s", "KILL", &format!("{id}-d")]);
        d.wait_status(&format!("{id}-d"), "STOPPED");
        let _ = d.ctr(&["task", "rm", &format!("{id}-d")]);
        let _ = d.ctr(&["containers", "rm", &format!("{id}-d")]);
        v
    });
    assert_eq!(o[0].code, Some(3), "{:?}", o[0]);
    assert!(o[0].stdout.starts_with("/dev/pts/"), "{:?}", o[0]);
    assert_eq!(o[2].code, Some(4), "{:?}", o[2]);
    assert!(o[2].stdout.starts_with("/dev/pts/"), "{:?}", o[2]);

    // KILL of an init that ignores TERM, as `ctr task kill -s KILL` does for a stuck task.
    let o = same(&d, "kill", |rt, id| {
        let out = d.run(rt, &["-d", IMAGE, id, "sleep", "1000"], None);
        let mut v = vec![outcome(&out, id)];
        d.wait_status(id, "RUNNING");
        let out = d.ctr(&["task", "kill", "-s", "KILL", id]);
        let mut o = outcome(&out, id);
        o.stdout = d.wait_status(id, "STOPPED");
        v.push(o);
        v.push(outcome(&d.ctr(&["task", "rm", id]), id));
        v.push(outcome(&d.ctr(&["containers", "rm", id]), id));
        v
    });
    assert_eq!(o[1].stdout, "STOPPED");
    assert!(o[2].stderr.contains("exit code 137"), "{:?}", o[2]);

    assert!(
        started.elapsed() < Duration::from_secs(120),
        "took {:?}",
        started.elapsed()
    );
}

/// `ctr run --rm` on the pct back end: the shim calls a wrapper with `--runtime pct` on the
/// Proxmox simulator node; the task is a Proxmox CT whose process's output and exit code reach
/// ctr, and `--rm` leaves no CT, template or record behind.
#[test]
fn containerd_runs_proxmox_containers_through_the_pct_back_end() {
    if skip_or_fail() {
        return;
    }
    runtime_support::require(runtime_support::SIM_TOOLS);
    runtime_support::ensure_subids();
    let node = runtime_support::Node::new();
    let d = Daemon::start();
    let wrapper = d.dir.path().join("pct-wrapper");
    // The shim passes --root (the node's state directory, from --runc-root), --log and
    // --log-format; the wrapper adds the back end, the simulator, and where containerd's
    // snapshot mounts live (`<state>/io.containerd.runtime.v2.task/<ns>/<id>/rootfs`).
    script(
        &wrapper,
        &format!(
            "#!/bin/sh\nPVE_SIM_ROOT={sim} PROXMOX_LXCRI_HOST_ROOT={sim} PATH={bins}:$PATH exec env -u PROXMOX_LXCRI_TARGET -u PROXMOX_LXCRI_POLICY {bin} --runtime pct --rootfs-under {state} \"$@\"\n",
            sim = node.sim().display(),
            bins = runtime_support::bin_dir().display(),
            bin = env!("CARGO_BIN_EXE_proxmox-lxcri"),
            state = d.dir.path().join("state").display(),
        ),
    );
    let root = node.state_dir();
    let tail = || {
        d.daemon_log()
            .lines()
            .rev()
            .take(20)
            .collect::<Vec<_>>()
            .join("\n")
    };
    // The init's read-only bind mount is there only on the pct path (a Proxmox CT's
    // `lxc.mount.entry`), so this also shows which back end ran it.
    let out = d.run_on(
        &wrapper,
        &root,
        &[
            "--rm",
            IMAGE,
            "pct-echo",
            "sh",
            "-c",
            "test -x /dev/.proxmox-lxcri/init && echo hi",
        ],
        None,
    );
    assert_eq!(
        (out.status.code(), text(&out.stdout)),
        (Some(0), "hi\n".to_owned()),
        "{}\n{}",
        text(&out.stderr),
        tail()
    );
    let out = d.run_on(
        &wrapper,
        &root,
        &[
            "--rm",
            IMAGE,
            "pct-exit",
            "sh",
            "-c",
            "echo err >&2; exit 7",
        ],
        None,
    );
    assert_eq!(
        (out.status.code(), text(&out.stderr).contains("err")),
        (Some(7), true),
        "{}\n{}",
        text(&out.stderr),
        tail()
    );
    assert_eq!(d.containers(), Vec::<String>::new());
    assert_eq!(node.configs(), Vec::<String>::new());
    assert_eq!(node.templates(), Vec::<String>::new());
    // The shim passes `--root <runc-root>/<namespace>`: the records live one level down.
    let records = fs::read_dir(root.join(NS))
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                // The store's own lock directory, as `Node::records` skips it.
                .filter(|n| !n.starts_with('.'))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    assert_eq!(
        (node.records(), records),
        (vec![NS.to_owned()], Vec::<String>::new())
    );
}
