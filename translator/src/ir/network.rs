//! Networking.
//!
//! Proxmox: `netN: name=…,bridge=…,ip=…,host-managed=1,type=veth`, or the
//! host's network through raw `lxc.net.0.type: none`. OCI: the network
//! namespace and `linux.netDevices`.

use crate::source::{JsonPointer, Traced};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetIf {
    /// Interface name inside the container.
    pub name: Traced<String>,
    pub bridge: String,
    /// `dhcp`, `manual` or an address with prefix length.
    pub ip: String,
    pub host_managed: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Network {
    /// A new network namespace with these interfaces.
    Isolated(Vec<NetIf>),
    /// No network namespace: the container shares the host's network.
    Host { from: JsonPointer },
    /// A network namespace given by path: not something Proxmox can join.
    #[default]
    Unset,
}
