//! `convert --to crun` checked with real crun: a busybox bundle is converted
//! and run, and the process must see what the bundle asked for: its stdout,
//! exit code, environment, working directory, uid/gid and host name. Golden
//! cases run the same way, on the same busybox root file system.
//!
//! Needs root, `crun` and `busybox` (Debian: crun, busybox-static); the test
//! fails, not skips, without them. crun 1.8.1 refuses the hybrid cgroup
//! layout of Debian 12 hosts, so it runs in a private mount namespace with the
//! cgroup2 mount hidden (test-environment.md).

use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

use assert_cmd::cargo::CommandCargoExt;
use serde_json::{json, Value};

/// Prints what the process sees; the golden configs run `/app`.
const APP: &str = "#!/bin/sh\necho \"uid=$(id -u)\"\necho \"gid=$(id -g)\"\necho \"groups=$(id -G)\"\necho \"cwd=$(pwd)\"\necho \"hostname=$(hostname)\"\necho \"args=$*\"\nenv\n";
const APPLETS: &[&str] = &[
    "sh", "id", "env", "hostname", "cat", "ls", "sleep", "true", "echo",
];

fn require_tools() {
    test_support::require_root("it runs containers with crun");
    test_support::require_tools(&[
        ("crun", "crun"),
        ("busybox", "busybox-static"),
        ("unshare", "util-linux"),
    ]);
}

fn which(tool: &str) -> PathBuf {
    test_support::on_path(tool).unwrap_or_else(|| panic!("{tool} not found"))
}

/// A bundle directory with a busybox root file system, traversable by the
/// ids of an unprivileged container.
struct Bundle {
    dir: tempfile::TempDir,
}

impl Bundle {
    fn new() -> Bundle {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let root = dir.path().join("rootfs");
        for d in ["bin", "proc", "sys", "dev", "etc", "tmp", "srv/app", "run"] {
            std::fs::create_dir_all(root.join(d)).unwrap_or_else(|e| panic!("{d}: {e}"));
        }
        std::fs::copy(which("busybox"), root.join("bin/busybox"))
            .unwrap_or_else(|e| panic!("busybox: {e}"));
        for applet in APPLETS {
            symlink("busybox", root.join("bin").join(applet))
                .unwrap_or_else(|e| panic!("{applet}: {e}"));
        }
        std::fs::write(root.join("app"), APP).unwrap_or_else(|e| panic!("app: {e}"));
        std::fs::write(root.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n")
            .unwrap_or_else(|e| panic!("passwd: {e}"));
        std::fs::write(root.join("etc/group"), "root:x:0:\n")
            .unwrap_or_else(|e| panic!("group: {e}"));
        for (path, mode) in [
            (dir.path().to_path_buf(), 0o755),
            (root.join("app"), 0o755),
            (root.join("tmp"), 0o1777),
        ] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))
                .unwrap_or_else(|e| panic!("chmod: {e}"));
        }
        Bundle { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Converts `config` for crun with the bundle directory as target, so the
    /// root path in the output is absolute and the output can live anywhere.
    fn convert(&self, config: &[u8]) -> (Value, String) {
        std::fs::write(self.path().join("config.json"), config)
            .unwrap_or_else(|e| panic!("config: {e}"));
        let target = self.path().join("target.json");
        std::fs::write(&target, json!({"bundle-dir": self.path()}).to_string())
            .unwrap_or_else(|e| panic!("target: {e}"));
        let out = Command::cargo_bin("proxmox-lxcri")
            .unwrap_or_else(|e| panic!("{e}"))
            .args(["convert", "--to", "crun", "--format", "json", "--target"])
            .arg(&target)
            .arg(self.path())
            .output()
            .unwrap_or_else(|e| panic!("proxmox-lxcri: {e}"));
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "convert failed: {stderr}");
        let config: Value =
            serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("crun config: {e}"));
        (config, stderr)
    }

    /// Runs a converted config with crun; returns its output.
    fn run(&self, config: &Value) -> Output {
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let run_dir = self
            .path()
            .join(format!("run-{}", SEQ.fetch_add(1, Ordering::SeqCst)));
        std::fs::create_dir_all(&run_dir).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(run_dir.join("config.json"), config.to_string())
            .unwrap_or_else(|e| panic!("{e}"));
        let state = self.path().join("crun-state");
        let id = format!(
            "proxmox-lxcri-test-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::SeqCst)
        );
        let out = Command::new("unshare")
            .args(["-m", "sh", "-c", "umount /sys/fs/cgroup/unified 2>/dev/null; exec crun --cgroup-manager=cgroupfs \"$@\"", "crun", "--root"])
            .arg(&state)
            .args(["run", "--bundle"])
            .arg(&run_dir)
            .arg(&id)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("crun: {e}"));
        let _ = Command::new("crun")
            .arg("--root")
            .arg(&state)
            .args(["delete", "--force", &id])
            .output();
        out
    }
}

fn lines(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

fn describe(out: &Output, config: &Value) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}\nconfig:\n{config:#}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn busybox_config(namespaces: Value) -> Vec<u8> {
    json!({
        "ociVersion": "1.2.0",
        "process": {
            "terminal": false,
            "user": {"uid": 1000, "gid": 1000, "additionalGids": [20]},
            "args": ["/bin/sh", "-c", "echo \"out: $GREETING\"; id -u; id -g; pwd; hostname; env; exit 7"],
            "env": ["PATH=/bin", "GREETING=hello 'quoted' world", "EMPTY="],
            "cwd": "/srv/app",
            "capabilities": {"bounding": ["CAP_KILL", "CAP_CHOWN"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"]},
            "rlimits": [{"type": "RLIMIT_NOFILE", "soft": 512, "hard": 1024}]
        },
        "root": {"path": "rootfs"},
        "hostname": "busybox-test",
        "linux": {"namespaces": namespaces}
    })
    .to_string()
    .into_bytes()
}

fn check_busybox_run(namespaces: Value) {
    require_tools();
    let bundle = Bundle::new();
    let (config, diagnostics) = bundle.convert(&busybox_config(namespaces));
    assert_eq!(config["ociVersion"], "1.1.0", "crun 1.8.1 refuses 1.2.0");
    assert!(diagnostics.contains("crun/oci-version"), "{diagnostics}");
    let root = config["root"]["path"].as_str().unwrap_or_default();
    assert_eq!(
        Path::new(root),
        bundle.path().join("rootfs"),
        "the root path is resolved against the bundle"
    );
    let out = bundle.run(&config);
    let what = describe(&out, &config);
    assert_eq!(out.status.code(), Some(7), "{what}");
    let lines = lines(&out);
    assert_eq!(
        lines.get(..5),
        Some(
            &[
                "out: hello 'quoted' world",
                "1000",
                "1000",
                "/srv/app",
                "busybox-test"
            ]
            .map(String::from)[..]
        ),
        "{what}"
    );
    let env: Vec<&String> = lines.iter().skip(5).collect();
    for var in ["PATH=/bin", "GREETING=hello 'quoted' world", "EMPTY="] {
        assert!(
            env.iter().any(|e| *e == var),
            "{var} missing from the environment: {what}"
        );
    }
}

#[test]
fn busybox_runs_unprivileged_as_on_proxmox() {
    // A user namespace: Proxmox's default id map (container 0 = host 100000).
    check_busybox_run(
        json!([{"type": "user"}, {"type": "network"}, {"type": "pid"}, {"type": "mount"}]),
    );
}

#[test]
fn busybox_runs_privileged_with_the_host_network() {
    check_busybox_run(
        json!([{"type": "pid"}, {"type": "mount"}, {"type": "ipc"}, {"type": "uts"}]),
    );
}

/// Golden cases whose process the busybox root file system can run and
/// whose mounts, devices and hooks need nothing from the host.
const GOLDEN_RUNS: &[&str] = &[
    "args-quoting",
    "pve-worked-example",
    "user-ids",
    "ns-privileged",
    "ns-custom-idmap",
    "security-capabilities",
    "mem-rounding",
    "pids-limit",
    "root-readonly",
    "mounts-tmpfs",
    "hostname-fqdn",
    "annotations-description",
    "oci-version-dev",
];

#[test]
fn golden_cases_run_with_crun() {
    require_tools();
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("golden");
    let mut failures = Vec::new();
    for case in GOLDEN_RUNS {
        let bytes = std::fs::read(golden.join(case).join("config.json"))
            .unwrap_or_else(|e| panic!("{case}: {e}"));
        let input: Value = serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{case}: {e}"));
        let bundle = Bundle::new();
        // The image would have the working directory; busybox's root file system has only a few.
        if let Some(cwd) = input["process"]["cwd"].as_str() {
            let dir = bundle
                .path()
                .join("rootfs")
                .join(cwd.trim_start_matches('/'));
            std::fs::create_dir_all(&dir)
                .unwrap_or_else(|e| panic!("{case}: {}: {e}", dir.display()));
        }
        let (config, _) = bundle.convert(&bytes);
        let out = bundle.run(&config);
        let what = format!("{case}: {}", describe(&out, &config));
        if out.status.code() != Some(0) {
            failures.push(what);
            continue;
        }
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        // The process sees the bundle's user, directory, host name and environment.
        let p = &input["process"];
        let mut want: Vec<String> = Vec::new();
        if p["args"].get(0).and_then(Value::as_str) == Some("/app") {
            want.push(format!("uid={}", p["user"]["uid"].as_u64().unwrap_or(0)));
            want.push(format!("gid={}", p["user"]["gid"].as_u64().unwrap_or(0)));
            want.push(format!("cwd={}", p["cwd"].as_str().unwrap_or("/")));
            if let Some(h) = input["hostname"].as_str() {
                want.push(format!("hostname={h}"));
            }
            for var in p["env"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                want.push(var.to_string());
            }
        }
        for line in &want {
            if !stdout.lines().any(|l| l == line) {
                failures.push(format!("{what}\nmissing line: {line}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
