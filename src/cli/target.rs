//! The node a command translates for, found once for every verb in one order, and the
//! `target` command that shows it or writes it from the node itself.
//!
//! The order (first match wins): `--target FILE`, `PROXMOX_LXCRI_TARGET`, the node's
//! `/etc/proxmox-lxcri/target.json`, the built-in defaults (a Proxmox VE 9.2 node); then
//! `--pve-version` over the release. `convert`, `lint`, `create`/`run` and `target show` all
//! call [`resolve`], so a preview and a create on the same node use the same facts.

use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use executor::fs::FileMode;
use executor::pve::{PvePaths, HOST_ROOT_ENV};
use translator::Target;

use super::{Failure, EXIT_OK};

/// Environment variable naming the target file when `--target` is not given; engines pass no
/// `--target`, so a wrapper or the engine's environment names the node's file with it.
pub const TARGET_ENV: &str = "PROXMOX_LXCRI_TARGET";
/// The node's own target file, read when neither `--target` nor the environment names one.
pub const NODE_TARGET: &str = "/etc/proxmox-lxcri/target.json";
/// A target is a few hundred bytes; this bounds what a wrong path makes us read.
const MAX_TARGET_BYTES: u64 = 1 << 20;

/// Where the target in force came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Flag(PathBuf),
    Env(PathBuf),
    NodeFile(PathBuf),
    BuiltIn,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Flag(p) => write!(f, "{} (--target)", p.display()),
            Origin::Env(p) => write!(f, "{} ({TARGET_ENV})", p.display()),
            Origin::NodeFile(p) => write!(f, "{} (the node's file)", p.display()),
            Origin::BuiltIn => write!(
                f,
                "the built-in defaults (a Proxmox VE 9.2 node; there is no {NODE_TARGET})"
            ),
        }
    }
}

/// The node's target file, under the test-only host root when one is set (as Proxmox's own
/// paths are, see [`PvePaths`]).
pub fn node_target_path() -> PathBuf {
    PvePaths::from_env_value(std::env::var_os(HOST_ROOT_ENV))
        .root()
        .join(NODE_TARGET.trim_start_matches('/'))
}

/// The target for this run and where it came from. A named file (flag or environment) must
/// exist; the node's file may be absent (then the built-in defaults apply), but one that is
/// there and unreadable or invalid is an error, never skipped. Errors exit 2.
pub fn resolve(
    flag: Option<&Path>,
    pve_version: Option<&str>,
) -> Result<(Target, Origin), Failure> {
    let env = std::env::var_os(TARGET_ENV)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    let (mut target, origin) = match (flag, env) {
        (Some(p), _) => (read(p)?, Origin::Flag(p.to_path_buf())),
        (None, Some(p)) => (read(&p)?, Origin::Env(p)),
        (None, None) => {
            let node = node_target_path();
            match read_bounded(&node) {
                Ok(text) => (parse(&node, &text)?, Origin::NodeFile(node)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    (Target::default(), Origin::BuiltIn)
                }
                Err(e) => return Err(Failure::io(&node, e)),
            }
        }
    };
    if let Some(v) = pve_version {
        target = target
            .with_pve_release(v)
            .map_err(|e| Failure::usage(e.to_string()))?;
    }
    Ok((target, origin))
}

fn read(path: &Path) -> Result<Target, Failure> {
    let text = read_bounded(path).map_err(|e| Failure::io(path, e))?;
    parse(path, &text)
}

fn parse(path: &Path, text: &str) -> Result<Target, Failure> {
    Target::from_json(text).map_err(|e| Failure::usage(format!("{}: {e}", path.display())))
}

/// A regular file, read from the descriptor whose type was checked (a FIFO neither blocks the
/// open nor is read), at most [`MAX_TARGET_BYTES`].
fn read_bounded(path: &Path) -> std::io::Result<String> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC)
        .open(path)?;
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    let mut text = String::new();
    file.take(MAX_TARGET_BYTES + 1).read_to_string(&mut text)?;
    if text.len() as u64 > MAX_TARGET_BYTES {
        return Err(std::io::Error::other(format!(
            "larger than {} KiB; not a target",
            MAX_TARGET_BYTES >> 10
        )));
    }
    Ok(text)
}

/// `proxmox-lxcri target …`.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Print the target every verb uses here, and say on stderr where it came from
    Show(ShowArgs),
    /// Ask this Proxmox VE node for its facts (pveversion, pvesm, bridges, arch, crun) and print them as a target
    Detect(DetectArgs),
}

#[derive(clap::Args, Debug)]
pub struct ShowArgs {
    /// A JSON file with the node's facts (`proxmox-lxcri schema target`) [env: PROXMOX_LXCRI_TARGET; default /etc/proxmox-lxcri/target.json]
    #[arg(long, value_name = "FILE")]
    pub target: Option<PathBuf>,
    /// The Proxmox VE release of the node (8.x, 9.0, 9.1, 9.2); overrides the target's
    #[arg(long = "pve-version", value_name = "X.Y")]
    pub pve_version: Option<String>,
}

#[derive(clap::Args, Debug)]
pub struct DetectArgs {
    /// Write the target here (atomically, mode 0644) instead of standard output, e.g. /etc/proxmox-lxcri/target.json
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
}

pub fn run(global: &super::Global, command: &Command) -> u8 {
    let result = match command {
        Command::Show(a) => show(a),
        Command::Detect(a) => detect(global, a),
    };
    match result {
        Ok(()) => EXIT_OK,
        Err(f) => f.report(None),
    }
}

fn show(args: &ShowArgs) -> Result<(), Failure> {
    let (target, origin) = resolve(args.target.as_deref(), args.pve_version.as_deref())?;
    if !super::quiet() {
        eprintln!("proxmox-lxcri: target: {origin}");
    }
    println!("{}", to_json(&target));
    Ok(())
}

fn to_json(target: &Target) -> String {
    serde_json::to_string_pretty(target).unwrap_or_default()
}

fn detect(global: &super::Global, args: &DetectArgs) -> Result<(), Failure> {
    let host = global.host();
    let found = executor::node::detect(&host, &global.paths())
        .map_err(|e| Failure::refused(format!("target detect: {e}")))?;
    if !super::quiet() {
        for note in &found.notes {
            eprintln!("proxmox-lxcri: note: {note}");
        }
    }
    let mut text = to_json(&found.target);
    text.push('\n');
    match &args.output {
        None => print!("{text}"),
        Some(path) => {
            // Readable by everyone (it holds no secret); the directory must exist already.
            executor::fs::write_atomic(path, text.as_bytes(), FileMode::Exact(0o644))
                .map_err(|e| Failure::refused(e.to_string()))?;
            if super::verbose() {
                eprintln!("proxmox-lxcri: wrote {}", path.display());
            }
        }
    }
    Ok(())
}
