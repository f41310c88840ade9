//! Subcommands and the vocabulary they share: the global flags (`Global`), the one failure
//! type (`Failure`) behind the one exit-code contract, a lint outcome (`Linted`) and the
//! target a command translates for (`load_target`).
//!
//! Exit codes, for every subcommand: 0 done (warnings allowed), 1 the input was read but
//! refused (or a runtime verb failed), 2 usage error or unreadable input.

pub mod apply;
pub mod bundle;
pub mod convert;
pub mod github;
pub mod gitlab;
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
pub mod walk;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
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
    /// Print the version, commit and OCI runtime-spec range (runc's -v)
    #[arg(short = 'v', long = "version", action = clap::ArgAction::Version)]
    pub version: (),
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Translate a bundle's config.json into what Proxmox VE gets
    Convert(convert::Args),
    /// Check bundles for what would break or be lost on Proxmox (for CI)
    Lint(lint::Args),
    /// List every lint rule: code, default severity, summary
    Rules(rules::RulesArgs),
    /// Explain a lint rule, with a bad and a good example
    Explain(rules::ExplainArgs),
    /// Print which back end create would use for a container id, and which rule chose it
    Route(route::Args),
    #[command(flatten)]
    Runtime(runtime::Verb),
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { EXIT_OK };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let code = match cli.command {
        Command::Convert(mut args) => {
            args.color = cli.global.color;
            convert::run(&args)
        }
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
    #[default]
    Text,
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
    /// What `create` and `run` make: a Proxmox container, or a crun container (`-r` after the
    /// verb); without it the node configuration's routes choose, then pct
    #[arg(long, global = true, value_enum)]
    pub runtime: Option<RuntimeKind>,
    /// The node configuration (routes) [env: PROXMOX_LXCRI_CONFIG; default /etc/proxmox-lxcri/config.toml]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
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
    /// An engine's storage (podman's graphroot and runroot): a crun bundle's absolute root.path strictly below DIR is allowed like --rootfs-outside-bundle, and a bind of the container's own files in DIR/<kind>/<id>/ is not judged by the node policy (repeat)
    #[arg(long = "rootfs-under", global = true, value_name = "DIR")]
    pub rootfs_under: Vec<PathBuf>,
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

/// The node a command translates for: the `--target` file's facts (the built-in defaults
/// without one), with `--pve-version` over the file's release.
pub fn load_target(path: Option<&PathBuf>, pve_version: Option<&str>) -> Result<Target, Failure> {
    let mut target = match path {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|source| Failure::io(p, source))?;
            Target::from_json(&text).map_err(|e| Failure::usage(format!("{}: {e}", p.display())))?
        }
        None => Target::default(),
    };
    if let Some(v) = pve_version {
        target = target
            .with_pve_release(v)
            .map_err(|e| Failure::usage(e.to_string()))?;
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
