//! `lint/…`: findings about the lint configuration itself (the allow
//! annotation). The lint stage (`lint::suppress`) reports them.

use super::Rule;
use crate::diag::Severity::Warning;

pub(crate) static RULES: &[&Rule] = &[&UNKNOWN_CODE, &ALLOW_WITHOUT_REASON];

pub(crate) static UNKNOWN_CODE: Rule = Rule {
    code: "lint/unknown-code",
    severity: Warning,
    summary: "The lint allow annotation names a code no rule has",
    explanation: include_str!("lint/unknown-code.md"),
};

pub(crate) static ALLOW_WITHOUT_REASON: Rule = Rule {
    code: "lint/allow-without-reason",
    severity: Warning,
    summary: "An entry of the lint allow annotation gives no reason, so it allows nothing",
    explanation: include_str!("lint/allow-without-reason.md"),
};
