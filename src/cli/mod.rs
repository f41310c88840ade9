//! Subcommands and exit codes: 0 done (warnings allowed), 1 the input was
//! read but refused, 2 usage error or unreadable input.

pub mod apply;
pub mod bundle;
pub mod convert;
pub mod github;
pub mod input;
pub mod lint;
pub mod policy;
pub mod render;
pub mod rules;
pub mod runtime;
pub mod sarif;
pub mod walk;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub const EXIT_OK: u8 = 0;
pub const EXIT_REFUSED: u8 = 1;
pub const EXIT_USAGE: u8 = 2;

#[derive(Parser, Debug)]
#[command(name = "proxmox-lxcri", version, about = "OCI bundles to Proxmox VE LXC containers")]
pub struct Cli {
    #[command(flatten)]
    pub global: runtime::Global,
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
        Command::Convert(args) => convert::run(&args),
        Command::Lint(mut args) => {
            args.allow = cli.global.allow.clone();
            lint::run(&args)
        }
        Command::Rules(args) => rules::run_rules(&args),
        Command::Explain(args) => rules::run_explain(&args),
        Command::Runtime(verb) => runtime::run(&cli.global, verb),
    };
    ExitCode::from(code)
}

/// A failure before translation could start: a usage or I/O problem (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{0}")]
    Usage(String),
}

pub fn report_input_error(e: &InputError) -> u8 {
    eprintln!("proxmox-lxcri: error: {e}");
    EXIT_USAGE
}
