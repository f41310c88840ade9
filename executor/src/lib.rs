//! Executor: applies plans on a host.

pub mod apply;
pub mod bundle;
pub mod crun;
pub mod fs;
pub mod host;
pub mod id;
pub mod image;
pub mod lock;
pub mod node;
pub mod pack;
pub mod pve;
pub mod runtime;
pub mod state;
