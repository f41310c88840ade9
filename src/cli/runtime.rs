//! The OCI runtime verbs (`create`, `start`, `state`, `kill`, `stop`, `delete`, `run`, `list`,
//! `spec`) and `apply`, with runc's global flags (`--root`, `--log`, `--log-format`) so that
//! container engines can call proxmox-lxcri where they call runc.
//!
//! Errors go to stderr as `proxmox-lxcri: error: ...` and, with `--log`, to the log file in the
//! engine's format. Exit codes: 0 done, 1 refused or failed, 2 usage.

use std::path::{Path, PathBuf};
use std::time::Duration;

use executor::crun::CreateOptions;
use executor::host::RealHost;
use executor::id::ContainerId;
use executor::pve::{PvePaths, HOST_ROOT_ENV};
use executor::runtime::log::{Log, LogFormat};
use executor::runtime::{self as rt, Runtime, RuntimeError, Signal};
use executor::state::{StateStore, DEFAULT_ROOT};

use super::{apply, bundle, EXIT_OK, EXIT_REFUSED, EXIT_USAGE};

/// Environment variable naming the crun program (or a wrapper), like `--crun`.
pub const CRUN_ENV: &str = "PROXMOX_LXCRI_CRUN";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum RuntimeKind {
    /// A Proxmox VE container, driven with pct
    #[default]
    Pct,
    /// A container run by crun on this host
    Crun,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormatArg {
    #[default]
    Text,
    Json,
}

/// Flags accepted before (or after) any verb, as runc's are.
#[derive(clap::Args, Debug, Clone)]
pub struct Global {
    /// State directory of the OCI runtime verbs
    #[arg(long, global = true, value_name = "DIR", default_value = DEFAULT_ROOT)]
    pub root: PathBuf,
    /// Append log lines (and every error) to this file
    #[arg(long, global = true, value_name = "FILE")]
    pub log: Option<PathBuf>,
    /// Format of the --log file
    #[arg(long = "log-format", global = true, value_enum, default_value_t)]
    pub log_format: LogFormatArg,
    /// What `create` and `run` make: a Proxmox container, or a crun container
    #[arg(long, global = true, value_enum, default_value_t)]
    pub runtime: RuntimeKind,
    /// The crun program, or a wrapper around it [env: PROXMOX_LXCRI_CRUN]
    #[arg(long = "crun", global = true, value_name = "PATH")]
    pub crun: Option<PathBuf>,
    /// Passed to crun; pct containers are always in Proxmox's own cgroups
    #[arg(long = "systemd-cgroup", global = true)]
    pub systemd_cgroup: bool,
    /// The node policy: which findings refuse create, run and apply [env: PROXMOX_LXCRI_POLICY; default /etc/proxmox-lxcri/policy.toml]
    #[arg(long, global = true, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Allow a code or family (`pve/*`) for this run: lint does not report it, create/run/apply do not refuse it; repeat or separate with commas
    #[arg(long, global = true, value_name = "CODE", value_delimiter = ',')]
    pub allow: Vec<String>,
    /// Accepted for compatibility with runc's command line
    #[arg(long, global = true, hide = true)]
    pub debug: bool,
}

impl Global {
    pub fn log(&self) -> Log {
        let format = match self.log_format {
            LogFormatArg::Text => LogFormat::Text,
            LogFormatArg::Json => LogFormat::Json,
        };
        Log { file: self.log.clone(), format }
    }

    /// The host: pct/pvesh/pvesm from `PATH`, crun from `--crun`/`PROXMOX_LXCRI_CRUN`.
    pub fn host(&self) -> RealHost {
        let crun = self.crun.clone().or_else(|| std::env::var_os(CRUN_ENV).filter(|v| !v.is_empty()).map(PathBuf::from));
        match crun {
            Some(path) => RealHost::new().with_program("crun", path),
            None => RealHost::new(),
        }
    }

    /// Proxmox's paths; `PROXMOX_LXCRI_HOST_ROOT` relocates them (tests only).
    pub fn paths(&self) -> PvePaths {
        PvePaths::from_env_value(std::env::var_os(HOST_ROOT_ENV))
    }
}

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

/// A failure of a verb: what to print and the exit code.
pub struct Failure {
    pub code: u8,
    pub message: String,
    pub hint: Option<String>,
}

impl Failure {
    pub fn usage(message: impl Into<String>) -> Self {
        Failure { code: EXIT_USAGE, message: message.into(), hint: None }
    }

    pub fn refused(message: impl Into<String>) -> Self {
        Failure { code: EXIT_REFUSED, message: message.into(), hint: None }
    }
}

impl From<RuntimeError> for Failure {
    fn from(e: RuntimeError) -> Self {
        let code = if matches!(e, RuntimeError::Usage(_)) { EXIT_USAGE } else { EXIT_REFUSED };
        Failure { code, hint: e.hint(), message: e.to_string() }
    }
}

/// Runs a verb; every failure is reported on stderr and in the log.
pub fn run(global: &Global, verb: Verb) -> u8 {
    let log = global.log();
    match dispatch(global, verb) {
        Ok(()) => EXIT_OK,
        Err(f) => {
            eprintln!("proxmox-lxcri: error: {}", f.message);
            if let Some(h) = &f.hint {
                eprintln!("proxmox-lxcri: hint: {h}");
            }
            log.error(&f.message);
            f.code
        }
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
