//! Attacks on the state and identity defences, through the real binary on the Proxmox
//! simulator with real LXC. Each test asserts that nothing outside the attacked container
//! changed: the other container's config and rootfs, a canary file, the simulator's /etc/pve.
//!
//! - A VMID destroyed out of band and reused by another container: no verb of the old id acts
//!   on the new container (`pct destroy --purge` of someone else's CT was the finding).
//! - A state root others can write, or reached through a symlink, is refused before any record
//!   in it is read: a planted `creating` + `undo.json` naming a canary file removes nothing.
//! - Records others can write, or that are symlinks, are refused the same way.
//! - A corrupt record is removed by `delete --force` without touching any container.
//! - Asking about unknown ids leaves no lock file.
//! - `stop` reads nothing from the bundle: its config.json replaced by a FIFO does not hang it,
//!   and the stop signal comes from the record (all three stop-signal annotations count).

mod runtime_support;

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use runtime_support::*;

fn setup() -> (Node, tempfile::TempDir) {
    require(SIM_TOOLS);
    ensure_subids();
    (Node::new(), bundle(CONFIG))
}

/// Every entry under `dir` with what would show a change: type, size, mode, owner, mtime and,
/// for small regular files, the content. Symlinks are not followed.
/// `/etc/pve` without the ledger (`priv/proxmox-lxcri`), whose entries `delete --force`
/// removes with the record it forgets: the Proxmox configs and storage settings.
fn configs_snapshot(node: &Node) -> BTreeMap<PathBuf, String> {
    let mut s = snapshot(&node.host("/etc/pve"));
    s.retain(|p, _| !p.starts_with("priv"));
    s
}

fn snapshot(dir: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            let m = fs::symlink_metadata(&p).unwrap();
            let mut line = format!(
                "{:o} {} {}:{} {} {}",
                m.mode(),
                m.len(),
                m.uid(),
                m.gid(),
                m.mtime(),
                m.mtime_nsec()
            );
            if m.file_type().is_symlink() {
                line.push_str(&format!(" -> {}", fs::read_link(&p).unwrap().display()));
            } else if m.is_file() && m.len() < 1 << 20 {
                line.push_str(&format!(" {:?}", fs::read(&p).unwrap_or_default()));
            } else if m.is_dir() {
                stack.push(p.clone());
            }
            out.insert(p.strip_prefix(dir).unwrap().to_path_buf(), line);
        }
    }
    out
}

fn conf(node: &Node, vmid: u32) -> String {
    fs::read_to_string(node.host(&format!("/etc/pve/nodes/pve/lxc/{vmid}.conf")))
        .unwrap_or_default()
}

#[test]
fn a_reused_vmid_is_never_acted_on_in_the_old_containers_name() {
    let (node, b) = setup();
    let bundle = b.path().to_str().unwrap();
    ok(&node.run(&["create", "web", "--bundle", bundle]));
    assert_eq!(node.configs(), ["100.conf"]);
    let web_conf = conf(&node, 100);
    assert!(
        web_conf.starts_with("#org.proxmox-lxcri.identity=web;"),
        "create stamps the config: {web_conf}"
    );

    // Out of band: CT 100 is destroyed, and another container is created and gets VMID 100.
    let out = node.sim_cmd("pct", &["destroy", "100", "--purge"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let other = bundle_with_hostname("other");
    ok(&node
        .lxcri()
        .args(["create", "other", "--bundle"])
        .arg(other.path())
        .output()
        .unwrap());
    assert_eq!(node.configs(), ["100.conf"]);
    ok(&node.run(&["start", "other"]));
    let running = state_json(&node.run(&["state", "other"]));
    assert_eq!(running["status"], "running");
    let pid = running["pid"].as_i64().unwrap();

    let pve_before = configs_snapshot(&node);
    let rootfs_before = snapshot(&node.host("/dev/pve"));
    assert!(
        !rootfs_before.is_empty(),
        "the other container's volume is under /dev/pve"
    );

    for verb in [
        &["state", "web"][..],
        &["start", "web"],
        &["stop", "web"],
        &["kill", "web", "KILL"],
        &["kill", "--all", "web", "KILL"],
        &["delete", "web"],
    ] {
        let err = fails(&node.run(verb), 1);
        assert!(
            err.contains("refusing to act on Proxmox CT 100: container web (CT 100 on node pve) was created by proxmox-lxcri, but CT 100 now is proxmox-lxcri container \"other\" (hostname \"other\")"),
            "{verb:?}: {err}"
        );
        assert!(
            err.contains("delete --force web` forgets the record"),
            "{verb:?}: {err}"
        );
    }
    // Forced: the record goes, CT 100 stays.
    let out = node.run(&["delete", "--force", "web"]);
    let err = text(&out.stderr);
    ok(&out);
    assert!(
        err.contains("--force removed only the record of web"),
        "{err}"
    );
    assert_eq!(node.records(), ["other"]);
    // The forgotten record's ledger entry went with it; the other container's stays.
    assert!(!node.host("/etc/pve/priv/proxmox-lxcri/web.json").exists());
    assert!(node
        .host("/etc/pve/priv/proxmox-lxcri/other.json")
        .is_file());

    assert_eq!(
        configs_snapshot(&node),
        pve_before,
        "no config in /etc/pve changed"
    );
    assert_eq!(
        snapshot(&node.host("/dev/pve")),
        rootfs_before,
        "the other container's rootfs is unchanged"
    );
    let now = state_json(&node.run(&["state", "other"]));
    assert_eq!(
        (now["status"].as_str(), now["pid"].as_i64()),
        (Some("running"), Some(pid)),
        "the other container still runs, not signalled"
    );
    ok(&node.run(&["delete", "--force", "other"]));
    assert_eq!(node.configs(), Vec::<String>::new());
}

fn bundle_with_hostname(name: &str) -> tempfile::TempDir {
    let b = bundle(&CONFIG.replace(
        "\"hostname\": \"app\"",
        &format!("\"hostname\": \"{name}\""),
    ));
    assert!(fs::read_to_string(b.path().join("config.json"))
        .unwrap()
        .contains(name));
    b
}

/// A container directory with what a killed create leaves, its undo journal naming `canary`.
fn plant_interrupted_create(root: &Path, canary: &Path) {
    let dir = root.join("web");
    fs::create_dir_all(&dir).unwrap();
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).unwrap();
    fs::write(
        dir.join("creating"),
        r#"{"pid": 1, "started": "2026-01-01T00:00:00Z", "bundle": "/b"}"#,
    )
    .unwrap();
    let undo = format!(
        r#"[{{"step": "step 1 (write-file)", "undo": "remove-file", "path": "{}"}}, {{"step": "step 2 (x)", "undo": "run", "argv": ["pvesh", "set", "/access/acl", "--path", "/", "--roles", "Administrator", "--users", "mallory@pve"]}}]"#,
        canary.display()
    );
    fs::write(dir.join("undo.json"), undo).unwrap();
    for f in ["creating", "undo.json"] {
        fs::set_permissions(dir.join(f), fs::Permissions::from_mode(0o600)).unwrap();
    }
}

#[test]
fn a_state_root_others_can_write_or_reach_through_a_symlink_is_refused() {
    let (node, _b) = setup();
    let canary_dir = tempfile::tempdir().unwrap();
    let canary = canary_dir.path().join("canary");
    fs::write(&canary, "keep me").unwrap();
    let root = node.state_dir();
    // The sticky tempdir ancestors (/tmp) are fine; the store itself is checked.
    ok(&node.run(&["list"]));
    plant_interrupted_create(&root, &canary);
    let pve_before = configs_snapshot(&node);

    let root_s = root.display().to_string();
    for (mode, reason) in [
        (0o777, "writable by its group and by others"),
        (0o1777, "writable by its group and by others"),
        (0o770, "writable by its group"),
        (0o703, "writable by others"),
    ] {
        fs::set_permissions(&root, fs::Permissions::from_mode(mode)).unwrap();
        for verb in [
            &["delete", "--force", "web"][..],
            &["state", "web"],
            &["list"],
            &["create", "web", "--bundle", "/nonexistent"],
        ] {
            let err = fails(&node.run(verb), 1);
            assert!(
                err.contains(&format!(
                    "refusing {root_s}: it is {reason} (mode {mode:04o})"
                )),
                "{mode:o} {verb:?}: {err}"
            );
        }
    }
    fs::set_permissions(&root, fs::Permissions::from_mode(0o700)).unwrap();

    // Owned by another user.
    std::os::unix::fs::chown(&root, Some(65534), None).unwrap();
    let err = fails(&node.run(&["delete", "--force", "web"]), 1);
    assert!(
        err.contains("it is owned by uid 65534, not by root"),
        "{err}"
    );
    std::os::unix::fs::chown(&root, Some(0), None).unwrap();

    // A symlink on the way: as the root itself, and as an ancestor.
    let link = node.dir.path().join("link");
    std::os::unix::fs::symlink(&root, &link).unwrap();
    let err = fails(
        &with_root(&node, &link)
            .args(["delete", "--force", "web"])
            .output()
            .unwrap(),
        1,
    );
    assert!(
        err.contains(&format!("refusing {}: it is a symlink", link.display())),
        "{err}"
    );
    let up = node.dir.path().join("up");
    std::os::unix::fs::symlink(node.dir.path(), &up).unwrap();
    let err = fails(
        &with_root(&node, &up.join("state"))
            .args(["delete", "--force", "web"])
            .output()
            .unwrap(),
        1,
    );
    assert!(err.contains("it is a symlink"), "{err}");

    // Inside a good root: a record others can write, or a symlinked one, is refused too.
    fs::set_permissions(
        root.join("web/undo.json"),
        fs::Permissions::from_mode(0o666),
    )
    .unwrap();
    let err = fails(&node.run(&["delete", "web"]), 1);
    assert!(
        err.contains("undo.json: it is writable by its group and by others"),
        "{err}"
    );
    fs::set_permissions(
        root.join("web/undo.json"),
        fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    std::os::unix::fs::chown(root.join("web/undo.json"), Some(65534), None).unwrap();
    let err = fails(&node.run(&["delete", "web"]), 1);
    assert!(err.contains("undo.json: it is owned by uid 65534"), "{err}");
    fs::remove_file(root.join("web/undo.json")).unwrap();
    std::os::unix::fs::symlink(&canary, root.join("web/undo.json")).unwrap();
    let err = fails(&node.run(&["delete", "web"]), 1);
    assert!(err.contains("undo.json: it is a symlink"), "{err}");

    assert_eq!(
        fs::read_to_string(&canary).unwrap(),
        "keep me",
        "the canary is intact"
    );
    assert_eq!(
        configs_snapshot(&node),
        pve_before,
        "no ACL or config changed"
    );
    assert!(
        !node.host("/etc/pve/user.cfg").exists()
            || !fs::read_to_string(node.host("/etc/pve/user.cfg"))
                .unwrap()
                .contains("mallory")
    );
}

#[test]
fn a_corrupt_record_is_removed_by_force_without_touching_any_container() {
    let (node, b) = setup();
    let bundle = b.path().to_str().unwrap();
    ok(&node.run(&["create", "web", "--bundle", bundle]));
    ok(&node.run(&["create", "db", "--bundle", bundle]));
    assert_eq!(node.configs(), ["100.conf", "101.conf"]);
    fs::write(node.state_dir().join("web/state.json"), "{\"ociVersion\": ").unwrap();
    let pve_before = configs_snapshot(&node);
    let rootfs_before = snapshot(&node.host("/dev/pve"));

    let err = fails(&node.run(&["delete", "web"]), 1);
    assert!(err.contains("state.json is corrupt"), "{err}");
    let out = node.run(&["delete", "--force", "web"]);
    let err = text(&out.stderr);
    ok(&out);
    assert!(err.contains("--force removed it without acting on any Proxmox container; its mapping names Proxmox CT 100 on node pve, which was not touched"), "{err}");
    assert_eq!(node.records(), ["db"]);
    assert_eq!(
        configs_snapshot(&node),
        pve_before,
        "CT 100 and CT 101 are untouched"
    );
    assert_eq!(snapshot(&node.host("/dev/pve")), rootfs_before);
    assert_eq!(state_json(&node.run(&["state", "db"]))["status"], "created");

    // A huge record is refused by size, not read into memory.
    let big = fs::File::create(node.state_dir().join("db/mapping.json")).unwrap();
    big.set_len(64 << 20).unwrap();
    let err = fails(&node.run(&["state", "db"]), 1);
    assert!(
        err.contains("mapping.json: it is 67108864 bytes; records are at most 1048576"),
        "{err}"
    );
    ok(&node.run(&["delete", "--force", "db"]));
    assert_eq!(
        configs_snapshot(&node),
        pve_before,
        "CT 101 stays: its record could not be verified"
    );
    assert_eq!(node.records(), Vec::<String>::new());
}

#[test]
fn unknown_ids_leave_no_lock_file() {
    let (node, _b) = setup();
    for verb in [
        &["state", "nosuch"][..],
        &["start", "nosuch"],
        &["stop", "nosuch"],
        &["kill", "nosuch"],
        &["delete", "nosuch"],
    ] {
        let err = fails(&node.run(verb), 1);
        assert!(
            err.contains("container nosuch does not exist"),
            "{verb:?}: {err}"
        );
    }
    // runc and crun exit 0 for `delete --force` of an unknown id (engines call it to clean up);
    // it must leave no lock behind either.
    ok(&node.run(&["delete", "--force", "nosuch"]));
    assert_eq!(
        names(&node.state_dir().join(".locks")),
        Vec::<String>::new()
    );
}

#[test]
fn stop_never_reads_the_bundle_and_uses_the_recorded_signal() {
    let (node, b) = setup();
    let bundle = b.path().to_str().unwrap();
    ok(&node.run(&["run", "-d", "web", "--bundle", bundle]));
    wait_for("the entrypoint", Duration::from_secs(15), || {
        node.console("100").contains("ready")
    });
    // The bundle's config.json becomes a FIFO: reading it would block forever.
    let config = b.path().join("config.json");
    fs::remove_file(&config).unwrap();
    rustix_mkfifo(&config);
    let mut child = node
        .lxcri()
        .args(["stop", "web", "--timeout", "10"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("stop hung: it read the bundle's config.json");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success());
    assert!(
        node.console("100").contains("got TERM"),
        "stop sent the recorded SIGTERM"
    );
    ok(&node.run(&["delete", "web"]));

    // Each of the three annotations the translator honours is what gets recorded.
    for (i, key) in [
        "org.proxmox-lxcri.stop-signal",
        "org.opencontainers.image.stopSignal",
        "io.containerd.image.config.stop-signal",
    ]
    .iter()
    .enumerate()
    {
        let with = bundle_with_annotation(key, "SIGQUIT");
        let id = format!("s{i}");
        ok(&node
            .lxcri()
            .args(["create", &id, "--bundle"])
            .arg(with.path())
            .output()
            .unwrap());
        let mapping: serde_json::Value = serde_json::from_slice(
            &fs::read(node.state_dir().join(&id).join("mapping.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(mapping["stop_signal"], "SIGQUIT", "{key}");
        ok(&node.run(&["delete", &id]));
    }
}

fn bundle_with_annotation(key: &str, value: &str) -> tempfile::TempDir {
    let b = bundle(&CONFIG.replace(
        "\"hostname\": \"app\",",
        &format!("\"hostname\": \"app\", \"annotations\": {{\"{key}\": \"{value}\"}},"),
    ));
    assert!(fs::read_to_string(b.path().join("config.json"))
        .unwrap()
        .contains(key));
    b
}

/// `proxmox-lxcri` on the node with another `--root`.
fn with_root(node: &Node, root: &Path) -> std::process::Command {
    let mut path = vec![bin_dir()];
    path.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_proxmox-lxcri"));
    c.env("PATH", std::env::join_paths(path).unwrap())
        .env("PVE_SIM_ROOT", node.sim())
        .env("PROXMOX_LXCRI_HOST_ROOT", node.sim())
        .arg("--root")
        .arg(root);
    c
}

fn rustix_mkfifo(path: &Path) {
    let out = std::process::Command::new("mkfifo")
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success(), "mkfifo: {}", text(&out.stderr));
}
