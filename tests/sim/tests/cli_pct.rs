//! `pct` through the binary: every refusal with Proxmox's message and exit code, and the
//! config-level effects of create/set/config/destroy (no container is started here).

mod common;

use common::{require_root, tiny_rootfs, Root};
use std::fs::OpenOptions;

const CREATE_USAGE: &str = "pct create <vmid> <ostemplate> [OPTIONS]\n";
const SET_USAGE: &str = "pct set <vmid> [OPTIONS]\n";

fn param_error(lines: &str, usage: &str) -> String {
    format!("400 Parameter verification failed.\n{lines}{usage}")
}

/// A root with a template and a privileged CT 100 on local-lvm.
fn with_ct() -> (Root, String) {
    Root::with_ct(&[], &["--hostname", "ct100"])
}

#[test]
fn refuses_to_run_without_a_state_root() {
    for bin in ["pct", "pvesh", "pvesm"] {
        let args: &[&str] = match bin {
            "pct" => &["list"],
            "pvesh" => &["get", "/cluster/nextid"],
            _ => &["status"],
        };
        let out = std::process::Command::new(common::bin_path(bin))
            .args(args)
            .env_remove("PVE_SIM_ROOT")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(255), "{bin}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("PVE_SIM_ROOT is not set"), "{bin}: {err}");
    }
}

#[test]
fn unknown_and_unsimulated_commands() {
    let root = Root::new();
    root.pct(&["frobnicate"])
        .refused_with("ERROR: unknown command 'pct frobnicate'\n");
    root.pct(&[]).refused_with("ERROR: no command specified\n");
    root.pct(&["exec", "100", "--", "true"])
        .refused("pve-sim: 'pct exec' is not simulated\n");
    // Abbreviated commands are refused (Proxmox would expand them).
    root.pct(&["cre", "100", "x"])
        .refused_with("unknown command 'pct cre'");
}

#[test]
fn list_prints_nothing_without_containers() {
    let root = Root::new();
    let r = root.pct(&["list"]);
    r.ok();
    assert_eq!(r.stdout, "");
    root.pct(&["list", "--foo"])
        .refused("Unknown option: foo\n400 unable to parse option\npct list \n");
}

#[test]
fn create_option_refusals() {
    let root = Root::new();
    let tpl = "local:vztmpl/t.tar.zst";
    let create = |extra: &[&str]| {
        let mut args = vec!["create", "100", tpl];
        args.extend_from_slice(extra);
        root.pct(&args)
    };
    create(&["--foo", "1"]).refused(&format!(
        "Unknown option: foo\n400 unable to parse option\n{CREATE_USAGE}"
    ));
    create(&["--lxc.init.cmd", "/bin/sh"]).refused(&format!(
        "Unknown option: lxc.init.cmd\n400 unable to parse option\n{CREATE_USAGE}"
    ));
    create(&["--net32", "name=eth0"]).refused_with("Unknown option: net32\n");
    create(&["--mem", "512"]).refused_with("Unknown option: mem\n");
    create(&["--Memory", "512"]).refused_with("Unknown option: Memory\n");
    create(&["--node", "other"]).refused_with("Unknown option: node\n");
    create(&["--memory"])
        .refused_with("Option memory requires an argument\n400 unable to parse option\n");
    root.pct(&["create", "100"])
        .refused(&format!("400 not enough arguments\n{CREATE_USAGE}"));
    root.pct(&["create", "100", tpl, "extra"])
        .refused(&format!("400 too many arguments\n{CREATE_USAGE}"));
    create(&["--unprivileged", "maybe"]).refused(&format!(
        "400 unable to parse boolean option\n{CREATE_USAGE}"
    ));

    create(&["--memory", "8"]).refused(&param_error(
        "memory: value must have a minimum value of 16\n",
        CREATE_USAGE,
    ));
    create(&["--memory", "lots"]).refused(&param_error(
        "memory: type check ('integer') failed - got 'lots'\n",
        CREATE_USAGE,
    ));
    create(&["--cores", "0"]).refused(&param_error(
        "cores: value must have a minimum value of 1\n",
        CREATE_USAGE,
    ));
    create(&["--tty", "7"]).refused(&param_error(
        "tty: value must have a maximum value of 6\n",
        CREATE_USAGE,
    ));
    create(&["--cpulimit", "1.5x"]).refused(&param_error(
        "cpulimit: type check ('number') failed - got '1.5x'\n",
        CREATE_USAGE,
    ));
    create(&["--hostname", "-bad"]).refused(&param_error(
        "hostname: invalid format - value does not look like a valid DNS name\n\n",
        CREATE_USAGE,
    ));
    create(&["--ostype", "windows"]).refused(&param_error(
        "ostype: value 'windows' does not have a value in the enumeration 'debian, devuan, ubuntu, centos, fedora, opensuse, archlinux, alpine, gentoo, nixos, unmanaged'\n",
        CREATE_USAGE,
    ));
    create(&["--arch", "s390x"])
        .refused_with("arch: value 's390x' does not have a value in the enumeration");
    create(&["--env", "NOT VALID=1"]).refused(&param_error(
        "env: value does not match the regex pattern\n",
        CREATE_USAGE,
    ));
    create(&["--entrypoint", "/bin/sh\x01"]).refused(&param_error(
        "entrypoint: value does not match the regex pattern\n",
        CREATE_USAGE,
    ));
    create(&["--description", &"x".repeat(8193)]).refused(&param_error(
        "description: value may only be 8192 characters long\n",
        CREATE_USAGE,
    ));
    create(&["--password", "abc"]).refused(&param_error(
        "password: value must be at least 5 characters long\n",
        CREATE_USAGE,
    ));
    create(&["--tags", "ok;not ok!"]).refused(&param_error(
        "tags: invalid format - invalid characters in tag\n\n",
        CREATE_USAGE,
    ));
    create(&["--startup", "0"]).refused(&param_error(
        "startup: invalid format - unable to parse startup options\n\n",
        CREATE_USAGE,
    ));
    create(&["--nameserver", "1.1.1.300"]).refused(&param_error(
        "nameserver: invalid format - value does not look like a valid IP address\n\n",
        CREATE_USAGE,
    ));
    create(&["--hookscript", "nocolon"]).refused(&param_error(
        "hookscript: invalid format - unable to parse volume ID 'nocolon'\n\n",
        CREATE_USAGE,
    ));
    create(&["--storage", "x"]).refused(&param_error(
        "storage: invalid format - storage ID 'x' cannot be shorter than 2 characters\n\n",
        CREATE_USAGE,
    ));
    create(&["--timezone", "Mars/Olympus"]).refused(&param_error(
        "timezone: invalid format - invalid time zone 'Mars/Olympus'\n\n",
        CREATE_USAGE,
    ));
    create(&["--unique", "1"]).refused(&param_error(
        "restore: missing property required by 'unique'\n",
        CREATE_USAGE,
    ));
}

#[test]
fn vmid_refusals() {
    let root = Root::new();
    root.pct(&["create", "99", "local:vztmpl/t.tar"])
        .refused(&param_error(
            "vmid: invalid format - value does not look like a valid VM ID\n\n",
            CREATE_USAGE,
        ));
    root.pct(&["create", "1000000000", "local:vztmpl/t.tar"])
        .refused(&param_error(
            "vmid: invalid format - value does not look like a valid VM ID\n\n",
            CREATE_USAGE,
        ));
    root.pct(&["status", "abc"]).refused(
        "400 Parameter verification failed.\nvmid: type check ('integer') failed - got 'abc'\npct status <vmid> [OPTIONS]\n",
    );
}

#[test]
fn property_string_refusals() {
    let root = Root::new();
    let tpl = "local:vztmpl/t.tar.zst";
    let create = |key: &str, value: &str| root.pct(&["create", "100", tpl, key, value]);
    create("--net0", "name=eth0,foo=1").refused(&param_error(
        "net0: invalid format - invalid key in comma-separated list property: foo\n\n",
        CREATE_USAGE,
    ));
    create("--net0", "name=eth0,name=eth1").refused(&param_error(
        "net0: invalid format - duplicate key in comma-separated list property: name\n\n",
        CREATE_USAGE,
    ));
    create("--net0", "bridge=vmbr0").refused(&param_error(
        "net0: invalid format - format error\nnet0.name: property is missing and it is not optional\n\n",
        CREATE_USAGE,
    ));
    create("--net0", "name=eth0,ip=10.0.0.1").refused(&param_error(
        "net0: invalid format - format error\nnet0.ip: invalid format - value does not look like a valid ipv4 network configuration\n\n\n",
        CREATE_USAGE,
    ));
    create("--net0", "name=eth0,hwaddr=01:00:00:00:00:01").refused_with(
        "net0.hwaddr: invalid format - value does not look like a valid unicast MAC address\n",
    );
    create("--net0", "name=eth0,tag=4095")
        .refused_with("net0.tag: value must have a maximum value of 4094\n");
    create("--net0", "name=eth0,type=macvlan").refused_with(
        "net0.type: value 'macvlan' does not have a value in the enumeration 'veth'\n",
    );
    create("--net0", "name=eth0,firewall=maybe")
        .refused_with("net0.firewall: type check ('boolean') failed - got 'maybe'\n");
    create("--rootfs", "local-lvm:8,foo=1").refused_with(
        "rootfs: invalid format - invalid key in comma-separated list property: foo\n",
    );
    create("--rootfs", "local-lvm:8,mp=/").refused_with(
        "rootfs: invalid format - invalid key in comma-separated list property: mp\n",
    );
    create("--rootfs", "local-lvm:8,mountoptions=noatime;sync")
        .refused_with("rootfs.mountoptions: value does not match the regex pattern\n");
    create("--rootfs", "local-lvm:8,idmap=u:0:1")
        .refused_with("rootfs.idmap: value does not match the regex pattern\n");
    create("--mp0", "local-lvm:8")
        .refused_with("mp0.mp: property is missing and it is not optional\n");
    create("--mp0", "/srv,mp=/a/../b")
        .refused_with("mp0.mp: invalid format - /a/../b contains illegal character sequences\n");
    create("--mp0", "/srv,mp=/data,size=8g").refused_with(
        "mp0.size: invalid format - value does not look like a valid disk size: 8g\n",
    );
    create("--features", "nesting=1,docker=1").refused_with(
        "features: invalid format - invalid key in comma-separated list property: docker\n",
    );
    create("--dev0", "/tmp/x")
        .refused_with("dev0.path: invalid format - /tmp/x is not a valid device path\n");
    create("--unused0", "=x")
        .refused_with("unused0: invalid format - missing key in comma-separated list property\n");
}

#[test]
fn env_takes_one_value_on_the_command_line() {
    let (root, tpl) = with_ct();
    root.pct(&["destroy", "100"]).ok();
    root.pct(&[
        "create",
        "101",
        &tpl,
        "--rootfs",
        "local-lvm:1",
        "--unprivileged",
        "0",
        "--env",
        "A=1",
        "--env",
        "B=two words",
    ])
    .ok();
    let conf = root.conf("101");
    assert!(
        conf.contains("lxc.environment.runtime: B=two words\n"),
        "{conf}"
    );
    assert!(
        !conf.contains("A=1"),
        "only the last --env survives: {conf}"
    );
}

#[test]
fn template_and_storage_refusals() {
    let root = Root::new();
    let rootfs = tiny_rootfs();
    let tpl = root.add_template(rootfs.path(), "tiny.tar.zst");
    // A stock install: 'local' holds templates, not container volumes.
    root.pct(&["create", "100", &tpl]).refused(&param_error(
        "storage: storage 'local' does not support container directories\n",
        CREATE_USAGE,
    ));
    root.pct(&["create", "100", &tpl, "--rootfs", "8"])
        .refused_with("storage: storage 'local' does not support container directories\n");
    root.pct(&["create", "100", &tpl, "--rootfs", "nope:8"])
        .refused("storage 'nope' does not exist\n");
    root.pct(&[
        "create",
        "100",
        "local:vztmpl/t.zip",
        "--rootfs",
        "local-lvm:8",
    ])
    .refused("unable to parse directory volume name 'vztmpl/t.zip'\n");
    root.pct(&[
        "create",
        "100",
        "local:iso/x.iso",
        "--rootfs",
        "local-lvm:8",
    ])
    .refused("unable to use volume local:iso/x.iso - content type needs to be 'vztmpl'\n");
    root.pct(&[
        "create",
        "100",
        "local-lvm:vztmpl/x.tar",
        "--rootfs",
        "local-lvm:8",
    ])
    .refused("unable to parse lvm volume name 'vztmpl/x.tar'\n");
    root.pct(&["create", "100", "-", "--rootfs", "local-lvm:8"])
        .refused("pipe can only be used with restore tasks\n");
    root.pct(&["create", "100", &tpl, "--mp0", "local-lvm:1,mp=/data"])
        .refused("mount points configured, but 'rootfs' not set - aborting\n");
    root.pct(&[
        "create",
        "100",
        &tpl,
        "--rootfs",
        "local-lvm:1",
        "--pool",
        "p1",
    ])
    .refused("403 Permission check failed (pool 'p1' does not exist)\n");
    root.pct(&[
        "create",
        "100",
        &tpl,
        "--rootfs",
        "local-lvm:1",
        "--restore",
        "1",
    ])
    .refused_with("is not simulated");
    assert_eq!(
        root.conf("100"),
        "",
        "refused creates leave no config behind"
    );
}

#[test]
fn create_failing_in_the_worker_cleans_up() {
    require_root();
    let root = Root::new();
    let r = root.pct(&[
        "create",
        "100",
        "local:vztmpl/missing.tar.zst",
        "--rootfs",
        "local-lvm:1",
    ]);
    r.refused("unable to create CT 100 - can't find file 'local:vztmpl/missing.tar.zst'\n");
    assert!(!root.join("/etc/pve/nodes/pve/lxc/100.conf").exists());
    assert!(
        !root.join("/dev/pve/vm-100-disk-0").exists(),
        "the allocated volume is freed"
    );
    // A template that is not a tar archive fails in tar, with the command in the message.
    std::fs::create_dir_all(root.join("/var/lib/vz/template/cache")).unwrap();
    std::fs::write(
        root.join("/var/lib/vz/template/cache/bad.tar.gz"),
        "not gzip",
    )
    .unwrap();
    root.pct(&[
        "create",
        "100",
        "local:vztmpl/bad.tar.gz",
        "--rootfs",
        "local-lvm:1",
        "--unprivileged",
        "0",
    ])
    .refused_with("unable to create CT 100 - command 'tar xpf - -z --totals");
    assert!(!root.join("/etc/pve/nodes/pve/lxc/100.conf").exists());
}

#[test]
fn create_writes_the_canonical_config() {
    let (root, tpl) = with_ct();
    let r = root.pct(&[
        "create",
        "101",
        &tpl,
        "--rootfs",
        "local-lvm:2",
        "--unprivileged",
        "0",
        "--net0",
        "bridge=vmbr0,ip=dhcp,name=eth0",
        "--tags",
        "Web,db;web",
        "--description",
        "line one\nline: two",
        "--cpuunits",
        "20000",
        "--mp0",
        "local-lvm:1,mp=/data,backup=1",
    ]);
    r.ok();
    assert!(r.stdout.contains("extracting archive '"), "{}", r.stdout);
    let conf = root.conf("101");
    let hwaddr = conf
        .lines()
        .find_map(|l| l.strip_prefix("net0: name=eth0,bridge=vmbr0,hwaddr="))
        .and_then(|rest| rest.split(',').next())
        .unwrap_or_else(|| panic!("net0 with generated hwaddr: {conf}"))
        .to_string();
    assert!(hwaddr.starts_with("BC:24:11:"), "{hwaddr}");
    assert_eq!(
        conf,
        format!(
            "#line one\n#line%3A two\narch: amd64\ncpuunits: 10000\nhostname: CT101\nmemory: 512\n\
             mp0: local-lvm:vm-101-disk-1,mp=/data,backup=1,size=1G\n\
             net0: name=eth0,bridge=vmbr0,hwaddr={hwaddr},ip=dhcp,type=veth\nostype: unmanaged\n\
             rootfs: local-lvm:vm-101-disk-0,size=2G\nswap: 512\ntags: db;web\n"
        )
    );
    // --unprivileged 0 writes no 'unprivileged' line; the default (1) does (and unpacks the
    // template inside lxc-usernsexec, which needs root's subordinate ids).
    common::ensure_subids();
    root.pct(&[
        "create",
        "102",
        &tpl,
        "--rootfs",
        "local-lvm:1",
        "--hostname",
        "u",
    ])
    .ok();
    assert!(root.conf("102").contains("unprivileged: 1\n"));
}

#[test]
fn second_create_with_the_same_id_is_refused() {
    let (root, tpl) = with_ct();
    root.pct(&["create", "100", &tpl, "--rootfs", "local-lvm:1"])
        .refused("CT 100 already exists on node 'pve'\n");
    // Guests on other nodes and VMs count too (VMIDs are cluster-wide).
    std::fs::create_dir_all(root.join("/etc/pve/nodes/pve2/qemu-server")).unwrap();
    std::fs::write(
        root.join("/etc/pve/nodes/pve2/qemu-server/105.conf"),
        "memory: 512\n",
    )
    .unwrap();
    root.pct(&["create", "105", &tpl, "--rootfs", "local-lvm:1"])
        .refused("VM 105 already exists on node 'pve2'\n");
}

#[test]
fn set_refusals() {
    let (root, _) = with_ct();
    let set = |extra: &[&str]| {
        let mut args = vec!["set", "100"];
        args.extend_from_slice(extra);
        root.pct(&args)
    };
    set(&["--lxc.init.cmd", "/bin/sh"]).refused(&format!(
        "Unknown option: lxc.init.cmd\n400 unable to parse option\n{SET_USAGE}"
    ));
    set(&["--lxc", "lxc.init.cmd: /bin/sh"]).refused_with("Unknown option: lxc\n");
    set(&["--unprivileged", "1"]).refused("unable to modify read-only option: 'unprivileged'\n");
    set(&["--delete", "memory"]).refused("unable to delete required option 'memory'\n");
    set(&["--delete", "rootfs,ostype"]).refused("unable to delete required option 'rootfs'\n");
    set(&["--delete", "lxc.init.cmd"]).refused(&param_error(
        "delete: invalid format - invalid configuration ID 'lxc.init.cmd'\n\n",
        SET_USAGE,
    ));
    set(&["--delete", "frobnicate"]).refused(&param_error(
        "delete: unknown option 'frobnicate'\n",
        SET_USAGE,
    ));
    set(&["--memory", "1024", "--delete", "memory"]).refused(&param_error(
        "delete: you can't use '-memory' and -delete memory' at the same time\n",
        SET_USAGE,
    ));
    set(&[]).refused("no options specified\n");
    set(&[
        "--digest",
        "0000000000000000000000000000000000000000",
        "--memory",
        "1024",
    ])
    .refused("detected modified configuration - file changed by other user? Try again.\n");
    set(&["--net0", "name=eth0,bridge=vmbr0,mtu=9000"])
        .refused("net0: MTU size '9000' is bigger than bridge MTU '1500'\n");
    set(&["--net0", "name=eth0,bridge=vmbr0,host-managed=1,ip6=auto"])
        .refused("net0: SLAAC is not supported for host-managed network configuration.\n");
    set(&["--dev0", "/dev/nonexistent-sim"])
        .refused("Device /dev/nonexistent-sim does not exist\n");
    set(&["--hookscript", "local:snippets/hook.pl"])
        .refused("script 'local:snippets/hook.pl' does not exist\n");
    root.pct(&["set", "999", "--memory", "1024"])
        .refused("Configuration file 'nodes/pve/lxc/999.conf' does not exist\n");
    let before = root.conf("100");
    assert!(
        !before.contains("lxc."),
        "refused sets change nothing: {before}"
    );
}

#[test]
fn set_applies_like_proxmox_on_a_stopped_ct() {
    let (root, _) = with_ct();
    let pct = |args: &[&str]| root.pct(args);
    pct(&[
        "set",
        "100",
        "--tags",
        "B a;b",
        "--onboot",
        "yes",
        "--description",
        "hello",
    ])
    .ok();
    pct(&[
        "set",
        "100",
        "--env",
        "GREETING=hi there",
        "--entrypoint",
        "/bin/sh -c 'echo hi'",
    ])
    .ok();
    pct(&["set", "100", "--delete", "onboot", "--cores", "2"]).ok();
    let r = pct(&["set", "100", "--delete", "onboot"]);
    r.ok();
    assert_eq!(
        r.stderr,
        "cannot delete 'onboot' - not set in current configuration!\n"
    );
    let conf = root.conf("100");
    assert_eq!(
        conf,
        "#hello\narch: amd64\ncores: 2\nentrypoint: /bin/sh -c 'echo hi'\nhostname: ct100\nmemory: 512\n\
         ostype: unmanaged\nrootfs: local-lvm:vm-100-disk-0,size=1G\nswap: 512\ntags: a;b\n\
         lxc.environment.runtime: GREETING=hi there\n"
    );
    // Raw keys appended by root survive Proxmox's rewrites, in order.
    let mut f = OpenOptions::new()
        .append(true)
        .open(root.join("/etc/pve/nodes/pve/lxc/100.conf"))
        .unwrap();
    std::io::Write::write_all(&mut f, b"lxc.init.cwd: /srv\nlxc.signal.halt = SIGTERM\nlxc.apparmor.raw: a\nlxc.apparmor.raw: a\n").unwrap();
    pct(&["set", "100", "--delete", "env"]).ok();
    let conf = root.conf("100");
    assert!(conf.ends_with("tags: a;b\nlxc.init.cwd: /srv\nlxc.signal.halt: SIGTERM\nlxc.apparmor.raw: a\nlxc.apparmor.raw: a\n"), "{conf}");
    // A bridge that does not exist is only noticed when the LXC config is regenerated: the
    // change is already written, and the command fails.
    pct(&["set", "100", "--net1", "name=eth1,bridge=vmbr9"])
        .refused("bridge 'vmbr9' does not exist\n");
    assert!(root
        .conf("100")
        .contains("net1: name=eth1,bridge=vmbr9,hwaddr=BC:24:11:"));
}

#[test]
fn config_output() {
    let (root, _) = with_ct();
    root.pct(&["set", "100", "--description", "a\nb"]).ok();
    let mut f = OpenOptions::new()
        .append(true)
        .open(root.join("/etc/pve/nodes/pve/lxc/100.conf"))
        .unwrap();
    std::io::Write::write_all(
        &mut f,
        b"lxc.environment.runtime: A=1\nlxc.environment.runtime: B=2\nlxc.init.uid: 1000\n\n[pve:pending]\nmemory: 2048\ndelete: swap\n",
    )
    .unwrap();
    let r = root.pct(&["config", "100"]);
    r.ok();
    assert_eq!(
        r.stdout,
        "arch: amd64\ndescription: a%0Ab%0A\nenv: A=1\0B=2\nhostname: ct100\nmemory: 2048\nostype: unmanaged\n\
         rootfs: local-lvm:vm-100-disk-0,size=1G\nlxc.init.uid: 1000\n"
    );
    let r = root.pct(&["config", "100", "--current"]);
    assert!(
        r.stdout.contains("memory: 512\n") && r.stdout.contains("swap: 512\n"),
        "{}",
        r.stdout
    );
    root.pct(&["config", "100", "--current", "--snapshot", "s1"]).refused(
        "400 Parameter verification failed.\ncurrent: cannot use 'snapshot' parameter with 'current'\nsnapshot: cannot use 'snapshot' parameter with 'current'\npct config <vmid> [OPTIONS]\n",
    );
    root.pct(&["config", "100", "--snapshot", "s1"])
        .refused("snapshot 's1' does not exist\n");
    root.pct(&["config", "999"])
        .refused("Configuration file 'nodes/pve/lxc/999.conf' does not exist\n");
}

#[test]
fn lifecycle_refusals_without_lxc() {
    let (root, _) = with_ct();
    root.pct(&["start", "999"])
        .refused("Configuration file 'nodes/pve/lxc/999.conf' does not exist\n");
    root.pct(&["shutdown", "100"])
        .refused("CT 100 not running\n");
    root.pct(&["stop", "100"]).refused("CT 100 not running\n");
    root.pct(&["status", "999"])
        .refused("Configuration file 'nodes/pve/lxc/999.conf' does not exist\n");
    root.pct(&["shutdown", "100", "--timeout", "-1"])
        .refused_with("timeout: value must have a minimum value of 0\n");
    root.pct(&["destroy", "100", "--purge", "maybe"])
        .refused_with("400 unable to parse boolean option\n");
    // A boolean flag takes the next word as its value when it does not look like an option.
    root.pct(&["destroy", "--purge", "100"])
        .refused_with("400 not enough arguments\n");

    root.pct(&["set", "100", "--protection", "1"]).ok();
    root.pct(&["destroy", "100"])
        .refused("can't remove CT 100 - protection mode enabled\n");
    root.pct(&["set", "100", "--delete", "protection", "--template", "1"])
        .ok();
    root.pct(&["start", "100"])
        .refused("you can't start a CT if it's a template\n");
    root.pct(&["set", "100", "--lock", "backup"]).ok();
    root.pct(&["set", "100", "--memory", "1024"])
        .refused("CT is locked (backup)\n");
    root.pct(&["destroy", "100"])
        .refused("CT is locked (backup)\n");
    root.pct(&["unlock", "100"]).ok();
    root.pct(&["unlock", "100"])
        .refused("no lock found trying to remove any lock\n");
}

#[test]
fn status_and_list_of_a_stopped_ct() {
    let (root, _) = with_ct();
    let r = root.pct(&["status", "100"]);
    r.ok();
    assert_eq!(r.stdout, "status: stopped\n");
    let r = root.pct(&["status", "100", "--verbose"]);
    r.ok();
    let keys: Vec<&str> = r
        .stdout
        .lines()
        .filter_map(|l| l.split(':').next())
        .collect();
    assert_eq!(
        keys,
        vec![
            "cpus",
            "disk",
            "diskread",
            "diskwrite",
            "maxdisk",
            "maxmem",
            "maxswap",
            "mem",
            "name",
            "netin",
            "netout",
            "status",
            "swap",
            "type",
            "uptime",
            "vmid"
        ]
    );
    assert!(r.stdout.contains("maxdisk: 1073741824\n") && r.stdout.contains("status: stopped\n"));
    let r = root.pct(&["list"]);
    r.ok();
    assert_eq!(
        r.stdout,
        "VMID       Status     Lock         Name                \n100        stopped                 ct100               \n"
    );
}

#[test]
fn destroy_removes_config_and_volumes() {
    let (root, _) = with_ct();
    assert!(root.join("/dev/pve/vm-100-disk-0").is_dir());
    let r = root.pct(&["destroy", "100", "--purge"]);
    r.ok();
    assert_eq!(r.stdout, "purging CT 100 from related configurations..\n");
    assert!(!root.join("/etc/pve/nodes/pve/lxc/100.conf").exists());
    assert!(!root.join("/dev/pve/vm-100-disk-0").exists());
    root.pct(&["destroy", "100"])
        .refused("Configuration file 'nodes/pve/lxc/100.conf' does not exist\n");
}

#[test]
fn config_lock_is_a_flock_on_the_proxmox_lock_file() {
    let (root, _) = with_ct();
    let lock = std::fs::File::create(root.join("/run/lock/lxc/pve-config-100.lock")).unwrap();
    // flock(2) as `File::lock` does; that method is Rust 1.89, the workspace's MSRV is 1.88.
    // SAFETY: flock takes any descriptor; `lock` keeps this one open for the call.
    let locked = unsafe { libc::flock(std::os::fd::AsRawFd::as_raw_fd(&lock), libc::LOCK_EX) };
    assert_eq!(locked, 0, "flock: {}", std::io::Error::last_os_error());
    let release = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(700));
        drop(lock);
    });
    let started = std::time::Instant::now();
    let r = root.pct(&["set", "100", "--memory", "1024"]);
    release.join().unwrap();
    r.ok();
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(600),
        "pct set waited for the lock"
    );
    assert_eq!(r.stderr, "trying to acquire lock...\n OK\n");
    assert!(root.conf("100").contains("memory: 1024\n"));
}

#[test]
fn ostype_is_detected_from_the_unpacked_template() {
    require_root();
    let root = Root::new();
    let alpine = tiny_rootfs();
    std::fs::write(
        alpine.path().join("etc/os-release"),
        "NAME=\"Alpine Linux\"\nID=alpine\n",
    )
    .unwrap();
    let tpl = root.add_template(alpine.path(), "alpine.tar.gz");
    let r = root.pct(&[
        "create",
        "100",
        &tpl,
        "--rootfs",
        "local-lvm:1",
        "--unprivileged",
        "0",
        "--ostype",
        "debian",
    ]);
    r.ok();
    // The detected type wins over the requested one, with Proxmox's warning.
    assert!(
        r.stdout
            .contains("got unexpected ostype (alpine != debian)\n"),
        "{r:?}"
    );
    assert!(root.conf("100").contains("ostype: alpine\n"));
    // No /bin/sh in the template: architecture detection falls back to amd64.
    assert!(r.stdout.contains("Falling back to amd64.\n"), "{r:?}");

    let unknown = tiny_rootfs();
    std::fs::write(unknown.path().join("etc/os-release"), "ID=plan9\n").unwrap();
    let tpl = root.add_template(unknown.path(), "plan9.tar");
    root.pct(&[
        "create",
        "101",
        &tpl,
        "--rootfs",
        "local-lvm:1",
        "--unprivileged",
        "0",
    ])
    .refused("unable to create CT 101 - unable to detect OS distribution\n");
    assert_eq!(root.conf("101"), "");
    // ostype 'unmanaged' skips detection.
    root.pct(&[
        "create",
        "101",
        &tpl,
        "--rootfs",
        "local-lvm:1",
        "--unprivileged",
        "0",
        "--ostype",
        "unmanaged",
    ])
    .ok();
    assert!(root.conf("101").contains("ostype: unmanaged\n"));
}

#[test]
fn absolute_template_paths_and_bind_rootfs() {
    require_root();
    let root = Root::new();
    let rootfs = tiny_rootfs();
    let outside = tempfile::tempdir().unwrap();
    let archive = outside.path().join("tiny.tar");
    let status = std::process::Command::new("tar")
        .args(["--numeric-owner", "-cf"])
        .arg(&archive)
        .arg("-C")
        .arg(rootfs.path())
        .arg(".")
        .status()
        .unwrap();
    assert!(status.success());
    let target = tempfile::tempdir().unwrap();
    let target_s = target.path().to_str().unwrap().to_string();
    root.pct(&[
        "create",
        "100",
        archive.to_str().unwrap(),
        "--rootfs",
        &target_s,
        "--unprivileged",
        "0",
    ])
    .ok();
    assert!(
        target.path().join("etc/hostname").is_file(),
        "unpacked into the bind-mounted rootfs"
    );
    assert!(root.conf("100").contains(&format!("rootfs: {target_s}\n")));
    root.pct(&[
        "create",
        "101",
        "/nonexistent/t.tar",
        "--rootfs",
        "local-lvm:1",
    ])
    .refused("unable to create CT 101 - can't find file '/nonexistent/t.tar'\n");
}

#[test]
fn schema_changes_after_the_api_snapshot_are_in_effect() {
    let root = Root::new();
    let tpl = "local:vztmpl/t.tar.zst";
    // pve-container 6.1.6 added per-mount-point idmap (not in the apidata snapshot).
    let r = root.pct(&[
        "create",
        "100",
        tpl,
        "--rootfs",
        "nope:8,idmap=u:0:100000:65536;g:0:100000:65536",
    ]);
    r.refused("storage 'nope' does not exist\n");
    // 6.1.8 fixed the control-character class: DLE (\x10) was accepted before, LF never.
    root.pct(&["create", "100", tpl, "--entrypoint", "/bin/sh\x10"])
        .refused(&param_error(
            "entrypoint: value does not match the regex pattern\n",
            CREATE_USAGE,
        ));
    root.pct(&["create", "100", tpl, "--env", "A=\x10"])
        .refused(&param_error(
            "env: value does not match the regex pattern\n",
            CREATE_USAGE,
        ));
}

#[test]
fn digest_matching_the_file_is_accepted() {
    let (root, _) = with_ct();
    let raw = std::fs::read(root.join("/etc/pve/nodes/pve/lxc/100.conf")).unwrap();
    let out = std::process::Command::new("sha1sum")
        .arg(root.join("/etc/pve/nodes/pve/lxc/100.conf"))
        .output()
        .unwrap();
    let sum = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    assert!(!raw.is_empty());
    root.pct(&["set", "100", "--digest", &sum, "--memory", "768"])
        .ok();
    assert!(root.conf("100").contains("memory: 768\n"));
}

#[test]
fn generated_mac_addresses_are_reproducible() {
    let (root, _) = with_ct();
    root.pct(&["set", "100", "--net0", "name=eth0,bridge=vmbr0"])
        .ok();
    let first = root.conf("100");
    root.pct(&["set", "100", "--net0", "name=eth0,bridge=vmbr0,firewall=1"])
        .ok();
    let mac = |c: &str| {
        c.lines()
            .find_map(|l| l.split("hwaddr=").nth(1).map(|s| s[..17].to_string()))
    };
    assert_eq!(mac(&first), mac(&root.conf("100")));
    let other = Root::new();
    let rootfs = tiny_rootfs();
    let tpl = other.add_template(rootfs.path(), "t.tar");
    other
        .pct(&[
            "create",
            "100",
            &tpl,
            "--rootfs",
            "local-lvm:1",
            "--unprivileged",
            "0",
            "--net0",
            "name=eth0,bridge=vmbr0",
        ])
        .ok();
    assert_eq!(
        mac(&first),
        mac(&other.conf("100")),
        "same VMID and interface, same address"
    );
    // An explicit address is kept as given.
    root.pct(&[
        "set",
        "100",
        "--net1",
        "name=eth1,bridge=vmbr0,hwaddr=bc:24:11:aa:bb:cc",
    ])
    .ok();
    assert!(root.conf("100").contains("hwaddr=bc:24:11:aa:bb:cc,"));
}
