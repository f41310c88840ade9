//! Applying a plan: each step's effect on the host, each step's undo recorded before it acts,
//! and on failure every completed step undone in reverse.
//!
//! ```text
//! pack-rootfs ─▶ allocate-vmid ─▶ pct-create ─▶ write-config-lines ─▶ remove-template ─▶ record-state
//!   $template      $vmid ◀── retry with a new id while pct says "already exists" ──┘
//! ```
//!
//! `allocate-vmid` and the step that creates the container (`pct-create` or `create-config`) run
//! together, under the node's allocation lock: `pvesh get /cluster/nextid` reserves nothing,
//! so the id is only ours once the container exists.

pub mod bind;
pub mod needs;
pub mod rollback;
mod steps;
pub mod validate;

use std::fmt;
use std::path::{Path, PathBuf};

use translator::emit::plan::{Action, Plan, FORMAT};
use translator::policy::Policy;

pub use bind::{BindError, Bindings, Template};
pub use rollback::{rollback, undo, Journal, MemoryJournal, UndoAction, UndoEntry};

use crate::bundle::{BundleError, Rootfs};
use crate::host::{Host, HostError};
use crate::id::Vmid;
use crate::pack::{PackConfig, PackReport};
use crate::pve::{AllocError, ConfigError, PctError, PvePaths};
use crate::state::StoreError;

/// How to apply.
pub struct ApplyConfig<'a> {
    pub host: &'a dyn Host,
    pub paths: &'a PvePaths,
    /// Binds `$bundle`.
    pub bundle: Option<PathBuf>,
    /// The rootfs the caller has already opened and checked (`create`): the pack step packs
    /// this descriptor, and refuses a plan that names another directory. Without it the pack
    /// step opens the plan's directory itself through [`crate::bundle`].
    pub rootfs: Option<&'a Rootfs>,
    /// The image the caller has already opened and verified (`create --image`): the pack
    /// step packs it, and refuses a plan that names another. Without it the pack step opens
    /// the plan's image itself, through the same checks.
    pub image: Option<&'a crate::image::Opened>,
    /// The unique part of the template's file name (`<prefix><unique>.tar.zst`); letters,
    /// digits, `_`, `.` and `-` only.
    pub template_unique: String,
    pub pack: PackConfig,
    /// A dry run: the host only prints, so a config `pct create` would have made is missing.
    pub dry_run: bool,
    /// The node policy the plan is checked against before its first step.
    pub policy: &'a Policy,
    /// A host directory the operator allowed as root file system outside the bundle.
    pub host_rootfs: Option<&'a Path>,
    /// The identity `pct create --description` / the `create-config` text is stamped with
    /// ([`crate::pve::identity`]); `None` stamps nothing (dry runs, tests).
    pub identity: Option<crate::pve::identity::Identity>,
}

impl ApplyConfig<'_> {
    /// What [`validate::check`] needs: the trusted facts of this run.
    pub fn checks(&self) -> validate::Checks<'_> {
        validate::Checks {
            bundle: self.bundle.as_deref(),
            host_rootfs: self.host_rootfs,
            image: self.image.map(|i| &i.source),
            policy: self.policy,
        }
    }
}

/// What applying did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    pub vmid: Option<Vmid>,
    pub node: String,
    pub template: Option<Template>,
    pub pack: Option<PackReport>,
}

/// Why one step failed.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    #[error(transparent)]
    Host(#[from] HostError),
    #[error(transparent)]
    Bind(#[from] BindError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Pct(#[from] PctError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Bundle(#[from] BundleError),
    #[error(transparent)]
    Image(#[from] crate::image::ImageError),
    #[error(transparent)]
    Alloc(Box<AllocError<StepError>>),
    #[error("plan format {found} is not supported; this executor applies format {supported}")]
    Format { found: u32, supported: u32 },
    #[error("invalid plan: {0}")]
    Plan(String),
    #[error(transparent)]
    Invalid(#[from] validate::Invalid),
}

/// A failed step, and what went wrong undoing the steps before it (youki's
/// `CreateContainerError` shape).
#[derive(Debug)]
pub struct ApplyError {
    /// `step 3 (pct-create)`, or `undo of step 1 (pack-rootfs) (...)` inside a rollback chain.
    pub step: String,
    pub cause: StepError,
    /// The first undo that failed, chaining to the next one.
    pub rollback: Option<Box<ApplyError>>,
}

impl fmt::Display for ApplyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed: {}", self.step, self.cause)?;
        if let Some(rb) = &self.rollback {
            write!(f, "; then {rb}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApplyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.cause)
    }
}

impl ApplyError {
    /// True when everything done before the failure was undone.
    pub fn rolled_back(&self) -> bool {
        self.rollback.is_none()
    }
}

/// The label of step `index` (0-based) in messages: `step 3 (pct-create)`.
pub fn step_label(index: usize, action: &Action) -> String {
    format!("step {} ({})", index + 1, action.op())
}

/// Applies `plan`. The whole plan is checked first ([`validate::check`]): a plan with any
/// problem is refused before the first host call. On failure, completed steps are undone newest
/// first; the error names the failed step, its cause (with the host's stderr) and any undo
/// that failed too. Undos that failed stay in the journal.
pub fn apply(
    plan: &Plan,
    cx: &ApplyConfig<'_>,
    journal: &mut dyn Journal,
) -> Result<Applied, ApplyError> {
    if let Err(invalid) = validate::check(plan, &cx.checks()) {
        return Err(ApplyError {
            step: "the plan".into(),
            cause: invalid.into(),
            rollback: None,
        });
    }
    // What the translator could not see: each bind mount point's source is a directory on
    // this node (Proxmox would create the container and then refuse to start it).
    if let Err(invalid) = needs::check_directories(plan) {
        return Err(ApplyError {
            step: "the plan".into(),
            cause: invalid.into(),
            rollback: None,
        });
    }
    let mut run = steps::Run::new(plan, cx, journal);
    match run.all() {
        Ok(applied) => Ok(applied),
        Err((step, cause)) => {
            let rollback = run.rollback().err().map(Box::new);
            Err(ApplyError {
                step,
                cause,
                rollback,
            })
        }
    }
}

fn check_format(plan: &Plan) -> Result<(), StepError> {
    if plan.format == FORMAT {
        Ok(())
    } else {
        Err(StepError::Format {
            found: plan.format,
            supported: FORMAT,
        })
    }
}

#[cfg(test)]
mod tests;
