//! VMID allocation: ask Proxmox for the next free id, create, retry on a lost race.
//!
//! `pvesh get /cluster/nextid` returns the lowest unused id but reserves nothing, so two
//! creators can get the same one. `pct create` re-checks and fails with
//! `CT <id> already exists on node '<node>'` (or `VM <id> …`); then we ask again. On one node,
//! [`allocate_vmid_locked`] also serialises allocations behind a lock, so local
//! creators never race each other; the retry covers other nodes of the cluster.

use crate::host::{Command, Host, HostError, Output};
use crate::id::Vmid;
use crate::lock::Wait;
use crate::state::{StateStore, StoreError};

/// `pvesh get /cluster/nextid --output-format json`.
pub fn nextid_command() -> Command {
    Command::new("pvesh")
        .args(["get", "/cluster/nextid", "--output-format", "json"])
        .read_only()
}

/// How hard to try.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AllocPolicy {
    /// Create attempts before giving up (each with a fresh id).
    pub max_attempts: u32,
}

impl Default for AllocPolicy {
    fn default() -> Self {
        Self { max_attempts: 8 }
    }
}

/// Why one create attempt failed.
#[derive(Debug)]
pub enum CreateFailure<E> {
    /// The create command ran and failed; its stderr decides whether the id was taken.
    Command(Output),
    /// Anything else; not retried.
    Other(E),
}

#[derive(Debug, thiserror::Error)]
pub enum AllocError<E: std::error::Error + 'static> {
    #[error("cannot get the next free VMID: {0}")]
    NextId(#[source] HostError),
    #[error("`pvesh get /cluster/nextid` printed {stdout:?}, which is not a VMID")]
    NextIdOutput { stdout: String },
    #[error("gave up after {attempts} attempts: every VMID offered (last {last}) was taken by the time we created it")]
    Exhausted { attempts: u32, last: Vmid },
    #[error("creating container {vmid} failed ({exit}): {stderr}")]
    CreateFailed {
        vmid: Vmid,
        exit: crate::host::Exit,
        stderr: String,
    },
    #[error(transparent)]
    Other(E),
}

/// Parses the output of [`nextid_command`]: a JSON number or numeric string (Proxmox has printed
/// both), or plain text from an older `pvesh`.
pub fn parse_nextid(stdout: &[u8]) -> Option<Vmid> {
    let text = std::str::from_utf8(stdout).ok()?.trim();
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Number(n)) => n.as_u64().and_then(|v| Vmid::new(v).ok()),
        Ok(serde_json::Value::String(s)) => s.trim().parse().ok(),
        Ok(_) => None,
        Err(_) => text.parse().ok(),
    }
}

/// True if `message` says that `vmid` already exists (`CT 105 already exists on node 'pve'`,
/// `VM 105 already exists`, possibly inside `unable to create CT 105 - …`).
pub fn vmid_taken(message: &str, vmid: Vmid) -> bool {
    let want = vmid.to_string();
    message.match_indices("already exists").any(|(at, _)| {
        let before = message.get(..at).unwrap_or_default();
        let mut words = before.split_whitespace().rev();
        matches!(
            (words.next(), words.next()),
            (Some(id), Some("CT" | "VM")) if id == want
        )
    })
}

/// Gets an id from `pvesh` through `host` and calls `create` with it; when the id turns out to
/// be taken, asks again, at most `policy.max_attempts` times. Returns the id and what `create`
/// returned. The caller should hold the store's allocation lock (see
/// [`allocate_vmid_locked`]).
pub fn allocate_vmid<H, T, E, F>(
    host: &H,
    policy: AllocPolicy,
    mut create: F,
) -> Result<(Vmid, T), AllocError<E>>
where
    H: Host + ?Sized,
    E: std::error::Error + 'static,
    F: FnMut(Vmid) -> Result<T, CreateFailure<E>>,
{
    let cmd = nextid_command();
    let attempts = policy.max_attempts.max(1);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let out = host
            .run(&cmd)
            .and_then(|o| o.check(&cmd))
            .map_err(AllocError::NextId)?;
        let vmid = parse_nextid(&out.stdout).ok_or_else(|| AllocError::NextIdOutput {
            stdout: out.stdout_lossy(),
        })?;
        match create(vmid) {
            Ok(t) => return Ok((vmid, t)),
            Err(CreateFailure::Other(e)) => return Err(AllocError::Other(e)),
            Err(CreateFailure::Command(failed)) => {
                let stderr = failed.stderr_lossy();
                let stdout = failed.stdout_lossy();
                if vmid_taken(&stderr, vmid) || vmid_taken(&stdout, vmid) {
                    if attempt >= attempts {
                        return Err(AllocError::Exhausted {
                            attempts,
                            last: vmid,
                        });
                    }
                    continue;
                }
                return Err(AllocError::CreateFailed {
                    vmid,
                    exit: failed.exit,
                    stderr: stderr.trim_end().to_owned(),
                });
            }
        }
    }
}

/// [`allocate_vmid`] under the store's allocation lock, so creators on this node never race.
pub fn allocate_vmid_locked<H, T, E, F>(
    store: &StateStore,
    host: &H,
    policy: AllocPolicy,
    create: F,
) -> Result<(Vmid, T), AllocError<E>>
where
    H: Host + ?Sized,
    E: std::error::Error + From<StoreError> + 'static,
    F: FnMut(Vmid) -> Result<T, CreateFailure<E>>,
{
    let _alloc = store
        .lock_allocation(Wait::Forever)
        .map_err(|e| AllocError::Other(E::from(e)))?;
    allocate_vmid(host, policy, create)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::{HostCall, RecordingHost};

    fn vmid(n: u64) -> Vmid {
        Vmid::new(n).unwrap()
    }

    #[derive(Debug, thiserror::Error)]
    #[error("other")]
    struct Other;

    #[test]
    fn parses_nextid_forms() {
        assert_eq!(parse_nextid(b"105\n"), Some(vmid(105)));
        assert_eq!(parse_nextid(b"\"105\"\n"), Some(vmid(105)));
        assert_eq!(parse_nextid(b"  999999999 "), Some(vmid(999_999_999)));
        for bad in [
            &b""[..],
            b"null",
            b"\"abc\"",
            b"99",
            b"1000000000",
            b"-5",
            b"1.5",
            b"{}",
            b"\xff",
        ] {
            assert_eq!(parse_nextid(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn recognises_already_exists_for_this_id_only() {
        let v = vmid(105);
        assert!(vmid_taken("CT 105 already exists on node 'pve'\n", v));
        assert!(vmid_taken("VM 105 already exists on node 'pve2'", v));
        assert!(vmid_taken(
            "unable to create CT 105 - CT 105 already exists on node 'pve'",
            v
        ));
        assert!(vmid_taken("VM 105 already exists", v));
        assert!(!vmid_taken("CT 1050 already exists on node 'pve'", v));
        assert!(!vmid_taken("CT 106 already exists on node 'pve'", v));
        assert!(!vmid_taken("volume 'local:105' already exists", v));
        assert!(!vmid_taken("storage 'local' does not exist", v));
    }

    #[test]
    fn retries_with_a_new_id_when_taken() {
        let host = RecordingHost::new();
        host.push_output(Output::ok("\"105\"\n"));
        host.push_output(Output::ok("106\n"));
        let mut tried = Vec::new();
        let (got, ()) = allocate_vmid::<_, _, Other, _>(&host, AllocPolicy::default(), |v| {
            tried.push(v);
            if v == vmid(105) {
                Err(CreateFailure::Command(Output::failed(
                    255,
                    "CT 105 already exists on node 'pve'\n",
                )))
            } else {
                Ok(())
            }
        })
        .unwrap();
        assert_eq!(got, vmid(106));
        assert_eq!(tried, vec![vmid(105), vmid(106)]);
        assert_eq!(
            host.calls(),
            vec![
                HostCall::Run(nextid_command()),
                HostCall::Run(nextid_command())
            ]
        );
    }

    #[test]
    fn other_create_failures_are_not_retried() {
        let host = RecordingHost::new();
        host.respond_to("pvesh", &["get"], Output::ok("200"));
        let err = allocate_vmid::<_, (), Other, _>(&host, AllocPolicy::default(), |_| {
            Err(CreateFailure::Command(Output::failed(
                2,
                "storage 'x' does not exist\n",
            )))
        })
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "creating container 200 failed (exit code 2): storage 'x' does not exist"
        );
        assert_eq!(host.calls().len(), 1);
        let err = allocate_vmid::<_, (), Other, _>(&host, AllocPolicy::default(), |_| {
            Err(CreateFailure::Other(Other))
        })
        .unwrap_err();
        assert!(matches!(err, AllocError::Other(Other)));
    }

    #[test]
    fn attempts_are_bounded() {
        let host = RecordingHost::new();
        host.respond_to("pvesh", &["get"], Output::ok("300"));
        let mut n = 0;
        let err = allocate_vmid::<_, (), Other, _>(&host, AllocPolicy { max_attempts: 3 }, |v| {
            n += 1;
            Err(CreateFailure::Command(Output::failed(
                255,
                format!("CT {v} already exists on node 'other'"),
            )))
        })
        .unwrap_err();
        assert_eq!(n, 3);
        assert!(matches!(err, AllocError::Exhausted { attempts: 3, last } if last == vmid(300)));
    }

    #[test]
    fn nextid_failures_are_reported() {
        let host = RecordingHost::new();
        host.push_output(Output::failed(1, "no quorum"));
        let err = allocate_vmid::<_, (), Other, _>(&host, AllocPolicy::default(), |_| Ok(()))
            .unwrap_err();
        assert!(
            matches!(err, AllocError::NextId(HostError::Failed { .. })),
            "{err}"
        );
        host.push_output(Output::ok("\"soon\""));
        let err = allocate_vmid::<_, (), Other, _>(&host, AllocPolicy::default(), |_| Ok(()))
            .unwrap_err();
        assert!(matches!(err, AllocError::NextIdOutput { .. }), "{err}");
        host.fail_call(2, "pvesh missing");
        let err = allocate_vmid::<_, (), Other, _>(&host, AllocPolicy::default(), |_| Ok(()))
            .unwrap_err();
        assert!(
            matches!(err, AllocError::NextId(HostError::Injected { .. })),
            "{err}"
        );
    }
}
