//! `parse/…`: the bytes are not a JSON document we can read.

use super::Rule;
use crate::diag::Severity::Error;

pub(crate) static RULES: &[&Rule] = &[&EMPTY, &INVALID_UTF8, &SYNTAX, &TOO_DEEP, &DUPLICATE_KEY];

pub(crate) static EMPTY: Rule = Rule {
    code: "parse/empty",
    severity: Error,
    summary: "The config file is empty",
    explanation: include_str!("parse/empty.md"),
};

pub(crate) static INVALID_UTF8: Rule = Rule {
    code: "parse/invalid-utf8",
    severity: Error,
    summary: "The config file is not valid UTF-8",
    explanation: include_str!("parse/invalid-utf8.md"),
};

pub(crate) static SYNTAX: Rule = Rule {
    code: "parse/syntax",
    severity: Error,
    summary: "The config file is not valid JSON",
    explanation: include_str!("parse/syntax.md"),
};

pub(crate) static TOO_DEEP: Rule = Rule {
    code: "parse/too-deep",
    severity: Error,
    summary: "The JSON document is nested too deeply",
    explanation: include_str!("parse/too-deep.md"),
};

pub(crate) static DUPLICATE_KEY: Rule = Rule {
    code: "parse/duplicate-key",
    severity: Error,
    summary: "An object has the same key twice",
    explanation: include_str!("parse/duplicate-key.md"),
};
