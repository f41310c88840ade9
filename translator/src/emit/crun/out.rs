//! The crun config as it is written: the fields the back end builds, and
//! handles into the IR and into the validated input for everything it copies
//! (arguments, environment, mounts, seccomp rules, resources, …), written
//! straight to the output as pretty JSON without a `serde_json::Value` of the
//! whole config (README, "Memory").
//!
//! The bytes are serde_json's `to_string_pretty` of the config the back end
//! used to build (two-space indent, `": "`, `[]`/`{}` when empty, serde_json's
//! string escapes and number forms), with every null left out as
//! `strip_nulls` did: validation turns bad values into nulls, and a runtime
//! must never see one.

use std::io::{self, Write};

use serde_json::Value;

use crate::ir::process::EnvVar;
use crate::json::{number_to_serde, Kind, NodeId, Tree, View};

/// A value of the crun config.
#[derive(Clone, Debug)]
pub enum Out<'a> {
    /// Built by the back end (small: ids, namespaces, defaults).
    Value(Box<Value>),
    /// A string of the IR (an argument, the working directory).
    Str(&'a str),
    /// An environment variable of the IR, written as `NAME=value`.
    Env(&'a EnvVar),
    /// A value of the validated input, as it reads there.
    Kept(&'a Tree, NodeId),
    Object(Vec<(String, Out<'a>)>),
    Array(Vec<Out<'a>>),
    /// Inside an [`Out::Array`] only: every item of a kept array, in place
    /// (the bundle's mounts after the standard ones it lacks).
    Splice(&'a Tree, NodeId),
}

/// A value to read or write, wherever it lives.
#[derive(Clone, Copy)]
pub(super) enum Any<'o, 'a> {
    Out(&'o Out<'a>),
    Value(&'o Value),
    Kept(&'a Tree, NodeId),
}

impl<'a> Out<'a> {
    pub(crate) fn value(v: Value) -> Out<'a> {
        Out::Value(Box::new(v))
    }

    pub(super) fn any(&self) -> Any<'_, 'a> {
        Any::of(self)
    }

    /// Turns a built or kept object or array into an [`Out::Object`] or
    /// [`Out::Array`] of its children, so one of them can be replaced.
    pub(super) fn expand(&mut self) {
        let expanded = match self {
            Out::Value(v) => match &mut **v {
                Value::Object(map) => Out::Object(
                    std::mem::take(map)
                        .into_iter()
                        .map(|(k, v)| (k, Out::value(v)))
                        .collect(),
                ),
                Value::Array(items) => {
                    Out::Array(std::mem::take(items).into_iter().map(Out::value).collect())
                }
                _ => return,
            },
            Out::Kept(tree, id) => {
                let (tree, id) = (*tree, *id);
                match tree.kind(id, View::Validated) {
                    Kind::Object => Out::Object(
                        tree.members(id, View::Validated)
                            .map(|m| (m.key.to_string(), Out::Kept(tree, m.value)))
                            .collect(),
                    ),
                    Kind::Array => Out::Array(tree.items(id).map(|i| Out::Kept(tree, i)).collect()),
                    _ => return,
                }
            }
            _ => return,
        };
        *self = expanded;
    }

    /// The member `key` of an object, expanding it first.
    pub(super) fn member_mut(&mut self, key: &str) -> Option<&mut Out<'a>> {
        self.expand();
        match self {
            Out::Object(members) => members.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The value as serde_json's form (nulls left out), for tests and the
    /// small parts the back end edits.
    pub(crate) fn to_value(&self) -> Value {
        materialize(self.any()).unwrap_or(Value::Null)
    }
}

impl<'o, 'a> Any<'o, 'a> {
    /// A value of the config: built and kept ones as what they are.
    pub(super) fn of(out: &'o Out<'a>) -> Any<'o, 'a> {
        match out {
            Out::Value(v) => Any::Value(v),
            Out::Kept(tree, id) => Any::Kept(tree, *id),
            other => Any::Out(other),
        }
    }

    pub(super) fn is_null(self) -> bool {
        match self {
            Any::Value(v) => v.is_null(),
            Any::Kept(tree, id) => match tree.kind(id, View::Validated) {
                Kind::Null => true,
                // What serde_json cannot read (`1e400`) was a null too.
                Kind::Number => number_to_serde(tree.number(id).unwrap_or_default()).is_none(),
                _ => false,
            },
            Any::Out(Out::Splice(..)) => true,
            Any::Out(_) => false,
        }
    }

    pub(super) fn as_str(self) -> Option<&'o str>
    where
        'a: 'o,
    {
        match self {
            Any::Value(v) => v.as_str(),
            Any::Out(Out::Str(s)) => Some(s),
            Any::Kept(tree, id) => tree.str(id),
            _ => None,
        }
    }

    /// The non-null member `key` of an object.
    pub(super) fn get(self, key: &str) -> Option<Any<'o, 'a>> {
        let found = match self {
            Any::Value(v) => v.get(key).map(Any::Value),
            Any::Kept(tree, id) => tree
                .get(id, key, View::Validated)
                .map(|m| Any::Kept(tree, m.value)),
            Any::Out(Out::Object(members)) => members
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| Any::of(v)),
            _ => None,
        };
        found.filter(|v| !v.is_null())
    }

    /// The non-null members of an object.
    pub(super) fn members(self) -> Vec<(&'o str, Any<'o, 'a>)>
    where
        'a: 'o,
    {
        let all: Vec<(&'o str, Any<'o, 'a>)> = match self {
            Any::Value(v) => v
                .as_object()
                .map(|m| m.iter().map(|(k, v)| (k.as_str(), Any::Value(v))).collect())
                .unwrap_or_default(),
            Any::Kept(tree, id) => tree
                .members(id, View::Validated)
                .map(|m| (m.key, Any::Kept(tree, m.value)))
                .collect(),
            Any::Out(Out::Object(members)) => members
                .iter()
                .map(|(k, v)| (k.as_str(), Any::of(v)))
                .collect(),
            _ => Vec::new(),
        };
        all.into_iter().filter(|(_, v)| !v.is_null()).collect()
    }

    /// The non-null items of an array (a splice's items in its place).
    pub(super) fn items(self) -> Vec<Any<'o, 'a>> {
        let mut all = Vec::new();
        match self {
            Any::Value(v) => all.extend(v.as_array().into_iter().flatten().map(Any::Value)),
            Any::Kept(tree, id) => kept_items(tree, id, &mut all),
            Any::Out(Out::Array(items)) => {
                for item in items {
                    match item {
                        Out::Splice(tree, id) => kept_items(tree, *id, &mut all),
                        item => all.push(Any::of(item)),
                    }
                }
            }
            _ => {}
        }
        all.retain(|v| !v.is_null());
        all
    }
}

fn kept_items<'o, 'a>(tree: &'a Tree, id: NodeId, into: &mut Vec<Any<'o, 'a>>) {
    if tree.kind(id, View::Validated) == Kind::Array {
        into.extend(tree.items(id).map(|i| Any::Kept(tree, i)));
    }
}

fn materialize(v: Any<'_, '_>) -> Option<Value> {
    if v.is_null() {
        return None;
    }
    Some(match v {
        Any::Value(x) => strip(x),
        Any::Out(Out::Str(s)) => Value::String((*s).to_string()),
        Any::Out(Out::Env(e)) => Value::String(format!("{}={}", e.name, e.value)),
        Any::Kept(tree, id) => match tree.kind(id, View::Validated) {
            Kind::Object | Kind::Array => structured(v),
            _ => tree.to_serde(id, View::Validated),
        },
        Any::Out(Out::Object(_) | Out::Array(_)) => structured(v),
        Any::Out(Out::Splice(..)) => Value::Null,
        Any::Out(x @ (Out::Value(_) | Out::Kept(..))) => return materialize(Any::of(x)),
    })
}

fn structured(v: Any<'_, '_>) -> Value {
    if is_object(v) {
        Value::Object(
            v.members()
                .into_iter()
                .filter_map(|(k, x)| Some((k.to_string(), materialize(x)?)))
                .collect(),
        )
    } else {
        Value::Array(v.items().into_iter().filter_map(materialize).collect())
    }
}

fn strip(v: &Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(_, x)| !x.is_null())
                .map(|(k, x)| (k.clone(), strip(x)))
                .collect(),
        ),
        Value::Array(items) => {
            Value::Array(items.iter().filter(|x| !x.is_null()).map(strip).collect())
        }
        other => other.clone(),
    }
}

fn is_object(v: Any<'_, '_>) -> bool {
    match v {
        Any::Value(x) => x.is_object(),
        Any::Kept(tree, id) => tree.kind(id, View::Validated) == Kind::Object,
        Any::Out(Out::Object(_)) => true,
        _ => false,
    }
}

/// Writes `value` as serde_json's pretty printer writes it.
pub(super) fn write_pretty(w: &mut dyn Write, value: &Out<'_>) -> io::Result<()> {
    let mut p = Pretty { w, depth: 0 };
    if value.any().is_null() {
        return p.w.write_all(b"null");
    }
    p.any(value.any())
}

struct Pretty<'w> {
    w: &'w mut dyn Write,
    depth: usize,
}

/// An object or array being written: whether it has a value yet.
struct Open {
    any: bool,
}

impl Pretty<'_> {
    fn begin(&mut self, bracket: u8) -> io::Result<Open> {
        self.depth += 1;
        self.w.write_all(&[bracket])?;
        Ok(Open { any: false })
    }

    fn next(&mut self, open: &mut Open) -> io::Result<()> {
        self.w.write_all(if open.any { b",\n" } else { b"\n" })?;
        open.any = true;
        for _ in 0..self.depth {
            self.w.write_all(b"  ")?;
        }
        Ok(())
    }

    fn end(&mut self, open: Open, bracket: u8) -> io::Result<()> {
        self.depth -= 1;
        if open.any {
            self.w.write_all(b"\n")?;
            for _ in 0..self.depth {
                self.w.write_all(b"  ")?;
            }
        }
        self.w.write_all(&[bracket])
    }

    fn member(&mut self, open: &mut Open, key: &str, value: Any<'_, '_>) -> io::Result<()> {
        if value.is_null() {
            return Ok(());
        }
        self.next(open)?;
        write_str(self.w, &[key])?;
        self.w.write_all(b": ")?;
        self.any(value)
    }

    fn item(&mut self, open: &mut Open, value: Any<'_, '_>) -> io::Result<()> {
        if value.is_null() {
            return Ok(());
        }
        self.next(open)?;
        self.any(value)
    }

    fn kept_items(&mut self, open: &mut Open, tree: &Tree, id: NodeId) -> io::Result<()> {
        if tree.kind(id, View::Validated) == Kind::Array {
            for i in tree.items(id) {
                self.item(open, Any::Kept(tree, i))?;
            }
        }
        Ok(())
    }

    /// Writes a value that is not null.
    fn any(&mut self, v: Any<'_, '_>) -> io::Result<()> {
        match v {
            Any::Value(x) => self.value(x),
            Any::Out(Out::Str(s)) => write_str(self.w, &[s]),
            Any::Out(Out::Env(e)) => write_str(self.w, &[&e.name, "=", &e.value]),
            Any::Kept(tree, id) => self.kept(tree, id),
            Any::Out(Out::Object(members)) => {
                let mut open = self.begin(b'{')?;
                for (k, x) in members {
                    self.member(&mut open, k, Any::of(x))?;
                }
                self.end(open, b'}')
            }
            Any::Out(Out::Array(items)) => {
                let mut open = self.begin(b'[')?;
                for x in items {
                    match x {
                        Out::Splice(tree, id) => self.kept_items(&mut open, tree, *id)?,
                        x => self.item(&mut open, Any::of(x))?,
                    }
                }
                self.end(open, b']')
            }
            Any::Out(Out::Splice(..)) => Ok(()),
            Any::Out(x @ (Out::Value(_) | Out::Kept(..))) => self.any(Any::of(x)),
        }
    }

    fn value(&mut self, v: &Value) -> io::Result<()> {
        match v {
            Value::Object(map) => {
                let mut open = self.begin(b'{')?;
                for (k, x) in map {
                    self.member(&mut open, k, Any::Value(x))?;
                }
                self.end(open, b'}')
            }
            Value::Array(items) => {
                let mut open = self.begin(b'[')?;
                for x in items {
                    self.item(&mut open, Any::Value(x))?;
                }
                self.end(open, b']')
            }
            Value::String(s) => write_str(self.w, &[s]),
            scalar => serde_json::to_writer(&mut *self.w, scalar).map_err(io::Error::other),
        }
    }

    fn kept(&mut self, tree: &Tree, id: NodeId) -> io::Result<()> {
        match tree.kind(id, View::Validated) {
            Kind::Object => {
                let mut open = self.begin(b'{')?;
                for m in tree.members(id, View::Validated) {
                    self.member(&mut open, m.key, Any::Kept(tree, m.value))?;
                }
                self.end(open, b'}')
            }
            Kind::Array => {
                let mut open = self.begin(b'[')?;
                self.kept_items(&mut open, tree, id)?;
                self.end(open, b']')
            }
            Kind::String => write_str(self.w, &[tree.str(id).unwrap_or_default()]),
            Kind::Bool => self.w.write_all(if tree.bool(id) == Some(true) {
                b"true"
            } else {
                b"false"
            }),
            Kind::Number => match number_to_serde(tree.number(id).unwrap_or_default()) {
                Some(n) => serde_json::to_writer(&mut *self.w, &n).map_err(io::Error::other),
                None => self.w.write_all(b"null"),
            },
            Kind::Null => self.w.write_all(b"null"),
        }
    }
}

/// Writes the concatenation of `parts` as one JSON string, escaped as
/// serde_json escapes (`\"`, `\\`, `\b \f \n \r \t`, `\u00XX` for the other
/// control characters, lower-case hex; nothing else).
fn write_str(w: &mut dyn Write, parts: &[&str]) -> io::Result<()> {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    w.write_all(b"\"")?;
    for part in parts {
        let bytes = part.as_bytes();
        let mut from = 0;
        for (i, &b) in bytes.iter().enumerate() {
            let short: &[u8] = match b {
                b'"' => b"\\\"",
                b'\\' => b"\\\\",
                0x08 => b"\\b",
                0x0c => b"\\f",
                b'\n' => b"\\n",
                b'\r' => b"\\r",
                b'\t' => b"\\t",
                0..=0x1f => &[],
                _ => continue,
            };
            w.write_all(bytes.get(from..i).unwrap_or_default())?;
            from = i + 1;
            if short.is_empty() {
                w.write_all(&[
                    b'\\',
                    b'u',
                    b'0',
                    b'0',
                    HEX[usize::from(b >> 4)],
                    HEX[usize::from(b & 0xf)],
                ])?;
            } else {
                w.write_all(short)?;
            }
        }
        w.write_all(bytes.get(from..).unwrap_or_default())?;
    }
    w.write_all(b"\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pretty(out: &Out<'_>) -> String {
        let mut buf = Vec::new();
        write_pretty(&mut buf, out).unwrap_or_default();
        String::from_utf8(buf).unwrap_or_default()
    }

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        let all: String = (0u32..0x300)
            .filter_map(char::from_u32)
            .chain(['\u{2028}', '\u{feff}', '😀'])
            .collect();
        let out = Out::Str(&all);
        assert_eq!(
            pretty(&out),
            serde_json::to_string(&all).unwrap_or_default()
        );
    }

    #[test]
    fn kept_values_are_written_as_serde_json_writes_their_values() {
        let text = r#"{"a": [1, -0, 1.50, 1e2, 1e400, "x\u0041\n", true, null, {}, [], {"b": null}], "c": {"d": [null]}, "e": 12345678901234567890}"#;
        let parsed = crate::json::parse(text);
        let Some(tree) = parsed.tree else {
            panic!("parses")
        };
        let out = Out::Kept(&tree, tree.root());
        let mut expected = tree.to_serde(tree.root(), View::Validated);
        super::super::strip_nulls_for_tests(&mut expected);
        assert_eq!(
            pretty(&out),
            serde_json::to_string_pretty(&expected).unwrap_or_default()
        );
        assert_eq!(out.to_value(), expected);
    }
}
