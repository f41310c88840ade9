//! Attacks on bundle containment (issue 10, item 2), with the real binary on the Proxmox
//! simulator: a bundle tries to get host files packed into its template, or to make `create`
//! hang or read what is not its config. Each test plants a canary (a root-only file outside the
//! bundle) and asserts that no file anywhere on the simulated node (templates, container disks,
//! /etc/pve, the state store) ever holds its bytes, not only that the exit code is right.

mod runtime_support;

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use runtime_support::*;

const CANARY: &[u8] = b"CANARY-host-secret-5f1c";

fn setup() -> Node {
    require(SIM_TOOLS);
    ensure_subids();
    Node::new()
}

/// A "host" directory outside every bundle: a root-only canary file, and a `rootfs/` (with
/// the canary in `etc/`) and a `config.json` a bundle could point a symlink at.
fn host_dir() -> tempfile::TempDir {
    let h = tempfile::Builder::new()
        .prefix("plxc-host")
        .tempdir()
        .unwrap();
    fs::create_dir_all(h.path().join("rootfs/etc")).unwrap();
    for f in ["shadow", "rootfs/etc/canary"] {
        fs::write(h.path().join(f), CANARY).unwrap();
        fs::set_permissions(h.path().join(f), fs::Permissions::from_mode(0o600)).unwrap();
    }
    // Distinguishable from the bundle's own config: a create that read it says `evil`.
    fs::write(
        h.path().join("config.json"),
        CONFIG.replace(r#""hostname": "app""#, r#""hostname": "evil""#),
    )
    .unwrap();
    h
}

fn config_with_root(path: &str) -> String {
    CONFIG.replace(
        r#""root": {"path": "rootfs"}"#,
        &format!(r#""root": {{"path": "{path}"}}"#),
    )
}

/// Regular files below `dir` (symlinks not followed) whose content holds `needle`.
fn files_containing(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    let mut hits = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(rd) = fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let Ok(t) = e.file_type() else { continue };
            if t.is_dir() {
                todo.push(e.path());
            } else if t.is_file() {
                let bytes = fs::read(e.path()).unwrap_or_default();
                if bytes.windows(needle.len()).any(|w| w == needle) {
                    hits.push(e.path());
                }
            }
        }
    }
    hits
}

/// Nothing on the node holds the canary, and nothing was created or left behind.
#[track_caller]
fn nothing_created(node: &Node) {
    assert_eq!(
        files_containing(node.dir.path(), CANARY),
        Vec::<PathBuf>::new(),
        "the canary reached the node"
    );
    assert_eq!(node.templates(), Vec::<String>::new(), "template storage");
    assert_eq!(node.configs(), Vec::<String>::new(), "container configs");
    assert_eq!(node.records(), Vec::<String>::new(), "state records");
}

/// Where the simulator extracted CT `vmid`'s rootfs (the default target's `local-lvm`).
fn disk(node: &Node, vmid: u32) -> PathBuf {
    let d = node.host(&format!("/dev/pve/vm-{vmid}-disk-0"));
    assert!(d.is_dir(), "no extracted rootfs at {}", d.display());
    d
}

/// Runs with a deadline: a create that blocks (on a FIFO) is killed and the test fails.
fn run_within(mut cmd: Command, limit: Duration) -> Output {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let start = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().expect("output");
            panic!(
                "still running after {limit:?} (blocked?); stderr: {}",
                text(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

fn create(node: &Node, id: &str, bundle: &Path, extra: &[&str]) -> Output {
    let mut c = node.lxcri();
    c.args(["create", id, "--bundle"]).arg(bundle).args(extra);
    run_within(c, Duration::from_secs(60))
}

#[test]
fn an_absolute_root_path_needs_the_operator_flag_and_is_never_a_system_dir() {
    let node = setup();
    let host = host_dir();
    let host_s = host.path().to_str().unwrap();
    for (root, flag, code, expect) in [
        (
            "/etc",
            None,
            1,
            "root.path /etc is outside the bundle; pass --rootfs-outside-bundle /etc",
        ),
        ("/", None, 1, "pass --rootfs-outside-bundle /"),
        (
            host_s,
            None,
            1,
            "is outside the bundle; pass --rootfs-outside-bundle",
        ),
        (
            "/etc",
            Some("/etc"),
            1,
            "rootfs /etc is a host system directory",
        ),
        ("/", Some("/"), 1, "rootfs / is the host's root directory"),
        ("/etc/", Some("/etc"), 1, "host system directory"),
        // The flag must name the config's path, not just any path.
        (
            host_s,
            Some("/srv/elsewhere"),
            1,
            "does not name the config's root.path",
        ),
    ] {
        let b = bundle(&config_with_root(root));
        let mut extra = Vec::new();
        if let Some(f) = flag {
            extra.extend(["--rootfs-outside-bundle", f]);
        }
        let err = fails(&create(&node, "c", b.path(), &extra), code);
        // Two layers refuse a system directory: the node policy (`security/host-rootfs`, an
        // error, judged on the config before any host call) and then the bundle opener. Either
        // message is a refusal before anything was touched; `nothing_created` checks that.
        let by_policy = root != host_s && err.contains("[security/host-rootfs]");
        assert!(
            err.contains(expect) || by_policy,
            "root.path {root}, flag {flag:?}: {err}"
        );
        nothing_created(&node);
    }

    // Named by the operator, a host directory is what the container gets (and only then).
    let b = bundle(&config_with_root(host_s));
    ok(&create(
        &node,
        "c",
        b.path(),
        &["--rootfs-outside-bundle", host_s],
    ));
    assert_eq!(node.configs(), ["100.conf"]);
    assert!(
        !files_containing(&disk(&node, 100), CANARY).is_empty(),
        "the flagged directory was packed"
    );
}

#[test]
fn a_symlink_in_an_earlier_component_of_root_path_is_refused() {
    let node = setup();
    let host = host_dir();
    for (root, link, to) in [
        // link -> <host>: link/rootfs is the host's rootfs/
        ("link/rootfs", "link", host.path().to_path_buf()),
        ("./link/rootfs/", "link", host.path().to_path_buf()),
        // the last component, absolute and relative targets
        ("rootfs2", "rootfs2", host.path().join("rootfs")),
        (
            "rootfs3",
            "rootfs3",
            PathBuf::from("../../../../../../..")
                .join(host.path().strip_prefix("/").unwrap())
                .join("rootfs"),
        ),
        // `..` out of the bundle
        ("rootfs/../../x", "unused", host.path().to_path_buf()),
    ] {
        let b = bundle(&config_with_root(root));
        symlink(&to, b.path().join(link)).unwrap();
        let err = fails(&create(&node, "c", b.path(), &[]), 1);
        assert!(
            err.contains("symbolic link")
                || err.contains("leaves the bundle directory through `..`"),
            "{root}: {err}"
        );
        nothing_created(&node);
    }
}

#[test]
fn config_json_must_be_a_regular_file_in_the_bundle() {
    let node = setup();
    let host = host_dir();
    type Plant<'a> = Box<dyn Fn(&Path) + 'a>;
    let cases: [(&str, Plant<'_>, &str); 4] = [
        (
            "symlink out",
            Box::new(|p: &Path| symlink(host.path().join("config.json"), p).unwrap()),
            "symbolic link",
        ),
        (
            "/dev/zero",
            Box::new(|p: &Path| symlink("/dev/zero", p).unwrap()),
            "symbolic link",
        ),
        (
            "fifo",
            Box::new(|p: &Path| {
                rustix::fs::mknodat(
                    rustix::fs::CWD,
                    p,
                    rustix::fs::FileType::Fifo,
                    rustix::fs::Mode::from_raw_mode(0o644),
                    0,
                )
                .unwrap()
            }),
            "not a regular file but a FIFO",
        ),
        (
            "directory",
            Box::new(|p: &Path| fs::create_dir(p).unwrap()),
            "not a regular file",
        ),
    ];
    for (what, plant, expect) in cases {
        let b = bundle(CONFIG);
        let config = b.path().join("config.json");
        fs::remove_file(&config).unwrap();
        plant(&config);
        let err = fails(&create(&node, "c", b.path(), &[]), 2);
        assert!(err.contains(expect), "{what}: {err}");
        nothing_created(&node);
        // lint and convert read bundles through the same reader: no hang, no read either.
        for verb in [&["lint"][..], &["convert", "--to", "pct-conf"][..]] {
            let mut c = node.lxcri();
            c.args(verb).arg(b.path());
            let out = run_within(c, Duration::from_secs(20));
            assert_eq!(
                out.status.code(),
                Some(2),
                "{what} {verb:?}: {}",
                text(&out.stderr)
            );
            assert!(
                !out.stdout.windows(4).any(|w| w == b"evil"),
                "{what} {verb:?} read the outside config"
            );
        }
    }
}

/// Swaps `a` and `b` atomically (renameat2 RENAME_EXCHANGE).
fn exchange(a: &Path, b: &Path) {
    use rustix::fs::{renameat_with, RenameFlags, CWD};
    renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE).unwrap();
}

/// While `create` runs, config.json, rootfs and a directory inside the rootfs are swapped for
/// symlinks to the host's versions in a tight loop. Whatever each create sees, no host file
/// is ever packed and the host's config is never read.
#[test]
fn swapping_components_for_symlinks_during_create_never_packs_outside_files() {
    let node = setup();
    let host = host_dir();
    let b = bundle(CONFIG);
    let dir = b.path().to_path_buf();
    let pairs = [
        (
            dir.join("config.json"),
            dir.join("config.lnk"),
            host.path().join("config.json"),
        ),
        (
            dir.join("rootfs"),
            dir.join("rootfs.lnk"),
            host.path().join("rootfs"),
        ),
        (
            dir.join("rootfs/etc"),
            dir.join("rootfs/etc.lnk"),
            host.path().join("rootfs/etc"),
        ),
    ];
    for (_, lnk, to) in &pairs {
        symlink(to, lnk).unwrap();
    }
    let stop = Arc::new(AtomicBool::new(false));
    let swapper = {
        let stop = stop.clone();
        let pairs = pairs.clone();
        std::thread::spawn(move || {
            let mut swaps = 0u64;
            while !stop.load(Ordering::Relaxed) {
                // The inner pair is reached through rootfs: swap it only while rootfs is real.
                for (real, lnk, _) in &pairs {
                    exchange(real, lnk);
                    std::thread::sleep(Duration::from_micros(300));
                    exchange(real, lnk);
                    swaps += 1;
                }
            }
            swaps
        })
    };
    let (mut created, mut refused_link, mut other) = (0, 0, 0);
    for i in 0..60 {
        let out = create(&node, &format!("c{i}"), &dir, &[]);
        let err = text(&out.stderr);
        match out.status.code() {
            Some(0) => created += 1,
            _ if err.contains("symbolic link") => refused_link += 1,
            _ => other += 1,
        }
        if created >= 3 && refused_link >= 3 && i >= 15 {
            break;
        }
    }
    stop.store(true, Ordering::Relaxed);
    let swaps = swapper.join().unwrap();
    eprintln!("{created} created, {refused_link} refused (symlink), {other} other failures; {swaps} swaps");
    assert!(
        created > 0 && refused_link > 0,
        "the race was not exercised: {created} created, {refused_link} refused"
    );
    assert_eq!(
        files_containing(node.dir.path(), CANARY),
        Vec::<PathBuf>::new(),
        "a host file was packed"
    );
    for conf in node.configs() {
        let text =
            fs::read_to_string(node.host(&format!("/etc/pve/nodes/pve/lxc/{conf}"))).unwrap();
        assert!(
            !text.contains("hostname: evil"),
            "{conf} came from the host's config.json"
        );
    }
    assert_eq!(
        node.templates(),
        Vec::<String>::new(),
        "templates are removed, also after failures"
    );
}

/// A tmpfs and a bind mount of a host directory (and of a host file) inside the rootfs, made in
/// a private mount namespace: packing reports each and does not cross it.
#[test]
fn mounts_inside_the_rootfs_are_reported_and_not_crossed() {
    let node = setup();
    let host = host_dir();
    let b = bundle(CONFIG);
    let root = b.path().join("rootfs");
    for d in ["mnt/tmp", "srv/host"] {
        fs::create_dir_all(root.join(d)).unwrap();
    }
    fs::write(root.join("etc/shadow"), b"container's own\n").unwrap();
    let script = format!(
        "set -e; mount -t tmpfs plxc-test {r}/mnt/tmp; printf %s {c} > {r}/mnt/tmp/secret; \
         mount --bind {h} {r}/srv/host; mount --bind {h}/shadow {r}/etc/shadow; exec \"$@\"",
        r = root.display(),
        c = String::from_utf8_lossy(CANARY),
        h = host.path().display(),
    );
    let mut c = Command::new("unshare");
    c.args([
        "-m",
        "--propagation",
        "private",
        "--",
        "sh",
        "-c",
        &script,
        "sh",
    ]);
    let lxcri = node.lxcri();
    c.arg(lxcri.get_program())
        .args(lxcri.get_args())
        .args(["create", "m", "--bundle"])
        .arg(b.path());
    c.envs(lxcri.get_envs().filter_map(|(k, v)| v.map(|v| (k, v))));
    let out = run_within(c, Duration::from_secs(60));
    let err = ok(&out);
    let err = format!("{err}{}", text(&out.stderr));
    for (path, how) in [
        ("./mnt/tmp/", "packed as an empty directory"),
        ("./srv/host/", "packed as an empty directory"),
        ("./etc/shadow", "skipped"),
    ] {
        assert!(
            err.contains(&format!("warning: {path} is a mount point"))
                && err.contains(how)
                && err.contains("[pack/mount-point-not-crossed]"),
            "{path}: {err}"
        );
    }
    assert_eq!(
        files_containing(node.dir.path(), CANARY),
        Vec::<PathBuf>::new(),
        "a mount's content was packed"
    );
    // The mount points exist in the container, empty; the shadowed file is not replaced.
    let sub = disk(&node, 100);
    assert_eq!(names(&sub.join("mnt/tmp")), Vec::<String>::new());
    assert_eq!(names(&sub.join("srv/host")), Vec::<String>::new());
    assert!(
        !sub.join("etc/shadow").exists(),
        "a file mounted over etc/shadow is skipped"
    );
    assert!(sub.join("bin/busybox").is_file());
}

/// A 5,000-deep rootfs is packed under a descriptor limit far below its depth; the binary's
/// open descriptors, sampled from /proc/<pid>/fd while it runs, stay bounded. Proxmox's own
/// restore (`tar xpf` in `restore_tar_archive`, run by the simulator) then fails on names that
/// long, so the create is rolled back after step 3: the pack itself succeeded.
#[test]
fn a_deep_rootfs_is_packed_with_bounded_descriptors() {
    use rustix::fs::{mkdirat, openat, Mode, OFlags, CWD};
    const DEPTH: usize = 5000;
    let node = setup();
    let b = bundle(CONFIG);
    let mut dir = openat(
        CWD,
        b.path().join("rootfs/srv"),
        OFlags::RDONLY | OFlags::DIRECTORY,
        Mode::empty(),
    )
    .unwrap();
    for _ in 0..DEPTH {
        mkdirat(&dir, "d", Mode::from_raw_mode(0o755)).unwrap();
        dir = openat(&dir, "d", OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty()).unwrap();
    }
    drop(dir);
    let mut c = Command::new("prlimit");
    c.arg("--nofile=96:96").arg("--");
    let lxcri = node.lxcri();
    c.arg(lxcri.get_program())
        .args(lxcri.get_args())
        .args(["create", "deep", "--bundle"])
        .arg(b.path());
    c.envs(lxcri.get_envs().filter_map(|(k, v)| v.map(|v| (k, v))));
    let mut child = c
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // prlimit execs the binary: same pid.
    let fd_dir = PathBuf::from(format!("/proc/{}/fd", child.id()));
    let (mut max, start) = (0usize, Instant::now());
    while child.try_wait().unwrap().is_none() {
        max = max.max(fs::read_dir(&fd_dir).map(|d| d.count()).unwrap_or(0));
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "create of a deep tree did not finish"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    let out = child.wait_with_output().unwrap();
    eprintln!("depth {DEPTH}: at most {max} descriptors open in proxmox-lxcri (limit 96)");
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("step 3 (pct-create) failed") && stderr.contains("tar xpf"),
        "{stderr}"
    );
    assert!(!stderr.contains("Too many open files"), "{stderr}");
    assert!(max < 64, "{max} descriptors for a {DEPTH}-deep tree");
    nothing_created(&node);
}
