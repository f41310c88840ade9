//! Behaviours that differ between Proxmox releases, and the start-time mount checks that
//! `pct create` and `pct set` do not make: each is what Proxmox's code does, with its source in
//! `pve_sim::versions` and `pve_sim::lxcconf::prestart_mounts`. No container runs here: every
//! start below is refused before LXC is called.

mod common;

use std::process::Command;

use common::{bin_path, require_root, tiny_rootfs, Root, Run};

/// `pct` on a node with these package versions.
fn pct_on(root: &Root, versions: &[(&str, &str)], args: &[&str]) -> Run {
    let mut cmd = Command::new(bin_path("pct"));
    cmd.args(args)
        .env("PVE_SIM_ROOT", root.path())
        .env_remove("PVE_SIM_NODE");
    cmd.env_remove("PVE_SIM_PVE_CONTAINER")
        .env_remove("PVE_SIM_PVE_COMMON");
    for (k, v) in versions {
        cmd.env(k, v);
    }
    Run::from(cmd.output().expect("run pct"))
}

/// A root with a template and a privileged, stopped CT 100.
fn with_ct(versions: &[(&str, &str)]) -> Root {
    require_root();
    let root = Root::new();
    let rootfs = tiny_rootfs();
    let tpl = root.add_template(rootfs.path(), "tiny.tar.zst");
    let args = [
        "create",
        "100",
        &tpl,
        "--rootfs",
        "local-lvm:1",
        "--unprivileged",
        "0",
    ];
    pct_on(&root, versions, &args).ok();
    root
}

const PVE80: &[(&str, &str)] = &[
    ("PVE_SIM_PVE_CONTAINER", "5.0.0"),
    ("PVE_SIM_PVE_COMMON", "8.0.7"),
];

#[test]
fn devices_exist_from_pve_container_5_0_7() {
    let root = with_ct(PVE80);
    // Not in the 5.0.0 API schema: get_options knows no such option.
    let run = pct_on(&root, PVE80, &["set", "100", "--dev0", "/dev/null"]);
    assert_eq!(run.code, 255, "{run:#?}");
    assert!(run.stderr.starts_with("Unknown option: dev0\n"), "{run:#?}");
    // Not in $confdesc: a config that has one is read with a warning; parse_pct_config keeps
    // the value (Config.pm: `$handle_error->(...)` then `$conf->{$key} = $value`), but
    // update_lxc_config passes nothing through.
    let conf = root.conf("100");
    root.write_conf("100", &format!("{conf}dev0: /dev/null\n"));
    let run = pct_on(&root, PVE80, &["config", "100"]);
    assert!(
        run.stderr
            .contains("unable to parse value of 'dev0' - unknown setting 'dev0'"),
        "{run:#?}"
    );
    pct_on(&root, PVE80, &["set", "100", "--hostname", "old"]).ok();
    let lxc = std::fs::read_to_string(root.join("/var/lib/lxc/100/config")).unwrap_or_default();
    assert!(
        lxc.contains("lxc.uts.name = old") && !lxc.contains("dev/null"),
        "{lxc}"
    );
    // 5.0.7 has it.
    let v507 = &[("PVE_SIM_PVE_CONTAINER", "5.0.7")];
    pct_on(&root, v507, &["set", "100", "--dev0", "/dev/null"]).ok();
    assert!(pct_on(&root, v507, &["config", "100"])
        .stdout
        .contains("dev0: /dev/null\n"));
}

#[test]
fn percent_in_descriptions_is_escaped_from_pve_common_8_2_2() {
    let root = with_ct(&[]);
    pct_on(&root, &[], &["set", "100", "--description", "100% %20"]).ok();
    assert!(
        root.conf("100").starts_with("#100%25 %2520\n"),
        "{}",
        root.conf("100")
    );
    pct_on(&root, PVE80, &["set", "100", "--description", "100% %20"]).ok();
    assert!(
        root.conf("100").starts_with("#100% %20\n"),
        "{}",
        root.conf("100")
    );
    // What the older node reads back: `%20` has become a space.
    let run = pct_on(&root, PVE80, &["config", "100"]);
    assert!(run.stdout.contains("description: 100%  %0A\n"), "{run:#?}");
}

#[test]
fn application_containers_get_dev_shm_from_pve_container_6_1_10() {
    let lxc_config = |root: &Root| {
        std::fs::read_to_string(root.join("/var/lib/lxc/100/config")).unwrap_or_default()
    };
    let shm = "lxc.mount.entry = shm dev/shm tmpfs rw,nosuid,nodev,create=dir 0 0\n";
    let root = with_ct(&[]);
    pct_on(&root, &[], &["set", "100", "--entrypoint", "/app"]).ok();
    assert!(lxc_config(&root).contains(shm), "{}", lxc_config(&root));
    let pve91 = &[("PVE_SIM_PVE_CONTAINER", "6.0.18")];
    let root = with_ct(pve91);
    pct_on(&root, pve91, &["set", "100", "--entrypoint", "/app"]).ok();
    assert!(
        !lxc_config(&root).contains("dev/shm"),
        "{}",
        lxc_config(&root)
    );
}

#[test]
fn a_bind_mount_point_of_a_file_is_accepted_but_does_not_start() {
    let root = with_ct(&[]);
    let file = tempfile::NamedTempFile::new().expect("temp file");
    let path = file.path().display().to_string();
    pct_on(
        &root,
        &[],
        &["set", "100", "--mp0", &format!("{path},mp=/etc/app.conf")],
    )
    .ok();
    pct_on(&root, &[], &["start", "100"])
        .refused_with(&format!("directory '{path}' does not exist\n"));
    assert!(
        root.conf("100").contains("mp0: "),
        "the config is left as it was"
    );
}

#[test]
fn a_mount_point_under_dev_is_a_device_to_mount_not_a_bind() {
    let root = with_ct(&[]);
    pct_on(
        &root,
        &[],
        &["set", "100", "--mp0", "/dev/null,mp=/dev/null"],
    )
    .ok();
    pct_on(&root, &[], &["start", "100"]).refused_with("command 'mount /dev/null /dev/null' failed: exit code 32 (/dev/null: not a block device)\n");
}
