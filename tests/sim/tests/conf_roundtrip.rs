//! pct.conf reader/writer: Proxmox's first rewrite of a canonical file changes nothing, and a
//! non-canonical file converges in one rewrite to what Config.pm would write.

use pve_sim::conf::{parse_pct_config, write_pct_config, Parsed};
use pve_sim::schema::schemas;

fn parse(text: &str) -> Parsed {
    parse_pct_config(schemas().unwrap(), "100", text.as_bytes(), false).unwrap()
}

fn rewrite(text: &str) -> String {
    let mut p = parse(text);
    write_pct_config(schemas().unwrap(), &mut p.conf).unwrap()
}

#[track_caller]
fn check_canonical(text: &str) {
    let p = parse(text);
    assert!(
        p.warnings.is_empty(),
        "unexpected warnings: {:?}",
        p.warnings
    );
    assert_eq!(
        rewrite(text),
        text,
        "a canonical file must be written back unchanged"
    );
}

#[track_caller]
fn check_rewrite(input: &str, expected: &str) {
    let once = rewrite(input);
    assert_eq!(once, expected);
    assert_eq!(rewrite(&once), once, "the rewrite must be a fixed point");
}

#[test]
fn worked_example_from_the_notes_is_canonical() {
    check_canonical(
        "arch: amd64\n\
         entrypoint: /bin/sh -c 'echo \"uid=$(id -u) gid=$(id -g) cwd=$(pwd)\"' \"it's a test\"\n\
         hostname: app\n\
         memory: 512\n\
         ostype: unmanaged\n\
         rootfs: local-lvm:8\n\
         unprivileged: 0\n\
         lxc.environment.runtime: GREETING=hello world\n\
         lxc.environment.runtime: JAVA_OPTS=-Xmx256m -Dkey=value -Dother=a=b\n\
         lxc.init.cwd: /srv\n\
         lxc.init.gid: 1000\n\
         lxc.init.uid: 1000\n",
    );
}

#[test]
fn full_file_with_description_pending_and_snapshots_is_canonical() {
    check_canonical(
        "#first line%3A with colon\n\
         #\n\
         #100%25 sure %C3%BC\n\
         arch: amd64\n\
         cores: 2\n\
         features: keyctl=1,nesting=1\n\
         hostname: ct\n\
         memory: 1024\n\
         mp0: local-lvm:vm-100-disk-1,mp=/data,backup=1,size=8G\n\
         mp10: /srv/a,mp=/a\n\
         mp2: /srv/b,mp=/b,ro=1\n\
         net0: name=eth0,bridge=vmbr0,firewall=1,hwaddr=BC:24:11:12:34:56,ip=dhcp,type=veth\n\
         net1: name=eth1,bridge=vmbr0,hwaddr=BC:24:11:12:34:57,ip=10.0.0.2/24,type=veth\n\
         net10: name=eth10,bridge=vmbr0,hwaddr=BC:24:11:12:34:58,type=veth\n\
         onboot: 1\n\
         ostype: debian\n\
         parent: snap1\n\
         rootfs: local-lvm:vm-100-disk-0,size=8G\n\
         swap: 512\n\
         tags: a;b\n\
         unprivileged: 1\n\
         lxc.environment.runtime: A=1\n\
         lxc.idmap: u 0 100000 65536\n\
         lxc.idmap: g 0 100000 65536\n\
         lxc.mount.entry: /a b none bind 0 0\n\
         lxc.mount.entry: /a b none bind 0 0\n\
         \n\
         [pve:pending]\n\
         delete: tags\n\
         memory: 2048\n\
         \n\
         [snap1]\n\
         arch: amd64\n\
         hostname: ct\n\
         memory: 512\n\
         ostype: debian\n\
         rootfs: local-lvm:vm-100-disk-0,size=8G\n\
         snapstate: prepare\n\
         snaptime: 1700000000\n",
    );
}

#[test]
fn description_decodes_and_reencodes() {
    let p = parse("#a%3A b\n#\n#c\nmemory: 512\n");
    assert_eq!(p.conf.main.description.as_deref(), Some("a: b\n\nc\n"));
    let p = parse("description: one%0Atwo\nmemory: 512\n");
    assert_eq!(p.conf.main.description.as_deref(), Some("one\ntwo"));
    check_rewrite(
        "description: one%0Atwo\nmemory: 512\n",
        "#one\n#two\nmemory: 512\n",
    );
}

#[test]
fn keys_are_sorted_byte_wise_env_then_raw_keys_in_order() {
    check_rewrite(
        "lxc.init.cmd = /bin/true\nnet2: name=e2\nmemory: 512\nlxc.environment.runtime: B=2\nnet10: name=e10\nlxc.cap.drop =\nmp2: /x,mp=/x\nlxc.environment.runtime: A=1\nmp10: /y,mp=/y\n",
        "memory: 512\nmp10: /y,mp=/y\nmp2: /x,mp=/x\nnet10: name=e10\nnet2: name=e2\nlxc.environment.runtime: B=2\nlxc.environment.runtime: A=1\nlxc.init.cmd: /bin/true\nlxc.cap.drop: \n",
    );
}

#[test]
fn env_lines_become_a_nul_separated_env() {
    let p = parse("lxc.environment.runtime: A=1\nlxc.environment.runtime: B=x y=z\n");
    assert_eq!(p.conf.main.env.as_deref(), Some("A=1\0B=x y=z"));
    assert!(p.conf.main.lxc.is_empty());
}

#[test]
fn booleans_and_integers_are_normalised_on_read() {
    check_rewrite(
        "onboot: yes\nmemory: 0512\nprotection: OFF\n",
        "memory: 512\nonboot: 1\nprotection: 0\n",
    );
}

#[test]
fn unknown_and_invalid_values_warn_and_are_kept() {
    let p = parse("foo: bar\nmemory: lots\nnet0: name=eth0,foo=1\n");
    assert_eq!(p.conf.main.get("foo"), Some("bar"));
    assert_eq!(p.conf.main.get("memory"), Some("lots"));
    assert_eq!(
        p.warnings,
        vec![
            "vm 100 - unable to parse value of 'foo' - unknown setting 'foo'\n".to_string(),
            "vm 100 - unable to parse value of 'memory' - type check ('integer') failed - got 'lots'\n".into(),
            "vm 100 - unable to parse value of 'net0' - invalid key in comma-separated list property: foo\n".into(),
        ]
    );
    assert_eq!(rewrite("foo: bar\n"), "foo: bar\n");
}

#[test]
fn raw_key_allow_list_accepts_warns_refuses_drops() {
    let text = "lxc.init.cmd: /x\n\
                lxc.cgroup.memory.limit_in_bytes: 1\n\
                lxc.limit.nofile: 10\n\
                lxc.id_map: u 0 1 2\n\
                lxc.rootfs.path: /x\n\
                lxc.rootfs.options: ro\n\
                lxc.sysctl.net.ipv4.ip_forward: 1\n\
                lxc.no_new_privs: 1\n\
                lxc.cgroup2.memory.max: 1\n";
    let p = parse(text);
    let kept: Vec<&str> = p.conf.main.lxc.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        kept,
        vec![
            "lxc.init.cmd",
            "lxc.cgroup.memory.limit_in_bytes",
            "lxc.limit.nofile",
            "lxc.id_map",
            "lxc.cgroup2.memory.max"
        ]
    );
    assert_eq!(
        p.warnings,
        vec![
            "vm 100 - lxc.cgroup.memory.limit_in_bytes is deprecated, this will be a hard error in the future!\n".to_string(),
            "vm 100 - lxc.limit.nofile: lxc.limit.* was renamed to lxc.prlimit.*\n".into(),
            "vm 100 - lxc.id_map is deprecated and was renamed to lxc.idmap\n".into(),
            "vm 100 - lxc.rootfs.path: lxc.rootfs.path is auto generated from rootfs\n".into(),
            "vm 100 - lxc.rootfs.options: lxc.rootfs.options is not supported, please use mount point options in the \"rootfs\" key\n".into(),
            "vm 100 - unable to parse config: lxc.sysctl.net.ipv4.ip_forward: 1\n".into(),
            "vm 100 - unable to parse config: lxc.no_new_privs: 1\n".into(),
        ]
    );
    // Dropped lines are gone after Proxmox's next write.
    let out = rewrite(text);
    assert!(!out.contains("lxc.rootfs.path"));
    assert!(!out.contains("lxc.sysctl.net"));
    assert!(!out.contains("lxc.no_new_privs"));
    assert!(out.contains("lxc.id_map: u 0 1 2\n"));
}

#[test]
fn strict_mode_refuses_what_normal_mode_drops() {
    let err =
        parse_pct_config(schemas().unwrap(), "100", b"lxc.no_new_privs: 1\n", true).unwrap_err();
    assert_eq!(
        err.render(),
        "vm 100 - unable to parse config: lxc.no_new_privs: 1\n"
    );
    let err = parse_pct_config(schemas().unwrap(), "100", b"delete: memory\n", true).unwrap_err();
    assert_eq!(
        err.render(),
        "vm 100 - property 'delete' is only allowed in [pve:pending]\n"
    );
}

#[test]
fn unparsable_lines_are_dropped() {
    let p = parse("memory: 512\nthis is not a key\nMemory: 1\nhostname:\n");
    assert_eq!(
        p.warnings,
        vec![
            "vm 100 - unable to parse config: this is not a key\n".to_string(),
            "vm 100 - unable to parse config: Memory: 1\n".into(),
            "vm 100 - unable to parse config: hostname:\n".into(),
        ]
    );
    assert_eq!(rewrite("memory: 512\nthis is not a key\n"), "memory: 512\n");
}

#[test]
fn duplicate_normal_keys_last_one_wins() {
    check_rewrite("memory: 512\nmemory: 1024\n", "memory: 1024\n");
}

#[test]
fn newline_in_a_value_is_refused_on_write() {
    let mut p = parse("memory: 512\n");
    p.conf.main.keys.insert("hostname".into(), "a\nb".into());
    let err = write_pct_config(schemas().unwrap(), &mut p.conf).unwrap_err();
    assert_eq!(
        err.render(),
        "detected invalid newline inside property 'hostname'\n"
    );
}

#[test]
fn unused_entries_of_volumes_in_use_are_dropped() {
    check_rewrite(
        "rootfs: local-lvm:vm-100-disk-0,size=8G\nunused0: local-lvm:vm-100-disk-0\nunused1: local-lvm:vm-100-disk-9\n",
        "rootfs: local-lvm:vm-100-disk-0,size=8G\nunused1: local-lvm:vm-100-disk-9\n",
    );
}

#[test]
fn digest_is_the_sha1_of_the_raw_bytes() {
    assert_eq!(
        parse("memory: 512\n").conf.digest,
        "21b62d471309a3f7474fdb8b45e9ae722dfe5e51"
    );
    assert_ne!(
        parse("memory: 513\n").conf.digest,
        parse("memory: 512\n").conf.digest
    );
}
