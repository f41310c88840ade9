//! Back ends. `pve` turns the IR into Proxmox's key/value form once; the
//! pct.conf writer and the plan both read that form, so they cannot disagree.

pub mod allow_list;
pub mod crun;
pub mod pct_conf;
pub mod plan;
pub mod pve;
