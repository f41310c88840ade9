//! `process` → the init command, environment, working directory, user,
//! console mode, halt signal and rlimits.

use super::Cx;
use crate::diag::Severity;
use crate::ir::process::{CommandKey, EnvKey, EnvVar, Init, Rlimit};
use crate::ir::{Container, ContainerKind};
use crate::rules::pve;
use crate::source::Traced;
use crate::spec::Cursor;
use crate::target::PveContainerVersion as V;

/// Annotations that carry an image's stop signal, most specific first (also read by the
/// executor's crun back end, which runs the bundle without this lowering).
pub const STOP_SIGNAL_ANNOTATIONS: &[&str] = &[
    "org.proxmox-lxcri.stop-signal",
    "org.opencontainers.image.stopSignal",
    "io.containerd.image.config.stop-signal",
];

/// The field-table entries (`spec::fields`, marked `Lower`) this module
/// reads; `lower::consumers::every_lowered_field_has_a_module` holds the table to it.
pub(super) const CONSUMES: &[&str] = &[
    "/process",
    "/process/terminal",
    "/process/cwd",
    "/process/env",
    "/process/args",
    "/process/rlimits",
    "/process/rlimits/*/type",
    "/process/rlimits/*/soft",
    "/process/rlimits/*/hard",
    "/process/user",
    "/process/user/uid",
    "/process/user/gid",
    "/process/user/additionalGids",
];

pub(crate) fn lower(root: &Cursor<'_>, cx: &mut Cx<'_>, ir: &mut Container) {
    let Some(process) = root.get("process") else {
        return;
    };
    let Some(args_at) = process.get("args") else {
        cx.at(
            &pve::INVALID_VALUE,
            &process,
            "the process has no `args`; Proxmox would run /sbin/init instead",
        )
        .with_label("no args");
        return;
    };
    let args = args_at.strings();
    if args.is_empty() {
        cx.at(
            &pve::INVALID_VALUE,
            &args_at,
            "`args` is empty; Proxmox would run /sbin/init instead",
        )
        .with_label("empty");
        return;
    }
    // The command is built as the words are quoted: arguments may be
    // megabytes, and a list of quoted copies would be one more copy of them.
    let mut command = String::with_capacity(args.iter().map(|a| a.value.len() + 3).sum());
    let mut representable = true;
    for arg in &args {
        match quote_word(&arg.value) {
            Ok(w) => {
                if !command.is_empty() {
                    command.push(' ');
                }
                command.push_str(&w);
            }
            Err(why) => {
                representable = false;
                cx.report(
                    crate::diag::Diagnostic::new(&pve::UNREPRESENTABLE_ARG, format!("this argument cannot be written in LXC's init command: {why}"))
                        .at(&arg.ptr, arg.span)
                        .with_label("cannot be quoted for lxc.init.cmd")
                        .with_help("LXC splits on white space and understands '…' or \"…\" without escapes; move the command into a script in the image"),
                );
            }
        }
    }
    if !representable {
        return;
    }
    let env = env(&process, cx);
    let modern = cx.pve_at_least(V::APP_CONTAINERS);
    let mut init = Init {
        command: args_at.traced(command),
        command_key: None,
        env_key: if modern {
            EnvKey::Runtime
        } else {
            EnvKey::Environment
        },
        args,
        env,
        cwd: cwd(&process, cx),
        uid: None,
        gid: None,
        groups: Vec::new(),
        terminal: process
            .get("terminal")
            .and_then(|t| t.bool())
            .unwrap_or(false),
        halt_signal: None,
        rlimits: rlimits(&process, cx),
    };
    user(&process, cx, &mut init);
    if ir.kind == ContainerKind::Application {
        init.halt_signal = Some(halt_signal(root, cx));
    }
    if init.needs_command() {
        init.command_key = Some(if modern {
            CommandKey::Entrypoint
        } else {
            CommandKey::LxcInitCmd
        });
        if !modern {
            cx.too_old(
                &args_at,
                "entrypoint",
                V::APP_CONTAINERS,
                "the command is written as raw `lxc.init.cmd` instead",
                Severity::Info,
            );
        }
    }
    ir.init = Some(init);
}

/// Quotes one argument the way LXC 6's `lxc_string_split_quoted` reads it
/// back: words split on `isspace`; a word starting with `'` or `"` runs to the
/// next same quote (so `''` is an empty argument); no escapes.
pub(crate) fn quote_word(arg: &str) -> Result<String, &'static str> {
    if arg.is_empty() {
        return Ok("''".to_string());
    }
    if crate::ir::types::unsafe_char(arg).is_some() {
        return Err("it contains a control or bidi character");
    }
    let needs_quotes = arg.contains([' ', '\t']) || arg.starts_with(['\'', '"']);
    if !needs_quotes {
        return Ok(arg.to_string());
    }
    if !arg.contains('\'') {
        Ok(format!("'{arg}'"))
    } else if !arg.contains('"') {
        Ok(format!("\"{arg}\""))
    } else {
        Err("it contains white space (or starts with a quote) and both kinds of quote")
    }
}

fn env(process: &Cursor<'_>, cx: &mut Cx<'_>) -> Vec<Traced<EnvVar>> {
    let Some(list) = process.get("env") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in list.items() {
        let Some(entry) = item.str() else { continue };
        let Some((name, value)) = entry.split_once('=') else {
            cx.at(
                &pve::INVALID_ENV,
                &item,
                format!("`{}` has no `=`", entry.escape_debug()),
            )
            .with_label("not NAME=value");
            continue;
        };
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            cx.at(
                &pve::INVALID_ENV,
                &item,
                format!(
                    "`{}` is not a variable name Proxmox accepts (letters, digits, `_`)",
                    name.escape_debug()
                ),
            )
            .with_label("invalid name");
            continue;
        }
        if crate::ir::types::unsafe_char(value).is_some() {
            cx.at(&pve::INVALID_ENV, &item, format!("the value of `{name}` contains a control character, line break or bidi control"))
                .with_label("would break the config line");
            continue;
        }
        if value.ends_with([' ', '\t']) {
            cx.at(&pve::INVALID_ENV, &item, format!("the value of `{name}` ends in white space, which Proxmox trims when it reads the config"))
                .with_label("trailing white space");
            continue;
        }
        out.push(item.traced(EnvVar {
            name: name.to_string(),
            value: value.to_string(),
        }));
    }
    if !out.is_empty() && !cx.pve_at_least(V::APP_CONTAINERS) {
        cx.too_old(
            &list,
            "lxc.environment.runtime",
            V::APP_CONTAINERS,
            "`lxc.environment` is used, which hooks see too",
            Severity::Info,
        );
    }
    out
}

fn cwd(process: &Cursor<'_>, cx: &mut Cx<'_>) -> Option<Traced<String>> {
    let at = process.get("cwd")?;
    let path = at.str()?;
    match crate::ir::types::check_abs_path(path, &[]) {
        Ok(p) if p == "/" => None,
        Ok(p) => {
            if !cx.pve_at_least(V::INIT_CWD) {
                cx.too_old(
                    &at,
                    "lxc.init.cwd",
                    V::INIT_CWD,
                    "the process starts in / instead",
                    Severity::Error,
                );
                return None;
            }
            Some(at.traced(p))
        }
        Err(e) => {
            cx.at(
                &pve::INVALID_PATH,
                &at,
                format!("the working directory cannot be used: {e}"),
            )
            .with_label("invalid cwd");
            None
        }
    }
}

fn user(process: &Cursor<'_>, cx: &mut Cx<'_>, init: &mut Init) {
    let Some(user) = process.get("user") else {
        return;
    };
    let uid = user.get("uid").and_then(|u| Some(u.traced(u.u32()?)));
    let gid = user.get("gid").and_then(|g| Some(g.traced(g.u32()?)));
    let groups: Vec<Traced<u32>> = user
        .get("additionalGids")
        .map(|g| g.items().filter_map(|i| Some(i.traced(i.u32()?))).collect())
        .unwrap_or_default();
    let uid = uid.filter(|u| u.value != 0);
    let gid = gid.filter(|g| g.value != 0);
    if uid.is_none() && gid.is_none() && groups.is_empty() {
        return;
    }
    if !cx.pve_at_least(V::INIT_IDS) {
        cx.too_old(
            &user,
            "lxc.init.uid/gid/groups",
            V::INIT_IDS,
            "the process would run as root instead of the configured user",
            Severity::Error,
        );
        return;
    }
    init.uid = uid;
    init.gid = gid;
    init.groups = groups;
}

fn halt_signal(root: &Cursor<'_>, cx: &mut Cx<'_>) -> Traced<String> {
    let annotations = root.get("annotations");
    for key in STOP_SIGNAL_ANNOTATIONS {
        let Some(at) = annotations.as_ref().and_then(|a| a.get(key)) else {
            continue;
        };
        let Some(value) = at.str() else { continue };
        match signal_name(value) {
            Some(sig) => return at.traced(sig),
            None => {
                cx.at(
                    &pve::INVALID_VALUE,
                    &at,
                    format!("`{}` is not a signal name or number", value.escape_debug()),
                )
                .with_severity(crate::diag::Severity::Warning)
                .with_label("not a signal")
                .with_help("SIGTERM is used instead");
            }
        }
    }
    Traced::synthetic("SIGTERM".to_string())
}

/// Normalises `TERM`, `sigterm`, `SIGRTMIN+3` or `15` to LXC's form.
pub(crate) fn signal_name(s: &str) -> Option<String> {
    const NAMES: &[&str] = &[
        "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2",
        "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG",
        "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS",
    ];
    if let Ok(n) = s.parse::<u32>() {
        return (1..=64).contains(&n).then(|| n.to_string());
    }
    let upper = s.to_ascii_uppercase();
    let bare = upper.strip_prefix("SIG").unwrap_or(&upper);
    if NAMES.contains(&bare) {
        return Some(format!("SIG{bare}"));
    }
    let rt = |rest: &str| {
        rest.is_empty()
            || rest
                .strip_prefix(['+', '-'])
                .is_some_and(|n| n.parse::<u8>().is_ok_and(|n| n <= 30))
    };
    if bare.strip_prefix("RTMIN").is_some_and(rt) || bare.strip_prefix("RTMAX").is_some_and(rt) {
        return Some(format!("SIG{bare}"));
    }
    None
}

fn rlimits(process: &Cursor<'_>, cx: &mut Cx<'_>) -> Vec<Traced<Rlimit>> {
    let Some(list) = process.get("rlimits") else {
        return Vec::new();
    };
    let mut out: Vec<Traced<Rlimit>> = Vec::new();
    for item in list.items() {
        let (Some(kind), Some(soft), Some(hard)) = (
            item.get("type").and_then(|t| t.str().map(str::to_string)),
            item.get("soft").and_then(|v| v.u64()),
            item.get("hard").and_then(|v| v.u64()),
        ) else {
            continue;
        };
        let Some(name) = crate::linux::resource_limit(&kind).map(|r| r.lxc.to_string()) else {
            cx.at(
                &pve::INVALID_VALUE,
                &item,
                format!(
                    "`{}` is not a resource limit LXC knows",
                    kind.escape_debug()
                ),
            )
            .with_label("unknown rlimit");
            continue;
        };
        if soft > hard {
            cx.at(
                &pve::INVALID_VALUE,
                &item,
                format!("the soft limit of {kind} ({soft}) is above the hard limit ({hard})"),
            )
            .with_label("soft > hard");
            continue;
        }
        if out.iter().any(|r| r.value.name == name) {
            cx.at(
                &pve::INVALID_VALUE,
                &item,
                format!("{kind} is limited twice"),
            )
            .with_label("duplicate rlimit");
            continue;
        }
        out.push(item.traced(Rlimit { name, soft, hard }));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// LXC 6's `lxc_string_split_quoted`, as described in proxmox-facts.md §1.6.
    fn lxc_split(s: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut chars = s.chars().peekable();
        while let Some(&c) = chars.peek() {
            if c == ' ' || c == '\t' || c == '\n' {
                chars.next();
                continue;
            }
            let mut word = String::new();
            if c == '\'' || c == '"' {
                chars.next();
                for d in chars.by_ref() {
                    if d == c {
                        break;
                    }
                    word.push(d);
                }
            } else {
                while let Some(&d) = chars.peek() {
                    if d == ' ' || d == '\t' || d == '\n' {
                        break;
                    }
                    word.push(d);
                    chars.next();
                }
            }
            out.push(word);
        }
        out
    }

    #[test]
    fn quoting_round_trips_through_lxc_splitting() {
        let args = [
            "/bin/sh",
            "-c",
            "echo \"uid=$(id -u)\"",
            "it's a test",
            "'lead",
            "tab\there",
            "a'b",
            "x\"y",
            "",
        ];
        let words: Vec<String> = args.iter().filter_map(|a| quote_word(a).ok()).collect();
        assert_eq!(words.len(), args.len());
        assert_eq!(lxc_split(&words.join(" ")), args);
    }

    #[test]
    fn unrepresentable_args() {
        assert!(quote_word("it's \"quoted\"").is_err());
        assert!(quote_word("a\nb").is_err());
        assert!(quote_word("'\"").is_err());
    }

    #[test]
    fn signals() {
        assert_eq!(signal_name("term").as_deref(), Some("SIGTERM"));
        assert_eq!(signal_name("SIGQUIT").as_deref(), Some("SIGQUIT"));
        assert_eq!(signal_name("15").as_deref(), Some("15"));
        assert_eq!(signal_name("SIGRTMIN+3").as_deref(), Some("SIGRTMIN+3"));
        assert_eq!(signal_name("SIGFOO"), None);
        assert_eq!(signal_name("99"), None);
    }
}

#[cfg(test)]
mod lowering_tests {
    use crate::lower::{check, pve_conf};
    use crate::target::Target;

    fn app(process: &str) -> String {
        format!(
            r#"{{"ociVersion": "1.2.0", "root": {{"path": "rootfs"}}, "process": {process}, "linux": {{"namespaces": [{{"type": "user"}}, {{"type": "network"}}]}}}}"#
        )
    }

    #[test]
    fn application_container_keys() {
        let json = app(
            r#"{"cwd": "/srv", "args": ["/bin/sh", "-c", "echo hi there"], "env": ["A=1", "B=x y=z"], "user": {"uid": 1000, "gid": 1000, "additionalGids": [10, 20]}}"#,
        );
        let conf = pve_conf(&json, &Target::default());
        for line in [
            "cmode: console\n",
            "entrypoint: /bin/sh -c 'echo hi there'\n",
            "lxc.environment.runtime: A=1\nlxc.environment.runtime: B=x y=z\n",
            "lxc.init.cwd: /srv\nlxc.init.gid: 1000\nlxc.init.groups: 10,20\nlxc.init.uid: 1000\nlxc.signal.halt: SIGTERM\n",
        ] {
            assert!(conf.contains(line), "missing {line:?} in\n{conf}");
        }
    }

    #[test]
    fn init_with_arguments_is_still_a_system_container() {
        let conf = pve_conf(
            &app(r#"{"cwd": "/", "args": ["/sbin/init", "--log-level=debug"]}"#),
            &Target::default(),
        );
        assert!(
            conf.contains("entrypoint: /sbin/init --log-level=debug\n"),
            "{conf}"
        );
        assert!(
            !conf.contains("cmode")
                && !conf.contains("lxc.signal.halt")
                && !conf.contains("host-managed"),
            "{conf}"
        );
    }

    #[test]
    fn system_init_is_left_to_proxmox() {
        let conf = pve_conf(
            &app(r#"{"cwd": "/", "args": ["/sbin/init"]}"#),
            &Target::default(),
        );
        assert!(
            !conf.contains("entrypoint")
                && !conf.contains("cmode")
                && !conf.contains("lxc.signal.halt"),
            "{conf}"
        );
    }

    #[test]
    fn stop_signal_annotation() {
        let json = r#"{"ociVersion": "1.2.0", "root": {"path": "rootfs"}, "process": {"cwd": "/", "args": ["nginx"]}, "annotations": {"org.opencontainers.image.stopSignal": "quit"}}"#;
        assert!(pve_conf(json, &Target::default()).contains("lxc.signal.halt: SIGQUIT\n"));
    }

    #[test]
    fn old_pve_falls_back_to_raw_keys_or_refuses() {
        let target = Target::default()
            .with_pve_release("9.0")
            .unwrap_or_default();
        let json = app(r#"{"cwd": "/srv", "args": ["/app", "x"], "env": ["A=1"]}"#);
        let conf = pve_conf(&json, &target);
        assert!(
            conf.contains("lxc.environment: A=1\n")
                && conf.contains("lxc.init.cmd: /app x\n")
                && !conf.contains("entrypoint"),
            "{conf}"
        );
        let (_, codes) = check(
            &app(r#"{"cwd": "/", "args": ["/app"], "user": {"uid": 1000, "gid": 0}}"#),
            &target,
        );
        assert_eq!(
            codes,
            vec!["pve/version /process/args", "pve/version /process/user"]
        );
        let t = crate::oci_to_ir(
            "t",
            app(r#"{"cwd": "/", "args": ["/app"], "user": {"uid": 1000, "gid": 0}}"#).as_bytes(),
            &target,
        );
        assert!(
            t.has_errors(),
            "running as root instead of uid 1000 must be refused"
        );
    }

    #[test]
    fn env_entries_are_checked() {
        let (_, codes) = check(
            &app(
                r#"{"cwd": "/", "args": ["/a"], "env": ["NOEQ", "BAD-NAME=1", "NL=a\nb", "TRAIL=x ", "OK="]}"#,
            ),
            &Target::default(),
        );
        assert_eq!(
            codes,
            vec![
                "pve/invalid-env /process/env/0",
                "pve/invalid-env /process/env/1",
                "pve/invalid-env /process/env/2",
                "pve/invalid-env /process/env/3"
            ]
        );
    }

    #[test]
    fn rlimits_to_prlimit() {
        let json = app(
            r#"{"cwd": "/", "args": ["/a"], "rlimits": [{"type": "RLIMIT_NOFILE", "soft": 1024, "hard": 4096}, {"type": "RLIMIT_CORE", "soft": 18446744073709551615, "hard": 18446744073709551615}, {"type": "RLIMIT_BOGUS", "soft": 1, "hard": 1}]}"#,
        );
        let conf = pve_conf(&json, &Target::default());
        assert!(
            conf.contains("lxc.prlimit.core: unlimited\nlxc.prlimit.nofile: 1024:4096\n"),
            "{conf}"
        );
        let (_, codes) = check(&json, &Target::default());
        assert_eq!(codes, vec!["pve/invalid-value /process/rlimits/2"]);
    }

    #[test]
    fn relative_cwd_is_refused() {
        let (_, codes) = check(
            &app(r#"{"cwd": "srv", "args": ["/a"]}"#),
            &Target::default(),
        );
        assert_eq!(codes, vec!["pve/invalid-path /process/cwd"]);
    }
}
