//! One positive and one negative case per lint rule, as data:
//! `tests/lint/rules/<family>/<name>/bad.json` must produce the rule's code,
//! `good.json` (the same config, fixed) must not; an optional `target.json`
//! beside them sets the target. Every rule in the registry must have a case,
//! so a rule added without one fails here.

use std::path::{Path, PathBuf};

use translator::lint::engine::{lint, LintConfig, LintReport};
use translator::rules::all_rules;
use translator::Target;

fn case_dir(code: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/lint/rules")
        .join(code)
}

fn run(dir: &Path, file: &str) -> Result<LintReport, String> {
    let target = match std::fs::read_to_string(dir.join("target.json")) {
        Ok(text) => Target::from_json(&text).map_err(|e| format!("{}: {e}", dir.display()))?,
        Err(_) => Target::default(),
    };
    let path = dir.join(file);
    let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(lint(
        file,
        &bytes,
        &LintConfig {
            target,
            ..LintConfig::default()
        },
    ))
}

fn codes(report: &LintReport) -> Vec<String> {
    report
        .findings
        .iter()
        .map(|d| {
            format!(
                "{} {}",
                d.code(),
                d.pointer.as_ref().map(|p| p.as_str()).unwrap_or("-")
            )
        })
        .collect()
}

#[test]
fn every_rule_has_a_bad_and_a_good_case() {
    let mut failures = Vec::new();
    // `crun/…` findings come from the crun back end (`convert --to crun`),
    // not from lint; the back end's tests produce each of them. `image/…` findings come from
    // converting an image config: `translator::image`'s tests run each rule's bad and good
    // image config (`examples_do_what_they_say`), tests/image_cli.rs the CLI.
    for rule in
        all_rules().filter(|r| !r.code.starts_with("crun/") && !r.code.starts_with("image/"))
    {
        let dir = case_dir(rule.code);
        if !dir.join("bad.json").is_file() || !dir.join("good.json").is_file() {
            failures.push(format!(
                "{}: no case (add {}/bad.json and good.json)",
                rule.code,
                dir.display()
            ));
            continue;
        }
        match run(&dir, "bad.json") {
            Ok(r) if r.findings.iter().any(|d| d.code() == rule.code) => {}
            Ok(r) => failures.push(format!(
                "{}: bad.json does not produce it; found {:?}",
                rule.code,
                codes(&r)
            )),
            Err(e) => failures.push(e),
        }
        match run(&dir, "good.json") {
            Ok(r) if !r.findings.iter().any(|d| d.code() == rule.code) => {}
            Ok(r) => failures.push(format!(
                "{}: good.json still produces it; found {:?}",
                rule.code,
                codes(&r)
            )),
            Err(e) => failures.push(e),
        }
    }
    assert!(
        failures.is_empty(),
        "{} rule case(s) fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_case_belongs_to_a_rule() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lint/rules");
    let mut orphans = Vec::new();
    for family in std::fs::read_dir(&root).into_iter().flatten().flatten() {
        for name in std::fs::read_dir(family.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            let code = format!(
                "{}/{}",
                family.file_name().to_string_lossy(),
                name.file_name().to_string_lossy()
            );
            if translator::rules::find(&code).is_none() {
                orphans.push(code);
            }
        }
    }
    assert!(
        orphans.is_empty(),
        "cases for codes no rule has: {orphans:?}"
    );
}

/// The bad cases also show where each finding is: a rule whose finding has
/// neither a pointer nor a span could not be annotated in a pull request.
#[test]
fn findings_of_bad_cases_are_located() {
    let mut unlocated = Vec::new();
    for rule in all_rules() {
        let Ok(report) = run(&case_dir(rule.code), "bad.json") else {
            continue;
        };
        for d in report.findings.iter().filter(|d| d.code() == rule.code) {
            if d.pointer.is_none() && !d.span.is_defined() {
                unlocated.push(rule.code);
            }
        }
    }
    assert!(
        unlocated.is_empty(),
        "findings without a location: {unlocated:?}"
    );
}
