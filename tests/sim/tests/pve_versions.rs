//! Behaviours that differ between Proxmox releases, and the start-time mount checks that
//! `pct create` and `pct set` do not make: each is what Proxmox's code does, with its source in
//! `pve_sim::versions` and `pve_sim::lxcconf::prestart_mounts`. No container runs here: every
//! start below is refused before LXC is called.

mod common;

use common::Root;

const PVE80: &[(&str, &str)] = &[
    ("PVE_SIM_PVE_CONTAINER", "5.0.0"),
    ("PVE_SIM_PVE_COMMON", "8.0.7"),
];

#[test]
fn devices_exist_from_pve_container_5_0_7() {
    let root = Root::with_ct(PVE80, &[]).0;
    // Not in the 5.0.0 API schema: get_options knows no such option.
    let run = root.run_on("pct", PVE80, &["set", "100", "--dev0", "/dev/null"]);
    assert_eq!(run.code, 255, "{run:#?}");
    assert!(run.stderr.starts_with("Unknown option: dev0\n"), "{run:#?}");
    // Not in $confdesc: a config that has one is read with a warning; parse_pct_config keeps
    // the value (Config.pm: `$handle_error->(...)` then `$conf->{$key} = $value`), but
    // update_lxc_config passes nothing through.
    let conf = root.conf("100");
    root.write_conf("100", &format!("{conf}dev0: /dev/null\n"));
    let run = root.run_on("pct", PVE80, &["config", "100"]);
    assert!(
        run.stderr
            .contains("unable to parse value of 'dev0' - unknown setting 'dev0'"),
        "{run:#?}"
    );
    root.run_on("pct", PVE80, &["set", "100", "--hostname", "old"])
        .ok();
    let lxc = std::fs::read_to_string(root.join("/var/lib/lxc/100/config")).unwrap_or_default();
    assert!(
        lxc.contains("lxc.uts.name = old") && !lxc.contains("dev/null"),
        "{lxc}"
    );
    // 5.0.7 has it.
    let v507 = &[("PVE_SIM_PVE_CONTAINER", "5.0.7")];
    root.run_on("pct", v507, &["set", "100", "--dev0", "/dev/null"])
        .ok();
    assert!(root
        .run_on("pct", v507, &["config", "100"])
        .stdout
        .contains("dev0: /dev/null\n"));
}

#[test]
fn percent_in_descriptions_is_escaped_from_pve_common_8_2_2() {
    let root = Root::with_ct(&[], &[]).0;
    root.run_on("pct", &[], &["set", "100", "--description", "100% %20"])
        .ok();
    assert!(
        root.conf("100").starts_with("#100%25 %2520\n"),
        "{}",
        root.conf("100")
    );
    root.run_on("pct", PVE80, &["set", "100", "--description", "100% %20"])
        .ok();
    assert!(
        root.conf("100").starts_with("#100% %20\n"),
        "{}",
        root.conf("100")
    );
    // What the older node reads back: `%20` has become a space.
    let run = root.run_on("pct", PVE80, &["config", "100"]);
    assert!(run.stdout.contains("description: 100%  %0A\n"), "{run:#?}");
}

#[test]
fn application_containers_get_dev_shm_from_pve_container_6_1_10() {
    let lxc_config = |root: &Root| {
        std::fs::read_to_string(root.join("/var/lib/lxc/100/config")).unwrap_or_default()
    };
    let shm = "lxc.mount.entry = shm dev/shm tmpfs rw,nosuid,nodev,create=dir 0 0\n";
    let root = Root::with_ct(&[], &[]).0;
    root.run_on("pct", &[], &["set", "100", "--entrypoint", "/app"])
        .ok();
    assert!(lxc_config(&root).contains(shm), "{}", lxc_config(&root));
    let pve91 = &[("PVE_SIM_PVE_CONTAINER", "6.0.18")];
    let root = Root::with_ct(pve91, &[]).0;
    root.run_on("pct", pve91, &["set", "100", "--entrypoint", "/app"])
        .ok();
    assert!(
        !lxc_config(&root).contains("dev/shm"),
        "{}",
        lxc_config(&root)
    );
}

#[test]
fn a_bind_mount_point_of_a_file_is_accepted_but_does_not_start() {
    let root = Root::with_ct(&[], &[]).0;
    let file = tempfile::NamedTempFile::new().expect("temp file");
    let path = file.path().display().to_string();
    root.run_on(
        "pct",
        &[],
        &["set", "100", "--mp0", &format!("{path},mp=/etc/app.conf")],
    )
    .ok();
    root.run_on("pct", &[], &["start", "100"])
        .refused_with(&format!("directory '{path}' does not exist\n"));
    assert!(
        root.conf("100").contains("mp0: "),
        "the config is left as it was"
    );
}

#[test]
fn a_mount_point_under_dev_is_a_device_to_mount_not_a_bind() {
    let root = Root::with_ct(&[], &[]).0;
    root.run_on(
        "pct",
        &[],
        &["set", "100", "--mp0", "/dev/null,mp=/dev/null"],
    )
    .ok();
    root.run_on("pct", &[], &["start", "100"]).refused_with("command 'mount /dev/null /dev/null' failed: exit code 32 (/dev/null: not a block device)\n");
}

/// The API schema follows the node's pve-container both ways from the vendored snapshot
/// (`older_than_api_schema` and `newer_than_api_schema` in schemas/pve-lxc-config.json, each
/// entry with its commit): what a release lacks or refuses, it refuses here.
#[test]
fn the_api_schema_is_the_node_releases() {
    let root = Root::with_ct(&[], &[]).0;
    let set = |version: &str, args: &[&str]| {
        let mut argv = vec!["set", "100"];
        argv.extend_from_slice(args);
        root.run_on("pct", &[("PVE_SIM_PVE_CONTAINER", version)], &argv)
    };
    let refused = |version: &str, args: &[&str], why: &str| {
        let run = set(version, args);
        assert!(
            run.code != 0 && run.stderr.contains(why),
            "{version} {args:?}: {run:#?}"
        );
    };
    let accepted = |version: &str, args: &[&str]| {
        let run = set(version, args);
        assert_eq!(run.code, 0, "{version} {args:?}: {run:#?}");
    };
    // `entrypoint` and `env` came in 6.0.15 (PVE 9.1's development; 9.0 has 6.0.9).
    refused(
        "6.0.9",
        &["--entrypoint", "/app"],
        "Unknown option: entrypoint",
    );
    refused("6.0.9", &["--env", "A=1"], "Unknown option: env");
    accepted("6.0.15", &["--entrypoint", "/app"]);
    // Empty values from 6.0.17, tabs from 6.0.18 (in both keys).
    refused("6.0.16", &["--env", "A="], "env");
    accepted("6.0.17", &["--env", "A="]);
    refused("6.0.17", &["--env", "A=a\tb"], "env");
    accepted("6.0.18", &["--env", "A=a\tb"]);
    refused("6.0.17", &["--entrypoint", "/app\t-x"], "entrypoint");
    accepted("6.0.18", &["--entrypoint", "/app\t-x"]);
    // Mount point options: `keepattrs` from 6.1.2, per-mount `idmap` from 6.1.6.
    refused("6.1.1", &["--mp0", "/srv,mp=/mnt,keepattrs=1"], "keepattrs");
    accepted("6.1.2", &["--mp0", "/srv,mp=/mnt,keepattrs=1"]);
    let idmap = ["--mp1", "/srv,mp=/opt,idmap=passthrough"];
    let old = set("6.1.5", &idmap);
    assert!(
        old.code != 0 && old.stderr.contains("idmap") && !old.stderr.contains("not simulated"),
        "{old:#?}"
    );
    // 6.1.6's schema has it; what the mapping does at start is not modelled, and says so.
    refused("6.1.6", &idmap, "per-mount-point idmap is not simulated");
}
