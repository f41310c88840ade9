//! How a POSIX shell (XCU 2.2, 2.3) reads words and where a script's quoted
//! regions are, written independently of the plan's quoting helper so the
//! two can be checked against each other.

/// Characters that mean something to the shell when they are not quoted.
pub const METACHARACTERS: &str = "|&;<>()$`\\\"' \t\n*?[#~=%{}!";

/// Splits `s` into words the way the shell's quote removal does, refusing
/// anything that would be expanded or interpreted (an unquoted `$`, `` ` ``,
/// glob or operator): for the output of a quoting function, which must be
/// nothing but literal words.
pub fn split_words(s: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' => {
                if let Some(w) = word.take() {
                    words.push(w);
                }
            }
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(d) => w.push(d),
                        None => return Err("unterminated single quote".into()),
                    }
                }
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(d @ ('$' | '`' | '"' | '\\')) => w.push(d),
                            Some('\n') => {}
                            Some(d) => {
                                w.push('\\');
                                w.push(d);
                            }
                            None => return Err("unterminated double quote".into()),
                        },
                        Some(d @ ('$' | '`')) => {
                            return Err(format!("`{d}` would be expanded inside double quotes"))
                        }
                        Some(d) => w.push(d),
                        None => return Err("unterminated double quote".into()),
                    }
                }
            }
            '\\' => match chars.next() {
                Some('\n') => {}
                Some(d) => word.get_or_insert_with(String::new).push(d),
                None => return Err("a trailing backslash".into()),
            },
            c if METACHARACTERS.contains(c) => {
                return Err(format!("unquoted `{}`", c.escape_debug()))
            }
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    if let Some(w) = word {
        words.push(w);
    }
    Ok(words)
}

/// Checks a whole script lexically: quotes balance, comments and unquoted
/// text hold no control or bidi characters, and only single-quoted words
/// (which are literal) may span lines.
pub fn check_script(text: &str, forbidden: impl Fn(char) -> bool) -> Result<(), String> {
    #[derive(PartialEq)]
    enum State {
        Plain,
        Single,
        Double,
        Comment,
    }
    let mut state = State::Plain;
    let mut line = 1;
    let mut prev = '\n';
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let at = |why: &str| Err(format!("line {line}: {why} ({c:?})"));
        match state {
            State::Plain => match c {
                '\'' => state = State::Single,
                '"' => state = State::Double,
                '#' if prev.is_whitespace() || prev == '\n' => state = State::Comment,
                '\\' => {
                    chars.next();
                }
                '\n' | '\t' => {}
                c if forbidden(c) => return at("control character outside quotes"),
                _ => {}
            },
            State::Single => match c {
                '\'' => state = State::Plain,
                '\n' => {}
                c if forbidden(c) => return at("control character in a quoted word"),
                _ => {}
            },
            State::Double => match c {
                '"' => state = State::Plain,
                '\\' => {
                    chars.next();
                }
                '\n' => return at("a double-quoted word spans lines"),
                c if forbidden(c) => return at("control character in a double-quoted word"),
                _ => {}
            },
            State::Comment => match c {
                '\n' => state = State::Plain,
                c if forbidden(c) => return at("control character in a comment"),
                _ => {}
            },
        }
        if c == '\n' {
            line += 1;
        }
        prev = c;
    }
    match state {
        State::Plain | State::Comment => Ok(()),
        _ => Err("the script ends inside a quoted word".into()),
    }
}
