//! `linux.seccomp` → a policy in LXC's version 2 text format, which the plan
//! writes to a file that a raw `lxc.seccomp.profile` line names.
//!
//! The format, as LXC's `src/lxc/seccomp.c` parses it (5.0.2 and 6.0 alike):
//!
//! ```text
//! 2
//! allowlist errno 1          (or `denylist`, whose default is `allow`)
//! [all]
//! mkdir errno 13
//! clone allow [0,0,SCMP_CMP_MASKED_EQ,2114060288]
//! ```
//!
//! Actions are `allow`, `kill` (the calling thread), `trap`, `errno N` and
//! `notify`; there is no `log`, `trace` or `kill_process`. An argument filter
//! is `[index,value,op]`, or `[index,value,SCMP_CMP_MASKED_EQ,mask]`, which
//! matches when `arg & mask == value`: OCI's `value` is the mask and
//! `valueTwo` the compared value there (libseccomp's `datum_a`/`datum_b`).
//!
//! Facts checked against LXC 5.0.2 here: a rule whose action equals the
//! default action makes the container fail to start (libseccomp refuses it),
//! so such rules are left out (they change nothing); of two rules for the same
//! call and filters the first wins (libseccomp keeps it, so OCI runtimes
//! behave the same), so later ones are left out too; names the host does not know
//! are skipped by LXC, as by OCI runtimes. Rules go under `[all]`, which LXC
//! applies to the host's architecture and, on amd64 and arm64, to the 32-bit
//! compat architectures too.
//!
//! The text depends only on the input: rules keep the bundle's order.

use std::collections::{HashMap, HashSet};

use crate::diag::Severity;
use crate::ir::security::SeccompProfile;
use crate::ir::Container;
use crate::lower::Cx;
use crate::rules::pve;
use crate::spec::Cursor;

const EPERM: u32 = 1;
const ENOSYS: u32 = 38;
/// The largest errno the kernel passes back (`MAX_ERRNO`).
const MAX_ERRNO: u32 = 4095;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Allow,
    Kill,
    Trap,
    Errno(u32),
}

impl Action {
    pub fn text(self) -> String {
        match self {
            Action::Allow => "allow".to_string(),
            Action::Kill => "kill".to_string(),
            Action::Trap => "trap".to_string(),
            Action::Errno(n) => format!("errno {n}"),
        }
    }
}

/// An OCI action in LXC's terms, with what is lost on the way.
fn map_action(action: &str, errno: Option<u32>) -> (Action, Option<&'static str>) {
    match action {
        "SCMP_ACT_ALLOW" => (Action::Allow, None),
        "SCMP_ACT_ERRNO" => (Action::Errno(errno.unwrap_or(EPERM)), None),
        "SCMP_ACT_KILL" | "SCMP_ACT_KILL_THREAD" => (Action::Kill, None),
        "SCMP_ACT_KILL_PROCESS" => (Action::Kill, Some("LXC's `kill` kills only the calling thread, not the whole process")),
        "SCMP_ACT_TRAP" => (Action::Trap, None),
        "SCMP_ACT_TRACE" => (
            Action::Errno(ENOSYS),
            Some("LXC has no trace action; it fails the call with ENOSYS, which is what the kernel does when no tracer is attached"),
        ),
        "SCMP_ACT_LOG" => (Action::Allow, Some("LXC has no log action; the call is allowed without being logged")),
        "SCMP_ACT_NOTIFY" => (
            Action::Errno(ENOSYS),
            Some("LXC's notify action talks to an LXC notify proxy, not to an OCI seccomp agent; it fails the call with ENOSYS, which is what the kernel does when no listener is attached"),
        ),
        _ => (Action::Errno(EPERM), Some("unknown action")),
    }
}

/// The seccomp architectures LXC covers with `[all]` rules on a Proxmox arch.
fn covered_arches(arch: &str) -> &'static [&'static str] {
    match arch {
        "amd64" => &["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
        "i386" => &["SCMP_ARCH_X86"],
        "arm64" => &["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"],
        "armhf" => &["SCMP_ARCH_ARM"],
        "riscv64" => &["SCMP_ARCH_RISCV64"],
        _ => &[],
    }
}

/// A system call name LXC's line format can carry.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        // LXC treats any line starting with this as its own built-in rule.
        && !name.starts_with("reject_force_umount")
}

struct Arg {
    index: u32,
    text: String,
}

/// The field-table entries (`spec::fields`, marked `Lower`) this module
/// reads; `lower::consumers::every_lowered_field_has_a_module` holds the table to it.
pub(in crate::lower) const CONSUMES: &[&str] = &[
    "/linux/seccomp",
    "/linux/seccomp/defaultAction",
    "/linux/seccomp/defaultErrnoRet",
    "/linux/seccomp/architectures",
    "/linux/seccomp/flags",
    "/linux/seccomp/listenerPath",
    "/linux/seccomp/listenerMetadata",
    "/linux/seccomp/syscalls",
    "/linux/seccomp/syscalls/*/names",
    "/linux/seccomp/syscalls/*/action",
    "/linux/seccomp/syscalls/*/errnoRet",
    "/linux/seccomp/syscalls/*/args",
    "/linux/seccomp/syscalls/*/args/*/index",
    "/linux/seccomp/syscalls/*/args/*/value",
    "/linux/seccomp/syscalls/*/args/*/valueTwo",
    "/linux/seccomp/syscalls/*/args/*/op",
];

pub(crate) fn lower(linux: &Cursor<'_>, cx: &mut Cx<'_>, ir: &mut Container) {
    let Some(at) = linux.get("seccomp") else {
        return;
    };
    let default_at = at.get("defaultAction");
    let default_name = default_at
        .as_ref()
        .and_then(|d| d.str())
        .unwrap_or("SCMP_ACT_ALLOW");
    let default_errno = errno_ret(&at, "defaultErrnoRet", default_name, cx);
    let (default, note) = map_action(default_name, default_errno);
    if let (Some(note), Some(d)) = (note, &default_at) {
        cx.lossy(d, format!("the default action {default_name}: {note}"));
    }
    architectures(&at, cx);
    if let Some(flags) = at.get("flags") {
        for flag in flags.items() {
            let Some(name) = flag.str() else { continue };
            let (why, severity) = match name {
                "SECCOMP_FILTER_FLAG_TSYNC" => ("LXC loads the filter before the container's first process starts any thread, so there is nothing to synchronise", Severity::Info),
                "SECCOMP_FILTER_FLAG_SPEC_ALLOW" => ("LXC keeps the speculative store bypass mitigation on", Severity::Warning),
                "SECCOMP_FILTER_FLAG_LOG" => ("LXC does not ask the kernel to log the actions taken", Severity::Warning),
                _ => ("LXC has no way to pass this flag", Severity::Warning),
            };
            cx.at(&pve::LOSSY, &flag, format!("{name} is not set: {why}"))
                .with_severity(severity)
                .with_label("flag not set");
        }
    }
    for field in ["listenerPath", "listenerMetadata"] {
        if let Some(f) = at.get(field) {
            cx.unsupported(ir, &f, "LXC hands seccomp notifications to an LXC notify proxy (`lxc.seccomp.notify.proxy`), which speaks a different protocol than an OCI seccomp agent");
        }
    }

    // The policy text is written as rules are read (no list of lines
    // beside it). A large policy has hundreds of thousands of (call,
    // filters) pairs, so the set of those written so far holds numbers:
    // each distinct call name and filter text is numbered once.
    let header = match default {
        Action::Allow => "denylist".to_string(),
        other => format!("allowlist {}", other.text()),
    };
    let mut policy = format!("2\n{header}\n[all]\n");
    let mut filters: HashMap<String, u32> = HashMap::new();
    let mut calls: HashMap<&str, u32> = HashMap::new();
    let mut seen: HashSet<(u32, u32)> = HashSet::new();
    for rule in at.get("syscalls").map(|s| s.items()).unwrap_or_default() {
        let Some(action_at) = rule.get("action") else {
            continue;
        };
        let action_name = action_at.str().unwrap_or_default();
        let errno = errno_ret(&rule, "errnoRet", action_name, cx);
        let (action, note) = map_action(action_name, errno);
        if let Some(note) = note {
            cx.lossy(&action_at, format!("{action_name}: {note}"));
        }
        let Some(groups) = arg_groups(&rule, cx) else {
            continue;
        };
        let groups: Vec<(String, u32)> = groups
            .into_iter()
            .map(|args| {
                let next = u32::try_from(filters.len()).unwrap_or(u32::MAX);
                let id = *filters.entry(args.clone()).or_insert(next);
                (args, id)
            })
            .collect();
        let action_text = action.text();
        for name in rule.get("names").map(|n| n.items()).unwrap_or_default() {
            let Some(text) = name.str() else { continue };
            if !valid_name(text) {
                cx.at(
                    &pve::INVALID_VALUE,
                    &name,
                    format!(
                        "`{}` is not a system call name (lower-case letters, digits and `_`)",
                        text.escape_debug()
                    ),
                )
                .with_label("not a system call");
                continue;
            }
            for (args, id) in &groups {
                if action == default {
                    // Redundant, and libseccomp (so LXC) refuses a rule that repeats the default.
                    continue;
                }
                // libseccomp keeps the first rule for the same call and
                // filters, in LXC as in OCI runtimes: later ones change nothing.
                let next = u32::try_from(calls.len()).unwrap_or(u32::MAX);
                let call = *calls.entry(text).or_insert(next);
                if seen.insert((call, *id)) {
                    policy.push_str(text);
                    policy.push(' ');
                    policy.push_str(&action_text);
                    if !args.is_empty() {
                        policy.push(' ');
                        policy.push_str(args);
                    }
                    policy.push('\n');
                }
            }
        }
    }
    drop((seen, calls, filters));

    cx.at(
        &pve::LOSSY,
        &at,
        "this policy replaces the one Proxmox generates, which also refuses `keyctl` (unprivileged containers), btrfs ioctls and AF_ALG sockets and implements `features: keyctl` and `mknod`",
    )
    .with_severity(Severity::Info)
    .with_label("replaces Proxmox's policy");

    policy.shrink_to_fit();
    ir.security.seccomp = Some(at.traced(SeccompProfile { text: policy }));
}

/// `errnoRet`/`defaultErrnoRet`: only for ERRNO and TRACE, at most 4095.
fn errno_ret(at: &Cursor<'_>, field: &str, action: &str, cx: &mut Cx<'_>) -> Option<u32> {
    let e_at = at.get(field)?;
    let value = e_at.u32()?;
    if !matches!(action, "SCMP_ACT_ERRNO" | "SCMP_ACT_TRACE") {
        cx.at(&pve::INVALID_VALUE, &e_at, format!("`{field}` only applies to SCMP_ACT_ERRNO and SCMP_ACT_TRACE, not {action}; OCI runtimes refuse this"))
            .with_label("no errno for this action");
        return None;
    }
    if value > MAX_ERRNO {
        cx.at(
            &pve::OUT_OF_RANGE,
            &e_at,
            format!("{value} is not an errno (at most {MAX_ERRNO})"),
        )
        .with_label("not an errno");
        return None;
    }
    Some(value)
}

/// The argument filters of a rule, as LXC lines need them: one group with
/// all filters, or (as runc does when an argument index repeats) one group
/// per filter. `None` when a filter cannot be expressed.
fn arg_groups(rule: &Cursor<'_>, cx: &mut Cx<'_>) -> Option<Vec<String>> {
    let mut args = Vec::new();
    for arg in rule.get("args").map(|a| a.items()).unwrap_or_default() {
        let (Some(index), Some(value), Some(op)) = (
            arg.get("index").and_then(|i| i.u32()),
            arg.get("value").and_then(|v| v.u64()),
            arg.get("op").and_then(|o| o.str()),
        ) else {
            return None;
        };
        if index >= 6 {
            cx.at(
                &pve::INVALID_VALUE,
                &arg,
                format!(
                    "argument index {index} does not exist; system calls have arguments 0 to 5"
                ),
            )
            .with_label("no such argument");
            return None;
        }
        let text = if op == "SCMP_CMP_MASKED_EQ" {
            let two = arg.get("valueTwo").and_then(|v| v.u64()).unwrap_or(0);
            format!("[{index},{two},{op},{value}]")
        } else {
            format!("[{index},{value},{op}]")
        };
        args.push(Arg { index, text });
    }
    let mut indices: Vec<u32> = args.iter().map(|a| a.index).collect();
    indices.sort_unstable();
    let repeated = indices.windows(2).any(|w| w.first() == w.last());
    if repeated {
        Some(args.into_iter().map(|a| a.text).collect())
    } else {
        Some(vec![args
            .into_iter()
            .map(|a| a.text)
            .collect::<Vec<_>>()
            .join(" ")])
    }
}

fn architectures(at: &Cursor<'_>, cx: &mut Cx<'_>) {
    let covered = covered_arches(&cx.target.arch);
    let Some(native) = covered.first() else {
        return;
    };
    let list_at = at.get("architectures");
    let listed: Vec<String> = list_at
        .as_ref()
        .map(|l| l.strings().into_iter().map(|s| s.value).collect())
        .unwrap_or_default();
    let effective: Vec<&str> = if listed.is_empty() {
        vec![native]
    } else {
        listed.iter().map(String::as_str).collect()
    };
    let extra: Vec<&str> = covered
        .iter()
        .copied()
        .filter(|a| !effective.contains(a))
        .collect();
    if extra.is_empty() {
        return;
    }
    let message = format!(
        "LXC applies the policy to {} as well, as it always covers the host's compat architectures; OCI runtimes refuse system calls from architectures that are not listed",
        extra.join(", ")
    );
    match list_at.filter(|_| !listed.is_empty()) {
        Some(l) => {
            cx.at(&pve::LOSSY, &l, message)
                .with_label("architectures not listed");
        }
        None => {
            cx.at(&pve::LOSSY, at, message)
                .with_severity(Severity::Info)
                .with_label("no architectures listed");
        }
    }
}

/// A diagnostic helper for tests elsewhere: the profile of a config.
#[cfg(test)]
pub(crate) fn profile_of(json: &str) -> (Option<String>, Vec<String>) {
    let (ir, codes) = crate::lower::check(json, &crate::target::Target::default());
    (ir.security.seccomp.map(|s| s.value.text), codes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(seccomp: &str) -> String {
        format!(
            r#"{{"ociVersion": "1.2.0", "root": {{"path": "rootfs"}}, "linux": {{"namespaces": [{{"type": "user"}}, {{"type": "network"}}, {{"type": "pid"}}, {{"type": "ipc"}}, {{"type": "uts"}}, {{"type": "mount"}}, {{"type": "cgroup"}}], "seccomp": {seccomp}}}}}"#
        )
    }

    fn profile(seccomp: &str) -> (String, Vec<String>) {
        let (text, codes) = profile_of(&config(seccomp));
        (text.unwrap_or_default(), codes)
    }

    const ARCHES: &str =
        r#""architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]"#;

    #[test]
    fn allowlist_with_errno_default() {
        let (text, codes) = profile(&format!(
            r#"{{"defaultAction": "SCMP_ACT_ERRNO", {ARCHES}, "syscalls": [
                {{"names": ["read", "write", "exit_group"], "action": "SCMP_ACT_ALLOW"}},
                {{"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}}]}},
                {{"names": ["clone"], "action": "SCMP_ACT_ALLOW", "args": [{{"index": 0, "value": 2114060288, "op": "SCMP_CMP_MASKED_EQ"}}]}},
                {{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}}
            ]}}"#
        ));
        assert_eq!(
            text,
            "2\nallowlist errno 1\n[all]\nread allow\nwrite allow\nexit_group allow\npersonality allow [0,8,SCMP_CMP_EQ]\nclone allow [0,0,SCMP_CMP_MASKED_EQ,2114060288]\nmkdir errno 13\n"
        );
        assert!(codes.is_empty(), "{codes:?}");
    }

    #[test]
    fn denylist_drops_rules_equal_to_the_default() {
        let (text, codes) = profile(&format!(
            r#"{{"defaultAction": "SCMP_ACT_ALLOW", {ARCHES}, "syscalls": [
                {{"names": ["read"], "action": "SCMP_ACT_ALLOW"}},
                {{"names": ["kexec_load", "init_module", "finit_module", "delete_module", "open_by_handle_at"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}},
                {{"names": ["ptrace"], "action": "SCMP_ACT_KILL"}},
                {{"names": ["uselib"], "action": "SCMP_ACT_TRAP"}}
            ]}}"#
        ));
        assert_eq!(
            text,
            "2\ndenylist\n[all]\nkexec_load errno 1\ninit_module errno 1\nfinit_module errno 1\ndelete_module errno 1\nopen_by_handle_at errno 1\nptrace kill\nuselib trap\n"
        );
        assert!(codes.is_empty(), "{codes:?}");
    }

    #[test]
    fn default_errno_and_kill_defaults() {
        let (text, _) = profile(&format!(
            r#"{{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38, {ARCHES}, "syscalls": [{{"names": ["read"], "action": "SCMP_ACT_ALLOW"}}]}}"#
        ));
        assert!(
            text.starts_with("2\nallowlist errno 38\n[all]\nread allow\n"),
            "{text}"
        );
        let (text, _) = profile(&format!(
            r#"{{"defaultAction": "SCMP_ACT_KILL", {ARCHES}}}"#
        ));
        assert_eq!(text, "2\nallowlist kill\n[all]\n");
    }

    #[test]
    fn repeated_argument_index_means_one_line_per_filter() {
        let (text, _) = profile(&format!(
            r#"{{"defaultAction": "SCMP_ACT_ERRNO", {ARCHES}, "syscalls": [
                {{"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{{"index": 0, "value": 0, "op": "SCMP_CMP_EQ"}}, {{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}}]}},
                {{"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [{{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}}, {{"index": 1, "value": 2, "op": "SCMP_CMP_NE"}}]}}
            ]}}"#
        ));
        assert!(
            text.ends_with("[all]\npersonality allow [0,0,SCMP_CMP_EQ]\npersonality allow [0,8,SCMP_CMP_EQ]\nsocket allow [0,1,SCMP_CMP_EQ] [1,2,SCMP_CMP_NE]\n"),
            "{text}"
        );
    }

    #[test]
    fn actions_lxc_lacks_are_lossy() {
        let (text, codes) = profile(&format!(
            r#"{{"defaultAction": "SCMP_ACT_ALLOW", {ARCHES}, "syscalls": [
                {{"names": ["a1"], "action": "SCMP_ACT_LOG"}},
                {{"names": ["a2"], "action": "SCMP_ACT_TRACE", "errnoRet": 5}},
                {{"names": ["a3"], "action": "SCMP_ACT_KILL_PROCESS"}},
                {{"names": ["a4"], "action": "SCMP_ACT_NOTIFY"}}
            ]}}"#
        ));
        assert_eq!(
            text,
            "2\ndenylist\n[all]\na2 errno 38\na3 kill\na4 errno 38\n"
        );
        assert_eq!(
            codes,
            vec![
                "pve/lossy /linux/seccomp/syscalls/0/action",
                "pve/lossy /linux/seccomp/syscalls/1/action",
                "pve/lossy /linux/seccomp/syscalls/2/action",
                "pve/lossy /linux/seccomp/syscalls/3/action"
            ]
        );
    }

    #[test]
    fn what_lxc_cannot_carry_is_reported() {
        let (_, codes) = profile(
            r#"{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_X86_64"], "flags": ["SECCOMP_FILTER_FLAG_LOG"], "listenerPath": "/run/agent.sock", "syscalls": [
                {"names": ["read"], "action": "SCMP_ACT_ALLOW", "errnoRet": 1},
                {"names": ["Bad Name", "write"], "action": "SCMP_ACT_ALLOW"},
                {"names": ["mmap"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]},
                {"names": ["close"], "action": "SCMP_ACT_ERRNO", "errnoRet": 70000}
            ]}"#,
        );
        assert_eq!(
            codes,
            vec![
                "pve/lossy /linux/seccomp/architectures",
                "pve/lossy /linux/seccomp/flags/0",
                "pve/unsupported /linux/seccomp/listenerPath",
                "pve/invalid-value /linux/seccomp/syscalls/0/errnoRet",
                "pve/invalid-value /linux/seccomp/syscalls/1/names/0",
                "pve/invalid-value /linux/seccomp/syscalls/2/args/0",
                "pve/out-of-range /linux/seccomp/syscalls/3/errnoRet"
            ]
        );
    }

    #[test]
    fn conflicting_rules_keep_the_first() {
        let (text, codes) = profile(&format!(
            r#"{{"defaultAction": "SCMP_ACT_ALLOW", {ARCHES}, "syscalls": [
                {{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}},
                {{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}},
                {{"names": ["mkdir"], "action": "SCMP_ACT_KILL"}}
            ]}}"#
        ));
        assert_eq!(text, "2\ndenylist\n[all]\nmkdir errno 13\n");
        assert!(codes.is_empty(), "{codes:?}");
    }

    #[test]
    fn missing_architectures_are_an_info() {
        let (_, codes) = profile(r#"{"defaultAction": "SCMP_ACT_ERRNO"}"#);
        assert!(codes.is_empty(), "{codes:?}");
    }

    #[test]
    fn names_are_checked() {
        assert!(valid_name("clock_gettime64"));
        assert!(!valid_name(""));
        assert!(!valid_name("read\nkexec_load allow"));
        assert!(!valid_name("reject_force_umount"));
        assert!(!valid_name("READ"));
        assert!(!valid_name("[x86]"));
    }
}
