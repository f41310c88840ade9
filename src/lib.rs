//! The `proxmox-lxcri` command line: a thin layer over the translator and the
//! executor. It owns all I/O the translator must not do: reading bundles,
//! writing output, rendering diagnostics, choosing exit codes.

pub mod cli;

/// The static `proxmox-lxcri-init` (init/main.rs, built by build.rs): the first process of a
/// container an engine creates on the pct back end
/// (`executor::runtime::engine_pct`).
pub static INIT: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/proxmox-lxcri-init"));
