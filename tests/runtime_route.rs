//! Runtime routing (issue 19): the node configuration's `[[route]]` rules choose the back end
//! of `create` and `run` when the command line does not, `route <id>` says which and why, and
//! every later verb follows the back end recorded at create. Also the short and `=` forms of
//! `--runtime` and `--bundle` that the original project's users typed.
//!
//! The routing table is also checked in `src/cli/route.rs`'s unit tests; here it goes through
//! the binary. The container tests need root, the simulator's tools and crun (see
//! `runtime_support`).

mod runtime_support;

use std::path::Path;

use runtime_support::*;

/// Ids `lxc-*` go to Proxmox, any id whose bundle says so too, `test-?` to crun, everything
/// else to the default, crun.
const TABLE: &str = r#"default = "crun"

[[route]]
id = "lxc-*"
runtime = "pct"

[[route]]
id = "*"
annotation = { "org.proxmox-lxcri.runtime" = "pct" }
runtime = "pct"

[[route]]
id = "test-?"
runtime = "crun"
"#;

fn write_config(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write config");
    path.to_str().expect("UTF-8 path").to_owned()
}

/// A bundle directory with only a config.json carrying these annotations (route reads nothing
/// else).
fn annotated(annotations: serde_json::Value) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = serde_json::json!({
        "ociVersion": "1.0.2", "root": {"path": "rootfs"}, "annotations": annotations
    });
    std::fs::write(dir.path().join("config.json"), config.to_string()).expect("config.json");
    dir
}

#[test]
fn route_names_the_back_end_and_the_rule_that_chose_it() {
    let node = Node::new();
    let config = write_config(node.dir.path(), "config.toml", TABLE);
    let route = |args: &[&str]| {
        let mut all = vec!["--config", config.as_str(), "route"];
        all.extend_from_slice(args);
        ok(&node.run(&all))
    };

    // The first rule that matches, in file order.
    assert_eq!(
        route(&["lxc-db-123"]),
        format!("pct: rule 1 (id \"lxc-*\") of {config}, line 4\n")
    );
    // Rule 2 names an annotation, and without a bundle it is passed over (route says so).
    assert_eq!(
        route(&["test-1"]),
        format!(
            "crun: rule 3 (id \"test-?\") of {config}, line 13\nnote: rule 2 names an \
             annotation and no --bundle was given; it was not considered\n"
        )
    );
    // `?` is one character: test-12 falls through to the default.
    assert_eq!(
        route(&["test-12"]),
        format!(
            "crun: the default of {config}, line 1\nnote: rule 2 names an annotation and no \
             --bundle was given; it was not considered\n"
        )
    );
    // The annotation rule, with the bundle's config.json.
    let pct = annotated(serde_json::json!({"org.proxmox-lxcri.runtime": "pct"}));
    let other = annotated(serde_json::json!({"org.proxmox-lxcri.runtime": "crun"}));
    let pct_dir = pct.path().to_str().unwrap();
    assert_eq!(
        route(&["web", "--bundle", pct_dir]),
        format!(
            "pct: rule 2 (id \"*\", annotation \"org.proxmox-lxcri.runtime\" = \"pct\") of \
             {config}, line 8\n"
        )
    );
    assert_eq!(
        route(&["web", "-b", other.path().to_str().unwrap()]),
        format!("crun: the default of {config}, line 1\n")
    );
    // The command line wins, before or after the verb, long, short or with `=`.
    for args in [
        &["web", "-r", "pct"][..],
        &["web", "-r=pct"],
        &["web", "--runtime=pct"],
    ] {
        assert_eq!(
            route(args),
            "pct: --runtime on the command line\n",
            "{args:?}"
        );
    }
    let before = ok(&node.run(&["--runtime=pct", "--config", &config, "route", "test-1"]));
    assert_eq!(before, "pct: --runtime on the command line\n");

    // JSON, for scripts.
    let json: serde_json::Value =
        serde_json::from_str(&route(&["test-1", "--format", "json"])).expect("JSON");
    assert_eq!(json["runtime"], "crun");
    assert_eq!(json["by"], "rule");
    assert_eq!(json["rule"], 3);
    assert_eq!(json["line"], 13);
    assert_eq!(json["config"], config.as_str());

    // The environment names the file when --config does not; no file: pct, built in.
    let out = node
        .lxcri()
        .env("PROXMOX_LXCRI_CONFIG", &config)
        .args(["route", "lxc-1"])
        .output()
        .expect("run");
    assert!(
        ok(&out).starts_with("pct: rule 1 "),
        "{}",
        text(&out.stdout)
    );
    let none = write_config(node.dir.path(), "empty.toml", "");
    assert_eq!(
        ok(&node.run(&["--config", &none, "route", "x"])),
        "pct: no rule or default (pct is the built-in default)\n"
    );
}

#[test]
fn a_bad_configuration_is_a_usage_error_naming_its_line() {
    let node = Node::new();
    let bad = write_config(
        node.dir.path(),
        "bad.toml",
        "default = \"pct\"\n\n[[route]]\nid = \"test-*\"\nruntime = \"lxc\"\n",
    );
    let err = fails(&node.run(&["--config", &bad, "route", "test-1"]), 2);
    assert!(
        err.contains(&format!("{bad}: line 5, column 11")) && err.contains("unknown variant `lxc`"),
        "{err}"
    );
    let glob = write_config(
        node.dir.path(),
        "glob.toml",
        "[[route]]\nid = \"test-[\"\nruntime = \"crun\"\n",
    );
    let err = fails(&node.run(&["--config", &glob, "route", "test-1"]), 2);
    assert!(
        err.contains("line 2, column 6") && err.contains("not a glob"),
        "{err}"
    );
    // create refuses the same way before it reads anything else, and creates nothing.
    let b = annotated(serde_json::json!({}));
    let err = fails(
        &node.run(&[
            "--config",
            &bad,
            "create",
            "test-1",
            "-b",
            b.path().to_str().unwrap(),
        ]),
        2,
    );
    assert!(err.contains("line 5, column 11"), "{err}");
    assert_eq!(node.records(), Vec::<String>::new());
    // A named file that does not exist is an error too (the default file may be absent).
    let missing = node.dir.path().join("missing.toml");
    fails(
        &node.run(&["--config", missing.to_str().unwrap(), "route", "x"]),
        2,
    );
    // Kept by root, as the policy: a file others can write does not choose back ends.
    let open = write_config(node.dir.path(), "open.toml", TABLE);
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o666)).expect("chmod");
    let err = fails(&node.run(&["--config", &open, "route", "x"]), 2);
    assert!(err.contains("writable by its group or others"), "{err}");
}

fn runtimes(c: &CrunNode) -> Vec<(String, String)> {
    let list: serde_json::Value =
        serde_json::from_str(&ok(&c.node.run(&["list", "--format", "json"]))).expect("JSON");
    let mut rows: Vec<(String, String)> = list
        .as_array()
        .expect("array")
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap_or_default().to_owned(),
                r["runtime"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    rows.sort();
    rows
}

fn pair(id: &str, runtime: &str) -> (String, String) {
    (id.to_owned(), runtime.to_owned())
}

/// `proxmox-lxcri --crun <wrapper> args...` with captured output: for verbs that start no
/// container process.
fn lxcri(c: &CrunNode, args: &[&str]) -> std::process::Output {
    c.node
        .lxcri()
        .arg("--crun")
        .arg(&c.wrapper)
        .args(args)
        .output()
        .expect("run proxmox-lxcri")
}

#[test]
fn creates_follow_the_routes_and_later_verbs_the_record() {
    let c = CrunNode::new();
    require(SIM_TOOLS);
    ensure_subids();
    let dir = c.node.dir.path().to_owned();
    let config = write_config(
        &dir,
        "config.toml",
        "default = \"pct\"\n\n[[route]]\nid = \"test-*\"\nruntime = \"crun\"\n",
    );
    let crun_bundle = bundle(&crun_config());
    let pct_bundle = bundle(CONFIG);
    let out = dir.join("test.out");

    // No --runtime: the rule sends test-1 to crun, the default sends lxc-db-1 to Proxmox.
    let status = c.routed_to(
        &[
            "--config",
            &config,
            "create",
            "test-1",
            "--bundle",
            crun_bundle.path().to_str().unwrap(),
        ],
        &out,
    );
    assert!(
        status.success(),
        "{}",
        std::fs::read_to_string(&out).unwrap_or_default()
    );
    ok(&lxcri(
        &c,
        &[
            "--config",
            &config,
            "create",
            "lxc-db-1",
            "--bundle",
            pct_bundle.path().to_str().unwrap(),
        ],
    ));
    assert_eq!(
        runtimes(&c),
        vec![pair("lxc-db-1", "pct"), pair("test-1", "crun")]
    );
    assert_eq!(c.node.configs().len(), 1, "one Proxmox container");

    // The rules change; the containers keep their back ends, even against --runtime.
    let flipped = write_config(
        &dir,
        "flipped.toml",
        "default = \"crun\"\n\n[[route]]\nid = \"*\"\nruntime = \"pct\"\n",
    );
    for args in [
        &["--config", flipped.as_str(), "state", "test-1"][..],
        &[
            "--config",
            flipped.as_str(),
            "--runtime",
            "pct",
            "state",
            "test-1",
        ],
    ] {
        let state = state_json(&lxcri(&c, args));
        assert_eq!(state["status"], "created", "{state}");
        assert!(
            state["pid"].as_i64().is_some_and(|p| p > 0),
            "crun's init: {state}"
        );
    }
    let state = state_json(&lxcri(&c, &["--config", &flipped, "state", "lxc-db-1"]));
    assert_eq!(state["status"], "created", "{state}");
    assert_eq!(
        runtimes(&c),
        vec![pair("lxc-db-1", "pct"), pair("test-1", "crun")]
    );
    ok(&lxcri(
        &c,
        &["--config", &flipped, "delete", "--force", "test-1"],
    ));
    assert!(c.crun_dirs().is_empty(), "crun deleted its container");
    ok(&lxcri(&c, &["--config", &flipped, "delete", "lxc-db-1"]));
    assert_eq!(c.node.configs(), Vec::<String>::new());
    assert_eq!(c.node.records(), Vec::<String>::new());
}

#[test]
fn short_and_equals_forms_of_runtime_and_bundle() {
    let c = CrunNode::new();
    require(SIM_TOOLS);
    ensure_subids();
    let dir = c.node.dir.path().to_owned();
    // Everything to crun by default: only the command line can send a container to Proxmox.
    let config = write_config(&dir, "config.toml", "default = \"crun\"\n");
    let crun_bundle = bundle(&crun_config());
    let crun_b = crun_bundle.path().to_str().unwrap().to_owned();
    let pct_bundle = bundle(CONFIG);
    let pct_b = pct_bundle.path().to_str().unwrap().to_owned();
    let out = dir.join("forms.out");

    let b_eq = format!("-b={crun_b}");
    let bundle_eq = format!("--bundle={crun_b}");
    let forms: [(&str, Vec<&str>); 4] = [
        ("s1", vec!["create", "-r=crun", &b_eq, "s1"]),
        ("s2", vec!["create", "-r", "crun", "-b", &crun_b, "s2"]),
        ("s3", vec!["create", "s3", "--runtime=crun", &bundle_eq]),
        ("s4", vec!["--runtime=crun", "create", "-b", &crun_b, "s4"]),
    ];
    for (id, args) in &forms {
        let mut all = vec!["--config", config.as_str()];
        all.extend_from_slice(args);
        let status = c.routed_to(&all, &out);
        assert!(
            status.success(),
            "{id}: {}",
            std::fs::read_to_string(&out).unwrap_or_default()
        );
    }
    // The command line beats the default: `-r=pct` and `-b=DIR` make a Proxmox container.
    let pb_eq = format!("-b={pct_b}");
    ok(&lxcri(
        &c,
        &["--config", &config, "create", "-r=pct", &pb_eq, "p1"],
    ));
    assert_eq!(
        runtimes(&c),
        vec![
            pair("p1", "pct"),
            pair("s1", "crun"),
            pair("s2", "crun"),
            pair("s3", "crun"),
            pair("s4", "crun"),
        ]
    );
    // `-r` after `update` is still runc's --resources (a file), not the runtime.
    let err = fails(
        &lxcri(&c, &["update", "-r", "/nonexistent/resources.json", "s1"]),
        2,
    );
    assert!(err.contains("/nonexistent/resources.json"), "{err}");
    // A value that is not a back end is a usage error naming both.
    let err = fails(&lxcri(&c, &["create", "-r=lxc", "-b", &crun_b, "x"]), 2);
    assert!(
        err.contains("'lxc'") && err.contains("pct") && err.contains("crun"),
        "{err}"
    );
    for id in ["s1", "s2", "s3", "s4", "p1"] {
        ok(&lxcri(&c, &["delete", "--force", id]));
    }
    assert_eq!(c.node.records(), Vec::<String>::new());
}
