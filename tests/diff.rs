//! `diff` on the Proxmox simulator: a container created from an image, compared with the same
//! image (no change, exit 0), with one whose config has a new Env, Cmd and label (changes that
//! `pct set` can apply, exit 1), and with one that has a layer more (a new root file system);
//! the JSON form's shape. Images are built by the test (tests/image_support).

mod image_support;
mod runtime_support;

use std::path::Path;

use image_support::{layer, TestImage, E};
use runtime_support::*;
use serde_json::{json, Value};

fn rootfs_layer(root: &Path) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    b.follow_symlinks(false);
    b.append_dir_all(".", root).expect("tar the rootfs");
    b.into_inner().expect("layer")
}

fn write(image: &TestImage, dir: &Path, name: &str) -> String {
    let archive = image.write_oci_archive(&dir.join(name), image_support::Compression::Gzip);
    format!("oci-archive:{}:latest", archive.display())
}

fn stdout_json(out: &std::process::Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn change<'v>(report: &'v Value, key: &str) -> &'v Value {
    report["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["key"] == key)
        .unwrap_or_else(|| panic!("no change {key}: {report:#}"))
}

#[test]
fn diff_tells_config_changes_from_a_new_rootfs() {
    require(SIM_TOOLS);
    ensure_subids();
    let b = bundle(CONFIG);
    let base = rootfs_layer(&b.path().join("rootfs"));
    let config = json!({
        "Env": ["PATH=/bin", "GREETING=hello"],
        "Entrypoint": ["/bin/app.sh"],
        "Labels": {"tier": "web"},
    });
    let dir = tempfile::Builder::new()
        .prefix("plxc-diff")
        .tempdir()
        .unwrap();
    let first = write(
        &TestImage::new(config.clone(), vec![base.clone()]),
        dir.path(),
        "a.tar",
    );
    let node = Node::new();
    ok(&node.run(&["create", "web", "--image", &first]));

    // The same image: nothing to do, exit 0, by id and by VMID.
    let out = node.run(&["diff", "web", "--image", &first]);
    assert!(ok(&out).contains("no change"), "{}", text(&out.stdout));
    let out = node.run(&["diff", "100", "--image", &first, "--format", "json"]);
    let report = stdout_json(&out);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(report["changed"], false);
    assert_eq!(report["id"], "web");
    assert_eq!(report["vmid"], 100);
    assert_eq!(report["node"], "pve");
    // Proxmox's own keys and the identity line are kept.
    assert_eq!(
        change(&report, "#org.proxmox-lxcri.identity")["kind"],
        "kept"
    );
    assert_eq!(
        change(&report, "net0")["kind"],
        "kept",
        "hwaddr is Proxmox's"
    );

    // A new Env, Cmd and label: changes, none needing a new root file system.
    let newer = json!({
        "Env": ["PATH=/bin", "GREETING=bye", "MODE=prod"],
        "Entrypoint": ["/bin/app.sh"],
        "Cmd": ["--fast"],
        "Labels": {"tier": "api"},
    });
    let second = write(
        &TestImage::new(newer, vec![base.clone()]),
        dir.path(),
        "b.tar",
    );
    let out = node.run(&["diff", "web", "--image", &second, "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report = stdout_json(&out);
    assert_eq!(report["changed"], true);
    assert_eq!(report["new_rootfs"], false, "{report:#}");
    let env = change(&report, "lxc.environment.runtime GREETING");
    assert_eq!(env["kind"], "changed");
    assert_eq!(env["current"], json!(["GREETING=hello"]));
    assert_eq!(env["new"], json!(["GREETING=bye"]));
    assert_eq!(env["apply"], "next-start");
    assert_eq!(
        change(&report, "lxc.environment.runtime MODE")["kind"],
        "added"
    );
    let label = change(&report, "#tier");
    assert_eq!(
        (&label["kind"], &label["apply"]),
        (&json!("changed"), &json!("hot"))
    );
    let cmd = report["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["new"].to_string().contains("--fast"))
        .unwrap_or_else(|| panic!("the new Cmd is a change: {report:#}"));
    assert_eq!(cmd["kind"], "changed", "{cmd}");
    let human = node.run(&["diff", "web", "--image", &second]);
    let shown = text(&human.stdout);
    assert_eq!(human.status.code(), Some(1));
    assert!(
        shown.contains("~ lxc.environment.runtime GREETING  [next start]")
            && shown.contains("+ lxc.environment.runtime MODE: MODE=prod")
            && shown.contains("kept: "),
        "{shown}"
    );

    // A layer more: the root file system differs.
    let top = layer(&[E::Dir("srv/", 0o755)]);
    let third = write(
        &TestImage::new(config, vec![base, top]),
        dir.path(),
        "c.tar",
    );
    let out = node.run(&["diff", "web", "--image", &third, "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let report = stdout_json(&out);
    assert_eq!(report["new_rootfs"], true);
    let rootfs = change(&report, "#org.proxmox-lxcri.image.rootfs");
    assert_eq!(
        (&rootfs["kind"], &rootfs["apply"]),
        (&json!("changed"), &json!("new-rootfs"))
    );

    // A bundle: the same one is no change; a changed config.json is.
    let dir_b = b.path().to_str().unwrap();
    ok(&node.run(&["create", "plain", "--bundle", dir_b]));
    let out = node.run(&["diff", "plain", dir_b]);
    assert!(ok(&out).contains("no change"), "{}", text(&out.stdout));
    let changed = CONFIG.replace(
        "\"GREETING=hello world\"",
        "\"GREETING=hello world\", \"EXTRA=1\"",
    );
    assert_ne!(changed, CONFIG);
    std::fs::write(b.path().join("config.json"), changed).unwrap();
    let out = node.run(&["diff", "plain", dir_b]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("+ lxc.environment.runtime EXTRA: EXTRA=1"),
        "{}",
        text(&out.stdout)
    );
    // A refused input is trouble (2), not a difference.
    std::fs::write(
        b.path().join("config.json"),
        "{\"ociVersion\": 1, \"ociVersion\": 2}",
    )
    .unwrap();
    fails(&node.run(&["diff", "plain", dir_b]), 2);
    ok(&node.run(&["delete", "plain"]));

    // Trouble is 2: an unknown container.
    fails(&node.run(&["diff", "nope", "--image", &first]), 2);
    ok(&node.run(&["delete", "web"]));
}
