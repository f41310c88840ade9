//! Helpers shared by the simulator's integration tests.
#![allow(dead_code)]

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A fresh state root.
pub struct Root {
    pub dir: tempfile::TempDir,
}

/// What a command did.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Root {
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("pve-sim-test")
            .tempdir()
            .expect("tempdir");
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).expect("chmod");
        Root { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A host path re-rooted under the state root.
    pub fn join(&self, host_path: &str) -> PathBuf {
        self.path().join(host_path.trim_start_matches('/'))
    }

    pub fn run(&self, bin: &str, args: &[&str]) -> Run {
        let out = Command::new(bin_path(bin))
            .args(args)
            .env("PVE_SIM_ROOT", self.path())
            .env_remove("PVE_SIM_NODE")
            .output()
            .expect("run simulator binary");
        Run::from(out)
    }

    pub fn pct(&self, args: &[&str]) -> Run {
        self.run("pct", args)
    }

    pub fn conf(&self, vmid: &str) -> String {
        fs::read_to_string(self.join(&format!("/etc/pve/nodes/pve/lxc/{vmid}.conf")))
            .unwrap_or_default()
    }

    pub fn write_conf(&self, vmid: &str, text: &str) {
        // Make sure the layout exists first.
        let _ = self.run("pvesm", &["status"]);
        fs::write(
            self.join(&format!("/etc/pve/nodes/pve/lxc/{vmid}.conf")),
            text,
        )
        .expect("write conf");
    }

    /// Packs `rootfs` into the `local` storage's template cache, the way a plan would.
    pub fn add_template(&self, rootfs: &Path, file: &str) -> String {
        let dir = self.join("/var/lib/vz/template/cache");
        fs::create_dir_all(&dir).expect("mkdir template cache");
        let target = dir.join(file);
        let mut cmd = Command::new("tar");
        for (ext, flag) in [
            (".zst", "--zstd"),
            (".gz", "-z"),
            (".xz", "-J"),
            (".bz2", "-j"),
        ] {
            if file.ends_with(ext) {
                cmd.arg(flag);
            }
        }
        let status = cmd
            .args(["--numeric-owner", "--owner=0", "--group=0", "-cf"])
            .arg(&target)
            .arg("-C")
            .arg(rootfs)
            .arg(".")
            .status()
            .expect("run tar");
        assert!(status.success(), "tar failed packing {}", rootfs.display());
        format!("local:vztmpl/{file}")
    }

    /// Lets `local` hold container volumes too (a stock install does not).
    pub fn allow_rootdir_on_local(&self) {
        let _ = self.run("pvesm", &["status"]);
        let cfg = self.join("/etc/pve/storage.cfg");
        let text = fs::read_to_string(&cfg).expect("storage.cfg");
        fs::write(
            &cfg,
            text.replace(
                "content iso,vztmpl,backup",
                "content iso,vztmpl,backup,rootdir,images",
            ),
        )
        .expect("write storage.cfg");
    }
}

impl From<Output> for Run {
    fn from(out: Output) -> Self {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

impl Run {
    #[track_caller]
    pub fn ok(&self) -> &Self {
        assert_eq!(self.code, 0, "expected success, got {self:#?}");
        self
    }

    /// Exit 255 with exactly this stderr.
    #[track_caller]
    pub fn refused(&self, stderr: &str) -> &Self {
        assert_eq!(self.code, 255, "expected exit 255, got {self:#?}");
        assert_eq!(self.stderr, stderr, "stderr differs; full run: {self:#?}");
        self
    }

    /// Exit 255 with stderr containing `part`.
    #[track_caller]
    pub fn refused_with(&self, part: &str) -> &Self {
        assert_eq!(self.code, 255, "expected exit 255, got {self:#?}");
        assert!(
            self.stderr.contains(part),
            "stderr lacks {part:?}: {self:#?}"
        );
        self
    }
}

pub fn bin_path(bin: &str) -> PathBuf {
    match bin {
        "pct" => PathBuf::from(env!("CARGO_BIN_EXE_pct")),
        "pvesh" => PathBuf::from(env!("CARGO_BIN_EXE_pvesh")),
        "pvesm" => PathBuf::from(env!("CARGO_BIN_EXE_pvesm")),
        "pveversion" => PathBuf::from(env!("CARGO_BIN_EXE_pveversion")),
        other => panic!("no binary {other}"),
    }
}

/// A tiny rootfs (no binaries): enough for `pct create` without starting anything.
pub fn tiny_rootfs() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for d in ["etc", "bin", "sbin", "dev", "proc", "sys", "tmp", "root"] {
        fs::create_dir_all(dir.path().join(d)).expect("mkdir");
    }
    fs::write(dir.path().join("etc/hostname"), "tiny\n").expect("write");
    dir
}

/// Fails the test unless it runs as root (CI runs as root; these tests need chown/tar -p).
#[track_caller]
pub fn require_root() {
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    assert_eq!(
        euid, 0,
        "this test needs root (it unpacks templates with owners, as Proxmox does)"
    );
}

/// Proxmox hard-codes `lxc.idmap = u 0 100000 65536`; a Proxmox host has matching subordinate
/// ranges for root. Add them if this machine lacks them.
pub fn ensure_subids() {
    for file in ["/etc/subuid", "/etc/subgid"] {
        let text = fs::read_to_string(file).unwrap_or_default();
        if !text.lines().any(|l| l.trim() == "root:100000:65536") {
            eprintln!("pve-sim tests: adding root:100000:65536 to {file} (as on a Proxmox host)");
            let mut new = text;
            if !new.is_empty() && !new.ends_with('\n') {
                new.push('\n');
            }
            new.push_str("root:100000:65536\n");
            fs::write(file, new).unwrap_or_else(|e| panic!("cannot write {file}: {e}"));
        }
    }
}
