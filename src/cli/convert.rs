//! `convert`: a bundle's config.json → what Proxmox VE gets.

use std::path::PathBuf;

use translator::emit::{pct_conf, pve};
use translator::Target;

use super::render::{self, DiagFormat};
use super::{input, report_input_error, InputError, EXIT_OK, EXIT_REFUSED};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum OutputKind {
    /// The /etc/pve/lxc/<vmid>.conf text
    #[default]
    PctConf,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// A bundle directory, its config.json, or - for standard input
    pub input: String,
    /// What to produce
    #[arg(long = "to", value_enum, default_value_t)]
    pub to: OutputKind,
    /// A JSON file with the target node's facts (see schemas/target.schema.json)
    #[arg(long)]
    pub target: Option<PathBuf>,
    /// The Proxmox VE release of the node (8.x, 9.0, 9.1, 9.2); overrides the target's
    #[arg(long = "pve-version", value_name = "X.Y")]
    pub pve_version: Option<String>,
    /// How to print diagnostics on stderr
    #[arg(long, value_enum, default_value_t)]
    pub format: DiagFormat,
    /// Write the output here instead of standard output
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
}

pub fn load_target(path: Option<&PathBuf>, pve_version: Option<&str>) -> Result<Target, InputError> {
    let mut target = match path {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|source| InputError::Io { path: p.display().to_string(), source })?;
            Target::from_json(&text).map_err(|e| InputError::Usage(format!("{}: {e}", p.display())))?
        }
        None => Target::default(),
    };
    if let Some(v) = pve_version {
        target = target.with_pve_release(v).map_err(|e| InputError::Usage(e.to_string()))?;
    }
    Ok(target)
}

pub fn run(args: &Args) -> u8 {
    let target = match load_target(args.target.as_ref(), args.pve_version.as_deref()) {
        Ok(t) => t,
        Err(e) => return report_input_error(&e),
    };
    let input = match input::read(&args.input) {
        Ok(i) => i,
        Err(e) => return report_input_error(&e),
    };
    let t = translator::oci_to_ir(&input.name, &input.bytes, &target);
    render::emit(&t.diagnostics, &t.source, args.format);
    if t.has_errors() {
        return EXIT_REFUSED;
    }
    let Some(ir) = &t.ir else { return EXIT_REFUSED };
    let text = match args.to {
        OutputKind::PctConf => match pct_conf::write(&pve::ir_to_pve(ir, &target)) {
            Ok(text) => text,
            Err(e) => {
                eprintln!("proxmox-lxcri: error: {e}");
                return EXIT_REFUSED;
            }
        },
    };
    match &args.output {
        Some(path) => {
            if let Err(source) = std::fs::write(path, text) {
                return report_input_error(&InputError::Io { path: path.display().to_string(), source });
            }
        }
        None => print!("{text}"),
    }
    EXIT_OK
}
