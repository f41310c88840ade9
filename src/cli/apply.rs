//! `apply <plan.json> [--dry-run]`: a plan from `convert --to plan`, applied on this node.
//!
//! For real, the container is recorded in the state store under `--id` (or a generated id),
//! exactly as `create` records it; a failure undoes every step. With `--dry-run` every host
//! call is printed instead (read-only queries such as `pvesh get /cluster/nextid` run, so the
//! printed VMID and paths are real) and nothing changes, the state store included.
//!
//! A plan is untrusted data (it may have been carried from another machine or edited by hand):
//! it is read with a size limit, then checked whole ([`executor::apply::validate`]: its JSON
//! Schema, its step sequence, every `pct create` argument against Proxmox's API schema, every
//! config line against the raw-key allow-list, and all of it against the node policy) before
//! the first host call. `--dry-run` runs exactly the same checks: a plan a dry run accepts is a
//! plan `apply` accepts.

use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use executor::apply::validate::{self, Checks, MAX_PLAN_BYTES};
use executor::apply::{apply, ApplyConfig, MemoryJournal};
use executor::host::{DryRunHost, RealHost};
use executor::id::ContainerId;
use executor::image::Opened;
use executor::pack::PackConfig;
use executor::runtime::{self as rt, CreateBackend, Runtime};
use executor::state::{Backend, Record, StateStore};
use translator::emit::plan::{ImageSource, Plan};
use translator::policy::Policy;

use super::runtime::absolute;
use super::{Failure, Global};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The plan (JSON, from `convert --to plan`)
    pub plan: PathBuf,
    /// Print every host call instead of making it; change nothing
    #[arg(long = "dry-run")]
    pub dry_run: bool,
    /// Binds $bundle: the bundle the plan's relative rootfs is in
    #[arg(short = 'b', long, value_name = "DIR", default_value = ".")]
    pub bundle: PathBuf,
    /// The container id to record it under (default: plan-<time>)
    #[arg(long, value_name = "ID")]
    pub id: Option<String>,
    /// Allow this host directory (exactly) as the plan's `path` root file system outside the
    /// bundle; without it a plan packs only from the bundle
    #[arg(long = "host-rootfs", value_name = "DIR")]
    pub host_rootfs: Option<PathBuf>,
    /// Allow this image (exactly: the transport, the path, the tag) as the plan's `image` root
    /// file system; without it a plan packs no image. It is opened and every digest checked
    #[arg(long, value_name = "REF")]
    pub image: Option<String>,
    /// With --image: the platform the plan names (`os/arch[/variant]`)
    #[arg(long, value_name = "PLATFORM", requires = "image")]
    pub platform: Option<String>,
}

/// The plan's bytes: a regular file (a FIFO or a device would block or never end), at most
/// [`MAX_PLAN_BYTES`]. Unreadable is a usage error (exit 2); what is read is then checked.
fn read_plan(path: &Path) -> Result<Vec<u8>, Failure> {
    let unreadable = |e: std::io::Error| Failure::usage(format!("{}: {e}", path.display()));
    // O_NONBLOCK: opening a FIFO does not wait for a writer; the type is checked on the
    // descriptor that is read, not on the path.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(unreadable)?;
    let meta = file.metadata().map_err(unreadable)?;
    if !meta.is_file() {
        return Err(Failure::usage(format!(
            "{}: not a regular file",
            path.display()
        )));
    }
    let mut bytes = Vec::new();
    file.take(MAX_PLAN_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    if bytes.len() as u64 > MAX_PLAN_BYTES {
        return Err(Failure::usage(format!(
            "{}: larger than {MAX_PLAN_BYTES} bytes; not a plan",
            path.display()
        )));
    }
    Ok(bytes)
}

/// Reads, parses and checks the plan against the node policy, exactly as `apply` will again
/// before its first step: every problem, with its step and JSON pointer, refuses (exit 1).
fn checked_plan(
    args: &Args,
    bundle: &Path,
    image: Option<&ImageSource>,
    policy: &Policy,
) -> Result<Plan, Failure> {
    let bytes = read_plan(&args.plan)?;
    let name = args.plan.display();
    let host_rootfs = args.host_rootfs.as_deref().map(absolute).transpose()?;
    let checks = Checks {
        bundle: Some(bundle),
        host_rootfs: host_rootfs.as_deref(),
        image,
        policy,
    };
    let plan = validate::parse_and_check(&bytes, &checks)
        .map_err(|e| Failure::refused(format!("{name}: {e}")))?;
    // And what only this node can answer, before anything (a lock, a record) is made.
    executor::apply::needs::check_directories(&plan)
        .map_err(|e| Failure::refused(format!("{name}: {e}")))?;
    Ok(plan)
}

fn unique() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{nanos:x}")
}

fn pack() -> PackConfig {
    PackConfig {
        progress: super::progress(),
        ..PackConfig::default()
    }
}

pub fn run(global: &Global, args: &Args) -> Result<(), Failure> {
    let bundle = absolute(&args.bundle)?;
    let node_policy = super::policy::load(global)?;
    // The operator's image, as the plan must name it; opened (every blob read and its digest
    // checked) only once the plan is accepted.
    let source = args
        .image
        .as_deref()
        .map(|r| super::image::source(r, args.platform.as_deref()))
        .transpose()?;
    let plan = checked_plan(args, &bundle, source.as_ref(), &node_policy.policy)?;
    let image = source
        .map(|s| Opened::open(&s).map_err(|e| Failure::usage(e.to_string())))
        .transpose()?;
    let host_rootfs = args.host_rootfs.as_deref().map(absolute).transpose()?;
    let id = match &args.id {
        Some(id) => ContainerId::new(id.clone()).map_err(|e| Failure::usage(e.to_string()))?,
        None => ContainerId::new(format!("plan-{}", unique()))
            .map_err(|e| Failure::usage(e.to_string()))?,
    };
    if args.dry_run {
        return dry_run(
            global,
            &plan,
            bundle,
            &id,
            &node_policy.policy,
            host_rootfs.as_deref(),
            image.as_ref(),
        );
    }
    let host = global.host();
    let store = StateStore::open(&global.root).map_err(|e| Failure::refused(e.to_string()))?;
    let runtime = Runtime::new(&host, store, global.paths());
    rt::create(
        &runtime,
        rt::CreateRequest {
            id: id.clone(),
            bundle,
            backend: CreateBackend::Pct {
                image: image.map(Arc::new),
                plan,
                pack: pack(),
                rootfs: None,
                policy: node_policy.policy,
                host_rootfs,
                engine: None,
            },
            stop_signal: None,
        },
    )?;
    let (vmid, node) = match runtime.store.read(&id) {
        Ok(Record::Complete { mapping, .. }) => match mapping.backend {
            Backend::Pct { vmid, node } => (Some(vmid.get()), Some(node)),
            Backend::Crun => (None, None),
        },
        _ => (None, None),
    };
    println!(
        "{}",
        serde_json::json!({ "id": id.as_str(), "vmid": vmid, "node": node })
    );
    Ok(())
}

fn dry_run(
    global: &Global,
    plan: &Plan,
    bundle: PathBuf,
    id: &ContainerId,
    policy: &Policy,
    host_rootfs: Option<&Path>,
    image: Option<&Opened>,
) -> Result<(), Failure> {
    let host = DryRunHost::new(std::io::stdout()).with_queries(RealHost::new());
    let paths = global.paths();
    let cx = ApplyConfig {
        image,
        host: &host,
        paths: &paths,
        bundle: Some(bundle),
        rootfs: None,
        template_unique: format!("{id}-{}", unique()),
        pack: pack(),
        dry_run: true,
        identity: None,
        policy,
        host_rootfs,
    };
    let mut journal = MemoryJournal::default();
    let applied = apply(plan, &cx, &mut journal).map_err(|e| Failure::refused(e.to_string()))?;
    if let Some((vmid, node)) = &journal.recorded {
        println!(
            "record-state: container {id} as CT {vmid} on node {node} in {} (not written: dry run)",
            global.root.display()
        );
    }
    if applied.vmid.is_none() {
        println!("(no VMID was allocated)");
    }
    Ok(())
}
