//! Checks a parsed document against the field table, in place.
//!
//! Every value of the wrong type, out of range, or unknown is reported and
//! removed, so the lowering that follows can trust the shape of what is left.

use super::fields::{Field, Int, Ty, CONFIG};
use crate::diag::{suggest, Capped, Diagnostic};
use crate::json::{Kind, NodeId, Tree, View};
use crate::rules::spec as rules;
use crate::source::{JsonPointer, Span};

/// Repeated findings are capped ([`Capped`]): a config of a million unknown
/// fields gets a thousand diagnostics and one with the count of the rest.
pub(crate) fn validate(tree: &mut Tree, diags: &mut Vec<Diagnostic>) {
    let mut capped = Capped::new(diags);
    check_root(tree, &mut capped);
    capped.finish();
}

fn check_root(tree: &mut Tree, diags: &mut Capped<'_>) {
    let ptr = JsonPointer::root();
    let root = tree.root();
    match tree.kind(root, View::Validated) {
        Kind::Object => check_object(tree, root, CONFIG, &ptr, diags),
        other => {
            diags.push(
                Diagnostic::new(
                    &rules::WRONG_TYPE,
                    format!(
                        "the config must be a JSON object, not {}",
                        other.type_name()
                    ),
                )
                .at(&ptr, tree.span(root)),
            );
        }
    }
}

/// The members of an object, as (key node, value node) pairs. Collected so
/// the tree can be marked while they are checked; 8 bytes a member.
fn members(tree: &Tree, id: NodeId) -> Vec<(NodeId, NodeId)> {
    tree.members(id, View::Validated)
        .map(|m| (m.key_id, m.value))
        .collect()
}

fn check_object(
    tree: &mut Tree,
    id: NodeId,
    fields: &'static [Field],
    ptr: &JsonPointer,
    diags: &mut Capped<'_>,
) {
    let span = tree.span(id);
    let members = members(tree, id);
    // Required fields that were present but invalid are already reported.
    let present: Vec<&'static str> = fields
        .iter()
        .filter(|f| f.required && members.iter().any(|(k, _)| tree.str(*k) == Some(f.name)))
        .map(|f| f.name)
        .collect();
    for (key_id, value) in members {
        let key = tree.str(key_id).unwrap_or_default();
        let here = ptr.push(key);
        let Some(field) = fields.iter().find(|f| f.name == key) else {
            let mut d = Diagnostic::new(
                &rules::UNKNOWN_FIELD,
                format!("`{key}` is not a field of the OCI runtime-spec here"),
            )
            .at(&here, tree.span(key_id))
            .with_label("unknown field");
            if let Some(s) = suggest(key, fields.iter().map(|f| f.name)) {
                d = d.with_help(format!("did you mean `{s}`?"));
            } else {
                d = d.with_help("runtimes ignore unknown fields; put extensions in `annotations`");
            }
            diags.push(d);
            tree.drop_member(key_id);
            continue;
        };
        // Go decodes `null` as "absent" for every optional field.
        if tree.kind(value, View::Validated) == Kind::Null && !field.required {
            tree.drop_member(key_id);
            continue;
        }
        if !check_value(tree, value, &field.ty, &here, diags) {
            tree.drop_member(key_id);
        }
    }
    for field in fields.iter().filter(|f| f.required) {
        if !present.contains(&field.name) {
            let what = if ptr.as_str().is_empty() {
                "the config".to_string()
            } else {
                format!("`{ptr}`")
            };
            diags.push(
                Diagnostic::new(
                    &rules::MISSING_FIELD,
                    format!("{what} lacks the required field `{}`", field.name),
                )
                .at(ptr, span)
                .with_label(format!("`{}` missing here", field.name)),
            );
        }
    }
}

/// Returns false when the value is unusable and must be dropped.
fn check_value(
    tree: &mut Tree,
    id: NodeId,
    ty: &'static Ty,
    ptr: &JsonPointer,
    diags: &mut Capped<'_>,
) -> bool {
    let span: Span = tree.span(id);
    let wrong = |diags: &mut Capped<'_>, expected: &str, found: &str| {
        diags.push(
            Diagnostic::new(
                &rules::WRONG_TYPE,
                format!("`{ptr}` must be {expected}, not {found}"),
            )
            .at(ptr, span)
            .with_label(format!("expected {expected}")),
        );
        false
    };
    let kind = tree.kind(id, View::Validated);
    match (ty, kind) {
        (Ty::Any, _) => true,
        (Ty::Bool, Kind::Bool) | (Ty::Str, Kind::String) => true,
        (Ty::Int(int), Kind::Number) => {
            match check_int(tree.number(id).unwrap_or_default(), *int) {
                Ok(()) => true,
                Err(why) => {
                    diags.push(
                        Diagnostic::new(
                            &rules::OUT_OF_RANGE,
                            format!("`{ptr}` must be an {}: {why}", int.name()),
                        )
                        .at(ptr, span)
                        .with_label(why),
                    );
                    false
                }
            }
        }
        (Ty::Enum(values), Kind::String) => {
            let s = tree.str(id).unwrap_or_default();
            if values.contains(&s) {
                true
            } else {
                let mut d = Diagnostic::new(
                    &rules::INVALID_VALUE,
                    format!("`{s}` is not a valid value for `{ptr}`"),
                )
                .at(ptr, span)
                .with_label("not allowed here");
                d = match suggest(s, values.iter().copied()) {
                    Some(hint) => d.with_help(format!("did you mean `{hint}`?")),
                    None => d.with_help(format!("one of: {}", values.join(", "))),
                };
                diags.push(d);
                false
            }
        }
        (Ty::Array(inner), Kind::Array) => {
            // Unusable items become null rather than being removed, so the
            // indices in later pointers still match the user's file.
            let items: Vec<NodeId> = tree.items(id).collect();
            for (index, item) in items.into_iter().enumerate() {
                if !check_value(tree, item, inner, &ptr.index(index), diags) {
                    tree.void_item(item);
                }
            }
            true
        }
        (Ty::Map(inner), Kind::Object) => {
            for (key_id, value) in members(tree, id) {
                let here = ptr.push(tree.str(key_id).unwrap_or_default());
                if !check_value(tree, value, inner, &here, diags) {
                    tree.drop_member(key_id);
                }
            }
            true
        }
        (Ty::Obj(fields), Kind::Object) => {
            check_object(tree, id, fields, ptr, diags);
            true
        }
        (Ty::Bool, k) => wrong(diags, "a boolean", k.type_name()),
        (Ty::Str | Ty::Enum(_), k) => wrong(diags, "a string", k.type_name()),
        (Ty::Int(int), k) => wrong(
            diags,
            &format!("an integer ({})", int.name()),
            k.type_name(),
        ),
        (Ty::Array(_), k) => wrong(diags, "an array", k.type_name()),
        (Ty::Map(_) | Ty::Obj(_), k) => wrong(diags, "an object", k.type_name()),
    }
}

fn check_int(raw: &str, int: Int) -> Result<(), String> {
    if raw.contains(['.', 'e', 'E']) {
        return Err(format!("{raw} is not a whole number"));
    }
    let (min, max) = int.range();
    match raw.parse::<i128>() {
        Ok(v) if v >= min && v <= max => Ok(()),
        _ => Err(format!("{raw} is outside {min}..={max}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) -> (Tree, Vec<String>) {
        let Some(mut tree) = crate::json::parse(text).tree else {
            panic!("{text} parses")
        };
        let mut diags = Vec::new();
        validate(&mut tree, &mut diags);
        (
            tree,
            diags
                .iter()
                .map(|d| {
                    format!(
                        "{} {} {}",
                        d.code(),
                        d.pointer.as_ref().map(|p| p.as_str()).unwrap_or(""),
                        d.message
                    )
                })
                .collect(),
        )
    }

    #[test]
    fn unknown_fields_get_suggestions() {
        let (_, d) = check(r#"{"ociVersion": "1.2.0", "hostnmae": "x"}"#);
        assert_eq!(d, vec!["spec/unknown-field /hostnmae `hostnmae` is not a field of the OCI runtime-spec here"]);
    }

    #[test]
    fn wrong_types_are_removed() {
        let (tree, d) = check(
            r#"{"ociVersion": "1.2.0", "process": {"cwd": "/", "user": {"uid": "0", "gid": 4294967296}}}"#,
        );
        assert_eq!(d.len(), 2, "{d:?}");
        assert!(d[0].starts_with("spec/wrong-type /process/user/uid"));
        assert!(d[1].starts_with("spec/out-of-range /process/user/gid"));
        let user = tree
            .get(tree.root(), "process", View::Validated)
            .and_then(|p| tree.get(p.value, "user", View::Validated));
        assert_eq!(
            user.map(|u| tree.members(u.value, View::Validated).count()),
            Some(0)
        );
        // The document as written is unchanged, for the JSON Schema check.
        assert_eq!(
            user.map(|u| tree.members(u.value, View::Written).count()),
            Some(2)
        );
    }

    #[test]
    fn missing_required_fields() {
        let (_, d) = check(r#"{"mounts": [{"source": "/x"}]}"#);
        assert_eq!(d.len(), 2, "{d:?}");
        assert!(d.iter().any(|l| l
            .starts_with("spec/missing-field  the config lacks the required field `ociVersion`")));
        assert!(d.iter().any(|l| l.starts_with(
            "spec/missing-field /mounts/0 `/mounts/0` lacks the required field `destination`"
        )));
    }

    #[test]
    fn enum_values_and_nulls() {
        let (_, d) = check(
            r#"{"ociVersion": "1.2.0", "linux": {"namespaces": [{"type": "networks"}], "resources": null}}"#,
        );
        assert_eq!(d.len(), 1);
        assert!(d[0].starts_with("spec/invalid-value /linux/namespaces/0/type"));
    }

    #[test]
    fn fractional_and_exponent_integers_refused() {
        let (_, d) =
            check(r#"{"ociVersion": "1.2.0", "process": {"cwd": "/", "oomScoreAdj": 1e3}}"#);
        assert!(
            d[0].starts_with("spec/out-of-range /process/oomScoreAdj"),
            "{d:?}"
        );
    }

    #[test]
    fn repeated_findings_are_capped_with_a_count() {
        let fields: Vec<String> = (0..5000).map(|i| format!("\"x{i}\": 1")).collect();
        let text = format!("{{\"ociVersion\": \"1.2.0\", {}}}", fields.join(", "));
        let Some(mut tree) = crate::json::parse(&text).tree else {
            panic!("parses")
        };
        let mut diags = Vec::new();
        validate(&mut tree, &mut diags);
        assert_eq!(diags.len(), crate::diag::MAX_PER_CODE + 1);
        let last = diags.last().map(|d| d.message.clone()).unwrap_or_default();
        assert!(
            last.starts_with("4000 more `spec/unknown-field` diagnostics"),
            "{last}"
        );
        assert_eq!(
            diags
                .last()
                .and_then(|d| d.pointer.as_ref())
                .map(|p| p.to_string()),
            Some("/x1000".to_string())
        );
    }

    #[test]
    fn a_capped_error_stays_an_error() {
        use crate::diag::{cap, Severity};
        let mut diags: Vec<Diagnostic> = (0..1500)
            .map(|i| {
                Diagnostic::new(&rules::UNKNOWN_FIELD, format!("{i}")).with_severity(if i == 1400 {
                    Severity::Error
                } else {
                    Severity::Warning
                })
            })
            .collect();
        cap(&mut diags);
        assert_eq!(diags.len(), crate::diag::MAX_PER_CODE + 1);
        assert!(crate::diag::has_errors(&diags));
        assert!(diags
            .last()
            .is_some_and(|d| d.message.starts_with("500 more")));
    }
}
