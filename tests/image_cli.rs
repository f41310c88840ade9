//! `convert --image`: images the test builds (tests/image_support) through the whole
//! pipeline, as a user runs it.

mod image_support;

use std::os::unix::fs::PermissionsExt;

use assert_cmd::Command;
use image_support::{app_image, Compression};
use serde_json::Value;

fn bin() -> Command {
    Command::cargo_bin("proxmox-lxcri").unwrap()
}

fn layout() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    app_image().write_layout(dir.path());
    let r = format!("oci:{}:latest", dir.path().display());
    (dir, r)
}

#[test]
fn an_image_becomes_a_proxmox_config() {
    let (_dir, r) = layout();
    let out = bin()
        .args(["convert", "--image", &r, "--pve-version", "9.2"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stdout.contains("unprivileged: 1"), "{stdout}");
    assert!(
        stdout.contains("/bin/server"),
        "the entrypoint is the command: {stdout}"
    );
    assert!(stdout.contains("GREETING=hi"), "{stdout}");
    assert!(
        stderr.contains("image/exposed-ports"),
        "the conversion reports: {stderr}"
    );
    // Same image, same bytes.
    let again = bin()
        .args(["convert", "--image", &r, "--pve-version", "9.2"])
        .output()
        .unwrap();
    assert_eq!(out.stdout, again.stdout);
}

#[test]
fn the_crun_config_runs_the_images_process() {
    let (_dir, r) = layout();
    let out = bin()
        .args(["convert", "--image", &r, "--to", "crun"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let spec: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        spec["process"]["args"],
        serde_json::json!(["/bin/server", "--port", "8080"])
    );
    assert_eq!(spec["process"]["user"]["uid"], 1000);
    assert_eq!(spec["process"]["cwd"], "/srv");
}

#[test]
fn to_bundle_writes_the_merged_rootfs_and_the_config() {
    let dir = tempfile::tempdir().unwrap();
    let file = app_image().write_oci_archive(&dir.path().join("app.tar.zst"), Compression::Zstd);
    let bundle = dir.path().join("bundle");
    let r = format!("oci-archive:{}", file.display());
    let out = bin()
        .args(["convert", "--image", &r, "--to", "bundle", "-o"])
        .arg(&bundle)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rootfs = bundle.join("rootfs");
    assert_eq!(
        std::fs::read_to_string(rootfs.join("srv/index.html")).unwrap(),
        "hello\n"
    );
    assert!(
        !rootfs.join("bin/old-tool").exists(),
        "the whiteout deletes it"
    );
    assert_eq!(
        std::fs::read_link(rootfs.join("bin/sh")).unwrap().to_str(),
        Some("server")
    );
    let tmp = std::fs::metadata(rootfs.join("tmp"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(tmp & 0o7777, 0o1777);
    // The bundle is a bundle: the translator takes it as it is.
    let conv = bin().arg("convert").arg(&bundle).output().unwrap();
    assert_eq!(
        conv.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&conv.stderr)
    );
    // Never over something that is there.
    let again = bin()
        .args(["convert", "--image", &r, "--to", "bundle", "-o"])
        .arg(&bundle)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("not empty"));
}

#[test]
fn an_unknown_user_refuses_the_image() {
    let dir = tempfile::tempdir().unwrap();
    let mut img = app_image();
    img.config["User"] = "nobody".into();
    img.write_layout(dir.path());
    let r = format!("oci:{}", dir.path().display());
    let out = bin().args(["convert", "--image", &r]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("image/unknown-user"));
}

#[test]
fn unreadable_images_are_usage_errors_naming_what() {
    let out = bin()
        .args(["convert", "--image", "registry.example/app"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("transport"));

    let dir = tempfile::tempdir().unwrap();
    let files = app_image().write_layout(dir.path());
    let (name, bytes) = &files[0];
    std::fs::write(dir.path().join(name), &bytes[..bytes.len() / 2]).unwrap();
    let r = format!("oci:{}", dir.path().display());
    let out = bin().args(["convert", "--image", &r]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&name[13..]), "the layer is named: {stderr}");

    let out = bin()
        .args(["convert", "--image", &r, "some-bundle"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "a bundle and an image at once");
}

#[test]
fn a_layer_writing_through_its_own_symlink_is_refused_and_nothing_outside_changes() {
    let dir = tempfile::tempdir().unwrap();
    let outside = dir.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    let target = outside.display().to_string();
    let evil = image_support::layer(&[
        image_support::E::Symlink("escape", &target),
        image_support::E::File("escape/planted", b"owned", 0o644),
    ]);
    let mut img = app_image();
    img.layers.push(evil);
    let layout = dir.path().join("layout");
    img.write_layout(&layout);
    let r = format!("oci:{}", layout.display());
    let bundle = dir.path().join("bundle");
    let out = bin()
        .args(["convert", "--image", &r, "--to", "bundle", "-o"])
        .arg(&bundle)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("escape/planted"));
    assert_eq!(
        std::fs::read_dir(&outside).unwrap().count(),
        0,
        "nothing written outside"
    );
}

#[test]
fn lint_reports_what_convert_reports_for_an_image() {
    let (_dir, r) = layout();
    let out = bin()
        .args(["lint", "--no-config", "--format", "json", "--image", &r])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("image/exposed-ports"),
        "the conversion's finding: {stdout}"
    );
    assert!(
        stdout.contains("(config.json)"),
        "the converted config is linted too: {stdout}"
    );

    let dir = tempfile::tempdir().unwrap();
    let mut img = app_image();
    img.config["User"] = "nobody".into();
    img.write_layout(dir.path());
    let bad = format!("oci:{}", dir.path().display());
    let out = bin()
        .args(["lint", "--no-config", "--image", &bad])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "an error finding fails the lint"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("image/unknown-user"));

    let out = bin()
        .args(["lint", "--no-config", "--image", "oci:/nonexistent/layout"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "an unreadable image");
}

#[test]
fn the_plan_script_of_an_image_shows_the_layers_merged_and_is_shellcheck_clean() {
    let (_dir, r) = layout();
    let out = bin()
        .args(["convert", "--image", &r, "--to", "plan-sh"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let script = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        script.contains("proxmox-lxcri convert --image 'oci:/")
            && script.contains("--directory \"$image_bundle/bundle/rootfs\" ."),
        "{script}"
    );
    assert!(!script.contains("BUNDLE"), "no bundle is needed: {script}");
    let mut sc = std::process::Command::new("shellcheck");
    sc.args(["-s", "sh", "-"])
        .stdin(std::process::Stdio::piped());
    let Ok(mut child) = sc.spawn() else {
        panic!("shellcheck is needed (apt-get install shellcheck)")
    };
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let checked = child.wait_with_output().unwrap();
    assert!(
        checked.status.success(),
        "{}",
        String::from_utf8_lossy(&checked.stdout)
    );
}

#[test]
fn an_unknown_user_says_when_the_images_passwd_was_not_read() {
    use image_support::{layer, E};
    let convert = |passwd: E<'_>| {
        let dir = tempfile::tempdir().unwrap();
        let mut img = app_image();
        img.layers.push(layer(&[E::Whiteout("etc/.wh.passwd")]));
        img.layers.push(layer(&[passwd]));
        img.write_layout(dir.path());
        let r = format!("oci:{}", dir.path().display());
        let out = bin()
            .args(["convert", "--format", "json", "--image", &r])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let err = convert(E::Symlink("etc/passwd", "../usr/lib/passwd"));
    assert!(
        err.contains("/etc/passwd is a symbolic link to ../usr/lib/passwd, which is not followed"),
        "{err}"
    );
    let big = vec![b'#'; (4 << 20) + 1];
    let err = convert(E::File("etc/passwd", &big, 0o644));
    assert!(
        err.contains("/etc/passwd is 4194305 bytes, more than the 4 MiB read"),
        "{err}"
    );
}

#[test]
fn volumes_become_mount_points_on_new_volumes() {
    let dir = tempfile::tempdir().unwrap();
    let mut img = app_image();
    img.config["Volumes"] = serde_json::json!({"/srv/data": {}});
    img.write_layout(dir.path());
    let r = format!("oci:{}", dir.path().display());
    let out = bin()
        .args([
            "convert",
            "--format",
            "json",
            "--image",
            &r,
            "--volume-size",
            "3G",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stdout.contains("\nmp0: local-lvm:3,mp=/srv/data\n"),
        "{stdout}"
    );
    assert!(
        stderr.contains("image/volume")
            && stderr.contains("a new 3 GiB volume on storage local-lvm"),
        "{stderr}"
    );
    let out = bin().args(["convert", "--image", &r]).output().unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("\nmp0: local-lvm:1,mp=/srv/data\n"),
        "1 GiB without --volume-size"
    );
    let out = bin()
        .args(["convert", "--image", &r, "--volume-size", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "a size of 0 is a usage error");
}
