//! `schemas/target.schema.json` is generated from the `Target` type; this
//! test fails when the checked-in file and the type drift apart. Regenerate
//! with `UPDATE_SCHEMAS=1 cargo test --test target_schema` and review the diff.

use std::path::Path;

use translator::Target;

#[test]
fn target_schema_is_generated_from_the_type() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas/target.schema.json");
    let generated = Target::schema();
    if std::env::var_os("UPDATE_SCHEMAS").is_some() {
        if let Err(e) = std::fs::write(&path, &generated) {
            panic!("{}: {e}", path.display());
        }
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "{} differs from the Target type; run UPDATE_SCHEMAS=1 cargo test --test target_schema",
        path.display()
    );
}

/// The default target, and a host-path one, validate against the schema;
/// a file with a typo in a key does not.
#[test]
fn schema_accepts_targets_and_refuses_typos() {
    let schema: serde_json::Value = serde_json::from_str(&Target::schema()).unwrap_or_default();
    let validator = match jsonschema::validator_for(&schema) {
        Ok(v) => v,
        Err(e) => panic!("the target schema does not compile: {e}"),
    };
    let default = serde_json::to_value(Target::default()).unwrap_or_default();
    assert!(validator.is_valid(&default), "{default}");
    let host_path = serde_json::json!({"pve-container": "6.0.9", "rootfs": {"mode": "host-path"}, "bundle-dir": "/srv/bundles/web"});
    assert!(validator.is_valid(&host_path));
    assert!(Target::from_json(&host_path.to_string()).is_ok());
    let typo = serde_json::json!({"brigde": "vmbr1"});
    assert!(!validator.is_valid(&typo));
    assert!(Target::from_json(&typo.to_string()).is_err());
}
