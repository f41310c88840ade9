//! The Debian package: its /etc files say what the built-in defaults are, and (CI, root,
//! `--ignored`) it installs and purges cleanly with apt in a throwaway root.

use translator::policy::Policy;
use translator::Target;

#[test]
fn the_packaged_target_is_the_builtin_one_explained() {
    let text = std::fs::read_to_string("packaging/target.json").unwrap();
    let mut packaged = Target::from_json(&text).expect("a valid target");
    assert!(
        packaged.comment.iter().any(|l| l.contains("target detect")),
        "the file says how to describe the node"
    );
    packaged.comment.clear();
    assert_eq!(packaged, Target::default());
}

#[test]
fn the_packaged_policy_is_the_builtin_one() {
    let text = std::fs::read_to_string("docs/policy.example.toml").unwrap();
    assert_eq!(Policy::from_toml(&text).unwrap(), Policy::builtin());
}

/// `.ci/run` builds the package (scripts/build-deb.sh) and runs this with
/// `PROXMOX_LXCRI_DEB=target/debian/….deb cargo test --test packaging -- --ignored`.
#[test]
#[ignore = "needs root and a built .deb: PROXMOX_LXCRI_DEB=… cargo test --test packaging -- --ignored"]
fn the_deb_installs_and_purges_cleanly_with_apt() {
    let deb = std::env::var_os("PROXMOX_LXCRI_DEB")
        .expect("PROXMOX_LXCRI_DEB names the .deb to test (scripts/build-deb.sh builds it)");
    let out = std::process::Command::new("unshare")
        .args(["--mount", "--propagation", "private", "bash"])
        .arg("tests/packaging/deb-roundtrip.sh")
        .arg(&deb)
        .output()
        .expect("run unshare (util-linux)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("deb-roundtrip: ok"),
        "{stdout}\n{stderr}"
    );
}
