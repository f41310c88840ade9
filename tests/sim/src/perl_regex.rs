//! Perl patterns from the API schema, translated to the `regex` crate.
//!
//! The schema stores patterns as stringified Perl regexes (`(?^:...)` wrappers, `\0`), and
//! Proxmox applies them as `m/^$pattern$/`. Perl's `$` also matches before a final newline, so
//! the anchored form here is `^(?:P)\n?\z`.

use regex::Regex;

/// A pattern that cannot be translated (Perl features the `regex` crate lacks).
#[derive(Debug, thiserror::Error)]
#[error("cannot translate Perl pattern {pattern:?}: {reason}")]
pub struct PatternError {
    pub pattern: String,
    pub reason: String,
}

/// Rewrites Perl-only syntax into `regex` syntax.
pub fn translate(perl: &str) -> Result<String, PatternError> {
    let fail = |reason: &str| PatternError {
        pattern: perl.to_string(),
        reason: reason.to_string(),
    };
    let chars: Vec<char> = perl.chars().collect();
    let mut out = String::with_capacity(perl.len() + 8);
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        match c {
            '\\' => {
                let next = chars
                    .get(i + 1)
                    .copied()
                    .ok_or_else(|| fail("trailing backslash"))?;
                if next == '0' && !chars.get(i + 2).is_some_and(|d| d.is_ascii_digit()) {
                    // `\0` is NUL in Perl; the regex crate has no octal escapes.
                    out.push_str("\\x00");
                } else if next == 'Z' {
                    out.push_str("\\n?\\z");
                } else {
                    out.push('\\');
                    out.push(next);
                }
                i += 2;
            }
            '(' if chars.get(i + 1) == Some(&'?') && chars.get(i + 2) == Some(&'^') => {
                // `(?^flags:` resets to default flags, then applies `flags`.
                let mut j = i + 3;
                let mut flags = String::new();
                while let Some(&f) = chars.get(j) {
                    if f == ':' {
                        break;
                    }
                    if !matches!(f, 'i' | 'm' | 's' | 'x') {
                        return Err(fail("unsupported flag in (?^...)"));
                    }
                    flags.push(f);
                    j += 1;
                }
                if chars.get(j) != Some(&':') {
                    return Err(fail("unterminated (?^ group"));
                }
                out.push_str("(?");
                out.push_str(&flags);
                out.push(':');
                i = j + 1;
            }
            '(' if chars.get(i + 1) == Some(&'?')
                && matches!(chars.get(i + 2), Some('=') | Some('!') | Some('<')) =>
            {
                return Err(fail("lookaround assertions are not supported"));
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(out)
}

/// Compiles a schema pattern the way Proxmox applies it: `m/^$pattern$/`.
pub fn anchored(perl: &str) -> Result<Regex, PatternError> {
    let body = translate(perl)?;
    Regex::new(&format!("^(?:{body})\\n?\\z")).map_err(|e| PatternError {
        pattern: perl.to_string(),
        reason: e.to_string(),
    })
}

/// Compiles a Perl pattern used as-is (the caller's own anchors apply).
pub fn unanchored(perl: &str) -> Result<Regex, PatternError> {
    let body = translate(perl)?;
    Regex::new(&body).map_err(|e| PatternError {
        pattern: perl.to_string(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caret_groups_become_plain_groups() {
        assert_eq!(
            translate("(?^:\\d+(?:;\\d+)*)").unwrap(),
            "(?:\\d+(?:;\\d+)*)"
        );
        assert_eq!(translate("(?^i:ab)").unwrap(), "(?i:ab)");
    }

    #[test]
    fn nul_escape_becomes_hex() {
        assert_eq!(translate("a\\0b").unwrap(), "a\\x00b");
        assert_eq!(translate("\\x00-\\x08").unwrap(), "\\x00-\\x08");
    }

    #[test]
    fn anchored_allows_one_trailing_newline_like_perl() {
        let re = anchored("[a-z]+").unwrap();
        assert!(re.is_match("abc"));
        assert!(re.is_match("abc\n"));
        assert!(!re.is_match("abc\n\n"));
        assert!(!re.is_match("abc1"));
    }

    #[test]
    fn lookahead_is_refused() {
        assert!(translate("a(?!b)").is_err());
    }
}
