//! How LXC 6 (Proxmox's lxc-pve) turns `lxc.init.cmd` into argv: `lxc_string_split_quoted`.
//!
//! Debian 12's LXC 5.0.2 splits on spaces only, so the simulator splits with LXC 6's rules and
//! hands the argv to `lxc-start -- ...`. The rules: C-locale whitespace separates words; a word
//! that *starts* with `'` or `"` runs to the next same quote (no escapes), and the closing quote
//! ends the word even if more text follows; quotes inside an unquoted word are literal; an
//! unterminated quoted word is dropped.

/// C `isspace` in the C locale.
fn is_c_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0b' | '\x0c' | '\r')
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Between,
    Bare,
    Quoted(char),
}

/// Splits an init command the way LXC 6 does.
pub fn split_quoted(cmd: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut state = State::Between;
    let mut word = String::new();
    for c in cmd.chars() {
        match state {
            State::Between => {
                if is_c_space(c) {
                    continue;
                }
                if c == '"' || c == '\'' {
                    state = State::Quoted(c);
                } else {
                    word.push(c);
                    state = State::Bare;
                }
            }
            State::Bare => {
                if is_c_space(c) {
                    words.push(std::mem::take(&mut word));
                    state = State::Between;
                } else {
                    word.push(c);
                }
            }
            State::Quoted(q) => {
                if c == q {
                    words.push(std::mem::take(&mut word));
                    state = State::Between;
                } else {
                    word.push(c);
                }
            }
        }
    }
    if state == State::Bare {
        words.push(word);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(cmd: &str) -> Vec<String> {
        split_quoted(cmd)
    }

    #[test]
    fn plain_and_quoted_words() {
        assert_eq!(
            s("/bin/sh -c 'echo a b'"),
            vec!["/bin/sh", "-c", "echo a b"]
        );
        assert_eq!(s("  a\t\"b 'c'\"  "), vec!["a", "b 'c'"]);
        assert_eq!(s("''"), vec![""]);
    }

    #[test]
    fn lxc_quirks() {
        // A quote inside a bare word is literal.
        assert_eq!(s("a\"b c\""), vec!["a\"b", "c\""]);
        // The closing quote ends the word; what follows starts a new one.
        assert_eq!(s("'a'b"), vec!["a", "b"]);
        // No escapes: the shell's '\'' idiom is mis-split.
        assert_eq!(s("'it'\\''s'"), vec!["it", "\\''s'"]);
        // An unterminated quoted word is dropped.
        assert_eq!(s("a 'b c"), vec!["a"]);
    }

    #[test]
    fn worked_example_from_the_notes() {
        let cmd = "/bin/sh -c 'echo \"uid=$(id -u) gid=$(id -g) cwd=$(pwd)\"' \"it's a test\"";
        assert_eq!(
            s(cmd),
            vec![
                "/bin/sh",
                "-c",
                "echo \"uid=$(id -u) gid=$(id -g) cwd=$(pwd)\"",
                "it's a test"
            ]
        );
    }
}
