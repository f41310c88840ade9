//! `create <id> --bundle <dir>`: makes the container and leaves it `created` (nothing runs).
//!
//! Proxmox: the translator's plan is applied with the container's store directory as its
//! journal; a failure undoes every step and removes the record, so nothing is left and the
//! same id can be created again. A record that an earlier, killed create left behind is
//! cleaned up first. crun: the translated config goes into the store directory and
//! `crun create` runs with the engine's stdio.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use translator::emit::plan::{Action, Plan};
use translator::policy::Policy;

use crate::apply::{apply, ApplyConfig};
use crate::bundle::{BundleError, Rootfs};
use crate::crun::CreateOptions;
use crate::id::ContainerId;
use crate::pack::{PackConfig, PackReport};
use crate::pve::identity::Identity;
use crate::state::{
    Backend, ContainerFile, ContainerLock, Mapping, OciState, Record, Status, StoreError,
};

use super::journal::StoreJournal;
use super::{recover, Runtime, RuntimeError, Signal};

/// What to create the container from.
///
/// `rootfs` is the bundle's rootfs as the caller opened and checked it ([`crate::bundle`]):
/// the plan's pack step packs that descriptor, and crun is handed its path only after it has
/// been verified again. `None` (a plan applied from a file) makes the pack step open the
/// plan's directory itself, through the same checks.
#[derive(Debug, Clone)]
pub enum CreateBackend {
    /// Apply this plan (from `convert --to plan` of the bundle's config), checked against the
    /// node policy before its first step ([`crate::apply::validate`]).
    Pct {
        plan: Plan,
        pack: PackConfig,
        rootfs: Option<Arc<Rootfs>>,
        /// The image `create --image` opened and verified: the plan's pack step streams its
        /// layers into the template and refuses a plan that names another image.
        image: Option<Arc<crate::image::Opened>>,
        policy: Policy,
        /// The host directory the operator allowed (exactly) as the plan's `path` rootfs
        /// outside the bundle (`apply --host-rootfs`).
        host_rootfs: Option<PathBuf>,
        /// An engine's create (`--pid-file`/`--console-socket`): the container is started
        /// with the static init in front of its process ([`super::engine_pct`]).
        engine: Option<Box<super::engine_pct::EngineIo>>,
    },
    /// Run crun with this config (from `convert --to crun`).
    Crun {
        config: String,
        options: CreateOptions,
        rootfs: Option<Arc<Rootfs>>,
    },
}

#[derive(Debug, Clone)]
pub struct CreateRequest {
    pub id: ContainerId,
    /// Absolute path of the bundle.
    pub bundle: PathBuf,
    pub backend: CreateBackend,
    /// The signal `stop` will send, from the translation (the IR's halt signal); recorded so
    /// that `stop` never reads the bundle again. `None`: the backend's default.
    pub stop_signal: Option<Signal>,
}

pub fn create(rt: &Runtime<'_>, req: CreateRequest) -> Result<OciState, RuntimeError> {
    create_reporting(rt, req).map(|(state, _)| state)
}

/// [`create`], also returning what packing the rootfs reported (its warnings are for the
/// operator: special files skipped, mount points not crossed).
pub fn create_reporting(
    rt: &Runtime<'_>,
    req: CreateRequest,
) -> Result<(OciState, Option<PackReport>), RuntimeError> {
    if !req.bundle.is_absolute() {
        return Err(RuntimeError::Usage(format!(
            "bundle {} must be an absolute path",
            req.bundle.display()
        )));
    }
    if let CreateBackend::Pct { plan, .. } = &req.backend {
        if !plan
            .steps
            .iter()
            .any(|s| matches!(s.action, Action::RecordState { .. }))
        {
            return Err(RuntimeError::Usage(
                "the plan has no record-state step".into(),
            ));
        }
    }
    let mut lock = rt.lock(&req.id)?;
    match rt.store.read_locked(&lock) {
        Err(StoreError::NotFound { .. }) => {
            // Ids are cluster-wide: one the ledger holds was created here before a reboot, or
            // on another node.
            if matches!(req.backend, CreateBackend::Pct { .. })
                && rt.ledger().read(&req.id)?.is_some()
            {
                rt.store.release_unknown(lock)?;
                return Err(RuntimeError::Exists { id: req.id });
            }
        }
        Ok(Record::Complete { .. }) => return Err(RuntimeError::Exists { id: req.id }),
        Ok(Record::Partial(p)) => {
            recover::clean(rt, &lock, &p)?;
            let token = p.mapping.as_ref().and_then(|m| m.token.clone());
            rt.forget(lock, token.as_ref())?;
            lock = rt.lock(&req.id)?;
        }
        Err(e) => return Err(e.into()),
    }
    rt.store.begin_create(&lock, &req.bundle)?;
    let stop_signal = req.stop_signal.map(|s| s.to_string());
    match req.backend {
        CreateBackend::Pct {
            plan,
            pack,
            rootfs,
            image,
            policy,
            host_rootfs,
            engine,
        } => {
            let checks = (&policy, host_rootfs.as_deref());
            let Some(engine) = engine else {
                return create_pct(
                    rt,
                    lock,
                    &req.bundle,
                    &plan,
                    (pack, rootfs.as_deref(), image.as_deref()),
                    stop_signal,
                    checks,
                );
            };
            let mut plan = plan;
            super::engine_pct::wrap_init(&mut plan).map_err(engine_err)?;
            let id = lock.id().clone();
            let made = create_pct(
                rt,
                lock,
                &req.bundle,
                &plan,
                (pack, rootfs.as_deref(), image.as_deref()),
                stop_signal,
                checks,
            )?;
            match start_engine(rt, &id, &engine) {
                Ok(state) => Ok((state, made.1)),
                Err(e) => {
                    // Nothing half-made stays: the CT (stopped first), its record, the stand-in.
                    // If that fails too, both are said: the container is left, and named.
                    match super::delete::delete(rt, &id, true, std::time::Duration::from_secs(10)) {
                        Ok(_) => Err(e),
                        Err(d) => Err(RuntimeError::Usage(format!(
                            "{e}; deleting the half-made container {id} failed too ({d}): \
                             `proxmox-lxcri delete --force {id}` finishes it"
                        ))),
                    }
                }
            }
        }
        CreateBackend::Crun {
            config,
            options,
            rootfs,
        } => create_crun(
            rt,
            lock,
            &req.bundle,
            &config,
            &options,
            rootfs.as_deref(),
            stop_signal,
        )
        .map(|s| (s, None)),
    }
}

fn engine_err(e: super::engine_pct::EngineError) -> RuntimeError {
    RuntimeError::Usage(format!("engine create on Proxmox: {e}"))
}

/// The created CT of an engine's create: the bound directory and its mount entry, the
/// stand-in with the engine's stdio (or the terminal), `pct start`, and the init's connection.
fn start_engine(
    rt: &Runtime<'_>,
    id: &ContainerId,
    engine: &super::engine_pct::EngineIo,
) -> Result<OciState, RuntimeError> {
    use super::engine_pct as ep;
    let lock = rt.lock(id)?;
    let (state, mapping) = match rt.store.read_locked(&lock)? {
        Record::Complete { state, mapping } => (state, mapping),
        Record::Partial(p) => return Err(RuntimeError::Partial(Box::new(p))),
    };
    let Backend::Pct { vmid, node } = &mapping.backend else {
        return Err(RuntimeError::Usage("not a pct container".into()));
    };
    let dir = rt.store.path(id, ContainerFile::EngineDir);
    let fifo = rt.store.path(id, ContainerFile::ExecFifo);
    let channel = ep::prepare(&dir, &fifo, engine.init).map_err(engine_err)?;
    crate::pve::append_lines(
        rt.host,
        &rt.paths,
        node,
        *vmid,
        &[ep::mount_line(&dir)],
        false,
    )
    .map_err(|e| RuntimeError::Usage(format!("write the engine's mount entry: {e}")))?;
    let stdio = match &engine.console_socket {
        Some(sock) => {
            let slave = ep::console(sock).map_err(engine_err)?;
            let dup = || {
                slave.try_clone().map_err(|e| {
                    engine_err(ep::EngineError::Io {
                        what: "dup the terminal".into(),
                        source: e,
                    })
                })
            };
            Some([dup()?, dup()?, dup()?])
        }
        None => None,
    };
    let exe = std::env::current_exe().map_err(|e| {
        engine_err(ep::EngineError::Io {
            what: "find this program".into(),
            source: e,
        })
    })?;
    let mut standin = ep::spawn_standin(&exe, channel, stdio).map_err(engine_err)?;
    let started = crate::pve::start(rt.host, *vmid)
        .map_err(RuntimeError::from)
        .and_then(|()| standin.wait_ready(engine.timeout).map_err(engine_err));
    let init = match started {
        Ok(pid) => pid,
        Err(e) => {
            let _ = standin.child.kill();
            let _ = standin.child.wait();
            return Err(e);
        }
    };
    let record = ep::EngineRecord {
        standin: standin.child.id() as i32,
        init,
        inherited: engine.inherited.clone(),
    };
    rt.store.write_file(&lock, ContainerFile::Engine, &record)?;
    if let Some(p) = &engine.pid_file {
        // The engine waits on and signals this pid: its own child once `create` exits.
        super::pid_file::write(p, standin.child.id()).map_err(|e| {
            engine_err(ep::EngineError::Io {
                what: format!("write {}", p.display()),
                source: e,
            })
        })?;
    }
    let mut state = state;
    state.pid = Some(record.standin);
    Ok(state)
}

/// `create --node NODE`: `NODE` must be a member of the cluster (pmxcfs has a
/// `/etc/pve/nodes/<node>` directory for every member).
pub fn check_node(rt: &Runtime<'_>, node: &str) -> Result<(), RuntimeError> {
    let nodes = crate::pve::cluster::nodes(rt.host, &rt.paths)?;
    if nodes.iter().any(|n| n == node) {
        Ok(())
    } else {
        Err(RuntimeError::Usage(format!(
            "node {node:?} is not a member of this cluster (no {}); the nodes are: {}",
            rt.paths.nodes_dir().join(node).display(),
            nodes.join(", ")
        )))
    }
}

/// `create --node NODE` for another node than this one: the container just created here (a
/// stopped CT) is moved there with `pct migrate <vmid> <node>`, Proxmox's own offline
/// migration, which also moves its local volumes (pve-container `src/PVE/API2/LXC.pm`
/// `migrate_vm` @ 94f55852: a stopped CT needs neither `--online` nor `--restart`). The
/// template was packed to this node's storage, so creating here and migrating is what makes
/// a bundle on this node's disk a container on the other. If the migration fails the
/// container is deleted again, so that `create` either places it where asked or leaves
/// nothing.
pub fn place(rt: &Runtime<'_>, id: &ContainerId, node: &str) -> Result<OciState, RuntimeError> {
    let (lock, record) = rt.lock_record(id)?;
    let (state, mapping) = match record {
        Record::Complete { state, mapping } => (state, mapping),
        Record::Partial(p) => return Err(RuntimeError::Partial(Box::new(p))),
    };
    let Backend::Pct { vmid, .. } = &mapping.backend else {
        return Err(RuntimeError::Usage(format!(
            "--node places Proxmox containers; {id} is a crun container on this node"
        )));
    };
    if rt.remote(node)?.is_none() {
        return Ok(state);
    }
    // Checked right before the migration: the VMID is still ours, on this node.
    if rt.verify(&mapping)? != Some(crate::pve::identity::Ct::Ours) {
        return Err(super::state::gone(&mapping));
    }
    let cmd = crate::host::Command::new("pct")
        .arg("migrate")
        .arg(vmid.to_string())
        .arg(node);
    let migrated = rt
        .host
        .run(&cmd)
        .map_err(RuntimeError::from)
        .and_then(|out| out.check(&cmd).map_err(RuntimeError::from));
    match migrated {
        Ok(_) => {
            rt.moved(&lock, mapping, node)?;
            Ok(state)
        }
        Err(e) => {
            drop(lock);
            let undone = super::delete(rt, id, true, std::time::Duration::from_secs(10));
            Err(RuntimeError::Usage(match undone {
                Ok(_) => format!("moving {id} to node {node} failed, so it was deleted again: {e}"),
                Err(d) => format!(
                    "moving {id} to node {node} failed ({e}), and deleting it again failed too: {d}"
                ),
            }))
        }
    }
}

/// The unique part of the template name: recognisable, and unique per create.
fn template_unique(id: &ContainerId) -> String {
    let head: String = id.as_str().chars().take(40).collect();
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{head}-{nanos:x}")
}

fn finished(rt: &Runtime<'_>, lock: &ContainerLock) -> Result<OciState, RuntimeError> {
    match rt.store.read_locked(lock)? {
        Record::Complete { state, .. } => Ok(state),
        Record::Partial(p) => Err(RuntimeError::Partial(Box::new(p))),
    }
}

fn create_pct(
    rt: &Runtime<'_>,
    lock: ContainerLock,
    bundle: &Path,
    plan: &Plan,
    // How the rootfs is packed, and what the plan is checked against.
    (pack, rootfs, image): (PackConfig, Option<&Rootfs>, Option<&crate::image::Opened>),
    stop_signal: Option<String>,
    (policy, host_rootfs): (&Policy, Option<&Path>),
) -> Result<(OciState, Option<PackReport>), RuntimeError> {
    let id = lock.id().clone();
    // The token comes from the kernel here, never from the plan: the translator is pure and
    // the plan is data.
    let identity = match Identity::new(id.clone()) {
        Ok(i) => i,
        Err(source) => {
            rt.store.remove(lock)?;
            return Err(RuntimeError::Store(StoreError::Io {
                op: "read random bytes from",
                path: "/dev/urandom".into(),
                source,
            }));
        }
    };
    let token = identity.token.clone();
    let mut journal = StoreJournal::new(&rt.store, &lock, bundle.to_owned())
        .with_identity(Some(identity.token.clone()), stop_signal)
        .with_ledger(rt.ledger());
    let cx = ApplyConfig {
        image,
        host: rt.host,
        paths: &rt.paths,
        bundle: Some(bundle.to_owned()),
        rootfs,
        template_unique: template_unique(&id),
        pack,
        dry_run: false,
        identity: Some(identity),
        policy,
        host_rootfs,
    };
    match apply(plan, &cx, &mut journal) {
        Ok(applied) => {
            journal.clear()?;
            Ok((finished(rt, &lock)?, applied.pack))
        }
        Err(error) => {
            if error.rolled_back() {
                journal.clear()?;
                drop(journal);
                rt.forget(lock, Some(&token))?;
            }
            Err(RuntimeError::Apply {
                error: Box::new(error),
                id,
            })
        }
    }
}

/// crun resolves `root.path` itself, by path (libcrun `resolve_rootfs_path`: `realpath`, then
/// `open`/`mount` of the result in the container's mount namespace; crun `container.c` @
/// ba38286f). So the config must name the rootfs by the absolute path that was just verified
/// to reach the checked directory without symlinks. What a writer of the bundle's *parent*
/// directories could still do between this check and crun's `realpath` is documented in
/// docs/security.md.
fn check_crun_root(config: &str, rootfs: &Rootfs) -> Result<(), RuntimeError> {
    let value: serde_json::Value = serde_json::from_str(config)
        .map_err(|e| RuntimeError::Usage(format!("the crun config is not JSON: {e}")))?;
    let named = value.pointer("/root/path").and_then(|p| p.as_str());
    let verified = rootfs.verified_path()?;
    if named != verified.to_str() {
        return Err(BundleError::Unverified {
            path: verified,
            why: format!("the crun config names root.path {named:?} instead"),
        }
        .into());
    }
    Ok(())
}

fn create_crun(
    rt: &Runtime<'_>,
    lock: ContainerLock,
    bundle: &Path,
    config: &str,
    options: &CreateOptions,
    rootfs: Option<&Rootfs>,
    stop_signal: Option<String>,
) -> Result<OciState, RuntimeError> {
    let id = lock.id().clone();
    if let Some(rootfs) = rootfs {
        check_crun_root(config, rootfs)?;
    }
    let mapping = Mapping {
        id: id.clone(),
        bundle: bundle.to_owned(),
        backend: Backend::Crun,
        created: SystemTime::now(),
        token: None,
        stop_signal,
    };
    rt.store.write_mapping(&lock, &mapping)?;
    let config_path = rt.store.path(&id, ContainerFile::CrunConfig);
    rt.store
        .write_bytes(&lock, ContainerFile::CrunConfig, config.as_bytes())?;
    if let Err(e) = rt.crun.create(rt.host, &id, bundle, &config_path, options) {
        // crun cleans up its own failed create; make sure, then forget the record.
        let _ = rt.crun.delete(rt.host, &id, true);
        rt.store.remove(lock)?;
        return Err(e.into());
    }
    rt.store.write_state(
        &lock,
        &OciState::new(id, Status::Created, bundle.to_owned()),
    )?;
    rt.store.finish_create(&lock)?;
    finished(rt, &lock)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bundle::Bundle;

    #[test]
    fn crun_is_handed_only_the_checked_root_path() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("rootfs")).unwrap();
        let b = Bundle::open(d.path()).unwrap();
        let rootfs = b.rootfs("rootfs", None).unwrap();
        let config = |p: &str| serde_json::json!({"root": {"path": p}}).to_string();
        let checked = rootfs.path().to_str().unwrap().to_owned();
        check_crun_root(&config(&checked), &rootfs).unwrap();
        // Relative (crun would resolve it against its cwd) or another directory: refused.
        for other in ["rootfs", "/srv/other", &format!("{checked}/..")] {
            assert!(check_crun_root(&config(other), &rootfs).is_err(), "{other}");
        }
        // The checked directory moved away and a symlink put in its place: the path no longer
        // reaches it.
        std::fs::rename(d.path().join("rootfs"), d.path().join("moved")).unwrap();
        std::os::unix::fs::symlink("moved", d.path().join("rootfs")).unwrap();
        let err = check_crun_root(&config(&checked), &rootfs).unwrap_err();
        assert!(err.to_string().contains("names root.path"), "{err}");
    }
}
