//! `lint/…` and suppression: which findings a bundle chose to allow.
//!
//! A bundle allows codes with the annotation `org.proxmox-lxcri.lint.allow`:
//! entries separated by `;` or line breaks, each `CODE: reason` or
//! `CODE, CODE: reason` (`"security/privileged: a build container; pve/lossy:
//! the rounding is fine"`). A code is a rule code or a whole family (`pve/*`).
//! The reason is required: an entry without one allows nothing and is itself
//! a finding (`lint/allow-without-reason`), and an unknown code is one too
//! (`lint/unknown-code`). A run allows codes with its configuration instead
//! (`lint::select`).

use crate::diag::Diagnostic;
use crate::rules::lint::{ALLOW_WITHOUT_REASON, UNKNOWN_CODE};
use crate::rules::Allow;
use crate::spec::Spec;

/// The annotation a bundle uses to allow findings.
pub const ALLOW_ANNOTATION: &str = "org.proxmox-lxcri.lint.allow";

/// One code or family the bundle allows, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InlineAllow {
    /// What it allows.
    pub allow: Allow,
    /// The reason the bundle gives.
    pub reason: String,
}

/// The entries of a bundle's allow annotation, and a finding per unknown
/// code and per entry without a reason.
pub(crate) fn from_annotation(spec: &Spec) -> (Vec<InlineAllow>, Vec<Diagnostic>) {
    let mut allows = Vec::new();
    let mut diags = Vec::new();
    let Some(at) = spec.cursor().path(&["annotations", ALLOW_ANNOTATION]) else {
        return (allows, diags);
    };
    let Some(text) = at.str() else {
        return (allows, diags);
    };
    for entry in text.split([';', '\n']).filter(|e| !e.trim().is_empty()) {
        let (codes, reason) = match entry.split_once(':') {
            Some((codes, reason)) => (codes, reason.trim()),
            None => (entry, ""),
        };
        let mut known = Vec::new();
        for code in codes
            .split([',', ' ', '\t', '\r'])
            .filter(|e| !e.trim().is_empty())
        {
            match Allow::parse(code) {
                Ok(allow) => known.push(allow),
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
        if known.is_empty() {
            continue;
        }
        if reason.is_empty() {
            let names: Vec<String> = known.iter().map(super::select::entry_text).collect();
            diags.push(
                Diagnostic::new(
                    &ALLOW_WITHOUT_REASON,
                    format!(
                        "the allow annotation's entry `{}` gives no reason, so it allows nothing",
                        names.join(", ")
                    ),
                )
                .at(at.ptr(), at.span())
                .with_label("no reason")
                .with_help(format!(
                    "write it as `{}: why this is acceptable here`",
                    names.join(", ")
                )),
            );
            continue;
        }
        allows.extend(known.into_iter().map(|allow| InlineAllow {
            allow,
            reason: reason.to_string(),
        }));
    }
    (allows, diags)
}
