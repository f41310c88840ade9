//! `pct status <vmid> --verbose`: whether the container runs, and its init's host pid.
//!
//! Proxmox prints the sorted `key: value` lines of `vmstatus`; `pid` is the host pid of the
//! container's init and is present only while it runs. That pid is what `kill` signals.

use std::collections::BTreeMap;

/// What `pct status --verbose` says about a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CtStatus {
    pub running: bool,
    /// The init's host pid; `Some` only when running.
    pub pid: Option<i32>,
    pub fields: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatusError {
    #[error("`pct status --verbose` printed no `status:` line: {0:?}")]
    NoStatus(String),
    #[error("`pct status --verbose` printed status {0:?}; expected running or stopped")]
    UnknownStatus(String),
    #[error("`pct status --verbose` says the container runs but gives no valid init pid ({0:?})")]
    NoPid(Option<String>),
}

/// Parses the `key: value` lines. A running container must come with a positive pid: without
/// it `kill` would have nothing to signal, so that is an error rather than pid 0.
pub fn parse_status(stdout: &str) -> Result<CtStatus, StatusError> {
    let fields: BTreeMap<String, String> = stdout
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let running = match fields.get("status").map(String::as_str) {
        Some("running") => true,
        Some("stopped") => false,
        Some(other) => return Err(StatusError::UnknownStatus(other.to_owned())),
        None => return Err(StatusError::NoStatus(stdout.to_owned())),
    };
    let pid = if running {
        let raw = fields.get("pid");
        match raw.and_then(|p| p.parse::<i32>().ok()).filter(|p| *p > 1) {
            Some(p) => Some(p),
            None => return Err(StatusError::NoPid(raw.cloned())),
        }
    } else {
        None
    };
    Ok(CtStatus {
        running,
        pid,
        fields,
    })
}

/// The JSON object of `pvesh get /nodes/<node>/lxc/<vmid>/status/current --output-format
/// json`: the same `vmstatus` fields as `pct status --verbose` (pve-container
/// `src/PVE/API2/LXC/Status.pm` `vm_status` returns `vmstatus($vmid)->{$vmid}` @ 94f55852),
/// as JSON scalars, checked the same way. The pid is the init's pid *on the owning node*.
pub fn parse_status_json(stdout: &[u8]) -> Result<CtStatus, StatusError> {
    let text = String::from_utf8_lossy(stdout).into_owned();
    let Ok(serde_json::Value::Object(map)) = serde_json::from_slice::<serde_json::Value>(stdout)
    else {
        return Err(StatusError::NoStatus(text));
    };
    let mut lines = String::new();
    for (k, v) in map {
        let v = match v {
            serde_json::Value::String(s) => s,
            serde_json::Value::Number(n) => n.to_string(),
            // Objects (`ha`) and nulls say nothing about running or the pid.
            _ => continue,
        };
        if k.contains(['\n', ':']) || v.contains('\n') {
            continue;
        }
        lines.push_str(&format!("{k}: {v}\n"));
    }
    parse_status(&lines)
}

/// True when a `pct` failure says the container has no config (it does not exist).
pub fn is_missing_ct(stderr: &str) -> bool {
    stderr.contains("does not exist") && stderr.contains("Configuration file")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_with_pid() {
        let s = parse_status(
            "cpus: 2\nmem: 1024\nname: app\npid: 4242\nstatus: running\ntype: lxc\nvmid: 100\n",
        )
        .unwrap();
        assert!(s.running);
        assert_eq!(s.pid, Some(4242));
        assert_eq!(s.fields.get("name").map(String::as_str), Some("app"));
    }

    #[test]
    fn stopped_has_no_pid() {
        let s = parse_status("status: stopped\nvmid: 100\n").unwrap();
        assert_eq!((s.running, s.pid), (false, None));
    }

    #[test]
    fn refusals() {
        assert_eq!(
            parse_status("vmid: 1\n"),
            Err(StatusError::NoStatus("vmid: 1\n".into()))
        );
        assert_eq!(
            parse_status("status: paused\n"),
            Err(StatusError::UnknownStatus("paused".into()))
        );
        assert_eq!(
            parse_status("status: running\n"),
            Err(StatusError::NoPid(None))
        );
        assert_eq!(
            parse_status("status: running\npid: 0\n"),
            Err(StatusError::NoPid(Some("0".into())))
        );
        assert_eq!(
            parse_status("status: running\npid: x\n"),
            Err(StatusError::NoPid(Some("x".into())))
        );
    }

    #[test]
    fn missing_ct_message() {
        assert!(is_missing_ct(
            "Configuration file 'nodes/pve/lxc/100.conf' does not exist\n"
        ));
        assert!(!is_missing_ct("storage 'x' does not exist"));
    }
}
