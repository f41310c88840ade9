//! The Proxmox API parameter schemas, read from the vendored `schemas/pve-lxc-config.json`.
//!
//! The file holds the REST parameter schemas copied from pve-docs `apidata.js`, the changes made
//! to pve-container after that snapshot (`newer_than_api_schema`, applied here), and pct.conf
//! facts (`pct_conf`: raw `lxc.*` key lists, indexed key limits).

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use regex::Regex;
use serde_json::Value;

use crate::error::{SimError, SimResult};
use crate::perl_regex;
use crate::versions::Version;

const SCHEMA_JSON: &str = include_str!("../../../schemas/pve-lxc-config.json");

/// JSON-schema `type` as PVE uses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    String,
    Integer,
    Number,
    Boolean,
    Array,
    Object,
    Null,
    Any,
}

impl Type {
    fn parse(s: &str) -> SimResult<Self> {
        Ok(match s {
            "string" => Type::String,
            "integer" => Type::Integer,
            "number" => Type::Number,
            "boolean" => Type::Boolean,
            "array" => Type::Array,
            "object" => Type::Object,
            "null" => Type::Null,
            "any" => Type::Any,
            other => return Err(SimError::Schema(format!("unknown type '{other}'"))),
        })
    }

    /// The name used in "type check ('integer') failed" messages.
    pub fn name(self) -> &'static str {
        match self {
            Type::String => "string",
            Type::Integer => "integer",
            Type::Number => "number",
            Type::Boolean => "boolean",
            Type::Array => "array",
            Type::Object => "object",
            Type::Null => "null",
            Type::Any => "any",
        }
    }
}

/// A numeric bound, kept with its original text because Proxmox prints the schema value as is.
#[derive(Debug, Clone)]
pub struct Bound {
    pub value: f64,
    pub text: String,
}

/// A `format`: a registered name (`dns-name`, `pve-tag-list`, ...) or a property-string format.
#[derive(Debug, Clone)]
pub enum Format {
    Named(String),
    Props(Arc<PropFormat>),
}

/// A property-string format: the keys allowed in `k=v,k=v`.
#[derive(Debug, Clone, Default)]
pub struct PropFormat {
    pub props: BTreeMap<String, Property>,
}

impl PropFormat {
    /// The key that may be given without `key=`.
    pub fn default_key(&self) -> Option<&str> {
        self.props
            .iter()
            .find(|(_, p)| p.default_key)
            .map(|(k, _)| k.as_str())
    }
}

/// One property of a parameter schema or property-string format.
#[derive(Debug, Clone)]
pub struct Property {
    pub ty: Type,
    pub optional: bool,
    pub format: Option<Format>,
    pub pattern: Option<Regex>,
    pub min_length: Option<usize>,
    pub max_length: Option<usize>,
    pub minimum: Option<Bound>,
    pub maximum: Option<Bound>,
    pub enumeration: Option<Vec<String>>,
    pub default_key: bool,
    pub requires: Option<String>,
    pub default: Option<Value>,
}

impl Property {
    fn from_json(name: &str, v: &Value) -> SimResult<Self> {
        let obj = v
            .as_object()
            .ok_or_else(|| SimError::Schema(format!("property '{name}' is not an object")))?;
        let ty = match obj.get("type").and_then(Value::as_str) {
            Some(t) => Type::parse(t)?,
            None => Type::Any,
        };
        let format = match obj.get("format") {
            None => None,
            Some(Value::String(s)) => Some(Format::Named(s.clone())),
            Some(Value::Object(m)) => {
                let mut props = BTreeMap::new();
                for (k, sub) in m {
                    props.insert(k.clone(), Property::from_json(&format!("{name}.{k}"), sub)?);
                }
                Some(Format::Props(Arc::new(PropFormat { props })))
            }
            Some(_) => return Err(SimError::Schema(format!("property '{name}': bad format"))),
        };
        let pattern = match obj.get("pattern").and_then(Value::as_str) {
            Some(p) => Some(
                perl_regex::anchored(p).map_err(|e| SimError::Schema(format!("{name}: {e}")))?,
            ),
            None => None,
        };
        Ok(Property {
            ty,
            optional: truthy(obj.get("optional")),
            format,
            pattern,
            min_length: obj.get("minLength").and_then(as_usize),
            max_length: obj.get("maxLength").and_then(as_usize),
            minimum: obj.get("minimum").and_then(as_bound),
            maximum: obj.get("maximum").and_then(as_bound),
            enumeration: obj.get("enum").and_then(Value::as_array).map(|a| {
                a.iter()
                    .map(|x| {
                        x.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| x.to_string())
                    })
                    .collect()
            }),
            default_key: truthy(obj.get("default_key")),
            requires: obj
                .get("requires")
                .and_then(Value::as_str)
                .map(str::to_string),
            default: obj.get("default").cloned(),
        })
    }
}

fn truthy(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        Some(Value::String(s)) => !s.is_empty() && s != "0",
        _ => false,
    }
}

fn as_usize(v: &Value) -> Option<usize> {
    match v {
        Value::Number(n) => n.as_u64().and_then(|u| usize::try_from(u).ok()),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn as_bound(v: &Value) -> Option<Bound> {
    match v {
        Value::Number(n) => Some(Bound {
            value: n.as_f64()?,
            text: n.to_string(),
        }),
        Value::String(s) => Some(Bound {
            value: s.parse().ok()?,
            text: s.clone(),
        }),
        _ => None,
    }
}

/// An indexed key family (`net[n]` → `net0`..`net31`).
#[derive(Debug, Clone)]
struct Indexed {
    prefix: String,
    max: u32,
    prop: Property,
}

/// A method's parameter schema (an object with `additionalProperties: 0`).
#[derive(Debug, Clone, Default)]
pub struct ObjectSchema {
    plain: BTreeMap<String, Property>,
    indexed: Vec<Indexed>,
}

impl ObjectSchema {
    fn from_json(properties: &Value, max_index: &BTreeMap<String, u32>) -> SimResult<Self> {
        let obj = properties
            .as_object()
            .ok_or_else(|| SimError::Schema("properties is not an object".into()))?;
        let mut schema = ObjectSchema::default();
        for (k, v) in obj {
            let prop = Property::from_json(k, v)?;
            if let Some(prefix) = k.strip_suffix("[n]") {
                let max = *max_index
                    .get(prefix)
                    .ok_or_else(|| SimError::Schema(format!("no max index for '{k}'")))?;
                schema.indexed.push(Indexed {
                    prefix: prefix.to_string(),
                    max,
                    prop,
                });
            } else {
                schema.plain.insert(k.clone(), prop);
            }
        }
        Ok(schema)
    }

    /// The schema of a concrete key (`memory`, `net3`, ...).
    pub fn get(&self, key: &str) -> Option<&Property> {
        if let Some(p) = self.plain.get(key) {
            return Some(p);
        }
        self.indexed.iter().find_map(|ix| {
            let digits = key.strip_prefix(ix.prefix.as_str())?;
            let index = canonical_index(digits)?;
            (index <= ix.max).then_some(&ix.prop)
        })
    }

    /// Every concrete key, sorted byte-wise.
    pub fn keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self.plain.keys().cloned().collect();
        for ix in &self.indexed {
            for i in 0..=ix.max {
                keys.push(format!("{}{i}", ix.prefix));
            }
        }
        keys.sort();
        keys
    }

    /// Properties that are not optional (checked for presence).
    pub fn required(&self) -> impl Iterator<Item = (&String, &Property)> {
        self.plain.iter().filter(|(_, p)| !p.optional)
    }

    /// A copy without the given keys (URI and fixed parameters).
    /// Removes an indexed key family (`dev` → `dev0`..`dev255`).
    pub fn drop_indexed(&mut self, prefix: &str) {
        self.indexed.retain(|i| i.prefix != prefix);
    }

    pub fn without(&self, drop: &[&str]) -> Self {
        let mut s = self.clone();
        for d in drop {
            s.plain.remove(*d);
        }
        s
    }

    /// A copy with extra properties (CLI-only ones, such as `pct status --verbose`).
    pub fn with(&self, extra: Vec<(&str, Property)>) -> Self {
        let mut s = self.clone();
        for (k, p) in extra {
            s.plain.insert(k.to_string(), p);
        }
        s
    }

    fn plain_mut(&mut self, key: &str) -> Option<&mut Property> {
        if let Some(p) = self.plain.get_mut(key) {
            return Some(p);
        }
        let prefix = key.strip_suffix("[n]")?;
        self.indexed
            .iter_mut()
            .find(|ix| ix.prefix == prefix)
            .map(|ix| &mut ix.prop)
    }
}

/// `"12"` → 12, refusing leading zeros (`net01` is not a key: Proxmox generates `net$i`).
fn canonical_index(digits: &str) -> Option<u32> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if digits.len() > 1 && digits.starts_with('0') {
        return None;
    }
    digits.parse().ok()
}

/// A simple property (for CLI-only parameters not in the vendored file).
pub fn simple(ty: Type, optional: bool) -> Property {
    Property {
        ty,
        optional,
        format: None,
        pattern: None,
        min_length: None,
        max_length: None,
        minimum: None,
        maximum: None,
        enumeration: None,
        default_key: false,
        requires: None,
        default: None,
    }
}

/// Raw `lxc.*` key lists from Config.pm.
#[derive(Debug, Clone, Default)]
pub struct RawKeyLists {
    pub allowed: Vec<String>,
    pub allowed_prefixes: Vec<String>,
    pub warned_prefixes: BTreeMap<String, String>,
    pub refused: BTreeMap<String, String>,
    pub renamed: BTreeMap<String, String>,
}

/// All schemas the simulator validates against.
#[derive(Debug)]
pub struct Schemas {
    /// POST /nodes/{node}/lxc (`pct create`).
    pub create: ObjectSchema,
    /// PUT /nodes/{node}/lxc/{vmid}/config (`pct set`).
    pub update: ObjectSchema,
    /// GET /nodes/{node}/lxc/{vmid}/config (`pct config`).
    pub config: ObjectSchema,
    /// DELETE /nodes/{node}/lxc/{vmid} (`pct destroy`).
    pub destroy: ObjectSchema,
    pub status_current: ObjectSchema,
    pub start: ObjectSchema,
    pub stop: ObjectSchema,
    pub shutdown: ObjectSchema,
    pub reboot: ObjectSchema,
    pub list: ObjectSchema,
    /// GET /cluster/nextid.
    pub nextid: ObjectSchema,
    /// Config.pm `$confdesc`: the keys a pct.conf may hold (checked on read).
    pub confdesc: ObjectSchema,
    pub raw_keys: RawKeyLists,
}

static SCHEMAS: OnceLock<Result<Schemas, String>> = OnceLock::new();

/// The parsed schemas (parsed once per process).
pub fn schemas() -> SimResult<&'static Schemas> {
    SCHEMAS
        .get_or_init(|| load().map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| SimError::Schema(e.clone()))
}

fn load() -> SimResult<Schemas> {
    let root: Value = serde_json::from_str(SCHEMA_JSON)
        .map_err(|e| SimError::Schema(format!("invalid JSON: {e}")))?;
    let pct_conf = root
        .get("pct_conf")
        .ok_or_else(|| SimError::Schema("no pct_conf".into()))?;
    let mut max_index = BTreeMap::new();
    if let Some(m) = pct_conf.get("max_index").and_then(Value::as_object) {
        for (k, v) in m {
            let n = v
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| SimError::Schema(format!("bad max_index for {k}")))?;
            max_index.insert(k.clone(), n);
        }
    }
    let endpoint = |name: &str| -> SimResult<ObjectSchema> {
        let props = root
            .get("endpoints")
            .and_then(|e| e.get(name))
            .and_then(|e| e.get("parameters"))
            .and_then(|p| p.get("properties"))
            .ok_or_else(|| SimError::Schema(format!("no endpoint '{name}'")))?;
        ObjectSchema::from_json(props, &max_index)
    };

    let mut create = endpoint("POST /nodes/{node}/lxc")?;
    let mut update = endpoint("PUT /nodes/{node}/lxc/{vmid}/config")?;
    // The snapshot is one pve-container's schema; the node's is that one moved forward by the
    // changes made since (those its version has) or back by those made before it.
    let versions = crate::versions::current()?;
    let node = versions.pve_container;
    let newer = root.get("newer_than_api_schema").and_then(Value::as_object);
    if let Some(newer) = newer {
        for (path, change) in newer {
            if path.starts_with('_') {
                continue;
            }
            if node < change_version(path, change, "version")? {
                continue;
            }
            apply_change(&mut create, path, change)?;
            apply_change(&mut update, path, change)?;
        }
    }
    let mut older: Vec<(Version, &str, &Value)> = Vec::new();
    let entries = root
        .get("older_than_api_schema")
        .and_then(|o| o.get("entries"))
        .and_then(Value::as_array)
        .ok_or_else(|| SimError::Schema("no older_than_api_schema entries".into()))?;
    for entry in entries {
        let path = entry.get("path").and_then(Value::as_str).ok_or_else(|| {
            SimError::Schema(format!("older_than_api_schema: no path in {entry}"))
        })?;
        let before = change_version(path, entry, "before")?;
        if node < before {
            older.push((before, path, entry));
        }
    }
    // The newest first, so that of two entries for one path the older release's is left.
    older.sort_by(|a, b| b.0.cmp(&a.0));
    for (_, path, entry) in older {
        apply_older(&mut create, path, entry)?;
        apply_older(&mut update, path, entry)?;
    }

    // Keys the node's pve-container does not have yet are absent from both the API schema and
    // `$confdesc` (see `versions`).
    if !versions.has_devices() {
        create.drop_indexed("dev");
        update.drop_indexed("dev");
    }

    let mut confdesc = update.without(&["node", "vmid", "delete", "revert", "digest"]);
    let mut parent = simple(Type::String, true);
    parent.format = Some(Format::Named("pve-configid".into()));
    parent.max_length = Some(40);
    confdesc.plain.insert("parent".into(), parent);
    let mut snaptime = simple(Type::Integer, true);
    snaptime.minimum = Some(Bound {
        value: 0.0,
        text: "0".into(),
    });
    confdesc.plain.insert("snaptime".into(), snaptime);

    Ok(Schemas {
        create,
        update,
        config: endpoint("GET /nodes/{node}/lxc/{vmid}/config")?,
        destroy: endpoint("DELETE /nodes/{node}/lxc/{vmid}")?,
        status_current: endpoint("GET /nodes/{node}/lxc/{vmid}/status/current")?,
        start: endpoint("POST /nodes/{node}/lxc/{vmid}/status/start")?,
        stop: endpoint("POST /nodes/{node}/lxc/{vmid}/status/stop")?,
        shutdown: endpoint("POST /nodes/{node}/lxc/{vmid}/status/shutdown")?,
        reboot: endpoint("POST /nodes/{node}/lxc/{vmid}/status/reboot")?,
        list: endpoint("GET /nodes/{node}/lxc")?,
        nextid: endpoint("GET /cluster/nextid")?,
        confdesc,
        raw_keys: raw_key_lists(pct_conf)?,
    })
}

/// The pve-container version (`field`: `version` of a newer change, `before` of an older one).
fn change_version(path: &str, change: &Value, field: &str) -> SimResult<Version> {
    change
        .get(field)
        .and_then(Value::as_str)
        .and_then(Version::parse)
        .ok_or_else(|| SimError::Schema(format!("{path}: no pve-container `{field}`")))
}

/// Applies one `older_than_api_schema` entry: `absent` removes a key (`env`, `net[n]`) or a
/// property-string key (`mp[n].format.keepattrs`); `<prop>.pattern` sets the pattern that
/// release had (`null`: none).
fn apply_older(schema: &mut ObjectSchema, path: &str, entry: &Value) -> SimResult<()> {
    let absent = entry.get("absent").and_then(Value::as_bool) == Some(true);
    let parts: Vec<&str> = path.split('.').collect();
    let missing = || SimError::Schema(format!("older_than_api_schema {path}: no such property"));
    match (parts.as_slice(), absent) {
        ([prop], true) => {
            match prop.strip_suffix("[n]") {
                Some(prefix) => schema.drop_indexed(prefix),
                None => {
                    schema.plain.remove(*prop).ok_or_else(missing)?;
                }
            }
            Ok(())
        }
        ([prop, "format", key], true) => {
            match &mut schema.plain_mut(prop).ok_or_else(missing)?.format {
                Some(Format::Props(fmt)) => {
                    Arc::make_mut(fmt).props.remove(*key).ok_or_else(missing)?;
                    Ok(())
                }
                _ => Err(missing()),
            }
        }
        ([prop, "pattern"], false) => {
            let pattern = match entry.get("pattern") {
                Some(Value::String(p)) => {
                    Some(perl_regex::anchored(p).map_err(|e| SimError::Schema(e.to_string()))?)
                }
                Some(Value::Null) => None,
                _ => return Err(SimError::Schema(format!("{path}: no pattern"))),
            };
            // A key an even older entry removes may be gone already (the update endpoint has
            // what the create endpoint has).
            if let Some(target) = schema.plain_mut(prop) {
                target.pattern = pattern;
            }
            Ok(())
        }
        _ => Err(SimError::Schema(format!(
            "unknown older_than_api_schema change '{path}'"
        ))),
    }
}

/// Applies one `newer_than_api_schema` entry: `<prop>.format.<key>` adds a property-string key,
/// `<prop>.pattern` replaces a pattern.
fn apply_change(schema: &mut ObjectSchema, path: &str, change: &Value) -> SimResult<()> {
    let parts: Vec<&str> = path.split('.').collect();
    match parts.as_slice() {
        [prop, "format", key] => {
            let new = change
                .get("property")
                .ok_or_else(|| SimError::Schema(format!("{path}: no property")))?;
            let new = Property::from_json(path, new)?;
            let target = schema
                .plain_mut(prop)
                .ok_or_else(|| SimError::Schema(format!("{path}: no property '{prop}'")))?;
            match &mut target.format {
                Some(Format::Props(fmt)) => {
                    Arc::make_mut(fmt).props.insert((*key).to_string(), new);
                    Ok(())
                }
                _ => Err(SimError::Schema(format!(
                    "{path}: '{prop}' is not a property string"
                ))),
            }
        }
        [prop, "pattern"] => {
            let pattern = change
                .get("pattern")
                .and_then(Value::as_str)
                .ok_or_else(|| SimError::Schema(format!("{path}: no pattern")))?;
            let re = perl_regex::anchored(pattern).map_err(|e| SimError::Schema(e.to_string()))?;
            let target = schema
                .plain_mut(prop)
                .ok_or_else(|| SimError::Schema(format!("{path}: no property '{prop}'")))?;
            target.pattern = Some(re);
            Ok(())
        }
        _ => Err(SimError::Schema(format!("unknown schema change '{path}'"))),
    }
}

fn raw_key_lists(pct_conf: &Value) -> SimResult<RawKeyLists> {
    let raw = pct_conf
        .get("raw_lxc_keys")
        .ok_or_else(|| SimError::Schema("no raw_lxc_keys".into()))?;
    let strings = |k: &str| -> Vec<String> {
        raw.get(k)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    let map = |k: &str| -> BTreeMap<String, String> {
        raw.get(k)
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                    .collect()
            })
            .unwrap_or_default()
    };
    let lists = RawKeyLists {
        allowed: strings("allowed"),
        allowed_prefixes: strings("allowed_prefixes"),
        warned_prefixes: map("accepted_with_warning_prefixes"),
        refused: map("rejected_with_message"),
        renamed: map("accepted_deprecated_renamed"),
    };
    if lists.allowed.is_empty() || lists.allowed_prefixes.is_empty() {
        return Err(SimError::Schema("raw_lxc_keys lists are empty".into()));
    }
    Ok(lists)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_and_expands_indexed_keys() {
        let s = schemas().unwrap();
        assert!(s.create.get("net0").is_some());
        assert!(s.create.get("net31").is_some());
        assert!(s.create.get("net32").is_none());
        assert!(s.create.get("net01").is_none());
        assert!(s.create.get("mp255").is_some());
        assert!(s.create.get("mp256").is_none());
        assert!(s.update.get("delete").is_some());
        assert!(s.confdesc.get("delete").is_none());
        assert!(s.confdesc.get("parent").is_some());
    }

    #[test]
    fn newer_schema_changes_are_applied() {
        let s = schemas().unwrap();
        let Some(Format::Props(rootfs)) = &s.create.get("rootfs").unwrap().format else {
            panic!("rootfs is a property string")
        };
        assert!(rootfs.props.contains_key("idmap"));
        let Some(Format::Props(mp)) = &s.update.get("mp7").unwrap().format else {
            panic!("mp is a property string")
        };
        assert!(mp.props.contains_key("idmap"));
        // 6.1.8 fixed the control-character class: \x10 (DLE) was wrongly allowed before.
        let ep = s
            .create
            .get("entrypoint")
            .unwrap()
            .pattern
            .as_ref()
            .unwrap();
        assert!(ep.is_match("/bin/sh -c 'echo\ta'"));
        assert!(!ep.is_match("/bin/sh\x10"));
        assert!(!ep.is_match("/bin/sh\x0bx"));
    }
}
