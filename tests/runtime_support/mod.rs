//! Shared by the runtime end-to-end tests: the Proxmox simulator's state root, busybox
//! bundles, and `proxmox-lxcri` commands pointed at both.
//!
//! These tests need root, LXC 5 (`lxc`), `uidmap`, `busybox-static`, `zstd`, `crun` and the
//! simulator's binaries (`cargo build -p pve-sim --bins`; `cargo test --workspace` builds them).
//! Missing tools fail the test with a message saying what to install.
#![allow(dead_code)]

use std::fs;
use std::fs::File;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Output, Stdio};

use translator::path::pve;

// Each test binary uses a different part of this module.
use test_support::{busybox_rootfs, on_path, world_readable_tempdir};
#[allow(unused_imports)]
pub use test_support::{ensure_subids, names, proc_field, script, text, wait_for};

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

/// Fails unless this runs as root with every tool present.
#[track_caller]
pub fn require(tools: &[(&str, &str)]) {
    test_support::require_root("it runs containers");
    test_support::require_tools(tools);
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
    /// The node's service manager (`pve-sim-systemd`): `pct start` has it run
    /// `pve-container@<vmid>` as systemd does, so no container is a child of the caller.
    systemd: Option<std::process::Child>,
}

impl Node {
    pub fn new() -> Node {
        let dir = world_readable_tempdir("plxc-e2e");
        fs::create_dir_all(dir.path().join("sim")).expect("mkdir sim");
        fs::set_permissions(dir.path().join("sim"), fs::Permissions::from_mode(0o755))
            .expect("chmod");
        let sim = dir.path().join("sim");
        let systemd = Command::new(bin_dir().join("pve-sim-systemd"))
            .env("PVE_SIM_ROOT", &sim)
            .stdin(Stdio::null())
            .spawn()
            .expect("start the simulator's service manager (cargo build -p pve-sim --bins)");
        let socket = sim.join(pve_sim::service::SOCKET.trim_start_matches('/'));
        wait_for(
            "the simulator's service manager",
            std::time::Duration::from_secs(10),
            || std::os::unix::net::UnixStream::connect(&socket).is_ok(),
        );
        Node {
            dir,
            extra_path: None,
            systemd: Some(systemd),
        }
    }

    /// The pid of the node's service manager stand-in.
    pub fn systemd_pid(&self) -> Option<u32> {
        self.systemd.as_ref().map(std::process::Child::id)
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
            .env_remove("PROXMOX_LXCRI_CONFIG")
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
        names(&self.host(pve::TEMPLATE_CACHE_DIR))
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
        let lxcpath = self.host(pve::LXC_DIR);
        for vmid in names(&lxcpath) {
            let _ = Command::new("lxc-stop")
                .args(["-n", &vmid, "--kill", "-P"])
                .arg(&lxcpath)
                .output();
        }
        if let Some(mut systemd) = self.systemd.take() {
            let _ = systemd.kill();
            let _ = systemd.wait();
        }
    }
}

/// A busybox bundle with [`APP`] as `/bin/app.sh` and `config` as its config.json.
pub fn bundle(config: &str) -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("plxc-bundle")
        .tempdir()
        .expect("tempdir");
    let root = dir.path().join("rootfs");
    let busybox = on_path("busybox").expect("busybox (apt-get install -y busybox-static)");
    busybox_rootfs(&root, &busybox);
    fs::write(root.join("bin/app.sh"), APP).expect("app.sh");
    fs::write(dir.path().join("config.json"), config).expect("config.json");
    for (p, mode) in [
        (dir.path().to_path_buf(), 0o755),
        (root.join("bin/app.sh"), 0o755),
    ] {
        fs::set_permissions(&p, fs::Permissions::from_mode(mode)).expect("chmod");
    }
    dir
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

pub const CRUN_TOOLS: &[(&str, &str)] = &[
    ("crun", "crun"),
    ("busybox", "busybox-static"),
    ("unshare", "util-linux"),
];

/// The hybrid-cgroup workaround; harmless where `/sys/fs/cgroup/unified` does not exist.
pub const WRAPPER: &str = "#!/bin/sh\nexec unshare -m sh -c 'umount /sys/fs/cgroup/unified 2>/dev/null; exec crun --cgroup-manager=cgroupfs \"$@\"' crun \"$@\"\n";

/// The shared bundle config completed the way an engine writes one (runc's `spec` layout):
/// under `--runtime crun` the bundle runs with crun's semantics, so nothing is added to it (no
/// default mounts, no id maps). The user namespace maps 0 → 100000, Proxmox's default, so that
/// the host uid can be checked.
pub fn crun_config() -> String {
    let mut v: serde_json::Value = serde_json::from_str(CONFIG).expect("CONFIG is JSON");
    v["mounts"] = serde_json::json!([
        {"destination": "/proc", "type": "proc", "source": "proc"},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
        {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]},
        {"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
        {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]}
    ]);
    v["linux"]["maskedPaths"] = serde_json::json!(["/proc/kcore", "/proc/keys", "/sys/firmware"]);
    v["linux"]["readonlyPaths"] = serde_json::json!([
        "/proc/bus",
        "/proc/fs",
        "/proc/irq",
        "/proc/sys",
        "/proc/sysrq-trigger"
    ]);
    v["linux"]["uidMappings"] =
        serde_json::json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
    v["linux"]["gidMappings"] =
        serde_json::json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
    v.to_string()
}

/// A state root whose crun is [`WRAPPER`]; crun containers left over are deleted on drop.
pub struct CrunNode {
    pub node: Node,
    pub wrapper: PathBuf,
}

impl CrunNode {
    pub fn new() -> CrunNode {
        Self::with_wrapper(|_| WRAPPER.to_owned())
    }

    /// With another wrapper script, given the node's directory (to log calls there, say); it
    /// must end in [`WRAPPER`]'s `exec`.
    pub fn with_wrapper(body: impl FnOnce(&Path) -> String) -> CrunNode {
        require(CRUN_TOOLS);
        let node = Node::new();
        let wrapper = node.dir.path().join("crun-wrapper");
        script(&wrapper, &body(node.dir.path()));
        CrunNode { node, wrapper }
    }

    /// `proxmox-lxcri --root <state> --runtime crun --crun <wrapper> args...`, stdout and
    /// stderr appended to `out`, as an engine would pass its log pipes.
    pub fn run_to(&self, args: &[&str], out: &Path) -> ExitStatus {
        let mut all = vec!["--runtime", "crun"];
        all.extend_from_slice(args);
        self.routed_to(&all, out)
    }

    /// The same without `--runtime`: the node configuration's routes choose.
    pub fn routed_to(&self, args: &[&str], out: &Path) -> ExitStatus {
        let file = File::options()
            .create(true)
            .append(true)
            .open(out)
            .expect("open output file");
        let err = file.try_clone().expect("dup output file");
        self.node
            .lxcri()
            .arg("--crun")
            .arg(&self.wrapper)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::from(file))
            .stderr(Stdio::from(err))
            .status()
            .expect("run proxmox-lxcri")
    }

    /// A verb that starts no container process: its output is captured.
    pub fn run(&self, args: &[&str]) -> std::process::Output {
        self.node
            .lxcri()
            .args(["--runtime", "crun", "--crun"])
            .arg(&self.wrapper)
            .args(args)
            .output()
            .expect("run proxmox-lxcri")
    }

    pub fn crun_dirs(&self) -> Vec<String> {
        names(&self.node.state_dir().join(".crun"))
    }
}

impl Drop for CrunNode {
    /// No container outlives its test.
    fn drop(&mut self) {
        let root = self.node.state_dir().join(".crun");
        for id in names(&root) {
            let _ = std::process::Command::new(&self.wrapper)
                .arg("--root")
                .arg(&root)
                .args(["delete", "--force", &id])
                .output();
        }
    }
}
