//! `features`: the runtime-spec features document (runtime-spec `features.md`, 1.1.0+),
//! generated from the translator's field table so that it says what each back end really
//! does with a config, not what a hand-written list claims.
//!
//! - crun back end: the bundle's spec goes to crun as written (`crate::crun::engine`), so every
//!   namespace type and hook phase of the field table is passed through. Whether the node's
//!   crun honours a field is crun's business; `crun features` does not exist in crun 1.8.1,
//!   so this document cannot ask it.
//! - pct back end: a field whose handling is `Unsupported` or `Ignored` in the table is not
//!   listed (it is reported as a finding instead of being run). Proxmox creates its own fixed
//!   set of namespaces and cannot join a namespace by path (`lower::namespaces`).

use serde_json::{json, Value};
use translator::spec::fields::{self, Field, Handling, NAMESPACE_TYPES};

use crate::state::Backend;

/// Lowest and highest `ociVersion` the validator reads (`translator::spec::OciVersion::is_supported`).
pub const OCI_VERSION_MIN: &str = "1.0.0";
pub const OCI_VERSION_MAX: &str = "1.3.0";

fn supported(field: &Field, pct: bool) -> bool {
    !pct || matches!(field.handling, Handling::Lower | Handling::Fields)
}

/// The names of the fields under the table path `prefix` (e.g. `/hooks`) the back end runs.
fn children(prefix: &str, pct: bool) -> Vec<&'static str> {
    let depth = prefix.matches('/').count() + 1;
    fields::paths()
        .into_iter()
        .filter(|(p, f)| {
            p.starts_with(&format!("{prefix}/"))
                && p.matches('/').count() == depth
                && supported(f, pct)
        })
        .map(|(_, f)| f.name)
        .collect()
}

/// The features document of the pct back end (`pct`) or of the crun back end.
pub fn features(pct: bool) -> Value {
    let namespaces: Vec<&str> = if pct {
        // What Proxmox's LXC config creates for every container; `time` is not on its
        // allow-list (field table, linux/timeOffsets).
        NAMESPACE_TYPES
            .iter()
            .copied()
            .filter(|n| *n != "time")
            .collect()
    } else {
        NAMESPACE_TYPES.to_vec()
    };
    let mut linux = json!({
        "namespaces": namespaces,
        "seccomp": {
            "enabled": true,
            "actions": fields::SECCOMP_ACTIONS,
            "operators": fields::SECCOMP_OPS,
            "archs": fields::SECCOMP_ARCHES,
        },
        "apparmor": {"enabled": true},
    });
    if !pct {
        linux["selinux"] = json!({"enabled": true});
    }
    json!({
        "ociVersionMin": OCI_VERSION_MIN,
        "ociVersionMax": OCI_VERSION_MAX,
        "hooks": children("/hooks", pct),
        "linux": linux,
        "annotations": {
            "org.proxmox-lxcri.version": env!("CARGO_PKG_VERSION"),
            "org.proxmox-lxcri.backend": if pct { "pct" } else { "crun" },
        },
    })
}

/// The document for a recorded back end.
pub fn for_backend(backend: &Backend) -> Value {
    features(matches!(backend, Backend::Pct { .. }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn honest_per_back_end() {
        let crun = features(false);
        let pct = features(true);
        // Hooks run under crun; Proxmox has no OCI hook phases (field table: Unsupported).
        assert_eq!(
            crun["hooks"],
            json!([
                "prestart",
                "createRuntime",
                "createContainer",
                "startContainer",
                "poststart",
                "poststop"
            ])
        );
        assert_eq!(pct["hooks"], json!([]));
        assert!(crun["linux"]["namespaces"]
            .as_array()
            .unwrap()
            .contains(&json!("time")));
        assert!(!pct["linux"]["namespaces"]
            .as_array()
            .unwrap()
            .contains(&json!("time")));
        assert_eq!(crun["ociVersionMax"], "1.3.0");
        // The validator's own answer for the range's ends and just beyond.
        let refused = |v: &str| {
            let config = json!({"ociVersion": v, "root": {"path": "rootfs"}}).to_string();
            let mut d = Vec::new();
            translator::spec::parse("c", config.as_bytes(), &mut d);
            d.iter().any(|d| d.severity == translator::Severity::Error)
        };
        assert!(!refused(OCI_VERSION_MIN) && !refused(OCI_VERSION_MAX));
        assert!(refused("1.4.0"));
    }

    /// What each back end's translation reports at `pointer` for `config`: findings at
    /// warning level or above (a field that is not run as given).
    fn findings_at(config: &Value, pct: bool, pointer: &str) -> Vec<String> {
        let bytes = config.to_string();
        let diagnostics = if pct {
            translator::oci_to_ir("c.json", bytes.as_bytes(), &translator::Target::default())
                .diagnostics
        } else {
            match crate::crun::engine::engine_config(
                "c.json",
                bytes.as_bytes(),
                std::path::Path::new("/b/rootfs"),
            ) {
                Ok(c) => c.diagnostics,
                Err(r) => r.diagnostics,
            }
        };
        diagnostics
            .iter()
            .filter(|d| d.severity >= translator::Severity::Warning)
            .filter(|d| {
                d.pointer
                    .as_ref()
                    .is_some_and(|p| p.as_str().starts_with(pointer))
            })
            .map(|d| format!("{} {}", d.code(), d.message))
            .collect()
    }

    /// The document agrees with what each back end accepts: every namespace type and hook
    /// phase of the field table is listed exactly when the back end runs a config with it
    /// without a finding about it.
    #[test]
    fn the_document_lists_what_each_back_end_runs() {
        for pct in [false, true] {
            let doc = features(pct);
            let listed = |key: &str, name: &str| {
                doc.pointer(key)
                    .and_then(Value::as_array)
                    .is_some_and(|a| a.contains(&json!(name)))
            };
            for ns in NAMESPACE_TYPES {
                let mut config = json!({"ociVersion": "1.2.0", "root": {"path": "rootfs"},
                    "process": {"cwd": "/", "args": ["/app"]},
                    "linux": {"namespaces": [{"type": "mount"}, {"type": "pid"}]}});
                let list = config["linux"]["namespaces"].as_array_mut().unwrap();
                if !list.contains(&json!({"type": ns})) {
                    list.push(json!({"type": ns}));
                }
                let at = list.iter().position(|n| n == &json!({"type": ns})).unwrap();
                if *ns == "user" {
                    config["linux"]["uidMappings"] =
                        json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
                    config["linux"]["gidMappings"] =
                        json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
                }
                let found = findings_at(&config, pct, &format!("/linux/namespaces/{at}"));
                assert_eq!(
                    listed("/linux/namespaces", ns),
                    found.is_empty(),
                    "pct={pct} namespace {ns}: {found:?}"
                );
            }
            for hook in children("/hooks", false) {
                let config = json!({"ociVersion": "1.2.0", "root": {"path": "rootfs"},
                    "process": {"cwd": "/", "args": ["/app"]},
                    "hooks": {hook: [{"path": "/bin/true"}]}});
                let found = findings_at(&config, pct, &format!("/hooks/{hook}"));
                // The security rule about hooks is the policy's business, not the back
                // end's: only findings that say the hook is not run count.
                let not_run: Vec<&String> = found
                    .iter()
                    .filter(|f| !f.starts_with("security/"))
                    .collect();
                assert_eq!(
                    listed("/hooks", hook),
                    not_run.is_empty(),
                    "pct={pct} hook {hook}: {found:?}"
                );
            }
        }
    }
}
