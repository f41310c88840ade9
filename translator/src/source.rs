//! The original input text, byte spans into it, and JSON pointers.
//!
//! Every diagnostic points at bytes of the text the user gave us, never at a
//! re-serialised form, so miette can underline the exact value.

use std::fmt;
use std::sync::Arc;

use crate::json::Text;

/// A half-open byte range `[start, end)` into the original input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Span {
    /// The first byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// For values the translator synthesised (defaults): nothing to underline.
    pub const UNDEFINED: Span = Span {
        start: usize::MAX,
        end: usize::MAX,
    };

    /// A span from `start` to `end`; an `end` before `start` gives an empty span.
    pub fn new(start: usize, end: usize) -> Span {
        Span {
            start,
            end: end.max(start),
        }
    }

    /// Whether the span points into the input (see [`Span::UNDEFINED`]).
    pub fn is_defined(self) -> bool {
        self.start != usize::MAX
    }

    pub(crate) fn len(self) -> usize {
        if self.is_defined() {
            self.end - self.start
        } else {
            0
        }
    }

    /// Whether the span covers no bytes (undefined spans included).
    pub fn is_empty(self) -> bool {
        self.len() == 0
    }
}

/// The text a config was read from, with a name for messages.
///
/// The text is shared with the parsed tree (one copy of the input), and
/// line/column look-ups use a sparse index (one entry per 4 KiB block), so a
/// large config costs a few bytes per kilobyte here and a look-up scans at
/// most one block, however long the line (podman writes config.json on one).
#[derive(Clone, Debug)]
pub struct Source {
    name: String,
    text: Text,
    /// For each block of [`BLOCK`] bytes: where the block starts, as a
    /// line number, the byte offset of that line's start, and the column
    /// (in characters) the block's first byte is at.
    blocks: Vec<LinePos>,
}

#[derive(Clone, Copy, Debug, Default)]
struct LinePos {
    line: u32,
    line_start: u32,
    column: u32,
}

const BLOCK: usize = 4096;

impl Source {
    /// A source named `name` (a path, or `-` for standard input) with its text.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Source {
        Source::shared(name, Arc::new(text.into()))
    }

    /// A source whose text the caller shares (the parsed tree holds it too).
    pub(crate) fn shared(name: impl Into<String>, text: Text) -> Source {
        let mut blocks = Vec::with_capacity(text.len() / BLOCK + 1);
        let mut pos = LinePos::default();
        for (i, chunk) in text.as_bytes().chunks(BLOCK).enumerate() {
            blocks.push(pos);
            let base = i * BLOCK;
            for (j, &b) in chunk.iter().enumerate() {
                pos = advance(pos, b, base + j);
            }
        }
        Source {
            name: name.into(),
            text,
            blocks,
        }
    }

    /// The name diagnostics show for the input.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The input text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Where `offset` is: line, the line's start, and the column (0-based, in characters).
    fn locate(&self, offset: usize) -> LinePos {
        let offset = offset.min(self.text.len());
        let block = offset / BLOCK;
        let mut pos = self.blocks.get(block).copied().unwrap_or_default();
        let from = (block * BLOCK).min(offset);
        for (j, &b) in self
            .text
            .as_bytes()
            .get(from..offset)
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            pos = advance(pos, b, from + j);
        }
        pos
    }

    /// 1-based line and column (column counted in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let pos = self.locate(offset);
        (pos.line as usize + 1, pos.column as usize + 1)
    }

    /// Whether the line holding `offset` is at most `max` bytes long
    /// (without its newline); looks at no more than `max` bytes past it.
    pub(crate) fn line_is_at_most(&self, offset: usize, max: usize) -> bool {
        let offset = offset.min(self.text.len());
        let start = self.locate(offset).line_start as usize;
        let Some(budget) = (start + max).checked_sub(offset) else {
            return false;
        };
        let ahead = self.text.as_bytes().get(offset..).unwrap_or_default();
        match ahead.iter().take(budget + 1).position(|&b| b == b'\n') {
            Some(_) => true,
            None => ahead.len() <= budget,
        }
    }
}

/// The position after byte `b`, which is at `at`.
fn advance(pos: LinePos, b: u8, at: usize) -> LinePos {
    if b == b'\n' {
        LinePos {
            line: pos.line + 1,
            line_start: u32::try_from(at + 1).unwrap_or(u32::MAX),
            column: 0,
        }
    } else if b & 0xC0 != 0x80 {
        // Counts characters: every byte but UTF-8 continuation bytes starts one.
        LinePos {
            column: pos.column + 1,
            ..pos
        }
    } else {
        pos
    }
}

/// An RFC 6901 JSON pointer, kept in its escaped string form (`/process/args/0`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
///
/// Held as a boxed `str` (16 bytes, no spare capacity): every traced value
/// and diagnostic carries one.
pub struct JsonPointer(Box<str>);

impl JsonPointer {
    pub(crate) fn root() -> JsonPointer {
        JsonPointer(Box::default())
    }

    /// Parses the escaped form; used for pointers written by people (tests, allow lists).
    pub fn parse(s: &str) -> JsonPointer {
        JsonPointer(s.into())
    }

    pub(crate) fn push(&self, token: &str) -> JsonPointer {
        let mut s = String::with_capacity(self.0.len() + token.len() + 1);
        s.push_str(&self.0);
        s.push('/');
        for c in token.chars() {
            match c {
                '~' => s.push_str("~0"),
                '/' => s.push_str("~1"),
                c => s.push(c),
            }
        }
        JsonPointer(s.into_boxed_str())
    }

    pub(crate) fn index(&self, i: usize) -> JsonPointer {
        // Called for every array item a lowering walks: one exact allocation,
        // no formatting machinery.
        let mut digits = [0u8; 20];
        let mut n = i;
        let mut start = digits.len();
        loop {
            start -= 1;
            if let Some(d) = digits.get_mut(start) {
                *d = b'0' + (n % 10) as u8;
            }
            n /= 10;
            if n == 0 || start == 0 {
                break;
            }
        }
        let tail = digits.get(start..).unwrap_or_default();
        let mut s = String::with_capacity(self.0.len() + 1 + tail.len());
        s.push_str(&self.0);
        s.push('/');
        s.extend(tail.iter().map(|&b| char::from(b)));
        JsonPointer(s.into_boxed_str())
    }

    /// The pointer in RFC 6901 form (empty for the whole document).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The unescaped reference tokens.
    pub(crate) fn tokens(&self) -> impl Iterator<Item = String> + '_ {
        self.0
            .split('/')
            .skip(1)
            .map(|t| t.replace("~1", "/").replace("~0", "~"))
    }

    pub(crate) fn starts_with(&self, prefix: &JsonPointer) -> bool {
        self.0 == prefix.0
            || (self.0.starts_with(&*prefix.0)
                && self.0.as_bytes().get(prefix.0.len()) == Some(&b'/'))
    }
}

impl fmt::Display for JsonPointer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("/")
        } else {
            f.write_str(&self.0)
        }
    }
}

/// A value together with where it came from.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Traced<T> {
    /// The value.
    pub value: T,
    /// Where in the input it was read; the root for synthesised values.
    pub ptr: JsonPointer,
    /// Its bytes in the input; undefined for synthesised values.
    pub span: Span,
}

impl<T> Traced<T> {
    pub(crate) fn new(value: T, ptr: JsonPointer, span: Span) -> Traced<T> {
        Traced { value, ptr, span }
    }

    /// A value the translator chose itself (a default), not read from the input.
    pub(crate) fn synthetic(value: T) -> Traced<T> {
        Traced {
            value,
            ptr: JsonPointer::root(),
            span: Span::UNDEFINED,
        }
    }

    /// The same place with the value mapped.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Traced<U> {
        Traced {
            value: f(self.value),
            ptr: self.ptr,
            span: self.span,
        }
    }

    /// The same place, borrowing the value.
    pub fn as_ref(&self) -> Traced<&T> {
        Traced {
            value: &self.value,
            ptr: self.ptr.clone(),
            span: self.span,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_appends_the_decimal_number() {
        let p = JsonPointer::parse("/mounts");
        assert_eq!(p.index(0).as_str(), "/mounts/0");
        assert_eq!(p.index(7).as_str(), "/mounts/7");
        assert_eq!(p.index(1234567).as_str(), "/mounts/1234567");
        assert_eq!(
            p.index(usize::MAX).as_str(),
            format!("/mounts/{}", usize::MAX)
        );
    }

    #[test]
    fn pointer_escapes_tokens() {
        let p = JsonPointer::root().push("annotations").push("a/b~c");
        assert_eq!(p.as_str(), "/annotations/a~1b~0c");
        assert_eq!(p.tokens().collect::<Vec<_>>(), vec!["annotations", "a/b~c"]);
    }

    #[test]
    fn pointer_prefix_is_token_aware() {
        let a = JsonPointer::parse("/process/args");
        assert!(JsonPointer::parse("/process/args/0").starts_with(&a));
        assert!(!JsonPointer::parse("/process/argsx").starts_with(&a));
    }

    #[test]
    fn line_col_across_blocks_and_long_lines() {
        let mut text = String::new();
        for i in 0..3000 {
            text.push_str(&format!("line {i} é\n"));
        }
        text.push_str(&"x".repeat(10_000));
        let s = Source::new("c.json", text.clone());
        for offset in [0, 5, 4095, 4096, 4097, 20_000, text.len() - 1, text.len()] {
            let offset = (0..=offset)
                .rev()
                .find(|&o| text.is_char_boundary(o))
                .unwrap_or(0);
            let line = text[..offset].matches('\n').count() + 1;
            let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
            assert_eq!(
                s.line_col(offset),
                (line, text[start..offset].chars().count() + 1),
                "{offset}"
            );
        }
        assert!(s.line_is_at_most(10, 240));
        assert!(!s.line_is_at_most(text.len() - 5, 240));
        assert!(s.line_is_at_most(text.len() - 5, 10_000));
        assert!(!s.line_is_at_most(text.len() - 5, 9_999));
    }

    #[test]
    fn line_col_counts_chars() {
        let s = Source::new("c.json", "{\n  \"é\": 1\n}");
        assert_eq!(s.line_col(0), (1, 1));
        assert_eq!(s.line_col(4), (2, 3));
        let one = s.text().find('1').unwrap_or(0);
        assert_eq!(s.line_col(one), (2, 8));
    }
}
