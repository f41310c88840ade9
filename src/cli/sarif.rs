//! `lint --format sarif`: a SARIF 2.1.0 log, the format GitHub code scanning
//! and other review tools import.
//!
//! Every rule a result refers to is in `tool.driver.rules` with its summary
//! and explanation, so a reviewer sees the help next to the alert (the whole
//! registry would add some 100 KB of help text to every log). Suppressed
//! findings are results with a `suppressions` entry (SARIF §3.35), and files
//! that could not be read are tool execution notifications, so the log says
//! the run was incomplete.

use serde_json::{json, Map, Value};
use translator::lint::engine::SuppressedBy;
use translator::rules::{all_rules, Rule};
use translator::{Diagnostic, Severity, Source};

use super::lint::{plural, Context};

pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

pub fn log(cx: &Context<'_>) -> String {
    let results = cx.results;
    let referenced = |code: &str| {
        results
            .iter()
            .filter_map(|l| l.outcome.as_ref().ok())
            .any(|r| {
                r.findings.iter().any(|d| d.code() == code)
                    || r.suppressed.iter().any(|s| s.diagnostic.code() == code)
            })
    };
    let rules: Vec<&'static Rule> = all_rules().filter(|r| referenced(r.code)).collect();
    let mut sarif_results = Vec::new();
    let mut notifications = Vec::new();
    for linted in results {
        let uri = artifact_uri(&linted.name());
        match &linted.outcome {
            Ok(report) => {
                for d in &report.findings {
                    sarif_results.push(result(d, &report.source, &uri, &rules, None));
                }
                for s in &report.suppressed {
                    sarif_results.push(result(
                        &s.diagnostic,
                        &report.source,
                        &uri,
                        &rules,
                        Some((s.by, &s.reason)),
                    ));
                }
                // The per-code cap summarised some findings in one result: say so where a
                // reviewer sees the run was not reported in full.
                for d in report
                    .findings
                    .iter()
                    .chain(report.suppressed.iter().map(|s| &s.diagnostic))
                    .filter(|d| d.omitted > 0)
                {
                    notifications.push(json!({
                        "level": "note",
                        "message": {"text": format!(
                            "{}: {} more `{}` findings over the per-code cap of {} are summarised in one result",
                            linted.name(), d.omitted, d.code(), translator::diag::MAX_PER_CODE
                        )},
                        "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri}}}],
                    }));
                }
            }
            Err(reason) => notifications.push(json!({
                "level": "error",
                "message": {"text": format!("{}: {reason}", linted.name())},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri}}}],
            })),
        }
    }
    if cx.summary.excluded > 0 {
        notifications.push(json!({
            "level": "note",
            "message": {"text": format!("{} not linted: an exclude glob matched", plural(cx.summary.excluded, "path was", "paths were"))},
        }));
    }
    let successful = !notifications.iter().any(|n| n["level"] == "error");
    let log = json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "proxmox-lxcri",
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": rules.iter().map(|r| descriptor(r, cx.help_uri_base)).collect::<Vec<_>>(),
            }},
            "invocations": [{
                "executionSuccessful": successful,
                "toolExecutionNotifications": notifications,
            }],
            "columnKind": "unicodeCodePoints",
            "results": sarif_results,
        }],
    });
    let mut text = serde_json::to_string_pretty(&log).unwrap_or_default();
    text.push('\n');
    text
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// A rule's reportingDescriptor: its summary and explanation, and the properties GitHub code
/// scanning reads (`tags`, `precision`, and `security-severity` for the security rules, which
/// GitHub turns into critical/high/medium/low alerts).
fn descriptor(rule: &Rule, help_uri_base: Option<&str>) -> Value {
    let family = rule.family();
    let mut tags = vec![family.to_string()];
    if family == "security" {
        tags.push("security".into());
    }
    tags.dedup();
    let mut properties = Map::new();
    properties.insert("tags".into(), json!(tags));
    properties.insert("precision".into(), rule.precision().into());
    if let Some(score) = rule.security_severity() {
        properties.insert("security-severity".into(), score.into());
    }
    let mut d = json!({
        "id": rule.code,
        "name": rule.code,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": what_it_does(rule)},
        "help": {"text": rule.explanation, "markdown": rule.explanation},
        "defaultConfiguration": {"level": level(rule.severity)},
        "properties": Value::Object(properties),
    });
    if let (Some(base), Some(obj)) = (help_uri_base, d.as_object_mut()) {
        obj.insert("helpUri".into(), help_uri(base, rule.code).into());
    }
    d
}

/// The published explanation of a rule: the base and `<family>/<name>.md`, the path of the
/// rule's explanation under translator/src/rules/ (what `explain` prints).
pub fn help_uri(base: &str, code: &str) -> String {
    let sep = if base.ends_with('/') { "" } else { "/" };
    format!("{base}{sep}{code}.md")
}

/// The "What it does" paragraph of an explanation, or the summary.
fn what_it_does(rule: &Rule) -> &'static str {
    rule.explanation
        .split_once("## What it does\n")
        .map(|(_, rest)| rest.split("\n\n").next().unwrap_or(rest).trim())
        .filter(|p| !p.is_empty())
        .unwrap_or(rule.summary)
}

fn result(
    d: &Diagnostic,
    source: &Source,
    uri: &str,
    rules: &[&'static Rule],
    suppressed: Option<(SuppressedBy, &str)>,
) -> Value {
    let mut message = d.message.clone();
    if let Some(help) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    let mut physical = Map::new();
    physical.insert("artifactLocation".into(), json!({"uri": uri}));
    physical.insert("region".into(), region(d.span, source));
    let mut location = Map::new();
    location.insert("physicalLocation".into(), Value::Object(physical));
    if let Some(p) = d.pointer.as_ref().filter(|p| !p.as_str().is_empty()) {
        location.insert(
            "logicalLocations".into(),
            json!([{"fullyQualifiedName": p.as_str(), "kind": "member"}]),
        );
    }
    let mut obj = Map::new();
    obj.insert("ruleId".into(), d.code().into());
    if let Some(i) = rules.iter().position(|r| r.code == d.code()) {
        obj.insert("ruleIndex".into(), i.into());
    }
    obj.insert("level".into(), level(d.severity).into());
    obj.insert("message".into(), json!({"text": message}));
    obj.insert("locations".into(), json!([Value::Object(location)]));
    let related: Vec<Value> = d
        .related
        .iter()
        .filter(|r| r.span.is_defined())
        .enumerate()
        .map(|(i, r)| {
            json!({
                "id": i + 1,
                "message": {"text": r.label},
                "physicalLocation": {"artifactLocation": {"uri": uri}, "region": region(r.span, source)},
            })
        })
        .collect();
    if !related.is_empty() {
        obj.insert("relatedLocations".into(), related.into());
    }
    // The pointer identifies a finding better than a line, which moves when
    // the file is edited; GitHub uses this to track an alert across commits.
    let pointer = d.pointer.as_ref().map(|p| p.as_str()).unwrap_or("");
    obj.insert(
        "partialFingerprints".into(),
        json!({"proxmoxLxcriFinding/v1": format!("{}|{pointer}", d.code())}),
    );
    if let Some((by, reason)) = suppressed {
        let (kind, why) = match by {
            SuppressedBy::Annotation => (
                "inSource",
                format!(
                    "allowed by the bundle's org.proxmox-lxcri.lint.allow annotation: {reason}"
                ),
            ),
            SuppressedBy::Config => ("external", reason.to_string()),
        };
        obj.insert(
            "suppressions".into(),
            json!([{"kind": kind, "justification": why}]),
        );
    }
    Value::Object(obj)
}

/// Line and column region of a span; a finding about the whole file (no
/// span) is placed on its first line, since viewers need a line to show it.
fn region(span: translator::Span, source: &Source) -> Value {
    if !span.is_defined() {
        return json!({"startLine": 1});
    }
    let (start_line, start_column) = source.line_col(span.start);
    let (end_line, end_column) = source.line_col(span.end.max(span.start));
    json!({
        "startLine": start_line,
        "startColumn": start_column,
        "endLine": end_line,
        "endColumn": end_column.max(if end_line == start_line { start_column + 1 } else { 1 }),
    })
}

/// A relative URI reference for a relative path (with `/` separators, each
/// byte outside RFC 3986's unreserved set and `/` percent-encoded), or a
/// `file://` URI for an absolute one.
pub fn artifact_uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len() + 8);
    if path.starts_with('/') {
        out.push_str("file://");
    }
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_encoded() {
        assert_eq!(
            artifact_uri("bundles/web app/config.json"),
            "bundles/web%20app/config.json"
        );
        assert_eq!(
            artifact_uri("/srv/b/config.json"),
            "file:///srv/b/config.json"
        );
        assert_eq!(artifact_uri("a/é.json"), "a/%C3%A9.json");
    }

    #[test]
    fn spanless_findings_sit_on_line_one() {
        let source = Source::new("c.json", "{\n  \"a\": 1\n}");
        assert_eq!(
            region(translator::Span::UNDEFINED, &source),
            json!({"startLine": 1})
        );
        assert_eq!(
            region(translator::Span::new(4, 7), &source),
            json!({"startLine": 2, "startColumn": 3, "endLine": 2, "endColumn": 6})
        );
    }
}
