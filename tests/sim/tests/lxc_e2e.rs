//! End to end with real LXC: a busybox rootfs packed as a `.tar.zst` template, `pct create`
//! (privileged and unprivileged), `pct start`, the init pid from `pct status --verbose`, the
//! entrypoint's console output (uid/gid/cwd/env/argv/hostname/address), `pct shutdown`,
//! `pct stop`, `pct destroy`.
//!
//! These tests need root, LXC (`lxc`), `uidmap`, `busybox-static`, `zstd` and, for unprivileged
//! CTs, `root:100000:65536` in /etc/subuid and /etc/subgid (added here if missing, as on a
//! Proxmox host). When something is missing they fail with a message saying what.

mod common;

use std::fs;
use std::io::Read;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{ensure_subids, proc_field, require_root, wait_for, Root};

const BUSYBOX: &str = "/bin/busybox";

/// Fails with a clear message when the host lacks what the test needs.
fn require_tools() {
    require_root();
    test_support::require_tools(&[
        ("lxc-start", "lxc"),
        ("lxc-stop", "lxc"),
        ("lxc-info", "lxc"),
        ("lxc-usernsexec", "lxc"),
        ("tar", "tar"),
        ("zstd", "zstd"),
    ]);
    assert!(
        Path::new(BUSYBOX).is_file(),
        "{BUSYBOX} is missing: apt-get install -y busybox-static"
    );
    assert!(
        is_static_elf(Path::new(BUSYBOX)),
        "{BUSYBOX} is dynamically linked: install busybox-static"
    );
}

/// True when the ELF file has no PT_INTERP program header.
fn is_static_elf(path: &Path) -> bool {
    let mut data = Vec::new();
    if fs::File::open(path)
        .and_then(|mut f| f.read_to_end(&mut data))
        .is_err()
    {
        return false;
    }
    let u16_at = |o: usize| {
        data.get(o..o + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]) as usize)
    };
    let u32_at = |o: usize| {
        data.get(o..o + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let u64_at = |o: usize| {
        data.get(o..o + 8)
            .map(|b| u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) as usize)
    };
    if data.get(0..4) != Some(b"\x7fELF".as_slice()) || data.get(4) != Some(&2) {
        return false;
    }
    let (Some(phoff), Some(phentsize), Some(phnum)) = (u64_at(0x20), u16_at(0x36), u16_at(0x38))
    else {
        return false;
    };
    (0..phnum).all(|i| u32_at(phoff + i * phentsize) != Some(3))
}

/// A busybox-only rootfs, as an OCI bundle's rootfs/ would be packed.
fn busybox_rootfs() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    test_support::busybox_rootfs(dir.path(), Path::new(BUSYBOX));
    dir
}

/// Kills the CT if a test fails half-way, so no container outlives the test.
struct CtGuard<'a> {
    root: &'a Root,
    vmid: String,
}

impl Drop for CtGuard<'_> {
    fn drop(&mut self) {
        let _ = Command::new("lxc-stop")
            .args(["-n", &self.vmid, "-P"])
            .arg(self.root.join("/var/lib/lxc"))
            .arg("--kill")
            .output();
    }
}

fn status_field(root: &Root, vmid: &str, key: &str) -> Option<String> {
    let r = root.pct(&["status", vmid, "--verbose"]);
    r.ok();
    r.stdout
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key}: ")).map(str::to_string))
}

/// An entrypoint that needs LXC 6's quote-aware splitting: the script is one single-quoted
/// word and `$0` is a double-quoted word with an apostrophe.
const ENTRYPOINT: &str = "/bin/sh -c 'trap \"echo got TERM; exit 0\" TERM; \
echo \"uid=$(id -u) gid=$(id -g) cwd=$(pwd)\"; echo \"arg0=$0\"; echo \"GREETING=$GREETING\"; \
echo \"JAVA_OPTS=$JAVA_OPTS\"; echo \"hostname=$(hostname)\"; echo \"addr=$(ip -4 -o addr show eth0)\"; \
echo \"data=$(cat /data/hello)\"; test -d /vol && echo vol=yes; echo ready; while :; do sleep 1; done' \"it's a test\"";

fn lifecycle(unprivileged: bool) {
    require_tools();
    if unprivileged {
        ensure_subids();
    }
    let root = Root::new();
    let rootfs = busybox_rootfs();

    // The plan's upload step: pack the rootfs into the storage's template cache.
    let tpl_path = root.run("pvesm", &["path", "local:vztmpl/busybox.tar.zst"]);
    tpl_path.ok();
    let tpl_path = tpl_path.stdout.trim().to_string();
    fs::create_dir_all(Path::new(&tpl_path).parent().unwrap()).unwrap();
    let status = Command::new("tar")
        .args([
            "--zstd",
            "--numeric-owner",
            "--owner=0",
            "--group=0",
            "-cf",
            &tpl_path,
            "-C",
        ])
        .arg(rootfs.path())
        .arg(".")
        .status()
        .unwrap();
    assert!(status.success());
    let listed = root.run("pvesm", &["list", "local", "--content", "vztmpl"]);
    assert!(
        listed.stdout.contains("local:vztmpl/busybox.tar.zst tzst"),
        "{listed:?}"
    );

    let vmid = root
        .run("pvesh", &["get", "/cluster/nextid"])
        .stdout
        .trim()
        .to_string();
    assert_eq!(vmid, "100");
    let _guard = CtGuard {
        root: &root,
        vmid: vmid.clone(),
    };

    // A bind mount point (host directory, read-only) and a volume mount point.
    let hostdir = tempfile::tempdir().unwrap();
    fs::set_permissions(
        hostdir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    fs::write(hostdir.path().join("hello"), "hi from the host\n").unwrap();
    let mp0 = format!("{},mp=/data,ro=1", hostdir.path().display());

    let unpriv = if unprivileged { "1" } else { "0" };
    let created = root.pct(&[
        "create",
        &vmid,
        "local:vztmpl/busybox.tar.zst",
        "--rootfs",
        "local-lvm:1",
        "--unprivileged",
        unpriv,
        "--hostname",
        "app",
        "--net0",
        "name=eth0,bridge=vmbr0,ip=10.0.0.2/24,host-managed=1",
        "--entrypoint",
        ENTRYPOINT,
        "--env",
        "GREETING=hello world",
        "--cmode",
        "console",
        "--mp0",
        &mp0,
        "--mp1",
        "local-lvm:1,mp=/vol",
    ]);
    created.ok();
    assert!(
        created.stdout.contains("Detected container architecture: "),
        "{created:?}"
    );
    let conf = root.conf(&vmid);
    assert!(conf.contains("ostype: unmanaged\n"), "{conf}");
    assert_eq!(conf.contains("unprivileged: 1\n"), unprivileged, "{conf}");

    // The raw-keys step: appended under Proxmox's config lock; they survive a later `pct set`.
    {
        let lock =
            fs::File::create(root.join(&format!("/run/lock/lxc/pve-config-{vmid}.lock"))).unwrap();
        lock.lock().unwrap();
        let mut text = root.conf(&vmid);
        text.push_str(
            "lxc.environment.runtime: JAVA_OPTS=-Xmx256m -Dkey=value\nlxc.init.cwd: /srv\nlxc.init.uid: 1000\nlxc.init.gid: 1000\nlxc.signal.halt: SIGTERM\n",
        );
        root.write_conf(&vmid, &text);
    }
    root.pct(&["set", &vmid, "--memory", "256"]).ok();
    let conf = root.conf(&vmid);
    assert!(conf.contains("memory: 256\n"));
    assert!(
        conf.ends_with("lxc.environment.runtime: GREETING=hello world\nlxc.environment.runtime: JAVA_OPTS=-Xmx256m -Dkey=value\nlxc.init.cwd: /srv\nlxc.init.uid: 1000\nlxc.init.gid: 1000\nlxc.signal.halt: SIGTERM\n"),
        "{conf}"
    );

    root.pct(&["start", &vmid]).ok();
    root.pct(&["start", &vmid])
        .refused(&format!("CT {vmid} already running\n"));
    assert_eq!(root.pct(&["status", &vmid]).stdout, "status: running\n");

    let pid = status_field(&root, &vmid, "pid").expect("pct status --verbose shows the init pid");
    assert!(
        Path::new(&format!("/proc/{pid}")).exists(),
        "pid {pid} is alive on the host"
    );
    let nspid = proc_field(&pid, "NSpid");
    assert!(
        nspid.ends_with("\t1") || nspid.ends_with(" 1"),
        "pid {pid} is the CT's init (NSpid {nspid:?})"
    );
    let host_uid = if unprivileged { "101000" } else { "1000" };
    assert!(
        proc_field(&pid, "Uid").starts_with(host_uid),
        "init runs as host uid {host_uid}"
    );

    let console = root.join(&format!("/run/pve/ct-{vmid}.console"));
    wait_for(
        "the entrypoint's output on the console",
        Duration::from_secs(15),
        || fs::read_to_string(&console).is_ok_and(|t| t.contains("ready")),
    );
    let out = fs::read_to_string(&console).unwrap().replace('\r', "");
    for expected in [
        "uid=1000 gid=1000 cwd=/srv\n",
        "arg0=it's a test\n",
        "GREETING=hello world\n",
        "JAVA_OPTS=-Xmx256m -Dkey=value\n",
        "hostname=app\n",
        "data=hi from the host\n",
        "vol=yes\n",
    ] {
        assert!(
            out.contains(expected),
            "console lacks {expected:?}:\n{out}\nLXC config:\n{}",
            fs::read_to_string(root.join(&format!("/var/lib/lxc/{vmid}/config")))
                .unwrap_or_default()
        );
    }
    assert!(
        out.contains("10.0.0.2/24"),
        "host-managed address is configured before init:\n{out}"
    );

    let list = root.pct(&["list"]);
    assert!(
        list.stdout
            .contains(&format!("{vmid:<10} running                 app")),
        "{list:?}"
    );

    root.pct(&["destroy", &vmid]).refused(&format!(
        "unable to destroy CT {vmid} - container is running\n"
    ));
    // Hot-pluggable options apply to a running CT; the rest waits in [pve:pending].
    root.pct(&["set", &vmid, "--memory", "512", "--cmode", "tty"])
        .ok();
    let conf = root.conf(&vmid);
    assert!(
        conf.contains("memory: 512\n") && conf.contains("[pve:pending]\ncmode: tty\n"),
        "{conf}"
    );

    // lxc.signal.halt = SIGTERM: the trap runs and init exits.
    let started = Instant::now();
    root.pct(&["shutdown", &vmid, "--timeout", "20"]).ok();
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_eq!(root.pct(&["status", &vmid]).stdout, "status: stopped\n");
    assert!(!Path::new(&format!("/proc/{pid}")).exists() || proc_field(&pid, "NSpid").is_empty());
    assert!(fs::read_to_string(&console).unwrap().contains("got TERM"));

    // Starting applies the pending change; stop kills.
    root.pct(&["start", &vmid]).ok();
    assert!(
        root.conf(&vmid).contains("cmode: tty\n") && !root.conf(&vmid).contains("[pve:pending]")
    );
    let pid2 = status_field(&root, &vmid, "pid").unwrap();
    root.pct(&["stop", &vmid]).ok();
    assert_eq!(root.pct(&["status", &vmid]).stdout, "status: stopped\n");
    assert!(!Path::new(&format!("/proc/{pid2}")).exists() || proc_field(&pid2, "NSpid").is_empty());

    root.pct(&["destroy", &vmid]).ok();
    assert_eq!(root.pct(&["list"]).stdout, "");
    assert!(!root.join("/dev/pve/vm-100-disk-0").exists());
    assert!(!root.join("/dev/pve/vm-100-disk-1").exists());
    assert!(
        hostdir.path().join("hello").is_file(),
        "bind mount sources are not volumes: kept"
    );
}

#[test]
fn privileged_ct_lifecycle_with_real_lxc() {
    lifecycle(false);
}

#[test]
fn unprivileged_ct_lifecycle_with_real_lxc() {
    lifecycle(true);
}

#[test]
fn forced_destroy_and_failed_start() {
    require_tools();
    let root = Root::new();
    let rootfs = busybox_rootfs();
    let tpl = root.add_template(rootfs.path(), "bb.tar.zst");
    root.pct(&[
        "create",
        "200",
        &tpl,
        "--rootfs",
        "local-lvm:1",
        "--unprivileged",
        "0",
        "--entrypoint",
        "/bin/sh -c 'while :; do sleep 1; done'",
    ])
    .ok();
    let _guard = CtGuard {
        root: &root,
        vmid: "200".into(),
    };
    root.pct(&["start", "200"]).ok();
    let pid = status_field(&root, "200", "pid").unwrap();
    let r = root.pct(&["destroy", "200", "--force"]);
    r.ok();
    assert!(
        r.stdout
            .contains("forced to stop CT 200 before destroying!"),
        "{r:?}"
    );
    assert!(!Path::new(&format!("/proc/{pid}")).exists() || proc_field(&pid, "NSpid").is_empty());
    assert_eq!(root.conf("200"), "");

    // A raw key LXC does not know fails the start with LXC's own error.
    root.pct(&[
        "create",
        "201",
        &tpl,
        "--rootfs",
        "local-lvm:1",
        "--unprivileged",
        "0",
    ])
    .ok();
    let _guard2 = CtGuard {
        root: &root,
        vmid: "201".into(),
    };
    let mut text = root.conf("201");
    text.push_str("lxc.net.0.frobnicate: 1\n");
    root.write_conf("201", &text);
    let r = root.pct(&["start", "201"]);
    r.refused_with("startup for container '201' failed\n");
    assert!(
        r.stdout.contains("lxc.net.0.frobnicate"),
        "LXC's complaint is shown: {r:?}"
    );
    assert_eq!(root.pct(&["status", "201"]).stdout, "status: stopped\n");
}
