//! `apply <plan.json> [--dry-run]`: a plan from `convert --to plan`, applied on this node.
//!
//! For real, the container is recorded in the state store under `--id` (or a generated id),
//! exactly as `create` records it; a failure undoes every step. With `--dry-run` every host
//! call is printed instead (read-only queries such as `pvesh get /cluster/nextid` run, so the
//! printed VMID and paths are real) and nothing changes, the state store included.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use executor::apply::{apply, ApplyConfig, MemoryJournal};
use executor::host::{DryRunHost, RealHost};
use executor::id::ContainerId;
use executor::pack::{PackConfig, Progress};
use executor::runtime::{self as rt, CreateBackend, Runtime};
use executor::state::{Backend, Record, StateStore};
use translator::emit::plan::Plan;

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
}

fn read_plan(path: &PathBuf) -> Result<Plan, Failure> {
    let text = std::fs::read_to_string(path).map_err(|e| Failure::usage(format!("{}: {e}", path.display())))?;
    serde_json::from_str(&text).map_err(|e| Failure::usage(format!("{}: not a plan: {e}", path.display())))
}

fn unique() -> String {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("{nanos:x}")
}

pub fn run(global: &Global, args: &Args) -> Result<(), Failure> {
    let plan = read_plan(&args.plan)?;
    let bundle = absolute(&args.bundle)?;
    let id = match &args.id {
        Some(id) => ContainerId::new(id.clone()).map_err(|e| Failure::usage(e.to_string()))?,
        None => ContainerId::new(format!("plan-{}", unique())).map_err(|e| Failure::usage(e.to_string()))?,
    };
    let pack = PackConfig { progress: Progress::Never, ..PackConfig::default() };
    if args.dry_run {
        return dry_run(global, &plan, bundle, &id, pack);
    }
    let host = global.host();
    let store = StateStore::open(&global.root).map_err(|e| Failure::refused(e.to_string()))?;
    let runtime = Runtime::new(&host, store, global.paths());
    rt::create(&runtime, rt::CreateRequest { id: id.clone(), bundle, backend: CreateBackend::Pct { plan, pack, rootfs: None }, stop_signal: None })?;
    let (vmid, node) = match runtime.store.read(&id) {
        Ok(Record::Complete { mapping, .. }) => match mapping.backend {
            Backend::Pct { vmid, node } => (Some(vmid.get()), Some(node)),
            Backend::Crun => (None, None),
        },
        _ => (None, None),
    };
    println!("{}", serde_json::json!({ "id": id.as_str(), "vmid": vmid, "node": node }));
    Ok(())
}

fn dry_run(global: &Global, plan: &Plan, bundle: PathBuf, id: &ContainerId, pack: PackConfig) -> Result<(), Failure> {
    let host = DryRunHost::new(std::io::stdout()).with_queries(RealHost::new());
    let paths = global.paths();
    let cx = ApplyConfig {
        host: &host,
        paths: &paths,
        bundle: Some(bundle),
        rootfs: None,
        template_unique: format!("{id}-{}", unique()),
        pack,
        dry_run: true,
        identity: None,
    };
    let mut journal = MemoryJournal::default();
    let applied = apply(plan, &cx, &mut journal).map_err(|e| Failure::refused(e.to_string()))?;
    if let Some((vmid, node)) = &journal.recorded {
        println!("record-state: container {id} as CT {vmid} on node {node} in {} (not written: dry run)", global.root.display());
    }
    if applied.vmid.is_none() {
        println!("(no VMID was allocated)");
    }
    Ok(())
}
