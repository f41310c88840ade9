//! `lint`, `rules` and `explain` through the binary: every report format for
//! a tree with several bundles (snapshots), the SARIF log against the SARIF
//! 2.1.0 schema, exit codes per `--deny`, unreadable paths, suppression, and
//! the explanation of every registered rule.
//!
//! The tree in tests/lint/cli/tree: `web` (warnings, one finding allowed by
//! its annotation), `clean` (a note only), `broken` (a syntax error). Paths
//! that cannot be read are made in a temporary directory.

use std::path::Path;

use assert_cmd::Command;

const TREE: &str = "tests/lint/cli/tree";

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn lxcri(args: &[&str]) -> Run {
    lxcri_in(Path::new(env!("CARGO_MANIFEST_DIR")), args)
}

/// Runs the binary in `dir`, so relative paths in its reports are the same on every machine.
fn lxcri_in(dir: &Path, args: &[&str]) -> Run {
    let out = Command::cargo_bin("proxmox-lxcri")
        .unwrap_or_else(|e| panic!("{e}"))
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn snapshot(name: &str, text: &str) {
    insta::with_settings!({
        snapshot_path => Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lint/cli/snapshots"),
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_snapshot!(name, text);
    });
}

#[test]
fn every_format_of_a_tree_with_findings() {
    for format in ["human", "json", "sarif", "github"] {
        let r = lxcri(&["lint", TREE, "--format", format]);
        assert_eq!(
            r.code, 1,
            "{format}: the broken bundle has an error\n{}",
            r.stderr
        );
        snapshot(
            &format!("tree.{format}"),
            &format!(
                "exit {}\n--- stdout\n{}--- stderr\n{}",
                r.code, r.stdout, r.stderr
            ),
        );
    }
}

/// Paths that cannot be linted, next to a bundle that can: a missing path and
/// a `config.json` that is a directory (unreadable even for root, unlike a
/// file without read permission). Every format names both and keeps the
/// bundle's findings.
#[test]
fn every_format_of_a_run_with_unreadable_paths() -> std::io::Result<()> {
    let tmp = tempfile::tempdir()?;
    let clean = tmp.path().join("bundles/clean");
    std::fs::create_dir_all(&clean)?;
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(TREE)
            .join("clean/config.json"),
        clean.join("config.json"),
    )?;
    std::fs::create_dir_all(tmp.path().join("bundles/odd/config.json"))?;
    for format in ["human", "json", "sarif", "github"] {
        let r = lxcri_in(
            tmp.path(),
            &["lint", "bundles", "missing", "--format", format],
        );
        assert_eq!(r.code, 2, "{format}: unreadable paths\n{}", r.stderr);
        assert!(
            r.stdout.contains("bundles/clean/config.json"),
            "{format}: the readable bundle is still linted\n{}",
            r.stdout
        );
        snapshot(
            &format!("unreadable.{format}"),
            &format!(
                "exit {}\n--- stdout\n{}--- stderr\n{}",
                r.code, r.stdout, r.stderr
            ),
        );
    }
    Ok(())
}

#[test]
fn sarif_log_is_valid_sarif_2_1_0() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/sarif/sarif-schema-2.1.0.json"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
    let validator = jsonschema::validator_for(&schema)
        .unwrap_or_else(|e| panic!("the SARIF schema does not compile: {e}"));
    // With findings, suppressions and an unreadable path (a tool execution notification).
    let r = lxcri(&[
        "lint",
        TREE,
        "tests/lint/cli/missing",
        "--format",
        "sarif",
        "--allow",
        "pve/lossy",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    let log: serde_json::Value =
        serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}\n{}", r.stdout));
    let errors: Vec<String> = validator
        .iter_errors(&log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    let run = &log["runs"][0];
    assert_eq!(run["invocations"][0]["executionSuccessful"], false);
    let results = run["results"].as_array().cloned().unwrap_or_default();
    assert!(
        results.iter().any(|r| r["suppressions"].is_array()),
        "suppressed findings are results with suppressions"
    );
    // Every result's rule is described, at the index it names.
    let rules = run["tool"]["driver"]["rules"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for result in &results {
        let index = result["ruleIndex"].as_u64().unwrap_or(u64::MAX) as usize;
        assert_eq!(
            rules.get(index).map(|r| &r["id"]),
            Some(&result["ruleId"]),
            "{result}"
        );
    }
    // The check can fail: a log without `version` is refused.
    let mut broken = log.clone();
    if let Some(obj) = broken.as_object_mut() {
        obj.remove("version");
    }
    assert!(!validator.is_valid(&broken));
}

#[test]
fn exit_codes_follow_deny() {
    let web = format!("{TREE}/web");
    let clean = format!("{TREE}/clean");
    assert_eq!(
        lxcri(&["lint", &web]).code,
        0,
        "warnings pass the default --deny error"
    );
    assert_eq!(lxcri(&["lint", &web, "--deny", "warning"]).code, 1);
    assert_eq!(
        lxcri(&["lint", &clean, "--deny", "warning"]).code,
        0,
        "notes pass --deny warning"
    );
    assert_eq!(lxcri(&["lint", &clean, "--deny", "info"]).code, 1);
    assert_eq!(
        lxcri(&["lint", &format!("{TREE}/broken/config.json")]).code,
        1,
        "a syntax error is an error finding"
    );
    assert_eq!(
        lxcri(&["lint", &web, "--deny", "fatal"]).code,
        2,
        "usage error"
    );
    assert_eq!(
        lxcri(&["lint", &web, "--allow", "not a code"]).code,
        2,
        "a malformed --allow is a usage error"
    );
    assert_eq!(lxcri(&["lint"]).code, 2, "a path is required");
}

#[test]
fn an_unreadable_path_is_reported_and_the_others_are_still_linted() {
    let r = lxcri(&[
        "lint",
        "tests/lint/cli/missing",
        &format!("{TREE}/web"),
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("tests/lint/cli/missing"), "{}", r.stderr);
    assert!(
        r.stdout.contains("\"code\":\"security/privileged\""),
        "web is still linted:\n{}",
        r.stdout
    );
    assert!(
        r.stderr.contains("1 path could not be read"),
        "{}",
        r.stderr
    );
}

#[test]
fn allow_flag_and_annotation_suppress_and_are_counted() {
    let web = format!("{TREE}/web");
    let r = lxcri(&["lint", &web, "--format", "json"]);
    assert!(
        r.stderr.contains("; 1 suppressed"),
        "the annotation allows security/no-seccomp: {}",
        r.stderr
    );
    assert!(!r.stdout.contains("security/no-seccomp"));
    assert!(r.stdout.contains("security/privileged"));
    let r = lxcri(&[
        "lint",
        &web,
        "--format",
        "json",
        "--allow",
        "security/privileged,pve/*",
    ]);
    assert!(
        !r.stdout.contains("security/privileged") && !r.stdout.contains("\"pve/"),
        "{}",
        r.stdout
    );
    // privileged, the annotation's no-seccomp, and three pve/ notes: a lossy one, the added
    // network and the bind taken for a directory.
    assert!(r.stderr.contains("; 5 suppressed"), "{}", r.stderr);
    assert_eq!(
        lxcri(&["lint", &web, "--deny", "warning", "--allow", "security/*"]).code,
        0,
        "only allowed findings were at warning"
    );
}

#[test]
fn explain_renders_every_rule() {
    let r = lxcri(&["rules", "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rules: Vec<serde_json::Value> =
        serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}"));
    assert!(rules.len() >= 40, "only {} rules", rules.len());
    for rule in &rules {
        let code = rule["code"].as_str().unwrap_or_default();
        let r = lxcri(&["explain", code]);
        assert_eq!(r.code, 0, "explain {code}: {}", r.stderr);
        assert!(
            r.stdout.starts_with(&format!("# {code}\n")),
            "explain {code}:\n{}",
            r.stdout
        );
        assert!(
            r.stdout.contains("## What it does"),
            "explain {code} has no description:\n{}",
            r.stdout
        );
    }
    let r = lxcri(&["explain", "bogus/x"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("is not a rule code"), "{}", r.stderr);
    let table = lxcri(&["rules"]);
    assert_eq!(table.code, 0);
    assert!(
        table.stdout.contains("security/privileged"),
        "{}",
        table.stdout
    );
}

/// `lint --policy FILE` says what `create`, `run` and `apply` on that node would refuse, and
/// fails the run: a CI job can lint against the nodes' own policy. A bundle's annotation
/// does not lower it; `--allow` does, as it does for `create`.
#[test]
fn lint_with_a_node_policy_fails_what_create_would_refuse() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.toml");
    std::fs::copy("docs/policy.example.toml", &policy).unwrap();
    let policy = policy.to_str().unwrap();
    let web = format!("{TREE}/web");
    let r = lxcri(&["lint", &web, "--format", "json"]);
    assert_eq!(
        r.code, 0,
        "without a policy only --deny decides: {}",
        r.stderr
    );
    let r = lxcri(&["lint", &web, "--format", "json", "--policy", policy]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains(&format!("web/config.json: {policy} would refuse it for the pct back end: security/host-socket at /mounts/0/source")), "{}", r.stderr);
    let clean = format!("{TREE}/clean");
    assert_eq!(lxcri(&["lint", &clean, "--policy", policy]).code, 0);
    let r = lxcri(&[
        "lint",
        &web,
        "--format",
        "json",
        "--policy",
        policy,
        "--allow",
        "security/host-socket",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // A policy that cannot be read is a usage error, as for create.
    assert_eq!(
        lxcri(&["lint", &web, "--policy", "/nonexistent/policy.toml"]).code,
        2
    );
}
