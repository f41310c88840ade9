//! The check behind the `lint` fuzz target, shared with the test that
//! replays its corpus (fuzz/fuzz_targets/lint.rs includes this file by path):
//! raw bytes → the lint engine → every report format. Panics on a crash, a
//! JSON or SARIF report that does not parse, a finding whose span is not
//! within the rendered source text, a GitHub workflow command that spans
//! two lines (the runner would read the rest as a new command), a GitLab
//! report that is not a JSON array, or a JUnit report that is not well-formed XML.

use std::path::PathBuf;

use proxmox_lxcri::cli::lint::{report, Context, LintFormat, OutputMode, Summary};
use proxmox_lxcri::cli::Linted;
use translator::lint::engine::{lint, LintConfig};
use translator::Severity;

pub fn check(data: &[u8]) {
    let config = LintConfig::default();
    let linted = lint("bundle/config.json", data, &config);
    // Spans index the source text reports render (non-UTF-8 input is shown
    // lossily decoded), so they must fall on its character boundaries.
    let text = linted.source.text();
    for d in &linted.findings {
        if d.span.is_defined() {
            let ok = d.span.start <= d.span.end
                && text.is_char_boundary(d.span.start)
                && text.is_char_boundary(d.span.end);
            assert!(
                ok,
                "{}: span {:?} not within the {} bytes of the source text",
                d.code(),
                d.span,
                text.len()
            );
        }
    }
    let results = vec![Linted {
        path: PathBuf::from("bundle/config.json"),
        outcome: Ok(linted),
        fail_on: Severity::Error,
        refused: Vec::new(),
    }];
    let summary = Summary::of(&results, 0);
    let cx = Context {
        results: &results,
        summary: &summary,
        color: false,
        help_uri_base: None,
    };
    for mode in [OutputMode::Concise, OutputMode::Grouped] {
        assert!(!report(&cx, LintFormat::Human, mode).is_empty());
    }
    for format in [
        LintFormat::Human,
        LintFormat::Json,
        LintFormat::Sarif,
        LintFormat::Github,
        LintFormat::Gitlab,
        LintFormat::Junit,
    ] {
        let text = report(&cx, format, OutputMode::Full);
        match format {
            LintFormat::Json => {
                for line in text.lines() {
                    if let Err(e) = serde_json::from_str::<serde_json::Value>(line) {
                        panic!("JSON report line does not parse: {e}: {line}");
                    }
                }
            }
            LintFormat::Sarif => {
                if let Err(e) = serde_json::from_str::<serde_json::Value>(&text) {
                    panic!("SARIF report does not parse: {e}");
                }
            }
            LintFormat::Github => {
                for line in text.lines() {
                    assert!(
                        line.starts_with("::") || line.is_empty(),
                        "a GitHub command spans lines: {line:?}"
                    );
                }
            }
            LintFormat::Gitlab => match serde_json::from_str::<serde_json::Value>(&text) {
                Ok(v) => assert!(v.is_array(), "GitLab report is not an array"),
                Err(e) => panic!("GitLab report does not parse: {e}"),
            },
            LintFormat::Junit => {
                if let Err(e) = roxmltree::Document::parse(&text) {
                    panic!("JUnit report is not well-formed XML: {e}");
                }
            }
            LintFormat::Human => {}
        }
    }
}
