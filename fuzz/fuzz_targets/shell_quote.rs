//! Arbitrary strings → the plan script's quoting helper and comment
//! sanitiser: the quoted word must read back as exactly the input, by an
//! independent POSIX word reader (translator/tests/support/shell.rs); a
//! sanitised comment must stay on one line.
#![no_main]

#[path = "../../translator/tests/support/mod.rs"]
mod support;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|s: &str| {
    support::entry::shell_quote(s);
});
