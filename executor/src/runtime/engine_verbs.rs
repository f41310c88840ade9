//! The verbs engines call besides the lifecycle: `exec`, `ps`, `pause`/`resume`, `update`,
//! `kill --all`.
//!
//! On the crun back end each is crun's own verb on the container crun runs, after the record
//! says it is ours; the inputs an engine hands over as files (`exec --process`,
//! `update --resources`) are read here, checked, and crun gets the checked copy in a private
//! file of ours, never the caller's path.
//!
//! On the pct back end `exec`, `ps`, `pause`/`resume` and `update` are done the way Proxmox
//! can ([`super::pct_verbs`]), `kill --all` included (the container's cgroup, frozen while it
//! is signalled).

use serde_json::Value;
use translator::Severity;

use crate::crun::ExecOptions;
use crate::id::ContainerId;
use crate::state::{Backend, ContainerFile, Mapping, OciState, Record, Status};

use super::state::live;
use super::{status_name, Runtime, RuntimeError};

/// An engine's process or resources file is a few KiB; this bounds what a wrong path reads.
pub const MAX_INPUT_BYTES: usize = 1 << 20;

/// The record of `id`, which must be complete.
fn record(rt: &Runtime<'_>, id: &ContainerId) -> Result<(OciState, Mapping), RuntimeError> {
    match rt.record(id)? {
        Record::Complete { state, mapping } => Ok((state, mapping)),
        Record::Partial(p) => Err(RuntimeError::Partial(Box::new(p))),
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

/// runc's `exec` flags that change the process (runc `exec.go` `getProcess` @ 76d9cf5d): without
/// `--process`, the container's own process with these applied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProcessFlags {
    /// The command and its arguments.
    pub args: Vec<String>,
    pub cwd: Option<String>,
    /// Appended to the container's environment, as runc does.
    pub env: Vec<String>,
    /// `UID[:GID]`, numbers.
    pub user: Option<String>,
    pub additional_gids: Vec<u32>,
    /// `--cap`: added to the bounding, effective and permitted sets (and ambient when the
    /// process has an inheritable set), as runc does.
    pub caps: Vec<String>,
    pub apparmor: Option<String>,
    pub process_label: Option<String>,
    /// `--no-new-privs`; `None` keeps the container's value.
    pub no_new_privs: Option<bool>,
    /// `--tty`: runc sets `terminal` from it (false unless given).
    pub tty: bool,
}

impl ProcessFlags {
    /// Whether a flag other than `--tty` is given (they change a process; with `--process`
    /// runc ignores them, which would drop them silently here, so they are refused).
    fn changes_process(&self) -> bool {
        let ProcessFlags {
            args,
            cwd,
            env,
            user,
            additional_gids,
            caps,
            apparmor,
            process_label,
            no_new_privs,
            tty: _,
        } = self;
        !args.is_empty()
            || cwd.is_some()
            || !env.is_empty()
            || user.is_some()
            || !additional_gids.is_empty()
            || !caps.is_empty()
            || apparmor.is_some()
            || process_label.is_some()
            || no_new_privs.is_some()
    }

    /// `base` (the container's process) with the flags applied, as runc's `getProcess`.
    fn apply(&self, base: &Value) -> Result<Value, RuntimeError> {
        use serde_json::json;
        if self.args.is_empty() {
            return Err(RuntimeError::Usage(
                "exec needs a command or --process FILE".into(),
            ));
        }
        let mut p = base.clone();
        if !p.is_object() {
            p = json!({});
        }
        p["args"] = json!(self.args);
        if let Some(cwd) = &self.cwd {
            p["cwd"] = json!(cwd);
        }
        if let Some(a) = &self.apparmor {
            p["apparmorProfile"] = json!(a);
        }
        if let Some(l) = &self.process_label {
            p["selinuxLabel"] = json!(l);
        }
        if !self.caps.is_empty() {
            if !p["capabilities"].is_object() {
                p["capabilities"] = json!({});
            }
            let has_inheritable = p["capabilities"].get("inheritable").is_some();
            let mut sets = vec!["bounding", "effective", "permitted"];
            if has_inheritable {
                sets.push("ambient");
            }
            for set in sets {
                append(&mut p["capabilities"][set], &self.caps);
            }
        }
        if !self.env.is_empty() {
            append(&mut p["env"], &self.env);
        }
        p["terminal"] = json!(self.tty);
        if let Some(nnp) = self.no_new_privs {
            p["noNewPrivileges"] = json!(nnp);
        }
        if !p["user"].is_object() {
            p["user"] = json!({"uid": 0, "gid": 0});
        }
        if let Some(user) = &self.user {
            let number = |what: &str, text: &str| {
                text.parse::<u32>().map_err(|_| {
                    RuntimeError::Usage(format!(
                        "--user {user:?}: the {what} must be a number (UID[:GID])"
                    ))
                })
            };
            let (uid, gid) = match user.split_once(':') {
                Some((u, g)) => (u, Some(g)),
                None => (user.as_str(), None),
            };
            if let Some(g) = gid {
                p["user"]["gid"] = json!(number("gid", g)?);
            }
            p["user"]["uid"] = json!(number("uid", uid)?);
        }
        if !self.additional_gids.is_empty() {
            append(&mut p["user"]["additionalGids"], &self.additional_gids);
        }
        Ok(p)
    }
}

/// Appends `items` to the JSON array at `slot` (made an array when it is not one). Callers
/// index an object with `p["key"]`, which inserts the key: they call this only with items.
fn append<T: serde::Serialize>(slot: &mut Value, items: &[T]) {
    if !slot.is_array() {
        *slot = Value::Array(Vec::new());
    }
    if let Some(a) = slot.as_array_mut() {
        a.extend(items.iter().filter_map(|i| serde_json::to_value(i).ok()));
    }
}

/// An exec's process, checked by the field table, with what the node policy judges.
///
/// The policy is not the executor's to load (the CLI owns the node's file and `--allow`), so
/// the judgement is the caller's: it runs the same check `create` runs on a bundle
/// (`src/cli/policy.rs` `enforce`, limited to `/process`) on [`PreparedExec::config`] and
/// calls [`exec`] only when that passes. The process that runs is the one judged: crun is
/// given this process as its `--process` file, never the flags.
#[derive(Debug, Clone)]
pub struct PreparedExec {
    /// The container's config with `process` replaced by the exec's, for the policy.
    pub config: Vec<u8>,
    /// The container's back end, whose policy column decides.
    pub backend: Backend,
    /// The container's own process (crun: from the recorded config; pct: the uid-0 process
    /// `lxc-attach` starts from), for the policy's `[exec]` rules.
    pub container_process: Value,
    /// Whether the container has a user namespace: on crun, a `user` entry in the recorded
    /// config's `linux.namespaces`; on pct, `unprivileged: 1` in its Proxmox config (Proxmox
    /// maps an unprivileged container's ids, `src/PVE/LXC.pm` `parse_id_maps`).
    pub user_namespace: bool,
    process: Vec<u8>,
}

/// `unprivileged` of a Proxmox container config's main section, as pve-container's
/// `parse_pct_config` (`src/PVE/LXC/Config.pm` @ 94f5585) reads it: the main section ends at
/// the first `[section]` line, a later line of a key replaces an earlier one, and the value is
/// a boolean as pve-common's `parse_boolean` (`src/PVE/JSONSchema.pm`) reads it; absent is 0,
/// Proxmox's default.
fn unprivileged(conf: &str) -> bool {
    conf.lines()
        .take_while(|l| !l.starts_with('['))
        .filter_map(|l| l.strip_prefix("unprivileged:"))
        .last()
        .is_some_and(|v| {
            matches!(
                v.trim().to_ascii_lowercase().as_str(),
                "1" | "on" | "yes" | "true"
            )
        })
}

/// The container's config as it was created: on crun the checked copy crun runs
/// (`crun.json` in the store, never the bundle again).
fn container_config(rt: &Runtime<'_>, id: &ContainerId) -> Result<Value, RuntimeError> {
    rt.store
        .read_file::<Value>(id, ContainerFile::CrunConfig)?
        .ok_or_else(|| {
            RuntimeError::Usage(format!(
                "container {id} has no recorded config ({}): recreate it",
                rt.store.path(id, ContainerFile::CrunConfig).display()
            ))
        })
}

/// Reads the container's record and builds the exec's process: the `--process` document
/// (`process`, checked by [`check_process`]) or the container's process with `flags`
/// applied. Nothing runs. On the pct back end there is no recorded process (the bundle's
/// became Proxmox's config), so the flags build one from `cwd` `/` and uid 0.
pub fn prepare_exec(
    rt: &Runtime<'_>,
    id: &ContainerId,
    process: Option<&[u8]>,
    flags: &ProcessFlags,
) -> Result<PreparedExec, RuntimeError> {
    let (stored, mapping) = record(rt, id)?;
    let now = match &mapping.backend {
        Backend::Crun => live(rt, stored, &mapping)?,
        Backend::Pct { .. } => super::pct_verbs::container(rt, "exec", stored, &mapping)?.0,
    };
    if now.status != Status::Running {
        return Err(RuntimeError::NotRunning {
            id: id.clone(),
            status: status_name(now.status),
        });
    }
    let user_namespace = match &mapping.backend {
        Backend::Crun => None,
        // The config whose identity stamp `pct_verbs::container` just checked.
        Backend::Pct { vmid, node } => {
            let path = rt.paths.config(node, *vmid);
            let bytes = rt.host.read_file(&path).map_err(|e| {
                RuntimeError::Usage(format!(
                    "the Proxmox config of container {id} cannot be read: {e}"
                ))
            })?;
            Some(unprivileged(&String::from_utf8_lossy(&bytes)))
        }
    };
    let mut config = match &mapping.backend {
        Backend::Crun => container_config(rt, id)?,
        Backend::Pct { .. } => serde_json::json!({
            "ociVersion": "1.0.2",
            "root": {"path": "rootfs"},
            "process": {"cwd": "/", "user": {"uid": 0, "gid": 0}},
        }),
    };
    let process: Value = match process {
        Some(bytes) => {
            if flags.changes_process() {
                return Err(RuntimeError::Usage(
                    "--process gives the whole process: --cwd, --env, --user, --cap, --apparmor, --process-label, --no-new-privs, --additional-gids and a command cannot be added to it".into(),
                ));
            }
            serde_json::from_slice(&check_process(bytes)?)
                .map_err(|e| RuntimeError::Usage(e.to_string()))?
        }
        None => {
            let built = flags.apply(config.get("process").unwrap_or(&Value::Null))?;
            let bytes =
                serde_json::to_vec(&built).map_err(|e| RuntimeError::Usage(e.to_string()))?;
            check_process(&bytes)?;
            built
        }
    };
    let bytes = serde_json::to_vec(&process).map_err(|e| RuntimeError::Usage(e.to_string()))?;
    let user_namespace = user_namespace.unwrap_or_else(|| {
        config
            .pointer("/linux/namespaces")
            .and_then(Value::as_array)
            .is_some_and(|ns| {
                ns.iter()
                    .any(|n| n.get("type") == Some(&Value::from("user")))
            })
    });
    let container_process = config.get("process").cloned().unwrap_or(Value::Null);
    if let Some(o) = config.as_object_mut() {
        o.insert("process".into(), process);
    }
    Ok(PreparedExec {
        config: serde_json::to_vec_pretty(&config)
            .map_err(|e| RuntimeError::Usage(e.to_string()))?,
        backend: mapping.backend,
        container_process,
        user_namespace,
        process: bytes,
    })
}

/// `exec`: runs the prepared (and judged) process in the container with the caller's stdio;
/// returns its exit code (128 + N when signal N killed it), as runc and crun do. On crun the
/// process goes to crun as a `--process` file (`opts`' process fields are not used); on pct
/// it is applied by `lxc-attach` ([`super::pct_verbs`]), which cannot pass more descriptors;
/// a pid file and a console socket are served detached only. `stdio_is_tty`: whether one of this
/// process's standard descriptors is a terminal.
pub fn exec(
    rt: &Runtime<'_>,
    id: &ContainerId,
    prepared: &PreparedExec,
    mut opts: ExecOptions,
    stdio_is_tty: bool,
) -> Result<i32, RuntimeError> {
    let (stored, mapping) = record(rt, id)?;
    if mapping.backend != prepared.backend {
        return Err(RuntimeError::Usage(format!(
            "container {id} changed while its exec was prepared"
        )));
    }
    if let Backend::Pct { .. } = &mapping.backend {
        for (given, flag) in [
            // Detached, lxc-attach itself is the pid the engine waits on (below); in the
            // foreground there is no process of ours the pid file could name.
            (opts.pid_file.is_some() && !opts.detach, "--pid-file"),
            (opts.preserve_fds.is_some(), "--preserve-fds"),
        ] {
            if given {
                return Err(RuntimeError::NotOnProxmox {
                    verb: "exec",
                    id: id.clone(),
                    why: format!("lxc-attach has no {flag}"),
                });
            }
        }
        if opts.console_socket.is_some() && !opts.detach {
            // Detached, the terminal is made here and lxc-attach is given it; in the
            // foreground lxc-attach runs through the Host with this process's own stdio.
            return Err(RuntimeError::NotOnProxmox {
                verb: "exec",
                id: id.clone(),
                why: "lxc-attach has no --console-socket: it is served with --detach only (as engines call exec)".into(),
            });
        }
        let process: Value = serde_json::from_slice(&prepared.process)
            .map_err(|e| RuntimeError::Usage(e.to_string()))?;
        if opts.detach {
            return super::pct_verbs::exec_detached(
                rt,
                id,
                stored,
                &mapping,
                &process,
                stdio_is_tty,
                opts.pid_file.as_deref(),
                opts.console_socket.as_deref(),
            )
            .map(|()| 0);
        }
        return super::pct_verbs::exec(rt, id, stored, &mapping, &process, stdio_is_tty);
    }
    // The container may have stopped since it was prepared; crun would say so less clearly.
    let now = live(rt, stored, &mapping)?;
    if now.status != Status::Running {
        return Err(RuntimeError::NotRunning {
            id: id.clone(),
            status: status_name(now.status),
        });
    }
    // Kept until crun has returned, then removed.
    let file = stash("exec", &prepared.process)?;
    opts.process = Some(file.path().to_path_buf());
    opts.cwd = None;
    opts.env.clear();
    opts.user = None;
    opts.args.clear();
    Ok(rt.crun.exec(rt.host, id, &opts)?)
}

/// `ps`: the host pids of the container's processes.
pub fn ps(rt: &Runtime<'_>, id: &ContainerId) -> Result<Vec<i64>, RuntimeError> {
    let (stored, mapping) = record(rt, id)?;
    if let Backend::Pct { .. } = &mapping.backend {
        return super::pct_verbs::ps(rt, id, stored, &mapping);
    }
    let now = live(rt, stored, &mapping)?;
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
    let (stored, mapping) = record(rt, id)?;
    if let Backend::Pct { .. } = &mapping.backend {
        return super::pct_verbs::freeze(rt, id, stored, &mapping, pause);
    }
    let now = live(rt, stored, &mapping)?;
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
/// flags by the caller), checked by the field table, then given to crun, or to `pct set` as
/// the keys the translator maps them to.
pub fn update(rt: &Runtime<'_>, id: &ContainerId, resources: &Value) -> Result<(), RuntimeError> {
    check_fragment(
        "resources.json",
        serde_json::json!({"ociVersion": "1.0.2", "root": {"path": "rootfs"}, "linux": {"resources": resources}}),
        "the resources are not valid OCI linux.resources",
    )?;
    let (stored, mapping) = record(rt, id)?;
    if let Backend::Pct { .. } = &mapping.backend {
        return super::pct_verbs::update(rt, id, stored, &mapping, resources);
    }
    let now = live(rt, stored, &mapping)?;
    if now.status == Status::Stopped {
        return Err(RuntimeError::NotRunning {
            id: id.clone(),
            status: "stopped",
        });
    }
    let bytes = serde_json::to_vec(resources).map_err(|e| RuntimeError::Usage(e.to_string()))?;
    let file = stash("update", &bytes)?;
    Ok(rt.crun.update(rt.host, id, file.path())?)
}

/// `kill --all`: the signal to every process of the container. Unlike `kill`, a stopped
/// container is not refused: engines send it to clean up what is left of a container whose
/// init is gone (`--pid host`), and runc accepts that. pct: [`super::pct_verbs::kill_all`].
pub fn kill_all(rt: &Runtime<'_>, id: &ContainerId, signal: i32) -> Result<(), RuntimeError> {
    let (stored, mapping) = record(rt, id)?;
    if let Backend::Pct { .. } = &mapping.backend {
        return super::pct_verbs::kill_all(rt, id, stored, &mapping, signal);
    }
    live(rt, stored, &mapping)?;
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

#[cfg(test)]
mod process_flag_tests {
    use super::ProcessFlags;
    use serde_json::json;

    /// runc `exec.go` `getProcess`: the container's process with the flags on top.
    #[test]
    fn flags_apply_to_the_containers_process_as_runc_does() {
        let base = json!({"args": ["init"], "cwd": "/", "env": ["PATH=/bin"], "terminal": true,
            "user": {"uid": 1000, "gid": 1000}, "noNewPrivileges": true,
            "capabilities": {"bounding": ["CAP_KILL"], "inheritable": ["CAP_KILL"]}});
        let flags = ProcessFlags {
            args: vec!["sh".into(), "-c".into(), "id".into()],
            cwd: Some("/srv".into()),
            env: vec!["A=1".into()],
            user: Some("7".into()),
            additional_gids: vec![5],
            caps: vec!["CAP_CHOWN".into()],
            ..ProcessFlags::default()
        };
        let p = flags.apply(&base).unwrap();
        assert_eq!(p["args"], json!(["sh", "-c", "id"]));
        assert_eq!(p["cwd"], "/srv");
        assert_eq!(p["env"], json!(["PATH=/bin", "A=1"]));
        // The uid alone changes; the gid stays the container's.
        assert_eq!(
            p["user"],
            json!({"uid": 7, "gid": 1000, "additionalGids": [5]})
        );
        // Ambient too, because the process has an inheritable set.
        assert_eq!(
            p["capabilities"]["bounding"],
            json!(["CAP_KILL", "CAP_CHOWN"])
        );
        assert_eq!(p["capabilities"]["effective"], json!(["CAP_CHOWN"]));
        assert_eq!(p["capabilities"]["ambient"], json!(["CAP_CHOWN"]));
        // terminal is the --tty flag, never the container's.
        assert_eq!(p["terminal"], json!(false));
        assert_eq!(p["noNewPrivileges"], json!(true));
        // Flags not given add no keys.
        let plain = ProcessFlags {
            args: vec!["true".into()],
            ..ProcessFlags::default()
        }
        .apply(&json!({"cwd": "/"}))
        .unwrap();
        assert_eq!(
            plain,
            json!({"cwd": "/", "args": ["true"], "terminal": false, "user": {"uid": 0, "gid": 0}})
        );
        let bad = ProcessFlags {
            args: vec!["sh".into()],
            user: Some("root".into()),
            ..ProcessFlags::default()
        };
        assert!(bad.apply(&base).is_err());
        assert!(ProcessFlags::default().apply(&base).is_err(), "no command");
        assert!(flags.changes_process());
        let tty_only = ProcessFlags {
            tty: true,
            ..ProcessFlags::default()
        };
        assert!(!tty_only.changes_process());
    }
}

#[cfg(test)]
mod tests {
    use super::unprivileged;

    #[test]
    fn unprivileged_is_read_from_the_main_section_as_proxmox_reads_it() {
        assert!(unprivileged("arch: amd64\nunprivileged: 1\n"));
        assert!(unprivileged("unprivileged: Yes\n"));
        assert!(
            !unprivileged("arch: amd64\n"),
            "absent is Proxmox's default 0"
        );
        assert!(!unprivileged("unprivileged: 0\n"));
        // A snapshot's value is not the container's.
        assert!(!unprivileged("arch: amd64\n\n[snap1]\nunprivileged: 1\n"));
        // The last line wins, as in a hash filled line by line.
        assert!(!unprivileged("unprivileged: 1\nunprivileged: 0\n"));
        assert!(!unprivileged("#unprivileged: 1\n"));
    }
}
