//! `lint/…` and suppression: which findings a bundle or a run chose to allow.
//!
//! A bundle allows codes with the annotation `org.proxmox-lxcri.lint.allow`
//! (`"security/privileged, pve/lossy"`); a run allows them with `--allow`.
//! An entry is a rule code or a whole family (`pve/*`).

use super::Rule;
use crate::diag::Diagnostic;
use crate::diag::Severity::Warning;
use crate::spec::Spec;

pub static RULES: &[&Rule] = &[&UNKNOWN_CODE];

pub static UNKNOWN_CODE: Rule = Rule {
    code: "lint/unknown-code",
    severity: Warning,
    summary: "The lint allow annotation names a code no rule has",
    explanation: "## What it does\nReports entries of the `org.proxmox-lxcri.lint.allow` annotation that are neither a rule code (`proxmox-lxcri rules` lists them) nor a family written as `family/*`.\n\n## Why is this bad?\nA misspelt entry suppresses nothing, so the finding it was meant for keeps failing the build, or a stale entry hides the fact that a rule was renamed.\n\n## Example\n```json\n{\"annotations\": {\"org.proxmox-lxcri.lint.allow\": \"security/privilged\"}}\n```\nUse instead:\n```json\n{\"annotations\": {\"org.proxmox-lxcri.lint.allow\": \"security/privileged\"}}\n```",
};

/// The annotation a bundle uses to allow findings.
pub const ALLOW_ANNOTATION: &str = "org.proxmox-lxcri.lint.allow";

/// One allowed code or family.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Allow {
    Rule(&'static Rule),
    /// Every rule whose code starts with `family/`.
    Family(String),
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{code}` is not a rule code or a family (`family/*`){}", suggestion.map(|s| format!("; did you mean `{s}`?")).unwrap_or_default())]
pub struct UnknownCode {
    pub code: String,
    pub suggestion: Option<&'static str>,
}

impl Allow {
    pub fn parse(entry: &str) -> Result<Allow, UnknownCode> {
        let entry = entry.trim();
        if let Some(rule) = super::find(entry) {
            return Ok(Allow::Rule(rule));
        }
        let family = entry.strip_suffix("/*").unwrap_or(entry);
        if !family.is_empty() && super::all_rules().any(|r| r.code.split('/').next() == Some(family)) {
            return Ok(Allow::Family(family.to_string()));
        }
        let suggestion = crate::spec::validate::suggest(entry, super::all_rules().map(|r| r.code));
        Err(UnknownCode { code: entry.to_string(), suggestion })
    }

    pub fn matches(&self, code: &str) -> bool {
        match self {
            Allow::Rule(rule) => rule.code == code,
            Allow::Family(family) => code.strip_prefix(family.as_str()).is_some_and(|rest| rest.starts_with('/')),
        }
    }
}

/// The entries of a bundle's allow annotation, and a finding per unknown entry.
pub fn from_annotation(spec: &Spec) -> (Vec<Allow>, Vec<Diagnostic>) {
    let mut allows = Vec::new();
    let mut diags = Vec::new();
    let Some(at) = spec.cursor().path(&["annotations", ALLOW_ANNOTATION]) else { return (allows, diags) };
    let Some(text) = at.str() else { return (allows, diags) };
    for entry in text.split([',', ' ', '\t', '\n']).filter(|e| !e.trim().is_empty()) {
        match Allow::parse(entry) {
            Ok(allow) => allows.push(allow),
            Err(e) => {
                let mut d = Diagnostic::new(&UNKNOWN_CODE, format!("the allow annotation names `{}`, which is not a rule code or family", e.code.escape_debug()))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_families() {
        assert_eq!(Allow::parse("security/privileged").map(|a| a.matches("security/privileged")), Ok(true));
        let family = Allow::parse("pve/*");
        assert_eq!(family.as_ref().map(|a| a.matches("pve/lossy")), Ok(true));
        assert_eq!(family.as_ref().map(|a| a.matches("pvex/lossy")), Ok(false));
        assert!(Allow::parse("security/privilged").is_err_and(|e| e.suggestion == Some("security/privileged")));
        assert!(Allow::parse("nope/*").is_err());
        assert!(Allow::parse("").is_err());
    }
}
