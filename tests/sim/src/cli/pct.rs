//! `pct`: the Proxmox container toolkit, as far as the simulator implements it.

use std::collections::BTreeMap;
use std::time::Duration;

use super::{fail, fail_with_usage, finish, flag, parse_args, parse_vmid_args, vmid_of};
use crate::conf::text::encode_text;
use crate::conf::PctConf;
use crate::error::{PveException, SimError, SimResult};
use crate::formats::split_list;
use crate::getopt::{usage, CommandSpec};
use crate::lxcconf;
use crate::mountpoint::parse_volume;
use crate::runtime;
use crate::schema::{simple, ObjectSchema, Type};
use crate::state::Sim;
use crate::storage::Storages;
use crate::task;
use crate::update::{self, current_config, Ctx};

const LOCK_TIMEOUT: Duration = Duration::from_secs(10);

/// Commands of the real `pct` that the simulator does not implement.
const NOT_SIMULATED: [&str; 23] = [
    "console",
    "enter",
    "exec",
    "fsck",
    "mount",
    "unmount",
    "push",
    "pull",
    "df",
    "rescan",
    "cpusets",
    "fstrim",
    "pending",
    "resize",
    "restore",
    "clone",
    "move-volume",
    "move_volume",
    "remote-migrate",
    "snapshot",
    "delsnapshot",
    "listsnapshot",
    "rollback",
];

const SIMULATED: [&str; 11] = [
    "config", "create", "destroy", "list", "migrate", "set", "shutdown", "start", "status", "stop",
    "unlock",
];

/// Entry point: `pct <command> [ARGS] [OPTIONS]`. Returns the exit status.
pub fn main(args: Vec<String>) -> i32 {
    let Some((cmd, rest)) = args.split_first() else {
        return usage_error("no command specified");
    };
    if cmd == "help" {
        task::print(&overview());
        return 0;
    }
    if NOT_SIMULATED.contains(&cmd.as_str())
        || cmd == "suspend"
        || cmd == "resume"
        || cmd == "reboot"
        || cmd == "template"
    {
        eprintln!("pve-sim: 'pct {cmd}' is not simulated");
        return 255;
    }
    if !SIMULATED.contains(&cmd.as_str()) {
        return usage_error(&format!("unknown command 'pct {cmd}'"));
    }
    let sim = match Sim::from_env() {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let node = sim.node.clone();
    let fixed = [("node", node)];
    match cmd.as_str() {
        "create" => super::pct_create::create(&sim, rest, &fixed),
        "set" => set(&sim, rest, &fixed),
        "config" => config(&sim, rest, &fixed),
        "start" => start(&sim, rest, &fixed),
        "shutdown" => shutdown(&sim, rest, &fixed),
        "stop" => stop(&sim, rest, &fixed),
        "destroy" => destroy(&sim, rest, &fixed),
        "status" => status(&sim, rest),
        "migrate" => migrate(&sim, rest, &fixed),
        "list" => list(&sim, rest, &fixed),
        "unlock" => unlock(&sim, rest),
        _ => usage_error(&format!("unknown command 'pct {cmd}'")),
    }
}

fn overview() -> String {
    let mut s = String::from("USAGE: pct <COMMAND> [ARGS] [OPTIONS]\n");
    for c in SIMULATED {
        s.push_str(&format!("       pct {c}\n"));
    }
    s
}

fn usage_error(reason: &str) -> i32 {
    eprint!("ERROR: {reason}\n{}", overview());
    255
}

fn vmid_only_schema(sim: &Sim) -> SimResult<ObjectSchema> {
    let vmid = sim
        .schemas
        .status_current
        .get("vmid")
        .cloned()
        .ok_or_else(|| SimError::Schema("no vmid property".into()))?;
    Ok(ObjectSchema::default().with(vec![("vmid", vmid)]))
}

/// `pct set <vmid> [OPTIONS]` (PUT /nodes/{node}/lxc/{vmid}/config).
fn set(sim: &Sim, args: &[String], fixed: &[(&str, String)]) -> i32 {
    let schema = &sim.schemas.update;
    let spec = vmid_spec("pct set", fixed);
    let mut params = match parse_args(schema, args, &spec) {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    match set_inner(sim, &mut params) {
        Ok(()) => 0,
        Err(e) => fail_with_usage(e, schema, &spec),
    }
}

fn set_inner(sim: &Sim, params: &mut BTreeMap<String, String>) -> SimResult<()> {
    let vmid = vmid_of(params)?;
    params.remove("node");
    params.remove("vmid");
    let digest = params.remove("digest");
    if params.is_empty() {
        return Err(SimError::die("no options specified\n"));
    }
    let delete = split_list(&params.remove("delete").unwrap_or_default());
    let revert = split_list(&params.remove("revert").unwrap_or_default());
    if let Some(cu) = params.get("cpuunits").and_then(|c| c.parse::<u64>().ok()) {
        params.insert("cpuunits".into(), lxcconf::clamp_cpu_shares(cu).to_string());
    }
    let storages = Storages::load(sim)?;
    sim.lock_config(&vmid, LOCK_TIMEOUT, || {
        let mut conf = sim.load_config(&vmid)?;
        check_lock(&conf)?;
        if let Some(d) = &digest {
            if !d.is_empty() && *d != conf.digest {
                return Err(SimError::die(
                    "detected modified configuration - file changed by other user? Try again.\n",
                ));
            }
        }
        let exists = |o: &str| sim.schemas.confdesc.get(o).is_some();
        for opt in &revert {
            if !exists(opt) {
                return Err(
                    PveException::param1("revert", format!("unknown option '{opt}'")).into(),
                );
            }
            if params.contains_key(opt) {
                return Err(PveException::param1(
                    "revert",
                    format!("you can't use '-{opt}' and '-revert {opt}' at the same time"),
                )
                .into());
            }
        }
        for opt in &delete {
            if !exists(opt) {
                return Err(
                    PveException::param1("delete", format!("unknown option '{opt}'")).into(),
                );
            }
            if params.contains_key(opt) {
                return Err(PveException::param1(
                    "delete",
                    format!("you can't use '-{opt}' and -delete {opt}' at the same time"),
                )
                .into());
            }
            if revert.contains(opt) {
                return Err(PveException::param1(
                    "delete",
                    format!("you can't use '-delete {opt}' and '-revert {opt}' at the same time"),
                )
                .into());
            }
        }
        let running = runtime::state(sim, &vmid)?.running;
        let ctx = Ctx {
            sim,
            storages: &storages,
            vmid: &vmid,
        };
        let errors = update::update_pct_config(&ctx, &mut conf, running, params, &delete, &revert)?;
        if !errors.is_empty() {
            return Err(PveException::param(errors).into());
        }
        sim.write_config(&vmid, &mut conf)?;
        let conf = sim.load_config(&vmid)?;
        write_lxc_config(sim, &storages, &vmid, &conf)
    })
}

/// `update_lxc_config` without starting (Proxmox rewrites it after every `pct set`).
fn write_lxc_config(sim: &Sim, storages: &Storages, vmid: &str, conf: &PctConf) -> SimResult<()> {
    let dir = sim.lxc_path().join(vmid);
    if conf.main.get("template") == Some("1") {
        let _ = std::fs::remove_file(dir.join("config"));
        return Ok(());
    }
    let plan = lxcconf::update_lxc_config(sim, storages, vmid, &conf.main)?;
    crate::state::mkdir_p(&dir)?;
    for (path, content) in &plan.files {
        std::fs::write(path, content)
            .map_err(|e| SimError::io(format!("write {}", path.display()), e))?;
    }
    std::fs::write(dir.join("config"), &plan.config)
        .map_err(|e| SimError::io("write lxc config", e))
}

/// The spec of a command taking `<vmid>` and the fixed `node`.
fn vmid_spec<'a>(prefix: &'a str, fixed: &'a [(&'a str, String)]) -> CommandSpec<'a> {
    CommandSpec {
        prefix,
        arg_params: &["vmid"],
        fixed,
        ..Default::default()
    }
}

/// "CT <id> already running" (`running` true) or "CT <id> not running" (false).
fn refuse_if_running(sim: &Sim, vmid: &str, running: bool) -> SimResult<()> {
    let st = runtime::state(sim, vmid)?;
    match (running, st.running) {
        (true, true) => Err(SimError::die(format!("CT {vmid} already running\n"))),
        (false, false) => Err(SimError::die(format!("CT {vmid} not running\n"))),
        _ => Ok(()),
    }
}

/// `check_lock`.
pub fn check_lock(conf: &PctConf) -> SimResult<()> {
    match conf.main.get("lock") {
        Some(lock) => Err(SimError::die(format!("CT is locked ({lock})\n"))),
        None => Ok(()),
    }
}

/// `pct config <vmid> [--current] [--snapshot name]`.
fn config(sim: &Sim, args: &[String], fixed: &[(&str, String)]) -> i32 {
    let schema = &sim.schemas.config;
    let spec = vmid_spec("pct config", fixed);
    let params = match parse_args(schema, args, &spec) {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    let res = (|| -> SimResult<String> {
        let vmid = vmid_of(&params)?;
        if params.contains_key("snapshot") && flag(&params, "current") {
            let mut errors = BTreeMap::new();
            errors.insert(
                "snapshot".to_string(),
                "cannot use 'snapshot' parameter with 'current'".to_string(),
            );
            errors.insert(
                "current".to_string(),
                "cannot use 'snapshot' parameter with 'current'".to_string(),
            );
            return Err(PveException::param(errors).into());
        }
        let conf = sim.load_config(&vmid)?;
        let section = match params.get("snapshot") {
            Some(name) => conf
                .snapshots
                .get(name)
                .cloned()
                .ok_or_else(|| SimError::die(format!("snapshot '{name}' does not exist\n")))?,
            None => current_config(&conf, flag(&params, "current")),
        };
        let mut entries: BTreeMap<String, String> = section.keys.clone();
        if let Some(d) = &section.description {
            entries.insert("description".into(), encode_text(d));
        }
        if let Some(env) = &section.env {
            entries.insert("env".into(), env.clone());
        }
        entries.remove("digest");
        let mut out = String::new();
        for (k, v) in entries {
            out.push_str(&format!("{k}: {v}\n"));
        }
        for (k, v) in &section.lxc {
            out.push_str(&format!("{k}: {v}\n"));
        }
        Ok(out)
    })();
    finish(res, schema, &spec)
}

/// `pct start <vmid> [--debug] [--skiplock]`.
pub fn start(sim: &Sim, args: &[String], fixed: &[(&str, String)]) -> i32 {
    let schema = &sim.schemas.start;
    let spec = vmid_spec("pct start", fixed);
    let (params, vmid) = match parse_vmid_args(schema, args, &spec) {
        Ok(x) => x,
        Err(e) => return fail(e),
    };
    if let Err(e) = refuse_if_running(sim, &vmid, true) {
        return fail(e);
    }
    let skiplock = flag(&params, "skiplock");
    let debug = params.get("debug").map(|d| d == "1");
    task::run_worker(|| {
        sim.lock_config(&vmid, LOCK_TIMEOUT, || {
            let conf = sim.load_config(&vmid)?;
            if conf.main.get("template") == Some("1") {
                return Err(SimError::die("you can't start a CT if it's a template\n"));
            }
            if !skiplock && conf.main.get("lock") != Some("mounted") {
                check_lock(&conf)?;
            }
            if conf.main.get("unprivileged") == Some("1") {
                for key in update::volume_keys(&conf.main) {
                    if let Some(v) = conf.main.get(&key) {
                        if parse_volume(sim.schemas, &key, v).is_ok_and(|mp| mp.flag("quota")) {
                            return Err(SimError::die(
                                "Quotas are not supported by unprivileged containers.\n",
                            ));
                        }
                    }
                }
            }
            vm_start(sim, &vmid, conf, debug)
        })
    })
}

/// `vm_start`: applies pending changes, writes the LXC config, starts the CT.
pub fn vm_start(sim: &Sim, vmid: &str, mut conf: PctConf, debug: Option<bool>) -> SimResult<()> {
    let storages = Storages::load(sim)?;
    if !conf.pending.is_empty() {
        let ctx = Ctx {
            sim,
            storages: &storages,
            vmid,
        };
        let mut errors = BTreeMap::new();
        update::apply_pending(&ctx, &mut conf, None, &mut errors)?;
        sim.write_config(vmid, &mut conf)?;
        conf = sim.load_config(vmid)?;
    }
    let plan = lxcconf::update_lxc_config(sim, &storages, vmid, &conf.main)?;
    // After update_lxc_config, as on Proxmox, where these run in the prestart hook lxc-start
    // calls.
    lxcconf::prestart_mounts(sim, &conf.main)?;
    let is_debug = debug.unwrap_or(conf.main.get("debug") == Some("1"));
    runtime::start(sim, vmid, &plan, is_debug)
}

/// `pct shutdown <vmid> [--timeout N] [--forceStop 0|1]`.
pub fn shutdown(sim: &Sim, args: &[String], fixed: &[(&str, String)]) -> i32 {
    let schema = &sim.schemas.shutdown;
    let spec = vmid_spec("pct shutdown", fixed);
    let (params, vmid) = match parse_vmid_args(schema, args, &spec) {
        Ok(x) => x,
        Err(e) => return fail(e),
    };
    let timeout: u64 = params
        .get("timeout")
        .and_then(|t| t.parse().ok())
        .unwrap_or(60);
    let force = flag(&params, "forceStop");
    if let Err(e) = refuse_if_running(sim, &vmid, false) {
        return fail(e);
    }
    task::run_worker(|| {
        sim.lock_config(&vmid, LOCK_TIMEOUT, || {
            let conf = sim.load_config(&vmid)?;
            check_lock(&conf)?;
            runtime::stop(sim, &vmid, false, Some(timeout), force)
        })
    })
}

/// `pct stop <vmid> [--skiplock] [--overrule-shutdown]`.
pub fn stop(sim: &Sim, args: &[String], fixed: &[(&str, String)]) -> i32 {
    let schema = &sim.schemas.stop;
    let spec = vmid_spec("pct stop", fixed);
    let (params, vmid) = match parse_vmid_args(schema, args, &spec) {
        Ok(x) => x,
        Err(e) => return fail(e),
    };
    if let Err(e) = refuse_if_running(sim, &vmid, false) {
        return fail(e);
    }
    let skiplock = flag(&params, "skiplock");
    task::run_worker(|| {
        sim.lock_config(&vmid, LOCK_TIMEOUT, || {
            let conf = sim.load_config(&vmid)?;
            if !skiplock && conf.main.get("lock") != Some("mounted") {
                check_lock(&conf)?;
            }
            runtime::stop(sim, &vmid, true, None, false)
        })
    })
}

/// `pct destroy <vmid> [--purge] [--force] [--destroy-unreferenced-disks]`.
pub fn destroy(sim: &Sim, args: &[String], fixed: &[(&str, String)]) -> i32 {
    let schema = &sim.schemas.destroy;
    let spec = vmid_spec("pct destroy", fixed);
    let (params, vmid) = match parse_vmid_args(schema, args, &spec) {
        Ok(x) => x,
        Err(e) => return fail(e),
    };
    let force = flag(&params, "force");
    let purge = flag(&params, "purge");
    let unreferenced = flag(&params, "destroy-unreferenced-disks");
    let early = |conf: &PctConf| -> SimResult<()> {
        if conf.main.get("protection") == Some("1") {
            return Err(SimError::die(format!(
                "can't remove CT {vmid} - protection mode enabled\n"
            )));
        }
        check_lock(conf)
    };
    let running_msg = format!("unable to destroy CT {vmid} - container is running\n");
    let pre = (|| -> SimResult<()> {
        let conf = sim.load_config(&vmid)?;
        early(&conf)?;
        if !force && runtime::state(sim, &vmid)?.running {
            return Err(SimError::die(running_msg.clone()));
        }
        Ok(())
    })();
    if let Err(e) = pre {
        return fail_with_usage(e, schema, &spec);
    }
    task::run_worker(|| {
        sim.lock_config(&vmid, LOCK_TIMEOUT, || {
            let mut conf = sim.load_config(&vmid)?;
            early(&conf)?;
            if runtime::state(sim, &vmid)?.running {
                if !force {
                    return Err(SimError::die(running_msg.clone()));
                }
                task::warn(&format!("forced to stop CT {vmid} before destroying!\n"));
                runtime::stop(sim, &vmid, true, None, false)?;
            }
            let storages = Storages::load(sim)?;
            let ctx = Ctx {
                sim,
                storages: &storages,
                vmid: &vmid,
            };
            destroy_lxc_container(&ctx, &mut conf, unreferenced)?;
            if purge {
                task::print(&format!(
                    "purging CT {vmid} from related configurations..\n"
                ));
            }
            sim.destroy_config(&vmid)
        })
    })
}

/// `destroy_lxc_container`: frees the CT's volumes, removes /var/lib/lxc/<vmid>, and leaves a
/// config with `lock: destroyed` until the caller removes it.
fn destroy_lxc_container(ctx: &Ctx<'_>, conf: &mut PctConf, unreferenced: bool) -> SimResult<()> {
    let mut seen = Vec::new();
    for section in [&conf.main, &conf.pending] {
        for key in section
            .keys
            .keys()
            .filter(|k| crate::mountpoint::is_volume_key(k))
        {
            let Some(v) = section.get(key) else { continue };
            let Ok(mp) = parse_volume(ctx.sim.schemas, key, v) else {
                continue;
            };
            let volume = mp.volume().to_string();
            if seen.contains(&volume) {
                continue;
            }
            seen.push(volume.clone());
            update::delete_mountpoint_volume(ctx, &volume)?;
        }
    }
    if unreferenced {
        let vmid: u64 = ctx.vmid.parse().unwrap_or(0);
        for id in ctx.storages.ids.keys() {
            let Ok(vols) = ctx.storages.list(ctx.sim, id, Some(vmid), Some("rootdir")) else {
                continue;
            };
            for v in vols {
                if let Err(e) = ctx.storages.free(ctx.sim, &v.volid) {
                    task::warn(&e.render());
                }
            }
        }
    }
    let dir = ctx.sim.lxc_path().join(ctx.vmid);
    let _ = std::fs::remove_file(dir.join("config"));
    let _ = std::fs::remove_file(dir.join("rules.seccomp"));
    let _ = std::fs::remove_dir(dir.join("rootfs"));
    let _ = std::fs::remove_dir(&dir);
    let mut replacement = PctConf::default();
    replacement
        .main
        .keys
        .insert("lock".into(), "destroyed".into());
    ctx.sim.write_config(ctx.vmid, &mut replacement)
}

/// `pct migrate <vmid> <target> [--online] [--restart] [--timeout N] [--target-storage ..]
/// [--bwlimit N]` (POST /nodes/{node}/lxc/{vmid}/migrate, pve-container `src/PVE/API2/LXC.pm`
/// `migrate_vm` and `src/PVE/LXC/Migrate.pm` `prepare`/`phase1` @ 94f55852): only the
/// offline migration of a stopped CT is simulated. Its refusals are Proxmox's: `target is
/// local node.`, `no such cluster node`, a missing config, `can't migrate running container
/// without --online or --restart`, a locked CT. The config moves from `nodes/<here>/lxc` to
/// `nodes/<target>/lxc` (Proxmox renames it in pmxcfs: `PVE::LXC::Config->move_config_to_node`);
/// volumes stay where they are, since every simulated node shares this state root's storage.
fn migrate(sim: &Sim, args: &[String], fixed: &[(&str, String)]) -> i32 {
    let schema = match vmid_only_schema(sim) {
        Ok(s) => s.with(vec![
            (
                "node",
                sim.schemas
                    .status_current
                    .get("node")
                    .cloned()
                    .unwrap_or_else(|| simple(Type::String, false)),
            ),
            ("target", simple(Type::String, false)),
            ("online", simple(Type::Boolean, true)),
            ("restart", simple(Type::Boolean, true)),
            ("timeout", simple(Type::Integer, true)),
            ("target-storage", simple(Type::String, true)),
            ("bwlimit", simple(Type::Number, true)),
        ]),
        Err(e) => return fail(e),
    };
    let spec = CommandSpec {
        prefix: "pct migrate",
        arg_params: &["vmid", "target"],
        fixed,
        ..Default::default()
    };
    let (params, vmid) = match parse_vmid_args(&schema, args, &spec) {
        Ok(x) => x,
        Err(e) => return fail(e),
    };
    let target = params.get("target").cloned().unwrap_or_default();
    let pre = (|| -> SimResult<Sim> {
        if crate::formats::check_named("pve-node", &target).is_err() {
            return Err(PveException::param1(
                "target",
                "invalid format - value does not look like a valid node name",
            )
            .into());
        }
        if target == sim.node {
            return Err(PveException::param1("target", "target is local node.").into());
        }
        let there = sim.on_node(&target)?;
        sim.load_config(&vmid)?;
        if runtime::state(sim, &vmid)?.running {
            if !flag(&params, "online") && !flag(&params, "restart") {
                return Err(SimError::die(
                    "can't migrate running container without --online or --restart\n",
                ));
            }
            return Err(SimError::die(
                "pve-sim: restart and online migration are not simulated\n",
            ));
        }
        Ok(there)
    })();
    let there = match pre {
        Ok(t) => t,
        Err(e) => return fail_with_usage(e, &schema, &spec),
    };
    task::run_worker(|| {
        sim.lock_config(&vmid, LOCK_TIMEOUT, || {
            let conf = sim.load_config(&vmid)?;
            check_lock(&conf)?;
            if runtime::state(sim, &vmid)?.running {
                return Err(SimError::die(
                    "running container can only be migrated in restart mode",
                ));
            }
            task::print(&format!(
                "starting migration of CT {vmid} to node '{target}'\n"
            ));
            // Migrate.pm `prepare` @ 94f55852: a bind or device mount point (the rootfs too)
            // moves only when marked `shared`.
            for key in update::volume_keys(&conf.main) {
                let Some(value) = conf.main.get(&key) else {
                    continue;
                };
                let Ok(mp) = parse_volume(sim.schemas, &key, value) else {
                    continue;
                };
                let kind = match mp.kind {
                    crate::mountpoint::MpType::Volume => continue,
                    crate::mountpoint::MpType::Bind => "bind",
                    crate::mountpoint::MpType::Device => "device",
                };
                if !mp.flag("shared") {
                    return Err(SimError::die(format!(
                        "cannot migrate local {kind} mount point '{key}'\n"
                    )));
                }
            }
            let from = sim.config_file(&vmid);
            let to = there.config_file(&vmid);
            std::fs::rename(&from, &to)
                .map_err(|e| SimError::io(format!("rename {}", from.display()), e))?;
            task::print("migration finished successfully\n");
            Ok(())
        })
    })
}

/// `pct status <vmid> [--verbose]`.
pub fn status(sim: &Sim, args: &[String]) -> i32 {
    let schema = match vmid_only_schema(sim) {
        Ok(s) => s.with(vec![("verbose", simple(Type::Boolean, true))]),
        Err(e) => return fail(e),
    };
    let spec = CommandSpec {
        prefix: "pct status",
        arg_params: &["vmid"],
        ..Default::default()
    };
    let params = match parse_args(&schema, args, &spec) {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    let res = (|| -> SimResult<String> {
        let vmid = vmid_of(&params)?;
        let conf = sim.load_config(&vmid)?;
        let stat = vmstatus(sim, &vmid, &conf)?;
        if flag(&params, "verbose") {
            Ok(stat.iter().map(|(k, v)| format!("{k}: {v}\n")).collect())
        } else {
            let status = stat
                .get("status")
                .cloned()
                .unwrap_or_else(|| "unknown".into());
            Ok(format!("status: {status}\n"))
        }
    })();
    finish(res, &schema, &spec)
}

/// `PVE::LXC::vmstatus` for one CT, as the sorted key/value lines `pct status --verbose` prints
/// (`cpu` is left out there).
pub fn vmstatus(sim: &Sim, vmid: &str, conf: &PctConf) -> SimResult<BTreeMap<String, String>> {
    let st = runtime::state(sim, vmid)?;
    let c = &conf.main;
    let mut d = BTreeMap::new();
    d.insert("vmid".to_string(), vmid.to_string());
    d.insert("type".into(), "lxc".into());
    d.insert(
        "status".into(),
        if st.running { "running" } else { "stopped" }.to_string(),
    );
    let name: String = c
        .get("hostname")
        .map(str::to_string)
        .unwrap_or_else(|| format!("CT{vmid}"));
    d.insert(
        "name".into(),
        name.chars().filter(|ch| !ch.is_whitespace()).collect(),
    );
    let cpus = c
        .get("cores")
        .filter(|v| *v != "0")
        .or_else(|| c.get("cpulimit").filter(|v| *v != "0"))
        .map(str::to_string)
        .unwrap_or_else(|| crate::host::cpu_count().to_string());
    d.insert("cpus".into(), cpus);
    if let Some(tags) = c.get("tags") {
        d.insert("tags".into(), tags.to_string());
    }
    let rootfs_size = c
        .get("rootfs")
        .and_then(|v| parse_volume(sim.schemas, "rootfs", v).ok())
        .and_then(|mp| mp.props.get("size").and_then(|s| s.parse::<u64>().ok()))
        .filter(|s| *s > 0)
        .unwrap_or(4 * 1024 * 1024 * 1024);
    let memory: u64 = c
        .get("memory")
        .and_then(|m| m.parse().ok())
        .filter(|m| *m > 0)
        .unwrap_or(512);
    let swap: u64 = c.get("swap").and_then(|m| m.parse().ok()).unwrap_or(0);
    d.insert("disk".into(), "0".into());
    d.insert("maxdisk".into(), rootfs_size.to_string());
    d.insert("mem".into(), "0".into());
    d.insert("swap".into(), "0".into());
    d.insert("maxmem".into(), (memory * 1024 * 1024).to_string());
    d.insert("maxswap".into(), (swap * 1024 * 1024).to_string());
    d.insert("uptime".into(), "0".into());
    for k in ["netout", "netin", "diskread", "diskwrite"] {
        d.insert(k.into(), "0".into());
    }
    if c.get("template") == Some("1") {
        d.insert("template".into(), "1".into());
    }
    if let Some(lock) = c.get("lock") {
        d.insert("lock".into(), lock.to_string());
    }
    if let Some(pid) = st.pid {
        d.insert("pid".into(), pid.to_string());
        if let Some(up) = runtime::uptime_of(pid) {
            d.insert("uptime".into(), up.to_string());
        }
        if let Some(mem) = cgroup_memory(sim, vmid) {
            d.insert("mem".into(), mem.to_string());
        }
    }
    Ok(d)
}

fn cgroup_memory(sim: &Sim, vmid: &str) -> Option<u64> {
    let name = format!("pve-sim-{}-{vmid}", lxcconf::root_tag(sim));
    let candidates = [
        format!("/sys/fs/cgroup/memory/lxc/{name}/memory.usage_in_bytes"),
        format!("/sys/fs/cgroup/lxc/{name}/memory.current"),
    ];
    candidates
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok())
        .and_then(|t| t.trim().parse().ok())
}

/// `pct list`: nothing at all when there are no CTs.
fn list(sim: &Sim, args: &[String], fixed: &[(&str, String)]) -> i32 {
    let schema = &sim.schemas.list;
    let spec = CommandSpec {
        prefix: "pct list",
        fixed,
        ..Default::default()
    };
    if let Err(e) = parse_args(schema, args, &spec) {
        return fail(e);
    }
    let res = (|| -> SimResult<String> {
        let mut rows = Vec::new();
        for (id, entry) in sim.vmlist()? {
            if entry.kind != crate::state::GuestKind::Ct || entry.node != sim.node {
                continue;
            }
            let vmid = id.to_string();
            let Some(conf) = sim.read_config(&vmid)? else {
                continue;
            };
            let stat = vmstatus(sim, &vmid, &conf)?;
            rows.push((
                id,
                stat.get("status").cloned().unwrap_or_default(),
                conf.main.get("lock").unwrap_or("").to_string(),
                stat.get("name").cloned().unwrap_or_default(),
            ));
        }
        if rows.is_empty() {
            return Ok(String::new());
        }
        let mut out = format!(
            "{:<10} {:<10} {:<12} {:<20}\n",
            "VMID", "Status", "Lock", "Name"
        );
        for (id, status, lock, name) in rows {
            out.push_str(&format!("{id:<10} {status:<10} {lock:<12} {name:<20}\n"));
        }
        Ok(out)
    })();
    finish(res, schema, &spec)
}

/// `pct unlock <vmid>`.
fn unlock(sim: &Sim, args: &[String]) -> i32 {
    let schema = match vmid_only_schema(sim) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let spec = CommandSpec {
        prefix: "pct unlock",
        arg_params: &["vmid"],
        ..Default::default()
    };
    let params = match parse_args(&schema, args, &spec) {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    let res = (|| -> SimResult<()> {
        let vmid = vmid_of(&params)?;
        sim.lock_config(&vmid, LOCK_TIMEOUT, || {
            let mut conf = sim.load_config(&vmid)?;
            if conf.main.keys.remove("lock").is_none() {
                return Err(SimError::die("no lock found trying to remove any lock\n"));
            }
            sim.write_config(&vmid, &mut conf)
        })
    })();
    match res {
        Ok(()) => 0,
        Err(e) => fail_with_usage(e, &schema, &spec),
    }
}

/// The usage line of a command (for tests).
pub fn usage_line(schema: &ObjectSchema, spec: &CommandSpec<'_>) -> String {
    usage(schema, spec)
}
