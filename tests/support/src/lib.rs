//! Helpers both test suites need: the runtime end-to-end tests (`tests/runtime_support`) and
//! the simulator's (`tests/sim/tests/common`). One copy, so the two cannot drift apart on what
//! a Proxmox host looks like (the subordinate id ranges) or on how a tool is looked for.
//!
//! What needs `env!("CARGO_BIN_EXE_…")` (the binaries a package builds) stays in each suite:
//! cargo sets those only for the package's own integration tests.

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The busybox applets a test rootfs links; more than any one test needs is harmless.
pub const APPLETS: &[&str] = &[
    "sh", "echo", "id", "pwd", "env", "sleep", "cat", "ls", "true", "hostname", "kill", "readlink",
    "ip", "mkdir", "ps",
];

/// `tool` on `PATH`, or in the system directories a root shell has (`sbin` is not on every
/// test runner's `PATH`).
pub fn on_path(tool: &str) -> Option<PathBuf> {
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

/// Whether this process runs as root (the effective uid in `/proc/self/status`).
pub fn is_root() -> bool {
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|r| r.split_whitespace().nth(1))
        == Some("0")
}

/// Fails the test unless it runs as root, saying why it needs root.
#[track_caller]
pub fn require_root(why: &str) {
    assert!(is_root(), "this test needs root: {why}");
}

/// Fails unless every `(tool, package)` is installed, naming the package to install.
#[track_caller]
pub fn require_tools(tools: &[(&str, &str)]) {
    for (tool, package) in tools {
        assert!(
            on_path(tool).is_some(),
            "`{tool}` is not installed: apt-get install -y {package}"
        );
    }
}

/// Proxmox hard-codes `lxc.idmap = u 0 100000 65536` for unprivileged containers; a Proxmox
/// host has the matching subordinate ranges for root. Adds them where this machine lacks them.
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

/// A fresh temporary directory, mode 0755 so that unprivileged containers' mapped root can
/// traverse it (a state root, a simulated node).
pub fn world_readable_tempdir(prefix: &str) -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .expect("tempdir");
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).expect("chmod");
    dir
}

/// The names in `dir`, sorted (none when it cannot be read).
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

/// Polls `check` every 100 ms until it holds; fails the test after `timeout`.
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

/// A field of `/proc/<pid>/status`, trimmed (empty when the process or the field is gone).
pub fn proc_field(pid: impl std::fmt::Display, key: &str) -> String {
    fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix(key)
                .and_then(|r| r.strip_prefix(':'))
                .map(|v| v.trim().to_owned())
        })
        .unwrap_or_default()
}

/// Writes an executable shell script.
pub fn script(path: &Path, body: &str) {
    fs::write(path, body).expect("write script");
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).expect("chmod script");
}

/// Fills `root` with a busybox-only file system: `busybox` copied to `bin/`, [`APPLETS`]
/// linked to it, `/tmp` 1777, and `root` (0) and `app` (1000) in passwd and group.
pub fn busybox_rootfs(root: &Path, busybox: &Path) {
    for d in [
        "bin", "sbin", "etc", "srv", "root", "tmp", "proc", "sys", "dev", "run",
    ] {
        fs::create_dir_all(root.join(d)).expect("mkdir");
    }
    fs::copy(busybox, root.join("bin/busybox")).expect("copy busybox");
    for a in APPLETS {
        symlink("busybox", root.join("bin").join(a)).expect("symlink");
    }
    fs::write(
        root.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/srv:/bin/sh\n",
    )
    .expect("passwd");
    fs::write(root.join("etc/group"), "root:x:0:\napp:x:1000:\n").expect("group");
    fs::set_permissions(root.join("tmp"), fs::Permissions::from_mode(0o1777)).expect("chmod");
}

/// Bytes as text, for messages.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
