//! `schemas/plan.schema.json` is generated from the plan types; this test
//! fails when the checked-in file and the types drift apart. After changing
//! the types, regenerate it with `UPDATE_SCHEMAS=1 cargo test --test plan_schema`
//! and review the diff.

use std::path::Path;

use translator::emit::plan::Plan;

#[test]
fn plan_schema_is_generated_from_the_types() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas/plan.schema.json");
    let generated = Plan::schema();
    if std::env::var_os("UPDATE_SCHEMAS").is_some() {
        if let Err(e) = std::fs::write(&path, &generated) {
            panic!("{}: {e}", path.display());
        }
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "{} differs from the schema of the plan types; run UPDATE_SCHEMAS=1 cargo test --test plan_schema and review the diff",
        path.display()
    );
}

#[test]
fn schema_describes_the_plan_format() {
    let schema: serde_json::Value = serde_json::from_str(&Plan::schema()).unwrap_or_default();
    assert_eq!(schema["title"], "Plan");
    let required = schema["required"].as_array().cloned().unwrap_or_default();
    for field in ["format", "source", "node", "pve-container", "steps"] {
        assert!(
            required.iter().any(|r| r == field),
            "{field} is not required: {schema:#}"
        );
    }
    let text = schema.to_string();
    for op in [
        "pack-rootfs",
        "allocate-vmid",
        "pct-create",
        "write-config-lines",
        "create-config",
        "write-file",
        "remove-template",
        "record-state",
    ] {
        assert!(
            text.contains(&format!("\"{op}\"")),
            "{op} missing from the schema"
        );
    }
}
