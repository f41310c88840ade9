//! Raw bytes → parse → lower → every emitter, for a PVE 9.2, a PVE 9.0 and a
//! host-path-rootfs target. Panics on a crash, a pct.conf line outside
//! Proxmox's grammar or allow-list, an init command that does not split back
//! into its arguments, a bad diagnostic span, or two runs that differ.
#![no_main]

#[path = "../../translator/tests/support/mod.rs"]
mod support;

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use support::pct_grammar::Schema;

static SCHEMA: OnceLock<Schema> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    support::entry::raw_bytes(SCHEMA.get_or_init(Schema::load), data);
});
