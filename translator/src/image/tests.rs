use serde_json::Value;

use super::*;
use crate::rules::{all_rules, Rule};

fn convert(config: &str, accounts: &Accounts) -> Converted {
    image_to_oci(ImageParts {
        name: "image config",
        config: config.as_bytes(),
        accounts,
        volumes: None,
    })
}

#[test]
fn volumes_become_mount_points_on_new_volumes_and_say_so() {
    let config = r#"{"architecture": "amd64", "os": "linux", "config": {"Cmd": ["/bin/db"],
        "Volumes": {"/var/lib/db": {}, "/srv/a,b": {}, "relative": {}}}}"#;
    let spec = VolumeSpec {
        storage: "local-lvm".into(),
        size_gib: 4,
    };
    let c = image_to_oci(ImageParts {
        name: "image config",
        config: config.as_bytes(),
        accounts: &app_accounts(),
        volumes: Some(&spec),
    });
    assert_eq!(c.volumes, ["/var/lib/db"]);
    let said: Vec<&str> = c.diagnostics.iter().map(|d| d.message.as_str()).collect();
    assert!(
        said.iter().any(|m| m.contains(
            "`/var/lib/db` becomes a mount point on a new 4 GiB volume on storage local-lvm"
        )),
        "{said:?}"
    );
    assert!(
        said.iter()
            .filter(|m| m.contains("cannot be a mount point"))
            .count()
            == 2,
        "{said:?}"
    );
    let mut ir = crate::ir::Container::default();
    add_volumes(&mut ir, &c.volumes, &spec);
    let points: Vec<(String, String)> = ir
        .mounts
        .points
        .iter()
        .map(|p| (p.source.value.clone(), p.target.value.as_str().to_owned()))
        .collect();
    assert_eq!(
        points,
        [("local-lvm:4".to_owned(), "/var/lib/db".to_owned())]
    );
    // Without a volume storage (a host-directory root file system) nothing is made.
    let c = convert(config, &app_accounts());
    assert!(c.volumes.is_empty());
}

fn codes(c: &Converted) -> Vec<&'static str> {
    c.diagnostics.iter().map(|d| d.code()).collect()
}

const TYPICAL: &str = r#"{
  "created": "2026-01-02T03:04:05Z",
  "architecture": "amd64",
  "os": "linux",
  "config": {
    "User": "app",
    "Env": ["PATH=/usr/bin:/bin", "GREETING=hi"],
    "Entrypoint": ["/bin/server"],
    "Cmd": ["--port", "8080"],
    "WorkingDir": "/srv",
    "StopSignal": "SIGINT",
    "Labels": {"org.opencontainers.image.created": "by label", "team": "web"}
  },
  "rootfs": {"type": "layers", "diff_ids": []},
  "history": []
}"#;

fn app_accounts() -> Accounts {
    Accounts::parse(
        Some(b"root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n"),
        Some(b"app:x:1000:\nweb:x:33:app\n"),
    )
}

#[test]
fn a_typical_image_converts_by_the_rules() {
    let c = convert(TYPICAL, &app_accounts());
    assert!(c.diagnostics.is_empty(), "{:?}", codes(&c));
    let spec: Value = serde_json::from_str(c.runtime_config.as_deref().unwrap()).unwrap();
    let p = &spec["process"];
    assert_eq!(
        p["args"],
        serde_json::json!(["/bin/server", "--port", "8080"])
    );
    assert_eq!(
        p["env"],
        serde_json::json!(["PATH=/usr/bin:/bin", "GREETING=hi", "HOME=/home/app"]),
        "the image's PATH is kept; HOME is added from passwd"
    );
    assert_eq!(p["cwd"], "/srv");
    assert_eq!(
        p["user"],
        serde_json::json!({"uid": 1000, "gid": 1000, "additionalGids": [33]})
    );
    let a = &spec["annotations"];
    assert_eq!(a["org.opencontainers.image.stopSignal"], "SIGINT");
    assert_eq!(a["org.opencontainers.image.os"], "linux");
    assert_eq!(
        a["org.opencontainers.image.created"], "by label",
        "labels win"
    );
    assert_eq!(a["team"], "web");
}

#[test]
fn the_result_is_a_runtime_config_the_translator_lowers() {
    let c = convert(TYPICAL, &app_accounts());
    let t = crate::oci_to_ir(
        "config.json",
        c.runtime_config.unwrap().as_bytes(),
        &crate::Target::default(),
    );
    assert!(!t.has_errors(), "{:#?}", t.diagnostics);
    let lossy: Vec<_> = t
        .diagnostics
        .iter()
        .filter(|d| d.code() == "pve/lossy")
        .map(|d| &d.message)
        .collect();
    assert!(
        !lossy.iter().any(|m| m.contains("capabilities")),
        "the defaults lose no capability on Proxmox: {lossy:?}"
    );
    let ir = t.ir.unwrap();
    let conf = crate::ir_to_pct_conf(&ir).unwrap();
    assert!(conf.contains("unprivileged: 1"), "{conf}");
}

#[test]
fn same_input_same_bytes() {
    let a = convert(TYPICAL, &app_accounts()).runtime_config;
    let b = convert(TYPICAL, &app_accounts()).runtime_config;
    assert_eq!(a, b);
}

#[test]
fn an_image_without_user_runs_as_root_with_a_default_path() {
    let c = convert(
        r#"{"os":"linux","config":{"Cmd":["/bin/sh"]}}"#,
        &Accounts::default(),
    );
    let spec: Value = serde_json::from_str(c.runtime_config.as_deref().unwrap()).unwrap();
    assert_eq!(
        spec["process"]["user"],
        serde_json::json!({"uid": 0, "gid": 0})
    );
    assert_eq!(
        spec["process"]["env"],
        serde_json::json!([format!("PATH={}", base::DEFAULT_PATH), "HOME=/root"])
    );
}

#[test]
fn findings_point_at_the_field_with_its_span() {
    let text = r#"{"os":"linux","config":{"Cmd":["/bin/sh"],"Volumes":{"/data":{}}}}"#;
    let c = convert(text, &Accounts::default());
    let d = c
        .diagnostics
        .iter()
        .find(|d| d.code() == "image/volume")
        .unwrap();
    assert_eq!(
        d.pointer.as_ref().unwrap().as_str(),
        "/config/Volumes/~1data"
    );
    assert_eq!(&text[d.span.start..d.span.end], "{}");
    assert!(c.runtime_config.is_some(), "a warning does not refuse");
}

#[test]
fn garbage_is_an_error_not_a_panic() {
    for bad in [
        "",
        "[]",
        "{",
        "\"x\"",
        "{\"os\":\"linux\",\"config\":[]}",
        "\u{0}",
    ] {
        let c = convert(bad, &Accounts::default());
        assert!(c.has_errors(), "{bad:?}");
        assert!(c.runtime_config.is_none());
    }
}

fn blocks(markdown: &str) -> Vec<&str> {
    markdown
        .split("```")
        .skip(1)
        .step_by(2)
        .filter_map(|b| b.strip_prefix("json\n"))
        .collect()
}

fn count(rule: &Rule, json: &str) -> usize {
    let accounts = app_accounts();
    convert(json, &accounts)
        .diagnostics
        .iter()
        .filter(|d| d.code() == rule.code)
        .count()
}

/// The lint stage's examples test runs runtime configs; an `image/` rule's examples are image
/// configs, run here: the bad one produces the finding, the good one does not.
#[test]
fn examples_do_what_they_say() {
    let mut wrong = Vec::new();
    for rule in all_rules().filter(|r| r.code.starts_with("image/")) {
        let (_, example) = rule.explanation.split_once("## Example\n").unwrap();
        let (bad, good) = example.split_once("Use instead").unwrap();
        for json in blocks(bad) {
            if count(rule, json) == 0 {
                wrong.push(format!(
                    "{}: bad example does not produce it: {json}",
                    rule.code
                ));
            }
        }
        for json in blocks(good) {
            let c = convert(json, &app_accounts());
            if count(rule, json) > 0 || c.has_errors() {
                wrong.push(format!(
                    "{}: good example is not clean: {:?}",
                    rule.code,
                    codes(&c)
                ));
            }
        }
        if blocks(bad).is_empty() || blocks(good).is_empty() {
            wrong.push(format!("{}: an example is missing", rule.code));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_layers_chain_id_is_an_annotation_no_label_overrides() {
    let with = |ids: &str, label: &str| {
        let doc = TYPICAL
            .replace(r#""diff_ids": []"#, &format!(r#""diff_ids": [{ids}]"#))
            .replace(r#""team": "web""#, label);
        let c = convert(&doc, &app_accounts());
        let spec: Value = serde_json::from_str(c.runtime_config.as_deref().unwrap()).unwrap();
        spec["annotations"][super::ROOTFS_ANNOTATION].clone()
    };
    let (a, b) = (
        format!("\"sha256:{}\"", "a".repeat(64)),
        format!("\"sha256:{}\"", "b".repeat(64)),
    );
    assert_eq!(
        with("", r#""team": "web""#),
        Value::Null,
        "no layers, no annotation"
    );
    // image-spec config.md: the ChainID of one layer is its DiffID.
    assert_eq!(
        with(&a, r#""team": "web""#),
        format!("sha256:{}", "a".repeat(64))
    );
    let two = with(&format!("{a}, {b}"), r#""team": "web""#);
    // sha256("sha256:aaa… sha256:bbb…"), computed with sha256sum.
    assert_eq!(
        two,
        "sha256:ccd722928bd92476ba1745586fed6e45a102504185ad88cd89e01ff116fd146c"
    );
    assert_ne!(
        two,
        with(&format!("{b}, {a}"), r#""team": "web""#),
        "the order counts"
    );
    let forged = format!(r#""{}": "sha256:x""#, super::ROOTFS_ANNOTATION);
    assert_eq!(
        with(&a, &forged),
        format!("sha256:{}", "a".repeat(64)),
        "a label cannot forge it"
    );
}
