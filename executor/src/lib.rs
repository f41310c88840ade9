//! Executor: applies plans on a host.
