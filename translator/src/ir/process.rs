//! The container's init process.
//!
//! Proxmox: `entrypoint` (≥ 6.0.15) or raw `lxc.init.cmd`; `lxc.init.cwd`;
//! `lxc.init.uid/gid/groups` (≥ 6.1.0); `lxc.environment.runtime` lines
//! (≥ 6.0.15) or `lxc.environment`; `cmode: console`; `lxc.signal.halt`.
//! OCI: `process.*`.

use crate::source::Traced;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvVar {
    pub name: String,
    pub value: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rlimit {
    /// Lower-case LXC name without the prefix: `nofile` for `RLIMIT_NOFILE`.
    pub name: String,
    pub soft: u64,
    pub hard: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Init {
    /// The argument vector, each element representable in LXC's init command.
    pub args: Vec<Traced<String>>,
    /// `args` joined with LXC 6's quoting rules (`'…'` or `"…"`, no escapes).
    pub command: Traced<String>,
    pub env: Vec<Traced<EnvVar>>,
    pub cwd: Option<Traced<String>>,
    pub uid: Option<Traced<u32>>,
    pub gid: Option<Traced<u32>>,
    pub groups: Vec<Traced<u32>>,
    pub terminal: bool,
    /// The signal `pct shutdown` sends (`lxc.signal.halt`).
    pub halt_signal: Option<Traced<String>>,
    pub rlimits: Vec<Traced<Rlimit>>,
}

/// Proxmox's default init; an argv starting with it is a system container.
pub const SYSTEM_INIT: &str = "/sbin/init";

impl Init {
    /// Proxmox's OCI import decides by argv[0]: `/sbin/init` (with or without
    /// arguments) is a system container, anything else an application.
    pub fn is_system_init(&self) -> bool {
        self.args.first().is_some_and(|a| a.value == SYSTEM_INIT)
    }

    /// Whether the command differs from Proxmox's default `/sbin/init`.
    pub fn needs_entrypoint(&self) -> bool {
        !(self.args.len() == 1 && self.is_system_init())
    }
}
