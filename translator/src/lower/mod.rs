//! Lowering: the validated spec → [`ir::Container`] plus diagnostics, one
//! module per area. Lowering never fails: what cannot be represented is
//! reported, and an error diagnostic makes the caller refuse the output.

mod devices;
mod misc;
pub use misc::{IDENTITY_KEY, IDENTITY_RESERVE};
mod mounts;
mod namespaces;
mod network;
mod process;
mod resources;
mod security;
mod table;

use crate::diag::{Diagnostic, Severity};
use crate::ir::{Container, ContainerKind, OciValue};
use crate::lint::{pve, Rule};
use crate::source::JsonPointer;
use crate::spec::{Cursor, Spec};
use crate::target::{PveContainerVersion, Target};

/// Shared state of one lowering run.
pub struct Cx<'t> {
    pub target: &'t Target,
    pub diags: Vec<Diagnostic>,
}

impl<'t> Cx<'t> {
    pub fn new(target: &'t Target) -> Cx<'t> {
        Cx { target, diags: Vec::new() }
    }

    pub fn report(&mut self, diag: Diagnostic) {
        self.diags.push(diag);
    }

    /// A diagnostic of `rule` at a cursor.
    pub fn at(&mut self, rule: &'static Rule, at: &Cursor<'_>, message: impl Into<String>) -> Pending<'_> {
        self.diags.push(Diagnostic::new(rule, message).at(at.ptr(), at.span()));
        Pending(self.diags.last_mut())
    }

    /// Reports a field Proxmox cannot express and keeps it for OCI back ends.
    pub fn unsupported(&mut self, ir: &mut Container, at: &Cursor<'_>, why: &str) {
        let what = describe(at.ptr());
        self.diags.push(
            Diagnostic::new(&pve::UNSUPPORTED, format!("{what} is not applied on Proxmox: {why}"))
                .at(at.ptr(), at.span())
                .with_label("not applied"),
        );
        keep_for_oci(ir, at);
    }

    pub fn ignored(&mut self, ir: &mut Container, at: &Cursor<'_>, why: &str) {
        let what = describe(at.ptr());
        self.diags.push(
            Diagnostic::new(&pve::IGNORED_BY_DESIGN, format!("{what} is not used: {why}"))
                .at(at.ptr(), at.span())
                .with_label("ignored"),
        );
        keep_for_oci(ir, at);
    }

    pub fn lossy(&mut self, at: &Cursor<'_>, message: impl Into<String>) {
        self.diags.push(Diagnostic::new(&pve::LOSSY, message).at(at.ptr(), at.span()).with_label("approximated"));
    }

    pub fn pve_at_least(&self, version: PveContainerVersion) -> bool {
        self.target.pve_container.at_least(version)
    }

    /// Reports that the target is too old for `key`; `severity` says whether something is lost.
    pub fn too_old(&mut self, at: &Cursor<'_>, key: &str, needs: PveContainerVersion, consequence: &str, severity: Severity) {
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
pub struct Pending<'c>(Option<&'c mut Diagnostic>);

impl Pending<'_> {
    pub fn with_label(self, label: impl Into<String>) -> Self {
        self.edit(|d| d.label = Some(label.into()))
    }

    pub fn with_help(self, help: impl Into<String>) -> Self {
        self.edit(|d| d.help = Some(help.into()))
    }

    pub fn with_severity(self, severity: Severity) -> Self {
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
pub fn keep_for_oci(ir: &mut Container, at: &Cursor<'_>) {
    ir.oci_only.push((at.ptr().clone(), OciValue::new(std::sync::Arc::clone(at.tree()), at.id())));
}

fn describe(ptr: &JsonPointer) -> String {
    format!("`{ptr}`")
}

/// Lowers a validated spec for a target.
pub fn lower(spec: &Spec, target: &Target) -> (Container, Vec<Diagnostic>) {
    let mut cx = Cx::new(target);
    let root = spec.cursor();
    // Decided once, before any area: network (host-managed), process (halt signal), mounts
    // (/dev/shm) and the pve emitter (cmode) all read `ir.kind`.
    let kind = container_kind(&root);
    let mut ir = Container { oci_version: spec.version, kind, arch: target.arch.clone(), ostype: target.ostype.clone(), ..Container::default() };
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
    let first = root.path(&["process", "args"]).and_then(|a| a.items().find_map(|c| c.str()));
    match first {
        Some(a) if a != crate::ir::process::SYSTEM_INIT => ContainerKind::Application,
        _ => ContainerKind::System,
    }
}

/// Areas whose Proxmox form is not the OCI one: limits in MiB and CPU
/// fractions, LXC's seccomp text, device paths without their numbers, mount
/// points without their options. OCI back ends apply these exactly as given.
const KEPT_FOR_OCI: &[&[&str]] = &[&["mounts"], &["linux", "resources"], &["linux", "devices"], &["linux", "seccomp"], &["linux", "netDevices"]];

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
    let codes = t.diagnostics.iter().filter(|d| d.severity != Severity::Info).map(|d| format!("{} {}", d.code(), d.pointer.as_ref().map(|p| p.as_str()).unwrap_or(""))).collect();
    (t.ir.unwrap_or_default(), codes)
}

#[cfg(test)]
pub(crate) fn pve_conf(json: &str, target: &Target) -> String {
    let (ir, _) = check(json, target);
    crate::emit::pct_conf::write(&crate::emit::pve::ir_to_pve(&ir)).unwrap_or_else(|e| e.to_string())
}
