//! Parameter validation with pve-common's `check_prop` / `check_object` semantics and messages.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use regex::Regex;

use crate::error::PveException;
use crate::formats;
use crate::propstring;
use crate::schema::{Format, ObjectSchema, Property, Type};

/// Per-path error messages (`$errors` hash).
pub type Errors = BTreeMap<String, String>;

/// `add_error`: a second error on the same path is joined with a literal backslash-n, exactly as
/// Proxmox's `join('\n', ...)` (single quotes) does.
pub fn add_error(errors: &mut Errors, path: &str, msg: &str) {
    let path = if path.is_empty() { "_root" } else { path };
    errors
        .entry(path.to_string())
        .and_modify(|existing| {
            existing.push_str("\\n");
            existing.push_str(msg);
        })
        .or_insert_with(|| msg.to_string());
}

fn number_re() -> Option<&'static Regex> {
    static CELL: OnceLock<Option<Regex>> = OnceLock::new();
    CELL.get_or_init(|| {
        Regex::new(r"^[+-]?(?:\d+\.\d+|\d+\.|\.\d+|\d+)(?:[eE][+-]?\d+)?\n?\z").ok()
    })
    .as_ref()
}

fn integer_re() -> Option<&'static Regex> {
    static CELL: OnceLock<Option<Regex>> = OnceLock::new();
    CELL.get_or_init(|| Regex::new(r"^[+-]?\d+\n?\z").ok())
        .as_ref()
}

/// `is_number`.
pub fn is_number(v: &str) -> bool {
    number_re().is_some_and(|r| r.is_match(v))
}

/// `is_integer`.
pub fn is_integer(v: &str) -> bool {
    integer_re().is_some_and(|r| r.is_match(v))
}

fn numeric_value(v: &str) -> Option<f64> {
    v.trim_end_matches('\n').parse().ok()
}

/// `check_type` for a scalar value (the CLI only ever passes strings).
fn check_type(path: &str, ty: Type, value: &str, errors: &mut Errors) -> bool {
    let ok = match ty {
        Type::String | Type::Any => true,
        Type::Boolean => value == "0" || value == "1",
        Type::Integer => is_integer(value),
        Type::Number => is_number(value),
        Type::Null => false,
        Type::Array | Type::Object => {
            add_error(
                errors,
                path,
                &format!("type check ('{}') failed", ty.name()),
            );
            return false;
        }
    };
    if !ok {
        let msg = if ty == Type::Null {
            "type check ('null') failed - value is not null".to_string()
        } else {
            format!("type check ('{}') failed - got '{value}'", ty.name())
        };
        add_error(errors, path, &msg);
    }
    ok
}

/// `check_format`: `Ok` or the text Proxmox dies with.
pub fn check_format(format: &Format, value: &str, path: Option<&str>) -> Result<(), String> {
    match format {
        Format::Named(name) => formats::check_named(name, value),
        Format::Props(fmt) => propstring::parse(fmt, value, path).map(|_| ()),
    }
}

/// `check_prop` for a scalar value.
pub fn check_prop(value: Option<&str>, prop: &Property, path: &str, errors: &mut Errors) {
    let Some(value) = value else {
        if !prop.optional {
            add_error(errors, path, "property is missing and it is not optional");
        }
        return;
    };
    if !check_type(path, prop.ty, value, errors) {
        return;
    }
    if let Some(format) = &prop.format {
        let sub_path = if path.is_empty() { None } else { Some(path) };
        if let Err(msg) = check_format(format, value, sub_path) {
            add_error(errors, path, &format!("invalid format - {msg}"));
            return;
        }
    }
    if let Some(pattern) = &prop.pattern {
        if !pattern.is_match(value) {
            add_error(errors, path, "value does not match the regex pattern");
            return;
        }
    }
    if let Some(max) = prop.max_length {
        if value.chars().count() > max {
            add_error(
                errors,
                path,
                &format!("value may only be {max} characters long"),
            );
            return;
        }
    }
    if let Some(min) = prop.min_length {
        if value.chars().count() < min {
            add_error(
                errors,
                path,
                &format!("value must be at least {min} characters long"),
            );
            return;
        }
    }
    if is_number(value) {
        if let (Some(max), Some(v)) = (&prop.maximum, numeric_value(value)) {
            if v > max.value {
                add_error(
                    errors,
                    path,
                    &format!("value must have a maximum value of {}", max.text),
                );
                return;
            }
        }
        if let (Some(min), Some(v)) = (&prop.minimum, numeric_value(value)) {
            if v < min.value {
                add_error(
                    errors,
                    path,
                    &format!("value must have a minimum value of {}", min.text),
                );
                return;
            }
        }
    }
    if let Some(values) = &prop.enumeration {
        if !values.iter().any(|e| e == value) {
            add_error(
                errors,
                path,
                &format!(
                    "value '{value}' does not have a value in the enumeration '{}'",
                    values.join(", ")
                ),
            );
        }
    }
}

/// `check_object` over a property map (used by property strings).
pub fn check_props(
    path: Option<&str>,
    props: &BTreeMap<String, Property>,
    values: &BTreeMap<String, String>,
    errors: &mut Errors,
) {
    let join = |k: &str| match path {
        Some(p) if !p.is_empty() => format!("{p}.{k}"),
        _ => k.to_string(),
    };
    for (k, prop) in props {
        check_prop(values.get(k).map(String::as_str), prop, &join(k), errors);
    }
    for k in values.keys() {
        match props.get(k) {
            Some(prop) => {
                if let Some(req) = &prop.requires {
                    if !values.contains_key(req) {
                        add_error(errors, &join(req), &format!("missing property required by '{}'", join(k)));
                    }
                }
            }
            None => add_error(
                errors,
                &join(k),
                "property is not defined in schema and the schema does not allow additional properties",
            ),
        }
    }
}

/// `PVE::JSONSchema::validate` of a method's parameters (`additionalProperties => 0`).
pub fn validate_params(
    params: &BTreeMap<String, String>,
    schema: &ObjectSchema,
) -> Result<(), PveException> {
    let mut errors = Errors::new();
    for (k, prop) in schema.required() {
        if !params.contains_key(k) {
            check_prop(None, prop, k, &mut errors);
        }
    }
    for (k, v) in params {
        match schema.get(k) {
            Some(prop) => {
                check_prop(Some(v), prop, k, &mut errors);
                if let Some(req) = &prop.requires {
                    if !params.contains_key(req) {
                        add_error(&mut errors, req, &format!("missing property required by '{k}'"));
                    }
                }
            }
            None => add_error(
                &mut errors,
                k,
                "property is not defined in schema and the schema does not allow additional properties",
            ),
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(PveException::param(errors))
    }
}
