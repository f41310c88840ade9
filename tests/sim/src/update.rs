//! Config changes: Config.pm `update_pct_config`, `vmconfig_apply_pending`,
//! `vmconfig_hotplug_pending`, and LXC.pm `create_disks`.

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::chown;

use sha1::{Digest, Sha1};

use crate::cgroup::{memory_constraints, CtCgroup};
use crate::conf::PctConf;
use crate::error::{SimError, SimResult};
use crate::formats::{self, split_list};
use crate::lxcconf::{index_of, read_bridge_mtu};
use crate::mountpoint::{self, is_volume_key, parse_volume, print_mountpoint, MpType};
use crate::propstring;
use crate::schema::Format;
use crate::state::Sim;
use crate::storage::{StorageType, Storages};
use crate::task;
use crate::validate::{add_error, Errors};

/// Options applied directly even while the CT runs (`$LXC_FASTPLUG_OPTIONS`).
const FASTPLUG: [&str; 9] = [
    "description",
    "onboot",
    "startup",
    "protection",
    "hostname",
    "hookscript",
    "cores",
    "tags",
    "lock",
];

/// The context of a config change.
pub struct Ctx<'a> {
    pub sim: &'a Sim,
    pub storages: &'a Storages,
    pub vmid: &'a str,
}

/// `parse_pending_delete`: key → force flag.
pub fn parse_pending_delete(data: Option<&str>) -> BTreeMap<String, bool> {
    let mut out = BTreeMap::new();
    let Some(data) = data else { return out };
    for entry in data.replace([',', ';'], " ").split_whitespace() {
        match entry.strip_prefix('!') {
            Some(k) => out.insert(k.to_string(), true),
            None => out.insert(entry.to_string(), false),
        };
    }
    out
}

fn print_pending_delete(map: &BTreeMap<String, bool>) -> String {
    map.iter()
        .map(|(k, force)| if *force { format!("!{k}") } else { k.clone() })
        .collect::<Vec<_>>()
        .join(",")
}

fn add_to_pending_delete(conf: &mut PctConf, key: &str) {
    let mut map = parse_pending_delete(conf.pending.get("delete"));
    map.insert(key.to_string(), false);
    conf.pending
        .keys
        .insert("delete".into(), print_pending_delete(&map));
}

fn remove_from_pending_delete(conf: &mut PctConf, key: &str) {
    let mut map = parse_pending_delete(conf.pending.get("delete"));
    if map.remove(key).is_none() {
        return;
    }
    if map.is_empty() {
        conf.pending.keys.remove("delete");
    } else {
        conf.pending
            .keys
            .insert("delete".into(), print_pending_delete(&map));
    }
}

/// `cleanup_pending`: drop pending values equal to the current ones and deletions of unset keys.
fn cleanup_pending(conf: &mut PctConf) {
    let same: Vec<String> = conf
        .pending
        .keys
        .iter()
        .filter(|(k, v)| *k != "delete" && conf.main.value(k) == Some(v.as_str()))
        .map(|(k, _)| k.clone())
        .collect();
    for k in same {
        conf.pending.keys.remove(&k);
    }
    if conf.pending.env.is_some() && conf.pending.env == conf.main.env {
        conf.pending.env = None;
    }
    if conf.pending.description.is_some() && conf.pending.description == conf.main.description {
        conf.pending.description = None;
    }
    let map = parse_pending_delete(conf.pending.get("delete"));
    let kept: BTreeMap<String, bool> = map
        .into_iter()
        .filter(|(k, _)| conf.main.value(k).is_some())
        .collect();
    if kept.is_empty() {
        conf.pending.keys.remove("delete");
    } else {
        conf.pending
            .keys
            .insert("delete".into(), print_pending_delete(&kept));
    }
}

fn check_protection(conf: &PctConf, msg: &str) -> SimResult<()> {
    if conf.main.get("protection") == Some("1") {
        return Err(SimError::die(format!("{msg} - protection mode enabled\n")));
    }
    Ok(())
}

fn props_format(ctx: &Ctx<'_>, key: &str) -> SimResult<std::sync::Arc<crate::schema::PropFormat>> {
    match ctx
        .sim
        .schemas
        .confdesc
        .get(key)
        .and_then(|p| p.format.as_ref())
    {
        Some(Format::Props(f)) => Ok(f.clone()),
        _ => Err(SimError::Schema(format!("{key} is not a property string"))),
    }
}

/// `get_unique_tags` with the default datacenter tag style: lower-cased, sorted, de-duplicated.
pub fn unique_tags(tags: &str) -> String {
    let mut list: Vec<String> = split_list(tags)
        .into_iter()
        .map(|t| t.to_lowercase())
        .collect();
    list.sort();
    list.dedup();
    list.join(";")
}

/// A reproducible stand-in for `random_ether_addr($mac_prefix)`: the same VMID and interface
/// key always get the same address (Proxmox draws a random one).
pub fn ether_addr(sim: &Sim, vmid: &str, key: &str) -> String {
    let digest = Sha1::digest(format!("pve-sim:{vmid}:{key}").as_bytes());
    let mut bytes = [0u8; 6];
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = digest.get(i).copied().unwrap_or(0);
    }
    // Clear the multicast bit, set the locally administered bit.
    if let Some(first) = bytes.first_mut() {
        *first = (*first & 0xfe) | 2;
    }
    let addr = bytes
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":");
    let prefix = sim
        .datacenter_option("mac_prefix")
        .unwrap_or_else(|| "BC:24:11".to_string())
        .to_uppercase();
    match addr.get(prefix.len()..) {
        Some(rest) if prefix.len() < addr.len() => format!("{prefix}{rest}"),
        _ => addr,
    }
}

/// `parse_lxc_network` + `print_lxc_network`: adds `type=veth` and a MAC address.
pub fn canonical_net(ctx: &Ctx<'_>, key: &str, value: &str) -> SimResult<String> {
    let fmt = props_format(ctx, "net0")?;
    let mut net = propstring::parse(&fmt, value, None).map_err(SimError::die)?;
    net.insert("type".into(), "veth".into());
    if net.get("hwaddr").is_none_or(|h| h.is_empty()) {
        net.insert("hwaddr".into(), ether_addr(ctx.sim, ctx.vmid, key));
    }
    propstring::print(&net, &fmt, &[]).map_err(SimError::die)
}

/// `parse_id_maps`: the id map and the host uid/gid of the CT's root.
pub fn id_maps(conf: &crate::conf::Section) -> SimResult<(Vec<[String; 4]>, u32, u32)> {
    let mut map = Vec::new();
    let (mut uid, mut gid) = (0u32, 0u32);
    for (k, v) in &conf.lxc {
        if k != "lxc.idmap" {
            continue;
        }
        let parts: Vec<&str> = v.split_whitespace().collect();
        let ok = parts.len() == 4
            && matches!(parts.first(), Some(&"u") | Some(&"g"))
            && parts
                .iter()
                .skip(1)
                .all(|p| p.bytes().all(|b| b.is_ascii_digit()));
        let (Some(t), Some(ct), Some(host), Some(len), true) =
            (parts.first(), parts.get(1), parts.get(2), parts.get(3), ok)
        else {
            return Err(SimError::die(format!("failed to parse idmap: {v}\n")));
        };
        if *ct == "0" {
            let host_id: u32 = host
                .parse()
                .map_err(|_| SimError::die(format!("failed to parse idmap: {v}\n")))?;
            if *t == "u" {
                uid = host_id;
            } else {
                gid = host_id;
            }
        }
        map.push([
            t.to_string(),
            ct.to_string(),
            host.to_string(),
            len.to_string(),
        ]);
    }
    if map.is_empty() && conf.get("unprivileged") == Some("1") {
        map = vec![
            ["u".into(), "0".into(), "100000".into(), "65536".into()],
            ["g".into(), "0".into(), "100000".into(), "65536".into()],
        ];
        uid = 100000;
        gid = 100000;
    }
    Ok((map, uid, gid))
}

/// `$NEW_DISK_RE`: `STORAGE:SIZE_GiB`.
pub fn new_disk(volume: &str) -> Option<(String, f64)> {
    let (sid, size) = volume.split_once(':')?;
    if sid.is_empty() || sid.chars().any(char::is_whitespace) {
        return None;
    }
    let valid = match size.split_once('.') {
        Some((a, b)) => {
            !a.is_empty()
                && !b.is_empty()
                && (a.to_string() + b).bytes().all(|c| c.is_ascii_digit())
        }
        None => !size.is_empty() && size.bytes().all(|c| c.is_ascii_digit()),
    };
    valid
        .then(|| Some((sid.to_string(), size.parse().ok()?)))
        .flatten()
}

/// Orders volume keys the way `foreach_volume` visits them (rootfs, mp0, mp1, ...).
fn volume_key_order(key: &str) -> (u32, u32) {
    if key == "rootfs" {
        return (0, 0);
    }
    if let Some(i) = index_of(key, "mp").and_then(|i| i.parse().ok()) {
        return (1, i);
    }
    (
        2,
        index_of(key, "unused")
            .and_then(|i| i.parse().ok())
            .unwrap_or(0),
    )
}

/// `create_disks`: allocates `STORAGE:SIZE` volumes and writes the resulting mount point strings
/// into `conf` (into the pending section when `pending`). Returns the allocated volids.
pub fn create_disks(
    ctx: &Ctx<'_>,
    settings: &BTreeMap<String, String>,
    conf: &mut PctConf,
    pending: bool,
) -> SimResult<Vec<String>> {
    let mut vollist = Vec::new();
    let res = (|| -> SimResult<()> {
        let (_, root_uid, root_gid) = id_maps(&conf.main)?;
        let mut keys: Vec<&String> = settings.keys().collect();
        keys.sort_by_key(|k| volume_key_order(k));
        for ms in keys {
            let value = settings.get(ms).map_or("", String::as_str);
            let mut mp = parse_volume(ctx.sim.schemas, ms, value).map_err(SimError::die)?;
            let is_rootfs = ms == "rootfs";
            let new = (mp.kind == MpType::Volume)
                .then(|| new_disk(mp.volume()))
                .flatten();
            if let (Some((sid, size_gb)), true) =
                (new, formats::parse_volume_id(mp.volume()).is_some())
            {
                let size_kb = ((size_gb * 1024.0).trunc() as u64) * 1024;
                let vmid: u64 = ctx.vmid.parse().map_err(|_| SimError::die("bad vmid\n"))?;
                let scfg = ctx.storages.config(&sid)?;
                let subvol = match scfg.kind {
                    StorageType::Dir if scfg.content.contains("rootdir") && scfg.path.is_some() => size_kb == 0,
                    _ if scfg.content.contains("rootdir") => false,
                    _ => {
                        return Err(SimError::die(format!(
                            "content type 'rootdir' is not available or configured on storage '{sid}'\n"
                        )))
                    }
                };
                let volid = ctx.storages.alloc(ctx.sim, &sid, vmid, subvol, size_kb)?;
                vollist.push(volid.clone());
                // Subvolumes are chowned; raw images get an ext4 whose root is owned by the CT's
                // root (mkfs -E root_owner). Both are plain directories here.
                let path = ctx.storages.path(ctx.sim, &volid)?;
                chown(&path, Some(root_uid), Some(root_gid))
                    .map_err(|e| SimError::io(format!("chown {}", path.display()), e))?;
                mp.props.insert("volume".into(), volid);
                mp.props.insert("size".into(), (size_kb * 1024).to_string());
                let text =
                    print_mountpoint(ctx.sim.schemas, &mp, is_rootfs).map_err(SimError::die)?;
                if pending {
                    conf.pending.keys.insert(ms.clone(), text);
                } else {
                    conf.main.keys.insert(ms.clone(), text);
                }
            } else {
                let text =
                    print_mountpoint(ctx.sim.schemas, &mp, is_rootfs).map_err(SimError::die)?;
                conf.main.keys.insert(ms.clone(), text);
            }
        }
        Ok(())
    })();
    if let Err(e) = res {
        destroy_disks(ctx, &vollist);
        return Err(e);
    }
    Ok(vollist)
}

/// `destroy_disks`: frees volumes, warning on failure.
pub fn destroy_disks(ctx: &Ctx<'_>, vollist: &[String]) {
    for volid in vollist {
        if let Err(e) = ctx.storages.free(ctx.sim, volid) {
            task::warn(&e.render());
        }
    }
}

/// `delete_mountpoint_volume`: frees a storage volume owned by this CT.
pub fn delete_mountpoint_volume(ctx: &Ctx<'_>, volume: &str) -> SimResult<()> {
    if mountpoint::classify(volume) != MpType::Volume {
        return Ok(());
    }
    let (_, vn) = ctx.storages.parse_volname(volume)?;
    if vn.owner.map(|o| o.to_string()).as_deref() == Some(ctx.vmid) {
        ctx.storages.free(ctx.sim, volume)?;
    }
    Ok(())
}

fn is_volume_in_use(ctx: &Ctx<'_>, conf: &PctConf, volid: &str) -> bool {
    let used = |s: &crate::conf::Section| {
        mountpoint::volumes_in_use(ctx.sim.schemas, s)
            .iter()
            .any(|v| v == volid)
    };
    used(&conf.main) || used(&conf.pending) || conf.snapshots.values().any(used)
}

/// `add_unused_volume`.
fn add_unused_volume(conf: &mut PctConf, volid: &str) -> SimResult<()> {
    let mut free_key = None;
    for ind in (0..256).rev() {
        let key = format!("unused{ind}");
        match conf.main.get(&key) {
            Some(v) if v == volid => return Ok(()),
            Some(_) => {}
            None => free_key = Some(key),
        }
    }
    let key = free_key
        .ok_or_else(|| SimError::die("Too many unused volumes - please delete them first.\n"))?;
    conf.main.keys.insert(key, volid.to_string());
    Ok(())
}

/// `update_pct_config`: records changes as pending, then applies them (or hot-plugs what can be
/// hot-plugged when the CT runs). Returns per-option errors.
pub fn update_pct_config(
    ctx: &Ctx<'_>,
    conf: &mut PctConf,
    running: bool,
    params: &BTreeMap<String, String>,
    delete: &[String],
    revert: &[String],
) -> SimResult<Errors> {
    let vmid = ctx.vmid;
    for opt in revert {
        conf.pending.remove(opt);
        remove_from_pending_delete(conf, opt);
    }
    let mut modified: BTreeSet<String> = BTreeSet::new();
    for opt in delete {
        if conf.main.value(opt).is_none() && conf.pending.value(opt).is_none() {
            task::warn(&format!(
                "cannot delete '{opt}' - not set in current configuration!\n"
            ));
            continue;
        }
        modified.insert(opt.clone());
        if opt == "memory" || opt == "rootfs" || opt == "ostype" {
            return Err(SimError::die(format!(
                "unable to delete required option '{opt}'\n"
            )));
        } else if index_of(opt, "unused").is_some() || index_of(opt, "mp").is_some() {
            check_protection(conf, &format!("can't remove CT {vmid} drive '{opt}'"))?;
        } else if opt == "unprivileged" {
            return Err(SimError::die(format!(
                "unable to delete read-only option: '{opt}'\n"
            )));
        }
        add_to_pending_delete(conf, opt);
    }

    for (opt, value) in params {
        modified.insert(opt.clone());
        let mut value = value.clone();
        if index_of(opt, "mp").is_some() || opt == "rootfs" {
            check_protection(conf, &format!("can't update CT {vmid} drive '{opt}'"))?;
            let mp = parse_volume(ctx.sim.schemas, opt, &value).map_err(SimError::die)?;
            if mp.kind == MpType::Volume {
                let (sid, _) = formats::parse_volume_id(mp.volume()).ok_or_else(|| {
                    SimError::die(format!("unable to parse volume ID '{}'\n", mp.volume()))
                })?;
                let scfg = ctx.storages.config(&sid)?;
                if !scfg.content.contains("rootdir") {
                    return Err(SimError::die(format!(
                        "storage '{sid}' does not allow content type 'rootdir' (Container)\n"
                    )));
                }
            }
        } else if opt == "hookscript" {
            let path = ctx.storages.path(ctx.sim, &value)?;
            let (_, vn) = ctx.storages.parse_volname(&value)?;
            if vn.vtype != "snippets" {
                return Err(SimError::die(format!(
                    "'{value}' is not in the snippets directory\n"
                )));
            }
            if !path.is_file() {
                return Err(SimError::die(format!("script '{value}' does not exist\n")));
            }
        } else if opt == "nameserver" {
            let list = split_list(&value);
            for s in &list {
                formats::check_named("lxc-ip-with-ll-iface", s).map_err(SimError::die)?;
            }
            value = list.join(" ");
        } else if opt == "searchdomain" {
            value = split_list(&value).join(" ");
        } else if opt == "unprivileged" {
            return Err(SimError::die(format!(
                "unable to modify read-only option: '{opt}'\n"
            )));
        } else if opt == "tags" {
            value = unique_tags(&value);
        } else if index_of(opt, "net").is_some() {
            let fmt = props_format(ctx, "net0")?;
            let net = propstring::parse(&fmt, &value, None).map_err(SimError::die)?;
            if let Some(mtu) = net
                .get("mtu")
                .and_then(|m| m.parse::<u32>().ok())
                .filter(|m| *m != 0)
            {
                let bridge_mtu =
                    read_bridge_mtu(ctx.sim, net.get("bridge").map_or("", String::as_str))?;
                if mtu > bridge_mtu {
                    return Err(SimError::die(format!(
                        "{opt}: MTU size '{mtu}' is bigger than bridge MTU '{bridge_mtu}'\n"
                    )));
                }
            }
            let link_down = net.get("link_down").map(String::as_str) == Some("1");
            if !link_down
                && net.get("host-managed").map(String::as_str) == Some("1")
                && net.get("ip6").map(String::as_str) == Some("auto")
            {
                return Err(SimError::die(format!(
                    "{opt}: SLAAC is not supported for host-managed network configuration.\n"
                )));
            }
        } else if index_of(opt, "dev").is_some() {
            let fmt = props_format(ctx, "dev0")?;
            let dev = propstring::parse(&fmt, &value, None).map_err(SimError::die)?;
            let path = dev.get("path").ok_or_else(|| {
                SimError::die(format!(
                    "Path is not defined for passthrough device {opt}\n"
                ))
            })?;
            check_device(path)?;
        }
        conf.pending.set(opt, value);
        remove_from_pending_delete(conf, opt);
    }

    cleanup_pending(conf);
    let mut errors = Errors::new();
    if running {
        hotplug_pending(ctx, conf, &modified, &mut errors)?;
    } else {
        apply_pending(ctx, conf, Some(&modified), &mut errors)?;
    }
    Ok(errors)
}

/// `get_device_mode_and_rdev`: the path must be a block or character device.
pub fn check_device(path: &str) -> SimResult<()> {
    use std::os::unix::fs::FileTypeExt;
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(SimError::die(format!("Device {path} does not exist\n")))
        }
        Err(_) => return Err(SimError::die(format!("Error accessing device {path}\n"))),
    };
    let ft = meta.file_type();
    if !ft.is_block_device() && !ft.is_char_device() {
        return Err(SimError::die(format!("{path} is not a device\n")));
    }
    Ok(())
}

/// `vmconfig_apply_pending` (CT stopped).
pub fn apply_pending(
    ctx: &Ctx<'_>,
    conf: &mut PctConf,
    selection: Option<&BTreeSet<String>>,
    errors: &mut Errors,
) -> SimResult<()> {
    let selected = |k: &str| selection.is_none_or(|s| s.contains(k));
    let mut add_apply_error = |opt: &str, msg: String| {
        let text = format!("unable to apply pending change {opt} : {msg}");
        task::warn(&text);
        add_error(errors, opt, &text);
    };

    let deletes = parse_pending_delete(conf.pending.get("delete"));
    for opt in deletes.keys() {
        if !selected(opt) {
            continue;
        }
        let res = (|| -> SimResult<()> {
            if index_of(opt, "mp").is_some() {
                if let Some(v) = conf.main.get(opt).map(str::to_string) {
                    let mp = parse_volume(ctx.sim.schemas, opt, &v).map_err(SimError::die)?;
                    if mp.kind == MpType::Volume
                        && !is_volume_in_use_except(ctx, conf, opt, mp.volume())
                    {
                        add_unused_volume(conf, mp.volume())?;
                    }
                }
            } else if index_of(opt, "unused").is_some() {
                if let Some(v) = conf.main.get(opt).map(str::to_string) {
                    if !is_volume_in_use(ctx, conf, &v) {
                        delete_mountpoint_volume(ctx, &v)?;
                    }
                }
            }
            Ok(())
        })();
        match res {
            Err(e) => add_apply_error(opt, e.render()),
            Ok(()) => {
                conf.main.remove(opt);
                remove_from_pending_delete(conf, opt);
            }
        }
    }
    cleanup_pending(conf);

    let pending_keys: Vec<String> = conf
        .pending
        .keys
        .keys()
        .filter(|k| *k != "delete")
        .cloned()
        .chain(
            conf.pending
                .description
                .is_some()
                .then(|| "description".to_string()),
        )
        .chain(conf.pending.env.is_some().then(|| "env".to_string()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    for opt in pending_keys {
        if !selected(&opt) {
            continue;
        }
        let res = (|| -> SimResult<()> {
            if index_of(&opt, "mp").is_some() {
                apply_pending_mountpoint(ctx, conf, &opt)?;
            } else if index_of(&opt, "net").is_some() {
                let v = conf
                    .pending
                    .value(&opt)
                    .map(str::to_string)
                    .unwrap_or_default();
                let text = canonical_net(ctx, &opt, &v)?;
                conf.pending.set(&opt, text);
            }
            Ok(())
        })();
        match res {
            Err(e) => add_apply_error(&opt, e.render()),
            Ok(()) => {
                if let Some(v) = conf.pending.remove(&opt) {
                    conf.main.set(&opt, v);
                }
            }
        }
    }
    Ok(())
}

fn is_volume_in_use_except(ctx: &Ctx<'_>, conf: &PctConf, key: &str, volid: &str) -> bool {
    let mut c = conf.clone();
    c.main.keys.remove(key);
    is_volume_in_use(ctx, &c, volid)
}

/// `apply_pending_mountpoint` (not running).
fn apply_pending_mountpoint(ctx: &Ctx<'_>, conf: &mut PctConf, opt: &str) -> SimResult<()> {
    let value = conf
        .pending
        .get(opt)
        .map(str::to_string)
        .unwrap_or_default();
    let mut mp = parse_volume(ctx.sim.schemas, opt, &value).map_err(SimError::die)?;
    let old = conf.main.get(opt).map(str::to_string);
    if mp.kind == MpType::Volume && new_disk(mp.volume()).is_some() {
        let mut settings = BTreeMap::new();
        settings.insert(opt.to_string(), value.clone());
        create_disks(ctx, &settings, conf, true)?;
    } else {
        if mp.kind == MpType::Volume {
            if let Ok(infos) = ctx
                .storages
                .parse_volname(mp.volume())
                .and_then(|(sid, _)| ctx.storages.list(ctx.sim, &sid, None, None))
            {
                if let Some(size) = infos
                    .iter()
                    .find(|i| i.volid == mp.volume())
                    .and_then(|i| i.size)
                {
                    mp.props.insert("size".into(), size.to_string());
                }
            }
        }
        let text = print_mountpoint(ctx.sim.schemas, &mp, false).map_err(SimError::die)?;
        conf.pending.keys.insert(opt.to_string(), text);
    }
    if let Some(old) = old {
        let old_mp = parse_volume(ctx.sim.schemas, opt, &old).map_err(SimError::die)?;
        if old_mp.kind == MpType::Volume && !is_volume_in_use(ctx, conf, old_mp.volume()) {
            add_unused_volume(conf, old_mp.volume())?;
        }
    }
    Ok(())
}

/// `vmconfig_hotplug_pending` (CT running). The simulator applies the hot-pluggable options to
/// the config only: it does not change cgroup limits or network devices of the running CT.
/// Mount points and devices stay pending until the next start (Proxmox hot-plugs them).
fn hotplug_pending(
    ctx: &Ctx<'_>,
    conf: &mut PctConf,
    selection: &BTreeSet<String>,
    errors: &mut Errors,
) -> SimResult<()> {
    let pending_keys: Vec<String> = conf
        .pending
        .keys
        .keys()
        .cloned()
        .chain(
            conf.pending
                .description
                .is_some()
                .then(|| "description".to_string()),
        )
        .collect();
    for opt in &pending_keys {
        if selection.contains(opt) && FASTPLUG.contains(&opt.as_str()) {
            if let Some(v) = conf.pending.remove(opt) {
                conf.main.set(opt, v);
            }
        }
    }
    // `$hotplug_memory_done`: memory and swap are changed together, once.
    let mut hotplug_memory_done = false;
    let deletes = parse_pending_delete(conf.pending.get("delete"));
    for opt in deletes.keys() {
        if !selection.contains(opt) {
            continue;
        }
        let hot = FASTPLUG.contains(&opt.as_str())
            || matches!(opt.as_str(), "swap" | "cpulimit" | "cpuunits")
            || index_of(opt, "unused").is_some()
            || index_of(opt, "net").is_some();
        if !hot {
            continue;
        }
        if index_of(opt, "unused").is_some() {
            if let Some(v) = conf.main.get(opt).map(str::to_string) {
                if let Err(e) = delete_mountpoint_volume(ctx, &v) {
                    add_error(
                        errors,
                        opt,
                        &format!("unable to hotplug {opt}: {}", e.render()),
                    );
                    continue;
                }
            }
        }
        // The running container's cgroup goes back to the defaults.
        let cg = CtCgroup::new(ctx.sim, ctx.vmid);
        let applied = match opt.as_str() {
            "swap" => {
                hotplug_memory_done = true;
                cg.change_memory_limit(None, Some(0), None)
            }
            "cpulimit" => cg.change_cpu_quota(None, None),
            "cpuunits" => cg.change_cpu_shares(None),
            _ => Ok(()),
        };
        if let Err(e) = applied {
            add_error(
                errors,
                opt,
                &format!("unable to hotplug {opt}: {}", e.render()),
            );
            continue;
        }
        conf.main.remove(opt);
        remove_from_pending_delete(conf, opt);
    }
    let pending_keys: Vec<String> = conf
        .pending
        .keys
        .keys()
        .filter(|k| *k != "delete")
        .cloned()
        .collect();
    for opt in pending_keys {
        if !selection.contains(&opt) {
            continue;
        }
        let hot = matches!(opt.as_str(), "cpulimit" | "cpuunits" | "memory" | "swap")
            || index_of(&opt, "net").is_some();
        if !hot {
            continue;
        }
        let mut value = conf
            .pending
            .get(&opt)
            .map(str::to_string)
            .unwrap_or_default();
        if index_of(&opt, "net").is_some() {
            match canonical_net(ctx, &opt, &value) {
                Ok(v) => value = v,
                Err(e) => {
                    add_error(
                        errors,
                        &opt,
                        &format!("unable to hotplug {opt}: {}", e.render()),
                    );
                    continue;
                }
            }
        }
        let cg = CtCgroup::new(ctx.sim, ctx.vmid);
        let number = |v: Option<&str>| v.and_then(|v| v.parse::<f64>().ok());
        let applied = match opt.as_str() {
            "cpulimit" => match number(Some(&value)) {
                Some(v) => cg.change_cpu_quota(Some((100_000.0 * v) as u64), Some(100_000)),
                None => Ok(()),
            },
            "cpuunits" => cg.change_cpu_shares(number(Some(&value)).map(|v| v as u64)),
            // Both at once, once (memory and swap are one limit in cgroup v1).
            "memory" | "swap" if !hotplug_memory_done => {
                hotplug_memory_done = true;
                let (mem, high) = match number(conf.pending.get("memory")) {
                    Some(m) => {
                        let (max, high) = memory_constraints(m as u64);
                        (Some(max), Some(high))
                    }
                    None => (None, None),
                };
                let swap = number(conf.pending.get("swap")).map(|s| (s * 1024.0 * 1024.0) as u64);
                cg.change_memory_limit(mem, swap, high)
            }
            _ => Ok(()),
        };
        if let Err(e) = applied {
            add_error(
                errors,
                &opt,
                &format!("unable to hotplug {opt}: {}", e.render()),
            );
            continue;
        }
        conf.main.set(&opt, value);
        conf.pending.remove(&opt);
    }
    Ok(())
}

/// `load_current_config`: pending values merged in unless `current`.
pub fn current_config(conf: &PctConf, current: bool) -> crate::conf::Section {
    let mut main = conf.main.clone();
    if !current {
        for (k, v) in &conf.pending.keys {
            if k != "delete" {
                main.set(k, v.clone());
            }
        }
        if let Some(d) = &conf.pending.description {
            main.description = Some(d.clone());
        }
        if let Some(e) = &conf.pending.env {
            main.env = Some(e.clone());
        }
        for k in parse_pending_delete(conf.pending.get("delete")).keys() {
            main.remove(k);
        }
    }
    main
}

/// The volume keys of a section.
pub fn volume_keys(section: &crate::conf::Section) -> Vec<String> {
    let mut keys: Vec<String> = section
        .keys
        .keys()
        .filter(|k| is_volume_key(k))
        .cloned()
        .collect();
    keys.sort_by_key(|k| volume_key_order(k));
    keys
}
