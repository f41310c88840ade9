//! `spec/…`: the document does not follow the OCI runtime-spec.

use super::Rule;
use crate::diag::Severity::{Error, Warning};

pub static RULES: &[&Rule] = &[&WRONG_TYPE, &INVALID_VALUE, &OUT_OF_RANGE, &MISSING_FIELD, &UNKNOWN_FIELD, &UNSUPPORTED_VERSION];

pub static WRONG_TYPE: Rule = Rule {
    code: "spec/wrong-type",
    severity: Error,
    summary: "A field has the wrong JSON type",
    explanation: "## What it does\nReports a value whose JSON type is not the one the runtime-spec defines for that field.\n\n## Why is this bad?\nRuntimes refuse such a config (runc: \"json: cannot unmarshal\"), so the bundle cannot run anywhere.\n\n## Example\n```json\n{\"process\": {\"user\": {\"uid\": \"1000\"}}}\n```\nUse a number: `\"uid\": 1000`.",
};

pub static INVALID_VALUE: Rule = Rule {
    code: "spec/invalid-value",
    severity: Error,
    summary: "A field holds a value the runtime-spec does not allow",
    explanation: "## What it does\nReports an enumerated field (namespace type, seccomp action, propagation, …) whose value is not one the runtime-spec lists, or a string that is not of the required form.\n\n## Why is this bad?\nRuntimes refuse unknown values, or worse, some ignore them.\n\n## Example\n```json\n{\"linux\": {\"namespaces\": [{\"type\": \"networks\"}]}}\n```\nThe type is `network`.",
};

pub static OUT_OF_RANGE: Rule = Rule {
    code: "spec/out-of-range",
    severity: Error,
    summary: "A number does not fit the field's integer type",
    explanation: "## What it does\nReports numbers that are fractional where an integer is required, or outside the range of the field's type (uint32 for ids, int64 for limits, …).\n\n## Why is this bad?\nRuntimes written in Go or C refuse or silently truncate them; a uid of 4294967296 must not become 0.\n\n## Example\n```json\n{\"process\": {\"user\": {\"uid\": 4294967296, \"gid\": 0}}}\n```",
};

pub static MISSING_FIELD: Rule = Rule {
    code: "spec/missing-field",
    severity: Error,
    summary: "A field the runtime-spec requires is missing",
    explanation: "## What it does\nReports required fields that are absent: `ociVersion`, a mount's `destination`, a namespace's `type`, an id mapping's `containerID`/`hostID`/`size`, `process.cwd` when a process is given, and the like.\n\n## Why is this bad?\nWithout them the configuration is ambiguous; runtimes refuse it.\n\n## Example\n```json\n{\"process\": {\"args\": [\"sh\"]}}\n```\nAdd `\"ociVersion\": \"1.2.0\"` and `\"cwd\": \"/\"`.",
};

pub static UNKNOWN_FIELD: Rule = Rule {
    code: "spec/unknown-field",
    severity: Warning,
    summary: "A field is not part of the runtime-spec",
    explanation: "## What it does\nReports object keys that the runtime-spec (up to 1.3) does not define, with a suggestion when the key looks like a misspelt one.\n\n## Why is this bad?\nRuntimes ignore unknown keys silently, so a typo such as `hostnmae` is lost without a word. Extensions belong in `annotations`.\n\n## Example\n```json\n{\"hostnmae\": \"web\"}\n```",
};

pub static UNSUPPORTED_VERSION: Rule = Rule {
    code: "spec/unsupported-version",
    severity: Error,
    summary: "The declared ociVersion is not 1.0.x to 1.3.x",
    explanation: "## What it does\nRefuses configs whose `ociVersion` is not a 1.0, 1.1, 1.2 or 1.3 release (with an optional pre-release suffix such as `1.0.2-dev`).\n\n## Why is this bad?\nThe meaning of fields can change between major versions; translating a config written for a spec we do not know would be guesswork.\n\n## Example\n```json\n{\"ociVersion\": \"2.0.0\"}\n```",
};
