//! The `proxmox-lxcri` command line: a thin layer over the translator and the
//! executor. It owns all I/O the translator must not do: reading bundles,
//! writing output, rendering diagnostics, choosing exit codes.

pub mod cli;
