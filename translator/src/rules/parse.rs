//! `parse/…`: the bytes are not a JSON document we can read.

use super::Rule;
use crate::diag::Severity::Error;

pub static RULES: &[&Rule] = &[&EMPTY, &INVALID_UTF8, &SYNTAX, &TOO_DEEP, &DUPLICATE_KEY];

pub static EMPTY: Rule = Rule {
    code: "parse/empty",
    severity: Error,
    summary: "The config file is empty",
    explanation: "## What it does\nReports a config.json with no JSON value in it.\n\n## Why is this bad?\nA runtime cannot start a container without a configuration.\n\n## Example\nA zero-byte `config.json`, or one holding only white space.\n\nUse instead: at least the fields the runtime-spec requires:\n```json\n{\"ociVersion\": \"1.2.0\", \"root\": {\"path\": \"rootfs\"}, \"process\": {\"cwd\": \"/\", \"args\": [\"/app\"]}}\n```",
};

pub static INVALID_UTF8: Rule = Rule {
    code: "parse/invalid-utf8",
    severity: Error,
    summary: "The config file is not valid UTF-8",
    explanation: "## What it does\nReports the first byte that is not valid UTF-8.\n\n## Why is this bad?\nJSON text must be UTF-8 (RFC 8259 §8.1); runtimes disagree on what to do with other bytes, so the file is refused.\n\n## Example\nA file saved as Latin-1, where `é` is the single byte 0xE9: `{\"annotations\": {\"owner\": \"Jos\\xe9\"}}`.\n\nUse instead: the same file saved as UTF-8:\n```json\n{\"annotations\": {\"owner\": \"José\"}}\n```",
};

pub static SYNTAX: Rule = Rule {
    code: "parse/syntax",
    severity: Error,
    summary: "The config file is not valid JSON",
    explanation: "## What it does\nReports the first JSON syntax error: a missing comma, a trailing comma, an unterminated string, a bad escape, a byte order mark, text after the document.\n\n## Why is this bad?\nNothing after a syntax error can be trusted, so no translation is attempted.\n\n## Example\n```json\n{\"process\": {\"args\": [\"sh\",]}}\n```\nUse instead: no comma after the last element:\n```json\n{\"process\": {\"args\": [\"sh\"]}}\n```",
};

pub static TOO_DEEP: Rule = Rule {
    code: "parse/too-deep",
    severity: Error,
    summary: "The JSON document is nested too deeply",
    explanation: "## What it does\nRefuses documents nested deeper than 128 arrays or objects.\n\n## Why is this bad?\nNo valid runtime configuration needs more than a handful of levels; very deep nesting is a way to exhaust a parser's stack.\n\n## Example\n`[[[[[[…]]]]]]` a hundred thousand levels deep.\n\nUse instead: the few levels a runtime config has:\n```json\n{\"linux\": {\"resources\": {\"memory\": {\"limit\": 268435456}}}}\n```",
};

pub static DUPLICATE_KEY: Rule = Rule {
    code: "parse/duplicate-key",
    severity: Error,
    summary: "An object has the same key twice",
    explanation: "## What it does\nReports a key that appears twice in one JSON object, and points at both.\n\n## Why is this bad?\nParsers disagree about which value wins (Go and serde keep the last, others the first), so a reviewer and the runtime may read different configurations.\n\n## Example\n```json\n{\"process\": {\"user\": {\"uid\": 1000, \"uid\": 0, \"gid\": 1000}}}\n```\nUse instead: each key once, with the value meant:\n```json\n{\"process\": {\"user\": {\"uid\": 1000, \"gid\": 1000}}}\n```",
};
