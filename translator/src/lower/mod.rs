//! Lowering: the validated spec → [`crate::ir::Container`] plus diagnostics, one
//! module per area. Lowering never fails: what cannot be represented is
//! reported, and an error diagnostic makes the caller refuse the output.

mod devices;
mod misc;
pub use misc::IDENTITY_KEY;
mod mounts;
mod namespaces;
mod network;
pub(crate) mod process;
mod resources;
mod security;
pub(crate) use security::GLOBAL_PROC_DIRS;
mod table;

use crate::diag::{Diagnostic, Severity};
use crate::ir::{Container, ContainerKind, OciValue};
use crate::rules::{pve, Rule};
use crate::source::JsonPointer;
use crate::spec::{Cursor, Spec};
use crate::target::{PveContainerVersion, Target};

/// What each lowering module reads: the `Lower` entries of the field table
/// (`spec::fields`), as generic pointers (`*` for array items and map
/// values), by the module's file under `lower/`. A pointer ending in `/**`
/// claims a field together with everything below it: the module takes it
/// as one value (reports it whole, keeps it for OCI back ends) and reads
/// none of its parts. A field the table marks `Lower` that no module claims
/// would vanish without a diagnostic; the tests below hold the table and
/// these lists to each other.
pub static CONSUMERS: &[(&str, &[&str])] = &[
    ("mod.rs", CONSUMES),
    ("devices.rs", devices::CONSUMES),
    ("misc.rs", misc::CONSUMES),
    ("mounts.rs", mounts::CONSUMES),
    ("namespaces.rs", namespaces::CONSUMES),
    ("network.rs", network::CONSUMES),
    ("process.rs", process::CONSUMES),
    ("resources.rs", resources::CONSUMES),
    ("security.rs", security::CONSUMES),
    ("security/capabilities.rs", security::CAPABILITIES_CONSUMES),
    ("security/paths.rs", security::PATHS_CONSUMES),
    ("security/seccomp.rs", security::SECCOMP_CONSUMES),
];

/// `ociVersion` is looked up by `spec::parse` (`check_version`, which picks
/// the rules of that release) and reaches lowering as `Spec::version`, which
/// [`lower`] records in the IR for the OCI back ends.
const CONSUMES: &[&str] = &["/ociVersion"];

/// Shared state of one lowering run.
pub(crate) struct Cx<'t> {
    pub target: &'t Target,
    pub diags: Vec<Diagnostic>,
}

impl<'t> Cx<'t> {
    pub(crate) fn new(target: &'t Target) -> Cx<'t> {
        Cx {
            target,
            diags: Vec::new(),
        }
    }

    pub(crate) fn report(&mut self, diag: Diagnostic) {
        self.diags.push(diag);
    }

    /// A diagnostic of `rule` at a cursor.
    pub fn at(
        &mut self,
        rule: &'static Rule,
        at: &Cursor<'_>,
        message: impl Into<String>,
    ) -> Pending<'_> {
        self.diags
            .push(Diagnostic::new(rule, message).at(at.ptr(), at.span()));
        Pending(self.diags.last_mut())
    }

    /// Reports a field Proxmox cannot express and keeps it for OCI back ends.
    pub(crate) fn unsupported(&mut self, ir: &mut Container, at: &Cursor<'_>, why: &str) {
        let what = describe(at.ptr());
        self.diags.push(
            Diagnostic::new(
                &pve::UNSUPPORTED,
                format!("{what} is not applied on Proxmox: {why}"),
            )
            .at(at.ptr(), at.span())
            .with_label("not applied"),
        );
        keep_for_oci(ir, at);
    }

    pub(crate) fn ignored(&mut self, ir: &mut Container, at: &Cursor<'_>, why: &str) {
        let what = describe(at.ptr());
        self.diags.push(
            Diagnostic::new(
                &pve::IGNORED_BY_DESIGN,
                format!("{what} is not used: {why}"),
            )
            .at(at.ptr(), at.span())
            .with_label("ignored"),
        );
        keep_for_oci(ir, at);
    }

    pub(crate) fn lossy(&mut self, at: &Cursor<'_>, message: impl Into<String>) {
        self.diags.push(
            Diagnostic::new(&pve::LOSSY, message)
                .at(at.ptr(), at.span())
                .with_label("approximated"),
        );
    }

    pub(crate) fn pve_at_least(&self, version: PveContainerVersion) -> bool {
        self.target.pve_container.at_least(version)
    }

    /// Reports that the target is too old for `key`; `severity` says whether something is lost.
    pub(crate) fn too_old(
        &mut self,
        at: &Cursor<'_>,
        key: &str,
        needs: PveContainerVersion,
        consequence: &str,
        severity: Severity,
    ) {
        self.diags.push(
            Diagnostic::new(
                &pve::VERSION,
                format!("`{key}` needs pve-container {needs} or later; the target has {}: {consequence}", self.target.pve_container),
            )
            .at(at.ptr(), at.span())
            .with_severity(severity)
            .with_help("set the node's version with --pve-version or --target, or upgrade the node"),
        );
    }
}

/// A diagnostic just reported, still open for labels and help.
pub(crate) struct Pending<'c>(Option<&'c mut Diagnostic>);

impl Pending<'_> {
    pub(crate) fn with_label(self, label: impl Into<String>) -> Self {
        self.edit(|d| d.label = Some(label.into()))
    }

    pub(crate) fn with_help(self, help: impl Into<String>) -> Self {
        self.edit(|d| d.help = Some(help.into()))
    }

    pub(crate) fn with_severity(self, severity: Severity) -> Self {
        self.edit(|d| d.severity = severity)
    }

    fn edit(mut self, f: impl FnOnce(&mut Diagnostic)) -> Self {
        if let Some(d) = self.0.as_deref_mut() {
            f(d);
        }
        self
    }
}

/// Records a field for OCI back ends exactly as given.
pub(crate) fn keep_for_oci(ir: &mut Container, at: &Cursor<'_>) {
    ir.oci_only.push((
        at.ptr().clone(),
        OciValue::new(std::sync::Arc::clone(at.tree()), at.id()),
    ));
}

fn describe(ptr: &JsonPointer) -> String {
    format!("`{ptr}`")
}

/// Lowers a validated spec for a target.
pub(crate) fn lower(spec: &Spec, target: &Target) -> (Container, Vec<Diagnostic>) {
    let mut cx = Cx::new(target);
    let root = spec.cursor();
    // Decided once, before any area: network (host-managed), process (halt signal), mounts
    // (/dev/shm) and the pve emitter (cmode) all read `ir.kind`.
    let kind = container_kind(&root);
    let mut ir = Container {
        oci_version: spec.version,
        kind,
        arch: target.arch.clone(),
        ostype: target.ostype.clone(),
        ..Container::default()
    };
    table::report_unhandled(&root, &mut cx, &mut ir);
    namespaces::lower(&root, &mut cx, &mut ir);
    network::lower(&root, &mut cx, &mut ir);
    misc::lower(&root, &mut cx, &mut ir);
    process::lower(&root, &mut cx, &mut ir);
    resources::lower(&root, &mut cx, &mut ir);
    mounts::lower(&root, &mut cx, &mut ir);
    security::lower(&root, &mut cx, &mut ir);
    devices::lower(&root, &mut cx, &mut ir);
    keep_exact_for_oci(&root, &mut ir);
    (ir, cx.diags)
}

/// Proxmox's OCI import decides by argv[0]: `/sbin/init` (with or without arguments) is a
/// system container, anything else an application.
fn container_kind(root: &Cursor<'_>) -> ContainerKind {
    // The first string only: the arguments may be megabytes.
    let first = root
        .path(&["process", "args"])
        .and_then(|a| a.items().find_map(|c| c.str()));
    match first {
        Some(a) if a != crate::ir::process::SYSTEM_INIT => ContainerKind::Application,
        _ => ContainerKind::System,
    }
}

/// Areas whose Proxmox form is not the OCI one: limits in MiB and CPU
/// fractions, LXC's seccomp text, device paths without their numbers, mount
/// points without their options. OCI back ends apply these exactly as given.
const KEPT_FOR_OCI: &[&[&str]] = &[
    &["mounts"],
    &["linux", "resources"],
    &["linux", "devices"],
    &["linux", "seccomp"],
    &["linux", "netDevices"],
];

fn keep_exact_for_oci(root: &Cursor<'_>, ir: &mut Container) {
    for path in KEPT_FOR_OCI {
        if let Some(at) = root.path(path) {
            if !ir.oci_only.iter().any(|(p, _)| p == at.ptr()) {
                keep_for_oci(ir, &at);
            }
        }
    }
}

/// The one entry point of the lowering unit tests: a config snippet in, the
/// IR and the warnings and errors (as `code pointer`) out.
#[cfg(test)]
pub(crate) fn check(json: &str, target: &Target) -> (Container, Vec<String>) {
    let t = crate::oci_to_ir("test.json", json.as_bytes(), target);
    let codes = t
        .diagnostics
        .iter()
        .filter(|d| d.severity != Severity::Info)
        .map(|d| {
            format!(
                "{} {}",
                d.code(),
                d.pointer.as_ref().map(|p| p.as_str()).unwrap_or("")
            )
        })
        .collect();
    (t.ir.unwrap_or_default(), codes)
}

#[cfg(test)]
pub(crate) fn pve_conf(json: &str, target: &Target) -> String {
    let (ir, _) = check(json, target);
    crate::emit::pct_conf::write(&crate::emit::pve::ir_to_pve(&ir))
        .unwrap_or_else(|e| e.to_string())
}

#[cfg(test)]
mod consumers {
    use super::CONSUMERS;
    use crate::spec::fields::{paths, Handling};

    /// Fields a lowering module must read: marked `Lower`, below nothing but
    /// `Lower` and `Fields` entries. The children of an `Unsupported` or
    /// `Ignored` entry are reported with it (`lower::table`) and never read.
    fn lowered() -> Vec<String> {
        let all = paths();
        let handled = |p: &str| all.iter().find(|(q, _)| q == p).map(|(_, f)| f.handling);
        all.iter()
            .filter(|(path, field)| {
                let mut ancestors = path
                    .match_indices('/')
                    .map(|(i, _)| &path[..i])
                    .filter(|a| !a.is_empty() && !a.ends_with("/*"));
                field.handling == Handling::Lower
                    && ancestors
                        .all(|a| matches!(handled(a), Some(Handling::Lower | Handling::Fields)))
            })
            .map(|(p, _)| p.clone())
            .collect()
    }

    /// The field a claim names, and whether it claims the subtree below too.
    fn claim(pointer: &str) -> (&str, bool) {
        pointer
            .strip_suffix("/**")
            .map_or((pointer, false), |p| (p, true))
    }

    fn covers(pointer: &str, field: &str) -> bool {
        let (named, subtree) = claim(pointer);
        named == field
            || (subtree
                && field
                    .strip_prefix(named)
                    .is_some_and(|rest| rest.starts_with('/')))
    }

    /// Each consumer's code, where the keys it claims must be looked up.
    /// `mod.rs`'s one claim, `ociVersion`, is looked up in `spec/mod.rs`;
    /// `capabilities.rs` reads the five sets by `linux::CapabilitySet::key`.
    const SOURCES: &[(&str, &[&str])] = &[
        (
            "mod.rs",
            &[include_str!("mod.rs"), include_str!("../spec/mod.rs")],
        ),
        ("devices.rs", &[include_str!("devices.rs")]),
        ("misc.rs", &[include_str!("misc.rs")]),
        ("mounts.rs", &[include_str!("mounts.rs")]),
        ("namespaces.rs", &[include_str!("namespaces.rs")]),
        ("network.rs", &[include_str!("network.rs")]),
        ("process.rs", &[include_str!("process.rs")]),
        ("resources.rs", &[include_str!("resources.rs")]),
        ("security.rs", &[include_str!("security.rs")]),
        (
            "security/capabilities.rs",
            &[
                include_str!("security/capabilities.rs"),
                include_str!("../linux.rs"),
            ],
        ),
        ("security/paths.rs", &[include_str!("security/paths.rs")]),
        (
            "security/seccomp.rs",
            &[include_str!("security/seccomp.rs")],
        ),
    ];

    /// A file's code without its tests and without its own `CONSUMES` list,
    /// whose literals would otherwise name every claimed key.
    fn code(file: &str) -> String {
        let texts = SOURCES
            .iter()
            .find(|(f, _)| *f == file)
            .map(|(_, t)| *t)
            .unwrap_or_default();
        let mut out = String::new();
        for text in texts {
            let text = text.split("#[cfg(test)]").next().unwrap_or(text);
            match text.split_once("const CONSUMES: &[&str] = &[") {
                Some((before, after)) => {
                    out.push_str(before);
                    out.push_str(after.split_once("];").map_or("", |(_, rest)| rest));
                }
                None => out.push_str(text),
            }
        }
        out
    }

    #[test]
    fn every_lowered_field_has_a_module() {
        let claims: Vec<&str> = CONSUMERS
            .iter()
            .flat_map(|(_, ps)| ps.iter().copied())
            .collect();
        let orphans: Vec<String> = lowered()
            .into_iter()
            .filter(|field| !claims.iter().any(|c| covers(c, field)))
            .collect();
        assert!(
            orphans.is_empty(),
            "marked `Lower` in spec/fields.rs, read by no lowering module: {orphans:#?}"
        );
    }

    #[test]
    fn modules_claim_only_lowered_fields() {
        let lowered = lowered();
        for (file, ps) in CONSUMERS {
            let wrong: Vec<&&str> = ps
                .iter()
                .filter(|p| !lowered.iter().any(|l| l == claim(p).0))
                .collect();
            assert!(
                wrong.is_empty(),
                "{file} claims fields spec/fields.rs does not mark `Lower`: {wrong:?}"
            );
        }
    }

    /// A claim names a key the module's code looks up: the last named
    /// component of each pointer appears in the module as a string literal.
    #[test]
    fn modules_name_the_keys_they_claim() {
        for (file, ps) in CONSUMERS {
            assert!(
                SOURCES.iter().any(|(f, _)| f == file),
                "{file} has no entry in SOURCES"
            );
            let code = code(file);
            for p in *ps {
                let key = claim(p)
                    .0
                    .rsplit('/')
                    .find(|k| *k != "*")
                    .unwrap_or_default();
                assert!(
                    code.contains(&format!("\"{key}\"")),
                    "{file} claims {p} but never names `{key}`"
                );
            }
        }
    }

    /// The checks above are only as good as these helpers: a claim covers
    /// its own field, and its subtree only when it says `/**`.
    #[test]
    fn claims_cover_what_they_say() {
        assert!(covers("/mounts/*/uidMappings", "/mounts/*/uidMappings"));
        assert!(!covers(
            "/mounts/*/uidMappings",
            "/mounts/*/uidMappings/*/size"
        ));
        assert!(covers(
            "/mounts/*/uidMappings/**",
            "/mounts/*/uidMappings/*/size"
        ));
        assert!(covers("/mounts/*/uidMappings/**", "/mounts/*/uidMappings"));
        assert!(!covers("/mounts/*/uid/**", "/mounts/*/uidMappings"));
        let lowered = lowered();
        assert!(lowered.iter().any(|p| p == "/process/user/uid"));
        assert!(
            !lowered.iter().any(|p| p == "/process/user/umask"),
            "Unsupported is not Lower"
        );
        assert!(
            !lowered
                .iter()
                .any(|p| p.starts_with("/linux/resources/hugepageLimits/")),
            "below Unsupported is reported with it"
        );
    }
}
