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
}
