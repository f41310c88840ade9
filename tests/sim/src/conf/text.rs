//! `encode_text` / `decode_text` (pve-common ParseUtils): how descriptions become `#` lines.

/// Percent-encodes everything outside printable ASCII, plus `:` and (on the node's pve-common,
/// see [`crate::versions::Versions::escapes_percent`]) `%`, after UTF-8 encoding.
pub fn encode_text(text: &str) -> String {
    let percent = crate::versions::current().map_or(true, |v| v.escapes_percent());
    encode_text_with(text, percent)
}

/// `encode_text` with `%` escaped (pve-common 8.2.2 and later: `$unsafe` is
/// `^\x20-\x24\x26-\x39\x3b-\x7e`) or not (before commit 06f436f: `^\x20-\x39\x3b-\x7e`).
pub fn encode_text_with(text: &str, escape_percent: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        let safe =
            matches!(b, 0x20..=0x24 | 0x26..=0x39 | 0x3b..=0x7e) || (b == b'%' && !escape_percent);
        if safe {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// URI-unescapes, then decodes UTF-8 (invalid sequences become U+FFFD, as Encode does).
pub fn decode_text(data: &str) -> String {
    let bytes = data.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok());
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_colon_percent_and_non_ascii() {
        assert_eq!(
            encode_text_with("a: 100% ü\n", true),
            "a%3A 100%25 %C3%BC%0A"
        );
        assert_eq!(decode_text("a%3A 100%25 %C3%BC%0A"), "a: 100% ü\n");
        assert_eq!(decode_text("50%zz"), "50%zz");
    }

    #[test]
    fn older_pve_common_writes_percent_as_is_and_reads_percent_xx_back_as_a_byte() {
        // Why the translator escapes `%XX` for such nodes: the round trip changes `%20`.
        assert_eq!(encode_text_with("100% %20", false), "100% %20");
        assert_eq!(decode_text(&encode_text_with("100% %20", false)), "100%  ");
    }
}
