//! Subcommands and the vocabulary they share: the global flags (`Global`), the one failure
//! type (`Failure`) behind the one exit-code contract, a lint outcome (`Linted`) and the
//! target a command translates for (`load_target`, see [`target`]).
//!
//! Exit codes, for every subcommand: 0 done (warnings allowed), 1 the input was read but
//! refused (or a runtime verb failed), 2 usage error or unreadable input.

pub mod apply;
pub mod bundle;
pub mod convert;
pub mod diff;
pub mod github;
pub mod gitlab;
pub mod help;
pub mod image;
pub mod input;
pub mod junit;
pub mod lint;
pub mod policy;
pub mod project;
pub mod render;
pub mod route;
pub mod rules;
pub mod runtime;
pub mod sarif;
pub mod schema;
pub mod target;
pub mod walk;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU8, Ordering};

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use executor::host::RealHost;
use executor::pve::{PvePaths, HOST_ROOT_ENV};
use executor::runtime::log::{Log, LogFormat};
use executor::runtime::RuntimeError;
use executor::state::DEFAULT_ROOT;
use translator::lint::engine::LintReport;
use translator::Target;

pub const EXIT_OK: u8 = 0;
pub const EXIT_REFUSED: u8 = 1;
pub const EXIT_USAGE: u8 = 2;

#[derive(Parser, Debug)]
#[command(name = "proxmox-lxcri", version = runtime::VERSION, disable_version_flag = true, about = "OCI bundles to Proxmox VE LXC containers")]
pub struct Cli {
    /// Print the version, commit, OCI runtime-spec range and the pve-container versions known (runc's -v)
    #[arg(short = 'v', long = "version", action = clap::ArgAction::Version)]
    pub version: (),
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Translate a bundle's config.json (or an OCI image) into what Proxmox VE gets
    Convert(convert::Args),
    /// Print a JSON Schema: plan, target, policy, runtime-spec
    Schema(schema::Args),
    /// The node's facts every verb translates for: show them, or detect them on this node
    #[command(subcommand)]
    Target(target::Command),
    /// Check bundles for what would break or be lost on Proxmox (for CI)
    Lint(lint::Args),
    /// List every lint rule: code, default severity, summary
    Rules(rules::RulesArgs),
    /// Explain a lint rule, with a bad and a good example
    Explain(rules::ExplainArgs),
    /// Print which back end create would use for a container id, and which rule chose it
    Route(route::Args),
    /// Show what a new image or bundle would change in an existing container's Proxmox config (exit 0 same, 1 different, 2 trouble)
    Diff(diff::Args),
    #[command(flatten)]
    Runtime(runtime::Verb),
}

/// How much the program says on stderr beyond its errors, set once from `--quiet` and
/// `--verbose` before any subcommand runs (a process-wide setting, like a log level).
static VERBOSITY: AtomicU8 = AtomicU8::new(NORMAL);
const QUIET: u8 = 0;
const NORMAL: u8 = 1;
const VERBOSE: u8 = 2;

/// `--quiet`: errors only; no warnings, notes or progress bar on stderr.
pub fn quiet() -> bool {
    VERBOSITY.load(Ordering::Relaxed) == QUIET
}

/// `--verbose`: also which files (target, policy) a command read.
pub fn verbose() -> bool {
    VERBOSITY.load(Ordering::Relaxed) == VERBOSE
}

/// Packing shows its progress bar when stderr is a terminal, unless `--quiet`.
pub fn progress() -> executor::pack::Progress {
    if quiet() {
        executor::pack::Progress::Never
    } else {
        executor::pack::Progress::Auto
    }
}

/// The command line. The help layout ([`help::for_parsing`]) changes only what help shows,
/// never what parses (a test checks both parse alike), and costs a tenth of the start-up of a
/// `convert`, so it is built only when help may be printed.
pub fn parse() -> Result<Cli, clap::Error> {
    parse_from(std::env::args_os().collect())
}

/// [`parse`] of a given argument vector (the program's name first).
pub fn parse_from(args: Vec<std::ffi::OsString>) -> Result<Cli, clap::Error> {
    let mut cmd = if help::may_print_help(&args) {
        help::for_parsing()
    } else {
        Cli::command()
    };
    let matches = cmd.try_get_matches_from_mut(args)?;
    Cli::from_arg_matches(&matches).map_err(|e| e.format(&mut cmd))
}

pub fn main() -> ExitCode {
    // The stand-in of an engine's pct container (`create` starts it; never a user's command).
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args
        .get(1)
        .is_some_and(|a| a == executor::runtime::engine_pct::STANDIN_ARG)
    {
        executor::runtime::engine_pct::standin_main(&args[2..]);
    }
    let cli = match parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { EXIT_OK };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    VERBOSITY.store(
        match (cli.global.quiet, cli.global.verbose) {
            (true, _) => QUIET,
            (false, true) => VERBOSE,
            (false, false) => NORMAL,
        },
        Ordering::Relaxed,
    );
    // Engines pass the runtime flags to every verb they call, so every verb accepts them; but a
    // log the operator asked for and does not get would mislead, so the verbs that write no log
    // refuse `--log`.
    if let (Some(_), false) = (&cli.global.log, matches!(cli.command, Command::Runtime(_))) {
        return ExitCode::from(
            Failure::usage(
                "--log is for the runtime verbs (create, start, run, apply, ...); this command writes its diagnostics to stderr (redirect it with 2>FILE, or use --format json)",
            )
            .report(None),
        );
    }
    let code = match cli.command {
        Command::Convert(mut args) => {
            args.color = cli.global.color;
            convert::run(&args)
        }
        Command::Schema(args) => schema::run(&args),
        Command::Target(command) => target::run(&cli.global, &command),
        Command::Lint(mut args) => {
            args.allow = cli.global.allow.clone();
            args.color = cli.global.color;
            // A named policy (`--policy FILE` or PROXMOX_LXCRI_POLICY): lint also says what
            // `create`/`run`/`apply` on that node would refuse, and fails the run if anything.
            let named = cli.global.policy.is_some()
                || std::env::var_os(policy::POLICY_ENV).is_some_and(|v| !v.is_empty());
            if named {
                match policy::load(&cli.global) {
                    Ok(p) => args.policy = Some((p, cli.global.runtime.unwrap_or_default().into())),
                    Err(f) => return ExitCode::from(f.report(None)),
                }
            }
            lint::run(&args)
        }
        Command::Rules(args) => rules::run_rules(&args),
        Command::Explain(args) => rules::run_explain(&args),
        Command::Route(args) => route::run(&cli.global, &args),
        Command::Diff(args) => diff::run(&cli.global, &args),
        Command::Runtime(verb) => runtime::run(&cli.global, verb),
    };
    ExitCode::from(code)
}

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
    /// runc's logfmt lines: time="…" level=… msg="…"
    #[default]
    Text,
    /// One JSON object a line (`time`, `level`, `msg`), as engines parse it
    Json,
}

/// When output is coloured (`--color`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless NO_COLOR is set to a non-empty value
    #[default]
    Auto,
    /// Always, even into a file or a pipe, and whatever NO_COLOR says
    Always,
    /// Never
    Never,
}

impl ColorChoice {
    /// Whether to colour a stream that is (or is not) a terminal. NO_COLOR (no-color.org)
    /// turns the automatic choice off; an explicit `--color always` outranks it, as the
    /// convention asks of command-line flags.
    pub fn enabled(self, terminal: bool) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        }
    }
}

/// The help heading of the flags only the runtime verbs use ([`help`] hides them elsewhere).
pub const RUNTIME_HEADING: &str = "Runtime options";

/// Flags accepted before (or after) any verb, as runc's are. Engines pass the runtime ones to
/// every verb they call, so all are accepted everywhere; each verb's help shows those it uses.
#[derive(clap::Args, Debug, Clone)]
pub struct Global {
    /// State directory of the OCI runtime verbs
    #[arg(long, global = true, value_name = "DIR", default_value = DEFAULT_ROOT, help_heading = RUNTIME_HEADING)]
    pub root: PathBuf,
    /// Append log lines (and every error) to this file
    #[arg(long, global = true, value_name = "FILE", help_heading = RUNTIME_HEADING)]
    pub log: Option<PathBuf>,
    /// Format of the --log file
    #[arg(long = "log-format", global = true, value_enum, default_value_t, help_heading = RUNTIME_HEADING)]
    pub log_format: LogFormatArg,
    /// What `create` and `run` make (and whose refusals `lint --policy` reports): a Proxmox container, or a crun container (`-r` after the verb); without it the node configuration's routes choose, then pct
    #[arg(long, global = true, value_enum, help_heading = RUNTIME_HEADING)]
    pub runtime: Option<RuntimeKind>,
    /// The node configuration (routes) [env: PROXMOX_LXCRI_CONFIG; default /etc/proxmox-lxcri/config.toml]
    #[arg(long, global = true, value_name = "FILE", help_heading = RUNTIME_HEADING)]
    pub config: Option<PathBuf>,
    /// The crun program, or a wrapper around it [env: PROXMOX_LXCRI_CRUN]
    #[arg(long = "crun", global = true, value_name = "PATH", help_heading = RUNTIME_HEADING)]
    pub crun: Option<PathBuf>,
    /// Passed to crun; pct containers are always in Proxmox's own cgroups
    #[arg(long = "systemd-cgroup", global = true, help_heading = RUNTIME_HEADING)]
    pub systemd_cgroup: bool,
    /// The node policy: which findings refuse create, run and apply [env: PROXMOX_LXCRI_POLICY; default /etc/proxmox-lxcri/policy.toml]
    #[arg(long, global = true, value_name = "FILE", help_heading = RUNTIME_HEADING)]
    pub policy: Option<PathBuf>,
    /// Allow a code or family (`pve/*`) for this run: lint does not report it, create/run/apply do not refuse it; repeat or separate with commas
    #[arg(long, global = true, value_name = "CODE", value_delimiter = ',', help_heading = RUNTIME_HEADING)]
    pub allow: Vec<String>,
    /// An engine's storage (podman's graphroot and runroot): a crun bundle's absolute root.path strictly below DIR is allowed like --rootfs-outside-bundle, and a bind of the container's own files in DIR/<kind>/<id>/ is not judged by the node policy (repeat)
    #[arg(long = "rootfs-under", global = true, value_name = "DIR", help_heading = RUNTIME_HEADING)]
    pub rootfs_under: Vec<PathBuf>,
    /// Print only errors on stderr: no warnings, notes or progress bar
    #[arg(long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Also say which target and policy files were read
    #[arg(long, global = true)]
    pub verbose: bool,
    /// Accepted for compatibility with runc's command line
    #[arg(long, global = true, hide = true)]
    pub debug: bool,
    /// Colour the output: auto (on a terminal, unless NO_COLOR is set), always, never
    #[arg(long, global = true, value_enum, default_value_t, value_name = "WHEN")]
    pub color: ColorChoice,
}

impl Global {
    pub fn log(&self) -> Log {
        let format = match self.log_format {
            LogFormatArg::Text => LogFormat::Text,
            LogFormatArg::Json => LogFormat::Json,
        };
        Log {
            file: self.log.clone(),
            format,
        }
    }

    /// The host: pct/pvesh/pvesm from `PATH`, crun from `--crun`/`PROXMOX_LXCRI_CRUN`.
    pub fn host(&self) -> RealHost {
        let crun = self.crun.clone().or_else(|| {
            std::env::var_os(CRUN_ENV)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        });
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

/// Why a command did not do what was asked: what to print and the exit code. One type for
/// every subcommand, so that 1 (refused) and 2 (usage, unreadable input) mean the same
/// everywhere.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
    pub hint: Option<String>,
}

impl Failure {
    pub fn usage(message: impl Into<String>) -> Self {
        Failure {
            code: EXIT_USAGE,
            message: message.into(),
            hint: None,
        }
    }

    pub fn refused(message: impl Into<String>) -> Self {
        Failure {
            code: EXIT_REFUSED,
            message: message.into(),
            hint: None,
        }
    }

    /// A file that could not be read or written: a usage error (exit 2).
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        Failure::usage(format!("{}: {source}", path.display()))
    }

    /// Prints the failure on stderr (and into the runtime log, when there is one) and
    /// returns the exit code.
    pub fn report(&self, log: Option<&Log>) -> u8 {
        match log {
            // runc and crun log to stderr when there is no --log, in the asked format;
            // engines that pass only --log-format json parse stderr as JSON lines.
            Some(l) if l.file.is_none() && l.format == LogFormat::Json => {
                let mut msg = self.message.clone();
                if let Some(h) = &self.hint {
                    msg.push_str(&format!(" (hint: {h})"));
                }
                eprint!(
                    "{}",
                    l.line(
                        executor::runtime::log::Level::Error,
                        &msg,
                        std::time::SystemTime::now()
                    )
                );
            }
            _ => {
                eprintln!("proxmox-lxcri: error: {}", self.message);
                if let Some(h) = &self.hint {
                    eprintln!("proxmox-lxcri: hint: {h}");
                }
            }
        }
        if let Some(log) = log {
            log.error(&self.message);
        }
        self.code
    }
}

impl From<RuntimeError> for Failure {
    fn from(e: RuntimeError) -> Self {
        let code = if matches!(e, RuntimeError::Usage(_)) {
            EXIT_USAGE
        } else {
            EXIT_REFUSED
        };
        Failure {
            code,
            hint: e.hint(),
            message: e.to_string(),
        }
    }
}

/// The node a command translates for, found in [`target::resolve`]'s order (`--target`,
/// `PROXMOX_LXCRI_TARGET`, /etc/proxmox-lxcri/target.json, built-in), with `--pve-version`
/// over its release; `--verbose` says which it was.
pub fn load_target(path: Option<&PathBuf>, pve_version: Option<&str>) -> Result<Target, Failure> {
    let (target, origin) = target::resolve(path.map(PathBuf::as_path), pve_version)?;
    if verbose() {
        eprintln!("proxmox-lxcri: target: {origin}");
        if let Some(v) = pve_version {
            eprintln!(
                "proxmox-lxcri: --pve-version {v}: pve-container {}",
                target.pve_container
            );
        }
    }
    Ok(target)
}

/// The outcome of linting one path: its report, or why it could not be read. `lint` renders
/// these as text and JSON, `sarif` and `github` as their formats.
pub struct Linted {
    pub path: PathBuf,
    pub outcome: Result<LintReport, String>,
    /// The severity at or above which a finding of this file fails the run (`--fail-on`, or
    /// the file's project config).
    pub fail_on: translator::Severity,
    /// What the node policy named by `--policy` would refuse (`create` on that node), judged
    /// without the project config, the selection or the bundle's annotation.
    pub refused: Vec<translator::Diagnostic>,
}

impl Linted {
    /// The name reports show: the path as found, with `/` separators.
    pub fn name(&self) -> String {
        lint::display_name(&self.path)
    }
}
