//! The LXC config written at every start: LXC.pm `update_lxc_config`, adapted to this host.
//!
//! Adaptations (each also noted as a comment in the generated file):
//! - the rootfs is the storage volume's directory itself (`lxc.rootfs.path`), and mount points
//!   are `lxc.mount.entry` bind mounts, because Proxmox's prestart hook, which mounts them, is
//!   not installed here;
//! - `lxc.environment.runtime` (a 2025 Proxmox patch LXC 5.0.2 lacks) becomes `lxc.environment`;
//!   `lxc.environment.hooks` is dropped;
//! - `netN` becomes an unattached veth (no bridge on this host, no `lxcnetaddbr`), with a
//!   host-side name chosen by LXC so that independent state roots may reuse VMIDs;
//! - cgroup directories carry a per-state-root tag for the same reason;
//! - cgroup2 limit keys are written only when this host's cgroup2 hierarchy has the controller,
//!   which is also Proxmox's own rule (`$cgv2->{memory}`, `$cgv2->{cpu}`);
//! - device passthrough also gets cgroup v1 device rules when `devices` is a v1 controller, and a
//!   bind mount of the device node (Proxmox's autodev hook is not installed);
//! - console output is captured in a file (`lxc.console.logfile`) so tests can read it.

use std::collections::BTreeMap;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use sha1::{Digest, Sha1};

use crate::conf::Section;
use crate::error::{SimError, SimResult};
use crate::host::{short_cpu_list, CgroupInfo};
use crate::initcmd::split_quoted;
use crate::mountpoint::{parse_volume, MpType};
use crate::propstring::{self, PropMap};
use crate::schema::Format;
use crate::state::Sim;
use crate::storage::Storages;

const LXC_CONFIG_PATH: &str = "/usr/share/lxc/config";

/// Everything a start needs besides the config text.
#[derive(Debug, Clone)]
pub struct LxcPlan {
    /// The config file content.
    pub config: String,
    /// Extra files to write first (the seccomp rules).
    pub files: Vec<(PathBuf, String)>,
    /// The init argv (LXC 6 splitting of the effective `lxc.init.cmd`), empty for LXC's default.
    pub init_argv: Vec<String>,
    /// Where the console output goes.
    pub console_log: PathBuf,
}

/// Where the simulator captures a CT's console output.
pub fn console_log_path(sim: &Sim, vmid: &str) -> PathBuf {
    sim.path(&format!("/run/pve/ct-{vmid}.console"))
}

/// A short tag that keeps cgroup names of different state roots apart.
pub fn root_tag(sim: &Sim) -> String {
    let digest = Sha1::digest(sim.root.as_os_str().as_encoded_bytes());
    digest.iter().take(4).map(|b| format!("{b:02x}")).collect()
}

fn parse_features(sim: &Sim, value: Option<&str>) -> SimResult<PropMap> {
    let Some(value) = value else {
        return Ok(PropMap::new());
    };
    let Some(Format::Props(fmt)) = sim
        .schemas
        .confdesc
        .get("features")
        .and_then(|p| p.format.as_ref())
    else {
        return Err(SimError::Schema("features is not a property string".into()));
    };
    propstring::parse(fmt, value, None).map_err(SimError::die)
}

fn parse_net(sim: &Sim, value: &str) -> SimResult<PropMap> {
    let Some(Format::Props(fmt)) = sim
        .schemas
        .confdesc
        .get("net0")
        .and_then(|p| p.format.as_ref())
    else {
        return Err(SimError::Schema("net is not a property string".into()));
    };
    propstring::parse(fmt, value, None).map_err(SimError::die)
}

/// `PVE::Network::read_bridge_mtu`, against the simulated `/sys/class/net`.
pub fn read_bridge_mtu(sim: &Sim, bridge: &str) -> SimResult<u32> {
    let path = sim.path(&format!("/sys/class/net/{bridge}/mtu"));
    let first = std::fs::read_to_string(&path)
        .ok()
        .and_then(|t| t.lines().next().map(str::to_string));
    let Some(mtu) = first.filter(|m| !m.is_empty()) else {
        return Err(SimError::die(format!("bridge '{bridge}' does not exist\n")));
    };
    mtu.trim().parse().map_err(|_| {
        SimError::die(format!(
            "unexpeted error: unable to parse mtu value '{mtu}' as integer\n"
        ))
    })
}

fn flag(map: &PropMap, key: &str) -> bool {
    map.get(key).is_some_and(|v| v == "1")
}

/// `clamp_cpu_shares` as on a cgroup v2 Proxmox VE 9 host.
/// The `cpu.max` quota Proxmox writes for a `cpulimit`: `int(100000 * $cpulimit)` in Perl
/// floating point (`update_lxc_config`, src/PVE/LXC.pm, pve-container 94f5585), so `0.29`
/// becomes 28999, not 29000. `None` for 0 or no number (Proxmox writes no line for 0).
pub fn cpu_max_quota(cpulimit: &str) -> Option<u64> {
    let limit = cpulimit.parse::<f64>().ok().filter(|c| *c != 0.0)?;
    Some((100000.0 * limit) as u64)
}

pub fn clamp_cpu_shares(shares: u64) -> u64 {
    shares.min(10000)
}

/// Builds the LXC config for CT `vmid` from its (pending-applied) main section.
pub fn update_lxc_config(
    sim: &Sim,
    storages: &Storages,
    vmid: &str,
    conf: &Section,
) -> SimResult<LxcPlan> {
    let dir = sim.lxc_path().join(vmid);
    let cg = CgroupInfo::probe();
    let tag = root_tag(sim);
    let mut raw = String::new();
    let mut files = Vec::new();
    let mut line = |s: &str| {
        raw.push_str(s);
        raw.push('\n');
    };

    line(&format!(
        "# Written by pve-sim like Proxmox's update_lxc_config writes /var/lib/lxc/{vmid}/config;"
    ));
    line("# adaptations to this host are marked 'pve-sim:' (see tests/sim/README.md).");
    line("lxc.cgroup.relative = 0");
    line(&format!(
        "# pve-sim: Proxmox uses lxc.monitor/{vmid} and lxc/{vmid}; tagged per state root here."
    ));
    line(&format!(
        "lxc.cgroup.dir.monitor = lxc.monitor/pve-sim-{tag}-{vmid}"
    ));
    line(&format!(
        "lxc.cgroup.dir.container = lxc/pve-sim-{tag}-{vmid}"
    ));
    line("lxc.cgroup.dir.container.inner = ns");

    let arch = conf
        .get("arch")
        .ok_or_else(|| SimError::die("missing 'arch' - internal error"))?;
    line(&format!("lxc.arch = {arch}"));

    let custom_idmap = conf.has_lxc_entry("lxc.idmap");
    let unprivileged = conf.get("unprivileged") == Some("1") || custom_idmap;
    let ostype = conf
        .get("ostype")
        .ok_or_else(|| SimError::die("missing 'ostype' - internal error"))?;

    let include = |name: &str, fallback: &str| {
        let p = format!("{LXC_CONFIG_PATH}/{name}");
        if Path::new(&p).is_file() {
            p
        } else {
            format!("{LXC_CONFIG_PATH}/{fallback}")
        }
    };
    line(&format!(
        "lxc.include = {}",
        include(&format!("{ostype}.common.conf"), "common.conf")
    ));
    if unprivileged {
        line(&format!(
            "lxc.include = {}",
            include(&format!("{ostype}.userns.conf"), "userns.conf")
        ));
    }

    let features = parse_features(sim, conf.get("features"))?;

    // Seccomp (make_seccomp_config).
    if conf.has_lxc_entry("lxc.seccomp.profile") {
        let used: Vec<&str> = ["keyctl", "mknod"]
            .into_iter()
            .filter(|f| flag(&features, f))
            .collect();
        if !used.is_empty() {
            crate::task::warn(&format!(
                "explicitly configured lxc.seccomp.profile overrides the following settings: {}\n",
                used.join(", ")
            ));
        }
    } else if unprivileged {
        let mut rules: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        if !flag(&features, "keyctl") {
            rules.insert("keyctl", vec!["errno 38".into()]);
        }
        rules.insert(
            "ioctl",
            vec!["errno 1 [1,0x9400,SCMP_CMP_MASKED_EQ,0xff00]".into()],
        );
        rules.insert("socket", vec!["errno 97 [0,38,SCMP_CMP_EQ]".into()]);
        if flag(&features, "mknod") {
            line("lxc.seccomp.notify.proxy = unix:/run/pve-lxc-syscalld/socket");
            line(&format!("lxc.seccomp.notify.cookie = {vmid}"));
            rules.insert(
                "mknod",
                vec![
                    "notify [1,8192,SCMP_CMP_MASKED_EQ,61440]".into(),
                    "notify [1,24576,SCMP_CMP_MASKED_EQ,61440]".into(),
                ],
            );
            rules.insert(
                "mknodat",
                vec![
                    "notify [2,8192,SCMP_CMP_MASKED_EQ,61440]".into(),
                    "notify [2,24576,SCMP_CMP_MASKED_EQ,61440]".into(),
                ],
            );
        }
        let mut extra = String::new();
        for (syscall, list) in &rules {
            for r in list {
                extra.push_str(&format!("{syscall} {r}\n"));
            }
        }
        let common = std::fs::read_to_string(format!("{LXC_CONFIG_PATH}/common.seccomp"))
            .map_err(|e| SimError::io(format!("read {LXC_CONFIG_PATH}/common.seccomp"), e))?;
        let rule_file = dir.join("rules.seccomp");
        // pve-sim: Proxmox uses its own pve-userns.seccomp for the keyctl-only case; that file
        // does not exist here, so the rules file is always written.
        files.push((rule_file.clone(), format!("{common}{extra}")));
        line(&format!("lxc.seccomp.profile = {}", rule_file.display()));
    }

    // AppArmor (make_apparmor_config).
    let mut profile_uses = Vec::new();
    let mut aa = vec![
        "lxc.apparmor.profile = generated".to_string(),
        "lxc.apparmor.raw = allow mqueue,".to_string(),
    ];
    if flag(&features, "fuse") {
        profile_uses.push("features:fuse");
    }
    if flag(&features, "nesting") {
        profile_uses.push("features:nesting");
        aa.push("lxc.apparmor.allow_nesting = 1".into());
        aa.push("lxc.apparmor.raw = allow userns,".into());
    } else {
        aa.push("lxc.apparmor.raw = deny mount -> /proc/,".into());
        aa.push("lxc.apparmor.raw = deny mount -> /sys/,".into());
    }
    if let Some(mount) = features.get("mount") {
        profile_uses.push("features:mount");
        for fs in crate::formats::split_list(mount) {
            aa.push(format!("lxc.apparmor.raw = mount fstype={fs},"));
        }
    }
    if conf.has_lxc_entry("lxc.apparmor.profile") {
        if !profile_uses.is_empty() {
            crate::task::warn(&format!(
                "explicitly configured lxc.apparmor.profile overrides the following settings: {}\n",
                profile_uses.join(", ")
            ));
        }
    } else {
        for l in &aa {
            line(l);
        }
    }
    if flag(&features, "fuse") {
        line("lxc.apparmor.raw = mount fstype=fuse,");
        line("lxc.mount.entry = /dev/fuse dev/fuse none bind,create=file 0 0");
    }
    if unprivileged && !flag(&features, "force_rw_sys") {
        line("lxc.mount.auto = sys:mixed");
    }
    // Only from pve-container 6.1.10 (commit a535b4c): before it an application container
    // has no /dev/shm unless something else mounts one.
    if crate::versions::current()?.mounts_app_dev_shm()
        && conf.get("entrypoint").is_some_and(|e| e != "/sbin/init")
    {
        line("lxc.mount.entry = shm dev/shm tmpfs rw,nosuid,nodev,create=dir 0 0");
    }

    // Device passthrough (foreach_passthrough_device). Before pve-container 5.0.7 there is none:
    // a `devN` line read with a warning is kept in the config but passes nothing through.
    let mut device_mounts = Vec::new();
    let devices = crate::versions::current()?.has_devices();
    for (key, value) in &conf.keys {
        if !devices || index_of(key, "dev").is_none() {
            continue;
        }
        let Some(Format::Props(fmt)) = sim
            .schemas
            .confdesc
            .get(key)
            .and_then(|p| p.format.as_ref())
        else {
            continue;
        };
        let dev = propstring::parse(fmt, value, None).map_err(SimError::die)?;
        let path = dev.get("path").ok_or_else(|| {
            SimError::die(format!(
                "Path is not defined for passthrough device {key}\n"
            ))
        })?;
        let meta = std::fs::metadata(path)
            .map_err(|_| SimError::die(format!("Device {path} does not exist\n")))?;
        let ft = meta.file_type();
        if !ft.is_block_device() && !ft.is_char_device() {
            return Err(SimError::die(format!("{path} is not a device\n")));
        }
        let rdev = meta.rdev();
        let (major, minor) = (libc::major(rdev), libc::minor(rdev));
        let kind = if ft.is_block_device() { 'b' } else { 'c' };
        let perms = if flag(&dev, "deny-write") { "r" } else { "rw" };
        line(&format!(
            "lxc.cgroup2.devices.allow = {kind} {major}:{minor} {perms}"
        ));
        if flag(&dev, "deny-write") {
            line(&format!(
                "lxc.cgroup2.devices.deny = {kind} {major}:{minor} w"
            ));
        }
        if cg.v1.contains("devices") {
            line("# pve-sim: the devices controller is cgroup v1 on this host");
            line(&format!(
                "lxc.cgroup.devices.allow = {kind} {major}:{minor} {perms}"
            ));
        }
        device_mounts.push(path.clone());
    }

    line("lxc.monitor.unshare = 1");
    if unprivileged && !custom_idmap {
        line("lxc.idmap = u 0 100000 65536");
        line("lxc.idmap = g 0 100000 65536");
    }
    if conf.get("console") == Some("0") {
        line("lxc.console.path = none");
        line("lxc.cgroup2.devices.deny = c 5:1 rwm");
    }
    line(&format!("lxc.tty.max = {}", conf.get("tty").unwrap_or("2")));
    line("lxc.environment = TERM=linux");
    let hostname = conf
        .get("hostname")
        .map(str::to_string)
        .unwrap_or_else(|| format!("CT{vmid}"));
    line(&format!("lxc.uts.name = {hostname}"));

    let memory: u64 = conf
        .get("memory")
        .and_then(|m| m.parse().ok())
        .unwrap_or(512);
    let swap: u64 = conf.get("swap").and_then(|m| m.parse().ok()).unwrap_or(0);
    let (mem_max, mem_high) = memory_constraints(memory);
    let mem_lines = [
        format!("lxc.cgroup2.memory.max = {mem_max}"),
        format!("lxc.cgroup2.memory.high = {mem_high}"),
        format!("lxc.cgroup2.memory.swap.max = {}", swap * 1024 * 1024),
    ];
    let mut cpu_lines = Vec::new();
    if let Some(quota) = conf.get("cpulimit").and_then(cpu_max_quota) {
        cpu_lines.push(format!("lxc.cgroup2.cpu.max = {quota} 100000"));
    }
    if let Some(shares) = conf.get("cpuunits").and_then(|c| c.parse::<u64>().ok()) {
        cpu_lines.push(format!(
            "lxc.cgroup2.cpu.weight = {}",
            clamp_cpu_shares(shares)
        ));
    }
    for (controller, lines) in [("memory", mem_lines.to_vec()), ("cpu", cpu_lines)] {
        if cg.v2.contains(controller) {
            for l in lines {
                line(&l);
            }
        } else {
            for l in lines {
                line(&format!(
                    "# pve-sim: dropped, this host's cgroup2 has no {controller} controller: {l}"
                ));
            }
        }
    }

    let rootfs_value = conf
        .get("rootfs")
        .ok_or_else(|| SimError::die("missing 'rootfs' configuration\n"))?;
    let rootfs = parse_volume(sim.schemas, "rootfs", rootfs_value).map_err(SimError::die)?;
    let rootfs_path = volume_host_path(sim, storages, "rootfs", rootfs.kind, rootfs.volume())?;
    line(&format!("# pve-sim: Proxmox writes /var/lib/lxc/{vmid}/rootfs and mounts the volume there in its prestart hook."));
    line(&format!("lxc.rootfs.path = dir:{}", rootfs_path.display()));
    let mut rootfs_opts: Vec<String> = Vec::new();
    if rootfs.flag("ro") {
        rootfs_opts.push("ro".into());
    }
    if let Some(mo) = rootfs.props.get("mountoptions") {
        rootfs_opts.extend(
            mo.split(';')
                .filter(|o| *o != "discard")
                .map(str::to_string),
        );
    }
    if !rootfs_opts.is_empty() {
        line(&format!("lxc.rootfs.options = {}", rootfs_opts.join(",")));
    }
    if rootfs.props.contains_key("idmap") {
        return Err(SimError::Setup(
            "per-mount-point idmap (rootfs) is not simulated".into(),
        ));
    }

    if let Some(ep) = conf.get("entrypoint") {
        line(&format!("lxc.init.cmd = {ep}"));
    }

    for (key, value) in &conf.keys {
        let Some(index) = index_of(key, "net") else {
            continue;
        };
        let d = parse_net(sim, value)?;
        line(&format!("lxc.net.{index}.type = veth"));
        line(&format!("# pve-sim: no lxc.net.{index}.veth.pair (Proxmox: veth{vmid}i{index}); LXC picks a unique host-side name"));
        if let Some(hw) = d.get("hwaddr") {
            line(&format!("lxc.net.{index}.hwaddr = {hw}"));
        }
        if let Some(name) = d.get("name") {
            line(&format!("lxc.net.{index}.name = {name}"));
        }
        let bridge = d.get("bridge").map(String::as_str).unwrap_or("");
        let bridge_mtu = read_bridge_mtu(sim, bridge)?;
        let mtu: u32 = d
            .get("mtu")
            .and_then(|m| m.parse().ok())
            .filter(|m| *m != 0)
            .unwrap_or(bridge_mtu);
        if mtu > bridge_mtu {
            return Err(SimError::die(format!(
                "{key}: MTU size '{mtu}' is bigger than bridge MTU '{bridge_mtu}'\n"
            )));
        }
        line(&format!("lxc.net.{index}.mtu = {mtu}"));
        line(&format!("# pve-sim: not attached to bridge '{bridge}'; Proxmox adds lxc.net.{index}.script.up = /usr/share/lxc/lxcnetaddbr"));
        if d.get("link_down").map(String::as_str) != Some("1") && flag(&d, "host-managed") {
            if let Some(ip) = d.get("ip").filter(|ip| *ip != "dhcp" && *ip != "manual") {
                line(&format!("lxc.net.{index}.ipv4.address = {ip}"));
            }
            if let Some(gw) = d.get("gw") {
                line(&format!("lxc.net.{index}.ipv4.gateway = {gw}"));
            }
            if let Some(ip6) = d.get("ip6") {
                if ip6 == "auto" {
                    return Err(SimError::die(format!(
                        "{key}: SLAAC is not supported for host-managed network configuration\n"
                    )));
                }
                if ip6 != "dhcp" && ip6 != "manual" {
                    line(&format!("lxc.net.{index}.ipv6.address = {ip6}"));
                }
            }
            if let Some(gw6) = d.get("gw6") {
                line(&format!("lxc.net.{index}.ipv6.gateway = {gw6}"));
            }
            line(&format!("lxc.net.{index}.flags = up"));
        }
    }

    if let Some(env) = &conf.env {
        for var in env.split('\0').filter(|v| !v.is_empty()) {
            line(
                "# pve-sim: Proxmox writes lxc.environment.runtime, which LXC 5.0.2 does not know",
            );
            line(&format!("lxc.environment = {var}"));
        }
    }

    // Mount points, parents before children (Proxmox mounts them in its prestart hook, before
    // LXC processes the raw lxc.mount.entry lines).
    let mut mps: Vec<(String, String, PropMap)> = Vec::new();
    for (key, value) in &conf.keys {
        if index_of(key, "mp").is_none() {
            continue;
        }
        let mp = parse_volume(sim.schemas, key, value).map_err(SimError::die)?;
        if mp.kind == MpType::Device {
            // Mounted by the prestart hook, which refuses it first (`prestart_mounts`).
            continue;
        }
        if mp.props.contains_key("idmap") {
            return Err(SimError::Setup(format!(
                "{key}: per-mount-point idmap is not simulated"
            )));
        }
        let src = volume_host_path(sim, storages, key, mp.kind, mp.volume())?;
        mps.push((
            mp.mp().to_string(),
            src.display().to_string(),
            mp.props.clone(),
        ));
    }
    mps.sort_by(|a, b| a.0.cmp(&b.0));
    for (target, src, props) in mps {
        let mut opts = vec!["bind".to_string(), "create=dir".to_string()];
        if flag(&props, "ro") {
            opts.push("ro".into());
        }
        if let Some(mo) = props.get("mountoptions") {
            opts.extend(
                mo.split(';')
                    .filter(|o| *o != "discard")
                    .map(str::to_string),
            );
        }
        line("# pve-sim: Proxmox mounts mount points in its prestart hook");
        line(&format!(
            "lxc.mount.entry = {src} {} none {} 0 0",
            target.trim_start_matches('/'),
            opts.join(",")
        ));
    }
    for path in device_mounts {
        line("# pve-sim: Proxmox creates passthrough device nodes in its autodev hook");
        line(&format!(
            "lxc.mount.entry = {path} {} none bind,create=file 0 0",
            path.trim_start_matches('/')
        ));
    }

    let console_log = console_log_path(sim, vmid);
    line("# pve-sim: console output captured for tests (a raw lxc.console.logfile below wins)");
    line(&format!("lxc.console.logfile = {}", console_log.display()));

    let mut init_cmd = conf.get("entrypoint").map(str::to_string);
    let mut had_cpuset = false;
    for (k, v) in &conf.lxc {
        if k == "lxc.cgroup2.cpuset.cpus" {
            had_cpuset = true;
        }
        if k == "lxc.init.cmd" {
            init_cmd = Some(v.clone());
        }
        match k.as_str() {
            "lxc.environment.runtime" => {
                line("# pve-sim: lxc.environment.runtime mapped to lxc.environment for LXC 5.0.2");
                line(&format!("lxc.environment = {v}"));
            }
            "lxc.environment.hooks" => {
                line(&format!(
                    "# pve-sim: dropped, LXC 5.0.2 has no lxc.environment.hooks: {k} = {v}"
                ));
            }
            _ => line(&format!("{k} = {v}")),
        }
    }

    if let Some(cores) = conf.get("cores").and_then(|c| c.parse::<usize>().ok()) {
        if !had_cpuset {
            if let Some((ver, cpus)) = cg.cpuset() {
                // pve-sim: Proxmox picks a random subset; the first N are taken for reproducibility.
                let chosen: Vec<u32> = cpus.into_iter().take(cores).collect();
                let v = if ver == 1 { "" } else { "2" };
                line(&format!(
                    "lxc.cgroup{v}.cpuset.cpus = {}",
                    short_cpu_list(&chosen)
                ));
            }
        }
    }

    let init_argv = init_cmd.map(|c| split_quoted(&c)).unwrap_or_default();
    Ok(LxcPlan {
        config: raw,
        files,
        init_argv,
        console_log,
    })
}

/// The index of an indexed key (`net3` → `3`).
pub fn index_of<'a>(key: &'a str, prefix: &str) -> Option<&'a str> {
    key.strip_prefix(prefix)
        .filter(|i| !i.is_empty() && i.bytes().all(|b| b.is_ascii_digit()))
}

/// `calculate_memory_constraints`.
pub fn memory_constraints(memory: u64) -> (u64, u64) {
    let max = memory * 1024 * 1024;
    let high = if memory >= 16 * 1024 {
        (memory - 128) * 1024 * 1024
    } else {
        memory * 1024 * 1016
    };
    (max, high)
}

/// What the prestart hook's `__mountpoint_mount` (src/PVE/LXC.pm, pve-container 94f5585) does
/// with bind and device mount points before LXC mounts anything: `pct start` dies here, where
/// `pct create` and `pct set` accepted the same config.
pub fn prestart_mounts(sim: &Sim, conf: &Section) -> SimResult<()> {
    use std::os::unix::fs::FileTypeExt as _;
    for (key, value) in &conf.keys {
        if index_of(key, "mp").is_none() {
            continue;
        }
        let mp = parse_volume(sim.schemas, key, value).map_err(SimError::die)?;
        let volume = mp.volume();
        match mp.kind {
            MpType::Volume => {}
            // `mount $volid $mount_path`: a volume under /dev/ is taken for a block device
            // holding a file system, never bound (`classify_mountpoint`, Config.pm). A
            // directory such as /dev/snd or a character device fails to mount.
            MpType::Device => {
                let block =
                    std::fs::metadata(volume).is_ok_and(|m| m.file_type().is_block_device());
                if !block {
                    return Err(SimError::die(format!(
                        // run_command's message; mount(8) itself says the device is not a block device.
                        "command 'mount {volume} {}' failed: exit code 32 ({volume}: not a block device)\n",
                        mp.mp()
                    )));
                }
                return Err(SimError::Setup(format!(
                    "{key}: mounting the file system on block device {volume} is not simulated"
                )));
            }
            // `die "directory '$volid' does not exist\n" if !-d $volid;` (line 2300): a bind
            // mount point of a file, or of a missing path, does not start.
            MpType::Bind => {
                if !Path::new(volume).is_dir() {
                    return Err(SimError::die(format!(
                        "directory '{volume}' does not exist\n"
                    )));
                }
            }
        }
    }
    Ok(())
}

/// The host path behind a rootfs or mount point.
pub fn volume_host_path(
    sim: &Sim,
    storages: &Storages,
    key: &str,
    kind: MpType,
    volume: &str,
) -> SimResult<PathBuf> {
    match kind {
        MpType::Volume => storages.path(sim, volume),
        MpType::Bind => Ok(PathBuf::from(volume)),
        MpType::Device => Err(SimError::Setup(format!(
            "{key}: device mount points are not simulated"
        ))),
    }
}

#[cfg(test)]
mod cpu_tests {
    use super::cpu_max_quota;

    #[test]
    fn cpulimit_is_read_in_floating_point_and_truncated() {
        assert_eq!(cpu_max_quota("0.29"), Some(28999));
        assert_eq!(cpu_max_quota("0.290001"), Some(29000));
        assert_eq!(cpu_max_quota("1.5"), Some(150000));
        assert_eq!(cpu_max_quota("0"), None);
    }
}
