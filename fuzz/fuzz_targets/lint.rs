//! Raw bytes → the lint engine → every report format, with the checks in
//! tests/lint_support/mod.rs (shared with the test that replays the corpus).
#![no_main]

#[path = "../../tests/lint_support/mod.rs"]
mod lint_support;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    lint_support::check(data);
});
