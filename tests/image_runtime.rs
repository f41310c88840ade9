//! `create --image` / `run --image` on the Proxmox simulator with real LXC: an image the test
//! builds from a busybox root file system (tests/image_support) goes create → start → state →
//! kill → delete with its layers streamed into the template (no bundle on disk), and the
//! process the image's config describes (its `User` by name, `Env`, `WorkingDir`) is the one
//! that runs. A tampered blob is refused before anything is made.

mod image_support;
mod runtime_support;

use std::path::Path;
use std::time::Duration;

use image_support::{layer, TestImage, E};
use runtime_support::*;
use serde_json::json;

/// A layer holding the busybox rootfs of a [`bundle`], as `tar` of the directory has it.
fn rootfs_layer(root: &Path) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    b.follow_symlinks(false);
    b.append_dir_all(".", root).expect("tar the rootfs");
    b.into_inner().expect("layer")
}

/// The busybox application as an image: the rootfs, then a layer that removes a file of it
/// (a whiteout the template must apply), with the config `CONFIG` has as a runtime config.
fn app_image() -> (tempfile::TempDir, TestImage) {
    let b = bundle(CONFIG);
    std::fs::write(b.path().join("rootfs/srv/stale"), "from the first layer").unwrap();
    let top = layer(&[E::Dir("srv/", 0o755), E::Whiteout("srv/.wh.stale")]);
    let image = TestImage::new(
        json!({
            "User": "app",
            "Env": ["PATH=/bin", "GREETING=hello world"],
            "Entrypoint": ["/bin/app.sh"],
            "WorkingDir": "/srv",
            "StopSignal": "SIGTERM",
            "Volumes": {"/var/data": {}},
        }),
        vec![rootfs_layer(&b.path().join("rootfs")), top],
    );
    (b, image)
}

fn setup() -> (Node, tempfile::TempDir, String) {
    require(SIM_TOOLS);
    ensure_subids();
    let (_bundle, image) = app_image();
    let dir = tempfile::Builder::new()
        .prefix("plxc-image")
        .tempdir()
        .unwrap();
    let archive = image.write_oci_archive(
        &dir.path().join("app.tar.zst"),
        image_support::Compression::Zstd,
    );
    let reference = format!("oci-archive:{}:latest", archive.display());
    (Node::new(), dir, reference)
}

#[test]
fn an_image_runs_on_proxmox_without_a_bundle() {
    let (node, dir, reference) = setup();
    let out = node.run(&[
        "create",
        "web",
        "--image",
        &reference,
        "--volume-size",
        "2G",
    ]);
    assert_eq!(ok(&out), "", "create prints nothing on stdout");
    assert!(
        text(&out.stderr).contains("`/var/data` becomes a mount point on a new 2 GiB volume"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(node.configs(), ["100.conf"]);
    assert_eq!(
        node.templates(),
        Vec::<String>::new(),
        "the intermediate template is removed"
    );
    let conf = std::fs::read_to_string(node.host("/etc/pve/nodes/pve/lxc/100.conf")).unwrap();
    assert!(
        conf.contains("lxc.init.uid: 1000\n") && conf.contains("lxc.init.cwd: /srv\n"),
        "the image's User (by name, from its /etc/passwd) and WorkingDir: {conf}"
    );
    let mp0 = conf
        .lines()
        .find(|l| l.starts_with("mp0: "))
        .unwrap_or_default();
    assert!(
        mp0.contains("mp=/var/data") && mp0.contains("size=2G"),
        "the image's volume is a new mount point volume: {conf}"
    );

    let s = state_json(&node.run(&["state", "web"]));
    assert_eq!(s["status"], "created");
    assert_eq!(
        s["bundle"],
        dir.path().join("app.tar.zst").to_str().unwrap(),
        "the state names the image as the container's origin"
    );

    ok(&node.run(&["start", "web"]));
    let s = state_json(&node.run(&["state", "web"]));
    assert_eq!(s["status"], "running");
    let pid = s["pid"].as_i64().expect("a running container has a pid");
    assert!(
        proc_field(pid, "Uid").starts_with("101000"),
        "init runs as app (1000), shifted by 100000"
    );
    wait_for("the entrypoint's output", Duration::from_secs(15), || {
        node.console("100").contains("ready")
    });
    assert!(
        node.console("100")
            .contains("uid=1000 gid=1000 cwd=/srv GREETING=hello world\n"),
        "{}",
        node.console("100")
    );
    // The whiteout of the second layer was applied: the file is not in the container, and
    // what the first layer has beside it is.
    let out = node
        .lxcri()
        .args(["exec", "web", "ls", "-a", "/srv", "/bin/app.sh"])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("exec");
    let listed = ok(&out);
    assert!(
        !listed.contains("stale") && listed.contains("/bin/app.sh"),
        "{listed}"
    );
    // The image's volume is mounted there, not a directory of the root file system.
    let out = node
        .lxcri()
        .args(["exec", "web", "cat", "/proc/mounts"])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("exec");
    assert!(
        ok(&out).contains(" /var/data "),
        "/var/data is a mount point"
    );

    ok(&node.run(&["kill", "web", "TERM"]));
    wait_for("the container to stop", Duration::from_secs(15), || {
        state_json(&node.run(&["state", "web"]))["status"] == "stopped"
    });
    assert!(node.console("100").contains("got TERM"));
    ok(&node.run(&["delete", "web"]));
    assert_eq!(node.configs(), Vec::<String>::new());
    assert_eq!(node.records(), Vec::<String>::new());
}

#[test]
fn a_tampered_layer_is_refused_and_nothing_is_made() {
    require(SIM_TOOLS);
    let (_bundle, image) = app_image();
    let dir = tempfile::tempdir().unwrap();
    let files = image.write_layout(dir.path());
    // The first layer blob, one byte changed: its digest no longer matches.
    let (name, bytes) = files
        .iter()
        .filter(|(n, _)| n.starts_with("blobs/"))
        .max_by_key(|(_, b)| b.len())
        .unwrap();
    let mut bad = bytes.clone();
    let mid = bad.len() / 2;
    bad[mid] ^= 0xff;
    std::fs::write(dir.path().join(name), bad).unwrap();
    let node = Node::new();
    let reference = format!("oci:{}:latest", dir.path().display());
    let err = fails(&node.run(&["create", "web", "--image", &reference]), 2);
    assert!(err.contains(&name[13..]), "the bad blob is named: {err}");
    assert_eq!(node.configs(), Vec::<String>::new());
    assert_eq!(node.templates(), Vec::<String>::new());
    assert_eq!(node.records(), Vec::<String>::new());
}

#[test]
fn run_image_on_crun_is_refused_with_the_way_to_a_bundle() {
    let (node, _dir, reference) = setup();
    let err = fails(
        &node.run(&["create", "web", "--runtime", "crun", "--image", &reference]),
        2,
    );
    assert!(err.contains("--to bundle"), "{err}");
    assert_eq!(node.records(), Vec::<String>::new());
}

#[test]
fn a_plan_from_an_image_applies_with_the_image_the_operator_names() {
    let (node, dir, reference) = setup();
    let plan = dir.path().join("plan.json");
    // From another directory, with a relative reference: the plan records the absolute one.
    let out = node
        .lxcri()
        .current_dir(dir.path())
        .args([
            "convert",
            "--image",
            "oci-archive:app.tar.zst",
            "--to",
            "plan",
            "-o",
        ])
        .arg(&plan)
        .output()
        .unwrap();
    ok(&out);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&plan).unwrap()).unwrap();
    let archive = dir.path().join("app.tar.zst");
    assert_eq!(
        json["steps"][0]["rootfs"],
        json!({"image": {"reference": format!("oci-archive:{}", archive.display())}}),
        "{json}"
    );
    let named = format!("oci-archive:{}", archive.display());
    // A plan alone cannot make root read a file into a container: the image must be the one
    // the operator names (as a host directory must be `--host-rootfs`).
    let err = fails(
        &node.run(&["apply", "--dry-run", plan.to_str().unwrap()]),
        1,
    );
    assert!(
        err.contains("/steps/0/rootfs/image") && err.contains("no image was named"),
        "{err}"
    );
    let printed = ok(&node.run(&[
        "apply",
        "--dry-run",
        "--image",
        &named,
        plan.to_str().unwrap(),
    ]));
    assert!(
        printed.contains(&format!(
            "pack-image: oci-archive:{} -> ",
            archive.display()
        )),
        "{printed}"
    );
    assert_eq!(
        node.configs(),
        Vec::<String>::new(),
        "a dry run makes nothing"
    );
    ok(&node.run(&["apply", "--image", &named, plan.to_str().unwrap()]));
    assert_eq!(node.configs(), ["100.conf"]);
    assert_eq!(node.templates(), Vec::<String>::new());
    drop(reference);

    // The same plan naming a device as its image is refused before the first step.
    let mut hostile = json.clone();
    hostile["steps"][0]["rootfs"]["image"]["reference"] = "docker-archive:/dev/zero".into();
    std::fs::write(&plan, serde_json::to_vec(&hostile).unwrap()).unwrap();
    let err = fails(
        &node.run(&["apply", "--image", &named, plan.to_str().unwrap()]),
        1,
    );
    assert!(
        err.contains("/steps/0/rootfs/image/reference") && err.contains("kernel file system"),
        "{err}"
    );
    assert_eq!(node.configs(), ["100.conf"], "nothing more was made");
}

#[test]
fn a_plan_cannot_pack_a_file_the_operator_did_not_name() {
    let (node, dir, reference) = setup();
    let plan = dir.path().join("plan.json");
    ok(&node.run(&[
        "convert",
        "--image",
        &reference,
        "--to",
        "plan",
        "-o",
        plan.to_str().unwrap(),
    ]));
    // The attacker's plan points the image at a root-only archive of the node (here: a copy of
    // the test's image, made unreadable to anyone but root, standing in for any secret file).
    let secret = dir.path().join("secret.tar.zst");
    std::fs::copy(dir.path().join("app.tar.zst"), &secret).unwrap();
    std::fs::set_permissions(&secret, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&plan).unwrap()).unwrap();
    json["steps"][0]["rootfs"]["image"]["reference"] =
        format!("oci-archive:{}", secret.display()).into();
    std::fs::write(&plan, serde_json::to_vec(&json).unwrap()).unwrap();
    for extra in [&[][..], &["--image", reference.as_str()][..]] {
        let mut argv = vec!["apply"];
        argv.extend_from_slice(extra);
        argv.push(plan.to_str().unwrap());
        let err = fails(&node.run(&argv), 1);
        assert!(
            err.contains("/steps/0/rootfs/image") && err.contains("apply --image"),
            "{argv:?}: {err}"
        );
    }
    assert_eq!(node.configs(), Vec::<String>::new(), "no container");
    assert_eq!(node.templates(), Vec::<String>::new(), "no template");
    assert_eq!(node.records(), Vec::<String>::new(), "no record");
}

#[test]
fn run_image_creates_and_starts() {
    let (node, _dir, reference) = setup();
    ok(&node.run(&["run", "--detach", "app", "--image", &reference]));
    assert_eq!(
        state_json(&node.run(&["state", "app"]))["status"],
        "running"
    );
    wait_for("the entrypoint's output", Duration::from_secs(15), || {
        node.console("100").contains("ready")
    });
    ok(&node.run(&["delete", "--force", "app"]));
    assert_eq!(node.configs(), Vec::<String>::new());
    assert_eq!(node.records(), Vec::<String>::new());
}
