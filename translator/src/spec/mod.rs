//! The OCI runtime-spec as read from the user's bytes: parse with spans,
//! validate against [`fields`], then read through [`Cursor`]s that know the
//! JSON pointer and span of every value.

pub mod fields;
pub(crate) mod validate;

use crate::diag::Diagnostic;
use std::sync::Arc;

use crate::json::{self, Kind, NodeId, Tree, View};
use crate::rules::{parse as parse_rules, spec as spec_rules};
use crate::source::{JsonPointer, Source, Span, Traced};

/// A config.json that parsed and whose shape was checked. The tree is
/// shared: the IR keeps handles into it for the fields OCI back ends copy
/// exactly ([`crate::ir::OciValue`]).
#[derive(Debug, Clone)]
pub struct Spec {
    /// The validated tree, shared with the IR.
    pub tree: Arc<Tree>,
    /// The declared `ociVersion`, when it parsed.
    pub version: Option<OciVersion>,
}

/// A runtime-spec version, `major.minor.patch`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct OciVersion {
    /// The major version (1 for every release so far).
    pub major: u32,
    /// The minor version, which picks the field set and schema.
    pub minor: u32,
    /// The patch version.
    pub patch: u32,
}

impl OciVersion {
    /// `1.0.0`–`1.3.x`, with an optional pre-release or build suffix (`1.0.2-dev`).
    pub fn parse(s: &str) -> Option<OciVersion> {
        let core = s.split(['-', '+']).next()?;
        let mut parts = core.split('.');
        let num = |p: Option<&str>| -> Option<u32> {
            let p = p?;
            if p.is_empty()
                || !p.bytes().all(|b| b.is_ascii_digit())
                || (p.len() > 1 && p.starts_with('0'))
            {
                return None;
            }
            p.parse().ok()
        };
        let v = OciVersion {
            major: num(parts.next())?,
            minor: num(parts.next())?,
            patch: num(parts.next())?,
        };
        let suffix = s.get(core.len()..).unwrap_or_default();
        if parts.next().is_some() || suffix.len() == 1 {
            return None;
        }
        Some(v)
    }

    pub(crate) fn is_supported(self) -> bool {
        self.major == 1 && self.minor <= 3
    }
}

impl std::fmt::Display for OciVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// Reads config bytes. Returns the source (for rendering) and, unless the
/// bytes are not a JSON object we can read, the validated spec. The source
/// and the tree share one copy of the text: a copy of `bytes`. A caller that
/// owns its bytes gives them to [`parse_owned`], which copies nothing.
pub fn parse(name: &str, bytes: &[u8], diags: &mut Vec<Diagnostic>) -> (Source, Option<Spec>) {
    parse_owned(name, bytes.to_vec(), diags)
}

/// [`parse`] of bytes the caller gives up: they become the text the source
/// and the tree share, so the input is held once (README, "Memory").
pub fn parse_owned(
    name: &str,
    bytes: Vec<u8>,
    diags: &mut Vec<Diagnostic>,
) -> (Source, Option<Spec>) {
    let text: json::Text = match String::from_utf8(bytes) {
        Ok(text) => Arc::new(text),
        Err(e) => {
            let bytes = e.as_bytes();
            let e = json::utf8_error(bytes, &e.utf8_error());
            let source = Source::new(name, String::from_utf8_lossy(bytes).into_owned());
            // The valid prefix is unchanged by lossy decoding; U+FFFD is three bytes.
            let span = Span::new(e.span.start, e.span.start + 3);
            diags.push(
                Diagnostic::new(&parse_rules::INVALID_UTF8, e.kind.to_string())
                    .at_span(span)
                    .with_label("not UTF-8"),
            );
            return (source, None);
        }
    };
    let source = Source::shared(name, Arc::clone(&text));
    let parsed = json::parse_shared(text);
    let mut capped = crate::diag::Capped::new(diags);
    for dup in &parsed.duplicates {
        capped.push(
            Diagnostic::new(
                &parse_rules::DUPLICATE_KEY,
                format!("the key `{}` appears twice in one object", dup.key),
            )
            .at_span(dup.second)
            .with_label("second occurrence")
            .with_related(dup.first, "first occurrence")
            .with_help("runtimes disagree on which value wins; keep one"),
        );
    }
    capped.finish();
    let Some(mut tree) = parsed.tree else {
        if let Some(e) = parsed.syntax_error {
            let rule = match e.kind {
                json::ErrorKind::Empty => &parse_rules::EMPTY,
                json::ErrorKind::TooDeep => &parse_rules::TOO_DEEP,
                _ => &parse_rules::SYNTAX,
            };
            diags.push(
                Diagnostic::new(rule, e.kind.to_string())
                    .at_span(e.span)
                    .with_label("here"),
            );
        }
        return (source, None);
    };
    validate::validate(&mut tree, diags);
    if tree.kind(tree.root(), View::Written) != Kind::Object {
        // Reported once; lowering an empty document would only add noise.
        return (source, None);
    }
    let version = check_version(&tree, diags);
    (
        source,
        Some(Spec {
            tree: Arc::new(tree),
            version,
        }),
    )
}

fn check_version(tree: &Tree, diags: &mut Vec<Diagnostic>) -> Option<OciVersion> {
    let member = tree.get(tree.root(), "ociVersion", View::Validated)?;
    let text = tree.str(member.value)?;
    let ptr = JsonPointer::root().push("ociVersion");
    match OciVersion::parse(text) {
        Some(v) if v.is_supported() => Some(v),
        _ => {
            diags.push(
                Diagnostic::new(
                    &spec_rules::UNSUPPORTED_VERSION,
                    format!("ociVersion `{text}` is not supported"),
                )
                .at(&ptr, tree.span(member.value))
                .with_label("unsupported version")
                .with_help("proxmox-lxcri reads runtime-spec 1.0.x to 1.3.x"),
            );
            None
        }
    }
}

impl Spec {
    /// A cursor at the root of the document.
    pub fn cursor(&self) -> Cursor<'_> {
        Cursor {
            tree: &self.tree,
            id: self.tree.root(),
            ptr: JsonPointer::root(),
            key_span: Span::UNDEFINED,
        }
    }
}

/// A position in the validated document. Reads the tree in its validated
/// view: removed members are absent, and null values (explicit, or left by
/// validation in place of an unusable array item) read as absent.
#[derive(Clone, Debug)]
pub struct Cursor<'a> {
    tree: &'a Arc<Tree>,
    id: NodeId,
    ptr: JsonPointer,
    /// The span of the key this value belongs to, where there is one.
    key_span: Span,
}

impl<'a> Cursor<'a> {
    /// A cursor at node `id` of `tree`, which `ptr` names.
    pub fn new(tree: &'a Arc<Tree>, id: NodeId, ptr: JsonPointer) -> Cursor<'a> {
        Cursor {
            tree,
            id,
            ptr,
            key_span: Span::UNDEFINED,
        }
    }

    pub(crate) fn tree(&self) -> &'a Arc<Tree> {
        self.tree
    }

    pub(crate) fn id(&self) -> NodeId {
        self.id
    }

    pub(crate) fn kind(&self) -> Kind {
        self.tree.kind(self.id, View::Validated)
    }

    /// The JSON pointer of this value.
    pub fn ptr(&self) -> &JsonPointer {
        &self.ptr
    }

    /// What a diagnostic underlines: the value itself, or for an object or
    /// array its key (or opening bracket), so that a message about a whole
    /// list does not underline fifty lines.
    pub fn span(&self) -> Span {
        let span = self.tree.span(self.id);
        match self.kind() {
            Kind::Object | Kind::Array if span.is_defined() => {
                if self.key_span.is_defined() {
                    self.key_span
                } else {
                    Span::new(span.start, span.start + 1)
                }
            }
            _ => span,
        }
    }

    /// The member `key` of an object, if it has one.
    pub fn get(&self, key: &str) -> Option<Cursor<'a>> {
        if self.kind() != Kind::Object {
            return None;
        }
        let member = self.tree.get(self.id, key, View::Validated)?;
        if self.tree.kind(member.value, View::Validated) == Kind::Null {
            return None;
        }
        Some(Cursor {
            tree: self.tree,
            id: member.value,
            ptr: self.ptr.push(key),
            key_span: member.key_span,
        })
    }

    /// Whether the object has a member `key`, null or not.
    pub(crate) fn has_member(&self, key: &str) -> bool {
        self.kind() == Kind::Object && self.tree.get(self.id, key, View::Validated).is_some()
    }

    /// Follows a path of object keys.
    pub(crate) fn path(&self, keys: &[&str]) -> Option<Cursor<'a>> {
        let mut cur = self.clone();
        for key in keys {
            cur = cur.get(key)?;
        }
        Some(cur)
    }

    /// The value as a string, if it is one.
    pub fn str(&self) -> Option<&'a str> {
        match self.kind() {
            Kind::String => self.tree.str(self.id),
            _ => None,
        }
    }

    pub(crate) fn bool(&self) -> Option<bool> {
        match self.kind() {
            Kind::Bool => self.tree.bool(self.id),
            _ => None,
        }
    }

    fn number(&self) -> Option<&'a str> {
        match self.kind() {
            Kind::Number => self.tree.number(self.id),
            _ => None,
        }
    }

    pub(crate) fn i64(&self) -> Option<i64> {
        self.number()?.parse().ok()
    }

    pub(crate) fn u64(&self) -> Option<u64> {
        self.number()?.parse().ok()
    }

    pub(crate) fn u32(&self) -> Option<u32> {
        self.number()?.parse().ok()
    }

    /// The value as an `i32`, if it is an integer in range.
    pub fn i32(&self) -> Option<i32> {
        self.number()?.parse().ok()
    }

    pub(crate) fn traced<T>(&self, value: T) -> Traced<T> {
        Traced::new(value, self.ptr.clone(), self.span())
    }

    pub(crate) fn traced_str(&self) -> Option<Traced<String>> {
        Some(self.traced(self.str()?.to_string()))
    }

    /// Array items (null placeholders left by validation are skipped), one
    /// at a time: a cursor's pointer is built when its item is reached, not
    /// for a million items at once.
    pub fn items(&self) -> Items<'a> {
        let items = match self.kind() {
            Kind::Array => Some(self.tree.items(self.id).enumerate()),
            _ => None,
        };
        Items {
            tree: Some(self.tree),
            ptr: self.ptr.clone(),
            items,
        }
    }

    /// The strings of a string array, traced.
    pub fn strings(&self) -> Vec<Traced<String>> {
        self.items().filter_map(|c| c.traced_str()).collect()
    }

    /// Map entries: key, the key's span, and the value.
    pub(crate) fn entries(&self) -> Vec<(&'a str, Span, Cursor<'a>)> {
        if self.kind() != Kind::Object {
            return Vec::new();
        }
        let tree = self.tree;
        tree.members(self.id, View::Validated)
            .filter(|m| tree.kind(m.value, View::Validated) != Kind::Null)
            .map(|m| {
                (
                    m.key,
                    m.key_span,
                    Cursor {
                        tree,
                        id: m.value,
                        ptr: self.ptr.push(m.key),
                        key_span: m.key_span,
                    },
                )
            })
            .collect()
    }
}

/// The items of an array, as cursors; see [`Cursor::items`].
#[derive(Clone, Default)]
pub struct Items<'a> {
    tree: Option<&'a Arc<Tree>>,
    ptr: JsonPointer,
    items: Option<std::iter::Enumerate<json::Items<'a>>>,
}

impl<'a> Items<'a> {
    /// Whether no item is left.
    pub(crate) fn is_empty(&self) -> bool {
        self.clone().next().is_none()
    }

    /// The items left, from here, without consuming these.
    pub(crate) fn iter(&self) -> Items<'a> {
        self.clone()
    }
}

impl<'a> IntoIterator for &Items<'a> {
    type Item = Cursor<'a>;
    type IntoIter = Items<'a>;

    fn into_iter(self) -> Items<'a> {
        self.clone()
    }
}

impl<'a> Iterator for Items<'a> {
    type Item = Cursor<'a>;

    fn next(&mut self) -> Option<Cursor<'a>> {
        let tree = self.tree?;
        for (i, id) in self.items.as_mut()?.by_ref() {
            if tree.kind(id, View::Validated) != Kind::Null {
                return Some(Cursor {
                    tree,
                    id,
                    ptr: self.ptr.index(i),
                    key_span: Span::UNDEFINED,
                });
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        for ok in ["1.0.0", "1.0.2-dev", "1.2.1", "1.3.0", "1.1.0+build"] {
            assert!(
                OciVersion::parse(ok).is_some_and(OciVersion::is_supported),
                "{ok}"
            );
        }
        for bad in [
            "2.0.0", "1.4.0", "1.0", "01.0.0", "1.0.0.0", "", "v1.0.0", "1.0.0-",
        ] {
            assert!(
                !OciVersion::parse(bad).is_some_and(OciVersion::is_supported),
                "{bad}"
            );
        }
    }
}
