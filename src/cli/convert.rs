//! `convert`: a bundle's config.json → what Proxmox VE gets.

use std::path::PathBuf;

use translator::emit::crun;
use translator::emit::pct_conf::WriteError;
use translator::emit::plan::shell;
use translator::emit::plan::PlanError;
use translator::{ir, spec, Diagnostic, Target};

use super::render::{self, DiagFormat};
use super::{input, load_target, Failure, EXIT_OK, EXIT_REFUSED};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum OutputKind {
    /// The /etc/pve/lxc/<vmid>.conf text
    #[default]
    PctConf,
    /// The plan as JSON: the host steps `proxmox-lxcri apply` runs (`proxmox-lxcri schema plan`)
    Plan,
    /// The same plan as a POSIX shell script, for review
    PlanSh,
    /// An OCI config.json for crun (runc and youki run it too)
    Crun,
    /// With --image: the OCI bundle the image gives (config.json and rootfs/) in the -o DIR
    Bundle,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// A bundle directory, its config.json, or - for standard input
    #[arg(required_unless_present = "image", conflicts_with = "image")]
    pub input: Option<String>,
    /// An OCI image instead of a bundle: oci:DIR[:TAG], oci-archive:FILE[:TAG] (tar, gzip or
    /// zstd) or docker-archive:FILE[:NAME:TAG]
    #[arg(long, value_name = "REF")]
    pub image: Option<String>,
    /// The platform to take from a multi-platform image (os/arch[/variant]; default: this
    /// machine's)
    #[arg(long, value_name = "OS/ARCH", requires = "image")]
    pub platform: Option<String>,
    /// The size of each new volume the image's `Volumes` become (whole GiB: 1G, 20G) [default: 1G]
    #[arg(long = "volume-size", value_name = "SIZE", requires = "image", value_parser = super::image::parse_volume_size)]
    pub volume_size: Option<u32>,
    /// What to produce
    #[arg(long = "to", value_enum, default_value_t)]
    pub to: OutputKind,
    /// A JSON file with the node's facts (`proxmox-lxcri schema target`) [env: PROXMOX_LXCRI_TARGET; default /etc/proxmox-lxcri/target.json, then built-in]
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
    /// The global `--color`
    #[arg(skip)]
    pub color: super::ColorChoice,
}

pub fn run(args: &Args) -> u8 {
    let target = match load_target(args.target.as_ref(), args.pve_version.as_deref()) {
        Ok(t) => t,
        Err(f) => return f.report(None),
    };
    let (input, image) = match (&args.image, &args.input) {
        (Some(reference), _) => {
            let spec = super::image::volume_spec(&target, args.volume_size);
            let loaded =
                match super::image::load(reference, args.platform.as_deref(), spec.as_ref()) {
                    Ok(l) => l,
                    Err(f) => return f.report(None),
                };
            match loaded.into_input(reference, args.format, args.color) {
                Ok((input, image, volumes)) => (input, Some((image, volumes, spec))),
                Err(code) => return code,
            }
        }
        (None, Some(arg)) => match input::read(arg) {
            Ok(i) => (i, None),
            Err(f) => return f.report(None),
        },
        (None, None) => return Failure::usage("name a bundle or --image REF").report(None),
    };
    if args.to == OutputKind::Bundle {
        let (Some((image, _, _)), Some(dir)) = (&image, &args.output) else {
            return Failure::usage("--to bundle needs --image REF and -o DIR").report(None);
        };
        return match super::image::write_bundle(image, &input.bytes, dir) {
            Ok(()) => EXIT_OK,
            Err(f) => f.report(None),
        };
    }
    // The bytes read become the text the source and the tree share: the input is held once.
    let mut t = translator::oci_to_ir_owned(&input.name, input.bytes, &target);
    if let (Some(ir), Some((_, volumes, Some(spec)))) = (t.ir.as_mut(), &image) {
        translator::image::add_volumes(ir, volumes, spec);
    }
    let refused = t.has_errors();
    let mut diagnostics = std::mem::take(&mut t.diagnostics);
    let output = match (&t.ir, refused, &image) {
        // From an image, the plan packs the image's layers, not a directory.
        (Some(ir), false, Some((image, _, _)))
            if matches!(args.to, OutputKind::Plan | OutputKind::PlanSh) =>
        {
            Some(image_plan(args.to, ir, &target, &input.name, image))
        }
        (Some(ir), false, _) => Some(build(
            args.to,
            ir,
            t.spec.as_ref(),
            &target,
            &input.name,
            &mut diagnostics,
        )),
        _ => None,
    };
    // A config larger than pmxcfs keeps is a finding of its own (`pve/config-too-large`),
    // reported with the others, not a bare error line.
    let output = match output {
        Some(Err(Refusal::TooLarge)) => {
            diagnostics.push(translator::emit::pct_conf::too_large_diagnostic(
                t.spec.as_ref(),
            ));
            None
        }
        other => other,
    };
    translator::diag::sort(&mut diagnostics);
    if super::quiet() {
        diagnostics.retain(|d| d.severity == translator::Severity::Error);
    }
    render::emit(&diagnostics, &t.source, args.format, args.color);
    drop(diagnostics);
    let output = match output {
        Some(Ok(output)) => output,
        Some(Err(e)) => {
            return Failure::refused(e.to_string()).report(None);
        }
        None => return EXIT_REFUSED,
    };
    let written = match &args.output {
        Some(path) => std::fs::File::create(path)
            .and_then(|f| output.write_to(&mut std::io::BufWriter::new(f))),
        None => output.write_to(&mut std::io::BufWriter::new(std::io::stdout().lock())),
    };
    if let Err(source) = written {
        let path = args
            .output
            .clone()
            .unwrap_or_else(|| std::path::PathBuf::from("standard output"));
        return Failure::io(&path, source).report(None);
    }
    EXIT_OK
}

/// `--to plan` / `plan-sh` of an image: the plan with its `pack-rootfs` step streaming the
/// image's layers (as `create --image` applies it).
fn image_plan(
    kind: OutputKind,
    ir: &ir::Container,
    target: &Target,
    source: &str,
    image: &executor::image::Opened,
) -> Result<Output<'static>, Refusal> {
    let plan = translator::ir_to_plan(ir, target, source)?;
    let plan = translator::emit::plan::with_image(plan, image.source.clone())?;
    if kind == OutputKind::PlanSh {
        return shell::write(&plan)
            .map(Output::Text)
            .map_err(|e| Refusal::Other(e.to_string()));
    }
    Ok(Output::Text(plan.to_json()))
}

/// What a back end produced: text, or the crun config, written straight
/// from the IR and the parsed input instead of held as a string (README,
/// "Memory").
pub enum Output<'a> {
    Text(String),
    Crun(crun::Crun<'a>),
}

impl Output<'_> {
    pub fn write_to(&self, w: &mut dyn std::io::Write) -> std::io::Result<()> {
        match self {
            Output::Text(text) => w.write_all(text.as_bytes())?,
            Output::Crun(c) => c.write_to(w)?,
        }
        w.flush()
    }

    pub fn into_string(self) -> String {
        match self {
            Output::Text(text) => text,
            Output::Crun(c) => c.to_json(),
        }
    }
}

/// Runs one back end and returns its output as text.
pub fn emit(
    kind: OutputKind,
    ir: &ir::Container,
    spec: Option<&spec::Spec>,
    target: &Target,
    source: &str,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<String, String> {
    build(kind, ir, spec, target, source, diagnostics)
        .map(Output::into_string)
        .map_err(|e| e.to_string())
}

/// Why a back end produced nothing.
#[derive(Debug)]
pub enum Refusal {
    /// The container config would be larger than pmxcfs keeps: `pve/config-too-large`.
    TooLarge,
    /// Any other refusal of the writer (a guard against translator bugs).
    Other(String),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::TooLarge => f.write_str(&WriteError::TooLarge.to_string()),
            Refusal::Other(s) => f.write_str(s),
        }
    }
}

impl From<WriteError> for Refusal {
    fn from(e: WriteError) -> Self {
        match e {
            WriteError::TooLarge => Refusal::TooLarge,
            e => Refusal::Other(e.to_string()),
        }
    }
}

impl From<PlanError> for Refusal {
    fn from(e: PlanError) -> Self {
        match e {
            PlanError::Config(w) => w.into(),
            e => Refusal::Other(e.to_string()),
        }
    }
}

/// Runs one back end. Back ends that report (crun) add their diagnostics.
pub fn build<'a>(
    kind: OutputKind,
    ir: &'a ir::Container,
    spec: Option<&spec::Spec>,
    target: &Target,
    source: &str,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<Output<'a>, Refusal> {
    match kind {
        OutputKind::PctConf => Ok(Output::Text(translator::ir_to_pct_conf(ir)?)),
        OutputKind::Plan => Ok(Output::Text(
            translator::ir_to_plan(ir, target, source)?.to_json(),
        )),
        OutputKind::PlanSh => {
            let plan = translator::ir_to_plan(ir, target, source)?;
            shell::write(&plan)
                .map(Output::Text)
                .map_err(|e| Refusal::Other(e.to_string()))
        }
        OutputKind::Crun => {
            let mut out = translator::ir_to_crun(ir, spec, target);
            diagnostics.append(&mut out.diagnostics);
            Ok(Output::Crun(out))
        }
        OutputKind::Bundle => Err(Refusal::Other(
            "--to bundle writes a directory (with --image and -o DIR)".into(),
        )),
    }
}
