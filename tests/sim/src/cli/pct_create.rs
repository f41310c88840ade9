//! `pct create <vmid> <ostemplate> [OPTIONS]` (POST /nodes/{node}/lxc, API LXC.pm `create_vm`).

use std::collections::BTreeMap;
use std::time::Duration;

use super::pct::{check_lock, vm_start};
use super::{fail, fail_with_usage, parse_args, vmid_of};
use crate::conf::PctConf;
use crate::error::{PveException, SimError, SimResult};
use crate::formats::parse_volume_id;
use crate::getopt::CommandSpec;
use crate::lxcconf::{self, index_of};
use crate::mountpoint::{parse_volume, MpType};
use crate::setup;
use crate::state::Sim;
use crate::storage::Storages;
use crate::task;
use crate::template;
use crate::update::{self, Ctx};

const LOCK_TIMEOUT: Duration = Duration::from_secs(10);

/// What the API code hands to the worker.
struct CreatePlan {
    vmid: String,
    archive: String,
    storage: String,
    conf: PctConf,
    mp_param: BTreeMap<String, String>,
    storage_only_mode: bool,
    ignore_unpack_errors: bool,
    start_after_create: bool,
    ha_managed: bool,
}

/// Entry point.
pub fn create(sim: &Sim, args: &[String], fixed: &[(&str, String)]) -> i32 {
    let schema = &sim.schemas.create;
    let spec = CommandSpec {
        prefix: "pct create",
        arg_params: &["vmid", "ostemplate"],
        fixed,
        file_params: &["ssh-public-keys"],
        interactive: &["password"],
        format_options: false,
    };
    let params = match parse_args(schema, args, &spec) {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    let plan = match prepare(sim, params) {
        Ok(p) => p,
        Err(e) => return fail_with_usage(e, schema, &spec),
    };
    task::run_worker(|| run(sim, plan))
}

/// The part of `create_vm` that runs before the worker is forked.
fn prepare(sim: &Sim, mut param: BTreeMap<String, String>) -> SimResult<CreatePlan> {
    let vmid = vmid_of(&param)?;
    param.remove("node");
    param.remove("vmid");
    let ignore_unpack_errors = param.remove("ignore-unpack-errors").as_deref() == Some("1");
    param.remove("bwlimit");
    let start_after_create = param.remove("start").as_deref() == Some("1");
    let ha_managed = param.remove("ha-managed").as_deref() == Some("1");
    let same_container_exists = sim.config_file(&vmid).is_file();
    let unprivileged = param.remove("unprivileged");
    let restore = param.remove("restore").as_deref() == Some("1");
    param.remove("unique");
    if let Some(cu) = param.get("cpuunits").and_then(|c| c.parse::<u64>().ok()) {
        param.insert("cpuunits".into(), lxcconf::clamp_cpu_shares(cu).to_string());
    }
    if restore {
        return Err(SimError::Setup(
            "'pct create --restore' (vzdump restore) is not simulated".into(),
        ));
    }
    // create: unprivileged defaults to 1.
    let unprivileged = unprivileged.as_deref() != Some("0");
    let force = param.remove("force").as_deref() == Some("1");
    if !(same_container_exists && restore && force) {
        let id: u64 = vmid.parse().map_err(|_| SimError::die("invalid vmid\n"))?;
        sim.check_vmid_unused(id, false)?;
    }
    param.remove("password");
    param.remove("ssh-public-keys");
    if let Some(pool) = param.remove("pool") {
        // The simulator has no pools (user.cfg).
        return Err(PveException::permission(&format!("pool '{pool}' does not exist")).into());
    }

    let ostemplate = param.remove("ostemplate").unwrap_or_default();
    let storage = param
        .remove("storage")
        .unwrap_or_else(|| "local".to_string());
    let storages = Storages::load(sim)?;

    if ostemplate == "-" {
        return Err(SimError::die("pipe can only be used with restore tasks\n"));
    }
    if parse_volume_id(&ostemplate).is_some() {
        let (_, vn) = storages.parse_volname(&ostemplate)?;
        if vn.vtype != "vztmpl" {
            return Err(SimError::die(format!(
                "unable to use volume {ostemplate} - content type needs to be 'vztmpl'\n"
            )));
        }
    }

    let mut no_disk_param = BTreeMap::new();
    let mut mp_param = BTreeMap::new();
    let mut storage_only_mode = true;
    for (opt, value) in std::mem::take(&mut param) {
        if opt == "rootfs" || index_of(&opt, "mp").is_some() {
            let is_number = {
                let (a, b) = value.split_once('.').unwrap_or((&value, "0"));
                !a.is_empty()
                    && !b.is_empty()
                    && (a.to_string() + b).bytes().all(|c| c.is_ascii_digit())
            };
            let v = if is_number {
                format!("{storage}:{value}")
            } else {
                value
            };
            mp_param.insert(opt, v);
            storage_only_mode = false;
        } else if index_of(&opt, "unused").is_some() {
            task::warn(&format!(
                "ignoring '{opt}', cannot create/restore with unused volume\n"
            ));
        } else {
            no_disk_param.insert(opt, value);
        }
    }
    if !storage_only_mode && !mp_param.contains_key("rootfs") {
        return Err(SimError::die(
            "mount points configured, but 'rootfs' not set - aborting\n",
        ));
    }
    let check_storage = |sid: &str| -> SimResult<()> {
        let scfg = storages.check_enabled(sid, &sim.node)?;
        if !scfg.content.contains("rootdir") {
            return Err(PveException::param1(
                "storage",
                format!("storage '{sid}' does not support container directories"),
            )
            .into());
        }
        Ok(())
    };
    for (key, value) in &mp_param {
        let mp = parse_volume(sim.schemas, key, value).map_err(SimError::die)?;
        if mp.kind == MpType::Volume {
            let (sid, _) = parse_volume_id(mp.volume()).ok_or_else(|| {
                SimError::die(format!("unable to parse volume ID '{}'\n", mp.volume()))
            })?;
            check_storage(&sid)?;
        }
    }
    if !mp_param.contains_key("rootfs") {
        check_storage(&storage)?;
    }

    let mut conf = PctConf::default();
    let ctx = Ctx {
        sim,
        storages: &storages,
        vmid: &vmid,
    };
    let errors = update::update_pct_config(&ctx, &mut conf, false, &no_disk_param, &[], &[])?;
    if !errors.is_empty() {
        return Err(PveException::param(errors).into());
    }
    if unprivileged {
        conf.main.keys.insert("unprivileged".into(), "1".into());
    }

    // create_and_lock_config
    let emsg = format!("unable to create CT {vmid} -");
    let locked = sim.lock_config(&vmid, Duration::from_secs(5), || {
        let id: u64 = vmid.parse().map_err(|_| SimError::die("invalid vmid\n"))?;
        sim.check_vmid_unused(id, force)?;
        let mut existing = sim.read_config(&vmid)?.unwrap_or_default();
        check_lock(&existing)?;
        existing.main.keys.insert("lock".into(), "create".into());
        sim.write_config(&vmid, &mut existing)
    });
    if let Err(e) = locked {
        return Err(SimError::die(format!("{emsg} {}", e.render())));
    }

    Ok(CreatePlan {
        vmid,
        archive: ostemplate,
        storage,
        conf,
        mp_param,
        storage_only_mode,
        ignore_unpack_errors,
        start_after_create,
        ha_managed,
    })
}

/// The worker.
fn run(sim: &Sim, mut plan: CreatePlan) -> SimResult<()> {
    let vmid = plan.vmid.clone();
    let storages = Storages::load(sim)?;
    let mut destroy_config_on_error = false;
    let res = sim.lock_config(&vmid, LOCK_TIMEOUT, || {
        let _old = sim.load_config(&vmid)?;
        let ctx = Ctx {
            sim,
            storages: &storages,
            vmid: &vmid,
        };
        let mut vollist: Vec<String> = Vec::new();
        let inner = (|| -> SimResult<()> {
            if plan.storage_only_mode {
                plan.mp_param
                    .insert("rootfs".into(), format!("{}:4", plan.storage));
            }
            destroy_config_on_error = true;
            vollist = update::create_disks(&ctx, &plan.mp_param, &mut plan.conf, false)?;

            let rootfs_value = plan
                .conf
                .main
                .get("rootfs")
                .map(str::to_string)
                .unwrap_or_default();
            let rootfs =
                parse_volume(sim.schemas, "rootfs", &rootfs_value).map_err(SimError::die)?;
            let rootdir =
                lxcconf::volume_host_path(sim, &storages, "rootfs", rootfs.kind, rootfs.volume())?;

            let archive_path = template::archive_path(sim, &storages, &plan.archive)?;
            if template::is_oci_archive(&archive_path) {
                task::print("Detected OCI archive\n");
                return Err(SimError::Setup(
                    "OCI image archives (PVE::RS::OCI) are not simulated; use a rootfs template"
                        .into(),
                ));
            }
            let compression = template::compression_option(&archive_path.to_string_lossy())?;
            let (id_map, _, _) = update::id_maps(&plan.conf.main)?;
            let cmd = template::extract_command(&id_map, compression, &rootdir);
            template::extract(&archive_path, &cmd, plan.ignore_unpack_errors)?;

            // Setup->new: OS type and architecture detection.
            let configured = plan.conf.main.get("ostype").map(str::to_string);
            let detected =
                setup::detect_ostype(&rootdir, configured.as_deref()).map_err(SimError::die)?;
            for w in &detected.warnings {
                task::warn(w);
            }
            plan.conf.main.keys.insert("ostype".into(), detected.ostype);
            if plan.conf.main.get("arch").is_none() {
                let arch = match setup::detect_architecture(&rootdir) {
                    Ok(a) => {
                        task::print(&format!("Detected container architecture: {a}\n"));
                        a
                    }
                    Err(e) => {
                        task::warn(&format!("Architecture detection failed: {e}"));
                        task::print(
                            "Falling back to amd64.\nUse `pct set VMID --arch ARCH` to change.\n",
                        );
                        "amd64".to_string()
                    }
                };
                plan.conf.main.keys.insert("arch".into(), arch);
            }
            sim.write_config(&vmid, &mut plan.conf)?;

            let main = &mut plan.conf.main;
            if main.get("hostname").is_none_or(str::is_empty) {
                main.keys.insert("hostname".into(), format!("CT{vmid}"));
            }
            if main.get("memory").is_none_or(|m| m == "0") {
                main.keys.insert("memory".into(), "512".into());
            }
            if main.get("swap").is_none() {
                main.keys.insert("swap".into(), "512".into());
            }
            sim.write_config(&vmid, &mut plan.conf)
        })();
        if let Err(err) = inner {
            update::destroy_disks(&ctx, &vollist);
            if destroy_config_on_error {
                if let Err(e) = sim.destroy_config(&vmid) {
                    task::warn(&e.render());
                }
            }
            return Err(SimError::die(format!(
                "unable to create CT {vmid} - {}",
                err.render()
            )));
        }
        Ok(())
    });
    if let Err(err) = res {
        if !destroy_config_on_error {
            // Aborted before touching the CT: drop the 'create' lock again.
            if let Ok(Some(mut conf)) = sim.read_config(&vmid) {
                if conf.main.get("lock") == Some("create") {
                    conf.main.keys.remove("lock");
                    let _ = sim.write_config(&vmid, &mut conf);
                }
            }
        }
        return Err(err);
    }
    if plan.start_after_create {
        let conf = sim.load_config(&vmid)?;
        sim.lock_config(&vmid, LOCK_TIMEOUT, || vm_start(sim, &vmid, conf, None))?;
    }
    if plan.ha_managed {
        task::print("Add as HA resource\n");
        task::warn("pve-sim: HA is not simulated (ha-manager add was not run)\n");
    }
    Ok(())
}
