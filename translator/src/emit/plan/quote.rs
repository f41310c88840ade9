//! The one quoting function of the shell rendering, and the one comment
//! sanitiser. Every value from a plan reaches the script through one of them.

/// Quotes `s` as one POSIX shell word: the whole value in single quotes, each
/// `'` written as `'\''` (close, escaped quote, reopen). Inside single quotes
/// no character is special to the shell, not `$`, `` ` ``, `\`, `"` or a line
/// break, so the word is exactly `s`. Always quotes, even the empty string.
///
/// The shell cannot pass a NUL byte in an argument; plans never hold one
/// (Rust strings from lowered configs, which refuse control characters).
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

/// Makes `s` safe inside a `#` comment: a line break would end the comment
/// and turn the rest into a command, so control characters (and the Unicode
/// line separators and bidirectional overrides, which make a reviewer see a
/// different line than the shell runs) are written as `\u{…}` escapes.
pub fn comment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if needs_escape(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_every_word() {
        assert_eq!(quote(""), "''");
        assert_eq!(quote("pct"), "'pct'");
        assert_eq!(quote("it's"), "'it'\\''s'");
        assert_eq!(quote("'"), "''\\'''");
        assert_eq!(quote("$(id) `id` \\n \"x\""), "'$(id) `id` \\n \"x\"'");
        assert_eq!(quote("a\nb"), "'a\nb'");
    }

    #[test]
    fn comments_stay_on_one_line() {
        assert_eq!(comment("a\nrm -rf /"), "a\\u{a}rm -rf /");
        assert_eq!(comment("x\r\u{7f}\u{85}"), "x\\u{d}\\u{7f}\\u{85}");
        assert_eq!(comment("left\u{202e}right"), "left\\u{202e}right");
        assert_eq!(comment("é ✓ $(x)"), "é ✓ $(x)");
    }
}
