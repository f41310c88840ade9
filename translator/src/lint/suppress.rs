//! `lint/…` and suppression: which findings a bundle or a run chose to allow.
//!
//! A bundle allows codes with the annotation `org.proxmox-lxcri.lint.allow`
//! (`"security/privileged, pve/lossy"`); a run allows them with `--allow`.
//! An entry is a rule code or a whole family (`pve/*`).

use crate::diag::Diagnostic;
use crate::rules::lint::UNKNOWN_CODE;
use crate::rules::Allow;
use crate::spec::Spec;

/// The annotation a bundle uses to allow findings.
pub const ALLOW_ANNOTATION: &str = "org.proxmox-lxcri.lint.allow";

/// The entries of a bundle's allow annotation, and a finding per unknown entry.
pub(crate) fn from_annotation(spec: &Spec) -> (Vec<Allow>, Vec<Diagnostic>) {
    let mut allows = Vec::new();
    let mut diags = Vec::new();
    let Some(at) = spec.cursor().path(&["annotations", ALLOW_ANNOTATION]) else {
        return (allows, diags);
    };
    let Some(text) = at.str() else {
        return (allows, diags);
    };
    for entry in text
        .split([',', ' ', '\t', '\n'])
        .filter(|e| !e.trim().is_empty())
    {
        match Allow::parse(entry) {
            Ok(allow) => allows.push(allow),
            Err(e) => {
                let mut d = Diagnostic::new(
                    &UNKNOWN_CODE,
                    format!(
                        "the allow annotation names `{}`, which is not a rule code or family",
                        e.code.escape_debug()
                    ),
                )
                .at(at.ptr(), at.span())
                .with_label("unknown code");
                if let Some(s) = e.suggestion {
                    d = d.with_help(format!("did you mean `{s}`?"));
                } else {
                    d = d.with_help("`proxmox-lxcri rules` lists every code");
                }
                diags.push(d);
            }
        }
    }
    (allows, diags)
}
