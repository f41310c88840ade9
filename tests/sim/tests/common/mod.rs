//! Helpers shared by the simulator's integration tests.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

// Each test binary uses a different part of this module.
#[allow(unused_imports)]
pub use test_support::{ensure_subids, proc_field, wait_for};

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
        Root {
            dir: test_support::world_readable_tempdir("pve-sim-test"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A host path re-rooted under the state root.
    pub fn join(&self, host_path: &str) -> PathBuf {
        self.path().join(host_path.trim_start_matches('/'))
    }

    pub fn run(&self, bin: &str, args: &[&str]) -> Run {
        self.run_on(bin, &[], args)
    }

    /// A simulator binary on a node with these package versions (`PVE_SIM_PVE_CONTAINER`,
    /// `PVE_SIM_PVE_COMMON`); none given is the simulator's default, whatever the caller's
    /// environment says.
    pub fn run_on(&self, bin: &str, versions: &[(&str, &str)], args: &[&str]) -> Run {
        let mut cmd = Command::new(bin_path(bin));
        cmd.args(args)
            .env("PVE_SIM_ROOT", self.path())
            .env_remove("PVE_SIM_NODE")
            .env_remove("PVE_SIM_PVE_CONTAINER")
            .env_remove("PVE_SIM_PVE_COMMON");
        for (k, v) in versions {
            cmd.env(k, v);
        }
        Run::from(cmd.output().expect("run simulator binary"))
    }

    pub fn pct(&self, args: &[&str]) -> Run {
        self.run("pct", args)
    }

    /// A root with a template (returned as its volume id) and a privileged, stopped CT 100 on
    /// `local-lvm`, created on a node with these versions, with `extra` options.
    pub fn with_ct(versions: &[(&str, &str)], extra: &[&str]) -> (Root, String) {
        require_root();
        let root = Root::new();
        let rootfs = tiny_rootfs();
        let tpl = root.add_template(rootfs.path(), "tiny.tar.zst");
        let mut args = vec![
            "create",
            "100",
            &tpl,
            "--rootfs",
            "local-lvm:1",
            "--unprivileged",
            "0",
        ];
        args.extend_from_slice(extra);
        root.run_on("pct", versions, &args).ok();
        (root, tpl)
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
    test_support::require_root("it unpacks templates with owners, as Proxmox does");
}
