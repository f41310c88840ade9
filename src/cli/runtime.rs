//! The OCI runtime verbs (`create`, `start`, `state`, `kill`, `stop`, `delete`, `run`, `list`,
//! `spec`) and `apply`, with runc's global flags (`--root`, `--log`, `--log-format`) so that
//! container engines can call proxmox-lxcri where they call runc.
//!
//! Errors go to stderr as `proxmox-lxcri: error: ...` and, with `--log`, to the log file in the
//! engine's format. Exit codes: 0 done, 1 refused or failed, 2 usage.

use std::path::{Path, PathBuf};
use std::time::Duration;

use executor::crun::CreateOptions;
use executor::id::ContainerId;
use executor::runtime::{self as rt, Runtime, Signal};
use executor::state::StateStore;

use super::{apply, bundle, Failure, Global, EXIT_OK};

#[derive(clap::Args, Debug)]
pub struct IdArgs {
    /// The container id
    pub id: String,
}

#[derive(clap::Args, Debug)]
pub struct CreateArgs {
    /// The container id
    pub id: String,
    /// The bundle directory (config.json and rootfs/)
    #[arg(short = 'b', long, value_name = "DIR", default_value = ".")]
    pub bundle: PathBuf,
    /// A JSON file with the node's facts (storage, bridge, PVE version; see the README) [env: PROXMOX_LXCRI_TARGET]
    #[arg(long, value_name = "FILE")]
    pub target: Option<PathBuf>,
    /// The Proxmox VE release of the node (8.x, 9.0, 9.1, 9.2); overrides the target's
    #[arg(long = "pve-version", value_name = "X.Y")]
    pub pve_version: Option<String>,
    /// Allow the config's absolute root.path, which must be exactly this host directory (never / or a system directory)
    #[arg(long = "rootfs-outside-bundle", value_name = "DIR")]
    pub rootfs_outside_bundle: Option<PathBuf>,
    /// Write the container's pid here (crun only: pct create starts no process)
    #[arg(long = "pid-file", value_name = "FILE")]
    pub pid_file: Option<PathBuf>,
    /// Socket that receives the terminal's master end (crun only)
    #[arg(long = "console-socket", value_name = "SOCKET")]
    pub console_socket: Option<PathBuf>,
    /// Passed to crun
    #[arg(long = "no-pivot")]
    pub no_pivot: bool,
    /// Passed to crun
    #[arg(long = "no-new-keyring")]
    pub no_new_keyring: bool,
}

#[derive(clap::Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    pub create: CreateArgs,
    /// Accepted for compatibility: run always returns once the container is started
    #[arg(short = 'd', long)]
    pub detach: bool,
}

#[derive(clap::Args, Debug)]
pub struct StopArgs {
    pub id: String,
    /// Seconds to wait for a graceful stop before the container is killed
    #[arg(long, short = 't', default_value_t = 10)]
    pub timeout: u64,
}

#[derive(clap::Args, Debug)]
pub struct KillArgs {
    pub id: String,
    /// Signal name or number (TERM, SIGKILL, 9)
    #[arg(default_value = "TERM")]
    pub signal: String,
}

#[derive(clap::Args, Debug)]
pub struct DeleteArgs {
    pub id: String,
    /// Delete even a running container: shut it down first (then kill it after --timeout)
    #[arg(short = 'f', long)]
    pub force: bool,
    /// Seconds a forced delete waits for a graceful shutdown
    #[arg(long, short = 't', default_value_t = 10)]
    pub timeout: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ListFormat {
    #[default]
    Table,
    Json,
}

#[derive(clap::Args, Debug)]
pub struct ListArgs {
    #[arg(long, short = 'f', value_enum, default_value_t)]
    pub format: ListFormat,
    /// Print only the container ids
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

#[derive(clap::Args, Debug)]
pub struct SpecArgs {
    /// A config for a rootless container: the caller's uid and gid become root
    #[arg(long)]
    pub rootless: bool,
    /// Where to write config.json
    #[arg(short = 'b', long, value_name = "DIR", default_value = ".")]
    pub bundle: PathBuf,
}

/// The runtime verbs, flattened into the top-level command list.
#[derive(clap::Subcommand, Debug)]
pub enum Verb {
    /// Apply a plan (from `convert --to plan`) on this Proxmox node
    Apply(apply::Args),
    /// Create a container from a bundle and leave it created (not running)
    Create(CreateArgs),
    /// Start a created container
    Start(IdArgs),
    /// Stop a container gracefully (pct shutdown with a timeout, then a kill)
    Stop(StopArgs),
    /// Print a container's OCI state as JSON
    State(IdArgs),
    /// Send a signal to a container's init process (from the host)
    Kill(KillArgs),
    /// Destroy a container and forget it
    Delete(DeleteArgs),
    /// Create and start a container
    Run(RunArgs),
    /// List the containers in the state directory
    List(ListArgs),
    /// Write a default config.json
    Spec(SpecArgs),
}

/// Runs a verb; every failure is reported on stderr and in the log.
pub fn run(global: &Global, verb: Verb) -> u8 {
    match dispatch(global, verb) {
        Ok(()) => EXIT_OK,
        Err(f) => f.report(Some(&global.log())),
    }
}

fn container_id(id: &str) -> Result<ContainerId, Failure> {
    ContainerId::new(id).map_err(|e| Failure::usage(e.to_string()))
}

fn dispatch(global: &Global, verb: Verb) -> Result<(), Failure> {
    match verb {
        Verb::Spec(args) => return spec(&args),
        Verb::Apply(args) => return apply::run(global, &args),
        _ => {}
    }
    let host = global.host();
    let store = StateStore::open(&global.root).map_err(|e| Failure::refused(e.to_string()))?;
    let mut runtime = Runtime::new(&host, store, global.paths());
    runtime.crun.systemd_cgroup = global.systemd_cgroup;
    let r = &runtime;
    match verb {
        Verb::Create(args) => create(global, r, &args).map(drop),
        Verb::Run(args) => {
            let state = create(global, r, &args.create)?;
            rt::start(r, &state.id)?;
            Ok(())
        }
        Verb::Start(a) => {
            rt::start(r, &container_id(&a.id)?)?;
            Ok(())
        }
        Verb::State(a) => {
            let state = rt::state(r, &container_id(&a.id)?)?;
            println!("{}", serde_json::to_string_pretty(&state).unwrap_or_default());
            Ok(())
        }
        Verb::Kill(a) => {
            let id = container_id(&a.id)?;
            let signal = Signal::parse(&a.signal).map_err(|e| Failure::usage(e.to_string()))?;
            Ok(rt::kill(r, &id, signal)?)
        }
        Verb::Stop(a) => Ok(rt::stop(r, &container_id(&a.id)?, Duration::from_secs(a.timeout))?),
        Verb::Delete(a) => {
            let notes = rt::delete(r, &container_id(&a.id)?, a.force, Duration::from_secs(a.timeout))?;
            for note in notes {
                eprintln!("proxmox-lxcri: note: {note}");
                global.log().info(&note);
            }
            Ok(())
        }
        Verb::List(a) => list(r, &a),
        Verb::Spec(_) | Verb::Apply(_) => Ok(()),
    }
}

fn create(global: &Global, r: &Runtime<'_>, args: &CreateArgs) -> Result<executor::state::OciState, Failure> {
    let id = container_id(&args.id)?;
    let options = CreateOptions {
        pid_file: args.pid_file.clone(),
        console_socket: args.console_socket.clone(),
        no_pivot: args.no_pivot,
        no_new_keyring: args.no_new_keyring,
    };
    let (bundle, backend, stop_signal) = bundle::translate(global, args, options)?;
    let (state, packed) = rt::create_reporting(r, rt::CreateRequest { id, bundle, backend, stop_signal })?;
    bundle::report_pack(packed.as_ref(), &global.log());
    global.log().info(&format!("created container {}", state.id));
    Ok(state)
}

fn list(r: &Runtime<'_>, args: &ListArgs) -> Result<(), Failure> {
    let rows = rt::list(r)?;
    if args.quiet {
        for row in &rows {
            println!("{}", row.id);
        }
        return Ok(());
    }
    match args.format {
        ListFormat::Json => println!("{}", serde_json::to_string(&rows).unwrap_or_default()),
        ListFormat::Table => {
            println!("{:<20} {:<8} {:<12} {:<8} {:<10} {:<20} BUNDLE", "ID", "PID", "STATUS", "RUNTIME", "VMID", "CREATED");
            for row in &rows {
                // The JSON form has the RFC 3339 time.
                let json = serde_json::to_value(row).unwrap_or_default();
                let created = json["created"].as_str().unwrap_or("-").to_owned();
                let vmid = row.vmid.map(|v| v.to_string()).unwrap_or_else(|| "-".into());
                println!(
                    "{:<20} {:<8} {:<12} {:<8} {:<10} {:<20} {}",
                    row.id,
                    row.pid,
                    row.status,
                    row.runtime,
                    vmid,
                    created,
                    row.bundle.display()
                );
            }
        }
    }
    Ok(())
}

fn spec(args: &SpecArgs) -> Result<(), Failure> {
    let path = args.bundle.join("config.json");
    if path.exists() {
        return Err(Failure::refused(format!("{} exists; remove it first", path.display())));
    }
    let ids = args.rootless.then(effective_ids);
    let text = rt::spec::default_spec_text(ids);
    std::fs::write(&path, text).map_err(|e| Failure::refused(format!("{}: {e}", path.display())))
}

/// The caller's effective uid and gid, from /proc/self/status.
fn effective_ids() -> (u32, u32) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("Uid:"), field("Gid:"))
}

/// `path` made absolute against the current directory, without resolving symlinks.
pub fn absolute(path: &Path) -> Result<PathBuf, Failure> {
    std::path::absolute(path).map_err(|e| Failure::usage(format!("{}: {e}", path.display())))
}
