//! The proxmox-lxcri translator: OCI runtime-spec → Proxmox VE LXC.
//!
//! ```text
//! config.json bytes ──spec::parse──▶ Spec (validated JSON tree; pointer → span)
//!                   ──lower────────▶ ir::Container + diagnostics
//! ir::Container     ──emit::pct_conf──▶ /etc/pve/lxc/<vmid>.conf text
//! ```
//!
//! Invariant: this crate does no I/O. It reads the bytes it is handed and the
//! [`Target`] it is given; the same input gives the same bytes out.

pub mod diag;
pub mod emit;
pub mod host;
pub mod ir;
pub mod json;
pub mod json_instance;
pub mod linux;
pub mod lint;
pub mod lower;
pub mod policy;
pub mod rules;
pub mod source;
pub mod spec;
pub mod target;

pub use diag::{Diagnostic, Severity};
pub use source::{JsonPointer, Source, Span, Traced};
pub use target::Target;

/// The result of reading and lowering one config.
pub struct Translation {
    pub source: Source,
    pub spec: Option<spec::Spec>,
    pub ir: Option<ir::Container>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Translation {
    pub fn has_errors(&self) -> bool {
        diag::has_errors(&self.diagnostics)
    }
}

/// Parses, validates and lowers a config for a target.
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
    Translation { source, spec, ir, diagnostics }
}
