//! Executor: applies plans on a host.

pub mod host;
pub mod id;
pub mod lock;
pub mod pack;
pub mod state;
