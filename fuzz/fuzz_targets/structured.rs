//! Structure-aware: the bytes drive a generator that walks the runtime-spec
//! field table (translator/tests/support/gen.rs) and picks a target node; the
//! document then goes through parse → lower → every emitter with the same
//! checks as `parse_lower_emit`.
#![no_main]

#[path = "../../translator/tests/support/mod.rs"]
mod support;

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use support::pct_grammar::Schema;

static SCHEMA: OnceLock<Schema> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    support::gen::structured(SCHEMA.get_or_init(Schema::load), data);
});
