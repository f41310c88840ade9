//! `lint/…`: findings about the lint configuration itself (the allow
//! annotation). The lint stage (`lint::suppress`) reports them.

use super::Rule;
use crate::diag::Severity::Warning;

pub(crate) static RULES: &[&Rule] = &[&UNKNOWN_CODE];

pub(crate) static UNKNOWN_CODE: Rule = Rule {
    code: "lint/unknown-code",
    severity: Warning,
    summary: "The lint allow annotation names a code no rule has",
    explanation: include_str!("lint/unknown-code.md"),
};
