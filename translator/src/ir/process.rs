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

/// Which key carries the init command, as lowering decided for the target's pve-container.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommandKey {
    /// Proxmox's `entrypoint` (pve-container 6.0.15 and later).
    Entrypoint,
    /// The raw `lxc.init.cmd` line, on older nodes.
    LxcInitCmd,
}

/// Which key carries the environment, as lowering decided for the target's pve-container.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnvKey {
    /// `lxc.environment.runtime` lines (Proxmox's `env`, 6.0.15 and later): only the init sees them.
    Runtime,
    /// Raw `lxc.environment` lines on older nodes, which hooks see too.
    Environment,
}

impl EnvKey {
    /// The LXC key of one variable line.
    pub(crate) fn lxc_key(self) -> &'static str {
        match self {
            EnvKey::Runtime => "lxc.environment.runtime",
            EnvKey::Environment => "lxc.environment",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Init {
    /// The argument vector, each element representable in LXC's init command.
    pub args: Vec<Traced<String>>,
    /// `args` joined with LXC 6's quoting rules (`'…'` or `"…"`, no escapes).
    pub command: Traced<String>,
    /// Where the command is written; `None` when it is Proxmox's default `/sbin/init` and
    /// nothing needs writing.
    pub command_key: Option<CommandKey>,
    /// Where the variables are written.
    pub env_key: EnvKey,
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

/// Proxmox's default init; an argv starting with it is a system container
/// ([`super::ContainerKind`]).
pub(crate) const SYSTEM_INIT: &str = "/sbin/init";

impl Init {
    /// Whether the command differs from Proxmox's default `/sbin/init` (alone), so that it
    /// must be written at all.
    pub(crate) fn needs_command(&self) -> bool {
        !(self.args.len() == 1 && self.args[0].value == SYSTEM_INIT)
    }
}
