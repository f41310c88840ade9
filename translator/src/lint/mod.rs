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

/// The runtime-spec JSON Schemas `schema/…` findings are checked against, oldest first: the
/// release each describes (`1.3.0`) and its text (self-contained: every `$ref` is internal).
pub fn runtime_spec_schemas() -> impl Iterator<Item = (&'static str, &'static str)> {
    schema::vendored()
}
