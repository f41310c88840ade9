//! The node's facts, once: every verb reads the target in one order (`--target`,
//! `PROXMOX_LXCRI_TARGET`, the node's `/etc/proxmox-lxcri/target.json`, built-in), unknown
//! releases are refused, and `target detect` reads a (simulated) node.
//!
//! The node's file is found under `PROXMOX_LXCRI_HOST_ROOT` (test-only), as Proxmox's paths
//! are, so no test writes the real /etc. `target detect` runs against the simulator's
//! `pveversion` and `pvesm` (`cargo build -p pve-sim --bins`; `cargo test --workspace` builds
//! them) and the real `crun` when it is installed.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_proxmox-lxcri");
const APP: &str = "examples/hello-app";

fn bin_dir() -> PathBuf {
    let dir = Path::new(BIN).parent().unwrap().to_path_buf();
    for sim in ["pvesm", "pveversion"] {
        assert!(
            dir.join(sim).is_file(),
            "the simulator's {sim} is not in {}: run `cargo build -p pve-sim --bins`",
            dir.display()
        );
    }
    dir
}

/// proxmox-lxcri with no target named anywhere and the host root at `root`.
fn cli(root: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.env_remove("PROXMOX_LXCRI_TARGET")
        .env("PROXMOX_LXCRI_HOST_ROOT", root)
        .env("NO_COLOR", "1");
    c
}

fn run(c: &mut Command) -> (i32, String, String) {
    let out: Output = c.output().expect("run proxmox-lxcri");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn write_target(path: &Path, bridge: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, format!("{{\"bridge\": \"{bridge}\"}}\n")).unwrap();
}

#[test]
fn every_verb_reads_the_target_in_one_order() {
    let root = tempfile::tempdir().unwrap();
    let flag = root.path().join("flag.json");
    let env = root.path().join("env.json");
    let node = root.path().join("etc/proxmox-lxcri/target.json");
    write_target(&flag, "vmbr7");
    write_target(&env, "vmbr8");

    // `extra` goes after the verb (where `--target` belongs).
    let bridge_of_with = |c: &mut Command, extra: &[&std::ffi::OsStr]| {
        let (code, out, err) = run(c.args(["convert", APP, "--verbose"]).args(extra));
        assert_eq!(code, 0, "{err}");
        let bridge = out
            .lines()
            .find_map(|l| l.strip_prefix("net0: "))
            .and_then(|l| l.split(',').find_map(|kv| kv.strip_prefix("bridge=")))
            .map(str::to_owned);
        (bridge, err)
    };
    let bridge_of = |c: &mut Command| bridge_of_with(c, &[]);
    // Nothing named, no node file: the built-in target, and --verbose says so.
    let (bridge, err) = bridge_of(&mut cli(root.path()));
    assert_eq!(bridge.as_deref(), Some("vmbr0"));
    assert!(err.contains("target: the built-in defaults"), "{err}");
    // The node's file.
    write_target(&node, "vmbr9");
    let (bridge, err) = bridge_of(&mut cli(root.path()));
    assert_eq!(bridge.as_deref(), Some("vmbr9"));
    assert!(err.contains("(the node's file)"), "{err}");
    // The environment over the node's file (convert read only --target before).
    let (bridge, err) = bridge_of(cli(root.path()).env("PROXMOX_LXCRI_TARGET", &env));
    assert_eq!(bridge.as_deref(), Some("vmbr8"));
    assert!(err.contains("(PROXMOX_LXCRI_TARGET)"), "{err}");
    // The flag over both.
    let (bridge, err) = bridge_of_with(
        cli(root.path()).env("PROXMOX_LXCRI_TARGET", &env),
        &["--target".as_ref(), flag.as_os_str()],
    );
    assert_eq!(bridge.as_deref(), Some("vmbr7"));
    assert!(err.contains("(--target)"), "{err}");

    // `target show` and `lint` resolve the same way.
    let (code, out, err) = run(cli(root.path()).args(["target", "show"]));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("\"bridge\": \"vmbr9\""), "{out}");
    let (_, _, err) = run(cli(root.path()).args(["lint", APP, "--verbose"]));
    assert!(err.contains("(the node's file)"), "{err}");

    // `create` too: it reads the target before it refuses a config that does not translate
    // (so nothing reaches a host here).
    let bundle = root.path().join("bundle");
    fs::create_dir_all(bundle.join("rootfs")).unwrap();
    fs::write(bundle.join("config.json"), "{\"ociVersion\": \"1.0.2\"}").unwrap();
    let state = root.path().join("state");
    let (code, _, err) = run(cli(root.path())
        .arg("--root")
        .arg(&state)
        .args(["--verbose", "create", "x", "--bundle"])
        .arg(&bundle));
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("target: ") && err.contains("(the node's file)"),
        "{err}"
    );

    // A node file that is there but broken is an error, never skipped.
    fs::write(&node, "{\"brdge\": \"vmbr1\"}").unwrap();
    let (code, _, err) = run(cli(root.path()).args(["convert", APP]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("target.json"), "{err}");
}

#[test]
fn an_unknown_release_is_refused_with_the_known_ones() {
    let root = tempfile::tempdir().unwrap();
    for verb in [&["convert", APP][..], &["lint", APP], &["target", "show"]] {
        let (code, out, err) = run(cli(root.path()).args(verb).args(["--pve-version", "9.3"]));
        assert_eq!(code, 2, "{verb:?}: {err}");
        assert!(out.is_empty());
        assert!(
            err.contains("unknown Proxmox VE release `9.3`") && err.contains("9.0, 9.1, 9.2"),
            "{err}"
        );
    }
    let (code, out, _) = run(cli(root.path()).args(["target", "show", "--pve-version", "9.1"]));
    assert_eq!(code, 0);
    assert!(out.contains("\"pve-container\": \"6.0.18\""), "{out}");
}

/// A simulated node unlike the built-in target in every fact detection reads.
fn odd_node() -> tempfile::TempDir {
    let root = tempfile::Builder::new().prefix("detect").tempdir().unwrap();
    fs::set_permissions(root.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let pve = root.path().join("etc/pve");
    fs::create_dir_all(&pve).unwrap();
    // `local` has no templates here, one disabled storage allows rootdir, and two active
    // ones do (detection takes the first, as pvesm sorts them, and says so).
    fs::write(
        pve.join("storage.cfg"),
        "dir: local\n\tpath /var/lib/vz\n\tcontent iso,backup\n\n\
         dir: templates\n\tpath /srv/templates\n\tcontent vztmpl\n\n\
         lvmthin: fast\n\tthinpool data\n\tvgname pve\n\tcontent rootdir,images\n\n\
         dir: bulk\n\tpath /srv/bulk\n\tcontent rootdir\n\n\
         dir: attic\n\tpath /srv/attic\n\tcontent rootdir\n\tdisable\n",
    )
    .unwrap();
    // A second bridge, and an interface that is not one.
    fs::create_dir_all(root.path().join("sys/class/net/vmbr1/bridge")).unwrap();
    fs::create_dir_all(root.path().join("sys/class/net/eno1")).unwrap();
    root
}

fn detect(root: &Path, crun: &str) -> Command {
    let dir = bin_dir();
    let path = format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut c = cli(root);
    c.env("PATH", path)
        .env("PVE_SIM_ROOT", root)
        .env("PVE_SIM_NODE", "pve7")
        .env("PVE_SIM_PVE_CONTAINER", "6.0.18")
        .args(["--crun", crun, "target", "detect"]);
    c
}

#[test]
fn detect_reads_the_node() {
    let root = odd_node();
    // No crun where --crun points: the version stays the built-in one, and a note says so.
    let (code, out, err) = run(&mut detect(root.path(), "/nonexistent/crun"));
    assert_eq!(code, 0, "{err}");
    let t: serde_json::Value = serde_json::from_str(&out).expect("a target");
    assert_eq!(t["pve-container"], "6.0.18");
    assert_eq!(t["node"], "pve7");
    assert_eq!(t["rootfs"]["storage"], "bulk", "{out}");
    assert_eq!(t["template-storage"], "templates");
    assert_eq!(t["bridge"], "vmbr0");
    assert_eq!(t["crun-version"], "1.8.1");
    assert!(err.contains("bulk chosen among bulk, fast"), "{err}");
    assert!(err.contains("vmbr0 chosen among vmbr0, vmbr1"), "{err}");
    assert!(err.contains("crun is not installed"), "{err}");
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    assert_eq!(t["arch"], arch);

    // What detect writes is a target every verb reads as the node's file.
    let file = root.path().join("etc/proxmox-lxcri/target.json");
    fs::create_dir_all(file.parent().unwrap()).unwrap();
    let (code, out, err) = run(detect(root.path(), "/nonexistent/crun")
        .arg("-o")
        .arg(&file)
        .arg("--quiet"));
    assert_eq!((code, out.as_str(), err.as_str()), (0, "", ""));
    assert_eq!(
        fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o644
    );
    let (code, shown, err) = run(cli(root.path()).args(["target", "show"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&shown).unwrap(),
        t
    );
}

#[test]
fn detect_asks_crun_for_its_version() {
    let Some(crun) = ["/usr/bin/crun", "/usr/local/bin/crun"]
        .into_iter()
        .find(|p| Path::new(p).is_file())
    else {
        panic!("crun is not installed: apt-get install -y crun");
    };
    let expected = String::from_utf8(Command::new(crun).arg("--version").output().unwrap().stdout)
        .unwrap()
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("crun version "))
        .unwrap()
        .to_owned();
    let root = odd_node();
    let (code, out, err) = run(&mut detect(root.path(), crun));
    assert_eq!(code, 0, "{err}");
    let t: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(t["crun-version"], expected.as_str());
    assert!(!err.contains("crun is not installed"), "{err}");
}

#[test]
fn detect_off_a_proxmox_node_says_so() {
    let root = tempfile::tempdir().unwrap();
    let (code, out, err) = run(cli(root.path())
        .env("PATH", "/nonexistent")
        .args(["target", "detect"]));
    assert_eq!(code, 1, "{err}");
    assert!(out.is_empty());
    assert!(
        err.contains("pveversion") && err.contains("not a Proxmox VE node"),
        "{err}"
    );
}
