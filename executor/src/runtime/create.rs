//! `create <id> --bundle <dir>`: makes the container and leaves it `created` (nothing runs).
//!
//! Proxmox: the translator's plan is applied with the container's store directory as its
//! journal; a failure undoes every step and removes the record, so nothing is left and the
//! same id can be created again. A record that an earlier, killed create left behind is
//! cleaned up first. crun: the translated config goes into the store directory and
//! `crun create` runs with the engine's stdio.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use translator::emit::plan::{Action, Plan};
use translator::policy::Policy;

use crate::apply::{apply, ApplyConfig};
use crate::crun::CreateOptions;
use crate::host::{write_atomic, FileMode};
use crate::id::ContainerId;
use crate::pack::PackConfig;
use crate::state::{Backend, ContainerLock, Mapping, OciState, Record, Status, StoreError};

use super::journal::StoreJournal;
use super::{recover, Runtime, RuntimeError};

/// What to create the container from.
#[derive(Debug, Clone)]
pub enum CreateBackend {
    /// Apply this plan (from `convert --to plan` of the bundle's config), checked against the
    /// node policy first.
    Pct {
        plan: Plan,
        pack: PackConfig,
        policy: Policy,
    },
    /// Run crun with this config (from `convert --to crun`).
    Crun {
        config: String,
        options: CreateOptions,
    },
}

#[derive(Debug, Clone)]
pub struct CreateRequest {
    pub id: ContainerId,
    /// Absolute path of the bundle.
    pub bundle: PathBuf,
    pub backend: CreateBackend,
}

/// File name of the crun config in the container's store directory.
pub const CRUN_CONFIG: &str = "crun.json";

pub fn create(rt: &Runtime<'_>, req: CreateRequest) -> Result<OciState, RuntimeError> {
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
        Err(StoreError::NotFound { .. }) => {}
        Ok(Record::Complete { .. }) => return Err(RuntimeError::Exists { id: req.id }),
        Ok(Record::Partial(p)) => {
            recover::clean(rt, &lock, &p)?;
            rt.store.remove(lock)?;
            lock = rt.lock(&req.id)?;
        }
        Err(e) => return Err(e.into()),
    }
    rt.store.begin_create(&lock, &req.bundle)?;
    match req.backend {
        CreateBackend::Pct { plan, pack, policy } => {
            create_pct(rt, lock, &req.bundle, &plan, pack, &policy)
        }
        CreateBackend::Crun { config, options } => {
            create_crun(rt, lock, &req.bundle, &config, &options)
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
    pack: PackConfig,
    policy: &Policy,
) -> Result<OciState, RuntimeError> {
    let id = lock.id().clone();
    let mut journal = StoreJournal::new(&rt.store, &lock, bundle.to_owned());
    let cx = ApplyConfig {
        host: rt.host,
        paths: &rt.paths,
        bundle: Some(bundle.to_owned()),
        template_unique: template_unique(&id),
        pack,
        dry_run: false,
        policy,
        host_rootfs: None,
    };
    match apply(plan, &cx, &mut journal) {
        Ok(_) => {
            journal.clear()?;
            finished(rt, &lock)
        }
        Err(error) => {
            if error.rolled_back() {
                journal.clear()?;
                rt.store.remove(lock)?;
            }
            Err(RuntimeError::Apply {
                error: Box::new(error),
                id,
            })
        }
    }
}

fn create_crun(
    rt: &Runtime<'_>,
    lock: ContainerLock,
    bundle: &Path,
    config: &str,
    options: &CreateOptions,
) -> Result<OciState, RuntimeError> {
    let id = lock.id().clone();
    let mapping = Mapping {
        id: id.clone(),
        bundle: bundle.to_owned(),
        backend: Backend::Crun,
        created: SystemTime::now(),
    };
    rt.store.write_mapping(&lock, &mapping)?;
    let config_path = rt.store.root().join(id.as_str()).join(CRUN_CONFIG);
    write_atomic(&config_path, config.as_bytes(), FileMode::Exact(0o600))
        .map_err(StoreError::from)?;
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
