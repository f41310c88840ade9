//! `pveversion`: what `proxmox-lxcri target detect` reads, in pve-manager's `bin/pveversion`
//! form, and the node layout it relies on (pmxcfs's `local` link, bridges' `bridge/`).

mod common;

use common::Root;

#[test]
fn verbose_prints_the_modelled_packages_as_pveversion_does() {
    let root = Root::new();
    // Getopt::Long: the full name, one dash, or a unique prefix.
    for flag in ["--verbose", "-verbose", "-v", "--verb"] {
        let r = root.run("pveversion", &[flag]);
        assert_eq!(r.code, 0, "{flag}: {}", r.stderr);
        assert_eq!(
            r.stdout, "libpve-common-perl: 9.1.0\npve-container: 6.1.10\n",
            "{flag}"
        );
    }
    let pve91 = std::process::Command::new(common::bin_path("pveversion"))
        .arg("-v")
        .env("PVE_SIM_ROOT", root.path())
        .env("PVE_SIM_PVE_CONTAINER", "6.0.18")
        .env("PVE_SIM_PVE_COMMON", "9.0.0")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&pve91.stdout),
        "libpve-common-perl: 9.0.0\npve-container: 6.0.18\n"
    );
}

#[test]
fn other_arguments_print_the_usage_and_exit_255() {
    let root = Root::new();
    let r = root.run("pveversion", &["--foo"]);
    assert_eq!(r.code, 255);
    assert_eq!(r.stdout, "");
    assert_eq!(
        r.stderr,
        "Unknown option: foo\nUSAGE: pveversion [--verbose]\n"
    );
    let r = root.run("pveversion", &["-v", "extra"]);
    assert_eq!(r.code, 255);
    assert_eq!(r.stderr, "USAGE: pveversion [--verbose]\n");
    let r = root.run("pveversion", &["-v", "--", "extra"]);
    assert_eq!(r.code, 255);
    // The short form needs pve-manager, which the simulator does not have.
    let r = root.run("pveversion", &[]);
    assert_eq!(r.code, 255);
    assert!(r.stderr.contains("not simulated"), "{}", r.stderr);
}

#[test]
fn the_node_layout_has_pmxcfs_local_link_and_bridge_directories() {
    let root = Root::new();
    root.run("pveversion", &["-v"]);
    assert_eq!(
        std::fs::read_link(root.join("/etc/pve/local")).unwrap(),
        std::path::Path::new("nodes/pve")
    );
    assert!(root.join("/sys/class/net/vmbr0/bridge").is_dir());
    assert_eq!(
        std::fs::read_to_string(root.join("/sys/class/net/vmbr0/mtu")).unwrap(),
        "1500\n"
    );
}
