//! `schema/…`: the document does not validate against the OCI runtime-spec
//! JSON Schema of its declared version. The lint stage (`lint::schema`) reports them.

use super::Rule;
use crate::diag::Severity::Error;

pub static RULES: &[&Rule] = &[&TYPE, &REQUIRED, &ENUM, &PATTERN, &RANGE, &LENGTH, &NO_MATCH];

pub static TYPE: Rule = Rule {
    code: "schema/type",
    severity: Error,
    summary: "A value has a JSON type the runtime-spec schema does not allow",
    explanation: texts::TYPE,
};

pub static REQUIRED: Rule = Rule {
    code: "schema/required",
    severity: Error,
    summary: "An object lacks a property the runtime-spec schema requires",
    explanation: texts::REQUIRED,
};

pub static ENUM: Rule = Rule {
    code: "schema/enum",
    severity: Error,
    summary: "A value is not one of those the runtime-spec schema lists",
    explanation: texts::ENUM,
};

pub static PATTERN: Rule = Rule {
    code: "schema/pattern",
    severity: Error,
    summary: "A string does not have the form the runtime-spec schema requires",
    explanation: texts::PATTERN,
};

pub static RANGE: Rule = Rule {
    code: "schema/range",
    severity: Error,
    summary: "A number is outside the range the runtime-spec schema allows",
    explanation: texts::RANGE,
};

pub static LENGTH: Rule = Rule {
    code: "schema/length",
    severity: Error,
    summary: "An array, string or object is shorter or longer than the runtime-spec schema allows",
    explanation: texts::LENGTH,
};

pub static NO_MATCH: Rule = Rule {
    code: "schema/no-match",
    severity: Error,
    summary: "A value matches none of the shapes the runtime-spec schema allows",
    explanation: texts::NO_MATCH,
};

/// The explanations, kept apart so the rule table above stays readable.
mod texts {
    macro_rules! explanation {
        ($what:literal, $why:literal, $bad:literal, $good:literal) => {
            concat!(
                "## What it does\n",
                $what,
                "\n\n## Why is this bad?\n",
                $why,
                "\n\n## Example\n```json\n",
                $bad,
                "\n```\nUse instead:\n```json\n",
                $good,
                "\n```\n\n",
                "## References\n- The runtime-spec JSON Schemas, vendored in `schemas/runtime-spec/` from the runtime-spec releases (`schema/config-schema.json` and the files it refers to)."
            )
        };
    }

    pub const TYPE: &str = explanation!(
        "Validates the config against the runtime-spec JSON Schema of its `ociVersion` and reports values of the wrong JSON type that the field table does not already report, for example in the sections for other platforms (`solaris`, `windows`, `vm`, `zos`).",
        "Runtimes decode config.json into typed structures and refuse a value of the wrong type, so the bundle cannot run anywhere.",
        "{\"ociVersion\": \"1.2.0\", \"solaris\": \"zone\"}",
        "{\"ociVersion\": \"1.2.0\", \"solaris\": {\"milestone\": \"svc:/milestone/container:default\"}}"
    );

    pub const REQUIRED: &str = explanation!(
        "Reports objects that lack a property the schema marks as required, where the field table does not already report it (the `vm` section, for example, requires a `kernel`).",
        "Runtimes that use the section refuse the config.",
        "{\"ociVersion\": \"1.2.0\", \"vm\": {\"image\": {\"path\": \"/img.qcow2\", \"format\": \"qcow2\"}}}",
        "{\"ociVersion\": \"1.2.0\", \"vm\": {\"kernel\": {\"path\": \"/vmlinuz\"}, \"image\": {\"path\": \"/img.qcow2\", \"format\": \"qcow2\"}}}"
    );

    pub const ENUM: &str = explanation!(
        "Reports values that are not in the list the schema gives for the field (`enum`), where the field table does not already report them.",
        "Runtimes refuse unknown values, or ignore them and behave differently than the author expects.",
        "{\"ociVersion\": \"1.2.0\", \"vm\": {\"kernel\": {\"path\": \"/vmlinuz\"}, \"image\": {\"path\": \"/img.iso\", \"format\": \"iso\"}}}",
        "{\"ociVersion\": \"1.2.0\", \"vm\": {\"kernel\": {\"path\": \"/vmlinuz\"}, \"image\": {\"path\": \"/img.raw\", \"format\": \"raw\"}}}"
    );

    pub const PATTERN: &str = explanation!(
        "Reports strings that do not match the pattern the schema gives, such as a huge page size that is not `<number><K|M|G>B` or an rlimit type that is not `RLIMIT_…`.",
        "The runtime cannot map the value to a kernel interface and fails to start the container.",
        "{\"ociVersion\": \"1.2.0\", \"linux\": {\"resources\": {\"hugepageLimits\": [{\"pageSize\": \"2mb\", \"limit\": 209715200}]}}}",
        "{\"ociVersion\": \"1.2.0\", \"linux\": {\"resources\": {\"hugepageLimits\": [{\"pageSize\": \"2MB\", \"limit\": 209715200}]}}}"
    );

    pub const RANGE: &str = explanation!(
        "Reports numbers below the schema's `minimum` or above its `maximum` where the field table does not already report them: a device `fileMode` above 512 (0o1000), a hook `timeout` below 1, a `swappiness` above 100.",
        "The kernel or the runtime refuses the value, or a mode with high bits set creates a setuid or sticky device node.",
        "{\"ociVersion\": \"1.2.0\", \"hooks\": {\"poststart\": [{\"path\": \"/usr/bin/notify\", \"timeout\": 0}]}}",
        "{\"ociVersion\": \"1.2.0\", \"hooks\": {\"poststart\": [{\"path\": \"/usr/bin/notify\", \"timeout\": 5}]}}"
    );

    pub const LENGTH: &str = explanation!(
        "Reports arrays with fewer items than the schema's `minItems` (and the like for `maxItems`, string and object lengths), for example a seccomp rule whose `names` is empty.",
        "An empty seccomp rule matches no system call: the author meant it to apply to something, and runtimes refuse it.",
        "{\"ociVersion\": \"1.2.0\", \"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [], \"action\": \"SCMP_ACT_ALLOW\"}]}}}",
        "{\"ociVersion\": \"1.2.0\", \"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\"}]}}}"
    );

    pub const NO_MATCH: &str = explanation!(
        "Reports values that match none of the alternatives the schema allows (`anyOf`, `oneOf`, `not`, `additionalProperties` and other combining keywords), where the field table does not already report the value inside.",
        "No runtime-spec version defines such a value; runtimes refuse it.",
        "{\"ociVersion\": \"1.2.0\", \"zos\": {\"namespaces\": [{\"type\": \"network\"}]}}",
        "{\"ociVersion\": \"1.2.0\", \"zos\": {\"namespaces\": [{\"type\": \"mount\"}]}}"
    );
}
