//! A strict JSON reader that keeps the byte span of every value and key.
//!
//! serde_json forgets where values were and silently keeps the last of two
//! duplicate keys; we need both spans and duplicates, so the input is read
//! once into a [`Node`] tree. Nesting is limited like serde_json's default
//! (128) so hostile inputs cannot exhaust the stack.

use crate::source::Span;

/// Deepest nesting of arrays/objects accepted (serde_json's default limit).
pub const MAX_DEPTH: usize = 128;

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub span: Span,
    pub value: Value,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    /// The number's text as written; converted on use with range checks.
    Number(String),
    String(String),
    Array(Vec<Node>),
    Object(Vec<Member>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Member {
    pub key: String,
    pub key_span: Span,
    pub value: Node,
}

impl Value {
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "an array",
            Value::Object(_) => "an object",
        }
    }
}

impl Node {
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Object(members) => members.iter().rev().find(|m| m.key == key).map(|m| &m.value),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// Converts to serde_json's value (for schema validation and the crun emitter).
    pub fn to_serde(&self) -> serde_json::Value {
        match &self.value {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            // serde_json reads `-0` as the float -0.0 (written back as `-0.0`,
            // which is no longer an integer); as JSON text it is the integer 0.
            Value::Number(raw) if raw == "-0" => serde_json::Value::Number(0.into()),
            Value::Number(raw) => serde_json::from_str::<serde_json::Number>(raw)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
            Value::String(s) => serde_json::Value::String(s.clone()),
            Value::Array(items) => serde_json::Value::Array(items.iter().map(Node::to_serde).collect()),
            Value::Object(members) => {
                let mut map = serde_json::Map::new();
                for m in members {
                    map.insert(m.key.clone(), m.value.to_serde());
                }
                serde_json::Value::Object(map)
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    Empty,
    InvalidUtf8,
    ByteOrderMark,
    UnexpectedEnd(&'static str),
    Unexpected { found: String, expected: &'static str },
    InvalidNumber,
    InvalidEscape,
    ControlCharacterInString,
    LoneSurrogate,
    TooDeep,
    TrailingCharacters,
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ErrorKind::Empty => write!(f, "the input is empty"),
            ErrorKind::InvalidUtf8 => write!(f, "the input is not valid UTF-8"),
            ErrorKind::ByteOrderMark => write!(f, "the input starts with a byte order mark, which JSON forbids here"),
            ErrorKind::UnexpectedEnd(expected) => write!(f, "the input ends early: expected {expected}"),
            ErrorKind::Unexpected { found, expected } => write!(f, "expected {expected}, found {found}"),
            ErrorKind::InvalidNumber => write!(f, "this is not a valid JSON number"),
            ErrorKind::InvalidEscape => write!(f, "invalid escape sequence in a string"),
            ErrorKind::ControlCharacterInString => write!(f, "a control character must be escaped inside a JSON string"),
            ErrorKind::LoneSurrogate => write!(f, "a \\u escape encodes half of a surrogate pair"),
            ErrorKind::TooDeep => write!(f, "nesting deeper than {MAX_DEPTH} levels"),
            ErrorKind::TrailingCharacters => write!(f, "unexpected text after the JSON value"),
        }
    }
}

/// A fatal syntax error: nothing after it can be trusted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    pub kind: ErrorKind,
    pub span: Span,
}

/// A key that appears twice in one object; the later one is kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DuplicateKey {
    pub key: String,
    pub first: Span,
    pub second: Span,
}

#[derive(Debug, Default)]
pub struct Parsed {
    pub root: Option<Node>,
    pub syntax_error: Option<SyntaxError>,
    pub duplicates: Vec<DuplicateKey>,
}

/// Checks UTF-8 first, so a bad byte is reported at its exact offset.
pub fn parse_bytes(bytes: &[u8]) -> Result<Parsed, SyntaxError> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(parse(text)),
        Err(e) => {
            let at = e.valid_up_to();
            let len = e.error_len().unwrap_or(bytes.len() - at).max(1);
            Err(SyntaxError { kind: ErrorKind::InvalidUtf8, span: Span::new(at, at + len) })
        }
    }
}

pub fn parse(text: &str) -> Parsed {
    let mut p = Parser { text, bytes: text.as_bytes(), pos: 0, duplicates: Vec::new() };
    let result = p.document();
    match result {
        Ok(root) => Parsed { root: Some(root), syntax_error: None, duplicates: p.duplicates },
        Err(e) => Parsed { root: None, syntax_error: Some(e), duplicates: p.duplicates },
    }
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    duplicates: Vec<DuplicateKey>,
}

impl<'a> Parser<'a> {
    fn document(&mut self) -> Result<Node, SyntaxError> {
        if self.text.starts_with('\u{feff}') {
            return Err(SyntaxError { kind: ErrorKind::ByteOrderMark, span: Span::new(0, 3) });
        }
        self.skip_ws();
        if self.pos >= self.bytes.len() {
            return Err(SyntaxError { kind: ErrorKind::Empty, span: Span::new(0, 0) });
        }
        let node = self.value(0)?;
        self.skip_ws();
        if self.pos < self.bytes.len() {
            let end = self.char_end(self.pos);
            return Err(SyntaxError { kind: ErrorKind::TrailingCharacters, span: Span::new(self.pos, end) });
        }
        Ok(node)
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
            None => SyntaxError { kind: ErrorKind::UnexpectedEnd(expected), span: Span::new(self.pos, self.pos) },
            Some(_) => {
                let end = self.char_end(self.pos);
                let found = self.text.get(self.pos..end).unwrap_or("?");
                SyntaxError {
                    kind: ErrorKind::Unexpected { found: format!("`{}`", found.escape_debug()), expected },
                    span: Span::new(self.pos, end),
                }
            }
        }
    }

    fn value(&mut self, depth: usize) -> Result<Node, SyntaxError> {
        let start = self.pos;
        match self.bytes.get(self.pos) {
            Some(b'{') => self.object(depth),
            Some(b'[') => self.array(depth),
            Some(b'"') => {
                let s = self.string()?;
                Ok(Node { span: Span::new(start, self.pos), value: Value::String(s) })
            }
            Some(b't') => self.literal("true", Value::Bool(true)),
            Some(b'f') => self.literal("false", Value::Bool(false)),
            Some(b'n') => self.literal("null", Value::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(self.unexpected("a JSON value")),
        }
    }

    fn literal(&mut self, word: &'static str, value: Value) -> Result<Node, SyntaxError> {
        let start = self.pos;
        if self.bytes.get(start..start + word.len()) == Some(word.as_bytes()) {
            self.pos += word.len();
            Ok(Node { span: Span::new(start, self.pos), value })
        } else {
            Err(self.unexpected("a JSON value"))
        }
    }

    fn number(&mut self) -> Result<Node, SyntaxError> {
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
        let bad = |p: &Self| SyntaxError { kind: ErrorKind::InvalidNumber, span: Span::new(start, p.pos.max(start + 1)) };
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
        let raw = self.text.get(start..self.pos).unwrap_or_default().to_string();
        Ok(Node { span: Span::new(start, self.pos), value: Value::Number(raw) })
    }

    /// Reads a string starting at the opening quote; leaves `pos` after the closing one.
    fn string(&mut self) -> Result<String, SyntaxError> {
        let open = self.pos;
        self.pos += 1;
        let mut out = String::new();
        let mut run_start = self.pos;
        loop {
            let Some(&b) = self.bytes.get(self.pos) else {
                return Err(SyntaxError { kind: ErrorKind::UnexpectedEnd("a closing `\"`"), span: Span::new(open, self.pos) });
            };
            match b {
                b'"' => {
                    out.push_str(self.text.get(run_start..self.pos).unwrap_or_default());
                    self.pos += 1;
                    return Ok(out);
                }
                b'\\' => {
                    out.push_str(self.text.get(run_start..self.pos).unwrap_or_default());
                    self.escape(&mut out)?;
                    run_start = self.pos;
                }
                0x00..=0x1f => {
                    return Err(SyntaxError { kind: ErrorKind::ControlCharacterInString, span: Span::new(self.pos, self.pos + 1) });
                }
                _ => self.pos += 1,
            }
        }
    }

    fn escape(&mut self, out: &mut String) -> Result<(), SyntaxError> {
        let start = self.pos;
        let bad = |end: usize| SyntaxError { kind: ErrorKind::InvalidEscape, span: Span::new(start, end) };
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
                    let lo = if self.bytes.get(self.pos..self.pos + 2) == Some(b"\\u") { self.hex4(self.pos + 2) } else { None };
                    match lo {
                        Some(lo) if (0xDC00..0xE000).contains(&lo) => {
                            self.pos += 6;
                            0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                        }
                        _ => return Err(SyntaxError { kind: ErrorKind::LoneSurrogate, span: Span::new(start, self.pos) }),
                    }
                } else if (0xDC00..0xE000).contains(&hi) {
                    return Err(SyntaxError { kind: ErrorKind::LoneSurrogate, span: Span::new(start, self.pos) });
                } else {
                    hi
                };
                out.push(char::from_u32(code).ok_or_else(|| bad(self.pos))?);
                return Ok(());
            }
            _ => return Err(bad((self.pos + 2).min(self.bytes.len()))),
        };
        out.push(c);
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
            Err(SyntaxError { kind: ErrorKind::TooDeep, span: Span::new(self.pos, self.pos + 1) })
        } else {
            Ok(depth + 1)
        }
    }

    fn array(&mut self, depth: usize) -> Result<Node, SyntaxError> {
        let depth = self.enter(depth)?;
        let start = self.pos;
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_ws();
        if self.bytes.get(self.pos) == Some(&b']') {
            self.pos += 1;
            return Ok(Node { span: Span::new(start, self.pos), value: Value::Array(items) });
        }
        loop {
            self.skip_ws();
            items.push(self.value(depth)?);
            self.skip_ws();
            match self.bytes.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Node { span: Span::new(start, self.pos), value: Value::Array(items) });
                }
                _ => return Err(self.unexpected("`,` or `]`")),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Node, SyntaxError> {
        let depth = self.enter(depth)?;
        let start = self.pos;
        self.pos += 1;
        let mut members: Vec<Member> = Vec::new();
        self.skip_ws();
        if self.bytes.get(self.pos) == Some(&b'}') {
            self.pos += 1;
            return Ok(Node { span: Span::new(start, self.pos), value: Value::Object(members) });
        }
        // Most objects are small; a linear scan beats hashing there, and a
        // set is only built once an object is large enough to matter.
        let mut index: Option<std::collections::HashMap<String, usize>> = None;
        loop {
            self.skip_ws();
            if self.bytes.get(self.pos) != Some(&b'"') {
                return Err(self.unexpected("a string key"));
            }
            let key_start = self.pos;
            let key = self.string()?;
            let key_span = Span::new(key_start, self.pos);
            self.skip_ws();
            if self.bytes.get(self.pos) != Some(&b':') {
                return Err(self.unexpected("`:`"));
            }
            self.pos += 1;
            self.skip_ws();
            let value = self.value(depth)?;
            if members.len() >= 16 && index.is_none() {
                index = Some(members.iter().enumerate().map(|(i, m)| (m.key.clone(), i)).collect());
            }
            let previous = match &mut index {
                Some(map) => map.insert(key.clone(), members.len()),
                None => members.iter().position(|m| m.key == key),
            };
            if let Some(i) = previous {
                if let Some(first) = members.get(i) {
                    self.duplicates.push(DuplicateKey { key: key.clone(), first: first.key_span, second: key_span });
                }
            }
            members.push(Member { key, key_span, value });
            self.skip_ws();
            match self.bytes.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    // Keep only the last of duplicate keys, as Go's and serde's decoders do.
                    if !self.duplicates.is_empty() {
                        dedup_keep_last(&mut members);
                    }
                    return Ok(Node { span: Span::new(start, self.pos), value: Value::Object(members) });
                }
                _ => return Err(self.unexpected("`,` or `}`")),
            }
        }
    }
}

fn dedup_keep_last(members: &mut Vec<Member>) {
    let mut seen = std::collections::HashSet::new();
    let mut keep = vec![false; members.len()];
    for (i, m) in members.iter().enumerate().rev() {
        if seen.insert(m.key.clone()) {
            if let Some(k) = keep.get_mut(i) {
                *k = true;
            }
        }
    }
    let mut flags = keep.into_iter();
    members.retain(|_| flags.next().unwrap_or(false));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Node {
        let p = parse(text);
        assert_eq!(p.syntax_error, None, "{text}");
        p.root.unwrap_or(Node { span: Span::UNDEFINED, value: Value::Null })
    }

    fn err(text: &str) -> SyntaxError {
        parse(text).syntax_error.unwrap_or(SyntaxError { kind: ErrorKind::Empty, span: Span::UNDEFINED })
    }

    #[test]
    fn spans_cover_values_and_keys() {
        let text = r#"{"a": [1, "x\ny"], "b": true}"#;
        let root = ok(text);
        let Value::Object(members) = &root.value else { panic!("object") };
        assert_eq!(&text[members[0].key_span.start..members[0].key_span.end], "\"a\"");
        assert_eq!(&text[members[0].value.span.start..members[0].value.span.end], "[1, \"x\\ny\"]");
        assert_eq!(root.get("b").map(|n| n.span), Some(Span::new(24, 28)));
    }

    #[test]
    fn unicode_escapes_and_surrogates() {
        assert_eq!(ok(r#""\u00e9\ud83d\ude00""#).as_str(), Some("é😀"));
        assert_eq!(err(r#""\ud83d""#).kind, ErrorKind::LoneSurrogate);
        assert_eq!(err(r#""\x""#).kind, ErrorKind::InvalidEscape);
    }

    #[test]
    fn rejects_what_json_rejects() {
        assert_eq!(err("").kind, ErrorKind::Empty);
        assert_eq!(err("   ").kind, ErrorKind::Empty);
        assert_eq!(err("01").kind, ErrorKind::InvalidNumber);
        assert_eq!(parse("-0").root.map(|n| n.to_serde().to_string()).as_deref(), Some("0"));
        assert_eq!(err("1.").kind, ErrorKind::InvalidNumber);
        assert_eq!(err("{} x").kind, ErrorKind::TrailingCharacters);
        assert_eq!(err("[1,]").kind, ErrorKind::Unexpected { found: "`]`".into(), expected: "a JSON value" });
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
        let root = p.root.unwrap_or(Node { span: Span::UNDEFINED, value: Value::Null });
        assert_eq!(root.get("a").map(|n| n.value.clone()), Some(Value::Number("3".into())));
        let Value::Object(m) = &root.value else { panic!("object") };
        assert_eq!(m.len(), 2);
    }

    #[test]
    fn duplicates_in_large_objects() {
        let mut text = String::from("{");
        for i in 0..40 {
            text.push_str(&format!("\"k{i}\": {i},"));
        }
        text.push_str("\"k3\": 0}");
        assert_eq!(parse(&text).duplicates.len(), 1);
    }

    #[test]
    fn invalid_utf8_points_at_the_byte() {
        let e = parse_bytes(b"{\"a\": \"\xff\"}").err().map(|e| e.span);
        assert_eq!(e, Some(Span::new(7, 8)));
    }
}
