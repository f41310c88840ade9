//! `lint/…`: findings about the lint configuration itself (the allow
//! annotation). The lint stage (`lint::suppress`) reports them.

use super::Rule;
use crate::diag::Severity::Warning;

pub static RULES: &[&Rule] = &[&UNKNOWN_CODE];

pub static UNKNOWN_CODE: Rule = Rule {
    code: "lint/unknown-code",
    severity: Warning,
    summary: "The lint allow annotation names a code no rule has",
    explanation: "## What it does\nReports entries of the `org.proxmox-lxcri.lint.allow` annotation that are neither a rule code (`proxmox-lxcri rules` lists them) nor a family written as `family/*`.\n\n## Why is this bad?\nA misspelt entry suppresses nothing, so the finding it was meant for keeps failing the build, or a stale entry hides the fact that a rule was renamed.\n\n## Example\n```json\n{\"annotations\": {\"org.proxmox-lxcri.lint.allow\": \"security/privilged\"}}\n```\nUse instead:\n```json\n{\"annotations\": {\"org.proxmox-lxcri.lint.allow\": \"security/privileged\"}}\n```",
};
