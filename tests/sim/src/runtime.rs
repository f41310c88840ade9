//! Running containers with real LXC (`lxc-start`, `lxc-stop`, `lxc-info`).
//!
//! Proxmox runs `systemctl start pve-container@<vmid>`, which runs `lxc-start -F -n <vmid>`; the
//! simulator asks its service manager stand-in to do the same when one serves the node
//! ([`crate::service`], what the runtime tests run), and otherwise runs `lxc-start -d` with a
//! systemd-like clean environment; both under the state root's lxcpath (`-P <root>/var/lib/lxc`).

use std::fs::{self, File};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::{SimError, SimResult};
use crate::lxcconf::LxcPlan;
use crate::state::{mkdir_p, Sim};
use crate::task;

const SYSTEMD_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// What `lxc-info` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CtState {
    pub running: bool,
    /// The host pid of the container's init, when running.
    pub pid: Option<u32>,
}

fn lxc_tool(name: &str) -> Command {
    let mut c = Command::new(name);
    c.env_clear().env("PATH", SYSTEMD_PATH);
    c
}

fn missing_tool(name: &str, e: std::io::Error) -> SimError {
    if e.kind() == std::io::ErrorKind::NotFound {
        SimError::Setup(format!("{name} not found: install the 'lxc' package"))
    } else {
        SimError::io(format!("run {name}"), e)
    }
}

/// `check_running` plus `find_lxc_pid`.
pub fn state(sim: &Sim, vmid: &str) -> SimResult<CtState> {
    let stopped = CtState {
        running: false,
        pid: None,
    };
    if !sim.lxc_path().join(vmid).join("config").exists() {
        return Ok(stopped);
    }
    let out = lxc_tool("lxc-info")
        .arg("-n")
        .arg(vmid)
        .arg("-P")
        .arg(sim.lxc_path())
        .args(["-s", "-p"])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| missing_tool("lxc-info", e))?;
    if !out.status.success() {
        return Ok(stopped);
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut st = stopped;
    for line in text.lines() {
        if let Some(v) = line.strip_prefix("State:") {
            st.running = v.trim() != "STOPPED";
        } else if let Some(v) = line.strip_prefix("PID:") {
            st.pid = v.trim().parse().ok();
        }
    }
    if !st.running {
        st.pid = None;
    }
    Ok(st)
}

/// Writes the config and starts the container, like `vm_start` + `monitor_start`.
pub fn start(sim: &Sim, vmid: &str, plan: &LxcPlan, debug: bool) -> SimResult<()> {
    let dir = sim.lxc_path().join(vmid);
    mkdir_p(&dir)?;
    for (path, content) in &plan.files {
        fs::write(path, content)
            .map_err(|e| SimError::io(format!("write {}", path.display()), e))?;
    }
    let config = dir.join("config");
    fs::write(&config, &plan.config)
        .map_err(|e| SimError::io(format!("write {}", config.display()), e))?;
    // PVE: the rootfs mount point directory.
    mkdir_p(&dir.join("rootfs"))?;

    let stderr_path = sim.path(&format!("/run/pve/ct-{vmid}.stderr"));
    // systemd does not truncate log files, so Proxmox unlinks the old one first.
    let _ = fs::remove_file(&stderr_path);
    let _ = fs::remove_file(&plan.console_log);
    if let Some(socket) = crate::service::running(sim) {
        // As on Proxmox: the service manager runs the container (see `service`).
        let started = crate::service::start(sim, &socket, vmid, debug, &plan.init_argv);
        if started.is_err() || debug {
            print_stderr_log(&stderr_path, vmid);
        }
        return started;
    }
    let stderr = File::create(&stderr_path)
        .map_err(|e| SimError::io(format!("create {}", stderr_path.display()), e))?;

    let mut cmd = lxc_tool("lxc-start");
    cmd.arg("-d")
        .arg("-n")
        .arg(vmid)
        .arg("-P")
        .arg(sim.lxc_path());
    if debug {
        cmd.args(["-l", "DEBUG", "-o"]).arg(&stderr_path);
    }
    if !plan.init_argv.is_empty() {
        cmd.arg("--").args(&plan.init_argv);
    }
    let status = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(stderr))
        .status()
        .map_err(|e| missing_tool("lxc-start", e))?;
    if !status.success() {
        print_stderr_log(&stderr_path, vmid);
        return Err(SimError::die(format!(
            "startup for container '{vmid}' failed\n"
        )));
    }
    if debug {
        print_stderr_log(&stderr_path, vmid);
    }
    Ok(())
}

fn print_stderr_log(path: &Path, vmid: &str) {
    let Ok(log) = fs::read_to_string(path) else {
        return;
    };
    for line in log.lines() {
        let l = line.trim();
        let l = l
            .strip_prefix(&format!("lxc-start: {vmid}: "))
            .or_else(|| l.strip_prefix(&format!("lxc-start {vmid} ")))
            .unwrap_or(l);
        if !l.is_empty() {
            task::warn(l);
        }
    }
}

/// `vm_stop`: `lxc-stop --kill` when `kill`, else a clean shutdown (`lxc.signal.halt`) with an
/// optional timeout, killing afterwards only when `kill_after_timeout`.
pub fn stop(
    sim: &Sim,
    vmid: &str,
    kill: bool,
    timeout: Option<u64>,
    kill_after_timeout: bool,
) -> SimResult<()> {
    if !state(sim, vmid)?.running {
        return Ok(());
    }
    let mut args: Vec<String> = vec![
        "-n".into(),
        vmid.into(),
        "-P".into(),
        sim.lxc_path().display().to_string(),
    ];
    if kill {
        args.push("--kill".into());
    } else {
        if !kill_after_timeout {
            args.push("--nokill".into());
        }
        if let Some(t) = timeout {
            args.push("--timeout".into());
            args.push(t.to_string());
        }
    }
    let mut child = lxc_tool("lxc-stop")
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| missing_tool("lxc-stop", e))?;
    // run_command gets 5 extra seconds over lxc-stop's own timeout.
    let limit = timeout.map(|t| Duration::from_secs(t + 5));
    let started = Instant::now();
    let status = loop {
        match child
            .try_wait()
            .map_err(|e| SimError::io("wait for lxc-stop", e))?
        {
            Some(s) => break Some(s),
            None => {
                if limit.is_some_and(|l| started.elapsed() > l) {
                    let _ = child.kill();
                    let _ = child.wait();
                    break None;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    };
    let cmdline = format!("lxc-stop {}", args.join(" "));
    match status {
        Some(s) if s.success() => {}
        Some(s) => task::warn(&format!(
            "command '{cmdline}' failed: exit code {}",
            s.code().map_or_else(|| "?".to_string(), |c| c.to_string())
        )),
        None => task::warn(&format!("command '{cmdline}' failed: got timeout")),
    }
    // Wait until LXC reports the container stopped (Proxmox waits for the command socket).
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if !state(sim, vmid)?.running {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(SimError::die("container did not stop\n"))
}

/// Uptime of a process in seconds (the method lxcfs uses).
pub fn uptime_of(pid: u32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = stat.rsplit_once(')')?.1;
    let starttime: u64 = after.split_whitespace().nth(19)?.parse().ok()?;
    let uptime: f64 = fs::read_to_string("/proc/uptime")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    // SAFETY: sysconf has no memory-safety preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks <= 0 {
        return None;
    }
    let secs = uptime - (starttime as f64 / ticks as f64);
    Some(if secs > 0.0 { secs as u64 } else { 0 })
}
