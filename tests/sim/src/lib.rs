//! A test-only Proxmox VE simulator.
//!
//! `pct`, `pvesh` and `pvesm` stand-ins that validate every call against the vendored Proxmox API
//! schema (`schemas/pve-lxc-config.json`), refuse what Proxmox refuses with Proxmox's messages,
//! keep a fake `/etc/pve` and storage tree under `PVE_SIM_ROOT`, and run containers with real
//! LXC. See `README.md` for what differs from a real Proxmox VE host and why.

pub mod cgroup;
pub mod cli;
pub mod conf;
pub mod error;
pub mod formats;
pub mod getopt;
pub mod host;
pub mod initcmd;
pub mod lxcconf;
pub mod mountpoint;
pub mod perl_regex;
pub mod propstring;
pub mod runtime;
pub mod schema;
pub mod service;
pub mod setup;
pub mod state;
pub mod storage;
pub mod task;
pub mod template;
pub mod update;
pub mod validate;
pub mod versions;

pub use error::{PveException, SimError, SimResult};
