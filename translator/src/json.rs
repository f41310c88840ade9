//! A strict JSON reader that keeps the byte span of every value and key, in
//! a compact tree.
//!
//! serde_json forgets where values were and silently keeps the last of two
//! duplicate keys; we need both spans and duplicates, so the input is read
//! once into a [`Tree`]. Nesting is limited like serde_json's default (128)
//! so hostile inputs cannot exhaust the stack.
//!
//! **Memory.** A config of hundreds of megabytes must cost a small multiple
//! of its size (README, "Memory"), so the tree copies nothing it can point
//! at: every value and key is one 12-byte node (start, end, one word of
//! payload) in pre-order, in fixed-size chunks (no doubling `Vec` whose
//! spare capacity would count too). Strings and numbers are read from the
//! input text when asked for; only strings with escapes keep a decoded copy,
//! in one shared buffer. A node's kind is the input byte it starts at. An
//! object's or array's payload is the index just past its subtree, so its
//! children are found by skipping, without child lists. JSON pointers are
//! not stored: cursors build them for the values they are asked about.
//!
//! Validation (`spec::validate`) does not rebuild the tree: it marks members
//! it removes and array items it voids, and the `View` decides whether a
//! reader sees the document as written (the JSON Schema check) or as
//! validated (lowering).

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use crate::source::Span;

/// Deepest nesting of arrays/objects accepted (serde_json's default limit).
pub(crate) const MAX_DEPTH: usize = 128;

/// The largest input the tree can index: offsets and node numbers are 32
/// bits, and every node takes at least two bytes of input (`0,`), so node
/// numbers stay below the 30 bits of payload. Callers read far less (the
/// binary refuses configs above 256 MiB).
pub(crate) const MAX_INPUT: usize = 1 << 30;

/// A value's or key's place in its [`Tree`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(u32);

impl NodeId {
    pub(crate) const ROOT: NodeId = NodeId(0);

    pub(crate) fn index(self) -> usize {
        self.0 as usize
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Null,
    Bool,
    Number,
    String,
    Array,
    Object,
}

impl Kind {
    pub fn type_name(self) -> &'static str {
        match self {
            Kind::Null => "null",
            Kind::Bool => "a boolean",
            Kind::Number => "a number",
            Kind::String => "a string",
            Kind::Array => "an array",
            Kind::Object => "an object",
        }
    }
}

/// Which document a reader sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum View {
    /// As written (only the later of duplicate keys counts, as in every
    /// JSON decoder runtimes use): what the runtime-spec JSON Schema checks.
    Written,
    /// After `spec::validate`: unknown and mistyped members removed,
    /// unusable array items null (so later indices still match the file).
    Validated,
}

#[derive(Clone, Copy, Debug, Default)]
struct Node {
    start: u32,
    end: u32,
    /// Two flag bits and a 30-bit payload: for an object or array, the
    /// index just past its subtree; for a string with escapes, 1 + its
    /// index in `Tree::escaped`; otherwise 0.
    info: u32,
}

const PAYLOAD: u32 = (1 << 30) - 1;
/// On a key: a later member of the same object has the same key.
const SHADOWED: u32 = 1 << 30;
/// On a key: validation removed the member. On an array item: validation
/// found it unusable, and the validated view reads it as null.
const DROPPED: u32 = 1 << 31;

const CHUNK_BITS: u32 = 15;
const CHUNK: usize = 1 << CHUNK_BITS;

/// The text of a document, shared by the tree and the diagnostics' source.
/// An `Arc<String>`, not an `Arc<str>`: the bytes a caller read are taken
/// over as they are (`String::from_utf8`), where an `Arc<str>` would copy
/// them into a new allocation (README, "Memory").
pub(crate) type Text = Arc<String>;

/// A parsed JSON document. Holds the text it was read from.
#[derive(Clone)]
pub struct Tree {
    text: Text,
    chunks: Vec<Vec<Node>>,
    len: u32,
    /// Decoded text of strings with escapes: ranges into `decoded`.
    escaped: Vec<(u32, u32)>,
    decoded: String,
}

impl std::fmt::Debug for Tree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tree")
            .field("bytes", &self.text.len())
            .field("nodes", &self.len)
            .finish()
    }
}

/// One member of an object.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Member<'t> {
    pub key: &'t str,
    pub key_span: Span,
    pub key_id: NodeId,
    pub value: NodeId,
}

impl Tree {
    /// The whole input text the tree indexes.
    pub fn text(&self) -> &str {
        &self.text
    }

    pub(crate) fn root(&self) -> NodeId {
        NodeId::ROOT
    }

    /// Heap bytes the tree itself holds (not the text), for the memory measurements.
    pub fn heap_bytes(&self) -> usize {
        self.chunks
            .iter()
            .map(|c| c.capacity() * std::mem::size_of::<Node>())
            .sum::<usize>()
            + self.chunks.capacity() * std::mem::size_of::<Vec<Node>>()
            + self.escaped.capacity() * 8
            + self.decoded.capacity()
    }

    fn node(&self, id: NodeId) -> Node {
        let i = id.index();
        self.chunks
            .get(i >> CHUNK_BITS)
            .and_then(|c| c.get(i & (CHUNK - 1)))
            .copied()
            .unwrap_or(Node {
                start: u32::MAX,
                end: u32::MAX,
                info: 0,
            })
    }

    fn node_mut(&mut self, id: NodeId) -> Option<&mut Node> {
        let i = id.index();
        self.chunks
            .get_mut(i >> CHUNK_BITS)
            .and_then(|c| c.get_mut(i & (CHUNK - 1)))
    }

    fn push(&mut self, node: Node) -> NodeId {
        let id = NodeId(self.len);
        if self.chunks.last().is_none_or(|c| c.len() == CHUNK) {
            // Every node takes at least two bytes of input (`0,`), so a small
            // document does not pay for a whole chunk.
            let room = if self.chunks.is_empty() {
                (self.text.len() / 2 + 2).min(CHUNK)
            } else {
                CHUNK
            };
            self.chunks.push(Vec::with_capacity(room));
        }
        if let Some(chunk) = self.chunks.last_mut() {
            chunk.push(node);
        }
        self.len += 1;
        id
    }

    fn first_byte(&self, node: Node) -> Option<u8> {
        self.text.as_bytes().get(node.start as usize).copied()
    }

    /// The byte range of a node in the input; undefined for nodes the reader made itself.
    pub fn span(&self, id: NodeId) -> Span {
        let n = self.node(id);
        if n.start == u32::MAX {
            return Span::UNDEFINED;
        }
        Span::new(n.start as usize, n.end as usize)
    }

    /// The kind of a value as a reader with `view` sees it.
    pub(crate) fn kind(&self, id: NodeId, view: View) -> Kind {
        let n = self.node(id);
        if view == View::Validated && n.info & DROPPED != 0 {
            return Kind::Null;
        }
        match self.first_byte(n) {
            Some(b'{') => Kind::Object,
            Some(b'[') => Kind::Array,
            Some(b'"') => Kind::String,
            Some(b't' | b'f') => Kind::Bool,
            Some(b'-' | b'0'..=b'9') => Kind::Number,
            _ => Kind::Null,
        }
    }

    /// The index just past the subtree of `id`.
    fn after(&self, id: NodeId) -> NodeId {
        let n = self.node(id);
        match self.first_byte(n) {
            Some(b'{' | b'[') => NodeId(n.info & PAYLOAD),
            _ => NodeId(id.0 + 1),
        }
    }

    /// A string's decoded text (a key's too).
    pub fn str(&self, id: NodeId) -> Option<&str> {
        let n = self.node(id);
        if self.first_byte(n) != Some(b'"') {
            return None;
        }
        let escaped = n.info & PAYLOAD;
        if escaped == 0 {
            return self
                .text
                .get(n.start as usize + 1..(n.end as usize).saturating_sub(1));
        }
        let (start, end) = self.escaped.get(escaped as usize - 1).copied()?;
        self.decoded.get(start as usize..end as usize)
    }

    /// A number's text as written.
    pub(crate) fn number(&self, id: NodeId) -> Option<&str> {
        let n = self.node(id);
        match self.first_byte(n) {
            Some(b'-' | b'0'..=b'9') => self.text.get(n.start as usize..n.end as usize),
            _ => None,
        }
    }

    pub(crate) fn bool(&self, id: NodeId) -> Option<bool> {
        match self.first_byte(self.node(id)) {
            Some(b't') => Some(true),
            Some(b'f') => Some(false),
            _ => None,
        }
    }

    /// The members of an object, in document order.
    pub(crate) fn members(&self, id: NodeId, view: View) -> Members<'_> {
        let (next, end) = match self.kind(id, View::Written) {
            Kind::Object => (NodeId(id.0 + 1), self.after(id)),
            _ => (id, id),
        };
        Members {
            tree: self,
            next,
            end,
            view,
        }
    }

    /// The items of an array, in document order (voided ones included:
    /// their kind in the validated view is null).
    pub fn items(&self, id: NodeId) -> Items<'_> {
        let (next, end) = match self.kind(id, View::Written) {
            Kind::Array => (NodeId(id.0 + 1), self.after(id)),
            _ => (id, id),
        };
        Items {
            tree: self,
            next,
            end,
        }
    }

    /// The value of the last member named `key`.
    pub(crate) fn get(&self, id: NodeId, key: &str, view: View) -> Option<Member<'_>> {
        // Only one member per key is visible in either view, so the first found is the one.
        self.members(id, view).find(|m| m.key == key)
    }

    /// Removes a member from the validated view.
    pub(crate) fn drop_member(&mut self, key_id: NodeId) {
        if let Some(n) = self.node_mut(key_id) {
            n.info |= DROPPED;
        }
    }

    /// Makes an array item null in the validated view.
    pub(crate) fn void_item(&mut self, id: NodeId) {
        if let Some(n) = self.node_mut(id) {
            n.info |= DROPPED;
        }
    }

    /// Converts a value to serde_json's form (the crun emitter, OCI-only fields).
    pub(crate) fn to_serde(&self, id: NodeId, view: View) -> serde_json::Value {
        match self.kind(id, view) {
            Kind::Null => serde_json::Value::Null,
            Kind::Bool => serde_json::Value::Bool(self.bool(id).unwrap_or(false)),
            Kind::Number => number_to_serde(self.number(id).unwrap_or_default())
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
            Kind::String => serde_json::Value::String(self.str(id).unwrap_or_default().to_string()),
            Kind::Array => serde_json::Value::Array(
                self.items(id)
                    .map(|item| self.to_serde(item, view))
                    .collect(),
            ),
            Kind::Object => {
                let mut map = serde_json::Map::new();
                for m in self.members(id, view) {
                    map.insert(m.key.to_string(), self.to_serde(m.value, view));
                }
                serde_json::Value::Object(map)
            }
        }
    }
}

/// serde_json's reading of a JSON number; None where it has none (`1e400`).
pub(crate) fn number_to_serde(raw: &str) -> Option<serde_json::Number> {
    // serde_json reads `-0` as the float -0.0 (written back as `-0.0`,
    // which is no longer an integer); as JSON text it is the integer 0.
    if raw == "-0" {
        return Some(0.into());
    }
    serde_json::from_str::<serde_json::Number>(raw).ok()
}

#[derive(Clone)]
pub(crate) struct Members<'t> {
    tree: &'t Tree,
    next: NodeId,
    end: NodeId,
    view: View,
}

impl<'t> Iterator for Members<'t> {
    type Item = Member<'t>;

    fn next(&mut self) -> Option<Member<'t>> {
        while self.next < self.end {
            let key_id = self.next;
            let value = NodeId(key_id.0 + 1);
            self.next = self.tree.after(value);
            let info = self.tree.node(key_id).info;
            let hidden = match self.view {
                View::Written => SHADOWED,
                View::Validated => SHADOWED | DROPPED,
            };
            if info & hidden != 0 {
                continue;
            }
            let key = self.tree.str(key_id).unwrap_or_default();
            return Some(Member {
                key,
                key_span: self.tree.span(key_id),
                key_id,
                value,
            });
        }
        None
    }
}

/// The items of an array node, in document order.
#[derive(Clone)]
pub struct Items<'t> {
    tree: &'t Tree,
    next: NodeId,
    end: NodeId,
}

impl Iterator for Items<'_> {
    type Item = NodeId;

    fn next(&mut self) -> Option<NodeId> {
        if self.next >= self.end {
            return None;
        }
        let id = self.next;
        self.next = self.tree.after(id);
        Some(id)
    }
}

/// Why the input is not JSON the reader accepts (shown by its `Display`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// No bytes, or only white space.
    Empty,
    /// A byte sequence that is not UTF-8.
    InvalidUtf8,
    /// A UTF-8 byte order mark before the value.
    ByteOrderMark,
    /// More bytes than the reader indexes (`MAX_INPUT`).
    TooLarge,
    /// The input ends where the grammar needs more (what it expected).
    UnexpectedEnd(&'static str),
    /// Another token than the grammar allows here.
    Unexpected {
        /// The token found, as shown to the user.
        found: String,
        /// What the grammar allows at this place.
        expected: &'static str,
    },
    /// A number the JSON grammar does not allow (`01`, `1.`, `+1`).
    InvalidNumber,
    /// An escape JSON does not define.
    InvalidEscape,
    /// A raw control character inside a string.
    ControlCharacterInString,
    /// A `\u` escape of half a surrogate pair.
    LoneSurrogate,
    /// Nesting deeper than `MAX_DEPTH` levels.
    TooDeep,
    /// Text after the top-level value.
    TrailingCharacters,
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ErrorKind::Empty => write!(f, "the input is empty"),
            ErrorKind::InvalidUtf8 => write!(f, "the input is not valid UTF-8"),
            ErrorKind::ByteOrderMark => write!(
                f,
                "the input starts with a byte order mark, which JSON forbids here"
            ),
            ErrorKind::TooLarge => write!(
                f,
                "the input is larger than {} MiB, more than the reader indexes",
                MAX_INPUT >> 20
            ),
            ErrorKind::UnexpectedEnd(expected) => {
                write!(f, "the input ends early: expected {expected}")
            }
            ErrorKind::Unexpected { found, expected } => {
                write!(f, "expected {expected}, found {found}")
            }
            ErrorKind::InvalidNumber => write!(f, "this is not a valid JSON number"),
            ErrorKind::InvalidEscape => write!(f, "invalid escape sequence in a string"),
            ErrorKind::ControlCharacterInString => write!(
                f,
                "a control character must be escaped inside a JSON string"
            ),
            ErrorKind::LoneSurrogate => write!(f, "a \\u escape encodes half of a surrogate pair"),
            ErrorKind::TooDeep => write!(f, "nesting deeper than {MAX_DEPTH} levels"),
            ErrorKind::TrailingCharacters => write!(f, "unexpected text after the JSON value"),
        }
    }
}

/// A fatal syntax error: nothing after it can be trusted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    /// What is wrong.
    pub kind: ErrorKind,
    /// Where, in bytes of the input.
    pub span: Span,
}

/// A key that appears twice in one object; the later one is kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DuplicateKey {
    /// The key, unescaped.
    pub key: String,
    /// Where the first occurrence is (the one dropped).
    pub first: Span,
    /// Where the later occurrence is (the one kept).
    pub second: Span,
}

/// What the reader made of an input: the tree unless a syntax error stopped it, and the
/// duplicate keys it saw (reported, not fatal).
#[derive(Debug, Default)]
pub struct Parsed {
    /// The tree; none after a syntax error.
    pub tree: Option<Tree>,
    /// The first syntax error, which ends reading.
    pub syntax_error: Option<SyntaxError>,
    /// Every key that appeared twice in one object.
    pub duplicates: Vec<DuplicateKey>,
}

/// Checks UTF-8 first, so a bad byte is reported at its exact offset. (The spec reader does
/// the same on the bytes it owns; this is the tests' way in.)
#[cfg(test)]
fn parse_bytes(bytes: &[u8]) -> Result<Parsed, SyntaxError> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(parse_shared(Arc::new(text.to_owned()))),
        Err(e) => Err(utf8_error(bytes, &e)),
    }
}

/// The syntax error for bytes that are not UTF-8.
pub(crate) fn utf8_error(bytes: &[u8], e: &std::str::Utf8Error) -> SyntaxError {
    let at = e.valid_up_to();
    let len = e.error_len().unwrap_or(bytes.len() - at).max(1);
    SyntaxError {
        kind: ErrorKind::InvalidUtf8,
        span: Span::new(at, at + len),
    }
}

/// Reads a JSON text into a [`Tree`], noting duplicate keys.
pub fn parse(text: &str) -> Parsed {
    parse_shared(Arc::new(text.to_owned()))
}

/// Parses text that the caller shares with the tree (the diagnostics'
/// source holds the same allocation).
pub(crate) fn parse_shared(text: Text) -> Parsed {
    let mut tree = Tree {
        text: Arc::clone(&text),
        chunks: Vec::new(),
        len: 0,
        escaped: Vec::new(),
        decoded: String::new(),
    };
    if text.len() > MAX_INPUT {
        return Parsed {
            tree: None,
            syntax_error: Some(SyntaxError {
                kind: ErrorKind::TooLarge,
                span: Span::new(0, 0),
            }),
            duplicates: Vec::new(),
        };
    }
    let mut p = Parser {
        text: &text,
        bytes: text.as_bytes(),
        pos: 0,
        duplicates: Vec::new(),
        tree: &mut tree,
    };
    let result = p.document();
    let duplicates = std::mem::take(&mut p.duplicates);
    match result {
        Ok(()) => Parsed {
            tree: Some(tree),
            syntax_error: None,
            duplicates,
        },
        Err(e) => Parsed {
            tree: None,
            syntax_error: Some(e),
            duplicates,
        },
    }
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    duplicates: Vec<DuplicateKey>,
    tree: &'a mut Tree,
}

/// Offsets fit: the input is at most [`MAX_INPUT`] bytes.
fn off(pos: usize) -> u32 {
    u32::try_from(pos).unwrap_or(u32::MAX)
}

impl<'a> Parser<'a> {
    fn document(&mut self) -> Result<(), SyntaxError> {
        if self.text.starts_with('\u{feff}') {
            return Err(SyntaxError {
                kind: ErrorKind::ByteOrderMark,
                span: Span::new(0, 3),
            });
        }
        self.skip_ws();
        if self.pos >= self.bytes.len() {
            return Err(SyntaxError {
                kind: ErrorKind::Empty,
                span: Span::new(0, 0),
            });
        }
        self.value(0)?;
        self.skip_ws();
        if self.pos < self.bytes.len() {
            let end = self.char_end(self.pos);
            return Err(SyntaxError {
                kind: ErrorKind::TrailingCharacters,
                span: Span::new(self.pos, end),
            });
        }
        Ok(())
    }

    fn skip_ws(&mut self) {
        while let Some(b) = self.bytes.get(self.pos) {
            match b {
                b' ' | b'\t' | b'\n' | b'\r' => self.pos += 1,
                _ => break,
            }
        }
    }

    fn char_end(&self, at: usize) -> usize {
        let mut end = at + 1;
        while end < self.bytes.len() && !self.text.is_char_boundary(end) {
            end += 1;
        }
        end.min(self.bytes.len())
    }

    fn unexpected(&self, expected: &'static str) -> SyntaxError {
        match self.bytes.get(self.pos) {
            None => SyntaxError {
                kind: ErrorKind::UnexpectedEnd(expected),
                span: Span::new(self.pos, self.pos),
            },
            Some(_) => {
                let end = self.char_end(self.pos);
                let found = self.text.get(self.pos..end).unwrap_or("?");
                SyntaxError {
                    kind: ErrorKind::Unexpected {
                        found: format!("`{}`", found.escape_debug()),
                        expected,
                    },
                    span: Span::new(self.pos, end),
                }
            }
        }
    }

    fn leaf(&mut self, start: usize, info: u32) -> NodeId {
        self.tree.push(Node {
            start: off(start),
            end: off(self.pos),
            info,
        })
    }

    fn value(&mut self, depth: usize) -> Result<NodeId, SyntaxError> {
        match self.bytes.get(self.pos) {
            Some(b'{') => self.object(depth),
            Some(b'[') => self.array(depth),
            Some(b'"') => self.string(),
            Some(b't') => self.literal("true"),
            Some(b'f') => self.literal("false"),
            Some(b'n') => self.literal("null"),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(self.unexpected("a JSON value")),
        }
    }

    fn literal(&mut self, word: &'static str) -> Result<NodeId, SyntaxError> {
        let start = self.pos;
        if self.bytes.get(start..start + word.len()) == Some(word.as_bytes()) {
            self.pos += word.len();
            Ok(self.leaf(start, 0))
        } else {
            Err(self.unexpected("a JSON value"))
        }
    }

    fn number(&mut self) -> Result<NodeId, SyntaxError> {
        let start = self.pos;
        let digits = |p: &mut Self| {
            let s = p.pos;
            while matches!(p.bytes.get(p.pos), Some(b'0'..=b'9')) {
                p.pos += 1;
            }
            p.pos - s
        };
        if self.bytes.get(self.pos) == Some(&b'-') {
            self.pos += 1;
        }
        let int_start = self.pos;
        let n = digits(self);
        let bad = |p: &Self| SyntaxError {
            kind: ErrorKind::InvalidNumber,
            span: Span::new(start, p.pos.max(start + 1)),
        };
        if n == 0 || (n > 1 && self.bytes.get(int_start) == Some(&b'0')) {
            return Err(bad(self));
        }
        if self.bytes.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            if digits(self) == 0 {
                return Err(bad(self));
            }
        }
        if matches!(self.bytes.get(self.pos), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.bytes.get(self.pos), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if digits(self) == 0 {
                return Err(bad(self));
            }
        }
        Ok(self.leaf(start, 0))
    }

    /// Reads a string starting at the opening quote; leaves `pos` after the
    /// closing one. Text without escapes is not copied: the node points at it.
    fn string(&mut self) -> Result<NodeId, SyntaxError> {
        let open = self.pos;
        self.pos += 1;
        let mut run_start = self.pos;
        // Where this string's decoded text starts in the shared buffer, once it has an escape.
        let mut decoded_from: Option<usize> = None;
        loop {
            let Some(&b) = self.bytes.get(self.pos) else {
                self.abandon(decoded_from);
                return Err(SyntaxError {
                    kind: ErrorKind::UnexpectedEnd("a closing `\"`"),
                    span: Span::new(open, self.pos),
                });
            };
            match b {
                b'"' => {
                    let mut info = 0;
                    if let Some(from) = decoded_from {
                        self.tree
                            .decoded
                            .push_str(self.text.get(run_start..self.pos).unwrap_or_default());
                        self.tree
                            .escaped
                            .push((off(from), off(self.tree.decoded.len())));
                        info = off(self.tree.escaped.len()) & PAYLOAD;
                    }
                    self.pos += 1;
                    return Ok(self.leaf(open, info));
                }
                b'\\' => {
                    let from = *decoded_from.get_or_insert(self.tree.decoded.len());
                    self.tree
                        .decoded
                        .push_str(self.text.get(run_start..self.pos).unwrap_or_default());
                    if let Err(e) = self.escape() {
                        self.abandon(Some(from));
                        return Err(e);
                    }
                    run_start = self.pos;
                }
                0x00..=0x1f => {
                    self.abandon(decoded_from);
                    return Err(SyntaxError {
                        kind: ErrorKind::ControlCharacterInString,
                        span: Span::new(self.pos, self.pos + 1),
                    });
                }
                _ => self.pos += 1,
            }
        }
    }

    /// Forgets the decoded text of a string that turned out malformed.
    fn abandon(&mut self, decoded_from: Option<usize>) {
        if let Some(from) = decoded_from {
            self.tree.decoded.truncate(from);
        }
    }

    fn escape(&mut self) -> Result<(), SyntaxError> {
        let start = self.pos;
        let bad = |end: usize| SyntaxError {
            kind: ErrorKind::InvalidEscape,
            span: Span::new(start, end),
        };
        let c = match self.bytes.get(self.pos + 1) {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                let hi = self.hex4(self.pos + 2).ok_or_else(|| bad(self.pos + 2))?;
                self.pos += 6;
                let code = if (0xD800..0xDC00).contains(&hi) {
                    let lo = if self.bytes.get(self.pos..self.pos + 2) == Some(b"\\u") {
                        self.hex4(self.pos + 2)
                    } else {
                        None
                    };
                    match lo {
                        Some(lo) if (0xDC00..0xE000).contains(&lo) => {
                            self.pos += 6;
                            0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                        }
                        _ => {
                            return Err(SyntaxError {
                                kind: ErrorKind::LoneSurrogate,
                                span: Span::new(start, self.pos),
                            })
                        }
                    }
                } else if (0xDC00..0xE000).contains(&hi) {
                    return Err(SyntaxError {
                        kind: ErrorKind::LoneSurrogate,
                        span: Span::new(start, self.pos),
                    });
                } else {
                    hi
                };
                self.tree
                    .decoded
                    .push(char::from_u32(code).ok_or_else(|| bad(self.pos))?);
                return Ok(());
            }
            _ => return Err(bad((self.pos + 2).min(self.bytes.len()))),
        };
        self.tree.decoded.push(c);
        self.pos += 2;
        Ok(())
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        let digits = self.text.get(at..at + 4)?;
        if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        u32::from_str_radix(digits, 16).ok()
    }

    fn enter(&self, depth: usize) -> Result<usize, SyntaxError> {
        if depth >= MAX_DEPTH {
            Err(SyntaxError {
                kind: ErrorKind::TooDeep,
                span: Span::new(self.pos, self.pos + 1),
            })
        } else {
            Ok(depth + 1)
        }
    }

    /// Closes a container: its end and the index past its subtree.
    fn close(&mut self, id: NodeId) -> NodeId {
        let after = self.tree.len & PAYLOAD;
        let end = off(self.pos);
        if let Some(n) = self.tree.node_mut(id) {
            n.end = end;
            n.info = after;
        }
        id
    }

    fn array(&mut self, depth: usize) -> Result<NodeId, SyntaxError> {
        let depth = self.enter(depth)?;
        let id = self.leaf(self.pos, 0);
        self.pos += 1;
        self.skip_ws();
        if self.bytes.get(self.pos) == Some(&b']') {
            self.pos += 1;
            return Ok(self.close(id));
        }
        loop {
            self.skip_ws();
            self.value(depth)?;
            self.skip_ws();
            match self.bytes.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(self.close(id));
                }
                _ => return Err(self.unexpected("`,` or `]`")),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<NodeId, SyntaxError> {
        let depth = self.enter(depth)?;
        let id = self.leaf(self.pos, 0);
        self.pos += 1;
        self.skip_ws();
        if self.bytes.get(self.pos) == Some(&b'}') {
            self.pos += 1;
            return Ok(self.close(id));
        }
        // The keys so far, every occurrence. Most objects are small; a
        // linear scan beats hashing there, and an index is only built once
        // an object is large enough to matter (it maps a key to its latest
        // occurrence).
        let mut keys: Vec<NodeId> = Vec::new();
        let mut index: Option<HashMap<Cow<'a, str>, NodeId>> = None;
        let text: &'a str = self.text;
        loop {
            self.skip_ws();
            if self.bytes.get(self.pos) != Some(&b'"') {
                return Err(self.unexpected("a string key"));
            }
            let key_id = self.string()?;
            self.skip_ws();
            if self.bytes.get(self.pos) != Some(&b':') {
                return Err(self.unexpected("`:`"));
            }
            self.pos += 1;
            self.skip_ws();
            self.value(depth)?;
            if keys.len() >= 16 && index.is_none() {
                let mut map = HashMap::with_capacity(keys.len() * 2);
                for k in &keys {
                    map.insert(self.key_text(text, *k), *k);
                }
                index = Some(map);
            }
            let previous = match &mut index {
                Some(map) => map.insert(self.key_text(text, key_id), key_id),
                None => {
                    let key = self.tree.str(key_id).unwrap_or_default();
                    keys.iter()
                        .copied()
                        .find(|k| self.tree.str(*k) == Some(key))
                }
            };
            if let Some(first) = previous {
                let key = self.tree.str(key_id).unwrap_or_default().to_string();
                self.duplicates.push(DuplicateKey {
                    key,
                    first: self.tree.span(first),
                    second: self.tree.span(key_id),
                });
                // Keep only the last of duplicate keys, as Go's and serde's
                // decoders do: every earlier occurrence is shadowed (with an
                // index, the earlier ones were shadowed when they were found).
                let earlier: Vec<NodeId> = match index {
                    Some(_) => vec![first],
                    None => keys
                        .iter()
                        .copied()
                        .filter(|k| self.tree.str(*k) == self.tree.str(key_id))
                        .collect(),
                };
                for k in earlier {
                    if let Some(n) = self.tree.node_mut(k) {
                        n.info |= SHADOWED;
                    }
                }
            }
            if index.is_none() {
                keys.push(key_id);
            }
            self.skip_ws();
            match self.bytes.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(self.close(id));
                }
                _ => return Err(self.unexpected("`,` or `}`")),
            }
        }
    }

    /// A key for the duplicate index: borrowed from the input when it has
    /// no escapes (the decoded buffer may move while parsing goes on).
    fn key_text(&self, text: &'a str, key_id: NodeId) -> Cow<'a, str> {
        let n = self.tree.node(key_id);
        if n.info & PAYLOAD == 0 {
            Cow::Borrowed(
                text.get(n.start as usize + 1..(n.end as usize).saturating_sub(1))
                    .unwrap_or_default(),
            )
        } else {
            Cow::Owned(self.tree.str(key_id).unwrap_or_default().to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Tree {
        let p = parse(text);
        assert_eq!(p.syntax_error, None, "{text}");
        p.tree
            .unwrap_or_else(|| parse("null").tree.unwrap_or_else(|| panic!("null parses")))
    }

    fn err(text: &str) -> SyntaxError {
        parse(text).syntax_error.unwrap_or(SyntaxError {
            kind: ErrorKind::Empty,
            span: Span::UNDEFINED,
        })
    }

    #[test]
    fn spans_cover_values_and_keys() {
        let text = r#"{"a": [1, "x\ny"], "b": true}"#;
        let tree = ok(text);
        let members: Vec<Member<'_>> = tree.members(tree.root(), View::Written).collect();
        assert_eq!(
            &text[members[0].key_span.start..members[0].key_span.end],
            "\"a\""
        );
        let a = tree.span(members[0].value);
        assert_eq!(&text[a.start..a.end], "[1, \"x\\ny\"]");
        assert_eq!(
            tree.get(tree.root(), "b", View::Written)
                .map(|m| tree.span(m.value)),
            Some(Span::new(24, 28))
        );
        let items: Vec<NodeId> = tree.items(members[0].value).collect();
        assert_eq!(tree.str(items[1]), Some("x\ny"));
        assert_eq!(tree.number(items[0]), Some("1"));
    }

    #[test]
    fn unicode_escapes_and_surrogates() {
        let tree = ok(r#""\u00e9\ud83d\ude00""#);
        assert_eq!(tree.str(tree.root()), Some("é😀"));
        assert_eq!(err(r#""\ud83d""#).kind, ErrorKind::LoneSurrogate);
        assert_eq!(err(r#""\x""#).kind, ErrorKind::InvalidEscape);
    }

    #[test]
    fn rejects_what_json_rejects() {
        assert_eq!(err("").kind, ErrorKind::Empty);
        assert_eq!(err("   ").kind, ErrorKind::Empty);
        assert_eq!(err("01").kind, ErrorKind::InvalidNumber);
        assert_eq!(
            parse("-0")
                .tree
                .map(|t| t.to_serde(t.root(), View::Written).to_string())
                .as_deref(),
            Some("0")
        );
        assert_eq!(err("1.").kind, ErrorKind::InvalidNumber);
        assert_eq!(err("{} x").kind, ErrorKind::TrailingCharacters);
        assert_eq!(
            err("[1,]").kind,
            ErrorKind::Unexpected {
                found: "`]`".into(),
                expected: "a JSON value"
            }
        );
        assert_eq!(err("\"a\tb\"").kind, ErrorKind::ControlCharacterInString);
        assert!(matches!(err("{\"a\":1").kind, ErrorKind::UnexpectedEnd(_)));
        assert_eq!(err("\u{feff}{}").kind, ErrorKind::ByteOrderMark);
    }

    #[test]
    fn depth_is_limited_without_recursion_blowup() {
        let deep = "[".repeat(100_000);
        assert_eq!(err(&deep).kind, ErrorKind::TooDeep);
        let fine = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        ok(&fine);
    }

    #[test]
    fn duplicates_are_reported_and_last_wins() {
        let p = parse(r#"{"a": 1, "b": 2, "a": 3}"#);
        assert_eq!(p.duplicates.len(), 1);
        assert_eq!(p.duplicates[0].first, Span::new(1, 4));
        let tree = ok(r#"{"a": 1, "b": 2, "a": 3}"#);
        assert_eq!(
            tree.get(tree.root(), "a", View::Written)
                .and_then(|m| tree.number(m.value)),
            Some("3")
        );
        assert_eq!(tree.members(tree.root(), View::Validated).count(), 2);
        assert_eq!(
            tree.to_serde(tree.root(), View::Written).to_string(),
            r#"{"b":2,"a":3}"#
        );
    }

    #[test]
    fn duplicates_in_large_objects() {
        let mut text = String::from("{");
        for i in 0..40 {
            text.push_str(&format!("\"k{i}\": {i},"));
        }
        text.push_str("\"k3\": 0}");
        let p = parse(&text);
        assert_eq!(p.duplicates.len(), 1);
        let tree = ok(&text);
        assert_eq!(tree.members(tree.root(), View::Written).count(), 40);
        assert_eq!(
            tree.get(tree.root(), "k3", View::Written)
                .and_then(|m| tree.number(m.value)),
            Some("0")
        );
    }

    #[test]
    fn an_escaped_key_duplicates_its_plain_spelling() {
        let p = parse(r#"{"a": 1, "\u0061": 2}"#);
        assert_eq!(p.duplicates.len(), 1);
        let mut text = String::from("{");
        for i in 0..20 {
            text.push_str(&format!("\"k{i}\": {i},"));
        }
        text.push_str(r#""\u006b3": 0}"#);
        assert_eq!(parse(&text).duplicates.len(), 1);
    }

    #[test]
    fn validation_marks_hide_members_and_void_items() {
        let mut tree = ok(r#"{"a": [1, 2, 3], "b": {"c": 1}}"#);
        let a = tree
            .get(tree.root(), "a", View::Validated)
            .map(|m| m.value)
            .unwrap_or(NodeId::ROOT);
        let second = tree.items(a).nth(1).unwrap_or(NodeId::ROOT);
        tree.void_item(second);
        let b = tree
            .get(tree.root(), "b", View::Validated)
            .map(|m| m.key_id)
            .unwrap_or(NodeId::ROOT);
        tree.drop_member(b);
        assert_eq!(
            tree.to_serde(tree.root(), View::Validated).to_string(),
            r#"{"a":[1,null,3]}"#
        );
        assert_eq!(
            tree.to_serde(tree.root(), View::Written).to_string(),
            r#"{"a":[1,2,3],"b":{"c":1}}"#
        );
    }

    #[test]
    fn nodes_are_twelve_bytes_in_chunks() {
        assert_eq!(std::mem::size_of::<Node>(), 12);
        let text = format!("[{}0]", "0,".repeat(CHUNK * 2));
        let tree = ok(&text);
        assert_eq!(tree.items(tree.root()).count(), CHUNK * 2 + 1);
        assert_eq!(tree.chunks.len(), 3);
        assert!(tree.chunks.iter().all(|c| c.capacity() == CHUNK));
        assert!(ok("[1, 2]").chunks.iter().all(|c| c.capacity() <= 5));
    }

    #[test]
    fn invalid_utf8_points_at_the_byte() {
        let e = parse_bytes(b"{\"a\": \"\xff\"}").err().map(|e| e.span);
        assert_eq!(e, Some(Span::new(7, 8)));
    }
}
