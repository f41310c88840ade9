//! The OCI runtime-spec as read from the user's bytes: parse with spans,
//! validate against [`fields`], then read through [`Cursor`]s that know the
//! JSON pointer and span of every value.

pub mod fields;
pub mod validate;

use crate::diag::Diagnostic;
use crate::json::{self, Node, Value};
use crate::lint::{parse as parse_rules, spec as spec_rules};
use crate::source::{JsonPointer, Source, Span, Traced};

/// A config.json that parsed and whose shape was checked.
#[derive(Debug, Clone)]
pub struct Spec {
    pub root: Node,
    pub version: Option<OciVersion>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct OciVersion {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl OciVersion {
    /// `1.0.0`–`1.3.x`, with an optional pre-release or build suffix (`1.0.2-dev`).
    pub fn parse(s: &str) -> Option<OciVersion> {
        let core = s.split(['-', '+']).next()?;
        let mut parts = core.split('.');
        let num = |p: Option<&str>| -> Option<u32> {
            let p = p?;
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) || (p.len() > 1 && p.starts_with('0')) {
                return None;
            }
            p.parse().ok()
        };
        let v = OciVersion { major: num(parts.next())?, minor: num(parts.next())?, patch: num(parts.next())? };
        let suffix = s.get(core.len()..).unwrap_or_default();
        if parts.next().is_some() || suffix.len() == 1 {
            return None;
        }
        Some(v)
    }

    pub fn is_supported(self) -> bool {
        self.major == 1 && self.minor <= 3
    }
}

impl std::fmt::Display for OciVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// Reads config bytes. Returns the source (for rendering) and, unless the
/// bytes are not a JSON object we can read, the validated spec.
pub fn parse(name: &str, bytes: &[u8], diags: &mut Vec<Diagnostic>) -> (Source, Option<Spec>) {
    let parsed = match json::parse_bytes(bytes) {
        Ok(p) => p,
        Err(e) => {
            let source = Source::new(name, String::from_utf8_lossy(bytes).into_owned());
            // The valid prefix is unchanged by lossy decoding; U+FFFD is three bytes.
            let span = Span::new(e.span.start, e.span.start + 3);
            diags.push(Diagnostic::new(&parse_rules::INVALID_UTF8, e.kind.to_string()).at_span(span).with_label("not UTF-8"));
            return (source, None);
        }
    };
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t.to_string(),
        Err(_) => String::new(),
    };
    let source = Source::new(name, text);
    for dup in &parsed.duplicates {
        diags.push(
            Diagnostic::new(&parse_rules::DUPLICATE_KEY, format!("the key `{}` appears twice in one object", dup.key))
                .at_span(dup.second)
                .with_label("second occurrence")
                .with_related(dup.first, "first occurrence")
                .with_help("runtimes disagree on which value wins; keep one"),
        );
    }
    let Some(mut root) = parsed.root else {
        if let Some(e) = parsed.syntax_error {
            let rule = match e.kind {
                json::ErrorKind::Empty => &parse_rules::EMPTY,
                json::ErrorKind::TooDeep => &parse_rules::TOO_DEEP,
                _ => &parse_rules::SYNTAX,
            };
            diags.push(Diagnostic::new(rule, e.kind.to_string()).at_span(e.span).with_label("here"));
        }
        return (source, None);
    };
    if !matches!(root.value, Value::Object(_)) {
        // Reported once; lowering an empty document would only add noise.
        validate::validate(&mut root, diags);
        return (source, None);
    }
    validate::validate(&mut root, diags);
    let version = check_version(&root, diags);
    (source, Some(Spec { root, version }))
}

fn check_version(root: &Node, diags: &mut Vec<Diagnostic>) -> Option<OciVersion> {
    let node = root.get("ociVersion")?;
    let text = node.as_str()?;
    let ptr = JsonPointer::root().push("ociVersion");
    match OciVersion::parse(text) {
        Some(v) if v.is_supported() => Some(v),
        _ => {
            diags.push(
                Diagnostic::new(&spec_rules::UNSUPPORTED_VERSION, format!("ociVersion `{text}` is not supported"))
                    .at(&ptr, node.span)
                    .with_label("unsupported version")
                    .with_help("proxmox-lxcri reads runtime-spec 1.0.x to 1.3.x"),
            );
            None
        }
    }
}

impl Spec {
    pub fn cursor(&self) -> Cursor<'_> {
        Cursor { node: &self.root, ptr: JsonPointer::root(), key_span: Span::UNDEFINED }
    }
}

/// A position in the validated document.
#[derive(Clone, Debug)]
pub struct Cursor<'a> {
    node: &'a Node,
    ptr: JsonPointer,
    /// The span of the key this value belongs to, where there is one.
    key_span: Span,
}

impl<'a> Cursor<'a> {
    pub fn new(node: &'a Node, ptr: JsonPointer) -> Cursor<'a> {
        Cursor { node, ptr, key_span: Span::UNDEFINED }
    }

    pub fn node(&self) -> &'a Node {
        self.node
    }

    pub fn ptr(&self) -> &JsonPointer {
        &self.ptr
    }

    /// What a diagnostic underlines: the value itself, or for an object or
    /// array its key (or opening bracket), so that a message about a whole
    /// list does not underline fifty lines.
    pub fn span(&self) -> Span {
        match self.node.value {
            Value::Object(_) | Value::Array(_) if self.node.span.is_defined() => {
                if self.key_span.is_defined() {
                    self.key_span
                } else {
                    Span::new(self.node.span.start, self.node.span.start + 1)
                }
            }
            _ => self.node.span,
        }
    }

    /// The full extent of the value.
    pub fn value_span(&self) -> Span {
        self.node.span
    }

    pub fn get(&self, key: &str) -> Option<Cursor<'a>> {
        let Value::Object(members) = &self.node.value else { return None };
        let member = members.iter().rev().find(|m| m.key == key)?;
        if matches!(member.value.value, Value::Null) {
            return None;
        }
        Some(Cursor { node: &member.value, ptr: self.ptr.push(key), key_span: member.key_span })
    }

    /// Follows a path of object keys.
    pub fn path(&self, keys: &[&str]) -> Option<Cursor<'a>> {
        let mut cur = self.clone();
        for key in keys {
            cur = cur.get(key)?;
        }
        Some(cur)
    }

    pub fn str(&self) -> Option<&'a str> {
        self.node.as_str()
    }

    pub fn bool(&self) -> Option<bool> {
        match self.node.value {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    fn number(&self) -> Option<&'a str> {
        match &self.node.value {
            Value::Number(raw) => Some(raw),
            _ => None,
        }
    }

    pub fn i64(&self) -> Option<i64> {
        self.number()?.parse().ok()
    }

    pub fn u64(&self) -> Option<u64> {
        self.number()?.parse().ok()
    }

    pub fn u32(&self) -> Option<u32> {
        self.number()?.parse().ok()
    }

    pub fn i32(&self) -> Option<i32> {
        self.number()?.parse().ok()
    }

    pub fn traced<T>(&self, value: T) -> Traced<T> {
        Traced::new(value, self.ptr.clone(), self.span())
    }

    pub fn traced_str(&self) -> Option<Traced<String>> {
        Some(self.traced(self.str()?.to_string()))
    }

    /// Array items (null placeholders left by validation are skipped).
    pub fn items(&self) -> Vec<Cursor<'a>> {
        match &self.node.value {
            Value::Array(items) => items
                .iter()
                .enumerate()
                .filter(|(_, n)| !matches!(n.value, Value::Null))
                .map(|(i, node)| Cursor { node, ptr: self.ptr.index(i), key_span: Span::UNDEFINED })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The strings of a string array, traced.
    pub fn strings(&self) -> Vec<Traced<String>> {
        self.items().iter().filter_map(Cursor::traced_str).collect()
    }

    /// Map entries: key, the key's span, and the value.
    pub fn entries(&self) -> Vec<(&'a str, Span, Cursor<'a>)> {
        match &self.node.value {
            Value::Object(members) => members
                .iter()
                .filter(|m| !matches!(m.value.value, Value::Null))
                .map(|m| (m.key.as_str(), m.key_span, Cursor { node: &m.value, ptr: self.ptr.push(&m.key), key_span: m.key_span }))
                .collect(),
            _ => Vec::new(),
        }
    }

    pub fn is_empty_object(&self) -> bool {
        matches!(&self.node.value, Value::Object(m) if m.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        for ok in ["1.0.0", "1.0.2-dev", "1.2.1", "1.3.0", "1.1.0+build"] {
            assert!(OciVersion::parse(ok).is_some_and(OciVersion::is_supported), "{ok}");
        }
        for bad in ["2.0.0", "1.4.0", "1.0", "01.0.0", "1.0.0.0", "", "v1.0.0", "1.0.0-"] {
            assert!(!OciVersion::parse(bad).is_some_and(OciVersion::is_supported), "{bad}");
        }
    }
}
