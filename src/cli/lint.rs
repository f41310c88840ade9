//! `lint`: check bundles for what would break or be silently lost on a
//! Proxmox node, and report it where CI reviewers look.
//!
//! The findings come from the translator's lint engine; this module finds
//! the configs (and the project config that applies to each, `project`),
//! reads them on every core, renders the reports and picks the exit code:
//! 0 nothing at or above `--fail-on`, 1 something is (or the `--policy` would
//! refuse a bundle), 2 a path could not be read (the others are still linted)
//! or the command line or a config file is wrong.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use translator::lint::engine::{LintConfig, LintReport};
use translator::rules::Allow;
use translator::{Diagnostic, Severity};

use super::project::{CommandLine, ConfigSource, FileSettings, Resolver};
use super::walk::{self, Found};
use super::{
    github, gitlab, input, junit, render, sarif, ColorChoice, Failure, Linted, EXIT_OK,
    EXIT_REFUSED, EXIT_USAGE,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum LintFormat {
    /// For people (see --output)
    #[default]
    Human,
    /// One JSON object per finding, one per line, and a last line {"summary": …}
    Json,
    /// A SARIF 2.1.0 log (GitHub code scanning, IDEs)
    Sarif,
    /// GitHub Actions annotations (within GitHub's limits) and a job summary in $GITHUB_STEP_SUMMARY
    Github,
    /// A GitLab Code Quality report (artifacts:reports:codequality)
    Gitlab,
    /// JUnit XML (GitLab's artifacts:reports:junit, Jenkins)
    Junit,
}

/// How the human report shows findings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum OutputMode {
    /// Every finding with its source lines, grouped by file
    #[default]
    Full,
    /// One line per finding: file:line:column: severity[code] message
    Concise,
    /// By rule, most severe first, with counts and the first few places
    Grouped,
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
    /// Bundle directories, config.json files, directories to search for bundles, or - (standard input)
    #[arg(required_unless_present = "image", value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Also lint an OCI image (repeatable): the conversion's findings on its config, then the
    /// runtime config it converts to, as `convert --image` reports them
    #[arg(long, value_name = "REF")]
    pub image: Vec<String>,
    /// The platform to take from a multi-platform image (os/arch[/variant]; default: this
    /// machine's)
    #[arg(long, value_name = "OS/ARCH", requires = "image")]
    pub platform: Option<String>,
    /// How to report the findings
    #[arg(long, value_enum, default_value_t)]
    pub format: LintFormat,
    /// How the human report shows findings
    #[arg(long, value_enum, default_value_t, value_name = "MODE")]
    pub output: OutputMode,
    /// Count the findings per rule (instead of listing them in the human report; on stderr with the other formats)
    #[arg(long)]
    pub statistics: bool,
    /// Exit 1 when a finding is at or above this severity [default: the project config's fail-on, else error]. `--deny` is the older name of this flag: it sets this threshold for every rule, it does not deny one rule (for that: --select, and `[severity]` in proxmox-lxcri.toml)
    #[arg(
        long = "fail-on",
        visible_alias = "deny",
        value_enum,
        value_name = "SEVERITY"
    )]
    pub fail_on: Option<DenyLevel>,
    /// Report only these codes or families (`security`, `pve/*`); repeat or separate with commas
    #[arg(long, value_name = "CODE", value_delimiter = ',')]
    pub select: Option<Vec<String>>,
    /// Do not report these codes or families (as the global --allow); repeat or separate with commas
    #[arg(long, value_name = "CODE", value_delimiter = ',')]
    pub ignore: Vec<String>,
    /// The project config for every path, instead of the proxmox-lxcri.toml found above each
    #[arg(long, value_name = "FILE", conflicts_with = "no_config")]
    pub config: Option<PathBuf>,
    /// Read no project config
    #[arg(long = "no-config")]
    pub no_config: bool,
    /// Do not lint paths matching this glob (relative to the working directory; repeat)
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Ignore the bundles' `org.proxmox-lxcri.lint.allow` annotations: report what they allow
    #[arg(long = "no-inline-allow", visible_alias = "no-annotation-allows")]
    pub no_inline_allow: bool,
    /// The name a config read from standard input (`-`) is reported under and its project config found for
    #[arg(long = "stdin-filename", value_name = "PATH")]
    pub stdin_filename: Option<PathBuf>,
    /// SARIF: each rule's helpUri is this URL followed by `<code>.md` (where the rules' explanations are published)
    #[arg(long = "help-uri-base", value_name = "URL")]
    pub help_uri_base: Option<String>,
    /// A JSON file with the target node's facts (see schemas/target.schema.json); over the project config's
    #[arg(long)]
    pub target: Option<PathBuf>,
    /// The Proxmox VE release of the node (8.x, 9.0, 9.1, 9.2); overrides the target's
    #[arg(long = "pve-version", value_name = "X.Y")]
    pub pve_version: Option<String>,
    /// Write the report here instead of standard output
    #[arg(short = 'o', long = "output-file", value_name = "FILE")]
    pub output_file: Option<PathBuf>,
    /// The global `--allow`s: codes and families (`pve/*`) not reported
    #[arg(skip)]
    pub allow: Vec<String>,
    /// The node policy named by the global `--policy` (or its variable), and the back end
    /// (`--runtime`) it is applied for
    #[arg(skip)]
    pub policy: Option<(super::policy::NodePolicy, translator::policy::Backend)>,
    /// The global `--color`
    #[arg(skip)]
    pub color: ColorChoice,
}

pub fn display_name(path: &Path) -> String {
    path.display().to_string()
}

/// The name of standard input in reports, without `--stdin-filename`.
pub const STDIN_NAME: &str = "<stdin>";

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
    /// Findings the per-code cap left out (each code's are summarised in one finding).
    pub capped: usize,
    /// Paths not linted because an `exclude` glob matched.
    pub excluded: usize,
    /// Files with a finding at or above their `--fail-on`.
    pub failed_files: usize,
    /// Files the `--policy` would refuse.
    pub refused_files: usize,
}

impl Summary {
    pub fn of(results: &[Linted], excluded: usize) -> Summary {
        let mut s = Summary {
            excluded,
            ..Summary::default()
        };
        for r in results {
            match &r.outcome {
                Ok(report) => {
                    s.files += 1;
                    s.errors += report.count(Severity::Error);
                    s.warnings += report.count(Severity::Warning);
                    s.infos += report.count(Severity::Info);
                    s.suppressed += report.suppressed.len();
                    s.by_annotation += report.suppressed_by_annotation();
                    s.capped += report.capped();
                    s.failed_files += usize::from(report.fails(r.fail_on));
                }
                Err(_) => s.unreadable += 1,
            }
            s.refused_files += usize::from(!r.refused.is_empty());
        }
        s
    }

    pub fn exit_code(&self) -> u8 {
        if self.unreadable > 0 {
            EXIT_USAGE
        } else if self.failed_files > 0 || self.refused_files > 0 {
            EXIT_REFUSED
        } else {
            EXIT_OK
        }
    }

    pub fn line(&self) -> String {
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
        if self.capped > 0 {
            line.push_str(&format!(
                "; {} over the per-code cap of {} summarised",
                self.capped,
                translator::diag::MAX_PER_CODE
            ));
        }
        if self.excluded > 0 {
            line.push_str(&format!(
                "; {} excluded",
                plural(self.excluded, "path", "paths")
            ));
        }
        if self.unreadable > 0 {
            line.push_str(&format!(
                "; {} could not be read",
                plural(self.unreadable, "path", "paths")
            ));
        }
        line
    }

    /// The totals as JSON, for the machine formats.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "files": self.files,
            "errors": self.errors,
            "warnings": self.warnings,
            "infos": self.infos,
            "suppressed": self.suppressed,
            "suppressed_by_annotation": self.by_annotation,
            "capped": self.capped,
            "excluded": self.excluded,
            "unreadable": self.unreadable,
            "failed": self.exit_code() != EXIT_OK,
        })
    }
}

pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

pub fn parse_allows(entries: &[String]) -> Result<Vec<Allow>, Failure> {
    parse_codes(entries, "--allow")
}

fn parse_codes(entries: &[String], flag: &str) -> Result<Vec<Allow>, Failure> {
    entries
        .iter()
        .filter(|e| !e.trim().is_empty())
        .map(|e| Allow::parse(e).map_err(|err| Failure::usage(format!("{flag}: {err}"))))
        .collect()
}

/// What a report is rendered from.
pub struct Context<'a> {
    pub results: &'a [Linted],
    pub summary: &'a Summary,
    pub color: bool,
    /// SARIF's helpUri base, when the run has one.
    pub help_uri_base: Option<&'a str>,
}

/// The whole of a run: every linted file, and how many paths were excluded.
pub struct Run {
    pub results: Vec<Linted>,
    pub excluded: usize,
}

pub fn run(args: &Args) -> u8 {
    match run_checked(args) {
        Ok(code) => code,
        Err(f) => f.report(None),
    }
}

fn command_line(args: &Args) -> Result<CommandLine, Failure> {
    let select = match &args.select {
        Some(list) => Some(parse_codes(list, "--select")?),
        None => None,
    };
    let mut ignore = parse_codes(&args.ignore, "--ignore")?;
    ignore.extend(parse_allows(&args.allow)?);
    let config = match (&args.config, args.no_config) {
        (Some(p), _) => ConfigSource::File(p.clone()),
        (None, true) => ConfigSource::Off,
        (None, false) => ConfigSource::Discover,
    };
    Ok(CommandLine {
        select,
        ignore,
        exclude: args.exclude.clone(),
        target: args.target.clone(),
        pve_version: args.pve_version.clone(),
        fail_on: args.fail_on.map(DenyLevel::severity),
        no_inline_allow: args.no_inline_allow,
        config,
    })
}

fn run_checked(args: &Args) -> Result<u8, Failure> {
    if args.output != OutputMode::Full && args.format != LintFormat::Human {
        return Err(Failure::usage(format!(
            "--output {} shapes the human report; --format {} has one shape",
            clap::ValueEnum::to_possible_value(&args.output)
                .map(|v| v.get_name().to_string())
                .unwrap_or_default(),
            clap::ValueEnum::to_possible_value(&args.format)
                .map(|v| v.get_name().to_string())
                .unwrap_or_default(),
        )));
    }
    let resolver = Resolver::new(command_line(args)?)?;
    let help_uri_base = match &args.help_uri_base {
        Some(base) => Some(base.clone()),
        None => resolver.help_uri_base()?,
    };
    if let Some(base) = &help_uri_base {
        if !base.contains("://") {
            return Err(Failure::usage(format!(
                "help-uri-base `{}` is not an absolute URL (SARIF's helpUri must be one)",
                base.escape_debug()
            )));
        }
    }
    let policy = args.policy.as_ref().map(|(n, b)| (n, *b));
    let run = lint_paths(
        &args.paths,
        &resolver,
        args.stdin_filename.as_deref(),
        policy,
    )?;
    let mut run = run;
    for reference in &args.image {
        run.results.extend(lint_image(
            reference,
            args.platform.as_deref(),
            &resolver,
            policy,
        )?);
    }
    let results = &run.results;
    let summary = Summary::of(results, run.excluded);
    if let Some((node, backend)) = policy {
        report_refusals(results, node, backend);
    }
    // A human report on standard output already names each unreadable path
    // with its reason, in order; repeating it on stderr would show it twice.
    let report_carries_errors = args.format == LintFormat::Human && args.output_file.is_none();
    if !report_carries_errors {
        for r in results {
            if let Err(reason) = &r.outcome {
                eprintln!("proxmox-lxcri: error: {}: {reason}", r.name());
            }
        }
    }
    let terminal = args.output_file.is_none() && std::io::stdout().is_terminal();
    let cx = Context {
        results,
        summary: &summary,
        color: args.format == LintFormat::Human && args.color.enabled(terminal),
        help_uri_base: help_uri_base.as_deref(),
    };
    let text = if args.statistics && args.format == LintFormat::Human {
        let mut text = statistics(results);
        text.push_str(&summary.line());
        text.push('\n');
        text
    } else {
        report(&cx, args.format, args.output)
    };
    match &args.output_file {
        Some(path) => std::fs::write(path, text).map_err(|source| Failure::io(path, source))?,
        None => print!("{text}"),
    }
    if args.format == LintFormat::Github {
        if let Some(path) = std::env::var_os(github::STEP_SUMMARY_ENV).filter(|v| !v.is_empty()) {
            let path = PathBuf::from(path);
            github::append_step_summary(&path, &cx).map_err(|source| Failure::io(&path, source))?;
        }
    }
    if args.format != LintFormat::Human || args.output_file.is_some() {
        if args.statistics && args.format != LintFormat::Human {
            eprint!("{}", statistics(results));
        }
        eprintln!("{}", summary.line());
    }
    Ok(summary.exit_code())
}

/// What `create`, `run` and `apply` on the node would refuse, on stderr (an annotation never
/// lowers the node's policy; `--allow` is part of the policy). (`create` also judges bind
/// sources after resolving their symbolic links on the node; lint never looks at the host,
/// so it judges the paths as written.)
fn report_refusals(
    results: &[Linted],
    node: &super::policy::NodePolicy,
    backend: translator::policy::Backend,
) {
    for r in results.iter().filter(|r| !r.refused.is_empty()) {
        let listed: Vec<String> = r
            .refused
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
}

/// Renders a run's results in a format.
pub fn report(cx: &Context<'_>, format: LintFormat, mode: OutputMode) -> String {
    match format {
        LintFormat::Human => match mode {
            OutputMode::Full => human(cx),
            OutputMode::Concise => concise(cx),
            OutputMode::Grouped => grouped(cx),
        },
        LintFormat::Json => json(cx),
        LintFormat::Sarif => sarif::log(cx),
        LintFormat::Github => github::commands(cx),
        LintFormat::Gitlab => gitlab::report(cx),
        LintFormat::Junit => junit::report(cx),
    }
}

/// One thing to lint.
enum Item {
    Found(Found),
    Stdin,
}

/// Finds every config under the paths (skipping what is excluded), then lints them on all
/// cores. The result is in the order the paths were found, whatever thread finished first.
pub fn lint_paths(
    paths: &[PathBuf],
    resolver: &Resolver,
    stdin_filename: Option<&Path>,
    policy: Option<(&super::policy::NodePolicy, translator::policy::Backend)>,
) -> Result<Run, Failure> {
    let mut items = Vec::new();
    let mut excluded = 0;
    let failed = std::cell::RefCell::new(None::<Failure>);
    let is_excluded = |p: &Path| match resolver.excluded(p) {
        Ok(x) => x,
        Err(f) => {
            failed.borrow_mut().get_or_insert(f);
            false
        }
    };
    for p in paths {
        if p.as_os_str() == "-" {
            items.push(Item::Stdin);
            continue;
        }
        if is_excluded(p) {
            excluded += 1;
            continue;
        }
        let below = std::cell::Cell::new(0usize);
        let prune = |d: &Path| {
            let x = is_excluded(d);
            below.set(below.get() + usize::from(x));
            x
        };
        for f in walk::find(p, &prune) {
            match &f {
                Found::Config(c) if is_excluded(c) => excluded += 1,
                _ => items.push(Item::Found(f)),
            }
        }
        excluded += below.get();
    }
    if let Some(f) = failed.into_inner() {
        return Err(f);
    }
    let stdin_path = stdin_filename
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(input::CONFIG_NAME));
    let mut stdin = None;
    let mut work: Vec<(Item, Arc<FileSettings>)> = Vec::with_capacity(items.len());
    for item in items {
        let path = match &item {
            Item::Found(Found::Config(p)) | Item::Found(Found::Unreadable { path: p, .. }) => {
                p.as_path()
            }
            Item::Stdin => stdin_path.as_path(),
        };
        let settings = resolver.settings_for(path)?;
        if matches!(item, Item::Stdin) && stdin.is_none() {
            let name = stdin_filename
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| STDIN_NAME.to_string());
            stdin = Some(input::read_stdin(&name));
        }
        work.push((item, settings));
    }
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(work.len())
        .max(1);
    let next = AtomicUsize::new(0);
    let stdin = &stdin;
    let done: Vec<(usize, Linted)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some((item, settings)) = work.get(i) else {
                            break;
                        };
                        mine.push((i, lint_one(item, settings, stdin, policy)));
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
    let mut slots: Vec<Option<Linted>> = work.iter().map(|_| None).collect();
    for (i, linted) in done {
        if let Some(slot) = slots.get_mut(i) {
            *slot = Some(linted);
        }
    }
    // A worker that panicked lost its files; they are reported, not dropped.
    let results = slots
        .into_iter()
        .zip(&work)
        .map(|(slot, (item, settings))| {
            slot.unwrap_or_else(|| Linted {
                path: item_path(item),
                outcome: Err("internal error: the lint of this file did not finish".into()),
                fail_on: settings.fail_on,
                refused: Vec::new(),
            })
        })
        .collect();
    Ok(Run { results, excluded })
}

fn item_path(item: &Item) -> PathBuf {
    match item {
        Item::Found(Found::Config(p)) | Item::Found(Found::Unreadable { path: p, .. }) => p.clone(),
        Item::Stdin => PathBuf::from(STDIN_NAME),
    }
}

fn lint_one(
    item: &Item,
    settings: &FileSettings,
    stdin: &Option<Result<input::ConfigInput, input::Unreadable>>,
    policy: Option<(&super::policy::NodePolicy, translator::policy::Backend)>,
) -> Linted {
    let read = match item {
        Item::Found(Found::Unreadable { path, reason }) => Err((path.clone(), reason.clone())),
        // Through the shared reader: a bundle's config.json is never read through a
        // symlink, a FIFO or a device (see `input`).
        Item::Found(Found::Config(path)) => {
            input::read_file(path).map_err(|u| (path.clone(), u.reason))
        }
        Item::Stdin => match stdin {
            Some(Ok(i)) => Ok(input::ConfigInput {
                name: i.name.clone(),
                bytes: i.bytes.clone(),
                bundle: None,
            }),
            Some(Err(u)) => Err((PathBuf::from(&u.name), u.reason.clone())),
            None => Err((
                PathBuf::from(STDIN_NAME),
                "internal error: standard input was not read".into(),
            )),
        },
    };
    let input = match read {
        Ok(i) => i,
        Err((path, reason)) => {
            return Linted {
                path,
                outcome: Err(reason),
                fail_on: settings.fail_on,
                refused: Vec::new(),
            }
        }
    };
    lint_input(input, settings, policy)
}

/// An image as `convert --image` reads it: the conversion's findings on the image config
/// (`image/…`, selected as the project config and the command line say), then the lint of
/// the runtime config it converts to, unless the conversion refused the image. An image
/// that cannot be read is one unreadable result, like a bundle's config.
fn lint_image(
    reference: &str,
    platform: Option<&str>,
    resolver: &Resolver,
    policy: Option<(&super::policy::NodePolicy, translator::policy::Backend)>,
) -> Result<Vec<Linted>, Failure> {
    let place = executor::image::ImageRef::parse(reference)
        .map(|r| r.path().to_path_buf())
        .unwrap_or_else(|_| PathBuf::from(reference));
    let settings = resolver.settings_for(&place)?;
    let spec = super::image::volume_spec(&settings.lint.target, None);
    let loaded = match super::image::load(reference, platform, spec.as_ref()) {
        Ok(l) => l,
        Err(f) => {
            return Ok(vec![Linted {
                path: PathBuf::from(reference),
                outcome: Err(f.message),
                fail_on: settings.fail_on,
                refused: Vec::new(),
            }])
        }
    };
    let converted = loaded.converted;
    let findings = converted
        .diagnostics
        .into_iter()
        .filter(|d| {
            settings.lint.selection.decide(d.code()) == translator::lint::select::Verdict::Reported
        })
        .collect();
    let mut out = vec![Linted {
        path: PathBuf::from(converted.source.name()),
        outcome: Ok(LintReport {
            source: converted.source,
            findings,
            suppressed: Vec::new(),
        }),
        fail_on: settings.fail_on,
        refused: Vec::new(),
    }];
    if let Some(config) = converted.runtime_config {
        let input = input::ConfigInput {
            name: format!("{reference} (config.json)"),
            bytes: config.into_bytes(),
            bundle: None,
        };
        out.push(lint_input(input, &settings, policy));
    }
    Ok(out)
}

/// Lints one config that was read.
fn lint_input(
    input: input::ConfigInput,
    settings: &FileSettings,
    policy: Option<(&super::policy::NodePolicy, translator::policy::Backend)>,
) -> Linted {
    // The node judges every rule at its own severity and ignores the bundle's annotation and
    // the team's selection: a second, unconfigured lint, only when a policy is named.
    let refused = match policy {
        Some((node, backend)) => {
            let judged = translator::lint(
                &input.name,
                &input.bytes,
                &LintConfig::for_policy(settings.lint.target.clone()),
            );
            node.policy
                .refusals(&judged.findings, backend)
                .into_iter()
                .cloned()
                .collect()
        }
        None => Vec::new(),
    };
    let path = PathBuf::from(&input.name);
    let report: LintReport =
        translator::lint::engine::lint_owned(&input.name, input.bytes, &settings.lint);
    Linted {
        path,
        outcome: Ok(report),
        fail_on: settings.fail_on,
        refused,
    }
}

/// Where a finding is, as `file:line:column` (or the file alone).
pub fn place(d: &Diagnostic, report: &LintReport, file: &str) -> String {
    if d.span.is_defined() {
        let (line, column) = report.source.line_col(d.span.start);
        format!("{file}:{line}:{column}")
    } else {
        file.to_string()
    }
}

fn severity_counts(report: &LintReport) -> String {
    [
        (Severity::Error, "error"),
        (Severity::Warning, "warning"),
        (Severity::Info, "info"),
    ]
    .iter()
    .map(|(s, name)| (report.count(*s), *name))
    .filter(|(n, _)| *n > 0)
    .map(|(n, name)| format!("{n} {name}{}", if n == 1 { "" } else { "s" }))
    .collect::<Vec<_>>()
    .join(", ")
}

fn human(cx: &Context<'_>) -> String {
    let mut out = String::new();
    for r in cx.results {
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
        out.push_str(&format!("── {} ({})\n", r.name(), severity_counts(report)));
        out.push_str(&render::human(&report.findings, &report.source, cx.color));
        out.push('\n');
    }
    out.push_str(&cx.summary.line());
    out.push('\n');
    out
}

fn paint(color: bool, severity: Severity, text: &str) -> String {
    if !color {
        return text.to_string();
    }
    let code = match severity {
        Severity::Error => "31",
        Severity::Warning => "33",
        Severity::Info => "36",
    };
    format!("\x1b[1;{code}m{text}\x1b[0m")
}

/// One line per finding, as ruff's concise output: `file:line:column: severity[code] message`.
fn concise(cx: &Context<'_>) -> String {
    let mut out = String::new();
    for r in cx.results {
        let report = match &r.outcome {
            Ok(report) => report,
            Err(reason) => {
                out.push_str(&format!("{}: could not be read: {reason}\n", r.name()));
                continue;
            }
        };
        let file = r.name();
        for d in &report.findings {
            let at = d
                .pointer
                .as_ref()
                .filter(|p| !p.as_str().is_empty())
                .map(|p| format!(" (at {p})"))
                .unwrap_or_default();
            let label = format!("{}[{}]", d.severity, d.code());
            out.push_str(&format!(
                "{}: {} {}{at}\n",
                place(d, report, &file),
                paint(cx.color, d.severity, &label),
                d.message
            ));
        }
    }
    out.push_str(&cx.summary.line());
    out.push('\n');
    out
}

/// How many places `--output grouped` shows under each rule.
const GROUPED_PLACES: usize = 5;

/// By rule, most severe first, then most frequent: a count, the rule's summary, the first
/// few places, and how many more there are.
fn grouped(cx: &Context<'_>) -> String {
    struct Group<'a> {
        rule: &'static translator::rules::Rule,
        severity: Severity,
        count: usize,
        files: usize,
        places: Vec<String>,
        last_file: Option<&'a Path>,
    }
    let mut groups: Vec<Group<'_>> = Vec::new();
    let mut out = String::new();
    for r in cx.results {
        let report = match &r.outcome {
            Ok(report) => report,
            Err(reason) => {
                out.push_str(&format!("{}: could not be read: {reason}\n", r.name()));
                continue;
            }
        };
        let file = r.name();
        for d in &report.findings {
            let i = match groups.iter().position(|g| g.rule.code == d.code()) {
                Some(i) => i,
                None => {
                    groups.push(Group {
                        rule: d.rule,
                        severity: d.severity,
                        count: 0,
                        files: 0,
                        places: Vec::new(),
                        last_file: None,
                    });
                    groups.len() - 1
                }
            };
            let Some(g) = groups.get_mut(i) else { continue };
            g.count += 1 + d.omitted;
            g.severity = g.severity.max(d.severity);
            if g.last_file != Some(r.path.as_path()) {
                g.files += 1;
                g.last_file = Some(r.path.as_path());
            }
            if g.places.len() < GROUPED_PLACES {
                g.places
                    .push(format!("{}  {}", place(d, report, &file), d.message));
            }
        }
    }
    groups.sort_by(|a, b| {
        (b.severity, b.count, a.rule.code).cmp(&(a.severity, a.count, b.rule.code))
    });
    for g in &groups {
        out.push_str(&format!(
            "{} {}: {} in {}: {}\n",
            paint(cx.color, g.severity, g.severity.as_str()),
            g.rule.code,
            plural(g.count, "finding", "findings"),
            plural(g.files, "file", "files"),
            g.rule.summary
        ));
        for p in &g.places {
            out.push_str(&format!("    {p}\n"));
        }
        if g.count > g.places.len() {
            out.push_str(&format!(
                "    … and {} more (--output concise lists every one)\n",
                g.count - g.places.len()
            ));
        }
    }
    out.push_str(&cx.summary.line());
    out.push('\n');
    out
}

/// One row of `--statistics`.
pub struct StatRow {
    pub rule: &'static translator::rules::Rule,
    /// The most severe severity its findings had.
    pub severity: Severity,
    pub reported: usize,
    pub suppressed: usize,
}

/// Per code, how many findings were reported and suppressed; most reported first.
pub fn statistics_rows(results: &[Linted]) -> Vec<StatRow> {
    let mut rows: Vec<StatRow> = Vec::new();
    let mut add = |d: &Diagnostic, suppressed: bool| {
        let n = 1 + d.omitted;
        let i = match rows.iter().position(|r| r.rule.code == d.code()) {
            Some(i) => i,
            None => {
                rows.push(StatRow {
                    rule: d.rule,
                    severity: d.severity,
                    reported: 0,
                    suppressed: 0,
                });
                rows.len() - 1
            }
        };
        if let Some(row) = rows.get_mut(i) {
            row.severity = row.severity.max(d.severity);
            if suppressed {
                row.suppressed += n;
            } else {
                row.reported += n;
            }
        }
    };
    for report in results.iter().filter_map(|r| r.outcome.as_ref().ok()) {
        for d in &report.findings {
            add(d, false);
        }
        for s in &report.suppressed {
            add(&s.diagnostic, true);
        }
    }
    rows.sort_by(|a, b| {
        (b.reported, b.severity, b.suppressed, a.rule.code).cmp(&(
            a.reported,
            a.severity,
            a.suppressed,
            b.rule.code,
        ))
    });
    rows
}

/// `--statistics`: the rows as a table.
pub fn statistics(results: &[Linted]) -> String {
    let rows = statistics_rows(results);
    let width = rows
        .iter()
        .map(|r| r.rule.code.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let mut out = format!(
        "{:>8}  {:>10}  {:<width$}  {:<8} summary\n",
        "reported", "suppressed", "code", "severity"
    );
    for r in rows {
        out.push_str(&format!(
            "{:>8}  {:>10}  {:<width$}  {:<8} {}\n",
            r.reported,
            r.suppressed,
            r.rule.code,
            r.severity.as_str(),
            r.rule.summary
        ));
    }
    out
}

/// JSON lines, rendered on every core (the files are cut into one run of consecutive files
/// per core, so the order stays the files' order).
fn json(cx: &Context<'_>) -> String {
    let reports: Vec<&LintReport> = cx
        .results
        .iter()
        .filter_map(|r| r.outcome.as_ref().ok())
        .collect();
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let chunk = reports.len().div_ceil(cores).max(1);
    let parts: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = reports
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    let mut out = String::new();
                    for report in part {
                        render::write_json_lines(&mut out, &report.findings, &report.source);
                    }
                    out
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| "{\"error\":\"internal error: rendering failed\"}\n".into())
            })
            .collect()
    });
    let mut out = parts.concat();
    out.push_str(&serde_json::json!({"summary": cx.summary.to_json()}).to_string());
    out.push('\n');
    out
}
