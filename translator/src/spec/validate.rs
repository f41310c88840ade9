//! Checks a parsed document against the field table, in place.
//!
//! Every value of the wrong type, out of range, or unknown is reported and
//! removed, so the lowering that follows can trust the shape of what is left.

use super::fields::{Field, Int, Ty, CONFIG};
use crate::diag::Diagnostic;
use crate::json::{Member, Node, Value};
use crate::lint::spec as rules;
use crate::source::JsonPointer;

pub fn validate(root: &mut Node, diags: &mut Vec<Diagnostic>) {
    let ptr = JsonPointer::root();
    match &mut root.value {
        Value::Object(members) => check_object(members, CONFIG, &ptr, root.span, diags),
        other => {
            diags.push(
                Diagnostic::new(&rules::WRONG_TYPE, format!("the config must be a JSON object, not {}", other.type_name()))
                    .at(&ptr, root.span),
            );
            *other = Value::Object(Vec::new());
        }
    }
}

fn check_object(members: &mut Vec<Member>, fields: &'static [Field], ptr: &JsonPointer, span: crate::source::Span, diags: &mut Vec<Diagnostic>) {
    // Required fields that were present but invalid are already reported.
    let present: Vec<&'static str> =
        fields.iter().filter(|f| f.required && members.iter().any(|m| m.key == f.name)).map(|f| f.name).collect();
    members.retain_mut(|m| {
        let here = ptr.push(&m.key);
        let Some(field) = fields.iter().find(|f| f.name == m.key) else {
            let mut d = Diagnostic::new(&rules::UNKNOWN_FIELD, format!("`{}` is not a field of the OCI runtime-spec here", m.key))
                .at(&here, m.key_span)
                .with_label("unknown field");
            if let Some(s) = suggest(&m.key, fields.iter().map(|f| f.name)) {
                d = d.with_help(format!("did you mean `{s}`?"));
            } else {
                d = d.with_help("runtimes ignore unknown fields; put extensions in `annotations`");
            }
            diags.push(d);
            return false;
        };
        // Go decodes `null` as "absent" for every optional field.
        if matches!(m.value.value, Value::Null) && !field.required {
            return false;
        }
        check_value(&mut m.value, &field.ty, &here, diags)
    });
    for field in fields.iter().filter(|f| f.required) {
        if !present.contains(&field.name) {
            let what = if ptr.as_str().is_empty() { "the config".to_string() } else { format!("`{ptr}`") };
            diags.push(
                Diagnostic::new(&rules::MISSING_FIELD, format!("{what} lacks the required field `{}`", field.name))
                    .at(ptr, span)
                    .with_label(format!("`{}` missing here", field.name)),
            );
        }
    }
}

/// Returns false when the value is unusable and must be dropped.
fn check_value(node: &mut Node, ty: &'static Ty, ptr: &JsonPointer, diags: &mut Vec<Diagnostic>) -> bool {
    let span = node.span;
    let wrong = |diags: &mut Vec<Diagnostic>, expected: &str, found: &str| {
        diags.push(
            Diagnostic::new(&rules::WRONG_TYPE, format!("`{ptr}` must be {expected}, not {found}"))
                .at(ptr, span)
                .with_label(format!("expected {expected}")),
        );
        false
    };
    match (ty, &mut node.value) {
        (Ty::Any, _) => true,
        (Ty::Bool, Value::Bool(_)) | (Ty::Str, Value::String(_)) => true,
        (Ty::Int(int), Value::Number(raw)) => match check_int(raw, *int) {
            Ok(()) => true,
            Err(why) => {
                diags.push(
                    Diagnostic::new(&rules::OUT_OF_RANGE, format!("`{ptr}` must be an {}: {why}", int.name()))
                        .at(ptr, span)
                        .with_label(why),
                );
                false
            }
        },
        (Ty::Enum(values), Value::String(s)) => {
            if values.contains(&s.as_str()) {
                true
            } else {
                let mut d = Diagnostic::new(&rules::INVALID_VALUE, format!("`{s}` is not a valid value for `{ptr}`"))
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
        (Ty::Array(inner), Value::Array(items)) => {
            // Unusable items become null rather than being removed, so the
            // indices in later pointers still match the user's file.
            for (index, item) in items.iter_mut().enumerate() {
                if !check_value(item, inner, &ptr.index(index), diags) {
                    item.value = Value::Null;
                }
            }
            true
        }
        (Ty::Map(inner), Value::Object(members)) => {
            members.retain_mut(|m| check_value(&mut m.value, inner, &ptr.push(&m.key), diags));
            true
        }
        (Ty::Obj(fields), Value::Object(members)) => {
            check_object(members, fields, ptr, span, diags);
            true
        }
        (Ty::Bool, v) => wrong(diags, "a boolean", v.type_name()),
        (Ty::Str | Ty::Enum(_), v) => wrong(diags, "a string", v.type_name()),
        (Ty::Int(int), v) => wrong(diags, &format!("an integer ({})", int.name()), v.type_name()),
        (Ty::Array(_), v) => wrong(diags, "an array", v.type_name()),
        (Ty::Map(_) | Ty::Obj(_), v) => wrong(diags, "an object", v.type_name()),
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

/// The closest candidate within a small edit distance, for "did you mean".
pub fn suggest<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let lower = word.to_ascii_lowercase();
    candidates
        .map(|c| (edit_distance(&lower, &c.to_ascii_lowercase()), c))
        .filter(|(d, c)| *d <= (c.len() / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev.get(j).copied().unwrap_or(0) + usize::from(ca != *cb);
            let del = prev.get(j + 1).copied().unwrap_or(0) + 1;
            let ins = cur.get(j).copied().unwrap_or(0) + 1;
            if let Some(slot) = cur.get_mut(j + 1) {
                *slot = sub.min(del).min(ins);
            }
        }
        prev = cur;
    }
    prev.last().copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) -> (Node, Vec<String>) {
        let mut root = crate::json::parse(text).root.unwrap_or(Node { span: crate::source::Span::UNDEFINED, value: Value::Null });
        let mut diags = Vec::new();
        validate(&mut root, &mut diags);
        (root, diags.iter().map(|d| format!("{} {} {}", d.code(), d.pointer.as_ref().map(|p| p.as_str()).unwrap_or(""), d.message)).collect())
    }

    #[test]
    fn unknown_fields_get_suggestions() {
        let (_, d) = check(r#"{"ociVersion": "1.2.0", "hostnmae": "x"}"#);
        assert_eq!(d, vec!["spec/unknown-field /hostnmae `hostnmae` is not a field of the OCI runtime-spec here"]);
    }

    #[test]
    fn wrong_types_are_removed() {
        let (root, d) = check(r#"{"ociVersion": "1.2.0", "process": {"cwd": "/", "user": {"uid": "0", "gid": 4294967296}}}"#);
        assert_eq!(d.len(), 2, "{d:?}");
        assert!(d[0].starts_with("spec/wrong-type /process/user/uid"));
        assert!(d[1].starts_with("spec/out-of-range /process/user/gid"));
        let user = root.get("process").and_then(|p| p.get("user"));
        assert_eq!(user.map(|u| matches!(&u.value, Value::Object(m) if m.is_empty())), Some(true));
    }

    #[test]
    fn missing_required_fields() {
        let (_, d) = check(r#"{"mounts": [{"source": "/x"}]}"#);
        assert_eq!(d.len(), 2, "{d:?}");
        assert!(d.iter().any(|l| l.starts_with("spec/missing-field  the config lacks the required field `ociVersion`")));
        assert!(d.iter().any(|l| l.starts_with("spec/missing-field /mounts/0 `/mounts/0` lacks the required field `destination`")));
    }

    #[test]
    fn enum_values_and_nulls() {
        let (_, d) = check(r#"{"ociVersion": "1.2.0", "linux": {"namespaces": [{"type": "networks"}], "resources": null}}"#);
        assert_eq!(d.len(), 1);
        assert!(d[0].starts_with("spec/invalid-value /linux/namespaces/0/type"));
    }

    #[test]
    fn fractional_and_exponent_integers_refused() {
        let (_, d) = check(r#"{"ociVersion": "1.2.0", "process": {"cwd": "/", "oomScoreAdj": 1e3}}"#);
        assert!(d[0].starts_with("spec/out-of-range /process/oomScoreAdj"), "{d:?}");
    }
}
