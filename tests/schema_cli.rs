//! `proxmox-lxcri schema`: the schemas the help names are in the binary, byte for byte the
//! vendored and generated files, and the policy schema agrees with the policy reader.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_proxmox-lxcri");

fn schema(name: Option<&str>) -> (i32, String, String) {
    let out = Command::new(BIN)
        .arg("schema")
        .args(name)
        .output()
        .expect("run proxmox-lxcri");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn every_schema_is_the_file_it_names() {
    for (name, file) in [
        ("plan", "schemas/plan.schema.json"),
        ("target", "schemas/target.schema.json"),
        ("policy", "schemas/policy.schema.json"),
        (
            "runtime-spec",
            "schemas/runtime-spec/bundled/config-schema-v1.3.json",
        ),
        (
            "runtime-spec-1.0",
            "schemas/runtime-spec/bundled/config-schema-v1.0.json",
        ),
        (
            "runtime-spec-1.2",
            "schemas/runtime-spec/bundled/config-schema-v1.2.json",
        ),
    ] {
        let (code, out, err) = schema(Some(name));
        assert_eq!(code, 0, "{name}: {err}");
        let want = std::fs::read_to_string(file).unwrap();
        assert_eq!(out.trim_end(), want.trim_end(), "{name}");
        serde_json::from_str::<serde_json::Value>(&out).expect("JSON");
    }
    let (code, list, _) = schema(None);
    assert_eq!(code, 0);
    for name in [
        "plan",
        "target",
        "policy",
        "runtime-spec-1.1",
        "runtime-spec-1.3",
    ] {
        assert!(list.lines().any(|l| l.starts_with(name)), "{list}");
    }
    let (code, out, err) = schema(Some("sarif"));
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(
        err.contains("no schema named `sarif`") && err.contains("plan, target"),
        "{err}"
    );
}

fn validator() -> jsonschema::Validator {
    let text = std::fs::read_to_string("schemas/policy.schema.json").unwrap();
    jsonschema::validator_for(&serde_json::from_str(&text).unwrap()).unwrap()
}

fn as_json(toml_text: &str) -> serde_json::Value {
    let value: toml::Value = toml::from_str(toml_text).unwrap();
    serde_json::to_value(value).unwrap()
}

#[test]
fn the_policy_schema_accepts_the_example_with_every_setting_enabled() {
    let example = std::fs::read_to_string("docs/policy.example.toml").unwrap();
    // `#key = …` lines (no space after the `#`) are the settings one can enable.
    let enabled: String = example
        .lines()
        .map(|l| match l.strip_prefix('#') {
            Some(rest) if !rest.starts_with([' ', '#']) && !rest.is_empty() => rest,
            _ => l,
        })
        .map(|l| format!("{l}\n"))
        .collect();
    let v = validator();
    for text in [&example, &enabled] {
        translator::policy::Policy::from_toml(text).expect("the reader accepts it");
        let errors: Vec<String> = v
            .iter_errors(&as_json(text))
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{errors:?}\n{text}");
    }
}

#[test]
fn the_policy_schema_refuses_what_the_reader_refuses() {
    let v = validator();
    for bad in [
        "refuse = []\n", // no version
        "version = 2\n", // an unknown format
        "version = 1\nrefuse-severity = \"fatal\"\n",
        "version = 1\nrefuses = [\"security/privileged\"]\n",
        "version = 1\n[pct]\nrefuse-severity = \"info\"\n",
        "version = 1\nallow = \"security/*\"\n", // not a list
        "version = 1\n[lxc]\nallow = []\n",
        "version = 1\n[exec]\nroot = \"never\"\n",
        "version = 1\n[exec]\nrlimits = \"lower\"\n",
        "version = 1\n[exec]\nrefuse = []\n",
    ] {
        assert!(
            translator::policy::Policy::from_toml(bad).is_err(),
            "the reader accepts {bad:?}"
        );
        assert!(!v.is_valid(&as_json(bad)), "the schema accepts {bad:?}");
    }
}
