//! Shell-style quoting for *displaying* argument vectors (dry run, error messages).
//! Nothing quoted here is ever executed: the executor passes argv arrays to `execve`.

use std::borrow::Cow;
use std::ffi::OsStr;
use std::fmt::Write as _;
use std::os::unix::ffi::OsStrExt;

/// Quotes one argument so that a POSIX shell (bash for the `$'…'` form) would read it back as
/// the same bytes. Plain words stay unquoted.
pub fn quote_arg(arg: &OsStr) -> Cow<'_, str> {
    let bytes = arg.as_bytes();
    if !bytes.is_empty() && bytes.iter().all(|&b| is_plain(b)) {
        // All plain bytes are ASCII, so this is valid UTF-8.
        return String::from_utf8_lossy(bytes);
    }
    match std::str::from_utf8(bytes) {
        // The same single-quoted word plan.sh uses.
        Ok(s) if !s.chars().any(char::is_control) => {
            Cow::Owned(translator::emit::plan::quote::quote(s))
        }
        _ => Cow::Owned(ansi_c_quote(bytes)),
    }
}

fn is_plain(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"_@%+=:,./-".contains(&b)
}

/// bash's `$'…'`: the only form that can show control characters and non-UTF-8 bytes.
fn ansi_c_quote(bytes: &[u8]) -> String {
    let mut out = String::from("$'");
    for &b in bytes {
        match b {
            b'\'' => out.push_str("\\'"),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\t' => out.push_str("\\t"),
            0x20..=0x7e => out.push(char::from(b)),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    #[track_caller]
    fn check(arg: &[u8], expect: &str) {
        assert_eq!(quote_arg(OsStr::from_bytes(arg)), expect);
    }

    #[test]
    fn quoting_forms() {
        check(b"pct", "pct");
        check(b"local:vztmpl/x.tar.zst", "local:vztmpl/x.tar.zst");
        check(b"", "''");
        check(b"a b", "'a b'");
        check(b"it's", "'it'\\''s'");
        check(b"$HOME", "'$HOME'");
        check("é".as_bytes(), "'é'");
        check(b"a\nb", "$'a\\nb'");
        check(b"\xff'", "$'\\xff\\''");
    }

    /// The displayed form, read back by bash, must give the same bytes.
    #[test]
    fn bash_reads_back_the_same_bytes() {
        let samples: &[&[u8]] = &[
            b"plain",
            b"",
            b"a b",
            b"it's \"quoted\"",
            b"$(reboot)`x`;&|<>*?",
            b"tab\there\nnl",
            b"\xff\xfe bytes",
            b"back\\slash'",
        ];
        for s in samples {
            let q = quote_arg(OsStr::from_bytes(s));
            let out = Command::new("bash")
                .arg("-c")
                .arg(format!("printf %s {q}"))
                .output()
                .unwrap();
            assert_eq!(out.stdout, *s, "quoted as {q}");
        }
    }
}
