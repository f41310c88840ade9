//! LXC 6's `lxc_string_split_quoted` (src/lxc/utils.c), which splits
//! `lxc.init.cmd` and so Proxmox's `entrypoint`: white space separates words,
//! a word starting with `'` or `"` runs to the next same quote, no escapes,
//! and an unterminated quoted word is dropped. White space is C's `isspace`.

pub fn lxc_split(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let isspace = |c: char| matches!(c, ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r');
    let mut chars = s.chars().peekable();
    while let Some(&c) = chars.peek() {
        if isspace(c) {
            chars.next();
            continue;
        }
        let mut word = String::new();
        if c == '\'' || c == '"' {
            chars.next();
            let mut closed = false;
            for d in chars.by_ref() {
                if d == c {
                    closed = true;
                    break;
                }
                word.push(d);
            }
            if !closed {
                break;
            }
        } else {
            while let Some(&d) = chars.peek() {
                if isspace(d) {
                    break;
                }
                word.push(d);
                chars.next();
            }
        }
        out.push(word);
    }
    out
}
