//! `schema/…`: the document does not validate against the OCI runtime-spec
//! JSON Schema of its declared version (vendored in `schemas/runtime-spec/`).
//!
//! The field table (`spec::validate`) already checks most of what the schema
//! says, with better messages; the schema adds what the table does not model
//! (value ranges such as `fileMode ≤ 512`, patterns such as huge page sizes,
//! the sections for other platforms). The lint engine drops schema findings
//! where a `spec/…` finding already covers the same value.

use std::sync::OnceLock;

use crate::diag::Diagnostic;
use crate::json::{Kind, Tree, View};
use crate::json_instance::{TreeJson, TreeNode};
use crate::rules::schema::{ENUM, LENGTH, NO_MATCH, PATTERN, RANGE, REQUIRED, TYPE};
use crate::rules::Rule;
use crate::source::{JsonPointer, Span};
use crate::spec::OciVersion;

/// One vendored schema: the runtime-spec minor release it describes, and its
/// validator, compiled on first use (compiling costs milliseconds; a lint of
/// a thousand bundles compiles each version once).
struct Vendored {
    minor: u32,
    release: &'static str,
    text: &'static str,
    validator: OnceLock<Option<jsonschema::Validator<TreeJson>>>,
}

impl Vendored {
    const fn new(minor: u32, release: &'static str, text: &'static str) -> Vendored {
        Vendored {
            minor,
            release,
            text,
            validator: OnceLock::new(),
        }
    }

    fn validator(&self) -> Option<&jsonschema::Validator<TreeJson>> {
        self.validator
            .get_or_init(|| {
                let schema: serde_json::Value = serde_json::from_str(self.text).ok()?;
                jsonschema::options_for::<TreeJson>()
                    .with_draft(jsonschema::Draft::Draft4)
                    .build(&schema)
                    .ok()
            })
            .as_ref()
    }
}

// The bundled files are self-contained (every `$ref` is internal), so no
// resolver is needed and nothing is ever fetched.
static SCHEMAS: [Vendored; 4] = [
    Vendored::new(
        0,
        "1.0.2",
        include_str!("../../../schemas/runtime-spec/bundled/config-schema-v1.0.json"),
    ),
    Vendored::new(
        1,
        "1.1.0",
        include_str!("../../../schemas/runtime-spec/bundled/config-schema-v1.1.json"),
    ),
    Vendored::new(
        2,
        "1.2.1",
        include_str!("../../../schemas/runtime-spec/bundled/config-schema-v1.2.json"),
    ),
    Vendored::new(
        3,
        "1.3.0",
        include_str!("../../../schemas/runtime-spec/bundled/config-schema-v1.3.json"),
    ),
];

/// The vendored runtime-spec JSON Schemas, oldest first: each release (`1.3.0`) and the
/// schema's text, as `proxmox-lxcri schema runtime-spec-1.3` prints it.
pub(crate) fn vendored() -> impl Iterator<Item = (&'static str, &'static str)> {
    SCHEMAS.iter().map(|s| (s.release, s.text))
}

/// The schema for a declared version: the same minor release; the newest
/// when the version is unknown (missing `ociVersion`).
fn schema_for(version: Option<OciVersion>) -> Option<&'static Vendored> {
    match version {
        Some(v) if v.major == 1 => SCHEMAS.iter().find(|s| s.minor == v.minor),
        Some(_) => None,
        None => SCHEMAS.last(),
    }
}

/// The runtime-spec release whose schema `check` uses for a declared version;
/// only the tests ask, `check` names the release in its messages itself.
#[cfg(test)]
fn schema_release(version: Option<OciVersion>) -> Option<&'static str> {
    schema_for(version).map(|s| s.release)
}

/// Validates the document as written (before the field table removed anything).
/// `declared` is the parsed `ociVersion`, None when it is missing; a config
/// whose version is unsupported is not validated (that is reported elsewhere).
///
/// The validator reads the tree in place (`json_instance`), so the check
/// costs no copy of the document.
pub(crate) fn check(tree: &Tree, declared: Option<OciVersion>) -> Vec<Diagnostic> {
    let Some(schema) = schema_for(declared) else {
        return Vec::new();
    };
    // Every vendored schema compiles (tested below); a failure here would be a
    // build defect, and the other families still run.
    let Some(validator) = schema.validator() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for error in validator.iter_errors(TreeNode::root(tree)) {
        let keyword = error.kind().keyword().to_string();
        let pointer = JsonPointer::parse(error.instance_path().as_str());
        let span = span_of(tree, &pointer);
        let what = if pointer.as_str().is_empty() {
            "the config".to_string()
        } else {
            format!("`{pointer}`")
        };
        let detail = shorten(&error.to_string(), 200);
        out.push(
            Diagnostic::new(
                rule_for(&keyword),
                format!(
                    "{what} does not match the runtime-spec {} schema: {detail}",
                    schema.release
                ),
            )
            .at(&pointer, span)
            .with_label(format!("fails `{keyword}`")),
        );
    }
    out
}

fn rule_for(keyword: &str) -> &'static Rule {
    match keyword {
        "type" => &TYPE,
        "required" => &REQUIRED,
        "enum" | "const" => &ENUM,
        "pattern" | "format" => &PATTERN,
        "minimum" | "maximum" | "exclusiveMinimum" | "exclusiveMaximum" | "multipleOf" => &RANGE,
        "minItems" | "maxItems" | "minLength" | "maxLength" | "minProperties" | "maxProperties" => {
            &LENGTH
        }
        _ => &NO_MATCH,
    }
}

/// The span a diagnostic about `pointer` underlines: the value, or for an
/// object or array the key it belongs to (as `Cursor::span` does).
fn span_of(tree: &Tree, pointer: &JsonPointer) -> Span {
    let mut node = tree.root();
    let mut key_span = Span::UNDEFINED;
    for token in pointer.tokens() {
        let next = match tree.kind(node, View::Written) {
            Kind::Object => tree
                .get(node, &token, View::Written)
                .map(|m| (m.value, m.key_span)),
            Kind::Array => token
                .parse::<usize>()
                .ok()
                .and_then(|i| tree.items(node).nth(i))
                .map(|n| (n, Span::UNDEFINED)),
            _ => None,
        };
        let Some((child, key)) = next else { break };
        node = child;
        key_span = key;
    }
    let span = tree.span(node);
    match tree.kind(node, View::Written) {
        Kind::Object | Kind::Array if key_span.is_defined() => key_span,
        Kind::Object | Kind::Array if span.is_defined() => Span::new(span.start, span.start + 1),
        _ => span,
    }
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let cut: String = text.chars().take(max).collect();
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(text: &str) -> Vec<String> {
        let parsed = crate::json::parse(text);
        let Some(tree) = parsed.tree else {
            return vec!["unparsed".into()];
        };
        let version = tree
            .get(tree.root(), "ociVersion", View::Written)
            .and_then(|m| tree.str(m.value))
            .and_then(OciVersion::parse);
        check(&tree, version)
            .iter()
            .map(|d| {
                format!(
                    "{} {}",
                    d.code(),
                    d.pointer.as_ref().map(JsonPointer::as_str).unwrap_or("")
                )
            })
            .collect()
    }

    #[test]
    fn every_vendored_schema_compiles() {
        for s in &SCHEMAS {
            assert!(
                s.validator().is_some(),
                "schema for {} does not compile",
                s.release
            );
        }
    }

    #[test]
    fn a_minimal_config_is_valid_for_every_version() {
        for v in ["1.0.2", "1.1.0", "1.2.1", "1.3.0"] {
            let text = format!(
                r#"{{"ociVersion": "{v}", "root": {{"path": "rootfs"}}, "process": {{"cwd": "/", "args": ["sh"]}}}}"#
            );
            assert_eq!(codes(&text), Vec::<String>::new(), "{v}");
        }
    }

    #[test]
    fn keywords_map_to_rules() {
        assert_eq!(
            codes(r#"{"ociVersion": "1.2.0", "solaris": 5}"#),
            vec!["schema/type /solaris"]
        );
        assert_eq!(
            codes(
                r#"{"ociVersion": "1.2.0", "hooks": {"poststart": [{"path": "/x", "timeout": 0}]}}"#
            ),
            vec!["schema/range /hooks/poststart/0/timeout"]
        );
        assert_eq!(
            codes(
                r#"{"ociVersion": "1.2.0", "linux": {"resources": {"hugepageLimits": [{"pageSize": "2mb", "limit": 1}]}}}"#
            ),
            vec!["schema/pattern /linux/resources/hugepageLimits/0/pageSize"]
        );
    }

    #[test]
    fn the_declared_minor_version_chooses_the_schema() {
        assert_eq!(schema_release(OciVersion::parse("1.0.0")), Some("1.0.2"));
        assert_eq!(schema_release(OciVersion::parse("1.2.0")), Some("1.2.1"));
        assert_eq!(schema_release(None), Some("1.3.0"));
        assert_eq!(schema_release(OciVersion::parse("2.0.0")), None);
    }

    #[test]
    fn spans_point_at_the_value_or_its_key() {
        let text = r#"{"a": {"b": [1, {"c": "x"}]}}"#;
        let Some(tree) = crate::json::parse(text).tree else {
            panic!("parses")
        };
        let at = |p: &str| {
            let s = span_of(&tree, &JsonPointer::parse(p));
            text.get(s.start..s.end).unwrap_or("").to_string()
        };
        assert_eq!(at("/a/b/1/c"), "\"x\"");
        assert_eq!(at("/a/b"), "\"b\"");
        assert_eq!(at("/a/b/1"), "{");
    }
}
