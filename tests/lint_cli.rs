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

/// Runs the binary in `dir` with extra environment variables and, when given, standard input.
fn lxcri_env(dir: &Path, args: &[&str], env: &[(&str, &str)], stdin: Option<&[u8]>) -> Run {
    let mut cmd = Command::cargo_bin("proxmox-lxcri").unwrap_or_else(|e| panic!("{e}"));
    cmd.current_dir(dir).env("NO_COLOR", "1").args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    if let Some(bytes) = stdin {
        cmd.write_stdin(bytes.to_vec());
    }
    let out = cmd.output().unwrap_or_else(|e| panic!("{e}"));
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn tree_file(name: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(TREE).join(name))
        .unwrap_or_else(|e| panic!("{e}"))
}

/// A repository with the web bundle in three places and a project config at its top.
fn project(config: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    for dir in ["bundles/web", "legacy/web", "vendor/web"] {
        let d = tmp.path().join(dir);
        std::fs::create_dir_all(&d).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(d.join("config.json"), tree_file("web/config.json"))
            .unwrap_or_else(|e| panic!("{e}"));
    }
    std::fs::write(tmp.path().join("proxmox-lxcri.toml"), config).unwrap_or_else(|e| panic!("{e}"));
    tmp
}

fn codes_of(stdout: &str) -> Vec<(String, String, String)> {
    stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["code"].is_string())
        .map(|v| {
            (
                v["file"].as_str().unwrap_or_default().to_string(),
                v["code"].as_str().unwrap_or_default().to_string(),
                v["severity"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// The project config found above the paths: select, ignore, severity, exclude, per-path,
/// fail-on; the command line over it; a nearer config instead of it.
#[test]
fn the_project_config_selects_ignores_and_overrides() {
    let tmp = project(
        r#"
select = ["security"]
ignore = ["security/cap-sys-admin"]
exclude = ["vendor"]
fail-on = "warning"

[severity]
"security/host-socket" = "error"

[[per-path]]
path = "legacy/**"
ignore = ["security/privileged"]
"#,
    );
    let r = lxcri_env(tmp.path(), &["lint", ".", "--format", "json"], &[], None);
    assert_eq!(r.code, 1, "fail-on warning: {}", r.stderr);
    let found = codes_of(&r.stdout);
    assert!(
        found.iter().all(|(_, c, _)| c.starts_with("security/")),
        "{found:?}"
    );
    assert!(!found.iter().any(|(_, c, _)| c == "security/cap-sys-admin"));
    assert!(
        !found.iter().any(|(f, _, _)| f.contains("vendor")),
        "{found:?}"
    );
    assert!(found.contains(&(
        "./bundles/web/config.json".into(),
        "security/host-socket".into(),
        "error".into()
    )));
    assert!(found
        .iter()
        .any(|(f, c, _)| f.contains("bundles") && c == "security/privileged"));
    assert!(!found
        .iter()
        .any(|(f, c, _)| f.contains("legacy") && c == "security/privileged"));
    assert!(r.stderr.contains("; 1 path excluded"), "{}", r.stderr);
    // The command line over the file: --select replaces the selection, --fail-on the threshold.
    let r = lxcri_env(
        tmp.path(),
        &[
            "lint",
            "bundles",
            "--format",
            "json",
            "--select",
            "pve/needs-host",
            "--fail-on",
            "error",
        ],
        &[],
        None,
    );
    let found = codes_of(&r.stdout);
    assert!(
        found.iter().any(|(_, c, _)| c == "pve/needs-host"),
        "{found:?}"
    );
    assert_eq!(
        r.code, 1,
        "host-socket is still an error by the file's [severity]"
    );
    // A nearer config applies instead (configs are not merged), and --no-config reads none.
    std::fs::write(
        tmp.path().join("legacy/proxmox-lxcri.toml"),
        "ignore = [\"security\"]\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let r = lxcri_env(
        tmp.path(),
        &["lint", "legacy", "--format", "json"],
        &[],
        None,
    );
    let found = codes_of(&r.stdout);
    assert!(
        found.iter().any(|(_, c, _)| c.starts_with("pve/")),
        "{found:?}"
    );
    assert!(
        !found.iter().any(|(_, c, _)| c.starts_with("security/")),
        "{found:?}"
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = lxcri_env(
        tmp.path(),
        &["lint", "vendor", "--format", "json", "--no-config"],
        &[],
        None,
    );
    assert!(codes_of(&r.stdout)
        .iter()
        .any(|(_, c, _)| c == "security/cap-sys-admin"));
    // --config names one file for every path; --exclude adds globs of the run.
    let r = lxcri_env(
        tmp.path(),
        &[
            "lint",
            "legacy",
            "bundles",
            "--format",
            "json",
            "--config",
            "proxmox-lxcri.toml",
            "--exclude",
            "legacy",
        ],
        &[],
        None,
    );
    let found = codes_of(&r.stdout);
    assert!(
        found
            .iter()
            .all(|(f, c, _)| f.starts_with("bundles") && c.starts_with("security/")),
        "{found:?}"
    );
    assert!(r.stderr.contains("; 1 path excluded"), "{}", r.stderr);
}

#[test]
fn a_pyproject_table_is_a_project_config() {
    let tmp = project("");
    std::fs::remove_file(tmp.path().join("proxmox-lxcri.toml")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(
        tmp.path().join("pyproject.toml"),
        "[project]\nname = \"x\"\n\n[tool.proxmox-lxcri]\nselect = [\"pve/needs-host\"]\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let r = lxcri_env(
        tmp.path(),
        &["lint", "bundles", "--format", "json"],
        &[],
        None,
    );
    let found = codes_of(&r.stdout);
    assert!(
        !found.is_empty() && found.iter().all(|(_, c, _)| c == "pve/needs-host"),
        "{found:?}"
    );
}

/// A typo cannot switch a rule off: unknown codes and keys are usage errors naming the spot.
#[test]
fn unknown_codes_in_config_and_flags_are_usage_errors() {
    let tmp = project("select = [\"security\"]\nignore = [\"security/privilged\"]\n");
    let r = lxcri_env(tmp.path(), &["lint", "bundles"], &[], None);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("proxmox-lxcri.toml:2:11: ignore: `security/privilged` is not a rule code")
            && r.stderr.contains("did you mean `security/privileged`?"),
        "{}",
        r.stderr
    );
    std::fs::write(
        tmp.path().join("proxmox-lxcri.toml"),
        "[severity]\n\"pve/lossy\" = \"fatal\"\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let r = lxcri_env(tmp.path(), &["lint", "bundles"], &[], None);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("proxmox-lxcri.toml:2:15: severity: `fatal`"),
        "{}",
        r.stderr
    );
    std::fs::write(
        tmp.path().join("proxmox-lxcri.toml"),
        "exclude = [\"a/[\"]\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let r = lxcri_env(tmp.path(), &["lint", "bundles"], &[], None);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("proxmox-lxcri.toml:1:12: `a/[` is not a glob"),
        "{}",
        r.stderr
    );
    for flag in ["--select", "--ignore"] {
        let r = lxcri(&["lint", TREE, flag, "pve/lossyy"]);
        assert_eq!(r.code, 2, "{flag}");
        assert!(
            r.stderr.contains(&format!("{flag}: `pve/lossyy`")),
            "{}",
            r.stderr
        );
    }
    let r = lxcri(&["lint", TREE, "--output", "concise", "--format", "json"]);
    assert_eq!(r.code, 2, "--output shapes only the human report");
}

/// Inline allows need a reason; --no-inline-allow turns them off; the node policy never
/// reads them, even with a reason.
#[test]
fn inline_allows_need_a_reason_and_never_reach_the_node_policy() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let web = String::from_utf8(tree_file("web/config.json")).unwrap_or_default();
    let write = |annotation: &str| {
        let dir = tmp.path().join("b");
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        let text = web.replace(
            "security/no-seccomp: the image ships its own filter",
            annotation,
        );
        std::fs::write(dir.join("config.json"), text).unwrap_or_else(|e| panic!("{e}"));
    };
    write("security/no-seccomp");
    let r = lxcri_env(tmp.path(), &["lint", "b", "--format", "json"], &[], None);
    let found = codes_of(&r.stdout);
    assert!(
        found
            .iter()
            .any(|(_, c, _)| c == "lint/allow-without-reason"),
        "{found:?}"
    );
    assert!(
        found.iter().any(|(_, c, _)| c == "security/no-seccomp"),
        "no reason, no allow"
    );
    write("security/no-seccomp, security/host-socket: a CI runner that builds images");
    let r = lxcri_env(tmp.path(), &["lint", "b", "--format", "json"], &[], None);
    let found = codes_of(&r.stdout);
    assert!(
        !found
            .iter()
            .any(|(_, c, _)| c == "security/host-socket" || c == "security/no-seccomp"),
        "{found:?}"
    );
    assert!(
        r.stderr
            .contains("; 2 suppressed (2 by bundle annotations)"),
        "{}",
        r.stderr
    );
    let r = lxcri_env(
        tmp.path(),
        &["lint", "b", "--format", "json", "--no-inline-allow"],
        &[],
        None,
    );
    assert!(codes_of(&r.stdout)
        .iter()
        .any(|(_, c, _)| c == "security/host-socket"));
    // The node policy refuses host-socket whatever the bundle's annotation and the project
    // config say.
    let policy = tmp.path().join("policy.toml");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/policy.example.toml"),
        &policy,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(
        tmp.path().join("proxmox-lxcri.toml"),
        "ignore = [\"security\"]\n[severity]\n\"pve\" = \"info\"\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let policy = policy.to_string_lossy().into_owned();
    let r = lxcri_env(
        tmp.path(),
        &["lint", "b", "--format", "json", "--policy", &policy],
        &[],
        None,
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr.contains(
            "would refuse it for the pct back end: security/host-socket at /mounts/0/source"
        ),
        "{}",
        r.stderr
    );
    let r = lxcri_env(tmp.path(), &["lint", "b", "--format", "json"], &[], None);
    assert_eq!(
        r.code, 0,
        "without the policy the project config decides: {}",
        r.stderr
    );
}

#[test]
fn concise_grouped_and_statistics() {
    let r = lxcri(&["lint", TREE, "--output", "concise"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stdout.lines().any(|l| l == "tests/lint/cli/tree/web/config.json:12:71: warning[security/host-socket] the host path `/var/run/docker.sock` is a control socket: whoever talks to it commands a daemon of the node (bind-mounted writable) (at /mounts/0/source)"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .ends_with("1 suppressed (1 by bundle annotations)\n"),
        "{}",
        r.stdout
    );
    let r = lxcri(&["lint", TREE, "--output", "grouped"]);
    assert!(
        r.stdout
            .starts_with("error parse/syntax: 1 finding in 1 file: "),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("info pve/lossy: 4 findings in 2 files: "),
        "{}",
        r.stdout
    );
    let r = lxcri(&["lint", TREE, "--statistics"]);
    let row = r
        .stdout
        .lines()
        .find(|l| l.contains("security/no-seccomp"))
        .unwrap_or_default()
        .to_string();
    assert!(
        row.trim_start()
            .starts_with("0           1  security/no-seccomp"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .lines()
            .nth(1)
            .is_some_and(|l| l.contains("pve/lossy")),
        "{}",
        r.stdout
    );
    // With a machine format the table goes to stderr and the report stays intact.
    let r = lxcri(&["lint", TREE, "--statistics", "--format", "json"]);
    assert!(r.stderr.contains("reported  suppressed"), "{}", r.stderr);
    assert!(r.stdout.lines().all(|l| l.starts_with('{')));
    // Colour on request, whatever NO_COLOR says; none by default into a pipe.
    let r = lxcri(&["lint", TREE, "--output", "concise", "--color", "always"]);
    assert!(
        r.stdout
            .contains("\x1b[1;33mwarning[security/host-socket]\x1b[0m"),
        "{}",
        r.stdout
    );
    assert!(!lxcri(&["lint", TREE, "--output", "concise"])
        .stdout
        .contains('\x1b'));
}

#[test]
fn lint_reads_standard_input() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let r = lxcri_env(
        dir,
        &["lint", "-", "--format", "json"],
        &[],
        Some(&tree_file("web/config.json")),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let found = codes_of(&r.stdout);
    assert!(
        found
            .iter()
            .any(|(f, c, _)| f == "<stdin>" && c == "security/host-socket"),
        "{found:?}"
    );
    let r = lxcri_env(
        dir,
        &[
            "lint",
            "-",
            "--stdin-filename",
            "bundles/web/config.json",
            "--output",
            "concise",
        ],
        &[],
        Some(&tree_file("broken/config.json")),
    );
    assert_eq!(r.code, 1);
    assert!(
        r.stdout
            .starts_with("bundles/web/config.json:5:1: error[parse/syntax]"),
        "{}",
        r.stdout
    );
}

/// GitHub shows at most 10 annotations of each type per step: the most severe first, one
/// notice for the rest, and every finding in the job summary.
#[test]
fn github_annotations_stay_within_the_limit_and_the_summary_has_everything() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    for i in 0..12 {
        let d = tmp.path().join(format!("b{i:02}"));
        std::fs::create_dir_all(&d).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(d.join("config.json"), tree_file("web/config.json"))
            .unwrap_or_else(|e| panic!("{e}"));
    }
    std::fs::create_dir_all(tmp.path().join("broken")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(
        tmp.path().join("broken/config.json"),
        tree_file("broken/config.json"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let summary = tmp.path().join("summary.md");
    std::fs::write(&summary, "earlier step\n").unwrap_or_else(|e| panic!("{e}"));
    let r = lxcri_env(
        tmp.path(),
        &["lint", ".", "--format", "github"],
        &[("GITHUB_STEP_SUMMARY", &summary.to_string_lossy())],
        None,
    );
    assert_eq!(r.code, 1);
    let count = |kind: &str| r.stdout.lines().filter(|l| l.starts_with(kind)).count();
    assert_eq!(count("::error "), 1);
    assert_eq!(count("::warning "), 10, "12 bundles × 4 warnings, 10 shown");
    assert_eq!(count("::notice "), 10, "9 findings and the note");
    assert!(
        r.stdout
            .lines()
            .next()
            .is_some_and(|l| l.starts_with("::error ")),
        "most severe first"
    );
    let note = r.stdout.lines().last().unwrap_or_default();
    assert!(
        note.starts_with("::notice title=proxmox-lxcri lint::13 files checked: 1 error, 48 warnings, 36 infos; 12 suppressed")
            && note.contains("65 findings are not annotated"),
        "{note}"
    );
    let md = std::fs::read_to_string(&summary).unwrap_or_default();
    assert!(
        md.starts_with("earlier step\n## proxmox-lxcri lint\n"),
        "appended: {md}"
    );
    let rows = md.lines().filter(|l| l.starts_with("| ./")).count();
    assert_eq!(rows, 1 + 48 + 36, "every finding is in the summary");
    assert!(
        md.contains("| 12 | 0 | `security/host-socket` | warning |"),
        "{md}"
    );
}

fn validator(path: &str) -> jsonschema::Validator {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
        .unwrap_or_else(|e| panic!("{e}"));
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
    jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("{path} does not compile: {e}"))
}

#[test]
fn gitlab_code_quality_matches_its_schema_with_unique_fingerprints() {
    let v = validator("schemas/gitlab/codequality.schema.json");
    let r = lxcri(&["lint", TREE, "tests/lint/cli/missing", "--format", "gitlab"]);
    assert_eq!(r.code, 2);
    let report: serde_json::Value =
        serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}\n{}", r.stdout));
    let errors: Vec<String> = v
        .iter_errors(&report)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    let issues = report.as_array().cloned().unwrap_or_default();
    let mut prints: Vec<&str> = issues
        .iter()
        .filter_map(|i| i["fingerprint"].as_str())
        .collect();
    let n = prints.len();
    prints.sort_unstable();
    prints.dedup();
    assert_eq!(
        prints.len(),
        n,
        "GitLab drops issues with a repeated fingerprint"
    );
    let checks: Vec<&str> = issues
        .iter()
        .filter_map(|i| i["check_name"].as_str())
        .collect();
    for c in [
        "parse/syntax",
        "security/host-socket",
        "proxmox-lxcri/suppressed",
        "proxmox-lxcri/unreadable",
    ] {
        assert!(checks.contains(&c), "{c}: {checks:?}");
    }
    assert!(issues
        .iter()
        .any(|i| i["check_name"] == "security/host-socket" && i["severity"] == "major"));
    // The schema can fail: a severity GitLab does not know.
    let mut broken = report.clone();
    broken[0]["severity"] = "warning".into();
    assert!(!v.is_valid(&broken));
}

#[test]
fn junit_is_well_formed_in_the_common_shape() {
    let r = lxcri(&[
        "lint",
        TREE,
        "tests/lint/cli/missing",
        "--format",
        "junit",
        "--fail-on",
        "warning",
    ]);
    assert_eq!(r.code, 2);
    let doc = roxmltree::Document::parse(&r.stdout).unwrap_or_else(|e| panic!("{e}\n{}", r.stdout));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let suites: Vec<_> = root
        .children()
        .filter(|n| n.has_tag_name("testsuite"))
        .collect();
    assert_eq!(suites.len(), 4, "one per path");
    let total = |attr: &str| -> usize {
        suites
            .iter()
            .filter_map(|s| s.attribute(attr)?.parse::<usize>().ok())
            .sum()
    };
    for attr in ["tests", "failures", "errors", "skipped"] {
        assert_eq!(
            root.attribute(attr).and_then(|a| a.parse::<usize>().ok()),
            Some(total(attr)),
            "{attr}"
        );
        let cases = suites
            .iter()
            .flat_map(|s| s.children())
            .filter(|n| n.has_tag_name("testcase"));
        let marked = |tag: &str| {
            cases
                .clone()
                .filter(|c| c.children().any(|x| x.has_tag_name(tag)))
                .count()
        };
        match attr {
            "failures" => assert_eq!(marked("failure"), total(attr)),
            "errors" => assert_eq!(marked("error"), total(attr)),
            "skipped" => assert_eq!(marked("skipped"), total(attr)),
            _ => assert_eq!(cases.count(), total(attr)),
        }
    }
    assert_eq!(
        total("failures"),
        5,
        "1 error and 4 warnings at --fail-on warning"
    );
    assert_eq!(total("errors"), 1, "the missing path");
    assert_eq!(total("skipped"), 1, "the annotation's allow");
    let skipped = doc.descendants().find(|n| n.has_tag_name("skipped"));
    assert_eq!(
        skipped.and_then(|s| s.attribute("message")),
        Some("suppressed: the image ships its own filter")
    );
}

#[test]
fn sarif_rules_carry_precision_security_severity_and_help_uri() {
    let v = validator("schemas/sarif/sarif-schema-2.1.0.json");
    let r = lxcri(&[
        "lint",
        TREE,
        "--format",
        "sarif",
        "--help-uri-base",
        "https://example.org/rules/",
    ]);
    let log: serde_json::Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}"));
    let errors: Vec<String> = v
        .iter_errors(&log)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    let rules = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for rule in &rules {
        let id = rule["id"].as_str().unwrap_or_default();
        assert_eq!(
            rule["helpUri"],
            format!("https://example.org/rules/{id}.md")
        );
        assert!(rule["properties"]["precision"].is_string(), "{id}");
        assert_eq!(
            rule["properties"]["security-severity"].is_string(),
            id.starts_with("security/"),
            "{id}"
        );
    }
    let socket = rules.iter().find(|r| r["id"] == "security/host-socket");
    assert_eq!(
        socket.map(|r| &r["properties"]["security-severity"]),
        Some(&"9.0".into())
    );
    assert_eq!(
        lxcri(&[
            "lint",
            TREE,
            "--format",
            "sarif",
            "--help-uri-base",
            "rules/"
        ])
        .code,
        2
    );
}

/// `convert` reports a config larger than pmxcfs keeps with the rule's code, as lint does.
#[test]
fn convert_and_lint_report_a_config_too_large_for_pmxcfs() {
    let bad = "tests/lint/rules/pve/config-too-large/bad.json";
    let r = lxcri(&["convert", bad, "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let codes: Vec<String> = r
        .stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["code"].as_str().map(String::from))
        .collect();
    assert!(
        codes.contains(&"pve/config-too-large".to_string()),
        "{}",
        r.stderr
    );
    assert!(
        !r.stderr.contains("proxmox-lxcri: error:"),
        "no bare error line: {}",
        r.stderr
    );
    for to in ["plan", "plan-sh"] {
        let r = lxcri(&["convert", bad, "--to", to, "--format", "json"]);
        assert!(
            r.stderr.contains("\"code\":\"pve/config-too-large\""),
            "{to}: {}",
            r.stderr
        );
    }
    let r = lxcri(&["lint", bad, "--output", "concise"]);
    assert_eq!(r.code, 1);
    assert!(
        r.stdout.contains("error[pve/config-too-large]"),
        "{}",
        r.stdout
    );
}

/// The fenced blocks of docs/lint-in-ci.md in a language.
fn doc_blocks(lang: &str) -> Vec<String> {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/lint-in-ci.md"))
            .unwrap_or_else(|e| panic!("{e}"));
    text.split("```")
        .skip(1)
        .step_by(2)
        .filter_map(|b| b.strip_prefix(lang)?.strip_prefix('\n').map(String::from))
        .collect()
}

/// The `proxmox-lxcri lint …` command of a YAML line (`run:`, a script item, `entry:`),
/// without a trailing `|| true`, as arguments (the snippets quote nothing).
fn lint_command(line: &str) -> Option<Vec<String>> {
    let at = line.find("proxmox-lxcri lint")?;
    let before = line[..at].trim();
    if !["run:", "-", "entry:"].contains(&before) {
        return None;
    }
    let cmd = line[at..].trim_end_matches("|| true").trim();
    Some(cmd.split_whitespace().skip(1).map(String::from).collect())
}

/// Every snippet of docs/lint-in-ci.md as far as it runs here: the example project config is
/// one `lint` accepts; the GitHub steps write a SARIF log and a job summary into a temporary
/// `$GITHUB_STEP_SUMMARY`; the GitLab script writes reports that match their schemas; the
/// pre-commit hooks (the repository's `.pre-commit-hooks.yaml` and the local one) run with
/// the staged file names pre-commit appends.
#[test]
fn the_ci_snippets_in_the_docs_run() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    for b in ["web", "clean"] {
        let d = tmp.path().join("bundles").join(b);
        std::fs::create_dir_all(&d).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(
            d.join("config.json"),
            tree_file(&format!("{b}/config.json")),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    }
    // The example project config, with the target file it names.
    let toml = doc_blocks("toml");
    assert_eq!(toml.len(), 1, "one example project config");
    std::fs::create_dir_all(tmp.path().join("ci")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::copy(
        root.join("golden/mounts-default-pve91/target.json"),
        tmp.path().join("ci/pve-node.json"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(tmp.path().join("proxmox-lxcri.toml"), &toml[0])
        .unwrap_or_else(|e| panic!("{e}"));
    let r = lxcri_env(
        tmp.path(),
        &["lint", "bundles", "--format", "sarif"],
        &[],
        None,
    );
    assert_ne!(r.code, 2, "the example config is valid: {}", r.stderr);
    assert!(
        r.stdout.contains("\"helpUri\": \"https://git.example.org/"),
        "help-uri-base applies"
    );
    std::fs::remove_file(tmp.path().join("proxmox-lxcri.toml")).unwrap_or_else(|e| panic!("{e}"));

    let yaml = doc_blocks("yaml");
    let summary = tmp.path().join("step-summary.md");
    let summary_env = summary.to_string_lossy().into_owned();
    let mut ran = 0;
    let mut hooks = Vec::new();
    for block in &yaml {
        for line in block.lines() {
            let Some(args) = lint_command(line) else {
                continue;
            };
            if line.trim_start().starts_with("entry:") {
                hooks.push(args);
                continue;
            }
            let argv: Vec<&str> = args.iter().map(String::as_str).collect();
            let r = lxcri_env(
                tmp.path(),
                &argv,
                &[("GITHUB_STEP_SUMMARY", &summary_env)],
                None,
            );
            assert!(
                r.code == 0 || r.code == 1,
                "{line}: exit {}: {}",
                r.code,
                r.stderr
            );
            ran += 1;
        }
    }
    assert!(ran >= 5, "the GitHub and GitLab snippets' commands: {ran}");
    let md = std::fs::read_to_string(&summary).unwrap_or_default();
    assert!(
        md.contains("## proxmox-lxcri lint") && md.contains("`security/host-socket`"),
        "{md}"
    );
    let sarif: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(tmp.path().join("lint.sarif")).unwrap_or_default(),
    )
    .unwrap_or_else(|e| panic!("lint.sarif: {e}"));
    assert!(validator("schemas/sarif/sarif-schema-2.1.0.json").is_valid(&sarif));
    let cq: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(tmp.path().join("gl-code-quality.json")).unwrap_or_default(),
    )
    .unwrap_or_else(|e| panic!("gl-code-quality.json: {e}"));
    assert!(validator("schemas/gitlab/codequality.schema.json").is_valid(&cq));
    let junit = std::fs::read_to_string(tmp.path().join("lint-junit.xml")).unwrap_or_default();
    assert!(roxmltree::Document::parse(&junit).is_ok(), "{junit}");

    // pre-commit: the repository's hook and the documented local one, with file names.
    let repo_hooks =
        std::fs::read_to_string(root.join(".pre-commit-hooks.yaml")).unwrap_or_default();
    hooks.extend(repo_hooks.lines().filter_map(lint_command));
    assert_eq!(hooks.len(), 2, "{hooks:?}");
    for hook in hooks {
        let mut argv: Vec<&str> = hook.iter().map(String::as_str).collect();
        argv.extend(["bundles/web/config.json", "bundles/clean/config.json"]);
        let r = lxcri_env(tmp.path(), &argv, &[], None);
        assert_eq!(
            r.code, 1,
            "web has warnings and the hook fails on them: {}",
            r.stderr
        );
        assert!(
            r.stdout
                .lines()
                .any(|l| l
                    .starts_with("bundles/web/config.json:12:71: warning[security/host-socket]")),
            "{}",
            r.stdout
        );
    }
}
