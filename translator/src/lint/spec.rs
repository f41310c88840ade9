//! `spec/…`: the document does not follow the OCI runtime-spec.

use crate::diag::Diagnostic;
use crate::diag::Severity::{Error, Warning};
use crate::linux::{self, CapabilitySet};
use crate::rules::spec::{
    DUPLICATE_NAMESPACE, DUPLICATE_RLIMIT, EMPTY_ARGS, HOSTNAME_WITHOUT_UTS, IDMAP_WITHOUT_USERNS,
    INVALID_CAPABILITY, INVALID_RLIMIT, RELATIVE_CWD, RELATIVE_MOUNT_DESTINATION, RELATIVE_PATH,
};
use crate::spec::{Cursor, OciVersion, Spec};

/// Findings of the rules above in a validated spec, in document order.
pub(crate) fn check(spec: &Spec) -> Vec<Diagnostic> {
    let root = spec.cursor();
    let version = spec.version;
    let mut out = Vec::new();
    if let Some(process) = root.get("process") {
        process_rules(&process, version, &mut out);
    }
    mount_destinations(&root, version, &mut out);
    absolute_paths(&root, &mut out);
    namespace_rules(&root, &mut out);
    out
}

/// Whether the declared version is older than `major.minor`; an unknown
/// version is read as the newest, whose rules are the more lenient.
fn older_than(version: Option<OciVersion>, major: u32, minor: u32) -> bool {
    version.is_some_and(|v| (v.major, v.minor) < (major, minor))
}

fn process_rules(process: &Cursor<'_>, version: Option<OciVersion>, out: &mut Vec<Diagnostic>) {
    if let Some(cwd) = process.get("cwd") {
        if let Some(path) = cwd.str().filter(|p| !p.starts_with('/')) {
            out.push(
                Diagnostic::new(
                    &RELATIVE_CWD,
                    format!(
                        "the working directory `{}` is not an absolute path",
                        path.escape_debug()
                    ),
                )
                .at(cwd.ptr(), cwd.span())
                .with_label("relative path")
                .with_help(format!(
                    "write it from the root: `/{}`",
                    path.trim_start_matches("./")
                )),
            );
        }
    }
    match process.get("args") {
        None => out.push(
            Diagnostic::new(
                &EMPTY_ARGS,
                "the process has no `args`, so nothing says what to run",
            )
            .at(process.ptr(), process.span())
            .with_label("no `args`")
            .with_help("add `\"args\": [\"/path/to/program\"]`"),
        ),
        Some(args) if args.items().is_empty() => out.push(
            Diagnostic::new(&EMPTY_ARGS, "`args` is empty, so nothing says what to run")
                .at(args.ptr(), args.span())
                .with_label("empty")
                .with_help("name the program to run as the first entry"),
        ),
        Some(_) => {}
    }
    capabilities(process, version, out);
    rlimits(process, out);
}

fn capabilities(process: &Cursor<'_>, version: Option<OciVersion>, out: &mut Vec<Diagnostic>) {
    let Some(caps) = process.get("capabilities") else {
        return;
    };
    let severity = if older_than(version, 1, 1) {
        Error
    } else {
        Warning
    };
    for set in CapabilitySet::ALL.map(CapabilitySet::key) {
        for item in caps.get(set).map(|s| s.items()).unwrap_or_default() {
            let Some(name) = item.str() else { continue };
            if linux::capability(name).is_some() {
                continue;
            }
            let mut d = Diagnostic::new(
                &INVALID_CAPABILITY,
                format!(
                    "`{}` in the {set} set is not a Linux capability",
                    name.escape_debug()
                ),
            )
            .at(item.ptr(), item.span())
            .with_label("unknown capability")
            .with_severity(severity);
            if let Some(hint) =
                crate::diag::suggest(&linux::capability_meant(name), linux::capability_names())
            {
                d = d.with_help(format!("did you mean `{hint}`?"));
            }
            out.push(d);
        }
    }
}

fn rlimits(process: &Cursor<'_>, out: &mut Vec<Diagnostic>) {
    let Some(list) = process.get("rlimits") else {
        return;
    };
    let mut seen: Vec<(&str, crate::source::Span)> = Vec::new();
    for item in list.items() {
        let Some(kind_at) = item.get("type") else {
            continue;
        };
        let Some(kind) = kind_at.str() else { continue };
        if linux::resource_limit(kind).is_none() {
            let mut d = Diagnostic::new(
                &INVALID_RLIMIT,
                format!("`{}` is not a Linux resource limit", kind.escape_debug()),
            )
            .at(item.ptr(), kind_at.span())
            .with_label("unknown rlimit");
            if let Some(hint) = crate::diag::suggest(kind, linux::resource_limit_names()) {
                d = d.with_help(format!("did you mean `{hint}`?"));
            }
            out.push(d);
            continue;
        }
        if let Some((_, first)) = seen.iter().find(|(k, _)| *k == kind) {
            out.push(
                Diagnostic::new(&DUPLICATE_RLIMIT, format!("{kind} is limited twice"))
                    .at(item.ptr(), kind_at.span())
                    .with_label("second entry")
                    .with_related(*first, "first entry")
                    .with_help("keep one entry per type"),
            );
            continue;
        }
        seen.push((kind, kind_at.span()));
    }
}

fn mount_destinations(root: &Cursor<'_>, version: Option<OciVersion>, out: &mut Vec<Diagnostic>) {
    let severity = if older_than(version, 1, 2) {
        Error
    } else {
        Warning
    };
    for m in root.get("mounts").map(|m| m.items()).unwrap_or_default() {
        let Some(dest) = m.get("destination") else {
            continue;
        };
        let Some(path) = dest.str().filter(|p| !p.starts_with('/')) else {
            continue;
        };
        let why = if severity == Error {
            "runtime-spec before 1.2 requires an absolute path"
        } else {
            "relative destinations are deprecated since runtime-spec 1.2"
        };
        out.push(
            Diagnostic::new(
                &RELATIVE_MOUNT_DESTINATION,
                format!(
                    "the mount destination `{}` is not an absolute path: {why}",
                    path.escape_debug()
                ),
            )
            .at(dest.ptr(), dest.span())
            .with_label("relative path")
            .with_severity(severity)
            .with_help(format!(
                "write it from the container's root: `/{}`",
                path.trim_start_matches("./")
            )),
        );
    }
}

fn absolute_paths(root: &Cursor<'_>, out: &mut Vec<Diagnostic>) {
    let mut relative = |at: &Cursor<'_>, what: &str| {
        if let Some(path) = at.str().filter(|p| !p.starts_with('/')) {
            out.push(
                Diagnostic::new(
                    &RELATIVE_PATH,
                    format!("{what} `{}` is not an absolute path", path.escape_debug()),
                )
                .at(at.ptr(), at.span())
                .with_label("relative path"),
            );
        }
    };
    let linux = root.get("linux");
    for ns in linux
        .as_ref()
        .and_then(|l| l.get("namespaces"))
        .map(|n| n.items())
        .unwrap_or_default()
    {
        if let Some(path) = ns.get("path") {
            relative(&path, "the namespace path");
        }
    }
    for (key, what) in [
        ("maskedPaths", "the masked path"),
        ("readonlyPaths", "the read-only path"),
    ] {
        for item in linux
            .as_ref()
            .and_then(|l| l.get(key))
            .map(|p| p.items())
            .unwrap_or_default()
        {
            relative(&item, what);
        }
    }
    for (_, _, phase) in root.get("hooks").map(|h| h.entries()).unwrap_or_default() {
        for hook in phase.items() {
            if let Some(path) = hook.get("path") {
                relative(&path, "the hook path");
            }
        }
    }
}

fn namespace_rules(root: &Cursor<'_>, out: &mut Vec<Diagnostic>) {
    let linux = root.get("linux");
    let list = linux.as_ref().and_then(|l| l.get("namespaces"));
    let mut seen: Vec<(&str, crate::source::Span)> = Vec::new();
    for ns in list.as_ref().map(|l| l.items()).unwrap_or_default() {
        let Some(kind_at) = ns.get("type") else {
            continue;
        };
        let Some(kind) = kind_at.str() else { continue };
        if let Some((_, first)) = seen.iter().find(|(k, _)| *k == kind) {
            out.push(
                Diagnostic::new(
                    &DUPLICATE_NAMESPACE,
                    format!("the `{kind}` namespace is listed twice"),
                )
                .at(ns.ptr(), kind_at.span())
                .with_label("second entry")
                .with_related(*first, "first entry")
                .with_help("keep one entry per namespace type"),
            );
            continue;
        }
        seen.push((kind, kind_at.span()));
    }
    let has = |kind: &str| seen.iter().any(|(k, _)| *k == kind);
    if let Some(linux) = &linux {
        if !has("user") {
            for key in ["uidMappings", "gidMappings"] {
                let Some(maps) = linux.get(key) else { continue };
                if maps.items().is_empty() {
                    continue;
                }
                out.push(
                    Diagnostic::new(
                        &IDMAP_WITHOUT_USERNS,
                        format!("`{key}` is given, but there is no user namespace for it to map"),
                    )
                    .at(maps.ptr(), maps.span())
                    .with_label("no `user` namespace")
                    .with_help(
                        "add {\"type\": \"user\"} to linux.namespaces, or remove the mappings",
                    ),
                );
            }
        }
    }
    if !has("uts") {
        for key in ["hostname", "domainname"] {
            let Some(at) = root.get(key) else { continue };
            if at.str().is_some_and(|s| !s.is_empty()) {
                let where_ = if list.is_some() {
                    "linux.namespaces has no `uts` entry"
                } else {
                    "the config lists no namespaces"
                };
                out.push(
                    Diagnostic::new(
                        &HOSTNAME_WITHOUT_UTS,
                        format!(
                            "`{key}` is set, but {where_}, so the container would share the host's"
                        ),
                    )
                    .at(at.ptr(), at.span())
                    .with_label("needs a UTS namespace")
                    .with_help("add {\"type\": \"uts\"} to linux.namespaces"),
                );
            }
        }
    }
}
