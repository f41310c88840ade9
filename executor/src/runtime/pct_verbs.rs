//! The engine verbs on the pct back end, where Proxmox allows them.
//!
//! - `exec`: `lxc-attach` with the OCI process's args, environment (`--clear-env` and one
//!   `--set-var` per entry), uid, gid and SELinux label. LXC puts the container's own
//!   `lxc.environment` (the bundle's env, which Proxmox writes) under the process's entries,
//!   as for every process it attaches (`src/lxc/attach.c` `lxc_attach_set_environment`). What `lxc-attach` cannot set is
//!   refused, never dropped: a working directory other than `/` (LXC `src/lxc/attach.c`
//!   `do_attach` @ e7b855a5 changes into `options->initial_cwd`, which `lxc-attach` has no
//!   option for, or else into the caller's directory; a failure is only a warning), its own
//!   capabilities, AppArmor profile, `noNewPrivileges`, rlimits and the other process
//!   settings (the attached process gets the container's), additional groups, and a terminal
//!   when none of our stdio is one (`lxc-attach` makes a terminal exactly when one of its
//!   standard descriptors is a terminal, `src/lxc/tools/lxc_attach.c` `stdfd_is_pty`; so a
//!   process with `terminal: false` run from a terminal gets one too, which lxc-attach has
//!   no option to prevent).
//! - `pause`/`resume`: the container's freezer, as pve-container's `freeze`/`thaw`
//!   ([`crate::pve::lxc`]).
//! - `ps`: the processes of the container's cgroup (its init's, and every cgroup below it).
//! - `update`: `pct set` with the keys Proxmox hotplugs ([`crate::pve::set`]); the resources
//!   are mapped by the translator's own lowering (the one `create` uses), and anything it does
//!   not map to `memory`, `swap`, `cores`, `cpulimit` or `cpuunits` is refused.
//!
//! Every verb checks the container's identity before it acts on the VMID (`live_checked`).

use std::path::{Path, PathBuf};

use serde_json::Value;
use translator::Severity;

use crate::host::Command;
use crate::id::{ContainerId, Vmid};
use crate::state::{Backend, Mapping, OciState, Status};

use super::state::{gone, live_checked};
use super::{status_name, Runtime, RuntimeError};

/// The live state and VMID of a pct container.
pub(super) fn container(
    rt: &Runtime<'_>,
    verb: &'static str,
    stored: OciState,
    mapping: &Mapping,
) -> Result<(OciState, Vmid), RuntimeError> {
    let Backend::Pct { vmid, node } = &mapping.backend else {
        return Err(RuntimeError::Usage(format!(
            "container {} is not on the pct back end",
            mapping.id
        )));
    };
    let now = live_checked(rt, stored, mapping)?;
    if now.gone {
        return Err(gone(mapping));
    }
    // exec, ps, pause and update reach the container's processes and cgroup on the node that
    // runs it (`lxc-attach`, `lxc-freeze`, cgroup files): only that node can.
    let at = now.node.as_deref().unwrap_or(node);
    if rt.remote(at)?.is_some() {
        return Err(RuntimeError::OtherNode {
            verb,
            id: mapping.id.clone(),
            vmid: *vmid,
            node: at.to_owned(),
        });
    }
    Ok((now.state, *vmid))
}

fn refused(verb: &'static str, id: &ContainerId, why: String) -> RuntimeError {
    RuntimeError::NotOnProxmox {
        verb,
        id: id.clone(),
        why,
    }
}

/// Process fields `lxc-attach` applies.
const APPLIED: &[&str] = &["args", "env", "cwd", "user", "terminal", "selinuxLabel"];
/// `user` fields `lxc-attach` applies.
const USER_APPLIED: &[&str] = &["uid", "gid"];

/// `lxc-attach` for the checked OCI `process`, or why Proxmox cannot run it. `stdio_is_tty`:
/// whether one of this process's standard descriptors is a terminal (`lxc-attach` inherits
/// them and makes a terminal exactly then).
pub fn attach_command(
    rt: &Runtime<'_>,
    id: &ContainerId,
    vmid: Vmid,
    process: &Value,
    stdio_is_tty: bool,
) -> Result<Command, RuntimeError> {
    let no = |why: String| refused("exec", id, why);
    let Some(p) = process.as_object() else {
        return Err(no("the process is not a JSON object".into()));
    };
    // An engine's CT: what its process was created with in these members is what an attached
    // process gets too (see `EngineRecord::inherited`); podman's exec repeats them.
    let inherited = rt
        .store
        .read_file::<super::engine_pct::EngineRecord>(id, crate::state::ContainerFile::Engine)?
        .and_then(|r| r.inherited)
        .unwrap_or_default();
    for (key, value) in p {
        let off = matches!(value, Value::Null)
            || (key == "noNewPrivileges" && value == &Value::Bool(false))
            || (super::engine_pct::INHERITED.contains(&key.as_str())
                && inherited.get(key) == Some(value));
        if !APPLIED.contains(&key.as_str()) && !off {
            return Err(no(format!(
                "lxc-attach cannot set the process's `{key}`: the attached process gets the container's"
            )));
        }
    }
    let cwd = p.get("cwd").and_then(Value::as_str).unwrap_or("/");
    if cwd != "/" {
        return Err(no(format!(
            "lxc-attach has no working-directory option (it keeps the caller's directory), so the process's cwd {cwd:?} cannot be set; use `/`"
        )));
    }
    if p.get("terminal").and_then(Value::as_bool) == Some(true) && !stdio_is_tty {
        return Err(no(
            "lxc-attach gives the process a terminal only when its stdin, stdout or stderr is one, and none is; --console-socket cannot be served"
                .into(),
        ));
    }
    let mut cmd = crate::pve::lxc::tool("lxc-attach", &rt.paths, vmid).arg("--clear-env");
    for e in p.get("env").and_then(Value::as_array).into_iter().flatten() {
        let Some(kv) = e.as_str().filter(|kv| kv.contains('=')) else {
            return Err(no(format!("the environment entry {e} is not KEY=VALUE")));
        };
        cmd = cmd.arg(format!("--set-var={kv}"));
    }
    if let Some(user) = p.get("user").and_then(Value::as_object) {
        for key in user.keys() {
            if !USER_APPLIED.contains(&key.as_str()) {
                return Err(no(format!(
                    "lxc-attach cannot set the process's `user.{key}`"
                )));
            }
        }
        for (key, flag) in [("uid", "--uid"), ("gid", "--gid")] {
            if let Some(n) = user.get(key).and_then(Value::as_u64) {
                cmd = cmd.arg(format!("{flag}={n}"));
            }
        }
    }
    if let Some(label) = p.get("selinuxLabel").and_then(Value::as_str) {
        cmd = cmd.arg(format!("--context={label}"));
    }
    let args: Vec<&str> = p
        .get("args")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if args.is_empty() {
        return Err(RuntimeError::Usage("the process has no args".into()));
    }
    // lxc-attach changes into the caller's directory inside the container: `/` is the
    // container's root.
    Ok(cmd.arg("--").args(args).current_dir("/").inherit_stdio())
}

/// Runs the process; its exit code (`lxc-attach` exits with it, 128 + N for signal N).
pub fn exec(
    rt: &Runtime<'_>,
    id: &ContainerId,
    stored: OciState,
    mapping: &Mapping,
    process: &Value,
    stdio_is_tty: bool,
) -> Result<i32, RuntimeError> {
    let (now, vmid) = container(rt, "exec", stored, mapping)?;
    if now.status != Status::Running {
        return Err(RuntimeError::NotRunning {
            id: id.clone(),
            status: status_name(now.status),
        });
    }
    let cmd = attach_command(rt, id, vmid, process, stdio_is_tty)?;
    let out = rt.host.run(&cmd)?;
    Ok(match out.exit {
        crate::host::Exit::Code(c) => c,
        crate::host::Exit::Signal(s) => 128 + s,
    })
}

/// `exec --detach [--pid-file F]`, as conmon calls it for `podman exec`: starts `lxc-attach`
/// with this process's stdio (the engine's pipes) and returns without waiting
/// ([`crate::host::Host::spawn`]). `lxc-attach` runs the process in the CT's namespaces and
/// exits with its status (`src/lxc/tools/lxc_attach.c` `main` returns
/// `lxc_wait_for_pid_status`'s result, lxc @ HEAD), so it is the pid the engine waits on:
/// written to `F`; once this process exits, the engine (a child subreaper, as conmon is)
/// inherits and reaps it, as runc's detached exec leaves it the process itself.
///
/// `console` (`podman exec -t`: conmon passes `--tty --console-socket S`): a terminal is
/// opened on the host and its master sent to `S`, as `create` does for an engine's CT
/// ([`super::engine_pct::console`], runc's protocol); its slave is lxc-attach's stdin, stdout
/// and stderr and its controlling terminal (a session of its own, so that the engine's resize
/// reaches it as SIGWINCH). lxc-attach, its stdio being a terminal, makes a terminal in the
/// container for the process and relays between the two (`src/lxc/tools/lxc_attach.c`
/// `stdfd_is_pty`, `src/lxc/attach.c` `lxc_attach_terminal` @ e7b855a5).
#[allow(clippy::too_many_arguments)]
pub fn exec_detached(
    rt: &Runtime<'_>,
    id: &ContainerId,
    stored: OciState,
    mapping: &Mapping,
    process: &Value,
    stdio_is_tty: bool,
    pid_file: Option<&std::path::Path>,
    console: Option<&std::path::Path>,
) -> Result<(), RuntimeError> {
    use std::os::fd::AsFd;
    let (now, vmid) = container(rt, "exec", stored, mapping)?;
    if now.status != Status::Running {
        return Err(RuntimeError::NotRunning {
            id: id.clone(),
            status: status_name(now.status),
        });
    }
    let cmd = attach_command(rt, id, vmid, process, stdio_is_tty || console.is_some())?;
    let terminal = match console {
        Some(sock) => Some(
            super::engine_pct::console(sock)
                .map_err(|e| RuntimeError::Usage(format!("exec --console-socket: {e}")))?,
        ),
        None => None,
    };
    let pid = rt.host.spawn(&cmd, terminal.as_ref().map(|t| t.as_fd()))?;
    if let Some(p) = pid_file {
        // As runc writes it (`super::pid_file`), as `create` does; a dry run starts nothing
        // (pid 0) and writes no pid file.
        if pid != 0 {
            super::pid_file::write(p, pid)
                .map_err(|e| crate::host::HostError::io("write", p, e))?;
        }
    }
    Ok(())
}

/// `pause` (`true`) / `resume` (`false`).
pub fn freeze(
    rt: &Runtime<'_>,
    id: &ContainerId,
    stored: OciState,
    mapping: &Mapping,
    pause: bool,
) -> Result<(), RuntimeError> {
    let verb = if pause { "pause" } else { "resume" };
    let (now, vmid) = container(rt, verb, stored, mapping)?;
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
    Ok(crate::pve::lxc::freeze(rt.host, &rt.paths, vmid, pause)?)
}

/// The directory a hierarchy of `/proc/<pid>/cgroup` is mounted at, from `/proc/self/mountinfo`:
/// `""` is the cgroup2 hierarchy, otherwise a v1 controller list (`pids`, `cpu,cpuacct`,
/// `name=systemd`).
fn cgroup_mount(mountinfo: &str, controllers: &str) -> Option<PathBuf> {
    mountinfo.lines().find_map(|l| {
        // `id parent major:minor root mountpoint options ... - fstype source superoptions`
        let (left, right) = l.split_once(" - ")?;
        let mountpoint = left.split(' ').nth(4)?;
        let mut r = right.split(' ');
        let fstype = r.next()?;
        let superoptions = r.nth(1)?;
        let matches = match (controllers, fstype) {
            ("", "cgroup2") => true,
            (c, "cgroup") if !c.is_empty() => {
                let opts: Vec<&str> = superoptions.split(',').collect();
                c.split(',').all(|want| opts.contains(&want))
            }
            _ => false,
        };
        matches.then(|| PathBuf::from(mountpoint))
    })
}

/// `lxc.cgroup.dir.container` of an LXC config: the last line of the key wins, as LXC reads
/// its config line by line (`src/lxc/confile.c` `set_config_cgroup_container_dir`).
fn container_cgroup_dir(lxc_config: &str) -> Option<&str> {
    lxc_config
        .lines()
        .rev()
        .find_map(|l| {
            let (k, v) = l.split_once('=')?;
            (k.trim() == "lxc.cgroup.dir.container").then(|| v.trim())
        })
        .filter(|v| !v.is_empty())
}

/// The part of `path` (a cgroup path of `/proc/<pid>/cgroup`) that is the container's own
/// cgroup: `/<dir>` when the CT's LXC config names `lxc.cgroup.dir.container = <dir>` (what
/// Proxmox writes with LXC 4 and later: `lxc/<vmid>`, the payload in its `ns` child through
/// `lxc.cgroup.dir.container.inner = ns`; pve-container `src/PVE/LXC.pm` `update_lxc_config`
/// @ 94f5585), else LXC's default, a component `lxc.payload.<name>` with the `-NNNN` suffix LXC
/// adds when the name is taken (lxc `src/lxc/cgroups/cgroup.h` `DEFAULT_PAYLOAD_CGROUP_PREFIX`,
/// `CGROUP_CREATE_RETRY`; `src/lxc/cgroups/cgfsng.c` `cgfsng_payload_create` @ e7b855a5).
/// `None` when `path` is not in it.
fn container_part(path: &str, dir: Option<&str>, vmid: Vmid) -> Option<String> {
    let path = path.trim_end_matches('/');
    if let Some(dir) = dir {
        let dir = format!("/{}", dir.trim_matches('/'));
        let below = path == dir || path.starts_with(&format!("{dir}/"));
        return below.then_some(dir);
    }
    let name = format!("lxc.payload.{vmid}");
    let mut out = String::new();
    for c in path.split('/').filter(|c| !c.is_empty()) {
        out.push('/');
        out.push_str(c);
        let retry = c
            .strip_prefix(&name)
            .and_then(|rest| rest.strip_prefix('-'))
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        if c == name || retry {
            return Some(out);
        }
    }
    None
}

/// The host directory of the container's cgroup (cgroup2 where it has one, else its first v1
/// hierarchy that is mounted), which holds every process of the container in it and the
/// cgroups below; `None` when the container does not run. The cgroup is found from the CT's
/// init as Proxmox reports it (`pct status --verbose`, never a pid of our own records: an
/// engine's CT has the stand-in's pid in its state, a host process) and must be the one the
/// CT's LXC config names ([`container_part`]): a pid that ended and was reused in between is in
/// another cgroup and refused.
fn ct_cgroup(
    rt: &Runtime<'_>,
    verb: &'static str,
    id: &ContainerId,
    vmid: Vmid,
) -> Result<Option<PathBuf>, RuntimeError> {
    let pid = match crate::pve::status(rt.host, vmid)? {
        Some(crate::pve::CtStatus {
            running: true,
            pid: Some(pid),
            ..
        }) => pid,
        _ => return Ok(None),
    };
    let read = |p: &Path| -> Result<String, RuntimeError> {
        Ok(String::from_utf8_lossy(&rt.host.read_file(p)?).into_owned())
    };
    let config = read(&rt.paths.lxc_path().join(vmid.to_string()).join("config"))?;
    let dir = container_cgroup_dir(&config);
    let cgroups = read(Path::new(&format!("/proc/{pid}/cgroup")))?;
    let mountinfo = read(Path::new("/proc/self/mountinfo"))?;
    let mut entries: Vec<(&str, &str)> = cgroups
        .lines()
        .filter_map(|l| {
            let mut f = l.splitn(3, ':');
            let (_, controllers, path) = (f.next()?, f.next()?, f.next()?);
            Some((controllers, path))
        })
        .collect();
    // cgroup2 first: the one hierarchy where every process of the container is.
    entries.sort_by_key(|(c, _)| !c.is_empty());
    for (controllers, path) in &entries {
        let Some(mount) = cgroup_mount(&mountinfo, controllers) else {
            continue;
        };
        return match container_part(path, dir, vmid) {
            Some(part) => Ok(Some(mount.join(part.trim_start_matches('/')))),
            None => Err(refused(
                verb,
                id,
                format!(
                    "the init {pid} of CT {vmid} is in cgroup {path}, not in the container's ({})",
                    dir.map_or_else(|| format!("lxc.payload.{vmid}"), str::to_owned)
                ),
            )),
        };
    }
    Err(refused(
        verb,
        id,
        format!("no cgroup of the container's init {pid} is mounted on this host"),
    ))
}

/// The pids in `top`'s `cgroup.procs` and in every cgroup below it, sorted. `top` must be
/// readable; a cgroup below it may go away while it is walked (its processes exited), and is
/// then skipped.
fn cgroup_pids(rt: &Runtime<'_>, top: PathBuf) -> Result<Vec<i64>, RuntimeError> {
    let read = |p: &Path| -> Result<String, RuntimeError> {
        Ok(String::from_utf8_lossy(&rt.host.read_file(p)?).into_owned())
    };
    let mut pids = Vec::new();
    let procs = read(&top.join("cgroup.procs"))?;
    let mut dirs = vec![(top, procs)];
    while let Some((dir, procs)) = dirs.pop() {
        for line in procs.lines() {
            if let Ok(p) = line.trim().parse::<i64>() {
                pids.push(p);
            }
        }
        // A child cgroup is a directory with its own cgroup.procs; for the interface files
        // next to it that read fails, and they are skipped.
        for name in rt.host.list_dir(&dir).unwrap_or_default() {
            let child = dir.join(&name);
            if let Ok(text) = read(&child.join("cgroup.procs")) {
                dirs.push((child, text));
            }
        }
    }
    pids.sort_unstable();
    pids.dedup();
    Ok(pids)
}

/// The host pids of every process in the container's cgroup ([`ct_cgroup`]) and the cgroups
/// below it.
pub fn ps(
    rt: &Runtime<'_>,
    id: &ContainerId,
    stored: OciState,
    mapping: &Mapping,
) -> Result<Vec<i64>, RuntimeError> {
    let (now, vmid) = container(rt, "ps", stored, mapping)?;
    if now.status == Status::Stopped {
        // As runc: a stopped container's cgroup is empty.
        return Ok(Vec::new());
    }
    match ct_cgroup(rt, "ps", id, vmid)? {
        Some(top) => cgroup_pids(rt, top),
        None => Ok(Vec::new()),
    }
}

/// `kill --all`: `signal` to every process of the container's cgroup, as runc's
/// `signalAllProcesses` does it without `cgroup.kill` (runc @ 76d9cf5d
/// `libcontainer/init_linux.go`): the cgroup is frozen (`lxc-freeze`, unless it is paused
/// already), its pids read, each signalled, and the cgroup thawed again. Frozen, no process
/// can exit or fork in between, so every pid signalled is one of the container's. runc
/// writes `cgroup.kill` for SIGKILL where cgroup v2 has it (Linux 5.14); the same freeze, read
/// and kill reaches the same processes here on v1, v2 and the hybrid layout alike, with every
/// step a host call a dry run shows. A stopped container is not refused (runc accepts it: an
/// engine cleans up with it); it has no processes left.
pub fn kill_all(
    rt: &Runtime<'_>,
    id: &ContainerId,
    stored: OciState,
    mapping: &Mapping,
    signal: i32,
) -> Result<(), RuntimeError> {
    let (now, vmid) = container(rt, "kill --all", stored, mapping)?;
    if now.status == Status::Stopped {
        return Ok(());
    }
    let Some(top) = ct_cgroup(rt, "kill --all", id, vmid)? else {
        return Ok(());
    };
    let paused = crate::pve::lxc::frozen(rt.host, &rt.paths, vmid)?;
    if !paused {
        crate::pve::lxc::freeze(rt.host, &rt.paths, vmid, true)?;
    }
    let signalled = cgroup_pids(rt, top).and_then(|pids| {
        if pids.is_empty() {
            return Ok(());
        }
        let cmd = Command::new("kill")
            .arg("-s")
            .arg(signal.to_string())
            .arg("--")
            .args(pids.iter().map(i64::to_string));
        rt.host.run(&cmd)?.check(&cmd)?;
        Ok(())
    });
    // Thawed even when the signalling failed: a kill --all must not leave the CT frozen. A
    // container the signal ended cannot be thawed (its LXC monitor is gone with it: a frozen
    // task still dies of SIGKILL), and need not be.
    let thawed = if paused {
        Ok(())
    } else {
        crate::pve::lxc::freeze(rt.host, &rt.paths, vmid, false)
            .map_err(RuntimeError::from)
            .or_else(|e| match crate::pve::status(rt.host, vmid)? {
                Some(s) if s.running => Err(e),
                _ => Ok(()),
            })
    };
    signalled.and(thawed)
}

/// The Proxmox keys of an OCI `linux.resources`, by the translator's lowering (the one `create`
/// uses), or why `pct set` cannot apply it.
pub fn resource_options(
    id: &ContainerId,
    resources: &Value,
) -> Result<Vec<(&'static str, String)>, RuntimeError> {
    let no = |why: String| refused("update", id, why);
    let config = serde_json::json!({
        "ociVersion": "1.0.2",
        "root": {"path": "rootfs"},
        "linux": {"resources": resources},
    })
    .to_string();
    let t = translator::oci_to_ir(
        "resources.json",
        config.as_bytes(),
        &translator::Target::default(),
    );
    // Every finding about the resources means a value that is not applied as given.
    let findings: Vec<String> = t
        .diagnostics
        .iter()
        .filter(|d| {
            d.severity >= Severity::Warning
                && d.pointer
                    .as_ref()
                    .is_some_and(|p| p.as_str().starts_with("/linux/resources"))
        })
        .map(|d| {
            format!(
                "{}: {}",
                d.pointer.as_ref().map(|p| p.as_str()).unwrap_or(""),
                d.message
            )
        })
        .collect();
    if !findings.is_empty() {
        return Err(no(findings.join("; ")));
    }
    let Some(ir) = t.ir.as_ref().filter(|_| !t.has_errors()) else {
        return Err(RuntimeError::Usage(
            "the resources are not valid OCI linux.resources".into(),
        ));
    };
    let r = &ir.resources;
    if !r.cgroup2.is_empty() {
        let keys: Vec<&str> = r.cgroup2.iter().map(|k| k.key.as_str()).collect();
        return Err(no(format!(
            "Proxmox has no option for {} (`pct set` sets memory, swap, cores, cpulimit and cpuunits)",
            keys.join(", ")
        )));
    }
    let mut out = Vec::new();
    if let Some(m) = &r.memory {
        out.push(("memory", m.value.get().to_string()));
    }
    if let Some(s) = &r.swap_mib {
        out.push(("swap", s.value.to_string()));
    }
    if let Some(c) = &r.cores {
        out.push(("cores", c.value.to_string()));
    }
    if let Some(c) = &r.cpulimit {
        out.push(("cpulimit", c.value.clone()));
    }
    if let Some(c) = &r.cpuunits {
        out.push(("cpuunits", c.value.to_string()));
    }
    if out.is_empty() {
        return Err(RuntimeError::Usage(
            "nothing to update: no memory, swap, cpu shares, quota or cpus given".into(),
        ));
    }
    Ok(out)
}

/// `update` on a pct container: `pct set` with the mapped keys.
pub fn update(
    rt: &Runtime<'_>,
    id: &ContainerId,
    stored: OciState,
    mapping: &Mapping,
    resources: &Value,
) -> Result<(), RuntimeError> {
    let options = resource_options(id, resources)?;
    let (now, vmid) = container(rt, "update", stored, mapping)?;
    if now.status == Status::Stopped {
        return Err(RuntimeError::NotRunning {
            id: id.clone(),
            status: "stopped",
        });
    }
    Ok(crate::pve::set(rt.host, vmid, &options)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_process_becomes_lxc_attach_arguments_or_is_refused() {
        let host = crate::host::RecordingHost::new();
        let dir = tempfile::tempdir().unwrap();
        let store = crate::state::StateStore::open(dir.path().join("state")).unwrap();
        let rt = Runtime::new(
            &host,
            store,
            crate::pve::PvePaths::under("/sim").on_node(Some("pve".into())),
        );
        let id = ContainerId::new("c").unwrap();
        let vmid = Vmid::new(100).unwrap();
        let p = serde_json::json!({"args": ["sh", "-c", "echo $A"], "cwd": "/",
            "env": ["A=1 2", "PATH=/bin"], "user": {"uid": 1000, "gid": 100},
            "terminal": false, "noNewPrivileges": false});
        let cmd = attach_command(&rt, &id, vmid, &p, false).unwrap();
        assert_eq!(
            cmd.to_string(),
            "lxc-attach -n 100 -P /sim/var/lib/lxc --clear-env '--set-var=A=1 2' --set-var=PATH=/bin --uid=1000 --gid=100 -- sh -c 'echo $A'"
        );
        assert_eq!(cmd.cwd.as_deref(), Some(Path::new("/")));
        assert_eq!(cmd.stdio, crate::host::Stdio::Inherit);
        let refused = |extra: serde_json::Value, tty: bool| {
            let mut q = p.clone();
            q.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            attach_command(&rt, &id, vmid, &q, tty)
                .map(|c| c.to_string())
                .unwrap_err()
                .to_string()
        };
        for (extra, why) in [
            (
                serde_json::json!({"cwd": "/srv"}),
                "no working-directory option",
            ),
            (
                serde_json::json!({"capabilities": {"bounding": []}}),
                "`capabilities`",
            ),
            (
                serde_json::json!({"apparmorProfile": "x"}),
                "`apparmorProfile`",
            ),
            (
                serde_json::json!({"noNewPrivileges": true}),
                "`noNewPrivileges`",
            ),
            (serde_json::json!({"rlimits": []}), "`rlimits`"),
            (
                serde_json::json!({"user": {"uid": 0, "gid": 0, "additionalGids": [5]}}),
                "`user.additionalGids`",
            ),
            (serde_json::json!({"terminal": true}), "only when its stdin"),
        ] {
            let err = refused(extra.clone(), false);
            assert!(err.contains(why), "{extra}: {err}");
            assert!(err.contains("on the pct back end"), "{err}");
        }
        // A terminal is given when the caller's stdio is one.
        let mut q = p.clone();
        q["terminal"] = serde_json::json!(true);
        assert!(attach_command(&rt, &id, vmid, &q, true).is_ok());
        assert!(host.commands().is_empty(), "nothing ran");
    }

    #[test]
    fn the_containers_cgroup_is_the_one_its_lxc_config_names_or_lxcs_default() {
        let vmid = Vmid::new(100).unwrap();
        let conf = "lxc.cgroup.relative = 0\nlxc.cgroup.dir.monitor = lxc.monitor/100\n\
                    lxc.cgroup.dir.container = lxc/100\nlxc.cgroup.dir.container.inner = ns\n";
        let dir = container_cgroup_dir(conf);
        assert_eq!(dir, Some("lxc/100"));
        // Proxmox's layout: the init is in the inner `ns` cgroup, or one the CT made below.
        assert_eq!(
            container_part("/lxc/100/ns", dir, vmid).as_deref(),
            Some("/lxc/100")
        );
        assert_eq!(
            container_part("/lxc/100/ns/init.scope", dir, vmid).as_deref(),
            Some("/lxc/100")
        );
        // Another CT's, or a host process's (a reused pid), is not it.
        assert_eq!(container_part("/lxc/1000/ns", dir, vmid), None);
        assert_eq!(container_part("/system.slice/ssh.service", dir, vmid), None);
        assert_eq!(container_part("/lxc.monitor/100", dir, vmid), None);
        // LXC's own default, with the suffix of a taken name.
        assert_eq!(
            container_part("/lxc.payload.100/sub", None, vmid).as_deref(),
            Some("/lxc.payload.100")
        );
        assert_eq!(
            container_part("/lxc.payload.100-2", None, vmid).as_deref(),
            Some("/lxc.payload.100-2")
        );
        assert_eq!(container_part("/lxc.payload.1000", None, vmid), None);
        assert_eq!(container_part("/lxc.payload.100-x", None, vmid), None);
        assert_eq!(container_cgroup_dir("lxc.arch = amd64\n"), None);
    }

    #[test]
    fn cgroup_mounts_from_mountinfo() {
        let mi = "30 25 0:26 / /sys/fs/cgroup/unified rw,nosuid - cgroup2 cgroup2 rw\n\
                  31 25 0:27 / /sys/fs/cgroup/pids rw,nosuid - cgroup cgroup rw,pids\n\
                  32 25 0:28 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n";
        assert_eq!(
            cgroup_mount(mi, "").as_deref(),
            Some(Path::new("/sys/fs/cgroup/unified"))
        );
        assert_eq!(
            cgroup_mount(mi, "pids").as_deref(),
            Some(Path::new("/sys/fs/cgroup/pids"))
        );
        assert_eq!(
            cgroup_mount(mi, "cpu,cpuacct").as_deref(),
            Some(Path::new("/sys/fs/cgroup/cpu,cpuacct"))
        );
        assert_eq!(cgroup_mount(mi, "memory"), None);
    }

    #[test]
    fn resources_map_to_pct_set_keys_or_are_refused() {
        let id = ContainerId::new("c").unwrap();
        let opts = resource_options(
            &id,
            &serde_json::json!({"memory": {"limit": 536870912, "swap": 1073741824},
                                "cpu": {"shares": 1024, "quota": 50000, "period": 100000}}),
        )
        .unwrap();
        assert_eq!(
            opts,
            vec![
                ("memory", "512".to_string()),
                ("swap", "512".to_string()),
                ("cpulimit", "0.5".to_string()),
                ("cpuunits", "100".to_string()),
            ]
        );
        // pids.limit has no Proxmox key (it would be a raw lxc.cgroup2 line).
        let err = resource_options(&id, &serde_json::json!({"pids": {"limit": 10}})).unwrap_err();
        assert!(err.to_string().contains("lxc.cgroup2.pids.max"), "{err}");
        assert!(resource_options(&id, &serde_json::json!({})).is_err());
    }
}
