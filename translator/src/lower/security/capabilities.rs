//! `process.capabilities` → `lxc.cap.keep`.
//!
//! LXC keeps one set: at start it drops every capability outside
//! `lxc.cap.keep` from the bounding set. A root init then holds exactly
//! that set (effective = permitted = bounding); a non-root init
//! (`lxc.init.uid`) holds none, because LXC sets no ambient capabilities
//! (checked with LXC 5.0.2: `CapEff`, `CapInh` and `CapAmb` are 0 for uid
//! 1000). The bounding set is the limit of what any process of the
//! container can ever gain, so `cap_keep` is the bounding set; every way
//! the other four sets differ from what LXC gives is reported as
//! `pve/lossy`. A `capabilities` object without `bounding` keeps nothing,
//! as runc and crun clear the bounding set then too.

use std::collections::BTreeSet;

use crate::diag::{Diagnostic, Severity};
use crate::ir::Container;
use crate::linux::{self, CapabilitySet};
use crate::lower::Cx;
use crate::rules::pve;
use crate::source::Traced;
use crate::spec::Cursor;

struct Set<'a> {
    set: CapabilitySet,
    at: Cursor<'a>,
    /// Known capabilities, LXC spelling.
    caps: BTreeSet<&'static str>,
}

/// The field-table entries (`spec::fields`, marked `Lower`) this module
/// reads; `lower::consumers::every_lowered_field_has_a_module` holds the table to it.
pub(in crate::lower) const CONSUMES: &[&str] = &[
    "/process/capabilities",
    "/process/capabilities/bounding",
    "/process/capabilities/effective",
    "/process/capabilities/inheritable",
    "/process/capabilities/permitted",
    "/process/capabilities/ambient",
];

pub(crate) fn lower(process: &Cursor<'_>, cx: &mut Cx<'_>, ir: &mut Container) {
    let Some(at) = process.get("capabilities") else {
        return;
    };
    let mut sets: Vec<Set<'_>> = Vec::new();
    for set in CapabilitySet::ALL {
        let name = set.key();
        let Some(list) = at.get(name) else { continue };
        let given = list.strings();
        let mut caps = BTreeSet::new();
        for cap in &given {
            match linux::capability(&cap.value).map(|c| c.lxc) {
                Some(c) => {
                    caps.insert(c);
                }
                None => unknown(cx, cap),
            }
        }
        let mut raw: Vec<String> = given.into_iter().map(|t| t.value).collect();
        raw.sort();
        raw.dedup();
        ir.security.capability_sets.push((name.to_string(), raw));
        sets.push(Set {
            set,
            at: list,
            caps,
        });
    }
    ir.security.capability_sets.sort();

    let bounding = sets.iter().find(|s| s.set == CapabilitySet::Bounding);
    let keep: BTreeSet<&'static str> = bounding.map(|s| s.caps.clone()).unwrap_or_default();
    let keep_at = bounding.map(|s| s.at.clone()).unwrap_or_else(|| at.clone());
    if bounding.is_none() {
        cx.at(&pve::LOSSY, &at, "there is no `bounding` set, so the container keeps no capabilities (`lxc.cap.keep: none`), as runc and crun clear the bounding set too")
            .with_severity(Severity::Info)
            .with_label("no bounding set");
    }
    let uid = process
        .path(&["user", "uid"])
        .and_then(|u| u.u32())
        .unwrap_or(0);
    compare(&at, &sets, &keep, uid, cx);
    ir.security.cap_keep = Some(keep_at.traced(keep.into_iter().map(str::to_string).collect()));
}

fn unknown(cx: &mut Cx<'_>, cap: &Traced<String>) {
    let fixed = linux::capability(&linux::capability_meant(&cap.value)).map(|c| c.name);
    let mut d = Diagnostic::new(
        &pve::UNKNOWN_CAPABILITY,
        format!("`{}` is not a Linux capability", cap.value.escape_debug()),
    )
    .at(&cap.ptr, cap.span)
    .with_label("unknown capability");
    if let Some(fixed) = fixed {
        d = d.with_help(format!(
            "capabilities are written `CAP_` and the name in upper case: `{fixed}`"
        ));
    }
    cx.report(d);
}

/// Reports how LXC's result differs from what the other four sets ask for.
fn compare(
    at: &Cursor<'_>,
    sets: &[Set<'_>],
    keep: &BTreeSet<&'static str>,
    uid: u32,
    cx: &mut Cx<'_>,
) {
    let others = || sets.iter().filter(|s| s.set != CapabilitySet::Bounding);
    for set in others() {
        let outside: Vec<&str> = set.caps.difference(keep).copied().collect();
        if !outside.is_empty() {
            cx.lossy(
                &set.at,
                format!("{} in `{}` {} not in the bounding set; LXC keeps only the bounding set, so the container never has {}", join(&outside), set.set.key(), is_are(&outside), them(&outside)),
            );
        }
    }
    if uid != 0 {
        let wanted: BTreeSet<&str> = others()
            .flat_map(|s| s.caps.intersection(keep).copied())
            .collect();
        if !wanted.is_empty() {
            let wanted: Vec<&str> = wanted.into_iter().collect();
            cx.at(
                &pve::LOSSY,
                at,
                format!("the process runs as uid {uid}, and LXC starts a non-root process without capabilities (it sets no inheritable or ambient set), so it does not have {}", join(&wanted)),
            )
            .with_label("not granted")
            .with_help("run the process as root and drop privileges in the image, or give the binary file capabilities");
        }
        return;
    }
    for set in
        others().filter(|s| matches!(s.set, CapabilitySet::Effective | CapabilitySet::Permitted))
    {
        let more: Vec<&str> = keep.difference(&set.caps).copied().collect();
        if !more.is_empty() {
            cx.lossy(&set.at, format!("the process runs as root, so under LXC its `{}` set is the whole bounding set: it also has {}", set.set.key(), join(&more)));
        }
    }
    let passed: BTreeSet<&str> = others()
        .filter(|s| matches!(s.set, CapabilitySet::Inheritable | CapabilitySet::Ambient))
        .flat_map(|s| s.caps.intersection(keep).copied())
        .collect();
    if !passed.is_empty() {
        cx.at(&pve::LOSSY, at, "LXC leaves the inheritable and ambient sets empty; a root process holds the whole bounding set anyway")
            .with_severity(Severity::Info)
            .with_label("left empty");
    }
}

/// The runtime-spec names of capabilities held in LXC's spelling (every
/// one came from `linux::capability`, so the table knows it).
fn join(caps: &[&str]) -> String {
    caps.iter()
        .map(|c| {
            linux::capability_by_lxc(c).map_or_else(
                || format!("CAP_{}", c.to_ascii_uppercase()),
                |c| c.name.to_string(),
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn is_are(caps: &[&str]) -> &'static str {
    if caps.len() == 1 {
        "is"
    } else {
        "are"
    }
}

fn them(caps: &[&str]) -> &'static str {
    if caps.len() == 1 {
        "it"
    } else {
        "them"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lower::check;
    use crate::target::Target;

    fn caps(process: &str) -> (Container, Vec<String>) {
        let json = format!(
            r#"{{"ociVersion": "1.2.0", "root": {{"path": "rootfs"}}, "process": {{"cwd": "/", "args": ["/app"]{process}}}, "linux": {{"namespaces": [{{"type": "user"}}, {{"type": "network"}}, {{"type": "pid"}}, {{"type": "ipc"}}, {{"type": "uts"}}, {{"type": "mount"}}, {{"type": "cgroup"}}]}}}}"#
        );
        check(&json, &Target::default())
    }

    fn keep(ir: &Container) -> Option<Vec<String>> {
        ir.security.cap_keep.as_ref().map(|k| k.value.clone())
    }

    #[test]
    fn bounding_set_is_kept_sorted_and_unique() {
        let (ir, codes) = caps(
            r#", "capabilities": {"bounding": ["CAP_NET_BIND_SERVICE", "CAP_CHOWN", "CAP_NET_BIND_SERVICE"], "effective": ["CAP_CHOWN", "CAP_NET_BIND_SERVICE"], "permitted": ["CAP_NET_BIND_SERVICE", "CAP_CHOWN"]}"#,
        );
        assert_eq!(
            keep(&ir),
            Some(vec!["chown".to_string(), "net_bind_service".to_string()])
        );
        assert!(codes.is_empty(), "{codes:?}");
        assert_eq!(
            ir.security.capability_sets,
            vec![
                (
                    "bounding".to_string(),
                    vec!["CAP_CHOWN".to_string(), "CAP_NET_BIND_SERVICE".to_string()]
                ),
                (
                    "effective".to_string(),
                    vec!["CAP_CHOWN".to_string(), "CAP_NET_BIND_SERVICE".to_string()]
                ),
                (
                    "permitted".to_string(),
                    vec!["CAP_CHOWN".to_string(), "CAP_NET_BIND_SERVICE".to_string()]
                ),
            ]
        );
    }

    #[test]
    fn input_order_never_matters() {
        let a = caps(
            r#", "capabilities": {"bounding": ["CAP_KILL", "CAP_AUDIT_WRITE", "CAP_SETUID"], "effective": ["CAP_SETUID", "CAP_KILL"]}"#,
        );
        let b = caps(
            r#", "capabilities": {"effective": ["CAP_KILL", "CAP_SETUID"], "bounding": ["CAP_SETUID", "CAP_KILL", "CAP_AUDIT_WRITE"]}"#,
        );
        assert_eq!(keep(&a.0), keep(&b.0));
        assert_eq!(a.0.security.capability_sets, b.0.security.capability_sets);
        assert_eq!(a.1, b.1);
    }

    #[test]
    fn empty_or_missing_bounding_keeps_nothing() {
        let (ir, codes) = caps(r#", "capabilities": {"bounding": []}"#);
        assert_eq!(keep(&ir), Some(vec![]));
        assert!(codes.is_empty(), "{codes:?}");
        let (ir, codes) = caps(r#", "capabilities": {"effective": ["CAP_KILL"]}"#);
        assert_eq!(keep(&ir), Some(vec![]));
        assert_eq!(codes, vec!["pve/lossy /process/capabilities/effective"]);
        let (ir, _) = caps("");
        assert_eq!(keep(&ir), None);
    }

    #[test]
    fn unknown_names_are_errors() {
        let (ir, codes) =
            caps(r#", "capabilities": {"bounding": ["CAP_CHOWN", "CAP_NET_BIND", "cap_kill"]}"#);
        assert_eq!(keep(&ir), Some(vec!["chown".to_string()]));
        assert_eq!(
            codes,
            vec![
                "pve/unknown-capability /process/capabilities/bounding/1",
                "pve/unknown-capability /process/capabilities/bounding/2"
            ]
        );
    }

    #[test]
    fn root_gets_the_whole_bounding_set() {
        let (_, codes) = caps(
            r#", "capabilities": {"bounding": ["CAP_CHOWN", "CAP_KILL"], "effective": ["CAP_CHOWN"], "permitted": ["CAP_CHOWN", "CAP_KILL"], "ambient": ["CAP_KILL"]}"#,
        );
        assert_eq!(codes, vec!["pve/lossy /process/capabilities/effective"]);
    }

    #[test]
    fn non_root_loses_its_capabilities() {
        let (_, codes) = caps(
            r#", "user": {"uid": 1000, "gid": 1000}, "capabilities": {"bounding": ["CAP_NET_BIND_SERVICE"], "effective": ["CAP_NET_BIND_SERVICE"], "ambient": ["CAP_NET_BIND_SERVICE"], "inheritable": ["CAP_NET_BIND_SERVICE"]}"#,
        );
        assert_eq!(codes, vec!["pve/lossy /process/capabilities"]);
    }

    #[test]
    fn sets_wider_than_bounding() {
        let (_, codes) = caps(
            r#", "capabilities": {"bounding": ["CAP_CHOWN"], "effective": ["CAP_CHOWN", "CAP_SYS_ADMIN"], "permitted": ["CAP_CHOWN"]}"#,
        );
        assert_eq!(codes, vec!["pve/lossy /process/capabilities/effective"]);
    }
}
