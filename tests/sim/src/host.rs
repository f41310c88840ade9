//! Facts about the host the simulator runs on: cgroup layout and CPUs.

use std::collections::BTreeSet;
use std::fs;

/// The cgroup layout (`PVE::CGroup::cgroup_mode` plus the controllers of each hierarchy).
#[derive(Debug, Clone, Default)]
pub struct CgroupInfo {
    /// True when `/sys/fs/cgroup` itself is cgroup2 (unified); false for hybrid/legacy.
    pub unified: bool,
    /// Controllers enabled on the cgroup2 hierarchy.
    pub v2: BTreeSet<String>,
    /// Controllers mounted as cgroup v1 hierarchies.
    pub v1: BTreeSet<String>,
}

impl CgroupInfo {
    /// Reads `/proc/self/mounts` and the cgroup2 `cgroup.controllers`.
    pub fn probe() -> Self {
        let mut info = CgroupInfo::default();
        let mounts = fs::read_to_string("/proc/self/mounts").unwrap_or_default();
        let mut v2_path: Option<String> = None;
        for line in mounts.lines() {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (Some(dir), Some(fstype), Some(opts)) =
                (fields.get(1), fields.get(2), fields.get(3))
            else {
                continue;
            };
            match *fstype {
                "cgroup2" => {
                    if *dir == "/sys/fs/cgroup" {
                        info.unified = true;
                    }
                    v2_path = Some((*dir).to_string());
                }
                "cgroup" => {
                    for opt in opts.split(',') {
                        if matches!(
                            opt,
                            "cpu"
                                | "cpuacct"
                                | "cpuset"
                                | "memory"
                                | "devices"
                                | "freezer"
                                | "blkio"
                                | "pids"
                        ) {
                            info.v1.insert(opt.to_string());
                        }
                    }
                }
                _ => {}
            }
        }
        if let Some(p) = v2_path {
            let controllers =
                fs::read_to_string(format!("{p}/cgroup.controllers")).unwrap_or_default();
            info.v2 = controllers.split_whitespace().map(str::to_string).collect();
        }
        info
    }

    /// The cpuset hierarchy version and the CPUs it offers (`cpuset_controller_path`).
    pub fn cpuset(&self) -> Option<(u8, Vec<u32>)> {
        let (ver, text) = if self.v2.contains("cpuset") {
            let base = if self.unified {
                "/sys/fs/cgroup"
            } else {
                "/sys/fs/cgroup/unified"
            };
            (
                2,
                fs::read_to_string(format!("{base}/cpuset.cpus.effective")).ok()?,
            )
        } else if self.v1.contains("cpuset") {
            (
                1,
                fs::read_to_string("/sys/fs/cgroup/cpuset/cpuset.effective_cpus").ok()?,
            )
        } else {
            return None;
        };
        Some((ver, parse_cpu_list(text.trim())))
    }
}

/// Parses `0-3,5` into CPU numbers.
pub fn parse_cpu_list(list: &str) -> Vec<u32> {
    let mut out = Vec::new();
    for part in list.split(',').filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                if let (Ok(a), Ok(b)) = (a.parse::<u32>(), b.parse::<u32>()) {
                    out.extend(a..=b);
                }
            }
            None => {
                if let Ok(n) = part.parse() {
                    out.push(n);
                }
            }
        }
    }
    out
}

/// `PVE::CpuSet::short_string`: ranges joined with commas.
pub fn short_cpu_list(cpus: &[u32]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while let Some(&start) = cpus.get(i) {
        let mut end = start;
        while cpus.get(i + 1) == Some(&(end + 1)) {
            end += 1;
            i += 1;
        }
        out.push(if end == start {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
        i += 1;
    }
    out.join(",")
}

/// Number of CPUs (`$cpuinfo->{cpus}`).
pub fn cpu_count() -> u64 {
    std::thread::available_parallelism()
        .map(|n| n.get() as u64)
        .unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lists() {
        assert_eq!(parse_cpu_list("0-2,5"), vec![0, 1, 2, 5]);
        assert_eq!(short_cpu_list(&[0, 1, 2, 5]), "0-2,5");
        assert_eq!(short_cpu_list(&[3]), "3");
    }
}
