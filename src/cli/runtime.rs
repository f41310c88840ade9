//! The OCI runtime verbs (`create`, `start`, `state`, `kill`, `stop`, `delete`, `run`, `list`,
//! `spec`, and the ones engines call besides: `exec`, `ps`, `pause`, `resume`, `update`,
//! `features`) and `apply`, with runc's global flags (`--root`, `--log`, `--log-format`) so
//! that container engines can call proxmox-lxcri where they call runc.
//!
//! Errors go to stderr as `proxmox-lxcri: error: ...` (as a JSON log line with
//! `--log-format json` and no `--log`, as runc prints them) and, with `--log`, to the log file
//! in the engine's format. Exit codes: 0 done, 1 refused or failed, 2 usage; `exec` and a
//! foreground `run` exit with the container process's code, as runc's do.

use std::path::{Path, PathBuf};
use std::time::Duration;

use executor::crun::{CreateOptions, ExecOptions};
use executor::id::ContainerId;
use executor::runtime::{self as rt, Runtime, RuntimeError, Signal};
use executor::state::StateStore;

use super::{apply, bundle, Failure, Global, RuntimeKind, EXIT_OK};

/// What `-v`/`--version` prints after the program's name, in runc's layout (`runc version`,
/// `commit:`, `spec:`); the spec line is the range of `ociVersion`s a bundle may have
/// (checked against `features` by a test), and the last the pve-container versions
/// `--pve-version` knows, per Proxmox VE release (checked against the translator's table). A
/// constant, so that printing it costs nothing at start-up.
pub const VERSION: &str = concat!(
    "version ",
    env!("CARGO_PKG_VERSION"),
    "\ncommit: ",
    env!("PROXMOX_LXCRI_COMMIT"),
    "\nspec: 1.0.0 - 1.3.0",
    "\npve-container: 5.0.0 (Proxmox VE 8.x), 6.0.9 (9.0), 6.0.18 (9.1), 6.1.10 (9.2)",
);

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
    /// An OCI image instead of a bundle: oci:DIR[:TAG], oci-archive:FILE[:TAG] (tar, gzip or
    /// zstd) or docker-archive:FILE[:NAME:TAG]; its layers are streamed into the template
    #[arg(long, value_name = "REF", conflicts_with = "bundle")]
    pub image: Option<String>,
    /// The platform to take from a multi-platform image (os/arch[/variant]; default: this
    /// machine's)
    #[arg(long, value_name = "OS/ARCH", requires = "image")]
    pub platform: Option<String>,
    /// The size of each new volume the image's `Volumes` become (whole GiB: 1G, 20G) [default: 1G]
    #[arg(long = "volume-size", value_name = "SIZE", requires = "image", value_parser = super::image::parse_volume_size)]
    pub volume_size: Option<u32>,
    /// What to make: a Proxmox container (pct) or a crun container; without it the node
    /// configuration's routes choose, then pct
    // The same id as the global `--runtime`, so clap does not propagate that one here (it
    // skips a global whose id the subcommand has) and `-r` exists on create and run only:
    // `update -r` is runc's `--resources`. A `--runtime` before the verb still fills this.
    #[arg(short = 'r', long = "runtime", value_enum)]
    pub runtime: Option<RuntimeKind>,
    /// A JSON file with the node's facts (`proxmox-lxcri schema target`) [env: PROXMOX_LXCRI_TARGET; default /etc/proxmox-lxcri/target.json, then built-in]
    #[arg(long, value_name = "FILE")]
    pub target: Option<PathBuf>,
    /// The Proxmox VE release of the node (8.x, 9.0, 9.1, 9.2); overrides the target's
    #[arg(long = "pve-version", value_name = "X.Y")]
    pub pve_version: Option<String>,
    /// Allow the config's absolute root.path, which must be exactly this host directory (never / or a system directory)
    #[arg(long = "rootfs-outside-bundle", value_name = "DIR")]
    pub rootfs_outside_bundle: Option<PathBuf>,
    /// Write the container's pid here (pct: the stand-in that waits for the container's process and exits with its status)
    #[arg(long = "pid-file", value_name = "FILE")]
    pub pid_file: Option<PathBuf>,
    /// The cluster node the Proxmox container is to run on (created here, then moved there with `pct migrate`); default: this node
    #[arg(long, value_name = "NODE")]
    pub node: Option<String>,
    /// Socket that receives the terminal's master end (pct: a host terminal handed to the container's process)
    #[arg(long = "console-socket", value_name = "SOCKET")]
    pub console_socket: Option<PathBuf>,
    /// Passed to crun
    #[arg(long = "no-pivot")]
    pub no_pivot: bool,
    /// Passed to crun
    #[arg(long = "no-new-keyring")]
    pub no_new_keyring: bool,
    /// Pass this many more file descriptors (3, 4, ...) to the container's process (crun only)
    #[arg(long = "preserve-fds", value_name = "N")]
    pub preserve_fds: Option<u32>,
}

#[derive(clap::Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    pub create: CreateArgs,
    /// Return once the container is started (else wait for its process and exit with its code)
    #[arg(short = 'd', long)]
    pub detach: bool,
    /// Keep the container after it exits in the foreground (default: delete it, as runc does)
    #[arg(long)]
    pub keep: bool,
}

#[derive(clap::Args, Debug)]
pub struct StopArgs {
    /// The container id
    pub id: String,
    /// Seconds to wait for a graceful stop before the container is killed
    #[arg(long, short = 't', default_value_t = 10)]
    pub timeout: u64,
}

#[derive(clap::Args, Debug)]
pub struct KillArgs {
    /// The container id
    pub id: String,
    /// Signal name or number (TERM, SIGKILL, 9)
    #[arg(default_value = "TERM")]
    pub signal: String,
    /// Signal every process of the container, not only its init
    #[arg(short = 'a', long)]
    pub all: bool,
}

#[derive(clap::Args, Debug)]
pub struct ExecArgs {
    /// A JSON file with the OCI process to run (its args, env, cwd, user, terminal, ...)
    #[arg(short = 'p', long, value_name = "FILE")]
    pub process: Option<PathBuf>,
    /// Give the process a terminal
    #[arg(short = 't', long)]
    pub tty: bool,
    /// Socket that receives the terminal's master end
    #[arg(long = "console-socket", value_name = "SOCKET")]
    pub console_socket: Option<PathBuf>,
    /// Return once the process is started
    #[arg(short = 'd', long)]
    pub detach: bool,
    /// Write the process's pid here
    #[arg(long = "pid-file", value_name = "FILE")]
    pub pid_file: Option<PathBuf>,
    /// Working directory of the process
    #[arg(long, value_name = "DIR")]
    pub cwd: Option<String>,
    /// An environment variable, KEY=VALUE (repeat)
    #[arg(short = 'e', long, value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// UID[:GID] of the process
    #[arg(short = 'u', long, value_name = "UID[:GID]")]
    pub user: Option<String>,
    /// Pass this many more file descriptors (3, 4, ...) to the process
    #[arg(long = "preserve-fds", value_name = "N")]
    pub preserve_fds: Option<u32>,
    /// Add a capability to the bounding, effective and permitted sets (repeat)
    #[arg(short = 'c', long = "cap", value_name = "CAP")]
    pub cap: Vec<String>,
    /// AppArmor profile of the process
    #[arg(long, value_name = "PROFILE")]
    pub apparmor: Option<String>,
    /// SELinux label of the process
    #[arg(long = "process-label", value_name = "LABEL")]
    pub process_label: Option<String>,
    /// Set noNewPrivileges for the process
    #[arg(long = "no-new-privs")]
    pub no_new_privs: bool,
    /// An additional group id of the process (repeat)
    #[arg(short = 'g', long = "additional-gids", value_name = "GID")]
    pub additional_gids: Vec<u32>,
    /// The container id
    pub id: String,
    /// The command and its arguments (without --process)
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum PsFormat {
    /// A header and one pid a line
    #[default]
    Table,
    /// A JSON array of pids
    Json,
}

#[derive(clap::Args, Debug)]
pub struct PsArgs {
    /// A table (a header and one pid a line) or a JSON array of pids
    #[arg(long, short = 'f', value_enum, default_value_t)]
    pub format: PsFormat,
    /// The container id
    pub id: String,
}

/// runc's `update` flags; each overrides the same value of `--resources`.
#[derive(clap::Args, Debug)]
pub struct UpdateArgs {
    /// A JSON file with the new linux.resources ("-" reads stdin)
    #[arg(short = 'r', long, value_name = "FILE")]
    pub resources: Option<PathBuf>,
    /// Block IO weight, 10 to 1000 (blockIO.weight)
    #[arg(long = "blkio-weight", value_name = "N")]
    pub blkio_weight: Option<u16>,
    /// CPU CFS period in microseconds (cpu.period)
    #[arg(long = "cpu-period", value_name = "USEC")]
    pub cpu_period: Option<u64>,
    /// CPU CFS quota in microseconds per period; -1 for none (cpu.quota)
    #[arg(long = "cpu-quota", value_name = "USEC", allow_hyphen_values = true)]
    pub cpu_quota: Option<i64>,
    /// CPU shares, a relative weight (cpu.shares)
    #[arg(long = "cpu-share", value_name = "N")]
    pub cpu_share: Option<u64>,
    /// Real-time period in microseconds (cpu.realtimePeriod)
    #[arg(long = "cpu-rt-period", value_name = "USEC")]
    pub cpu_rt_period: Option<u64>,
    /// Real-time runtime in microseconds per period (cpu.realtimeRuntime)
    #[arg(long = "cpu-rt-runtime", value_name = "USEC")]
    pub cpu_rt_runtime: Option<i64>,
    /// CPUs the container may use, e.g. 0-3,5 (cpu.cpus)
    #[arg(long = "cpuset-cpus", value_name = "LIST")]
    pub cpuset_cpus: Option<String>,
    /// Memory nodes the container may use, e.g. 0-1 (cpu.mems)
    #[arg(long = "cpuset-mems", value_name = "LIST")]
    pub cpuset_mems: Option<String>,
    /// Memory limit (bytes, or with k, m, g; -1 for none)
    #[arg(long, value_name = "SIZE", allow_hyphen_values = true)]
    pub memory: Option<String>,
    /// Memory soft limit (bytes, or with k, m, g; -1 for none)
    #[arg(
        long = "memory-reservation",
        value_name = "SIZE",
        allow_hyphen_values = true
    )]
    pub memory_reservation: Option<String>,
    /// Memory plus swap (bytes, or with k, m, g; -1 for none)
    #[arg(long = "memory-swap", value_name = "SIZE", allow_hyphen_values = true)]
    pub memory_swap: Option<String>,
    /// The most processes the container may have; -1 for no limit (pids.limit)
    #[arg(long = "pids-limit", value_name = "N", allow_hyphen_values = true)]
    pub pids_limit: Option<i64>,
    /// The container id
    pub id: String,
}

#[derive(clap::Args, Debug)]
pub struct DeleteArgs {
    /// The container id
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
    /// Aligned columns for people
    #[default]
    Table,
    /// A JSON array, one object per container
    Json,
}

#[derive(clap::Args, Debug)]
pub struct ListArgs {
    /// A table for people, or a JSON array (runc's `list --format json`)
    #[arg(long, short = 'f', value_enum, default_value_t)]
    pub format: ListFormat,
    /// Print only the container ids
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Rebuild the local cache from Proxmox and the cluster's ledger first, and report CTs whose identity line nothing vouches for
    #[arg(long)]
    pub refresh: bool,
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
    /// Run a process in a running container
    Exec(ExecArgs),
    /// List the host pids of a container's processes
    Ps(PsArgs),
    /// Freeze every process of a container
    Pause(IdArgs),
    /// Thaw a paused container
    Resume(IdArgs),
    /// Change a container's resource limits
    Update(UpdateArgs),
    /// Print the runtime-spec features document of the --runtime back end (else the node configuration's default)
    Features,
}

/// Runs a verb; every failure is reported on stderr and in the log.
pub fn run(global: &Global, verb: Verb) -> u8 {
    match dispatch(global, verb) {
        Ok(code) => code,
        Err(f) => f.report(Some(&global.log())),
    }
}

fn container_id(id: &str) -> Result<ContainerId, Failure> {
    ContainerId::new(id).map_err(|e| Failure::usage(e.to_string()))
}

fn dispatch(global: &Global, verb: Verb) -> Result<u8, Failure> {
    match verb {
        Verb::Spec(args) => return spec(&args).map(|()| EXIT_OK),
        Verb::Apply(args) => return apply::run(global, &args).map(|()| EXIT_OK),
        Verb::Features => {
            let runtime = match global.runtime {
                Some(r) => r,
                // Engines ask without --runtime: the node's default describes their containers.
                None => super::route::load(global)?
                    .default
                    .map_or(RuntimeKind::Pct, |(r, _)| r),
            };
            let doc = rt::features::features(runtime == RuntimeKind::Pct);
            println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
            return Ok(EXIT_OK);
        }
        _ => {}
    }
    let host = global.host();
    let store = StateStore::open(&global.root).map_err(|e| Failure::refused(e.to_string()))?;
    let mut runtime = Runtime::new(&host, store, global.paths());
    runtime.crun.systemd_cgroup = global.systemd_cgroup;
    let r = &runtime;
    match verb {
        Verb::Create(args) => {
            let (opened, runtime) = routed(global, &args)?;
            create(global, r, &args, opened, runtime, false).map(|_| EXIT_OK)
        }
        Verb::Run(args) => {
            let (opened, runtime) = routed(global, &args.create)?;
            if !args.detach {
                return foreground(global, r, &args, opened, runtime);
            }
            let state = create(global, r, &args.create, opened, runtime, false)?;
            rt::start(r, &state.id)?;
            Ok(EXIT_OK)
        }
        Verb::Exec(a) => exec(global, r, a),
        Verb::Ps(a) => {
            let pids = rt::engine_verbs::ps(r, &container_id(&a.id)?)?;
            match a.format {
                PsFormat::Json => println!("{}", serde_json::to_string(&pids).unwrap_or_default()),
                // crun's table: a header and one pid a line.
                PsFormat::Table => {
                    println!("PID");
                    for p in pids {
                        println!("{p}");
                    }
                }
            }
            Ok(EXIT_OK)
        }
        Verb::Pause(a) => {
            Ok(rt::engine_verbs::freeze(r, &container_id(&a.id)?, true).map(|()| EXIT_OK)?)
        }
        Verb::Resume(a) => {
            Ok(rt::engine_verbs::freeze(r, &container_id(&a.id)?, false).map(|()| EXIT_OK)?)
        }
        Verb::Update(a) => {
            let id = container_id(&a.id)?;
            let resources = update_resources(&a)?;
            rt::engine_verbs::update(r, &id, &resources)?;
            Ok(EXIT_OK)
        }
        other => lifecycle(global, r, other).map(|()| EXIT_OK),
    }
}

fn lifecycle(global: &Global, r: &Runtime<'_>, verb: Verb) -> Result<(), Failure> {
    match verb {
        Verb::Start(a) => {
            rt::start(r, &container_id(&a.id)?)?;
            Ok(())
        }
        Verb::State(a) => {
            let state = rt::state(r, &container_id(&a.id)?)?;
            println!(
                "{}",
                serde_json::to_string_pretty(&state).unwrap_or_default()
            );
            Ok(())
        }
        Verb::Kill(a) => {
            let id = container_id(&a.id)?;
            let signal = Signal::parse(&a.signal).map_err(|e| Failure::usage(e.to_string()))?;
            if a.all {
                return Ok(rt::engine_verbs::kill_all(r, &id, signal.number())?);
            }
            Ok(rt::kill(r, &id, signal)?)
        }
        Verb::Stop(a) => Ok(rt::stop(
            r,
            &container_id(&a.id)?,
            Duration::from_secs(a.timeout),
        )?),
        Verb::Delete(a) => {
            let notes = match rt::delete(
                r,
                &container_id(&a.id)?,
                a.force,
                Duration::from_secs(a.timeout),
            ) {
                // runc and crun: `delete --force` of a container that does not exist succeeds;
                // engines call it to clean up after a failed create.
                Err(RuntimeError::NotFound { .. }) if a.force => Vec::new(),
                other => other?,
            };
            for note in notes {
                if !super::quiet() {
                    eprintln!("proxmox-lxcri: note: {note}");
                }
                global.log().info(&note);
            }
            Ok(())
        }
        Verb::List(a) => list(global, r, &a),
        _ => Ok(()),
    }
}

/// `run` without `--detach`: see [`rt::foreground`]. The process waited for is crun's init,
/// or on pct the stand-in of an engine's create (`rt::engine_pct`), which this process
/// spawns and so is the parent of: it holds this process's stdio for the container's process,
/// relays the signals forwarded to it, and exits with the process's status. So a foreground
/// pct `run` is an engine create whose engine is this process.
fn foreground(
    global: &Global,
    r: &Runtime<'_>,
    args: &RunArgs,
    opened: bundle::Opened,
    runtime: RuntimeKind,
) -> Result<u8, Failure> {
    let fg = rt::foreground::Foreground::prepare()
        .map_err(|e| Failure::refused(format!("run in the foreground: {e}")))?;
    let state = create(global, r, &args.create, opened, runtime, true)?;
    let id = state.id.clone();
    // The pid of the created init (crun) or the stand-in (pct), read before `start`: an init
    // that exits at once has no pid in the state `start` returns, but it is still this
    // process's (unreaped) child.
    let pid = rt::state(r, &id)?.pid;
    rt::start(r, &id)?;
    let code = match pid {
        // The stand-in is this process's own child: `waitpid` always sees its exit.
        Some(pid) if runtime == RuntimeKind::Pct => fg.wait(pid, &mut || true),
        Some(pid) => fg.wait(pid, &mut || {
            rt::state(r, &id).is_ok_and(|s| s.status != executor::state::Status::Stopped)
        }),
        // The back end reported no pid for the created container; nothing to wait for.
        None => Err(std::io::Error::other(
            "the created container has no init pid: its exit code is unknown",
        )),
    };
    if !args.keep {
        rt::delete(r, &id, true, Duration::from_secs(10))?;
    }
    let code = code.map_err(|e| Failure::refused(e.to_string()))?;
    Ok(u8::try_from(code).unwrap_or(255))
}

/// `exec`: the process is built and checked, judged by the node policy as `create` judges a
/// bundle's process, and only then run.
fn exec(global: &Global, r: &Runtime<'_>, a: ExecArgs) -> Result<u8, Failure> {
    let id = container_id(&a.id)?;
    let process = match &a.process {
        Some(p) => Some(read_bounded(p)?),
        None => None,
    };
    let flags = rt::engine_verbs::ProcessFlags {
        args: a.command,
        cwd: a.cwd,
        env: a.env,
        user: a.user,
        additional_gids: a.additional_gids,
        caps: a.cap,
        apparmor: a.apparmor,
        process_label: a.process_label,
        // runc's flag can only turn it on (`IsSet` of a bool flag given without a value).
        no_new_privs: a.no_new_privs.then_some(true),
        tty: a.tty,
    };
    let prepared = rt::engine_verbs::prepare_exec(r, &id, process.as_deref(), &flags)?;
    let input = super::input::ConfigInput {
        // Positions are in this document: the container's config with the exec's process.
        name: match &a.process {
            Some(p) => format!("{id}'s config with the exec process {}", p.display()),
            None => format!("{id}'s config with the exec process"),
        },
        bytes: prepared.config.clone(),
        bundle: None,
    };
    let node = super::policy::load(global)?;
    let target = super::load_target(None, None)?;
    let backend = match prepared.backend {
        executor::state::Backend::Crun => translator::policy::Backend::Crun,
        executor::state::Backend::Pct { .. } => translator::policy::Backend::Pct,
    };
    super::policy::enforce_process(&node, &input, &target, backend, &global.log())?;
    super::policy::enforce_exec(&node, id.as_str(), &prepared, &global.log())?;
    let opts = ExecOptions {
        process: None,
        tty: a.tty,
        console_socket: a.console_socket,
        detach: a.detach,
        pid_file: a.pid_file.as_deref().map(absolute).transpose()?,
        cwd: None,
        env: Vec::new(),
        user: None,
        preserve_fds: a.preserve_fds,
        args: Vec::new(),
    };
    // SAFETY: isatty only inspects the descriptor.
    let stdio_is_tty = [0, 1, 2].iter().any(|fd| unsafe { libc::isatty(*fd) } == 1);
    let code = rt::engine_verbs::exec(r, &id, &prepared, opts, stdio_is_tty)?;
    Ok(u8::try_from(code).unwrap_or(255))
}

/// An engine's input file (`-` is stdin), at most [`rt::engine_verbs::MAX_INPUT_BYTES`].
fn read_bounded(path: &Path) -> Result<Vec<u8>, Failure> {
    use std::io::Read;
    let limit = rt::engine_verbs::MAX_INPUT_BYTES as u64 + 1;
    let mut bytes = Vec::new();
    let res = if path == Path::new("-") {
        std::io::stdin().lock().take(limit).read_to_end(&mut bytes)
    } else {
        std::fs::File::open(path).and_then(|f| f.take(limit).read_to_end(&mut bytes))
    };
    res.map_err(|e| Failure::usage(format!("{}: {e}", path.display())))?;
    if bytes.len() as u64 >= limit {
        return Err(Failure::usage(format!(
            "{}: larger than {} bytes",
            path.display(),
            limit - 1
        )));
    }
    Ok(bytes)
}

/// runc's memory sizes (`units.RAMInBytes`): bytes, or a number with b, k, m, g, t (powers of
/// 1024, optional `b`/`ib` after the unit); `-1` is unlimited.
fn ram_bytes(flag: &str, text: &str) -> Result<i64, Failure> {
    let bad = || {
        Failure::usage(format!(
            "--{flag} {text:?}: not a size (bytes, or with k, m, g, t; -1 for unlimited)"
        ))
    };
    if text == "-1" {
        return Ok(-1);
    }
    let lower = text.trim().to_ascii_lowercase();
    let digits = lower
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(lower.len());
    let (num, unit) = lower.split_at(digits);
    let n: i64 = num.parse().map_err(|_| bad())?;
    let shift = match unit.trim_end_matches("ib").trim_end_matches('b') {
        "" => 0,
        "k" => 10,
        "m" => 20,
        "g" => 30,
        "t" => 40,
        _ => return Err(bad()),
    };
    n.checked_mul(1i64 << shift).ok_or_else(bad)
}

/// The new `linux.resources`: the `--resources` document with runc's flags on top.
fn update_resources(a: &UpdateArgs) -> Result<serde_json::Value, Failure> {
    use serde_json::{json, Value};
    let mut res = match &a.resources {
        Some(p) => serde_json::from_slice::<Value>(&read_bounded(p)?)
            .map_err(|e| Failure::usage(format!("{}: {e}", p.display())))?,
        None => json!({}),
    };
    if !res.is_object() {
        return Err(Failure::usage(
            "--resources must be a JSON object (an OCI linux.resources)",
        ));
    }
    let mut set = |section: &str, key: &str, v: Value| {
        if !res[section].is_object() {
            res[section] = json!({});
        }
        res[section][key] = v;
    };
    if let Some(w) = a.blkio_weight {
        set("blockIO", "weight", json!(w));
    }
    for (key, v) in [
        ("period", a.cpu_period.map(Value::from)),
        ("quota", a.cpu_quota.map(Value::from)),
        ("shares", a.cpu_share.map(Value::from)),
        ("realtimePeriod", a.cpu_rt_period.map(Value::from)),
        ("realtimeRuntime", a.cpu_rt_runtime.map(Value::from)),
        ("cpus", a.cpuset_cpus.clone().map(Value::from)),
        ("mems", a.cpuset_mems.clone().map(Value::from)),
    ] {
        if let Some(v) = v {
            set("cpu", key, v);
        }
    }
    for (flag, key, v) in [
        ("memory", "limit", &a.memory),
        ("memory-reservation", "reservation", &a.memory_reservation),
        ("memory-swap", "swap", &a.memory_swap),
    ] {
        if let Some(text) = v {
            set("memory", key, json!(ram_bytes(flag, text)?));
        }
    }
    if let Some(n) = a.pids_limit {
        set("pids", "limit", json!(n));
    }
    Ok(res)
}

/// The bundle of a `create` or `run`, opened once, and the back end it goes to: the command
/// line's (before or after the verb), else the node's routes over the id and its annotations.
fn routed(global: &Global, args: &CreateArgs) -> Result<(bundle::Opened, RuntimeKind), Failure> {
    container_id(&args.id)?;
    let opened = bundle::open(args, &global.log())?;
    let route = super::route::for_create(
        global,
        args.runtime.or(global.runtime),
        &args.id,
        &opened.input,
    )?;
    Ok((opened, route.runtime))
}

fn create(
    global: &Global,
    r: &Runtime<'_>,
    args: &CreateArgs,
    opened: bundle::Opened,
    runtime: RuntimeKind,
    foreground: bool,
) -> Result<executor::state::OciState, Failure> {
    let id = container_id(&args.id)?;
    let options = CreateOptions {
        pid_file: args.pid_file.clone(),
        console_socket: args.console_socket.clone(),
        no_pivot: args.no_pivot,
        no_new_keyring: args.no_new_keyring,
        preserve_fds: args.preserve_fds,
    };
    if let Some(node) = &args.node {
        if runtime != RuntimeKind::Pct {
            return Err(Failure::usage(
                "--node places Proxmox containers (--runtime pct)",
            ));
        }
        rt::check_node(r, node)?;
        // An engine's container runs here: its init is bound to this node's store, the engine
        // reaps a process of this node, and Proxmox moves a running CT only with --restart.
        if args.pid_file.is_some() || args.console_socket.is_some() {
            return Err(Failure::usage(
                "--node cannot be combined with --pid-file or --console-socket: an engine's container runs on the node the engine runs on",
            ));
        }
    }
    let (bundle, backend, stop_signal) =
        bundle::translate(global, runtime, opened, args, options, foreground)?;
    if let (Some(node), rt::CreateBackend::Pct { plan, .. }) = (&args.node, &backend) {
        let blockers = rt::create::migration_blockers(plan);
        if r.remote(node)?.is_some() && !blockers.is_empty() {
            return Err(Failure::refused(format!(
                "{id} cannot be placed on node {node}: Proxmox migrates no container with local host resources (`pct migrate` refuses it), and {}; create it on {node} itself",
                blockers.join("; ")
            )));
        }
    }
    let (state, packed) = rt::create_reporting(
        r,
        rt::CreateRequest {
            id,
            bundle,
            backend,
            stop_signal,
        },
    )?;
    bundle::report_pack(packed.as_ref(), &global.log());
    let state = match &args.node {
        Some(node) => rt::place(r, &state.id, node)?,
        None => state,
    };
    global
        .log()
        .info(&format!("created container {}", state.id));
    Ok(state)
}

fn list(global: &Global, r: &Runtime<'_>, args: &ListArgs) -> Result<(), Failure> {
    let rows = if args.refresh {
        let (rows, notes) = rt::refresh(r)?;
        for note in notes {
            if !super::quiet() {
                eprintln!("proxmox-lxcri: warning: {note}");
            }
            global.log().info(&note);
        }
        rows
    } else {
        rt::list(r)?
    };
    if args.quiet {
        for row in &rows {
            println!("{}", row.id);
        }
        return Ok(());
    }
    match args.format {
        ListFormat::Json => println!("{}", serde_json::to_string(&rows).unwrap_or_default()),
        ListFormat::Table => {
            println!(
                "{:<20} {:<8} {:<12} {:<8} {:<10} {:<20} BUNDLE",
                "ID", "PID", "STATUS", "RUNTIME", "VMID", "CREATED"
            );
            for row in &rows {
                // The JSON form has the RFC 3339 time.
                let json = serde_json::to_value(row).unwrap_or_default();
                let created = json["created"].as_str().unwrap_or("-").to_owned();
                let vmid = row
                    .vmid
                    .map(|v| v.to_string())
                    .unwrap_or_else(|| "-".into());
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
        return Err(Failure::refused(format!(
            "{} exists; remove it first",
            path.display()
        )));
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

#[cfg(test)]
mod tests {
    #[test]
    fn version_names_the_features_range() {
        let spec = format!(
            "spec: {} - {}",
            executor::runtime::features::OCI_VERSION_MIN,
            executor::runtime::features::OCI_VERSION_MAX
        );
        assert!(
            super::VERSION.lines().any(|l| l == spec),
            "{}",
            super::VERSION
        );
    }

    #[test]
    fn version_names_the_known_pve_container_versions() {
        let known: Vec<String> = translator::target::PVE_RELEASES
            .iter()
            .enumerate()
            .map(|(i, (names, v))| {
                // The 8.x entry lists every 8 release; it is named by its family.
                let name = names
                    .iter()
                    .find(|n| n.ends_with(".x"))
                    .unwrap_or(&names[0]);
                if i == 0 {
                    format!("{v} (Proxmox VE {name})")
                } else {
                    format!("{v} ({name})")
                }
            })
            .collect();
        let line = format!("pve-container: {}", known.join(", "));
        assert!(
            super::VERSION.lines().any(|l| l == line),
            "{line}\n{}",
            super::VERSION
        );
    }
}
