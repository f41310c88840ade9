//! The lint stage: every finding for one config, from the lowering and the
//! checks that look at the spec as written, de-duplicated and suppressed as
//! configured. The codes it reports live in the rule registry, [`crate::rules`].

pub mod engine;
#[cfg(test)]
mod examples;
pub mod project;
pub(crate) mod schema;
pub mod security;
pub mod select;
pub(crate) mod spec;
pub mod suppress;
