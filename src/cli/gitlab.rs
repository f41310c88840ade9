//! `lint --format gitlab`: a GitLab Code Quality report, the JSON array a job
//! names in `artifacts:reports:codequality`; GitLab shows its issues in the
//! merge request and the pipeline. The format is the subset of the Code
//! Climate issue spec GitLab's documentation (ci/testing/code_quality)
//! lists: `description`, `check_name`, `fingerprint`, `severity` (`info`,
//! `minor`, `major`, `critical`, `blocker`) and `location.path` with
//! `location.lines.begin`; schemas/gitlab/codequality.schema.json says it as a
//! schema, and the tests validate every report against it.
//!
//! The fingerprint leaves the line out (code, file, JSON pointer, message, and
//! which of equal findings it is), so a finding keeps its identity when lines
//! above it move. Suppressed findings are not issues; one `info` issue per
//! file with suppressions says how many, so the merge request shows that
//! they were accepted. A capped code is one issue that says how many it stands for.

use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use translator::{Diagnostic, Severity};

use super::lint::{plural, Context};

/// GitLab's severity: errors `major`, warnings `minor`, notes `info`; security findings one
/// step up (an error `critical`, a warning `major`).
fn severity(d: &Diagnostic) -> &'static str {
    let security = d.rule.family() == "security";
    match (d.severity, security) {
        (Severity::Error, true) => "critical",
        (Severity::Error, false) | (Severity::Warning, true) => "major",
        (Severity::Warning, false) => "minor",
        (Severity::Info, _) => "info",
    }
}

/// Code Climate's categories, by family.
fn category(family: &str) -> &'static str {
    match family {
        "security" => "Security",
        "pve" | "crun" => "Compatibility",
        "lint" => "Style",
        _ => "Bug Risk",
    }
}

fn fingerprint(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    h.finalize()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub fn report(cx: &Context<'_>) -> String {
    let mut issues: Vec<Value> = Vec::new();
    for linted in cx.results {
        let file = linted.name();
        let report = match &linted.outcome {
            Ok(report) => report,
            Err(reason) => {
                issues.push(json!({
                    "type": "issue",
                    "description": format!("{file} could not be read: {reason}"),
                    "check_name": "proxmox-lxcri/unreadable",
                    "fingerprint": fingerprint(&["unreadable", &file]),
                    "severity": "blocker",
                    "categories": ["Bug Risk"],
                    "location": {"path": file, "lines": {"begin": 1}},
                }));
                continue;
            }
        };
        let mut seen: Vec<(String, usize)> = Vec::new();
        for d in &report.findings {
            let pointer = d.pointer.as_ref().map(|p| p.as_str()).unwrap_or("");
            let key = format!("{}\0{pointer}\0{}", d.code(), d.message);
            let nth = match seen.iter_mut().find(|(k, _)| *k == key) {
                Some((_, n)) => {
                    *n += 1;
                    *n
                }
                None => {
                    seen.push((key, 0));
                    0
                }
            };
            let line = if d.span.is_defined() {
                report.source.line_col(d.span.start).0
            } else {
                1
            };
            let mut description = format!("{}: {}", d.code(), d.message);
            if !pointer.is_empty() {
                description.push_str(&format!(" (at {pointer})"));
            }
            let mut issue = json!({
                "type": "issue",
                "description": description,
                "check_name": d.code(),
                "fingerprint": fingerprint(&[d.code(), &file, pointer, &d.message, &nth.to_string()]),
                "severity": severity(d),
                "categories": [category(d.rule.family())],
                "location": {"path": file, "lines": {"begin": line}},
            });
            if let (Some(help), Some(obj)) = (&d.help, issue.as_object_mut()) {
                obj.insert("content".into(), json!({"body": help}));
            }
            issues.push(issue);
        }
        if !report.suppressed.is_empty() {
            let codes: Vec<&str> = {
                let mut c: Vec<&str> = report
                    .suppressed
                    .iter()
                    .map(|s| s.diagnostic.code())
                    .collect();
                c.sort_unstable();
                c.dedup();
                c
            };
            issues.push(json!({
                "type": "issue",
                "description": format!(
                    "{} suppressed here ({}); see the lint job's log or SARIF report for each and why",
                    plural(report.suppressed.len(), "finding is", "findings are"),
                    codes.join(", ")
                ),
                "check_name": "proxmox-lxcri/suppressed",
                "fingerprint": fingerprint(&["suppressed", &file, &codes.join(",")]),
                "severity": "info",
                "categories": ["Style"],
                "location": {"path": file, "lines": {"begin": 1}},
            }));
        }
    }
    let mut text = serde_json::to_string_pretty(&Value::Array(issues)).unwrap_or_default();
    text.push('\n');
    text
}
