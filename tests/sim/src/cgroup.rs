//! What `pct set` does to a running container's cgroup: pve-common `src/PVE/CGroup.pm`
//! (`change_memory_limit`, `change_cpu_quota`, `change_cpu_shares`, `cgroup_mode`,
//! `find_cgroup_controller` @ f665029e), called by pve-container's `vmconfig_hotplug_pending`
//! (`src/PVE/LXC/Config.pm` @ 94f55852) with the values of `calculate_memory_constraints`.
//!
//! Proxmox finds the container's limiting cgroup over LXC's command socket
//! (`PVE::LXC::Command::get_cgroup_path`, `LXC_CMD_GET_LIMITING_CGROUP`); the simulator reads
//! and writes the same files through `lxc-cgroup -n <vmid> -P <lxcpath>`, which asks LXC the
//! same way. The files, values and their order are Proxmox's.

use std::process::{Command, Stdio};

use crate::error::{SimError, SimResult};
use crate::state::Sim;

const SYSTEMD_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// `cgroup_mode`: 2 when `/sys/fs/cgroup` is a cgroup2 mount, else 1 (the hybrid layout).
fn cgroup_mode() -> SimResult<u8> {
    let mounts = std::fs::read_to_string("/proc/mounts")
        .map_err(|e| SimError::io("read /proc/mounts", e))?;
    for line in mounts.lines() {
        let f: Vec<&str> = line.split(' ').collect();
        if f.get(1) == Some(&"/sys/fs/cgroup") {
            return Ok(if f.get(2) == Some(&"cgroup2") { 2 } else { 1 });
        }
    }
    Err(SimError::die("unknown cgroup mode\n"))
}

/// `find_cgroup_controller`'s version: cgroup2 when the unified hierarchy has the controller
/// (LXC sets it up first), else v1 when a v1 hierarchy of that name is mounted.
fn controller_version(controller: &str) -> SimResult<Option<u8>> {
    let base = if cgroup_mode()? == 2 {
        "/sys/fs/cgroup"
    } else {
        "/sys/fs/cgroup/unified"
    };
    let v2 = std::fs::read_to_string(format!("{base}/cgroup.controllers")).unwrap_or_default();
    if v2.split_whitespace().any(|c| c == controller) {
        return Ok(Some(2));
    }
    let mounts = std::fs::read_to_string("/proc/mounts")
        .map_err(|e| SimError::io("read /proc/mounts", e))?;
    let v1 = mounts.lines().any(|l| {
        let f: Vec<&str> = l.split(' ').collect();
        f.get(2) == Some(&"cgroup")
            && f.get(3)
                .is_some_and(|o| o.split(',').any(|opt| opt == controller))
    });
    Ok(v1.then_some(1))
}

/// The container's limiting cgroup, through LXC.
pub struct CtCgroup<'a> {
    sim: &'a Sim,
    vmid: &'a str,
}

impl<'a> CtCgroup<'a> {
    pub fn new(sim: &'a Sim, vmid: &'a str) -> Self {
        CtCgroup { sim, vmid }
    }

    fn lxc_cgroup(&self, args: &[&str]) -> SimResult<String> {
        let out = Command::new("lxc-cgroup")
            .env_clear()
            .env("PATH", SYSTEMD_PATH)
            .arg("-n")
            .arg(self.vmid)
            .arg("-P")
            .arg(self.sim.lxc_path())
            .args(args)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| SimError::io("run lxc-cgroup", e))?;
        if !out.status.success() {
            return Err(SimError::die(format!(
                "failed to write '{}': {}\n",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }

    fn write(&self, key: &str, value: &str) -> SimResult<()> {
        self.lxc_cgroup(&[key, value]).map(drop)
    }

    fn read(&self, key: &str) -> SimResult<String> {
        self.lxc_cgroup(&[key])
    }

    fn version(controller: &str, what: &str) -> SimResult<u8> {
        controller_version(controller)?.ok_or_else(|| {
            SimError::die(format!(
                "trying to change {what} cgroup values: container not running\n"
            ))
        })
    }

    /// `change_memory_limit($mem_bytes, $swap_bytes, $mem_high_bytes)`.
    pub fn change_memory_limit(
        &self,
        mem: Option<u64>,
        swap: Option<u64>,
        mem_high: Option<u64>,
    ) -> SimResult<()> {
        if Self::version("memory", "memory")? == 2 {
            if let Some(s) = swap {
                self.write("memory.swap.max", &s.to_string())?;
            }
            if let Some(m) = mem {
                let high = mem_high.map_or_else(|| "max".to_string(), |h| h.to_string());
                self.write("memory.high", &high)?;
                self.write("memory.max", &m.to_string())?;
            }
            return Ok(());
        }
        let number = |key: &str| -> SimResult<u64> {
            let text = self.read(key)?;
            text.parse()
                .map_err(|_| SimError::die(format!("{key}: not a number: {text}\n")))
        };
        let old_mem = number("memory.limit_in_bytes")?;
        let old_memsw = number("memory.memsw.limit_in_bytes")?;
        let mem = mem.unwrap_or(old_mem);
        let swap = swap.unwrap_or(old_memsw.saturating_sub(old_mem));
        let memsw = mem + swap;
        // Growing: the combined limit first; shrinking: the memory limit first (memsw cannot
        // go below it).
        if memsw > old_memsw {
            self.write("memory.memsw.limit_in_bytes", &memsw.to_string())?;
            self.write("memory.limit_in_bytes", &mem.to_string())?;
        } else {
            self.write("memory.limit_in_bytes", &mem.to_string())?;
            self.write("memory.memsw.limit_in_bytes", &memsw.to_string())?;
        }
        Ok(())
    }

    /// `change_cpu_quota($quota, $period)`.
    pub fn change_cpu_quota(&self, quota: Option<u64>, period: Option<u64>) -> SimResult<()> {
        if quota.is_some() && period.is_none() {
            return Err(SimError::die("quota without period not allowed\n"));
        }
        if Self::version("cpu", "cpu quota")? == 2 {
            let value = match period {
                Some(p) => format!(
                    "{} {p}",
                    quota.map_or_else(|| "max".to_string(), |q| q.to_string())
                ),
                None => "max".to_string(),
            };
            return self.write("cpu.max", &value);
        }
        let quota = quota.map_or_else(|| "-1".to_string(), |q| q.to_string());
        self.write("cpu.cfs_period_us", &period.unwrap_or(100_000).to_string())?;
        self.write("cpu.cfs_quota_us", &quota)
    }

    /// `change_cpu_shares($shares)`.
    pub fn change_cpu_shares(&self, shares: Option<u64>) -> SimResult<()> {
        if Self::version("cpu", "cpu shares/weight")? == 2 {
            let shares = shares.unwrap_or(100);
            if !(1..=10000).contains(&shares) {
                return Err(SimError::die(
                    "cpu weight (shares) must be in range [1, 10000]\n",
                ));
            }
            return self.write("cpu.weight", &shares.to_string());
        }
        self.write("cpu.shares", &shares.unwrap_or(1024).to_string())
    }
}

/// `calculate_memory_constraints($memory)`: the hard limit and the `high` throttle, in bytes.
pub fn memory_constraints(memory_mib: u64) -> (u64, u64) {
    let max = memory_mib * 1024 * 1024;
    let high = if memory_mib >= 16 * 1024 {
        (memory_mib - 128) * 1024 * 1024
    } else {
        memory_mib * 1024 * 1016
    };
    (max, high)
}

#[cfg(test)]
mod tests {
    #[test]
    fn memory_constraints_as_proxmox() {
        assert_eq!(
            super::memory_constraints(512),
            (536_870_912, 512 * 1024 * 1016)
        );
        assert_eq!(
            super::memory_constraints(32768),
            (32768 << 20, (32768 - 128) << 20)
        );
    }
}
