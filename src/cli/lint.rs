//! `lint`: check bundles for what would break or be silently lost on a
//! Proxmox node, and report it where CI reviewers look.
//!
//! The findings come from the translator's lint engine; this module finds
//! the configs, reads them on every core, renders the reports and picks the
//! exit code: 0 nothing at or above `--deny`, 1 something is, 2 a path could
//! not be read (the others are still linted) or the command line is wrong.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use translator::lint::engine::{LintConfig, SuppressedBy};
use translator::rules::Allow;
use translator::Severity;

use super::walk::{self, Found};
use super::{
    github, input, load_target, render, sarif, Failure, Linted, EXIT_OK, EXIT_REFUSED, EXIT_USAGE,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum LintFormat {
    /// For people: findings with their source lines, grouped by file
    #[default]
    Human,
    /// One JSON object per finding, one per line
    Json,
    /// A SARIF 2.1.0 log (GitHub code scanning, GitLab, IDEs)
    Sarif,
    /// GitHub Actions workflow commands (annotations on the pull request)
    Github,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum DenyLevel {
    #[default]
    Error,
    Warning,
    Info,
}

impl DenyLevel {
    pub fn severity(self) -> Severity {
        match self {
            DenyLevel::Error => Severity::Error,
            DenyLevel::Warning => Severity::Warning,
            DenyLevel::Info => Severity::Info,
        }
    }
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Bundle directories, config.json files, or directories to search for bundles
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// How to report the findings
    #[arg(long, value_enum, default_value_t)]
    pub format: LintFormat,
    /// Fail (exit 1) when a finding is at or above this severity
    #[arg(long, value_enum, default_value_t)]
    pub deny: DenyLevel,
    /// The global `--allow`s: codes and families (`pve/*`) not reported
    #[arg(skip)]
    pub allow: Vec<String>,
    /// The node policy named by the global `--policy` (or its variable), and the back end
    /// (`--runtime`) it is applied for
    #[arg(skip)]
    pub policy: Option<(super::policy::NodePolicy, translator::policy::Backend)>,
    /// Ignore the bundles' `org.proxmox-lxcri.lint.allow` annotations: report what they allow
    #[arg(long = "no-annotation-allows")]
    pub no_annotation_allows: bool,
    /// A JSON file with the node's facts (`proxmox-lxcri schema target`) [env: PROXMOX_LXCRI_TARGET; default /etc/proxmox-lxcri/target.json, then built-in]
    #[arg(long)]
    pub target: Option<PathBuf>,
    /// The Proxmox VE release of the node (8.x, 9.0, 9.1, 9.2); overrides the target's
    #[arg(long = "pve-version", value_name = "X.Y")]
    pub pve_version: Option<String>,
    /// Write the report here instead of standard output
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
}

pub fn display_name(path: &Path) -> String {
    path.display().to_string()
}

/// Totals over a run, for the summary line and the exit code.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub files: usize,
    pub unreadable: usize,
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
    pub suppressed: usize,
    /// Of `suppressed`, those the bundles' own annotations allowed.
    pub by_annotation: usize,
    pub denied: bool,
}

impl Summary {
    pub fn of(results: &[Linted], deny: Severity) -> Summary {
        let mut s = Summary::default();
        for r in results {
            match &r.outcome {
                Ok(report) => {
                    s.files += 1;
                    s.errors += report.count(Severity::Error);
                    s.warnings += report.count(Severity::Warning);
                    s.infos += report.count(Severity::Info);
                    s.suppressed += report.suppressed.len();
                    s.by_annotation += report.suppressed_by_annotation();
                    s.denied |= report.fails(deny);
                }
                Err(_) => s.unreadable += 1,
            }
        }
        s
    }

    pub fn exit_code(&self) -> u8 {
        if self.unreadable > 0 {
            EXIT_USAGE
        } else if self.denied {
            EXIT_REFUSED
        } else {
            EXIT_OK
        }
    }

    pub fn line(&self) -> String {
        let plural =
            |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        let mut line = format!(
            "{} checked: {}, {}, {}; {} suppressed",
            plural(self.files, "file", "files"),
            plural(self.errors, "error", "errors"),
            plural(self.warnings, "warning", "warnings"),
            plural(self.infos, "info", "infos"),
            self.suppressed,
        );
        if self.by_annotation > 0 {
            line.push_str(&format!(" ({} by bundle annotations)", self.by_annotation));
        }
        if self.unreadable > 0 {
            line.push_str(&format!(
                "; {} could not be read",
                plural(self.unreadable, "path", "paths")
            ));
        }
        line
    }
}

pub fn parse_allows(entries: &[String]) -> Result<Vec<Allow>, Failure> {
    entries
        .iter()
        .filter(|e| !e.trim().is_empty())
        .map(|e| Allow::parse(e).map_err(|err| Failure::usage(format!("--allow: {err}"))))
        .collect()
}

pub fn run(args: &Args) -> u8 {
    let config = match lint_config(args) {
        Ok(c) => c,
        Err(f) => return f.report(None),
    };
    let results = lint_paths(&args.paths, &config);
    let deny = args.deny.severity();
    let mut summary = Summary::of(&results, deny);
    if let Some((node, backend)) = &args.policy {
        summary.denied |= policy_refusals(&results, node, *backend);
    }
    // A human report on standard output already names each unreadable path
    // with its reason, in order; repeating it on stderr would show it twice.
    let report_carries_errors = args.format == LintFormat::Human && args.output.is_none();
    if !report_carries_errors {
        for r in &results {
            if let Err(reason) = &r.outcome {
                eprintln!("proxmox-lxcri: error: {}: {reason}", r.name());
            }
        }
    }
    let color = args.output.is_none()
        && args.format == LintFormat::Human
        && std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none();
    let text = report(&results, &summary, args.format, color);
    match &args.output {
        Some(path) => {
            if let Err(source) = std::fs::write(path, text) {
                return Failure::io(path, source).report(None);
            }
        }
        None => print!("{text}"),
    }
    if args.format != LintFormat::Human || args.output.is_some() {
        eprintln!("{}", summary.line());
    }
    summary.exit_code()
}

/// What `create`, `run` and `apply` on the node would refuse, on stderr: the findings the
/// policy refuses, counting those a bundle's own annotation allowed (an annotation never lowers
/// the node's policy; `--allow` is part of the policy). True when any file would be refused.
/// (`create` also judges bind sources after resolving their symbolic links on the node; lint
/// never looks at the host, so it judges the paths as written.)
fn policy_refusals(
    results: &[Linted],
    node: &super::policy::NodePolicy,
    backend: translator::policy::Backend,
) -> bool {
    let mut any = false;
    for r in results {
        let Ok(report) = &r.outcome else { continue };
        let by_annotation = report
            .suppressed
            .iter()
            .filter(|s| s.by == SuppressedBy::Annotation)
            .map(|s| s.diagnostic.clone());
        let judged: Vec<_> = report
            .findings
            .iter()
            .cloned()
            .chain(by_annotation)
            .collect();
        let refused = node.policy.refusals(&judged, backend);
        if refused.is_empty() {
            continue;
        }
        any = true;
        let listed: Vec<String> = refused
            .iter()
            .map(|d| {
                format!(
                    "{} at {}",
                    d.code(),
                    d.pointer.as_ref().map_or("/", |p| p.as_str())
                )
            })
            .collect();
        eprintln!(
            "proxmox-lxcri: {}: {} would refuse it for the {} back end: {}",
            r.name(),
            node.origin,
            backend.as_str(),
            listed.join(", ")
        );
    }
    any
}

fn lint_config(args: &Args) -> Result<LintConfig, Failure> {
    let target = load_target(args.target.as_ref(), args.pve_version.as_deref())?;
    Ok(LintConfig {
        target,
        allow: parse_allows(&args.allow)?,
        ignore_annotation_allows: args.no_annotation_allows,
    })
}

/// Renders a run's results in a format.
pub fn report(results: &[Linted], summary: &Summary, format: LintFormat, color: bool) -> String {
    match format {
        LintFormat::Human => human(results, summary, color),
        LintFormat::Json => json(results),
        LintFormat::Sarif => sarif::log(results),
        LintFormat::Github => github::commands(results),
    }
}

/// Finds every config under the paths, then lints them on all cores. The
/// result is in the order the paths were found, whatever thread finished first.
pub fn lint_paths(paths: &[PathBuf], config: &LintConfig) -> Vec<Linted> {
    let mut found = Vec::new();
    for p in paths {
        found.extend(walk::find(p));
    }
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(found.len())
        .max(1);
    let next = AtomicUsize::new(0);
    let done: Vec<(usize, Linted)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = found.get(i) else { break };
                        mine.push((i, lint_one(item, config)));
                    }
                    mine
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    });
    let mut slots: Vec<Option<Linted>> = found.iter().map(|_| None).collect();
    for (i, linted) in done {
        if let Some(slot) = slots.get_mut(i) {
            *slot = Some(linted);
        }
    }
    // A worker that panicked lost its files; they are reported, not dropped.
    slots
        .into_iter()
        .zip(&found)
        .map(|(slot, f)| {
            slot.unwrap_or_else(|| {
                let path = match f {
                    Found::Config(p) | Found::Unreadable { path: p, .. } => p.clone(),
                };
                Linted {
                    path,
                    outcome: Err("internal error: the lint of this file did not finish".into()),
                }
            })
        })
        .collect()
}

fn lint_one(found: &Found, config: &LintConfig) -> Linted {
    match found {
        Found::Unreadable { path, reason } => Linted {
            path: path.clone(),
            outcome: Err(reason.clone()),
        },
        Found::Config(path) => {
            // Through the shared reader: a bundle's config.json is never read through a
            // symlink, a FIFO or a device (see `input`).
            let outcome = input::read_file(path)
                .map(|i| translator::lint(&i.name, &i.bytes, config))
                .map_err(|u| u.reason);
            Linted {
                path: path.clone(),
                outcome,
            }
        }
    }
}

fn human(results: &[Linted], summary: &Summary, color: bool) -> String {
    let mut out = String::new();
    for r in results {
        let report = match &r.outcome {
            Ok(report) => report,
            Err(reason) => {
                out.push_str(&format!("── {}: could not be read: {reason}\n\n", r.name()));
                continue;
            }
        };
        if report.findings.is_empty() {
            continue;
        }
        let counts = [
            (Severity::Error, "error"),
            (Severity::Warning, "warning"),
            (Severity::Info, "info"),
        ]
        .iter()
        .map(|(s, name)| (report.count(*s), *name))
        .filter(|(n, _)| *n > 0)
        .map(|(n, name)| format!("{n} {name}{}", if n == 1 { "" } else { "s" }))
        .collect::<Vec<_>>()
        .join(", ");
        out.push_str(&format!("── {} ({counts})\n", r.name()));
        out.push_str(&render::human(&report.findings, &report.source, color));
        out.push('\n');
    }
    out.push_str(&summary.line());
    out.push('\n');
    out
}

fn json(results: &[Linted]) -> String {
    let mut out = String::new();
    for report in results.iter().filter_map(|r| r.outcome.as_ref().ok()) {
        out.push_str(&render::json_lines(&report.findings, &report.source));
    }
    out
}
