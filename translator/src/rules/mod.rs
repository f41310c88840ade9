//! The rule registry: every diagnostic code the project can emit, with its
//! default severity, a one-line summary and the long explanation that
//! `proxmox-lxcri explain CODE` prints. One file per rule family; data only,
//! below every stage: the field table (`spec`), the lowering, the back ends,
//! the host classifiers and the lint stage all name their findings from here.

mod allow;
pub(crate) mod crun;
pub(crate) mod lint;
pub(crate) mod parse;
pub(crate) mod pve;
pub(crate) mod schema;
pub mod security;
pub(crate) mod spec;

pub use allow::{Allow, UnknownCode};

use crate::diag::Severity;

/// One rule of the registry: a stable code, its default severity and its explanation.
#[derive(Debug, PartialEq, Eq)]
pub struct Rule {
    /// Stable, never reused: `family/name`.
    pub code: &'static str,
    /// The severity a finding of this rule has unless a stage decides otherwise.
    pub severity: Severity,
    /// One line: what the rule finds.
    pub summary: &'static str,
    /// Markdown with the headings "What it does", "Why is this bad?",
    /// "Example": `rules/<family>/<name>.md`, included at build time. The
    /// examples in it are run by `lint::examples` and tests/lint_rules.rs.
    pub explanation: &'static str,
}

impl Rule {
    /// The family: the part of the code before `/` (`pve`, `security`, …).
    pub fn family(&self) -> &'static str {
        self.code.split('/').next().unwrap_or_default()
    }

    /// How often a finding of this rule is a true problem, in SARIF's words (`very-high`,
    /// `high`, `medium`): the document checks (`parse`, `schema`, `spec`, `lint`) read only the
    /// file and are exact; `pve` and `crun` findings are as right as the target's facts are;
    /// `security` findings judge host paths as written (lint never resolves a host symlink,
    /// `create` does), and the ones about a weaker default rather than a host resource are
    /// judgement calls a team may reasonably make the other way.
    pub fn precision(&self) -> &'static str {
        match self.family() {
            "parse" | "schema" | "spec" | "lint" => "very-high",
            "security" if self.severity == Severity::Info => "medium",
            _ => "high",
        }
    }

    /// GitHub code scanning's `security-severity` (a CVSS-like score, 0.0 to 10.0) for the
    /// security rules; none for the others. The rules the built-in node policy refuses on
    /// every back end (host root, Proxmox's state, runtime sockets, devices, disks) are
    /// critical (9.0 and above in GitHub's bands); the other errors high, warnings medium,
    /// notes low.
    pub fn security_severity(&self) -> Option<&'static str> {
        if self.family() != "security" {
            return None;
        }
        if crate::policy::BUILTIN_REFUSE
            .iter()
            .any(|r| r.code == self.code)
        {
            return Some("9.0");
        }
        Some(match self.severity {
            Severity::Error => "8.0",
            Severity::Warning => "5.0",
            Severity::Info => "2.0",
        })
    }
}

/// Every registered rule, family by family.
pub fn all_rules() -> impl Iterator<Item = &'static Rule> {
    parse::RULES
        .iter()
        .chain(schema::RULES)
        .chain(spec::RULES)
        .chain(pve::RULES)
        .chain(security::RULES)
        .chain(lint::RULES)
        .chain(crun::RULES)
        .copied()
}

/// The rule with this code, if one is registered.
pub fn find(code: &str) -> Option<&'static Rule> {
    all_rules().find(|r| r.code == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_documented() {
        let mut seen = std::collections::HashSet::new();
        for rule in all_rules() {
            assert!(seen.insert(rule.code), "duplicate code {}", rule.code);
            let family = rule.code.split('/').next().unwrap_or_default();
            assert!(
                ["parse", "spec", "pve", "security", "schema", "lint", "crun"].contains(&family),
                "{}",
                rule.code
            );
            assert!(
                !rule.summary.is_empty() && !rule.summary.ends_with('.'),
                "{}",
                rule.code
            );
            for heading in ["## What it does", "## Why is this bad?", "## Example"] {
                assert!(
                    rule.explanation.contains(heading),
                    "{} lacks {heading}",
                    rule.code
                );
            }
        }
    }
}
