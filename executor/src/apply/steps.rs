//! One plan run: the effect of each kind of step, with its undo saved first.

use std::path::{Component, Path, PathBuf};

use translator::emit::plan::{Action, Arg, Plan, RootfsDir, Step, Undo};

use super::bind::Bindings;
use super::rollback::{Journal, UndoAction, UndoEntry};
use super::{check_format, step_label, Applied, ApplyConfig, ApplyError, StepError, Template};
use crate::bundle::{Bundle, Rootfs};
use crate::host::{FileMode, Host};
use crate::id::Vmid;
use crate::pve::{self, config::ensure_dir, config::read_text, CreateConfigError};
use crate::pve::{
    allocate_vmid, nextid_command, parse_nextid, AllocError, AllocPolicy, CreateFailure,
};

type Failed = (String, StepError);

pub(super) struct Run<'p, 'c, 'a, 'j> {
    plan: &'p Plan,
    cx: &'c ApplyConfig<'a>,
    host: &'a dyn Host,
    journal: &'j mut dyn Journal,
    b: Bindings,
    undos: Vec<UndoEntry>,
    applied: Applied,
}

/// Steps that create the container, and so decide whether an allocated id was free.
fn creates(action: &Action) -> bool {
    matches!(
        action,
        Action::PctCreate { .. } | Action::CreateConfig { .. }
    )
}

/// Letters, digits, `_`, `.`, `-`: safe inside a file name and a volume id.
fn plain(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
}

/// The same path, `.` and empty components aside (a `..` never compares equal).
fn same_path(a: &Path, b: &Path) -> bool {
    fn parts(p: &Path) -> Option<Vec<Component<'_>>> {
        p.components()
            .filter(|c| *c != Component::CurDir)
            .map(|c| (c != Component::ParentDir).then_some(c))
            .collect()
    }
    matches!((parts(a), parts(b)), (Some(x), Some(y)) if x == y)
}

fn plan_err(msg: impl Into<String>) -> StepError {
    StepError::Plan(msg.into())
}

impl<'p, 'c, 'a, 'j> Run<'p, 'c, 'a, 'j> {
    pub(super) fn new(
        plan: &'p Plan,
        cx: &'c ApplyConfig<'a>,
        journal: &'j mut dyn Journal,
    ) -> Self {
        Self {
            plan,
            cx,
            host: cx.host,
            journal,
            b: Bindings {
                bundle: cx.bundle.clone(),
                ..Bindings::default()
            },
            undos: Vec::new(),
            applied: Applied {
                node: plan.node.clone(),
                ..Applied::default()
            },
        }
    }

    pub(super) fn all(&mut self) -> Result<Applied, Failed> {
        let plan = self.plan;
        check_format(plan).map_err(|e| ("the plan".to_owned(), e))?;
        if !pve::paths::valid_node(&plan.node) {
            return Err((
                "the plan".into(),
                plan_err(format!("node {:?} is not a Proxmox node name", plan.node)),
            ));
        }
        if !plain(&self.cx.template_unique) || self.cx.template_unique.is_empty() {
            return Err((
                "the plan".into(),
                plan_err("the template's unique name part must be letters, digits, _ . -"),
            ));
        }
        let mut i = 0;
        while let Some(step) = plan.steps.get(i) {
            if let Action::AllocateVmid { attempts } = &step.action {
                if let Some(next) = plan.steps.get(i + 1).filter(|s| creates(&s.action)) {
                    self.allocate_and_create(i, step, next, *attempts)?;
                    i += 2;
                    continue;
                }
            }
            let label = step_label(i, &step.action);
            self.one(step, &label).map_err(|e| (label, e))?;
            i += 1;
        }
        self.applied.vmid = self.b.vmid;
        self.applied.template = self.b.template.clone();
        Ok(self.applied.clone())
    }

    pub(super) fn rollback(&mut self) -> Result<(), ApplyError> {
        super::rollback(self.host, self.cx.paths, self.journal, &mut self.undos)
    }

    /// Records the step's undo (if it has one) before the step acts.
    fn push_undo(&mut self, step: &Step, label: &str, created_file: bool) -> Result<(), StepError> {
        if let Some(action) = self.undo_of(step, created_file)? {
            self.undos.push(UndoEntry {
                step: label.to_owned(),
                action,
            });
            self.journal.save(&self.undos)?;
        }
        Ok(())
    }

    /// Drops undos recorded after `mark`: their step failed without leaving anything behind.
    fn drop_undos(&mut self, mark: usize) -> Result<(), StepError> {
        if self.undos.len() > mark {
            self.undos.truncate(mark);
            self.journal.save(&self.undos)?;
        }
        Ok(())
    }

    /// The undo of `step`, derived from its kind ([`Action::undo`]) and what it did, with every
    /// value bound; one arm per kind. The plan's own `undo` field is never read here: the
    /// validation refused the plan before the first step if it said anything else.
    fn undo_of(&self, step: &Step, created_file: bool) -> Result<Option<UndoAction>, StepError> {
        Ok(match step.action.undo() {
            Undo::Nothing(_) => None,
            // The executor wrote the template to `pvesm path <volid>` itself (there is no upload
            // API a `pct`-driving executor can use), so freeing the volume is removing that file.
            Undo::FreeTemplate => {
                let t = self.b.template()?;
                Some(UndoAction::RemoveTemplate {
                    volid: t.volid.clone(),
                    path: t.path.clone(),
                })
            }
            Undo::DestroyCt => Some(UndoAction::DestroyCt {
                vmid: self.b.vmid()?,
            }),
            Undo::RemoveFileIfCreated(path) => {
                created_file.then(|| UndoAction::RemoveFile { path: path.into() })
            }
            Undo::RemoveConfig => Some(UndoAction::RemoveConfig {
                node: self.plan.node.clone(),
                vmid: self.b.vmid()?,
            }),
            Undo::ReleaseVmid => Some(UndoAction::ReleaseVmid {
                vmid: self.b.vmid()?,
            }),
            Undo::ForgetState => Some(UndoAction::ForgetState),
        })
    }

    fn one(&mut self, step: &Step, label: &str) -> Result<(), StepError> {
        match &step.action {
            Action::PackRootfs { .. } => self.pack(step, label),
            Action::AllocateVmid { .. } => {
                let cmd = nextid_command();
                let out = self.host.run(&cmd)?.check(&cmd)?;
                let vmid = parse_nextid(&out.stdout).ok_or_else(|| {
                    StepError::Alloc(Box::new(AllocError::NextIdOutput {
                        stdout: out.stdout_lossy(),
                    }))
                })?;
                self.b.vmid = Some(vmid);
                self.journal.vmid_chosen(vmid, &self.plan.node)?;
                self.push_undo(step, label, false)
            }
            Action::PctCreate { .. } | Action::CreateConfig { .. } => {
                let vmid = self.b.vmid()?;
                let mark = self.undos.len();
                self.push_undo(step, label, false)?;
                match self.create(step, vmid) {
                    Ok(()) => Ok(()),
                    Err(CreateFailure::Other(e)) => {
                        self.drop_undos(mark)?;
                        Err(e)
                    }
                    Err(CreateFailure::Command(out)) => {
                        self.drop_undos(mark)?;
                        Err(StepError::Alloc(Box::new(AllocError::CreateFailed {
                            vmid,
                            exit: out.exit,
                            stderr: out.stderr_lossy().trim_end().to_owned(),
                        })))
                    }
                }
            }
            Action::WriteConfigLines { lines } => {
                self.push_undo(step, label, false)?;
                let vmid = self.b.vmid()?;
                pve::append_lines(
                    self.host,
                    self.cx.paths,
                    &self.plan.node,
                    vmid,
                    lines,
                    self.cx.dry_run,
                )?;
                Ok(())
            }
            Action::WriteFile {
                path,
                mode,
                content,
            } => {
                let p = absolute(path)?;
                let created = read_text(self.host, &p)?.is_none();
                self.push_undo(step, label, created)?;
                if let Some(dir) = p.parent() {
                    ensure_dir(self.host, dir)?;
                }
                self.host
                    .write_file(&p, content.as_bytes(), FileMode::Exact(mode.0))?;
                Ok(())
            }
            Action::RemoveTemplate => {
                self.push_undo(step, label, false)?;
                let path = self.b.template()?.path.clone();
                self.host.remove_file(&path)?;
                Ok(())
            }
            Action::RecordState { node } => {
                if node != &self.plan.node {
                    return Err(plan_err(format!(
                        "record-state names node {node:?}, the plan node {:?}",
                        self.plan.node
                    )));
                }
                let vmid = self.b.vmid()?;
                self.push_undo(step, label, false)?;
                self.journal.record(vmid, node)?;
                Ok(())
            }
        }
    }

    fn pack(&mut self, step: &Step, label: &str) -> Result<(), StepError> {
        let Action::PackRootfs {
            rootfs,
            storage,
            name_prefix,
        } = &step.action
        else {
            return Err(plan_err("internal: not a pack-rootfs step"));
        };
        let storage_ok = storage
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic())
            && plain(storage);
        if !storage_ok || !plain(name_prefix) {
            return Err(plan_err(format!(
                "storage {storage:?} or template prefix {name_prefix:?} is not a plain name"
            )));
        }
        // The image to pack, opened and verified by the caller (`create --image`, `apply
        // --image`) before the template is named: what is packed is that image.
        let image = match (rootfs, self.cx.image) {
            (RootfsDir::Image(named), Some(checked)) => {
                if named != &checked.source {
                    return Err(plan_err(format!(
                        "the plan packs the image {:?}, but the image opened for it is {:?}",
                        named.reference, checked.source.reference
                    )));
                }
                Some(checked)
            }
            // The checks already refused this (validate.rs, `Checks::image`); here as well,
            // where the file would be read: a plan alone never names what root packs.
            (RootfsDir::Image(named), None) => {
                return Err(plan_err(format!(
                    "the plan packs the image {:?}, but no image was opened for this run (apply --image)",
                    named.reference
                )))
            }
            (_, Some(_)) => {
                return Err(plan_err(
                    "an image was opened for this create, but the plan packs a directory",
                ))
            }
            (_, None) => None,
        };
        if let Some(image) = image {
            let path = self.template_path(storage, name_prefix)?;
            self.push_undo(step, label, false)?;
            if let Some(parent) = path.parent() {
                ensure_dir(self.host, parent)?;
            }
            self.applied.pack = Some(self.host.pack_image(image, &path, &self.cx.pack)?);
            return Ok(());
        }
        // The directory to pack, opened (or, from `create`, already opened) and checked before
        // anything else happens: what is packed is that descriptor.
        let named = self.b.rootfs(rootfs)?;
        let opened;
        let dir = match self.cx.rootfs {
            Some(checked) => {
                if !same_path(&named, checked.path()) {
                    return Err(plan_err(format!(
                        "the plan packs {}, but the rootfs checked for it is {}",
                        named.display(),
                        checked.path().display()
                    )));
                }
                checked
            }
            None => {
                opened = match rootfs {
                    RootfsDir::Bundle(rel) => Bundle::open(self.b.bundle()?)?.rootfs(rel, None)?,
                    RootfsDir::Path(_) => Rootfs::open_path(&named)?,
                    RootfsDir::Image(_) => {
                        return Err(plan_err("internal: an image is no directory"))
                    }
                };
                &opened
            }
        };
        let path = self.template_path(storage, name_prefix)?;
        self.push_undo(step, label, false)?;
        if let Some(parent) = path.parent() {
            ensure_dir(self.host, parent)?;
        }
        self.applied.pack = Some(self.host.pack_rootfs(dir, &path, &self.cx.pack)?);
        Ok(())
    }

    /// Names the template (`<storage>:vztmpl/<prefix><unique>.tar.zst`), asks the node where
    /// that volume is (`pvesm path`) and binds `$template`.
    fn template_path(&mut self, storage: &str, name_prefix: &str) -> Result<PathBuf, StepError> {
        let name = format!("{name_prefix}{}.tar.zst", self.cx.template_unique);
        let volid = format!("{storage}:vztmpl/{name}");
        let cmd = crate::host::Command::new("pvesm")
            .args(["path", &volid])
            .read_only();
        let out = self.host.run(&cmd)?.check(&cmd)?;
        let printed = out.stdout_lossy().trim().to_owned();
        let path = PathBuf::from(&printed);
        if !path.is_absolute() || path.file_name() != Some(name.as_ref()) {
            return Err(plan_err(format!(
                "`pvesm path {volid}` printed {printed:?}, not a path to {name}"
            )));
        }
        self.b.template = Some(Template {
            volid,
            path: path.clone(),
        });
        Ok(path)
    }

    /// `pct create` or `create-config` with `vmid`; a failed command comes back as output so
    /// that the allocator can tell a taken id from other failures.
    fn create(&mut self, step: &Step, vmid: Vmid) -> Result<(), CreateFailure<StepError>> {
        match &step.action {
            Action::PctCreate { argv } => {
                let is_create = matches!(argv.as_slice(), [Arg::Lit(p), Arg::Lit(c), ..] if p == "pct" && c == "create");
                if !is_create {
                    return Err(CreateFailure::Other(plan_err(
                        "a pct-create step must run `pct create`",
                    )));
                }
                let mut cmd = self
                    .b
                    .command(argv)
                    .map_err(|e| CreateFailure::Other(e.into()))?;
                if let Some(identity) = &self.cx.identity {
                    cmd = identity.stamp_command(cmd);
                }
                let out = self
                    .host
                    .run(&cmd)
                    .map_err(|e| CreateFailure::Other(e.into()))?;
                if out.success() {
                    Ok(())
                } else {
                    Err(CreateFailure::Command(out))
                }
            }
            Action::CreateConfig { text } => {
                let text = match &self.cx.identity {
                    Some(identity) => identity.stamp_config_text(text),
                    None => text.clone(),
                };
                match pve::create_config(self.host, self.cx.paths, &self.plan.node, vmid, &text) {
                    Ok(()) => Ok(()),
                    Err(CreateConfigError::Taken(out)) => Err(CreateFailure::Command(out)),
                    Err(CreateConfigError::Other(e)) => Err(CreateFailure::Other(e.into())),
                }
            }
            _ => Err(CreateFailure::Other(plan_err(
                "internal: not a create step",
            ))),
        }
    }

    /// `allocate-vmid` fused with the step after it that creates the container: a new id each
    /// time that step finds the id taken, at most `attempts` times.
    fn allocate_and_create(
        &mut self,
        i: usize,
        alloc: &Step,
        create: &Step,
        attempts: u32,
    ) -> Result<(), Failed> {
        let alloc_label = step_label(i, &alloc.action);
        let create_label = step_label(i + 1, &create.action);
        let _guard = self
            .journal
            .allocation_lock()
            .map_err(|e| (alloc_label.clone(), StepError::from(e)))?;
        let host = self.host;
        let node = self.plan.node.clone();
        let policy = AllocPolicy {
            max_attempts: attempts.max(1),
        };
        let result = allocate_vmid(host, policy, |vmid| {
            let other = |e: StepError| CreateFailure::Other(e);
            self.b.vmid = Some(vmid);
            self.journal
                .vmid_chosen(vmid, &node)
                .map_err(|e| other(e.into()))?;
            let mark = self.undos.len();
            self.push_undo(alloc, &alloc_label, false).map_err(other)?;
            self.push_undo(create, &create_label, false)
                .map_err(other)?;
            let result = self.create(create, vmid);
            if result.is_err() {
                // A failed create leaves nothing (Proxmox removes its own half-made config), and
                // a taken id is someone else's container: never undo it.
                self.b.vmid = None;
                self.drop_undos(mark).map_err(other)?;
            }
            result
        });
        match result {
            Ok((vmid, ())) => {
                self.b.vmid = Some(vmid);
                Ok(())
            }
            Err(AllocError::Other(e)) => Err((create_label, e)),
            Err(e @ AllocError::CreateFailed { .. }) => {
                Err((create_label, StepError::Alloc(Box::new(e))))
            }
            Err(e) => Err((alloc_label, StepError::Alloc(Box::new(e)))),
        }
    }
}

/// A path the plan writes: absolute, without `..`.
fn absolute(path: &str) -> Result<PathBuf, StepError> {
    let p = Path::new(path);
    if p.is_absolute() && !p.components().any(|c| c == Component::ParentDir) && !path.contains('\0')
    {
        Ok(p.to_owned())
    } else {
        Err(plan_err(format!(
            "write-file path {path:?} must be absolute and without `..`"
        )))
    }
}
