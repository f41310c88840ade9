//! The verbs engines call besides the lifecycle: `exec`, `ps`, `pause`/`resume`, `update`,
//! `kill --all`.
//!
//! On the crun back end each is crun's own verb on the container crun runs, after the record
//! says it is ours; the inputs an engine hands over as files (`exec --process`,
//! `update --resources`) are read here, checked, and crun gets the checked copy in a private
//! file of ours, never the caller's path.
//!
//! On the pct back end they are refused with [`RuntimeError::Unsupported`], which names what
//! would do it on Proxmox: nothing is half-done.

use serde_json::Value;
use translator::Severity;

use crate::crun::ExecOptions;
use crate::id::ContainerId;
use crate::state::{Backend, Mapping, OciState, Record, Status};

use super::state::live;
use super::{status_name, Runtime, RuntimeError};

/// An engine's process or resources file is a few KiB; this bounds what a wrong path reads.
pub const MAX_INPUT_BYTES: usize = 1 << 20;

/// The record of `id`, which must be complete.
fn record(rt: &Runtime<'_>, id: &ContainerId) -> Result<(OciState, Mapping), RuntimeError> {
    match rt.store.read(id)? {
        Record::Complete { state, mapping } => Ok((state, mapping)),
        Record::Partial(p) => Err(RuntimeError::Partial(Box::new(p))),
    }
}

/// The crun container `id`, or the pct refusal for `verb`.
fn crun_only(
    rt: &Runtime<'_>,
    id: &ContainerId,
    verb: &'static str,
    on_proxmox: &'static str,
) -> Result<OciState, RuntimeError> {
    let (state, mapping) = record(rt, id)?;
    match mapping.backend {
        Backend::Crun => live(rt, state, &mapping),
        Backend::Pct { .. } => Err(RuntimeError::Unsupported {
            verb,
            id: id.clone(),
            why: on_proxmox,
        }),
    }
}

/// Writes the checked `bytes` to a new private file (`O_EXCL`, mode 0600, a random name in
/// the temporary directory) that crun reads; it is removed when the guard drops. Not in the
/// container's store directory: the store holds only its own fixed set of files, and an exec
/// may run for hours while `kill` and `delete` must not wait for its lock.
fn stash(kind: &str, bytes: &[u8]) -> Result<tempfile::NamedTempFile, RuntimeError> {
    use std::io::Write;
    let io = |e: std::io::Error| {
        RuntimeError::Usage(format!("cannot write the checked {kind} file: {e}"))
    };
    let mut f = tempfile::Builder::new()
        .prefix(&format!("proxmox-lxcri-{kind}-"))
        .suffix(".json")
        .tempfile()
        .map_err(io)?;
    f.write_all(bytes).and_then(|()| f.flush()).map_err(io)?;
    Ok(f)
}

/// Checks an `exec --process` document: a JSON object that the runtime-spec field table
/// accepts as a config's `process`. Unknown fields are kept (crun ignores them, as runc does).
pub fn check_process(bytes: &[u8]) -> Result<Vec<u8>, RuntimeError> {
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(RuntimeError::Usage(format!(
            "the process file is larger than {MAX_INPUT_BYTES} bytes"
        )));
    }
    let process: Value = serde_json::from_slice(bytes)
        .map_err(|e| RuntimeError::Usage(format!("the process file is not JSON: {e}")))?;
    if !process.is_object() {
        return Err(RuntimeError::Usage(
            "the process file must be a JSON object".into(),
        ));
    }
    // The field table checks a whole config; the process is checked in one whose other
    // fields are the minimum, so every finding is about /process.
    check_fragment(
        "process.json",
        serde_json::json!({"ociVersion": "1.0.2", "root": {"path": "rootfs"}, "process": process}),
        "the process file is not a valid OCI process",
    )?;
    serde_json::to_vec(&process).map_err(|e| RuntimeError::Usage(e.to_string()))
}

/// `exec`: runs a process in the container with the caller's stdio; returns its exit code
/// (128 + N when signal N killed it), as runc and crun do. `process` is the `--process`
/// file's contents, checked by [`check_process`] here.
pub fn exec(
    rt: &Runtime<'_>,
    id: &ContainerId,
    process: Option<&[u8]>,
    mut opts: ExecOptions,
) -> Result<i32, RuntimeError> {
    let now = crun_only(
        rt,
        id,
        "exec",
        "on Proxmox a process is started with `pct exec` or `lxc-attach`, which proxmox-lxcri does not drive yet",
    )?;
    if now.status != Status::Running {
        return Err(RuntimeError::NotRunning {
            id: id.clone(),
            status: status_name(now.status),
        });
    }
    if process.is_none() && opts.args.is_empty() {
        return Err(RuntimeError::Usage(
            "exec needs a command or --process FILE".into(),
        ));
    }
    // Kept until crun has returned, then removed.
    let _stashed = match process {
        Some(bytes) => {
            let file = stash("exec", &check_process(bytes)?)?;
            opts.process = Some(file.path().to_path_buf());
            Some(file)
        }
        None => None,
    };
    Ok(rt.crun.exec(rt.host, id, &opts)?)
}

/// `ps`: the host pids of the container's processes.
pub fn ps(rt: &Runtime<'_>, id: &ContainerId) -> Result<Vec<i64>, RuntimeError> {
    let now = crun_only(
        rt,
        id,
        "ps",
        "Proxmox has no list of a container's processes that proxmox-lxcri reads yet",
    )?;
    if now.status == Status::Stopped {
        // runc prints an empty list for a stopped container's empty cgroup; crun cannot find
        // the cgroup any more, so answer what runc does.
        return Ok(Vec::new());
    }
    Ok(rt.crun.ps(rt.host, id)?)
}

/// `pause` (`true`) or `resume` (`false`): the cgroup freezer.
pub fn freeze(rt: &Runtime<'_>, id: &ContainerId, pause: bool) -> Result<(), RuntimeError> {
    let verb = if pause { "pause" } else { "resume" };
    let now = crun_only(
        rt,
        id,
        verb,
        "the container's freezer on Proxmox (`lxc-freeze`) is not driven by proxmox-lxcri yet, and `pct suspend` is a CRIU checkpoint, not a pause",
    )?;
    let wanted = if pause {
        Status::Running
    } else {
        Status::Paused
    };
    if now.status != wanted {
        return Err(RuntimeError::WrongStatus {
            verb,
            id: id.clone(),
            status: status_name(now.status),
            wanted: status_name(wanted),
        });
    }
    Ok(rt.crun.freeze(rt.host, id, pause)?)
}

/// `update`: new resource limits (a `linux.resources` object, already merged with runc's
/// flags by the caller), checked by the field table, then given to crun.
pub fn update(rt: &Runtime<'_>, id: &ContainerId, resources: &Value) -> Result<(), RuntimeError> {
    let now = crun_only(
        rt,
        id,
        "update",
        "on Proxmox limits change with `pct set` (memory, swap, cores, cpulimit), which proxmox-lxcri does not drive yet",
    )?;
    if now.status == Status::Stopped {
        return Err(RuntimeError::NotRunning {
            id: id.clone(),
            status: "stopped",
        });
    }
    check_fragment(
        "resources.json",
        serde_json::json!({"ociVersion": "1.0.2", "root": {"path": "rootfs"}, "linux": {"resources": resources}}),
        "the resources are not valid OCI linux.resources",
    )?;
    let bytes = serde_json::to_vec(resources).map_err(|e| RuntimeError::Usage(e.to_string()))?;
    let file = stash("update", &bytes)?;
    Ok(rt.crun.update(rt.host, id, file.path())?)
}

/// `kill --all`: the signal to every process of the container. Unlike `kill`, a stopped
/// container is not refused: engines send it to clean up what is left of a container whose
/// init is gone (`--pid host`), and runc accepts that.
pub fn kill_all(rt: &Runtime<'_>, id: &ContainerId, signal: i32) -> Result<(), RuntimeError> {
    crun_only(
        rt,
        id,
        "kill --all",
        "on Proxmox the container's processes are its cgroup's, which proxmox-lxcri does not signal one by one; `kill` signals the init",
    )?;
    Ok(rt.crun.kill_all(rt.host, id, signal)?)
}

/// Checks part of a config (a process, a resources object) against the runtime-spec field
/// table, inside a config whose other fields are the minimum, so every finding is about it.
fn check_fragment(name: &str, config: serde_json::Value, what: &str) -> Result<(), RuntimeError> {
    let text = config.to_string();
    let mut diagnostics = Vec::new();
    let (_, spec) = translator::spec::parse(name, text.as_bytes(), &mut diagnostics);
    let errors: Vec<String> = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| d.message.clone())
        .collect();
    if spec.is_none() || !errors.is_empty() {
        return Err(RuntimeError::Usage(format!(
            "{what}: {}",
            errors.join("; ")
        )));
    }
    Ok(())
}

#[cfg(test)]
mod fragment_tests {
    use super::check_fragment;
    use serde_json::json;

    #[test]
    fn a_process_or_resources_of_the_wrong_shape_is_refused_with_what_is_wrong() {
        let base = |part: serde_json::Value| {
            let mut c = json!({"ociVersion": "1.0.2", "root": {"path": "rootfs"}});
            if let (Some(o), Some(p)) = (c.as_object_mut(), part.as_object()) {
                o.extend(p.clone());
            }
            c
        };
        let ok = base(json!({"process": {"cwd": "/", "args": ["sh"]}}));
        assert!(check_fragment("p.json", ok, "bad process").is_ok());
        let bad = base(json!({"process": {"cwd": 5, "args": ["sh"]}}));
        let err = check_fragment("p.json", bad, "bad process")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("bad process: "), "{err}");
        let bad = base(json!({"linux": {"resources": {"memory": {"limit": "lots"}}}}));
        assert!(check_fragment("r.json", bad, "bad resources").is_err());
    }
}
