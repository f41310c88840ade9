//! The robustness checkers must themselves catch what they claim to catch:
//! each is shown a good output and a set of broken ones.

mod support;

use support::lxc_split::lxc_split;
use support::pct_grammar::{check, Schema};

#[test]
fn pct_grammar_accepts_canonical_and_refuses_broken() {
    let s = Schema::load();
    let good = "#a=b%3A c\narch: amd64\nhostname: web\nmemory: 512\nnet0: name=eth0,bridge=vmbr0,ip=dhcp,type=veth\nostype: unmanaged\nrootfs: local-lvm:8,ro=1\nunprivileged: 1\nlxc.environment.runtime: A=1\nlxc.cap.keep: none\nlxc.prlimit.nofile: 1024\n";
    assert_eq!(check(&s, good), Ok(()));
    let broken = [
        ("hostname: web", "hostname: web_1"),
        ("memory: 512", "memory: 8"),
        ("memory: 512", "memory: 512 "),
        ("memory: 512", "memory: -1"),
        ("arch: amd64\n", "arch: amd64\nbogus: 1\n"),
        ("arch: amd64\n", "arch: amd64\nmp256: /a,mp=/b\n"),
        ("A=1", "A=1\u{202e}"),
        ("A=1", "A=1\r"),
        ("A=1", "BAD-NAME=1"),
        ("lxc.cap.keep", "lxc.hook.pre-start"),
        ("lxc.cap.keep", "lxc.no_new_privs"),
        ("lxc.cap.keep", "lxc.Cap.keep"),
        ("ip=dhcp", "ip=dhcp,ip=dhcp"),
        ("ip=dhcp", "ip=dhcp,colour=red"),
        ("name=eth0,", ""),
        ("ro=1", "ro=yes"),
        ("#a=b%3A c", "#a=b: c"),
        ("#a=b%3A c", "#a=b\u{e9}"),
        (
            "arch: amd64\nhostname",
            "hostname: x\narch: amd64\nhostname",
        ),
        ("unprivileged: 1\n", "unprivileged: 1\n\n"),
        ("unprivileged: 1\n", "unprivileged: 1\n[snap]\n"),
        (
            "lxc.prlimit.nofile: 1024\n",
            "lxc.prlimit.nofile: 1024\nswap: 0\n",
        ),
        ("lxc.prlimit.nofile: 1024\n", "lxc.prlimit.nofile: 1024"),
        ("ostype: unmanaged\n", ""),
    ];
    for (from, to) in broken {
        let bad = good.replacen(from, to, 1);
        assert_ne!(bad, good, "{from:?} not found");
        assert!(check(&s, &bad).is_err(), "accepted {bad:?}");
    }
}

#[test]
fn lxc_split_follows_lxc() {
    assert_eq!(
        lxc_split("a  'b c' \"d'e\" f\"g"),
        ["a", "b c", "d'e", "f\"g"]
    );
    assert_eq!(lxc_split("a\x0bb"), ["a", "b"]);
    assert_eq!(lxc_split("a 'unterminated"), ["a"]);
    assert_eq!(lxc_split("''"), [""]);
}

#[test]
fn shell_words_follow_posix_quoting() {
    use support::shell::split_words;
    assert_eq!(
        split_words("'it'\\''s' \"a b\" c\\ d"),
        Ok(vec!["it's".to_string(), "a b".into(), "c d".into()])
    );
    assert_eq!(
        split_words("'$(id)\n`x`'"),
        Ok(vec!["$(id)\n`x`".to_string()])
    );
    for bad in ["$(id)", "a;b", "'open", "\"$x\"", "a|b", "`id`", "*", "a\\"] {
        assert!(split_words(bad).is_err(), "accepted {bad:?}");
    }
}

#[test]
fn scripts_are_checked_lexically() {
    use support::pct_grammar::is_forbidden_char;
    use support::shell::check_script;
    assert_eq!(
        check_script(
            "#!/bin/sh\n# ok é\npct create 'a\nb' \"$x\"\n",
            is_forbidden_char
        ),
        Ok(())
    );
    for bad in [
        "# a\u{202e}b\n",
        "echo 'open\n",
        "echo \"a\nb\"\n",
        "echo a\rb\n",
        "echo 'x\u{1b}'\n",
    ] {
        assert!(
            check_script(bad, is_forbidden_char).is_err(),
            "accepted {bad:?}"
        );
    }
}
