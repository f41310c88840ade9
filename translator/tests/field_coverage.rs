//! Every property path of the runtime-spec JSON Schema (1.0 through 1.3) has
//! a rule in the field table, and the table names nothing the schema lacks.
//! A field added to the spec without a rule fails here.

use std::collections::BTreeSet;

use serde_json::Value;
use translator::spec::fields::{self, Field, Handling, Ty};

const SCHEMAS: &[(&str, &str)] = &[
    (
        "1.0",
        include_str!("../../schemas/runtime-spec/bundled/config-schema-v1.0.json"),
    ),
    (
        "1.1",
        include_str!("../../schemas/runtime-spec/bundled/config-schema-v1.1.json"),
    ),
    (
        "1.2",
        include_str!("../../schemas/runtime-spec/bundled/config-schema-v1.2.json"),
    ),
    (
        "1.3",
        include_str!("../../schemas/runtime-spec/bundled/config-schema-v1.3.json"),
    ),
];

/// Collects property paths, following internal `$ref`s (`#/definitions/…`).
fn schema_paths(root: &Value) -> BTreeSet<String> {
    fn resolve<'a>(root: &'a Value, node: &'a Value) -> &'a Value {
        let mut node = node;
        for _ in 0..32 {
            match node.get("$ref").and_then(Value::as_str) {
                Some(r) => {
                    let ptr = r.trim_start_matches('#');
                    match root.pointer(ptr) {
                        Some(target) => node = target,
                        None => panic!("unresolved $ref {r}"),
                    }
                }
                None => break,
            }
        }
        node
    }
    fn walk(root: &Value, node: &Value, path: &str, out: &mut BTreeSet<String>, depth: usize) {
        if depth > 24 {
            return;
        }
        let node = resolve(root, node);
        for key in ["oneOf", "anyOf", "allOf"] {
            if let Some(alts) = node.get(key).and_then(Value::as_array) {
                for alt in alts {
                    walk(root, alt, path, out, depth + 1);
                }
            }
        }
        if let Some(props) = node.get("properties").and_then(Value::as_object) {
            for (name, sub) in props {
                let p = format!("{path}/{name}");
                out.insert(p.clone());
                walk(root, sub, &p, out, depth + 1);
            }
        }
        if let Some(items) = node.get("items") {
            let p = format!("{path}/*");
            out.insert(p.clone());
            walk(root, items, &p, out, depth + 1);
        }
        let mut map_values: Vec<&Value> = Vec::new();
        if let Some(ap) = node.get("additionalProperties").filter(|v| v.is_object()) {
            map_values.push(ap);
        }
        if let Some(pp) = node.get("patternProperties").and_then(Value::as_object) {
            map_values.extend(pp.values());
        }
        for v in map_values {
            let p = format!("{path}/*");
            out.insert(p.clone());
            walk(root, v, &p, out, depth + 1);
        }
    }
    let mut out = BTreeSet::new();
    walk(root, root, "", &mut out, 0);
    out
}

/// Whether the table has a rule for `path`: the path itself, or an ancestor
/// whose handling covers its whole subtree.
fn has_rule(path: &str) -> Result<(), String> {
    let mut fields: &'static [Field] = fields::CONFIG;
    let mut ty: Option<&'static Ty> = None;
    for seg in path.split('/').skip(1) {
        let next_ty = match (ty, seg) {
            (None, _) | (Some(Ty::Obj(_)), _) => {
                let Some(f) = fields.iter().find(|f| f.name == seg) else {
                    return Err(format!("no rule for `{seg}` in {path}"));
                };
                if matches!(f.handling, Handling::Unsupported(_) | Handling::Ignored(_))
                    || matches!(f.ty, Ty::Any)
                {
                    return Ok(());
                }
                &f.ty
            }
            (Some(Ty::Array(inner) | Ty::Map(inner)), "*") => inner,
            (Some(other), _) => return Err(format!("{path}: the table says {other:?} here")),
        };
        if let Ty::Obj(f) = next_ty {
            fields = f;
        }
        ty = Some(next_ty);
    }
    Ok(())
}

#[test]
fn every_schema_path_has_a_rule() {
    let mut missing = Vec::new();
    for (version, text) in SCHEMAS {
        let schema: Value = serde_json::from_str(text).unwrap_or(Value::Null);
        let paths = schema_paths(&schema);
        assert!(
            paths.len() > 100,
            "{version}: only {} paths: is the schema bundled?",
            paths.len()
        );
        for p in &paths {
            if let Err(e) = has_rule(p) {
                missing.push(format!("{version}: {e}"));
            }
        }
    }
    missing.dedup();
    assert!(
        missing.is_empty(),
        "schema paths without a rule:\n{}",
        missing.join("\n")
    );
}

/// A table path matches a schema path segment by segment; the table's `*`
/// (a map value or array item) also matches a property the schema names
/// (the schema spells `linux.timeOffsets` as two named clocks).
fn matches(table: &str, schema: &str) -> bool {
    let (a, b): (Vec<&str>, Vec<&str>) = (table.split('/').collect(), schema.split('/').collect());
    a.len() == b.len() && a.iter().zip(&b).all(|(x, y)| x == y || *x == "*")
}

#[test]
fn every_table_path_is_in_the_schema() {
    // Fields removed later (intelRdt.enableCMT/enableMBM in 1.3) stay in the
    // table: configs written for 1.1 or 1.2 still carry them.
    let mut all = BTreeSet::new();
    for (_, text) in SCHEMAS {
        let schema: Value = serde_json::from_str(text).unwrap_or(Value::Null);
        all.extend(schema_paths(&schema));
    }
    let extra: Vec<String> = fields::paths()
        .into_iter()
        .map(|(p, _)| p)
        .filter(|p| !all.iter().any(|s| matches(p, s)))
        .collect();
    assert!(
        extra.is_empty(),
        "the table has fields no schema from 1.0 to 1.3 has:\n{}",
        extra.join("\n")
    );
}

#[test]
fn the_checker_can_fail() {
    assert!(has_rule("/process/user/uid").is_ok());
    assert!(has_rule("/hooks/prestart/*/path").is_ok());
    assert!(has_rule("/process/usr").is_err());
    assert!(has_rule("/linux/resources/cpu/shares/x").is_err());
    assert!(!matches("/a/*", "/a/b/c"));
}
