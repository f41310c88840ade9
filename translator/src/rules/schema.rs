//! `schema/…`: the document does not validate against the OCI runtime-spec
//! JSON Schema of its declared version. The lint stage (`lint::schema`) reports them.

use super::Rule;
use crate::diag::Severity::Error;

pub(crate) static RULES: &[&Rule] = &[
    &TYPE, &REQUIRED, &ENUM, &PATTERN, &RANGE, &LENGTH, &NO_MATCH,
];

pub(crate) static TYPE: Rule = Rule {
    code: "schema/type",
    severity: Error,
    summary: "A value has a JSON type the runtime-spec schema does not allow",
    explanation: include_str!("schema/type.md"),
};

pub(crate) static REQUIRED: Rule = Rule {
    code: "schema/required",
    severity: Error,
    summary: "An object lacks a property the runtime-spec schema requires",
    explanation: include_str!("schema/required.md"),
};

pub(crate) static ENUM: Rule = Rule {
    code: "schema/enum",
    severity: Error,
    summary: "A value is not one of those the runtime-spec schema lists",
    explanation: include_str!("schema/enum.md"),
};

pub(crate) static PATTERN: Rule = Rule {
    code: "schema/pattern",
    severity: Error,
    summary: "A string does not have the form the runtime-spec schema requires",
    explanation: include_str!("schema/pattern.md"),
};

pub(crate) static RANGE: Rule = Rule {
    code: "schema/range",
    severity: Error,
    summary: "A number is outside the range the runtime-spec schema allows",
    explanation: include_str!("schema/range.md"),
};

pub(crate) static LENGTH: Rule = Rule {
    code: "schema/length",
    severity: Error,
    summary: "An array, string or object is shorter or longer than the runtime-spec schema allows",
    explanation: include_str!("schema/length.md"),
};

pub(crate) static NO_MATCH: Rule = Rule {
    code: "schema/no-match",
    severity: Error,
    summary: "A value matches none of the shapes the runtime-spec schema allows",
    explanation: include_str!("schema/no-match.md"),
};
