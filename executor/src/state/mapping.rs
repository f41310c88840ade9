//! Which Proxmox container (or crun container) an OCI container id stands for.

use std::path::PathBuf;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::id::{ContainerId, Vmid};
use crate::pve::identity::Token;

/// The backend that runs the container, and how to find it there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "runtime", rename_all = "lowercase")]
pub enum Backend {
    /// A Proxmox LXC container, driven with `pct` on `node`.
    Pct { vmid: Vmid, node: String },
    /// A container run by crun (or another OCI runtime) under its own `--root`.
    Crun,
}

/// `mapping.json`: container id ↔ backend, bundle and creation time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mapping {
    pub id: ContainerId,
    pub bundle: PathBuf,
    #[serde(flatten)]
    pub backend: Backend,
    #[serde(with = "rfc3339")]
    pub created: SystemTime,
    /// The creation token stamped into the Proxmox config ([`crate::pve::identity`]); every
    /// verb compares it before acting on the VMID. A record without one cannot be verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<Token>,
    /// The signal `stop` sends (a name such as `SIGTERM`), decided by the translation at create
    /// time, so that `stop` never reads the bundle again. `None`: the backend's own (Proxmox's
    /// `lxc.signal.halt` default for a system container).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "signal_name"
    )]
    pub stop_signal: Option<String>,
}

pub(crate) fn signal_name<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<String>, D::Error> {
    let s = Option::<String>::deserialize(d)?;
    match s {
        Some(name) => crate::runtime::Signal::parse(&name)
            .map(|sig| Some(sig.to_string()))
            .map_err(serde::de::Error::custom),
        None => Ok(None),
    }
}

/// Timestamps as RFC 3339 UTC with whole seconds, e.g. `2026-11-22T20:27:41Z`.
pub(crate) mod rfc3339 {
    use std::time::SystemTime;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&humantime::format_rfc3339_seconds(*t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SystemTime, D::Error> {
        let text = String::deserialize(d)?;
        humantime::parse_rfc3339(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn pct_mapping_json() {
        let m = Mapping {
            id: ContainerId::new("web").unwrap(),
            bundle: "/b/web".into(),
            backend: Backend::Pct {
                vmid: Vmid::new(105).unwrap(),
                node: "pve1".into(),
            },
            created: SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
            token: None,
            stop_signal: None,
        };
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(
            json,
            r#"{"id":"web","bundle":"/b/web","runtime":"pct","vmid":105,"node":"pve1","created":"2023-11-14T22:13:20Z"}"#
        );
        assert_eq!(serde_json::from_str::<Mapping>(&json).unwrap(), m);
    }

    #[test]
    fn crun_mapping_json_and_bad_vmid() {
        let json = r#"{"id":"c","bundle":"/b","runtime":"crun","created":"2023-11-14T22:13:20Z"}"#;
        let m: Mapping = serde_json::from_str(json).unwrap();
        assert_eq!(m.backend, Backend::Crun);
        let bad = r#"{"id":"c","bundle":"/b","runtime":"pct","vmid":42,"node":"n","created":"2023-11-14T22:13:20Z"}"#;
        assert!(serde_json::from_str::<Mapping>(bad).is_err());
    }

    #[test]
    fn token_and_stop_signal_are_checked_on_read() {
        let ok = r#"{"id":"c","bundle":"/b","runtime":"pct","vmid":100,"node":"n","created":"2023-11-14T22:13:20Z","token":"0123456789abcdef0123456789abcdef","stop_signal":"SIGQUIT"}"#;
        let m: Mapping = serde_json::from_str(ok).unwrap();
        assert_eq!(m.stop_signal.as_deref(), Some("SIGQUIT"));
        assert_eq!(
            m.token.unwrap().as_str(),
            "0123456789abcdef0123456789abcdef"
        );
        for bad in [
            ok.replace("SIGQUIT", "SIGNOPE"),
            ok.replace("0123456789abcdef0123", "../../etc"),
        ] {
            assert!(serde_json::from_str::<Mapping>(&bad).is_err(), "{bad}");
        }
    }
}
