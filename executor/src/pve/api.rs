//! Proxmox's API parameter schema, for checking what a plan passes to `pct create` and writes
//! into a config before anything runs.
//!
//! The schema is the vendored `schemas/pve-lxc-config.json` (pve-docs `api-viewer/apidata.js`,
//! plus the pve-container changes made after that snapshot, `newer_than_api_schema`). The checks
//! follow pve-common's `PVE::JSONSchema::check_prop` (type, format, pattern, length, bounds,
//! enumeration; patterns anchored as `m/^$pattern$/`) and `parse_property_string` (`k=v,...`
//! with a default key, no duplicates, no unknown keys). A named format this module does not know
//! fails closed: nothing a plan says is let through unchecked.
//!
//! The test simulator (tests/sim) models the same checks with Proxmox's exact messages; this is
//! the executor's own, leaner copy, because a production crate must not depend on a test crate.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use regex::Regex;
use serde_json::Value;

const SCHEMA_JSON: &str = include_str!("../../../schemas/pve-lxc-config.json");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Type {
    String,
    Integer,
    Number,
    Boolean,
}

/// One parameter (or property-string key) of the schema.
#[derive(Debug, Clone)]
pub struct Prop {
    ty: Type,
    optional: bool,
    enumeration: Option<Vec<String>>,
    minimum: Option<f64>,
    maximum: Option<f64>,
    min_length: Option<usize>,
    max_length: Option<usize>,
    pattern: Option<Regex>,
    format: Option<Format>,
    default_key: bool,
}

#[derive(Debug, Clone)]
enum Format {
    Named(String),
    Props(BTreeMap<String, Prop>),
}

/// The parameters of `POST /nodes/{node}/lxc` (what `pct create` takes) and of
/// `PUT /nodes/{node}/lxc/{vmid}/config` (the keys of a config file), with the index limits of
/// `mpN`, `netN`, `devN`, `unusedN`.
#[derive(Debug)]
pub struct Api {
    create: BTreeMap<String, Prop>,
    config: BTreeMap<String, Prop>,
    max_index: BTreeMap<String, u64>,
}

/// The schema, parsed once. An error here is a broken build (the file is compiled in).
pub fn api() -> Result<&'static Api, String> {
    static API: OnceLock<Result<Api, String>> = OnceLock::new();
    API.get_or_init(load).as_ref().map_err(Clone::clone)
}

fn load() -> Result<Api, String> {
    let data: Value =
        serde_json::from_str(SCHEMA_JSON).map_err(|e| format!("pve-lxc-config.json: {e}"))?;
    let params = |endpoint: &str| -> Result<BTreeMap<String, Prop>, String> {
        let props = data["endpoints"][endpoint]["parameters"]["properties"]
            .as_object()
            .ok_or_else(|| format!("pve-lxc-config.json has no parameters of {endpoint}"))?;
        let mut out = BTreeMap::new();
        for (k, v) in props {
            out.insert(k.clone(), prop(k, v)?);
        }
        newer_than_snapshot(&data["newer_than_api_schema"], &mut out)?;
        Ok(out)
    };
    let max_index = data["pct_conf"]["max_index"]
        .as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_u64()?)))
                .collect()
        })
        .unwrap_or_default();
    Ok(Api {
        create: params("POST /nodes/{node}/lxc")?,
        config: params("PUT /nodes/{node}/lxc/{vmid}/config")?,
        max_index,
    })
}

/// The changes pve-container made after the apidata snapshot (per-mount `idmap` since 6.1.6,
/// the `entrypoint`/`env` patterns of 6.1.8): the executor checks against the newest API,
/// which is also what the translator writes for.
fn newer_than_snapshot(changes: &Value, props: &mut BTreeMap<String, Prop>) -> Result<(), String> {
    let Some(changes) = changes.as_object() else {
        return Ok(());
    };
    for (name, change) in changes {
        if let Some((key, sub)) = name.split_once(".format.") {
            if let (Some(p), Some(def)) = (props.get_mut(key), change.get("property")) {
                if let Some(Format::Props(fmt)) = &mut p.format {
                    fmt.insert(sub.to_owned(), prop(sub, def)?);
                }
            }
        } else if let Some(key) = name.strip_suffix(".pattern") {
            if let (Some(p), Some(pat)) = (
                props.get_mut(key),
                change.get("pattern").and_then(Value::as_str),
            ) {
                p.pattern = Some(anchored(pat)?);
            }
        }
    }
    Ok(())
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty() && s != "0",
        _ => false,
    }
}

fn prop(name: &str, v: &Value) -> Result<Prop, String> {
    let ty = match v["type"].as_str().unwrap_or("string") {
        "string" => Type::String,
        "integer" => Type::Integer,
        "number" => Type::Number,
        "boolean" => Type::Boolean,
        other => return Err(format!("{name}: type {other} is not a scalar")),
    };
    let format = match &v["format"] {
        Value::String(s) => Some(Format::Named(s.clone())),
        Value::Object(m) => {
            let mut sub = BTreeMap::new();
            for (k, p) in m {
                sub.insert(k.clone(), prop(k, p)?);
            }
            Some(Format::Props(sub))
        }
        _ => None,
    };
    let pattern = match v["pattern"].as_str() {
        Some(p) => Some(anchored(p)?),
        None => None,
    };
    Ok(Prop {
        ty,
        optional: truthy(&v["optional"]),
        enumeration: v["enum"].as_array().map(|a| {
            a.iter()
                .filter_map(|e| e.as_str().map(str::to_owned))
                .collect()
        }),
        minimum: number(&v["minimum"]),
        maximum: number(&v["maximum"]),
        min_length: v["minLength"]
            .as_u64()
            .and_then(|n| usize::try_from(n).ok()),
        max_length: v["maxLength"]
            .as_u64()
            .and_then(|n| usize::try_from(n).ok()),
        pattern,
        format,
        default_key: truthy(&v["default_key"]),
    })
}

/// A Perl pattern as Proxmox applies it (`m/^$pattern$/`; `$` also matches before a final
/// newline): `(?^flags:` groups become `(?flags:`, `\0` becomes `\x00`.
fn anchored(perl: &str) -> Result<Regex, String> {
    let mut out = String::with_capacity(perl.len() + 8);
    let mut chars = perl.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('0') if !chars.peek().is_some_and(char::is_ascii_digit) => {
                    out.push_str("\\x00")
                }
                Some(n) => {
                    out.push('\\');
                    out.push(n);
                }
                None => return Err(format!("pattern {perl:?} ends in a backslash")),
            },
            '(' if chars.peek() == Some(&'?') => {
                chars.next();
                out.push_str("(?");
                if chars.peek() == Some(&'^') {
                    chars.next();
                }
            }
            c => out.push(c),
        }
    }
    Regex::new(&format!("^(?:{out})\\n?\\z")).map_err(|e| format!("pattern {perl:?}: {e}"))
}

impl Api {
    /// The schema of `pct create --<key>`, `mp0` standing for `mp[n]` within its index limit.
    pub fn create_option(&self, key: &str) -> Option<&Prop> {
        lookup(&self.create, &self.max_index, key)
    }

    /// The schema of config key `key` (`PUT .../config` parameters).
    pub fn config_key(&self, key: &str) -> Option<&Prop> {
        lookup(&self.config, &self.max_index, key)
    }
}

fn lookup<'a>(
    props: &'a BTreeMap<String, Prop>,
    max_index: &BTreeMap<String, u64>,
    key: &str,
) -> Option<&'a Prop> {
    if let Some(p) = props.get(key) {
        return Some(p);
    }
    let digits = key.trim_start_matches(|c: char| c.is_ascii_lowercase());
    let base = &key[..key.len() - digits.len()];
    let canonical = digits.is_empty() || digits == "0" || !digits.starts_with('0');
    let n: u64 = digits
        .parse()
        .ok()
        .filter(|_| canonical && digits.bytes().all(|b| b.is_ascii_digit()))?;
    if n > *max_index.get(base)? {
        return None;
    }
    props.get(&format!("{base}[n]"))
}

impl Prop {
    /// `check_prop` of one value; the error says what is wrong.
    pub fn check(&self, value: &str) -> Result<(), String> {
        let ok = match self.ty {
            Type::String => true,
            Type::Boolean => value == "0" || value == "1",
            Type::Integer => is_integer(value),
            Type::Number => is_number(value),
        };
        if !ok {
            return Err(format!(
                "type check ('{}') failed - got '{value}'",
                self.type_name()
            ));
        }
        match &self.format {
            Some(Format::Named(name)) => check_named(name, value)?,
            Some(Format::Props(fmt)) => {
                parse_props(fmt, value)?;
            }
            None => {}
        }
        if let Some(re) = &self.pattern {
            if !re.is_match(value) {
                return Err("value does not match the regex pattern".into());
            }
        }
        let len = value.chars().count();
        if self.max_length.is_some_and(|m| len > m) {
            return Err(format!(
                "value may only be {} characters long",
                self.max_length.unwrap_or_default()
            ));
        }
        if self.min_length.is_some_and(|m| len < m) {
            return Err(format!(
                "value must be at least {} characters long",
                self.min_length.unwrap_or_default()
            ));
        }
        if let (true, Ok(v)) = (
            is_number(value),
            value.trim_end_matches('\n').parse::<f64>(),
        ) {
            if self.maximum.is_some_and(|m| v > m) || self.minimum.is_some_and(|m| v < m) {
                return Err(format!("value {value} is out of range"));
            }
        }
        if let Some(values) = &self.enumeration {
            if !values.iter().any(|e| e == value) {
                return Err(format!(
                    "value '{value}' does not have a value in the enumeration '{}'",
                    values.join(", ")
                ));
            }
        }
        Ok(())
    }

    fn type_name(&self) -> &'static str {
        match self.ty {
            Type::String => "string",
            Type::Integer => "integer",
            Type::Number => "number",
            Type::Boolean => "boolean",
        }
    }

    /// The keys and values of a property-string value (`volume=...,mp=...`), checked; `None`
    /// when this parameter is not a property string.
    pub fn properties(&self, value: &str) -> Option<Result<BTreeMap<String, String>, String>> {
        match &self.format {
            Some(Format::Props(fmt)) => Some(parse_props(fmt, value)),
            _ => None,
        }
    }
}

/// `parse_property_string`: parts split at `,`, `key=value` or a bare value for the default
/// key; unknown and duplicate keys refused; then every key checked, required ones present.
fn parse_props(
    fmt: &BTreeMap<String, Prop>,
    data: &str,
) -> Result<BTreeMap<String, String>, String> {
    let default_key = fmt
        .iter()
        .find(|(_, p)| p.default_key)
        .map(|(k, _)| k.as_str());
    let mut res = BTreeMap::new();
    for part in data.split(',') {
        if part.trim().is_empty() {
            continue;
        }
        let (key, value) = match part.split_once('=') {
            Some((k, v)) if !k.is_empty() && !v.is_empty() => (k, v),
            Some(_) => return Err("missing key in comma-separated list property".into()),
            None => match default_key {
                Some(dk) => (dk, part),
                None => {
                    return Err(
                        "value without key, but schema does not define a default key".into(),
                    )
                }
            },
        };
        if !fmt.contains_key(key) {
            return Err(format!(
                "invalid key in comma-separated list property: {key}"
            ));
        }
        if res.insert(key.to_owned(), value.to_owned()).is_some() {
            return Err(format!(
                "duplicate key in comma-separated list property: {key}"
            ));
        }
    }
    for (k, p) in fmt {
        match res.get(k) {
            Some(v) => p.check(v).map_err(|e| format!("{k}: {e}"))?,
            None if !p.optional => {
                return Err(format!("{k}: property is missing and it is not optional"))
            }
            None => {}
        }
    }
    Ok(res)
}

fn is_integer(v: &str) -> bool {
    let v = v.strip_suffix('\n').unwrap_or(v);
    let v = v.strip_prefix(['+', '-']).unwrap_or(v);
    !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit())
}

fn is_number(v: &str) -> bool {
    let v = v.strip_suffix('\n').unwrap_or(v);
    let v = v.strip_prefix(['+', '-']).unwrap_or(v);
    let (mantissa, exp) = match v.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e)),
        None => (v, None),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some((a, b)) => (a.len() + b.len()) > 0 && digits(a) && digits(b),
        None => !mantissa.is_empty() && digits(mantissa),
    };
    mantissa_ok && exp.is_none_or(|e| is_integer(e) && !e.ends_with('\n'))
}

fn re(cell: &'static OnceLock<Option<Regex>>, pattern: &str) -> Option<&'static Regex> {
    cell.get_or_init(|| Regex::new(pattern).ok()).as_ref()
}

macro_rules! matches_re {
    ($pattern:expr, $value:expr) => {{
        static CELL: OnceLock<Option<Regex>> = OnceLock::new();
        re(&CELL, $pattern).is_some_and(|r| r.is_match($value))
    }};
}

/// `PVE::Storage::parse_volume_id`: `<storage>:<name>`.
pub fn is_volume_id(v: &str) -> bool {
    matches_re!(r"(?i)^[a-z][a-z0-9\-_.]*[a-z0-9]:.+\n?\z", v)
}

fn cidr(v: &str, max: u8, addr_ok: impl Fn(&str) -> bool) -> bool {
    v.split_once('/').is_some_and(|(a, m)| {
        addr_ok(a) && m.parse::<u8>().is_ok_and(|m| m <= max) && !m.starts_with('+')
    })
}

fn ipv4(v: &str) -> bool {
    v.parse::<std::net::Ipv4Addr>().is_ok()
}

fn ipv6(v: &str) -> bool {
    v.parse::<std::net::Ipv6Addr>().is_ok()
}

/// `verify_lxc_mp_string` (pve-container `src/PVE/LXC/Config.pm`): no `.` or `..` component.
fn mp_string_ok(mp: &str) -> bool {
    !(mp.contains("/./")
        || mp.contains("/../")
        || mp.ends_with("/.")
        || mp.ends_with("/..")
        || mp.starts_with("../")
        || mp.starts_with("./")
        || mp == "."
        || mp == "..")
}

/// The named formats of the options a plan may use (pve-common `JSONSchema.pm`, pve-container
/// `Config.pm`). Anything else fails closed.
fn check_named(name: &str, v: &str) -> Result<(), String> {
    let ok = match name {
        "dns-name" => matches_re!(
            r"^(?:(?:[a-zA-Z0-9](?:[a-zA-Z0-9\-]*[a-zA-Z0-9])?)\.)*(?:[a-zA-Z0-9](?:[a-zA-Z0-9\-]*[a-zA-Z0-9])?)\n?\z",
            v
        ),
        "pve-tag-list" => {
            let tags: Vec<&str> = v.split([';', ',', ' ']).filter(|t| !t.is_empty()).collect();
            !tags.is_empty()
                && tags
                    .iter()
                    .all(|t| matches_re!(r"(?i)^[a-z0-9_][a-z0-9_\-+.]*\z", t))
        }
        "mac-addr" => matches_re!(r"(?i)^[a-f0-9][02468ace](?::[a-f0-9]{2}){5}\n?\z", v),
        "ipv4" => ipv4(v),
        "ipv6" => ipv6(v),
        "pve-ipv4-config" => v == "dhcp" || v == "manual" || cidr(v, 32, ipv4),
        "pve-ipv6-config" => v == "auto" || v == "dhcp" || v == "manual" || cidr(v, 128, ipv6),
        "disk-size" => matches_re!(r"^\d+(?:\.\d+)?[KMGT]?\n?\z", v),
        "pve-volume-id" => is_volume_id(v),
        "pve-lxc-mp-string" => mp_string_ok(v),
        "pve-lxc-dev-string" => mp_string_ok(v) && v.starts_with("/dev/"),
        other => return Err(format!("format `{other}` is not one this executor checks")),
    };
    if ok {
        Ok(())
    } else {
        Err(format!("value does not look like a valid {name}: {v:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(key: &str, value: &str) -> Result<(), String> {
        let api = api().unwrap();
        api.create_option(key)
            .ok_or_else(|| format!("no option {key}"))?
            .check(value)
    }

    #[test]
    fn options_the_translator_writes_pass() {
        for (k, v) in [
            ("arch", "amd64"),
            ("memory", "256"),
            ("cpulimit", "0.5"),
            ("hostname", "web-1"),
            ("tags", "nginx;web"),
            (
                "mp0",
                "/srv/www/site,mp=/usr/share/nginx/html,mountoptions=nodev;nosuid,ro=1",
            ),
            (
                "mp1",
                "local-lvm:1,mp=/data,idmap=u:0:100000:65536;g:0:100000:65536",
            ),
            (
                "net0",
                "name=eth0,bridge=vmbr0,host-managed=1,ip=dhcp,type=veth",
            ),
            ("rootfs", "local-lvm:8"),
            ("dev0", "/dev/null,mode=0666"),
            ("entrypoint", "nginx -g 'daemon off;'"),
            ("unprivileged", "1"),
            ("features", "nesting=1,mount=nfs;cifs"),
        ] {
            assert_eq!(check(k, v), Ok(()), "{k}={v}");
        }
    }

    #[test]
    fn values_proxmox_refuses_fail() {
        for (k, v) in [
            ("arch", "sparc"),
            ("memory", "8"),
            ("memory", "lots"),
            ("unprivileged", "yes"),
            ("hostname", "-bad"),
            ("mp0", "/a/../etc,mp=/x"),
            ("mp0", "/srv"),
            ("mp0", "/srv,mp=/x,hookscript=1"),
            ("mp0", "/srv,mp=/x,mp=/y"),
            ("net0", "name=eth0,ip=10.0.0.1"),
            ("dev0", "/etc/shadow"),
            ("entrypoint", "a\u{1}b"),
            ("tty", "7"),
        ] {
            assert!(check(k, v).is_err(), "{k}={v} passed");
        }
        let api = api().unwrap();
        assert!(api.create_option("mp256").is_none(), "index limit");
        assert!(api.create_option("mp01").is_none(), "non-canonical index");
        assert!(api.create_option("nosuch").is_none());
        assert!(api.create_option("mp255").is_some());
        assert!(api.config_key("lxc").is_none());
    }

    #[test]
    fn property_strings_come_back_as_maps() {
        let api = api().unwrap();
        let p = api
            .create_option("mp3")
            .unwrap()
            .properties("/srv,mp=/x,ro=1")
            .unwrap()
            .unwrap();
        assert_eq!(p.get("volume").map(String::as_str), Some("/srv"));
        assert_eq!(p.get("mp").map(String::as_str), Some("/x"));
        assert!(api
            .create_option("memory")
            .unwrap()
            .properties("5")
            .is_none());
    }

    #[test]
    fn perl_patterns() {
        let re = anchored("(?^:\\d+(?:;\\d+)*)").unwrap();
        assert!(
            re.is_match("1;2") && re.is_match("1\n") && !re.is_match("1;") && !re.is_match("x1")
        );
        assert!(anchored("a\\0b").unwrap().is_match("a\0b"));
        assert!(is_number("0.5") && is_number("1e3") && !is_number("1.2.3") && !is_number("."));
        assert!(is_integer("-4") && !is_integer("4.0"));
    }
}
