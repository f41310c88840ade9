//! The proxmox-lxcri translator: OCI runtime-spec → Proxmox VE LXC.
//!
//! The crate is a pipeline of pure stages. Callers run them through the
//! stage functions below and never assemble a back end themselves:
//!
//! ```text
//! config.json bytes
//!    │ oci_to_ir       spec::parse → lower (+ parse/…, spec/…, pve/… diagnostics)
//!    ▼
//! ir::Container ──┬── ir_to_pct_conf ──▶ /etc/pve/lxc/<vmid>.conf text
//!    (Translation)├── ir_to_plan ──────▶ emit::plan::Plan (shell::write: plan.sh for review)
//!                 └── ir_to_crun ──────▶ crun config.json (+ crun/… diagnostics)
//!
//! config.json bytes ── lint ──▶ LintReport: oci_to_ir, then the checks over the
//!                               spec as written, de-duplicated, suppressed
//! ```
//!
//! The stages: [`oci_to_ir`], [`ir_to_pct_conf`], [`ir_to_plan`],
//! [`ir_to_crun`], [`lint()`].
//!
//! Inside, `spec::parse` validates the JSON tree (every node keeps its
//! pointer and span), `lower` decides everything Proxmox-version-dependent
//! and records it in the IR, `emit::pve` puts the IR in Proxmox's key/value
//! form once, and the pct.conf writer and the plan both read that form, so
//! they cannot disagree. The codes every stage reports live in [`rules`].
//!
//! Invariant: this crate does no I/O. It reads the bytes it is handed and the
//! [`Target`] it is given; the same input gives the same bytes out.

#![warn(missing_docs)]

pub mod diag;
pub mod emit;
pub mod host;
pub mod ir;
pub mod json;
pub(crate) mod json_instance;
pub mod lint;
pub(crate) mod linux;
pub mod lower;
pub mod path;
pub mod policy;
pub mod rules;
pub mod source;
pub mod spec;
pub mod target;

pub use diag::{Diagnostic, Severity};
pub use lower::process::STOP_SIGNAL_ANNOTATIONS;
pub use source::{JsonPointer, Source, Span, Traced};
pub use target::Target;

/// The result of reading and lowering one config: the [`oci_to_ir`] stage.
pub struct Translation {
    /// The input text, for spans in diagnostics.
    pub source: Source,
    /// The validated tree, when the input parsed.
    pub spec: Option<spec::Spec>,
    /// The lowered container, when the input parsed; check
    /// [`Translation::has_errors`] before emitting it.
    pub ir: Option<ir::Container>,
    /// Every finding of parsing, validation and lowering, sorted.
    pub diagnostics: Vec<Diagnostic>,
}

impl Translation {
    /// Whether a finding is an error, which refuses the config.
    pub fn has_errors(&self) -> bool {
        diag::has_errors(&self.diagnostics)
    }
}

/// The first stage: parses, validates and lowers a config for a target.
pub fn oci_to_ir(name: &str, bytes: &[u8], target: &Target) -> Translation {
    oci_to_ir_owned(name, bytes.to_vec(), target)
}

/// [`oci_to_ir`] of bytes the caller gives up, so that the input is held
/// once: the bytes become the text the source and the tree share.
pub fn oci_to_ir_owned(name: &str, bytes: Vec<u8>, target: &Target) -> Translation {
    let mut diagnostics = Vec::new();
    let (source, spec) = spec::parse_owned(name, bytes, &mut diagnostics);
    let ir = spec.as_ref().map(|spec| {
        let (ir, mut lowered) = lower::lower(spec, target);
        // Lowering reports per item (mount, variable, rule): capped like validation's.
        diag::cap(&mut lowered);
        diagnostics.append(&mut lowered);
        ir
    });
    diag::sort(&mut diagnostics);
    Translation {
        source,
        spec,
        ir,
        diagnostics,
    }
}

/// The pct.conf stage: the container config Proxmox keeps in
/// `/etc/pve/lxc/<vmid>.conf`, written as Proxmox's `write_pct_config` would.
///
/// Fails only on what Proxmox could not store (a config larger than pmxcfs
/// keeps) or on a translator bug the writer guards against.
pub fn ir_to_pct_conf(ir: &ir::Container) -> Result<String, emit::pct_conf::WriteError> {
    emit::pct_conf::write(&emit::pve::ir_to_pve(ir))
}

/// The plan stage: the ordered, typed host steps that create the container
/// on a node; `source` names the input in the plan's header.
/// [`emit::plan::shell::write`] renders the result for review.
pub fn ir_to_plan(
    ir: &ir::Container,
    target: &Target,
    source: &str,
) -> Result<emit::plan::Plan, emit::plan::PlanError> {
    emit::plan::ir_to_plan(ir, target, source)
}

/// The crun stage: the OCI config crun (or runc, youki) runs, borrowing the
/// IR, and what this back end reports about it.
///
/// With the parsed input (`spec`), the back end's diagnostics get the spans
/// of the input they point at; without it their spans stay undefined.
pub fn ir_to_crun<'a>(
    ir: &'a ir::Container,
    spec: Option<&spec::Spec>,
    target: &Target,
) -> emit::crun::Crun<'a> {
    let mut out = emit::crun::ir_to_crun(ir, target);
    if let Some(spec) = spec {
        emit::crun::locate(&mut out.diagnostics, spec);
    }
    out
}

/// The lint stage: every finding for one config, from the lowering for
/// `config.target` and the checks over the spec as written, de-duplicated,
/// with the allowed ones set aside.
pub fn lint(
    name: &str,
    bytes: &[u8],
    config: &lint::engine::LintConfig,
) -> lint::engine::LintReport {
    lint::engine::lint(name, bytes, config)
}
