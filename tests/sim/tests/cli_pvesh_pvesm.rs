//! `pvesh get /cluster/nextid` and `pvesm path|list|status` through the binaries.

mod common;

use common::Root;

const NEXTID_USAGE: &str = "pvesh get <api_path> [OPTIONS] [FORMAT_OPTIONS]\n";

#[test]
fn nextid_is_the_lowest_unused_id_from_100() {
    let root = Root::new();
    let r = root.run("pvesh", &["get", "/cluster/nextid"]);
    r.ok();
    assert_eq!(r.stdout, "100\n");
    root.write_conf("100", "memory: 512\n");
    root.write_conf("102", "memory: 512\n");
    // VMIDs are cluster-wide: VMs and other nodes' guests count.
    std::fs::create_dir_all(root.join("/etc/pve/nodes/pve2/qemu-server")).unwrap();
    std::fs::write(root.join("/etc/pve/nodes/pve2/qemu-server/101.conf"), "").unwrap();
    assert_eq!(
        root.run("pvesh", &["get", "/cluster/nextid"]).stdout,
        "103\n"
    );
    assert_eq!(
        root.run(
            "pvesh",
            &["get", "cluster/nextid/", "--output-format", "json"]
        )
        .stdout,
        "103\n"
    );
    assert_eq!(
        root.run(
            "pvesh",
            &["get", "/cluster/nextid", "--output-format", "yaml"]
        )
        .stdout,
        "--- 103\n"
    );
    assert_eq!(
        root.run("pvesh", &["get", "/cluster/nextid", "--quiet"])
            .stdout,
        ""
    );
    // Not a reservation: asking twice gives the same id.
    assert_eq!(
        root.run("pvesh", &["get", "/cluster/nextid"]).stdout,
        "103\n"
    );
}

#[test]
fn nextid_with_vmid_asserts_it_is_free() {
    let root = Root::new();
    root.write_conf("150", "memory: 512\n");
    let r = root.run(
        "pvesh",
        &[
            "get",
            "/cluster/nextid",
            "--vmid",
            "151",
            "--output-format",
            "json",
        ],
    );
    r.ok();
    // The parameter comes back as the string it was given.
    assert_eq!(r.stdout, "\"151\"\n");
    assert_eq!(
        root.run("pvesh", &["get", "/cluster/nextid", "--vmid", "151"])
            .stdout,
        "151\n"
    );
    root.run("pvesh", &["get", "/cluster/nextid", "--vmid", "150"])
        .refused(&format!(
            "400 Parameter verification failed.\nvmid: VM 150 already exists\n{NEXTID_USAGE}"
        ));
    root.run("pvesh", &["get", "/cluster/nextid", "--vmid", "99"]).refused(&format!(
        "400 Parameter verification failed.\nvmid: invalid format - value does not look like a valid VM ID\n\n{NEXTID_USAGE}"
    ));
    root.run("pvesh", &["get", "/cluster/nextid", "--output-format", "xml"]).refused(&format!(
        "400 Parameter verification failed.\noutput-format: value 'xml' does not have a value in the enumeration 'text, json, json-pretty, yaml'\n{NEXTID_USAGE}"
    ));
    root.run("pvesh", &["get", "/cluster/nextid", "--type", "lxc"])
        .refused(&format!(
            "Unknown option: type\n400 unable to parse option\n{NEXTID_USAGE}"
        ));
}

#[test]
fn nextid_respects_the_datacenter_range() {
    let root = Root::new();
    let _ = root.run("pvesm", &["status"]);
    std::fs::write(
        root.join("/etc/pve/datacenter.cfg"),
        "next-id: lower=1000,upper=1002\n",
    )
    .unwrap();
    assert_eq!(
        root.run("pvesh", &["get", "/cluster/nextid"]).stdout,
        "1000\n"
    );
    root.write_conf("1000", "");
    root.write_conf("1001", "");
    root.run("pvesh", &["get", "/cluster/nextid"])
        .refused("unable to get any free VMID in range [1000, 1002]\n");
}

#[test]
fn pvesh_refuses_what_it_does_not_simulate() {
    let root = Root::new();
    root.run("pvesh", &["get", "/cluster/resources", "--type", "vm"])
        .refused("pve-sim: 'pvesh get /cluster/resources' is not simulated\n");
    root.run("pvesh", &["frob", "/x"])
        .refused_with("ERROR: unknown command 'pvesh frob'");
}

#[test]
fn pvesm_path_of_templates_and_volumes() {
    let root = Root::new();
    let r = root.run("pvesm", &["path", "local:vztmpl/app.tar.zst"]);
    r.ok();
    assert_eq!(
        r.stdout,
        format!(
            "{}\n",
            root.join("/var/lib/vz/template/cache/app.tar.zst")
                .display()
        )
    );
    assert_eq!(
        root.run("pvesm", &["path", "local-lvm:vm-100-disk-0"])
            .stdout,
        format!("{}\n", root.join("/dev/pve/vm-100-disk-0").display())
    );
    assert_eq!(
        root.run("pvesm", &["path", "local:100/vm-100-disk-0.raw"])
            .stdout,
        format!(
            "{}\n",
            root.join("/var/lib/vz/images/100/vm-100-disk-0.raw")
                .display()
        )
    );
    root.run("pvesm", &["path", "local:vztmpl/app.zip"])
        .refused("unable to parse directory volume name 'vztmpl/app.zip'\n");
    root.run("pvesm", &["path", "nope:vztmpl/a.tar"])
        .refused("storage 'nope' does not exist\n");
    root.run("pvesm", &["path", "local-lvm:disk0"])
        .refused("unable to parse lvm volume name 'disk0'\n");
    root.run("pvesm", &["path", "noid"]).refused(
        "400 Parameter verification failed.\nvolume: invalid format - unable to parse volume ID 'noid'\n\npvesm path <volume>\n",
    );
    root.run("pvesm", &["path"])
        .refused("400 not enough arguments\npvesm path <volume>\n");
    root.run(
        "pvesm",
        &["alloc", "local-lvm", "100", "vm-100-disk-0", "1G"],
    )
    .refused("pve-sim: 'pvesm alloc' is not simulated\n");
}

#[test]
fn pvesm_list_formats_like_proxmox() {
    let root = Root::new();
    let cache = root.join("/var/lib/vz/template/cache");
    std::fs::create_dir_all(&cache).unwrap();
    std::fs::write(cache.join("b.tar.zst"), vec![0u8; 1234]).unwrap();
    std::fs::write(cache.join("a.tar"), vec![0u8; 10]).unwrap();
    std::fs::write(cache.join("notes.txt"), "x").unwrap();
    let r = root.run("pvesm", &["list", "local", "--content", "vztmpl"]);
    r.ok();
    assert_eq!(
        r.stdout,
        "Volid                  Format  Type      Size VMID\n\
         local:vztmpl/a.tar     tar     vztmpl      10\n\
         local:vztmpl/b.tar.zst tzst    vztmpl    1234\n"
    );
    // Content the storage does not hold lists nothing.
    let r = root.run("pvesm", &["list", "local", "--content", "rootdir"]);
    assert_eq!(r.stdout, "Volid Format  Type      Size VMID\n");
    root.run("pvesm", &["list", "nope"])
        .refused("storage 'nope' does not exist\n");
    root.run("pvesm", &["list", "local", "--content", "templates"]).refused(
        "400 Parameter verification failed.\ncontent: invalid format - invalid content type 'templates'\n\npvesm list <storage> [OPTIONS]\n",
    );
}

#[test]
fn pvesm_status_lists_the_stock_storages() {
    let root = Root::new();
    let r = root.run("pvesm", &["status"]);
    r.ok();
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(
        lines.first().copied(),
        Some("Name             Type     Status     Total (KiB)      Used (KiB) Available (KiB)        %")
    );
    assert!(
        lines
            .get(1)
            .is_some_and(|l| l.starts_with("local             dir     active ")),
        "{lines:?}"
    );
    assert!(
        lines
            .get(2)
            .is_some_and(|l| l.starts_with("local-lvm     lvmthin     active ")),
        "{lines:?}"
    );
    let cfg = root.join("/etc/pve/storage.cfg");
    let text = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(
        &cfg,
        text.replace(
            "content rootdir,images",
            "content rootdir,images\n\tdisable",
        ),
    )
    .unwrap();
    let r = root.run("pvesm", &["status", "--storage", "local-lvm"]);
    assert!(
        r.stdout
            .lines()
            .nth(1)
            .is_some_and(|l| l.contains(" disabled ") && l.ends_with("N/A")),
        "{r:?}"
    );
    root.run("pvesm", &["status", "--storage", "nope"])
        .refused("storage 'nope' does not exist\n");
}

#[test]
fn container_calls_on_a_node_and_their_refusals() {
    let root = Root::new();
    root.write_conf(
        "100",
        "arch: amd64\nhostname: ct\nmemory: 512\nostype: unmanaged\n",
    );
    // Unknown nodes are refused as check_node_exists does.
    root.run("pvesh", &["get", "/nodes/nope/lxc/100/status/current"])
        .refused("no such cluster node 'nope'\n");
    let r = root.run(
        "pvesh",
        &[
            "get",
            "/nodes/pve/lxc/100/status/current",
            "--output-format",
            "json",
        ],
    );
    r.ok();
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["status"], "stopped");
    assert_eq!(v["vmid"], 100);
    root.run("pvesh", &["get", "/nodes/pve/lxc/101/status/current"])
        .refused("Configuration file 'nodes/pve/lxc/101.conf' does not exist\n");
    // The API method's own parameters: `forceStop` yes, an unknown one no.
    root.run(
        "pvesh",
        &[
            "create",
            "/nodes/pve/lxc/100/status/shutdown",
            "--timeout",
            "5",
            "--forceStop",
            "1",
        ],
    )
    .refused("CT 100 not running\n");
    root.run(
        "pvesh",
        &[
            "create",
            "/nodes/pve/lxc/100/status/shutdown",
            "--bogus",
            "1",
        ],
    )
    .refused_with("Unknown option: bogus");
    // Another node's call goes through the proxy, and its failure says so.
    std::fs::create_dir_all(root.join("/etc/pve/nodes/pve2/lxc")).unwrap();
    std::fs::rename(
        root.join("/etc/pve/nodes/pve/lxc/100.conf"),
        root.join("/etc/pve/nodes/pve2/lxc/100.conf"),
    )
    .unwrap();
    root.run("pvesh", &["create", "/nodes/pve2/lxc/100/status/stop"])
        .refused("CT 100 not running\nproxy handler failed: command 'pvesh --noproxy create /nodes/pve2/lxc/100/status/stop --output-format json' failed: exit code 255\n");
    root.run("pvesh", &["delete", "/nodes/pve2/lxc/100", "--purge", "1"])
        .ok();
    assert!(!root.join("/etc/pve/nodes/pve2/lxc/100.conf").exists());
}

#[test]
fn pct_migrate_moves_a_stopped_config_and_refuses_as_proxmox_does() {
    let root = Root::new();
    root.write_conf(
        "100",
        "arch: amd64\nhostname: ct\nmemory: 512\nostype: unmanaged\n",
    );
    root.pct(&["migrate", "100", "pve"])
        .refused_with("target: target is local node.");
    root.pct(&["migrate", "100", "pve2"])
        .refused("no such cluster node 'pve2'\n");
    std::fs::create_dir_all(root.join("/etc/pve/nodes/pve2/lxc")).unwrap();
    root.pct(&["migrate", "101", "pve2"])
        .refused("Configuration file 'nodes/pve/lxc/101.conf' does not exist\n");
    root.pct(&["migrate", "100", "pve2"]).ok();
    assert!(root.join("/etc/pve/nodes/pve2/lxc/100.conf").is_file());
    assert!(!root.join("/etc/pve/nodes/pve/lxc/100.conf").exists());
}
