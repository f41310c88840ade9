//! Property strings (`k=v,k=v`): pve-common's `parse_property_string` / `print_property_string`.

use std::collections::BTreeMap;

use crate::error::PveException;
use crate::formats::{self, parse_boolean};
use crate::schema::{Format, PropFormat, Type};
use crate::validate::{self, Errors};

/// A parsed property string. Booleans are normalised to "0"/"1" as `parse_boolean` does.
pub type PropMap = BTreeMap<String, String>;

/// `parse_property_string($format, $data, $path)`. The error is the text Proxmox dies with.
pub fn parse(format: &PropFormat, data: &str, path: Option<&str>) -> Result<PropMap, String> {
    let mut res = PropMap::new();
    let mut default_key_used: Option<String> = None;
    for part in data.split(',') {
        if part.chars().all(formats::is_perl_space) {
            continue;
        }
        if let Some((k, v)) = split_key_value(part) {
            if res.contains_key(k) {
                return Err(format!(
                    "duplicate key in comma-separated list property: {k}\n"
                ));
            }
            let Some(schema) = format.props.get(k) else {
                return Err(format!(
                    "invalid key in comma-separated list property: {k}\n"
                ));
            };
            res.insert(k.to_string(), normalise_bool(schema.ty, v));
        } else if !part.contains('=') {
            if let Some(dk) = &default_key_used {
                return Err(format!(
                    "duplicate key in comma-separated list property: {dk}\n"
                ));
            }
            let Some(dk) = format.default_key() else {
                return Err("value without key, but schema does not define a default key\n".into());
            };
            default_key_used = Some(dk.to_string());
            if res.get(dk).is_some_and(|v| perl_true(v)) {
                return Err(format!(
                    "duplicate key in comma-separated list property: {dk}\n"
                ));
            }
            let ty = format.props.get(dk).map(|p| p.ty).unwrap_or(Type::String);
            res.insert(dk.to_string(), normalise_bool(ty, part));
        } else {
            return Err("missing key in comma-separated list property\n".into());
        }
    }
    let mut errors = Errors::new();
    validate::check_props(path, &format.props, &res, &mut errors);
    if !errors.is_empty() {
        let e = PveException {
            code: None,
            msg: "format error\n".into(),
            errors,
            usage: None,
            preamble: String::new(),
        };
        return Err(e.render());
    }
    Ok(res)
}

/// `^([^=]+)=(.+)$`: a non-empty key without `=`, then a non-empty value.
fn split_key_value(part: &str) -> Option<(&str, &str)> {
    let (k, v) = part.split_once('=')?;
    if k.is_empty() || v.is_empty() || v == "\n" {
        return None;
    }
    Some((k, v.strip_suffix('\n').unwrap_or(v)))
}

fn normalise_bool(ty: Type, v: &str) -> String {
    if ty == Type::Boolean {
        if let Some(b) = parse_boolean(v) {
            return if b { "1".into() } else { "0".into() };
        }
    }
    v.to_string()
}

/// Perl truthiness of a string.
fn perl_true(v: &str) -> bool {
    !v.is_empty() && v != "0"
}

/// `print_property_string($data, $format, $skip)`: default key first (bare), then the required
/// keys, then the rest, each group sorted.
pub fn print(data: &PropMap, format: &PropFormat, skip: &[&str]) -> Result<String, String> {
    let mut errors = Errors::new();
    for (k, prop) in &format.props {
        if skip.contains(&k.as_str()) {
            continue;
        }
        validate::check_prop(data.get(k).map(String::as_str), prop, k, &mut errors);
    }
    if !errors.is_empty() {
        let e = PveException {
            code: None,
            msg: "format error\n".into(),
            errors,
            usage: None,
            preamble: String::new(),
        };
        return Err(e.render());
    }
    let render = |key: &str, bare: bool| -> Result<Option<String>, String> {
        let Some(value) = data.get(key) else {
            return Ok(None);
        };
        let Some(prop) = format.props.get(key) else {
            return Err(format!("invalid key '{key}'\n"));
        };
        let text = match &prop.format {
            Some(Format::Named(n)) if n == "disk-size" => match value.parse::<u64>() {
                Ok(bytes) => formats::format_size(bytes),
                Err(_) => value.clone(),
            },
            _ => {
                if value.contains(',') {
                    return Err(format!("illegal value with commas for {key}\n"));
                }
                value.clone()
            }
        };
        Ok(Some(if bare { text } else { format!("{key}={text}") }))
    };
    let mut order: Vec<(&str, bool)> = Vec::new();
    if let Some(dk) = format.default_key() {
        order.push((dk, true));
    }
    for key in data.keys() {
        if format.props.get(key).is_some_and(|p| !p.optional) {
            order.push((key, false));
        }
    }
    for key in data.keys() {
        order.push((key, false));
    }
    let mut out: Vec<String> = Vec::new();
    let mut done: Vec<&str> = skip.to_vec();
    for (key, bare) in order {
        if done.contains(&key) {
            continue;
        }
        done.push(key);
        if let Some(text) = render(key, bare)? {
            out.push(text);
        }
    }
    Ok(out.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::schemas;

    fn fmt(key: &str) -> std::sync::Arc<PropFormat> {
        match &schemas().unwrap().create.get(key).unwrap().format {
            Some(Format::Props(f)) => f.clone(),
            _ => panic!("{key} is a property string"),
        }
    }

    #[test]
    fn net_prints_in_canonical_order() {
        let f = fmt("net0");
        let m = parse(
            &f,
            "bridge=vmbr0,ip=dhcp,name=eth0,firewall=yes",
            Some("net0"),
        )
        .unwrap();
        assert_eq!(
            print(&m, &f, &[]).unwrap(),
            "name=eth0,bridge=vmbr0,firewall=1,ip=dhcp"
        );
    }

    #[test]
    fn mountpoint_default_key_then_required_mp() {
        let f = fmt("mp0");
        let m = parse(&f, "ro=1,mp=/data,local:100/x.raw", None).unwrap();
        assert_eq!(print(&m, &f, &[]).unwrap(), "local:100/x.raw,mp=/data,ro=1");
    }

    #[test]
    fn refusals_carry_proxmox_messages() {
        let f = fmt("net0");
        assert_eq!(
            parse(&f, "name=eth0,foo=1", Some("net0")).unwrap_err(),
            "invalid key in comma-separated list property: foo\n"
        );
        assert_eq!(
            parse(&f, "name=eth0,name=eth1", Some("net0")).unwrap_err(),
            "duplicate key in comma-separated list property: name\n"
        );
        assert_eq!(
            parse(&f, "eth0", Some("net0")).unwrap_err(),
            "value without key, but schema does not define a default key\n"
        );
        assert_eq!(
            parse(&f, "bridge=vmbr0", Some("net0")).unwrap_err(),
            "format error\nnet0.name: property is missing and it is not optional\n"
        );
        let r = fmt("rootfs");
        assert_eq!(
            parse(&r, "local:8,local:9", None).unwrap_err(),
            "duplicate key in comma-separated list property: volume\n"
        );
        assert_eq!(
            parse(&r, "size=", None).unwrap_err(),
            "missing key in comma-separated list property\n"
        );
    }
}
