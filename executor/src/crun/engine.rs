//! The config crun runs under `--runtime crun`: the bundle's own spec, with crun's semantics.
//!
//! `convert --to crun` is a *preview*: what Proxmox would run, expressed for crun, with
//! Proxmox's limits (a fixed namespace list, no namespace paths, its own mounts). An engine
//! (podman, containerd) driving `--runtime crun` wants the bundle run the way crun runs it, so
//! this path does not go through the Proxmox lowering at all. What proxmox-lxcri adds is:
//!
//! - validation against the runtime-spec field table (`translator::spec::parse`): a value of
//!   the wrong type or a missing required field refuses the bundle, as it would make crun
//!   guess; unknown fields are kept (crun ignores them, as runc does) and reported to the log;
//! - the node's policy, enforced by the caller before this runs;
//! - `root.path` replaced by the absolute path that was verified to reach the checked rootfs
//!   directory (crun resolves it by path: see `runtime::create::check_crun_root`).
//!
//! Everything else, namespace paths (`/proc/PID/ns/net` of the engine's network), host and
//! shared namespaces (a type that is absent), mounts in the bundle's order, hooks (the policy
//! decides on those), terminal and process, reaches crun byte-for-byte as the bundle's JSON
//! values. crun reads the file with `--config`; the bundle's own config.json is never
//! modified.

use std::path::Path;

use serde_json::Value;
use translator::{Diagnostic, Severity};

/// The annotations that name the signal `stop` sends: the translator's list, in its order.
pub use translator::STOP_SIGNAL_ANNOTATIONS;

/// The config for crun, or why the bundle is refused.
#[derive(Debug)]
pub struct EngineConfig {
    /// The JSON crun gets with `--config`.
    pub json: String,
    /// What validation found below error level (unknown fields, ...): for the log.
    pub diagnostics: Vec<Diagnostic>,
    /// The first stop-signal annotation's text, if any (the caller parses it).
    pub stop_signal: Option<String>,
}

#[derive(Debug)]
pub struct Refused {
    /// Every finding, errors first.
    pub diagnostics: Vec<Diagnostic>,
    pub message: String,
}

/// Builds crun's config from the bundle's `config.json` bytes (`name` is for messages) and the
/// verified absolute rootfs path.
pub fn engine_config(
    name: &str,
    bytes: &[u8],
    verified_root: &Path,
) -> Result<EngineConfig, Refused> {
    let mut diagnostics = Vec::new();
    let (_, spec) = translator::spec::parse(name, bytes, &mut diagnostics);
    let errors = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    if spec.is_none() || errors > 0 {
        diagnostics.sort_by_key(|d| std::cmp::Reverse(d.severity));
        return Err(Refused {
            message: format!(
                "{name} is not a valid OCI runtime config: {errors} error(s), listed above"
            ),
            diagnostics,
        });
    }
    // The field table accepted it, so this parse succeeds; a failure is still reported, not
    // unwrapped.
    let mut value: Value = serde_json::from_slice(bytes).map_err(|e| Refused {
        message: format!("{name}: {e}"),
        diagnostics: Vec::new(),
    })?;
    let root_path = verified_root.to_str().ok_or_else(|| Refused {
        message: format!("the rootfs path {} is not UTF-8", verified_root.display()),
        diagnostics: Vec::new(),
    })?;
    let Some(obj) = value.as_object_mut() else {
        return Err(Refused {
            message: format!("{name} must be a JSON object"),
            diagnostics,
        });
    };
    let root = obj
        .entry("root")
        .or_insert_with(|| Value::Object(serde_json::Map::new()));
    match root.as_object_mut() {
        Some(r) => {
            r.insert("path".into(), Value::String(root_path.to_owned()));
        }
        None => {
            return Err(Refused {
                message: format!("{name}: `root` must be an object"),
                diagnostics,
            })
        }
    }
    // `mounts` is OPTIONAL in the runtime spec (config.md) and runc runs a config without it;
    // crun 1.8.1 refuses one ("invalid config file, no 'mounts' block specified"). Where they
    // differ we follow runc: no mounts is an empty list.
    obj.entry("mounts")
        .or_insert_with(|| Value::Array(Vec::new()));
    let stop_signal = obj
        .get("annotations")
        .and_then(Value::as_object)
        .and_then(|a| {
            STOP_SIGNAL_ANNOTATIONS
                .iter()
                .find_map(|k| a.get(*k).and_then(Value::as_str).map(str::to_owned))
        });
    let json = serde_json::to_string(&value).map_err(|e| Refused {
        message: format!("{name}: {e}"),
        diagnostics: Vec::new(),
    })?;
    Ok(EngineConfig {
        json,
        diagnostics,
        stop_signal,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn build(config: &Value) -> Result<EngineConfig, Refused> {
        engine_config(
            "config.json",
            config.to_string().as_bytes(),
            Path::new("/b/rootfs"),
        )
    }

    /// What an engine writes: namespace paths, host namespaces (absent types), a network
    /// namespace path, mounts in its order with `/sys/fs/cgroup` after `/sys`. All of it must
    /// reach crun unchanged; only root.path is the verified one.
    #[test]
    fn keeps_the_engines_namespaces_and_mounts() {
        let config = json!({
            "ociVersion": "1.0.2-dev",
            "process": {"cwd": "/", "args": ["cat"], "user": {"uid": 0, "gid": 0}, "terminal": false},
            "root": {"path": "rootfs", "readonly": true},
            "mounts": [
                {"destination": "/proc", "type": "proc", "source": "proc"},
                {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["ro"]},
                {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["ro"]},
                {"destination": "/data", "type": "bind", "source": "/srv/vol", "options": ["rbind"]}
            ],
            "linux": {"namespaces": [
                {"type": "mount"},
                {"type": "network", "path": "/run/netns/netns-1234"},
                {"type": "ipc", "path": "/proc/42/ns/ipc"}
            ]},
            "annotations": {"org.opencontainers.image.stopSignal": "SIGQUIT"}
        });
        let out = build(&config).unwrap();
        let got: Value = serde_json::from_str(&out.json).unwrap();
        let mut want = config.clone();
        want["root"]["path"] = json!("/b/rootfs");
        assert_eq!(got, want);
        assert_eq!(out.stop_signal.as_deref(), Some("SIGQUIT"));
    }

    #[test]
    fn unknown_fields_are_kept_and_reported() {
        let config = json!({"ociVersion": "1.0.2", "process": {"cwd": "/", "args": ["sh"]},
                            "root": {"path": "rootfs"}, "vendorThing": {"x": 1}});
        let out = build(&config).unwrap();
        let got: Value = serde_json::from_str(&out.json).unwrap();
        assert_eq!(got["vendorThing"], json!({"x": 1}));
        assert!(out
            .diagnostics
            .iter()
            .any(|d| d.message.contains("vendorThing")));
    }

    #[test]
    fn invalid_configs_are_refused() {
        for bad in [
            json!({"ociVersion": "1.0.2", "process": {"cwd": "/", "args": "sh"}, "root": {"path": "rootfs"}}),
            json!({"ociVersion": "1.0.2", "root": {"path": 7}}),
            json!([1, 2]),
        ] {
            let err = build(&bad).unwrap_err();
            assert!(
                err.diagnostics
                    .iter()
                    .any(|d| d.severity == Severity::Error),
                "{bad}: {}",
                err.message
            );
        }
        assert!(engine_config("c", b"{", Path::new("/r")).is_err());
    }
}
