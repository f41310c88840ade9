//! The node's service manager, as far as `pct start` uses it: a stand-in for systemd running
//! `pve-container@<vmid>.service` (and `pve-container-debug@`).
//!
//! Proxmox's `vm_start` (src/PVE/LXC.pm, pve-container at 94f558522ef6) runs `systemctl start
//! pve-container@$vmid` and then waits on LXC's monitor socket for the container to reach
//! RUNNING (`monitor_state_change`, 10 s for the first state change, then "startup for container
//! '$vmid' failed" on STOPPED/ABORTING, and only a warning when the socket times out). The unit
//! (src/pve-container@.service) is `Type=simple`, `ExecStart=/usr/bin/lxc-start -F -n %i`,
//! `StandardOutput=null`, `StandardError=file:/run/pve/ct-%i.stderr`; the debug unit adds
//! `-o /dev/stderr -l DEBUG`. So the container's monitor is the service manager's child in a
//! session of its own, with nothing of the caller's: not its stdio, not its environment, not its
//! process tree. A container started by `lxc-start -d` from the caller instead is adopted by the
//! caller's nearest subreaper (conmon, containerd's shim), which would let a test of an engine
//! pass on something Proxmox never gives it.
//!
//! `pve-sim-systemd` serves one node's state root on [`SOCKET`] (under the root, as systemd's
//! private bus is `/run/systemd/private`). The runtime tests start it beside the node; `pct start`
//! uses it when it runs and falls back to `lxc-start -d` otherwise (the simulator's own unit
//! tests, which start no engine). The protocol is one JSON line each way.

use std::collections::HashMap;
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::error::{SimError, SimResult};
use crate::state::{mkdir_p, Sim};

/// Where the service manager listens, under the state root.
pub const SOCKET: &str = "/run/pve-sim/systemd.sock";

const SYSTEMD_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// What a unit is doing, as `systemctl is-active` would say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitState {
    Active,
    /// Its main process exited with this status (`None`: killed by a signal).
    Exited(Option<i32>),
    Unknown,
}

/// The socket of this node's service manager, if one is serving it.
pub fn running(sim: &Sim) -> Option<PathBuf> {
    let path = sim.path(SOCKET);
    UnixStream::connect(&path).ok().map(|_| path)
}

fn request(socket: &PathBuf, req: &Value) -> SimResult<Value> {
    let err = |e: std::io::Error| SimError::io(format!("systemd socket {}", socket.display()), e);
    let mut stream = UnixStream::connect(socket).map_err(err)?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(err)?;
    writeln!(stream, "{req}").map_err(err)?;
    let mut line = String::new();
    BufReader::new(&stream).read_line(&mut line).map_err(err)?;
    let reply: Value = serde_json::from_str(&line)
        .map_err(|e| SimError::Setup(format!("systemd stand-in replied {line:?}: {e}")))?;
    match reply.get("error").and_then(Value::as_str) {
        Some(e) => Err(SimError::die(format!("{e}\n"))),
        None => Ok(reply),
    }
}

/// `systemctl start pve-container[-debug]@<vmid>`, then what `monitor_start` waits for.
pub fn start(
    sim: &Sim,
    socket: &PathBuf,
    vmid: &str,
    debug: bool,
    init_argv: &[String],
) -> SimResult<()> {
    let unit = unit_name(vmid, debug);
    let reply = request(socket, &json!({"start": unit, "init": init_argv}))?;
    let invocation = reply.get("invocation").and_then(Value::as_u64);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if crate::runtime::state(sim, vmid)?.running {
            return Ok(());
        }
        if let UnitState::Exited(_) = status(socket, &unit, invocation)? {
            return Err(SimError::die(format!(
                "startup for container '{vmid}' failed\n"
            )));
        }
        if Instant::now() > deadline {
            crate::task::warn("problem with monitor socket, but continuing anyway: got timeout");
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn unit_name(vmid: &str, debug: bool) -> String {
    let base = if debug {
        "pve-container-debug"
    } else {
        "pve-container"
    };
    format!("{base}@{vmid}")
}

/// `systemctl is-active UNIT`, of the start that returned `invocation` when given.
pub fn status(socket: &PathBuf, unit: &str, invocation: Option<u64>) -> SimResult<UnitState> {
    let reply = request(socket, &json!({"status": unit, "invocation": invocation}))?;
    Ok(match reply.get("state").and_then(Value::as_str) {
        Some("active") => UnitState::Active,
        Some("exited") => UnitState::Exited(
            reply
                .get("code")
                .and_then(Value::as_i64)
                .and_then(|c| i32::try_from(c).ok()),
        ),
        _ => UnitState::Unknown,
    })
}

/// Each unit's last invocation (a number per start) and what it is doing.
type Units = Arc<Mutex<HashMap<String, (u64, UnitState)>>>;

/// The state root a service manager serves: only its paths. It is no `Sim` on purpose: making
/// one sets up a node's layout, and a manager started before the node's first command must not
/// make a node of its own (a test's node may be named anything).
pub struct Root(pub PathBuf);

impl Root {
    fn path(&self, host_path: &str) -> PathBuf {
        self.0.join(host_path.trim_start_matches('/'))
    }

    fn lxc_path(&self) -> PathBuf {
        self.path("/var/lib/lxc")
    }
}

/// Serves the state root `root` until killed; one thread a connection, so a start waiting for
/// a unit to finish stopping does not hold up status requests.
pub fn serve(root: Root) -> SimResult<()> {
    let path = root.path(SOCKET);
    if let Some(dir) = path.parent() {
        mkdir_p(dir)?;
    }
    let _ = fs::remove_file(&path);
    let listener = UnixListener::bind(&path)
        .map_err(|e| SimError::io(format!("bind {}", path.display()), e))?;
    let units: Units = Arc::default();
    let root = Arc::new(root);
    for conn in listener.incoming() {
        let Ok(mut conn) = conn else { continue };
        let (root, units) = (Arc::clone(&root), Arc::clone(&units));
        std::thread::spawn(move || {
            let reply = match handle(&root, &units, &conn) {
                Ok(v) => v,
                Err(e) => json!({"error": e.to_string().trim_end()}),
            };
            let _ = writeln!(conn, "{reply}");
        });
    }
    Ok(())
}

fn lock(units: &Units) -> std::sync::MutexGuard<'_, HashMap<String, (u64, UnitState)>> {
    units.lock().unwrap_or_else(|p| p.into_inner())
}

fn handle(root: &Root, units: &Units, conn: &UnixStream) -> SimResult<Value> {
    let mut line = String::new();
    BufReader::new(conn)
        .read_line(&mut line)
        .map_err(|e| SimError::io("read a request", e))?;
    let req: Value = serde_json::from_str(&line)
        .map_err(|e| SimError::Setup(format!("bad request {line:?}: {e}")))?;
    if let Some(unit) = req.get("status").and_then(Value::as_str) {
        let asked = req.get("invocation").and_then(Value::as_u64);
        let (invocation, state) = lock(units)
            .get(unit)
            .copied()
            .unwrap_or((0, UnitState::Unknown));
        return Ok(match state {
            // The caller's invocation was replaced by a newer one: it has ended.
            _ if asked.is_some_and(|a| a != invocation) => json!({"state": "exited"}),
            UnitState::Active => json!({"state": "active"}),
            UnitState::Exited(code) => json!({"state": "exited", "code": code}),
            UnitState::Unknown => json!({"state": "unknown"}),
        });
    }
    let unit = req
        .get("start")
        .and_then(Value::as_str)
        .ok_or_else(|| SimError::Setup(format!("unknown request {line:?}")))?;
    let (debug, vmid) = match unit.split_once('@') {
        Some(("pve-container", v)) => (false, v),
        Some(("pve-container-debug", v)) => (true, v),
        _ => return Err(SimError::die(format!("Unit {unit}.service not found."))),
    };
    if vmid.is_empty() || !vmid.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SimError::die(format!("Unit {unit}.service not found.")));
    }
    // `pct start` refuses a running container before it gets here, so an active unit is one
    // whose container has stopped and whose `lxc-start -F` is still exiting (deactivating):
    // systemd queues the start until the stop is done. An active unit whose process does not
    // end is left alone, as `systemctl start` of an active unit does nothing.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut previous = 0;
    loop {
        match lock(units).get(unit).copied() {
            Some((n, UnitState::Active)) if Instant::now() < deadline => previous = n,
            Some((n, UnitState::Active)) => return Ok(json!({"started": false, "invocation": n})),
            Some((n, _)) => {
                previous = n;
                break;
            }
            None => break,
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let init: Vec<String> = req
        .get("init")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let stderr_path = root.path(&format!("/run/pve/ct-{vmid}.stderr"));
    // `StandardError=file:` appends to what is there (Proxmox unlinks it before the start).
    let stderr = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&stderr_path)
        .map_err(|e| SimError::io(format!("open {}", stderr_path.display()), e))?;
    let mut cmd = Command::new("lxc-start");
    cmd.env_clear().env("PATH", SYSTEMD_PATH);
    cmd.arg("-F")
        .arg("-n")
        .arg(vmid)
        .arg("-P")
        .arg(root.lxc_path());
    if debug {
        cmd.args(["-o", "/dev/stderr", "-l", "DEBUG"]);
    }
    if !init.is_empty() {
        cmd.arg("--").args(&init);
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(stderr));
    // SAFETY: setsid(2) is async-signal-safe; systemd starts every service in a session of
    // its own.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let invocation = previous + 1;
    let mut child = cmd.spawn().map_err(|e| SimError::io("run lxc-start", e))?;
    let pid = child.id();
    lock(units).insert(unit.to_string(), (invocation, UnitState::Active));
    let (units, name) = (Arc::clone(units), unit.to_string());
    std::thread::spawn(move || {
        let code = child.wait().ok().and_then(|s| s.code());
        let mut map = lock(&units);
        if map.get(&name).is_some_and(|(n, _)| *n == invocation) {
            map.insert(name, (invocation, UnitState::Exited(code)));
        }
    });
    Ok(json!({"started": true, "pid": pid, "invocation": invocation}))
}
