//! `image/…`: what converting an OCI image's config into a runtime config
//! (image-spec `conversion.md`) found. Their examples are image configs; the
//! image module's tests run them (`image::tests::examples_do_what_they_say`).

use super::Rule;
use crate::diag::Severity::{Error, Info, Warning};

pub(crate) static RULES: &[&Rule] = &[
    &INVALID_CONFIG,
    &NOT_LINUX,
    &NO_COMMAND,
    &UNKNOWN_USER,
    &VOLUME,
    &HEALTHCHECK,
    &EXPOSED_PORTS,
    &IGNORED_FIELD,
];

pub(crate) static INVALID_CONFIG: Rule = Rule {
    code: "image/invalid-config",
    severity: Error,
    summary: "The image config is not what the image-spec describes",
    explanation: include_str!("image/invalid-config.md"),
};

pub(crate) static NOT_LINUX: Rule = Rule {
    code: "image/not-linux",
    severity: Error,
    summary: "The image is not for Linux",
    explanation: include_str!("image/not-linux.md"),
};

pub(crate) static NO_COMMAND: Rule = Rule {
    code: "image/no-command",
    severity: Error,
    summary: "The image has neither Entrypoint nor Cmd",
    explanation: include_str!("image/no-command.md"),
};

pub(crate) static UNKNOWN_USER: Rule = Rule {
    code: "image/unknown-user",
    severity: Error,
    summary: "Config.User names a user or group the image's /etc/passwd or /etc/group lacks",
    explanation: include_str!("image/unknown-user.md"),
};

pub(crate) static VOLUME: Rule = Rule {
    code: "image/volume",
    severity: Warning,
    summary: "A volume of the image: a mount point on a new, empty storage volume, or a directory of the root file system",
    explanation: include_str!("image/volume.md"),
};

pub(crate) static HEALTHCHECK: Rule = Rule {
    code: "image/healthcheck",
    severity: Warning,
    summary: "The image's health check is not run",
    explanation: include_str!("image/healthcheck.md"),
};

pub(crate) static EXPOSED_PORTS: Rule = Rule {
    code: "image/exposed-ports",
    severity: Info,
    summary: "Exposed ports are recorded as an annotation; nothing publishes them",
    explanation: include_str!("image/exposed-ports.md"),
};

pub(crate) static IGNORED_FIELD: Rule = Rule {
    code: "image/ignored-field",
    severity: Warning,
    summary: "A field of the image config has no counterpart in the runtime config",
    explanation: include_str!("image/ignored-field.md"),
};
