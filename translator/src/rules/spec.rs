//! `spec/…`: the document does not follow the OCI runtime-spec.
//! The field table (`spec::validate`) and the lint stage (`lint::spec`) report them.

use super::Rule;
use crate::diag::Severity::{Error, Warning};

pub(crate) static RULES: &[&Rule] = &[
    &WRONG_TYPE,
    &INVALID_VALUE,
    &OUT_OF_RANGE,
    &MISSING_FIELD,
    &UNKNOWN_FIELD,
    &UNSUPPORTED_VERSION,
    &RELATIVE_CWD,
    &EMPTY_ARGS,
    &RELATIVE_MOUNT_DESTINATION,
    &RELATIVE_PATH,
    &DUPLICATE_NAMESPACE,
    &IDMAP_WITHOUT_USERNS,
    &INVALID_CAPABILITY,
    &INVALID_RLIMIT,
    &DUPLICATE_RLIMIT,
    &HOSTNAME_WITHOUT_UTS,
];

pub(crate) static WRONG_TYPE: Rule = Rule {
    code: "spec/wrong-type",
    severity: Error,
    summary: "A field has the wrong JSON type",
    explanation: include_str!("spec/wrong-type.md"),
};

pub(crate) static INVALID_VALUE: Rule = Rule {
    code: "spec/invalid-value",
    severity: Error,
    summary: "A field holds a value the runtime-spec does not allow",
    explanation: include_str!("spec/invalid-value.md"),
};

pub(crate) static OUT_OF_RANGE: Rule = Rule {
    code: "spec/out-of-range",
    severity: Error,
    summary: "A number does not fit the field's integer type",
    explanation: include_str!("spec/out-of-range.md"),
};

pub(crate) static MISSING_FIELD: Rule = Rule {
    code: "spec/missing-field",
    severity: Error,
    summary: "A field the runtime-spec requires is missing",
    explanation: include_str!("spec/missing-field.md"),
};

pub(crate) static UNKNOWN_FIELD: Rule = Rule {
    code: "spec/unknown-field",
    severity: Warning,
    summary: "A field is not part of the runtime-spec",
    explanation: include_str!("spec/unknown-field.md"),
};

pub(crate) static UNSUPPORTED_VERSION: Rule = Rule {
    code: "spec/unsupported-version",
    severity: Error,
    summary: "The declared ociVersion is not 1.0.x to 1.3.x",
    explanation: include_str!("spec/unsupported-version.md"),
};

// The rules below are the runtime-spec's MUST and SHOULD requirements that the
// field table cannot express; `check` finds them in a validated spec.

pub(crate) static RELATIVE_CWD: Rule = Rule {
    code: "spec/relative-cwd",
    severity: Error,
    summary: "The process's working directory is not an absolute path",
    explanation: include_str!("spec/relative-cwd.md"),
};

pub(crate) static EMPTY_ARGS: Rule = Rule {
    code: "spec/empty-args",
    severity: Error,
    summary: "A process is given without any `args`",
    explanation: include_str!("spec/empty-args.md"),
};

pub(crate) static RELATIVE_MOUNT_DESTINATION: Rule = Rule {
    code: "spec/relative-mount-destination",
    severity: Error,
    summary: "A mount destination is not an absolute path",
    explanation: include_str!("spec/relative-mount-destination.md"),
};

pub(crate) static RELATIVE_PATH: Rule = Rule {
    code: "spec/relative-path",
    severity: Error,
    summary: "A path the runtime-spec requires to be absolute is relative",
    explanation: include_str!("spec/relative-path.md"),
};

pub(crate) static DUPLICATE_NAMESPACE: Rule = Rule {
    code: "spec/duplicate-namespace",
    severity: Error,
    summary: "A namespace type is listed twice",
    explanation: include_str!("spec/duplicate-namespace.md"),
};

pub(crate) static IDMAP_WITHOUT_USERNS: Rule = Rule {
    code: "spec/idmap-without-userns",
    severity: Error,
    summary: "Id mappings are given but there is no user namespace",
    explanation: include_str!("spec/idmap-without-userns.md"),
};

pub(crate) static INVALID_CAPABILITY: Rule = Rule {
    code: "spec/invalid-capability",
    severity: Error,
    summary: "A capability name is not one capabilities(7) defines",
    explanation: include_str!("spec/invalid-capability.md"),
};

pub(crate) static INVALID_RLIMIT: Rule = Rule {
    code: "spec/invalid-rlimit",
    severity: Error,
    summary: "An rlimit type is not a Linux resource limit",
    explanation: include_str!("spec/invalid-rlimit.md"),
};

pub(crate) static DUPLICATE_RLIMIT: Rule = Rule {
    code: "spec/duplicate-rlimit",
    severity: Error,
    summary: "The same rlimit type is given twice",
    explanation: include_str!("spec/duplicate-rlimit.md"),
};

pub(crate) static HOSTNAME_WITHOUT_UTS: Rule = Rule {
    code: "spec/hostname-without-uts",
    severity: Error,
    summary: "A host or domain name is set without a UTS namespace",
    explanation: include_str!("spec/hostname-without-uts.md"),
};
