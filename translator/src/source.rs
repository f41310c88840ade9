//! The original input text, byte spans into it, and JSON pointers.
//!
//! Every diagnostic points at bytes of the text the user gave us, never at a
//! re-serialised form, so miette can underline the exact value.

use std::fmt;

/// A half-open byte range `[start, end)` into the original input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    /// For values the translator synthesised (defaults): nothing to underline.
    pub const UNDEFINED: Span = Span { start: usize::MAX, end: usize::MAX };

    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end: end.max(start) }
    }

    pub fn is_defined(self) -> bool {
        self.start != usize::MAX
    }

    pub fn len(self) -> usize {
        if self.is_defined() {
            self.end - self.start
        } else {
            0
        }
    }

    pub fn is_empty(self) -> bool {
        self.len() == 0
    }
}

/// The text a config was read from, with a name for messages.
#[derive(Clone, Debug)]
pub struct Source {
    name: String,
    text: String,
    /// Byte offsets of line starts, for line/column look-ups.
    line_starts: Vec<usize>,
}

impl Source {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Source {
        let text = text.into();
        let mut line_starts = vec![0];
        line_starts.extend(text.bytes().enumerate().filter(|(_, b)| *b == b'\n').map(|(i, _)| i + 1));
        Source { name: name.into(), text, line_starts }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// 1-based line and column (column counted in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let start = self.line_starts.get(line).copied().unwrap_or(0);
        let col = self.text.get(start..offset).map(|s| s.chars().count()).unwrap_or(offset - start);
        (line + 1, col + 1)
    }
}

/// An RFC 6901 JSON pointer, kept in its escaped string form (`/process/args/0`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct JsonPointer(String);

impl JsonPointer {
    pub fn root() -> JsonPointer {
        JsonPointer(String::new())
    }

    /// Parses the escaped form; used for pointers written by people (tests, allow lists).
    pub fn parse(s: &str) -> JsonPointer {
        JsonPointer(s.to_string())
    }

    pub fn push(&self, token: &str) -> JsonPointer {
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
        JsonPointer(s)
    }

    pub fn index(&self, i: usize) -> JsonPointer {
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
        JsonPointer(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The unescaped reference tokens.
    pub fn tokens(&self) -> impl Iterator<Item = String> + '_ {
        self.0.split('/').skip(1).map(|t| t.replace("~1", "/").replace("~0", "~"))
    }

    pub fn starts_with(&self, prefix: &JsonPointer) -> bool {
        self.0 == prefix.0 || (self.0.starts_with(&prefix.0) && self.0.as_bytes().get(prefix.0.len()) == Some(&b'/'))
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
    pub value: T,
    pub ptr: JsonPointer,
    pub span: Span,
}

impl<T> Traced<T> {
    pub fn new(value: T, ptr: JsonPointer, span: Span) -> Traced<T> {
        Traced { value, ptr, span }
    }

    /// A value the translator chose itself (a default), not read from the input.
    pub fn synthetic(value: T) -> Traced<T> {
        Traced { value, ptr: JsonPointer::root(), span: Span::UNDEFINED }
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Traced<U> {
        Traced { value: f(self.value), ptr: self.ptr, span: self.span }
    }

    pub fn as_ref(&self) -> Traced<&T> {
        Traced { value: &self.value, ptr: self.ptr.clone(), span: self.span }
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
        assert_eq!(p.index(usize::MAX).as_str(), format!("/mounts/{}", usize::MAX));
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
    fn line_col_counts_chars() {
        let s = Source::new("c.json", "{\n  \"é\": 1\n}");
        assert_eq!(s.line_col(0), (1, 1));
        assert_eq!(s.line_col(4), (2, 3));
        let one = s.text().find('1').unwrap_or(0);
        assert_eq!(s.line_col(one), (2, 8));
    }
}
