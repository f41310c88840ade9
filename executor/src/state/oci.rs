//! The OCI runtime state (`state <id>` prints it): runtime-spec `runtime.md#state`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::id::ContainerId;

/// The runtime-spec version whose state format this is.
pub const OCI_VERSION: &str = "1.2.0";

/// runtime-spec `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Creating,
    Created,
    Running,
    /// Not in runtime-spec's list, but what runc and crun report for a frozen container
    /// (runc `libcontainer/container.go` `Paused`); engines parse it (podman's
    /// `oci_conmon_linux.go` `UpdateContainerStatus`).
    Paused,
    Stopped,
}

/// runtime-spec state. `pid` is required while `created` or `running`; `bundle` is absolute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OciState {
    pub oci_version: String,
    pub id: ContainerId,
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<i32>,
    pub bundle: PathBuf,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

impl OciState {
    pub fn new(id: ContainerId, status: Status, bundle: PathBuf) -> Self {
        Self {
            oci_version: OCI_VERSION.to_owned(),
            id,
            status,
            pid: None,
            bundle,
            annotations: BTreeMap::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_as_runtime_spec_state() {
        let mut s = OciState::new(
            ContainerId::new("web").unwrap(),
            Status::Created,
            "/bundles/web".into(),
        );
        s.pid = Some(4242);
        s.annotations.insert("org.example".into(), "x".into());
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(
            json,
            r#"{"ociVersion":"1.2.0","id":"web","status":"created","pid":4242,"bundle":"/bundles/web","annotations":{"org.example":"x"}}"#
        );
        assert_eq!(serde_json::from_str::<OciState>(&json).unwrap(), s);
        let bare = OciState::new(
            ContainerId::new("a").unwrap(),
            Status::Creating,
            "/b".into(),
        );
        assert_eq!(
            serde_json::to_string(&bare).unwrap(),
            r#"{"ociVersion":"1.2.0","id":"a","status":"creating","bundle":"/b"}"#
        );
    }

    #[test]
    fn refuses_bad_id_and_status() {
        assert!(serde_json::from_str::<OciState>(
            r#"{"ociVersion":"1.2.0","id":"../x","status":"created","bundle":"/b"}"#
        )
        .is_err());
        // `paused` is runc's and crun's word for a frozen container; anything else is refused.
        assert!(serde_json::from_str::<OciState>(
            r#"{"ociVersion":"1.2.0","id":"x","status":"frozen","bundle":"/b"}"#
        )
        .is_err());
        assert!(serde_json::from_str::<OciState>(
            r#"{"ociVersion":"1.2.0","id":"x","status":"paused","bundle":"/b"}"#
        )
        .is_ok());
    }
}
