//! Arbitrary strings → the plan script's quoting helper and comment
//! sanitiser. The quoted word must read back (by POSIX single-quote rules)
//! as exactly the input, with no character outside quotes other than the
//! `\'` escape; a sanitised comment must stay on one line and hold no control,
//! line-separator or bidi character.
#![no_main]

use libfuzzer_sys::fuzz_target;
use translator::emit::plan::quote::{comment, quote};

/// Reads one shell word made of single-quoted runs and `\'` escapes, the
/// only forms `quote` may produce; anything else is an unquoted character.
fn unquote(word: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = word.chars();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '\'') => quoted = false,
            (true, c) => out.push(c),
            (false, '\'') => quoted = true,
            (false, '\\') => match chars.next() {
                Some('\'') => out.push('\''),
                other => return Err(format!("backslash escape of {other:?} outside quotes")),
            },
            (false, c) => return Err(format!("unquoted {c:?}")),
        }
    }
    if quoted {
        return Err("unterminated quote".into());
    }
    Ok(out)
}

fn forbidden_in_comment(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fuzz_target!(|s: &str| {
    let word = quote(s);
    match unquote(&word) {
        Ok(back) => assert_eq!(back, s, "quote({s:?}) = {word} reads back differently"),
        Err(e) => panic!("quote({s:?}) = {word}: {e}"),
    }
    assert!(word.starts_with('\'') && word.ends_with('\''), "{word}");
    let c = comment(s);
    assert!(!c.chars().any(forbidden_in_comment), "comment({s:?}) = {c:?}");
});
