//! The lint engine: every finding for one config, de-duplicated, with the
//! allowed ones set aside.
//!
//! ```text
//! bytes ──oci_to_ir(target)──▶ parse/…, spec/… (field table), pve/…, security/… (lowering)
//!       ──schema::check──────▶ schema/…  (the document as written)
//!       ──spec::check────────▶ spec/…    (MUST/SHOULD rules over the validated spec)
//!       ──security::check────▶ security/…
//!       ──▶ de-duplicate ──▶ suppress (--allow, annotation) ──▶ LintReport
//! ```
//!
//! Pure like the rest of the crate: the caller reads the files.

use super::select::{Selection, Verdict};
use super::suppress;
use crate::diag::{self, Diagnostic, Severity};
use crate::json::View;
use crate::rules::{pve, spec as oci, Rule};
use crate::source::{JsonPointer, Source, Span};
use crate::spec::{OciVersion, Spec};
use crate::target::Target;

/// What a lint run checks against.
#[derive(Clone, Debug, Default)]
pub struct LintConfig {
    /// The node the bundles are meant for: decides the `pve/…` findings.
    pub target: Target,
    /// Which rules are reported, at which severity: the project config and the command line
    /// (`--select`, `--ignore`, `--allow`).
    pub selection: Selection,
    /// Report what a bundle's `org.proxmox-lxcri.lint.allow` annotation
    /// allows, as if it had no annotation (`lint --no-inline-allow`,
    /// and every policy check: a bundle never lowers the node's policy).
    pub ignore_annotation_allows: bool,
}

impl LintConfig {
    /// What the node policy judges: every rule at its own severity, and no bundle annotation
    /// (a bundle never lowers the node's policy). A project config or a run's `--select`
    /// never reaches it: they are the team's view of its bundles, not the node's.
    pub fn for_policy(target: Target) -> LintConfig {
        LintConfig {
            target,
            selection: Selection::default(),
            ignore_annotation_allows: true,
        }
    }
}

/// Why a finding was not reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SuppressedBy {
    /// The run's configuration: `--ignore`/`--allow`, `--select`, the project config.
    Config,
    /// The bundle's `org.proxmox-lxcri.lint.allow` annotation.
    Annotation,
}

/// A finding an allow entry set aside.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suppressed {
    /// The finding, as it would have been reported.
    pub diagnostic: Diagnostic,
    /// Which allow entry matched.
    pub by: SuppressedBy,
    /// Why, in words: the entry of the run's configuration, or the bundle's own reason.
    pub reason: String,
}

/// The findings for one config.
#[derive(Clone, Debug)]
pub struct LintReport {
    /// The input, for spans in the report.
    pub source: Source,
    /// Reported findings, in document order.
    pub findings: Vec<Diagnostic>,
    /// Findings an allow entry matched, in document order.
    pub suppressed: Vec<Suppressed>,
}

impl LintReport {
    /// Whether a finding is at or above `deny`, which makes the lint fail.
    pub fn fails(&self, deny: Severity) -> bool {
        self.findings.iter().any(|d| d.severity >= deny)
    }

    /// How many reported findings have this severity.
    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|d| d.severity == severity)
            .count()
    }

    /// How many findings the per-code cap left out (they are summarised in one finding
    /// each, whose `omitted` counts them).
    pub fn capped(&self) -> usize {
        self.findings
            .iter()
            .chain(self.suppressed.iter().map(|s| &s.diagnostic))
            .map(|d| d.omitted)
            .sum()
    }

    /// How many findings the bundle's own annotation set aside.
    pub fn suppressed_by_annotation(&self) -> usize {
        self.suppressed
            .iter()
            .filter(|s| s.by == SuppressedBy::Annotation)
            .count()
    }
}

/// Pairs of rules that describe the same problem at the same pointer: the
/// runtime-spec rule, and the Proxmox consequence the lowering reports.
/// Typed, so a renamed or removed rule breaks the build here.
static SAME_PROBLEM: &[(&Rule, &Rule)] = &[
    (&oci::RELATIVE_CWD, &pve::INVALID_PATH),
    (&oci::RELATIVE_MOUNT_DESTINATION, &pve::INVALID_PATH),
    (&oci::EMPTY_ARGS, &pve::INVALID_VALUE),
    (&oci::DUPLICATE_NAMESPACE, &pve::INVALID_VALUE),
    (&oci::IDMAP_WITHOUT_USERNS, &pve::INVALID_VALUE),
    (&oci::INVALID_RLIMIT, &pve::INVALID_VALUE),
    (&oci::DUPLICATE_RLIMIT, &pve::INVALID_VALUE),
    (&oci::INVALID_CAPABILITY, &pve::UNKNOWN_CAPABILITY),
];

/// Lints one config for a target.
pub fn lint(name: &str, bytes: &[u8], config: &LintConfig) -> LintReport {
    lint_owned(name, bytes.to_vec(), config)
}

/// [`lint`] of bytes the caller gives up: they become the report's source text without a
/// copy (`lint` reads each file into a buffer it no longer needs).
pub fn lint_owned(name: &str, bytes: Vec<u8>, config: &LintConfig) -> LintReport {
    let t = crate::oci_to_ir_owned(name, bytes, &config.target);
    let mut all = t.diagnostics;
    let mut annotation_allows = Vec::new();
    // Only a config the translation accepts is written; pmxcfs's limit is about what it writes.
    if let Some(ir) = t.ir.as_ref().filter(|_| !diag::has_errors(&all)) {
        if crate::emit::pct_conf::is_too_large(ir) {
            all.push(crate::emit::pct_conf::too_large_diagnostic(t.spec.as_ref()));
        }
    }
    if let Some(spec) = &t.spec {
        all.extend(schema_findings(spec));
        all.extend(super::spec::check(spec));
        all.extend(super::security::check(spec, &config.target));
        let (allows, invalid) = suppress::from_annotation(spec);
        if !config.ignore_annotation_allows {
            annotation_allows = allows;
        }
        all.extend(invalid);
    }
    let mut findings = resolve_overlaps(dedupe(all));
    diag::sort(&mut findings);
    let mut reported = Vec::new();
    let mut suppressed = Vec::new();
    for mut d in findings {
        d.severity = config.selection.severity(d.code(), d.severity);
        if let Verdict::Ignored(reason) = config.selection.decide(d.code()) {
            suppressed.push(Suppressed {
                diagnostic: d,
                by: SuppressedBy::Config,
                reason,
            });
        } else if let Some(a) = annotation_allows.iter().find(|a| a.allow.matches(d.code())) {
            suppressed.push(Suppressed {
                diagnostic: d,
                by: SuppressedBy::Annotation,
                reason: a.reason.clone(),
            });
        } else {
            reported.push(d);
        }
    }
    LintReport {
        source: t.source,
        findings: reported,
        suppressed,
    }
}

/// Schema findings for the document as written (the validated spec's tree
/// keeps it: validation only marks what it removes). A config whose
/// `ociVersion` is present but unsupported is not validated: no schema
/// describes it.
fn schema_findings(spec: &Spec) -> Vec<Diagnostic> {
    let tree = &spec.tree;
    let written = tree.get(tree.root(), "ociVersion", View::Written);
    let declared = match written.and_then(|m| tree.str(m.value)) {
        None => None,
        Some(text) => match OciVersion::parse(text).filter(|v| v.is_supported()) {
            Some(v) => Some(v),
            None => return Vec::new(),
        },
    };
    super::schema::check(tree, declared)
}

/// The place a finding is about, for de-duplication.
fn place(d: &Diagnostic) -> (Option<&JsonPointer>, Span) {
    match &d.pointer {
        Some(p) => (Some(p), Span::UNDEFINED),
        None => (None, d.span),
    }
}

/// One finding per (code, place); the most severe wins.
fn dedupe(all: Vec<Diagnostic>) -> Vec<Diagnostic> {
    let mut out: Vec<Diagnostic> = Vec::with_capacity(all.len());
    for d in all {
        match out
            .iter_mut()
            .find(|o| o.code() == d.code() && place(o) == place(&d))
        {
            Some(existing) if d.severity > existing.severity => *existing = d,
            Some(_) => {}
            None => out.push(d),
        }
    }
    out
}

fn family(d: &Diagnostic) -> &str {
    d.code().split('/').next().unwrap_or_default()
}

/// Drops findings another finding already tells: schema findings inside a
/// value the field table reported (it removed the value, and its message is
/// more precise), and the Proxmox side of a [`SAME_PROBLEM`] pair unless it
/// is the more severe one.
fn resolve_overlaps(all: Vec<Diagnostic>) -> Vec<Diagnostic> {
    let spec_places: Vec<&JsonPointer> = all
        .iter()
        .filter(|d| matches!(family(d), "spec" | "parse"))
        .filter_map(|d| d.pointer.as_ref())
        .collect();
    let covered_schema = |d: &Diagnostic| {
        let Some(p) = &d.pointer else { return false };
        let combining = d.code() == crate::rules::schema::NO_MATCH.code;
        spec_places
            .iter()
            .any(|s| p.starts_with(s) || (combining && s.starts_with(p)))
    };
    let superseded = |d: &Diagnostic| {
        all.iter().any(|other| {
            SAME_PROBLEM.iter().any(|&(spec_rule, pve_rule)| {
                let pair =
                    (other.rule == spec_rule && d.rule == pve_rule && other.severity >= d.severity)
                        || (other.rule == pve_rule
                            && d.rule == spec_rule
                            && other.severity > d.severity);
                pair && other.pointer.is_some() && other.pointer == d.pointer
            })
        })
    };
    let keep: Vec<bool> = all
        .iter()
        .map(|d| (family(d) != "schema" || !covered_schema(d)) && !superseded(d))
        .collect();
    all.into_iter()
        .zip(keep)
        .filter_map(|(d, k)| k.then_some(d))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Allow;

    fn codes(json: &str, allow: &[&str]) -> (Vec<String>, Vec<String>) {
        let mut selection = Selection::default();
        selection.push(crate::lint::select::Layer {
            origin: "--ignore".into(),
            ignore: allow.iter().filter_map(|a| Allow::parse(a).ok()).collect(),
            ..Default::default()
        });
        let config = LintConfig {
            selection,
            ..LintConfig::default()
        };
        let r = lint("t.json", json.as_bytes(), &config);
        let show = |d: &Diagnostic| {
            format!(
                "{} {}",
                d.code(),
                d.pointer.as_ref().map(JsonPointer::as_str).unwrap_or("")
            )
        };
        // Notes (info) explain how a value is carried over; the tests are about problems.
        let problems = r.findings.iter().filter(|d| d.severity > Severity::Info);
        (
            problems.map(show).collect(),
            r.suppressed
                .iter()
                .filter(|s| s.diagnostic.severity > Severity::Info)
                .map(|s| show(&s.diagnostic))
                .collect(),
        )
    }

    const OK: &str = r#""ociVersion": "1.2.0", "root": {"path": "rootfs"}, "process": {"cwd": "/", "args": ["/app"]}, "linux": {"namespaces": [{"type": "user"}, {"type": "network"}, {"type": "pid"}, {"type": "mount"}, {"type": "ipc"}, {"type": "uts"}, {"type": "cgroup"}], "seccomp": {"defaultAction": "SCMP_ACT_ERRNO"}}"#;

    #[test]
    fn a_clean_config_has_no_findings() {
        let (found, _) = codes(&format!("{{{OK}}}"), &[]);
        assert_eq!(found, Vec::<String>::new());
    }

    #[test]
    fn the_spec_rule_replaces_the_proxmox_finding_for_the_same_problem() {
        let (found, _) = codes(
            &format!("{{{}}}", OK.replace(r#""cwd": "/""#, r#""cwd": "srv""#)),
            &[],
        );
        assert_eq!(found, vec!["spec/relative-cwd /process/cwd"]);
    }

    #[test]
    fn schema_findings_inside_a_reported_value_are_dropped() {
        let (found, _) = codes(
            &format!(
                "{{{}}}",
                OK.replace(r#""args": ["/app"]"#, r#""args": "/app""#)
            ),
            &[],
        );
        assert!(
            found.contains(&"spec/wrong-type /process/args".to_string()),
            "{found:?}"
        );
        assert!(!found.iter().any(|f| f.starts_with("schema/")), "{found:?}");
    }

    #[test]
    fn annotation_and_flag_suppress() {
        let no_seccomp = OK.replace(r#", "seccomp": {"defaultAction": "SCMP_ACT_ERRNO"}"#, "");
        let json = format!("{{{no_seccomp}, \"annotations\": {{\"org.proxmox-lxcri.lint.allow\": \"security/no-seccomp: a filter in the image; bogus/x: typo\"}}}}");
        let (found, suppressed) = codes(&json, &[]);
        assert_eq!(
            found,
            vec!["lint/unknown-code /annotations/org.proxmox-lxcri.lint.allow"]
        );
        assert_eq!(suppressed, vec!["security/no-seccomp /linux"]);
        let (found, suppressed) = codes(&json, &["lint/*"]);
        assert_eq!((found.len(), suppressed.len()), (0, 2));
        let ignoring = LintConfig {
            ignore_annotation_allows: true,
            ..LintConfig::default()
        };
        let r = lint("t.json", json.as_bytes(), &ignoring);
        let reported: Vec<&str> = r
            .findings
            .iter()
            .filter(|d| d.severity > Severity::Info)
            .map(|d| d.code())
            .collect();
        assert_eq!(reported, ["security/no-seccomp", "lint/unknown-code"]);
        assert_eq!(r.suppressed_by_annotation(), 0);
        // The reason travels with the suppression.
        let r = lint("t.json", json.as_bytes(), &LintConfig::default());
        let reasons: Vec<&str> = r.suppressed.iter().map(|s| s.reason.as_str()).collect();
        assert!(reasons.contains(&"a filter in the image"), "{reasons:?}");
    }

    #[test]
    fn an_allow_without_a_reason_allows_nothing_and_is_reported() {
        let no_seccomp = OK.replace(r#", "seccomp": {"defaultAction": "SCMP_ACT_ERRNO"}"#, "");
        for annotation in [
            "security/no-seccomp",
            "security/no-seccomp:  ",
            "security/*, pve/lossy",
        ] {
            let json = format!("{{{no_seccomp}, \"annotations\": {{\"org.proxmox-lxcri.lint.allow\": \"{annotation}\"}}}}");
            let (found, suppressed) = codes(&json, &[]);
            assert_eq!(
                found,
                vec![
                    "security/no-seccomp /linux",
                    "lint/allow-without-reason /annotations/org.proxmox-lxcri.lint.allow"
                ],
                "{annotation}"
            );
            assert!(suppressed.is_empty(), "{annotation}: {suppressed:?}");
        }
    }

    #[test]
    fn severity_overrides_and_selection_apply_before_the_report() {
        let json = format!(
            "{{{}}}",
            OK.replace(r#", "seccomp": {"defaultAction": "SCMP_ACT_ERRNO"}"#, "")
        );
        let mut selection = Selection::default();
        selection.push(crate::lint::select::Layer {
            origin: "test".into(),
            select: Some(vec![
                Allow::parse("security").unwrap_or_else(|e| panic!("{e}"))
            ]),
            severity: vec![(
                Allow::parse("security/no-seccomp").unwrap_or_else(|e| panic!("{e}")),
                Severity::Error,
            )],
            ..Default::default()
        });
        let config = LintConfig {
            selection,
            ..LintConfig::default()
        };
        let r = lint("t.json", json.as_bytes(), &config);
        let reported: Vec<(&str, Severity)> =
            r.findings.iter().map(|d| (d.code(), d.severity)).collect();
        assert_eq!(reported, [("security/no-seccomp", Severity::Error)]);
        assert!(r.fails(Severity::Error));
        assert!(r
            .suppressed
            .iter()
            .all(|s| s.by == SuppressedBy::Config && s.reason == "not selected by test"));
    }

    #[test]
    fn a_config_larger_than_pmxcfs_keeps_is_reported() {
        let var = format!("\"V={}\"", "x".repeat(1000));
        let env = vec![var; 1100].join(",");
        let json = format!(
            "{{{}}}",
            OK.replace(
                r#""args": ["/app"]"#,
                &format!(r#""args": ["/app"], "env": [{env}]"#)
            )
        );
        let r = lint("t.json", json.as_bytes(), &LintConfig::default());
        let big: Vec<&Diagnostic> = r
            .findings
            .iter()
            .filter(|d| d.code() == "pve/config-too-large")
            .collect();
        assert_eq!(
            big.len(),
            1,
            "{:?}",
            r.findings.iter().map(|d| d.code()).collect::<Vec<_>>()
        );
        assert!(big.iter().all(|d| d.is_error() && d.pointer.is_some()));
        let (found, _) = codes(&format!("{{{OK}}}"), &[]);
        assert!(found.is_empty());
    }

    #[test]
    fn duplicates_keep_the_most_severe() {
        let rule = &crate::rules::pve::LOSSY;
        let p = JsonPointer::parse("/a");
        let a = Diagnostic::new(rule, "x")
            .at(&p, Span::new(1, 2))
            .with_severity(Severity::Info);
        let b = Diagnostic::new(rule, "y").at(&p, Span::new(1, 2));
        let out = dedupe(vec![a, b]);
        assert_eq!(out.len(), 1);
        assert_eq!(out.first().map(|d| d.severity), Some(Severity::Warning));
    }
}
