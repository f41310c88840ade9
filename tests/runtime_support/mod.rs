//! Shared by the runtime end-to-end tests: the Proxmox simulator's state root, busybox
//! bundles, and `proxmox-lxcri` commands pointed at both.
//!
//! These tests need root, LXC 5 (`lxc`), `uidmap`, `busybox-static`, `zstd`, `crun` and the
//! simulator's binaries (`cargo build -p pve-sim --bins`; `cargo test --workspace` builds them).
//! Missing tools fail the test with a message saying what to install.
#![allow(dead_code)]

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

pub const APPLETS: &[&str] = &[
    "sh", "echo", "id", "pwd", "env", "sleep", "cat", "ls", "true", "hostname", "kill", "readlink",
];

/// The entrypoint: prints what the process sees, then waits; SIGTERM ends it cleanly.
pub const APP: &str = "#!/bin/sh\ntrap 'echo got TERM; exit 0' TERM\necho \"uid=$(id -u) gid=$(id -g) cwd=$(pwd) GREETING=$GREETING\"\necho ready\nwhile :; do sleep 1; done\n";

/// A bundle running [`APP`] as 1000:1000 in /srv with `GREETING`, unprivileged.
pub const CONFIG: &str = r#"{
  "ociVersion": "1.0.2",
  "process": {
    "user": {"uid": 1000, "gid": 1000},
    "args": ["/bin/app.sh"],
    "env": ["PATH=/bin", "GREETING=hello world"],
    "cwd": "/srv"
  },
  "root": {"path": "rootfs"},
  "hostname": "app",
  "linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "ipc"}, {"type": "uts"}, {"type": "user"}, {"type": "network"}]}
}
"#;

fn on_path(tool: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .and_then(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join(tool))
                .find(|f| f.is_file())
        })
        .or_else(|| {
            ["/usr/bin", "/usr/sbin", "/bin", "/sbin"]
                .iter()
                .map(|d| Path::new(d).join(tool))
                .find(|f| f.is_file())
        })
}

/// Fails unless this runs as root with every tool present.
#[track_caller]
pub fn require(tools: &[(&str, &str)]) {
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    let euid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|r| r.split_whitespace().nth(1).map(str::to_owned));
    assert_eq!(
        euid.as_deref(),
        Some("0"),
        "this test runs containers and needs root"
    );
    for (tool, package) in tools {
        assert!(
            on_path(tool).is_some(),
            "`{tool}` is not installed: apt-get install -y {package}"
        );
    }
}

/// The tools of a Proxmox-simulator run.
pub const SIM_TOOLS: &[(&str, &str)] = &[
    ("lxc-start", "lxc"),
    ("lxc-usernsexec", "lxc"),
    ("newuidmap", "uidmap"),
    ("busybox", "busybox-static"),
    ("zstd", "zstd"),
    ("tar", "tar"),
    ("kill", "procps"),
];

/// Proxmox hard-codes the id map `0 100000 65536`; a Proxmox host has these subordinate ranges.
pub fn ensure_subids() {
    for file in ["/etc/subuid", "/etc/subgid"] {
        let text = fs::read_to_string(file).unwrap_or_default();
        if !text.lines().any(|l| l.trim() == "root:100000:65536") {
            eprintln!("adding root:100000:65536 to {file}, as on a Proxmox host");
            let mut new = text;
            if !new.is_empty() && !new.ends_with('\n') {
                new.push('\n');
            }
            new.push_str("root:100000:65536\n");
            fs::write(file, new).unwrap_or_else(|e| panic!("cannot write {file}: {e}"));
        }
    }
}

/// `target/debug`, where cargo put proxmox-lxcri and, when built, the simulator.
pub fn bin_dir() -> PathBuf {
    let exe = PathBuf::from(env!("CARGO_BIN_EXE_proxmox-lxcri"));
    let dir = exe.parent().map(Path::to_path_buf).unwrap_or_default();
    for sim in ["pct", "pvesh", "pvesm"] {
        assert!(
            dir.join(sim).is_file(),
            "the simulator's {sim} is not in {}: run `cargo build -p pve-sim --bins` (cargo test --workspace builds it)",
            dir.display()
        );
    }
    dir
}

/// A simulated node (state root) plus a proxmox-lxcri state directory.
pub struct Node {
    pub dir: tempfile::TempDir,
    /// Put before the simulator on PATH (test stand-ins).
    pub extra_path: Option<PathBuf>,
}

impl Node {
    pub fn new() -> Node {
        let dir = tempfile::Builder::new()
            .prefix("plxc-e2e")
            .tempdir()
            .expect("tempdir");
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).expect("chmod");
        fs::create_dir_all(dir.path().join("sim")).expect("mkdir sim");
        fs::set_permissions(dir.path().join("sim"), fs::Permissions::from_mode(0o755))
            .expect("chmod");
        Node {
            dir,
            extra_path: None,
        }
    }

    pub fn sim(&self) -> PathBuf {
        self.dir.path().join("sim")
    }

    pub fn state_dir(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    /// A host path inside the simulated node.
    pub fn host(&self, path: &str) -> PathBuf {
        self.sim().join(path.trim_start_matches('/'))
    }

    fn path_var(&self) -> std::ffi::OsString {
        let mut dirs: Vec<PathBuf> = self.extra_path.iter().cloned().collect();
        dirs.push(bin_dir());
        dirs.extend(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        ));
        std::env::join_paths(dirs).expect("PATH")
    }

    /// `proxmox-lxcri --root <state> ...` on this node.
    pub fn lxcri(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_proxmox-lxcri"));
        c.env("PATH", self.path_var())
            .env("PVE_SIM_ROOT", self.sim())
            .env("PROXMOX_LXCRI_HOST_ROOT", self.sim())
            .env_remove("PVE_SIM_NODE")
            .env_remove("PROXMOX_LXCRI_CRUN")
            .env_remove("PROXMOX_LXCRI_TARGET")
            .env_remove("PROXMOX_LXCRI_POLICY")
            .arg("--root")
            .arg(self.state_dir());
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.lxcri().args(args).output().expect("run proxmox-lxcri")
    }

    /// A simulator command on this node.
    pub fn sim_cmd(&self, bin: &str, args: &[&str]) -> Output {
        Command::new(bin_dir().join(bin))
            .args(args)
            .env("PVE_SIM_ROOT", self.sim())
            .output()
            .expect("run simulator")
    }

    /// Config files of the simulated node.
    pub fn configs(&self) -> Vec<String> {
        names(&self.host("/etc/pve/nodes/pve/lxc"))
    }

    /// Files in `local`'s template cache (temp files included).
    pub fn templates(&self) -> Vec<String> {
        names(&self.host("/var/lib/vz/template/cache"))
    }

    /// Container directories in the state store.
    pub fn records(&self) -> Vec<String> {
        names(&self.state_dir())
            .into_iter()
            .filter(|n| !n.starts_with('.'))
            .collect()
    }

    pub fn console(&self, vmid: &str) -> String {
        fs::read_to_string(self.host(&format!("/run/pve/ct-{vmid}.console")))
            .unwrap_or_default()
            .replace('\r', "")
    }
}

impl Drop for Node {
    /// No container outlives its test: stop whatever LXC still runs under this root.
    fn drop(&mut self) {
        let lxcpath = self.host("/var/lib/lxc");
        for vmid in names(&lxcpath) {
            let _ = Command::new("lxc-stop")
                .args(["-n", &vmid, "--kill", "-P"])
                .arg(&lxcpath)
                .output();
        }
    }
}

pub fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// A busybox bundle with [`APP`] as `/bin/app.sh` and `config` as its config.json.
pub fn bundle(config: &str) -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("plxc-bundle")
        .tempdir()
        .expect("tempdir");
    let root = dir.path().join("rootfs");
    for d in ["bin", "etc", "srv", "tmp", "proc", "sys", "dev", "run"] {
        fs::create_dir_all(root.join(d)).expect("mkdir");
    }
    let busybox = on_path("busybox").expect("busybox (apt-get install -y busybox-static)");
    fs::copy(&busybox, root.join("bin/busybox")).expect("copy busybox");
    for a in APPLETS {
        symlink("busybox", root.join("bin").join(a)).expect("symlink");
    }
    fs::write(root.join("bin/app.sh"), APP).expect("app.sh");
    fs::write(
        root.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/srv:/bin/sh\n",
    )
    .expect("passwd");
    fs::write(root.join("etc/group"), "root:x:0:\napp:x:1000:\n").expect("group");
    fs::write(dir.path().join("config.json"), config).expect("config.json");
    for (p, mode) in [
        (dir.path().to_path_buf(), 0o755),
        (root.join("bin/app.sh"), 0o755),
        (root.join("tmp"), 0o1777),
    ] {
        fs::set_permissions(&p, fs::Permissions::from_mode(mode)).expect("chmod");
    }
    dir
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Exit 0, or a failure showing the command's output.
#[track_caller]
pub fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "failed: {}\nstdout: {}\nstderr: {}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// Exit `code`; returns stderr.
#[track_caller]
pub fn fails(out: &Output, code: i32) -> String {
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout: {}\nstderr: {}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stderr)
}

pub fn state_json(out: &Output) -> serde_json::Value {
    serde_json::from_str(&ok(out))
        .unwrap_or_else(|e| panic!("state is not JSON ({e}): {}", text(&out.stdout)))
}

#[track_caller]
pub fn wait_for(what: &str, timeout: Duration, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if check() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("timed out after {timeout:?} waiting for {what}");
}

/// A field of /proc/<pid>/status.
pub fn proc_field(pid: i64, key: &str) -> String {
    fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix(&format!("{key}:"))
                .map(|v| v.trim().to_owned())
        })
        .unwrap_or_default()
}

/// An executable shell script.
pub fn script(path: &Path, body: &str) {
    fs::write(path, body).expect("write script");
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).expect("chmod script");
}
