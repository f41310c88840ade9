//! An independent checker for the pct.conf text we emit: Proxmox's line
//! grammar (`parse_pct_config`, proxmox-facts §2.1), the canonical layout
//! `write_pct_config` produces (§2.2), the API schema of every normal key
//! (schemas/pve-lxc-config.json) and the raw-key allow-list from the same file.
//!
//! It deliberately shares no code with the writer it checks. It is stricter
//! than Proxmox where Proxmox would merely warn: a line Proxmox warns about is
//! a line it drops on the next write.

use serde_json::Value;

const SCHEMA_TEXT: &str = include_str!("../../../schemas/pve-lxc-config.json");

/// Raw keys that make the host run a program, read or write a host file, or
/// weaken confinement beyond the profile: never derived from a bundle.
const DANGEROUS_RAW_PREFIXES: &[&str] = &[
    "lxc.hook.",
    "lxc.include",
    "lxc.log.file",
    "lxc.console.logfile",
    "lxc.mount.fstab",
    "lxc.apparmor.raw",
    "lxc.seccomp.notify.proxy",
];

/// Bidirectional-text controls: invisible, they make a reviewed line read
/// differently from what it does ("Trojan Source").
pub const BIDI_CONTROLS: &[char] = &[
    '\u{061c}', '\u{200e}', '\u{200f}', '\u{202a}', '\u{202b}', '\u{202c}', '\u{202d}', '\u{202e}',
    '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}',
];

/// A control character in the sense: C0 (except TAB, which Proxmox's
/// own `entrypoint`/`env` patterns allow), DEL, C1, and the bidi controls.
pub fn is_forbidden_char(c: char) -> bool {
    (c.is_control() && c != '\t') || BIDI_CONTROLS.contains(&c)
}

pub struct Schema {
    /// PUT /nodes/{node}/lxc/{vmid}/config properties that are config keys.
    props: serde_json::Map<String, Value>,
    allowed: Vec<String>,
    prefixes: Vec<String>,
    max_index: serde_json::Map<String, Value>,
}

impl Schema {
    pub fn load() -> Schema {
        let data: Value = serde_json::from_str(SCHEMA_TEXT).unwrap_or(Value::Null);
        let mut props = data["endpoints"]["PUT /nodes/{node}/lxc/{vmid}/config"]["parameters"]
            ["properties"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        for api_only in ["delete", "digest", "node", "vmid", "revert"] {
            props.remove(api_only);
        }
        assert!(props.contains_key("rootfs"), "schema data not found");
        let strings = |v: &Value| {
            v.as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|s| s.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default()
        };
        let raw = &data["pct_conf"]["raw_lxc_keys"];
        Schema {
            props,
            allowed: strings(&raw["allowed"]),
            prefixes: strings(&raw["allowed_prefixes"]),
            max_index: data["pct_conf"]["max_index"]
                .as_object()
                .cloned()
                .unwrap_or_default(),
        }
    }

    /// The schema property for a config key (`net3` → `net[n]`).
    fn property(&self, key: &str) -> Result<&Value, String> {
        if let Some(p) = self.props.get(key) {
            return Ok(p);
        }
        let base = key.trim_end_matches(|c: char| c.is_ascii_digit());
        let digits = &key[base.len()..];
        if digits.is_empty() || (digits.len() > 1 && digits.starts_with('0')) {
            return Err(format!("unknown key `{key}`"));
        }
        let p = self
            .props
            .get(&format!("{base}[n]"))
            .ok_or_else(|| format!("unknown key `{key}`"))?;
        let index: u64 = digits
            .parse()
            .map_err(|_| format!("bad index in `{key}`"))?;
        let max = self
            .max_index
            .get(base)
            .and_then(Value::as_u64)
            .unwrap_or(0);
        if index > max {
            return Err(format!("`{key}`: index above {base}{max}"));
        }
        Ok(p)
    }

    fn raw_allowed(&self, key: &str) -> bool {
        self.allowed.iter().any(|k| k == key)
            || self
                .prefixes
                .iter()
                .any(|p| key.starts_with(p.as_str()) && key.len() > p.len())
    }
}

fn is_integer(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn is_number(s: &str) -> bool {
    match s.split_once('.') {
        Some((a, b)) => is_integer(a) && is_integer(b),
        None => is_integer(s),
    }
}

/// Checks one value against a (simple or property-string) schema property.
fn check_typed(what: &str, value: &str, prop: &Value) -> Result<(), String> {
    let bad = |why: &str| Err(format!("{what}: `{}` {why}", value.escape_debug()));
    if let Some(format) = prop.get("format").and_then(Value::as_object) {
        return check_property_string(what, value, format);
    }
    if let Some(values) = prop.get("enum").and_then(Value::as_array) {
        if !values.iter().any(|v| v.as_str() == Some(value)) {
            return bad("is not one of the schema's values");
        }
    }
    let ty = prop.get("type").and_then(Value::as_str).unwrap_or("string");
    let range = |v: f64| {
        let min = prop.get("minimum").and_then(Value::as_f64);
        let max = prop.get("maximum").and_then(Value::as_f64);
        min.is_none_or(|m| v >= m) && max.is_none_or(|m| v <= m)
    };
    match ty {
        "boolean" if value != "0" && value != "1" => return bad("is not 0 or 1"),
        "integer" if !is_integer(value) => return bad("is not an integer"),
        "number" if !is_number(value) => return bad("is not a number"),
        "integer" | "number" if !value.parse::<f64>().is_ok_and(range) => {
            return bad("is out of the schema's range")
        }
        _ => {}
    }
    if let Some(max) = prop.get("maxLength").and_then(Value::as_u64) {
        if value.chars().count() as u64 > max {
            return bad("is longer than the schema allows");
        }
    }
    match prop.get("format").and_then(Value::as_str) {
        Some("dns-name") => {
            let ok = value.split('.').all(|l| {
                !l.is_empty()
                    && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    && !l.starts_with('-')
                    && !l.ends_with('-')
            });
            if !ok {
                return bad("is not a dns-name");
            }
        }
        Some("pve-tag-list") => {
            let ok = value.split(';').all(|t| {
                let mut b = t.bytes();
                b.next()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_')
                    && b.all(|c| c.is_ascii_alphanumeric() || b"_-+.".contains(&c))
            });
            if !ok {
                return bad("is not a tag list");
            }
        }
        _ => {}
    }
    Ok(())
}

/// `[default=]v,k=v,...`: Proxmox's canonical property string (§2.3).
fn check_property_string(
    what: &str,
    value: &str,
    format: &serde_json::Map<String, Value>,
) -> Result<(), String> {
    let default_key = format
        .iter()
        .find(|(_, p)| p.get("default_key").and_then(Value::as_u64) == Some(1))
        .map(|(k, _)| k.as_str());
    let mut seen: Vec<&str> = Vec::new();
    for (i, part) in value.split(',').enumerate() {
        let (k, v) = match part.split_once('=') {
            Some((k, v)) if format.contains_key(k) => (k, v),
            _ if i == 0 && default_key.is_some() => (default_key.unwrap_or_default(), part),
            _ => {
                return Err(format!(
                    "{what}: `{}` is not `key=value` with a known key",
                    part.escape_debug()
                ))
            }
        };
        if v.is_empty() {
            return Err(format!("{what}: `{k}` has an empty value"));
        }
        if seen.contains(&k) {
            return Err(format!("{what}: `{k}` appears twice"));
        }
        seen.push(k);
        if let Some(p) = format.get(k) {
            check_typed(&format!("{what} {k}"), v, p)?;
        }
    }
    for (k, p) in format {
        let optional =
            p.get("optional").and_then(Value::as_u64) == Some(1) || p.get("default_key").is_some();
        if !optional && !seen.contains(&k.as_str()) {
            return Err(format!("{what}: the required `{k}` is missing"));
        }
    }
    Ok(())
}

/// `NAME=value`, Proxmox's `env` pattern (pve-container 6.1.8).
fn check_env(what: &str, value: &str) -> Result<(), String> {
    match value.split_once('=') {
        Some((name, _))
            if !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_') =>
        {
            Ok(())
        }
        _ => Err(format!(
            "{what}: `{}` is not NAME=value",
            value.escape_debug()
        )),
    }
}

#[derive(PartialEq, PartialOrd, Clone, Copy, Debug)]
enum Part {
    Description,
    Keys,
    Env,
    Raw,
}

/// Checks a whole pct.conf text; the error names the first bad line.
pub fn check(schema: &Schema, text: &str) -> Result<(), String> {
    if text.is_empty() {
        return Err("empty config".into());
    }
    // pmxcfs (pve-cluster memdb.h, MEMDB_MAX_FILE_SIZE) stores at most 1 MiB per file.
    if text.len() > 1024 * 1024 {
        return Err(format!("{} bytes: larger than pmxcfs stores", text.len()));
    }
    let Some(body) = text.strip_suffix('\n') else {
        return Err("the last line has no newline".into());
    };
    let mut part = Part::Description;
    let mut last_key: Option<&str> = None;
    for (n, line) in body.split('\n').enumerate() {
        let at = |why: String| format!("line {}: {why}: {:?}", n + 1, line);
        if let Some(c) = line.chars().find(|c| is_forbidden_char(*c)) {
            return Err(at(format!("control character {c:?}")));
        }
        if line.trim().is_empty() {
            return Err(at(
                "blank line (Proxmox starts a new section after one)".into()
            ));
        }
        if let Some(comment) = line.strip_prefix('#') {
            if part != Part::Description {
                return Err(at("a description line after the keys".into()));
            }
            // encode_text escapes everything outside 0x20–0x7e, and `:`.
            if comment
                .bytes()
                .any(|b| b == b':' || !(0x20..=0x7e).contains(&b))
            {
                return Err(at(
                    "description not encoded as Proxmox's encode_text does".into()
                ));
            }
            continue;
        }
        if line.starts_with('[') {
            return Err(at("a section header".into()));
        }
        let Some((key, value)) = line.split_once(": ") else {
            return Err(at("not `key: value`".into()));
        };
        // A raw key may be empty (`lxc.cap.drop: ` clears LXC's list): Proxmox
        // parses it with `(.*?)` and writes it back as `key: ` unchanged. A
        // normal key's pattern needs at least one character.
        let empty_ok = key.starts_with("lxc.") && value.is_empty();
        if (value.is_empty() && !empty_ok) || value.trim() != value {
            return Err(at("empty value, or white space Proxmox would trim".into()));
        }
        if key.starts_with("lxc.") {
            if !key
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-.".contains(&b))
            {
                return Err(at("raw key outside Proxmox's key pattern".into()));
            }
            if key == "lxc.environment.runtime" {
                if part > Part::Env {
                    return Err(at("env line after raw lines".into()));
                }
                part = Part::Env;
                check_env(key, value).map_err(at)?;
                continue;
            }
            if !schema.raw_allowed(key) {
                return Err(at(format!(
                    "`{key}` is not on Proxmox's raw-key allow-list"
                )));
            }
            if let Some(p) = DANGEROUS_RAW_PREFIXES.iter().find(|p| key.starts_with(*p)) {
                return Err(at(format!(
                    "`{p}` keys run or touch host files and must never come from a bundle"
                )));
            }
            if key == "lxc.environment" {
                check_env(key, value).map_err(at)?;
            }
            part = Part::Raw;
            continue;
        }
        // A normal key: `^([a-z][a-z_]*\d*):\s*(.+?)\s*$`.
        let well_formed = key.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
            && key
                .trim_end_matches(|c: char| c.is_ascii_digit())
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'_');
        if !well_formed {
            return Err(at("not a Proxmox key".into()));
        }
        if part > Part::Keys {
            return Err(at("normal key after env or raw lines".into()));
        }
        part = Part::Keys;
        if last_key.is_some_and(|k| k.as_bytes() >= key.as_bytes()) {
            return Err(at(
                "keys not in Proxmox's byte-wise sorted order, or repeated".into(),
            ));
        }
        last_key = Some(key);
        let prop = schema.property(key).map_err(at)?;
        check_typed(key, value, prop).map_err(at)?;
    }
    for required in ["arch", "memory", "ostype"] {
        if !text.starts_with(&format!("{required}: ")) && !text.contains(&format!("\n{required}: "))
        {
            return Err(format!("the required key `{required}` is missing"));
        }
    }
    Ok(())
}
