//! `create`'s input: a bundle's config.json translated for the chosen runtime (a plan for
//! pct, a crun config for crun), with the translator's findings on stderr and in the log.

use std::path::PathBuf;

use executor::crun::CreateOptions;
use executor::pack::{PackConfig, Progress};
use executor::runtime::log::{Level, Log};
use executor::runtime::CreateBackend;
use translator::emit::{crun, plan};
use translator::target::RootfsTarget;
use translator::{Diagnostic, Severity};

use super::convert::load_target;
use super::input;
use super::runtime::{CreateArgs, Failure, Global, RuntimeKind};

/// Environment variable naming the target file of `create`/`run` when `--target` is not given.
pub const TARGET_ENV: &str = "PROXMOX_LXCRI_TARGET";

/// One line per finding at warning level or above, in a form logs and engines keep readable.
fn report(diagnostics: &[Diagnostic], log: &Log) {
    for d in diagnostics.iter().filter(|d| d.severity >= Severity::Warning) {
        let at = d.pointer.as_ref().map(|p| format!(" at {p}")).unwrap_or_default();
        let line = format!("{}: {} [{}]{at}", d.severity.as_str(), d.message, d.code());
        eprintln!("proxmox-lxcri: {line}");
        log.write(if d.severity == Severity::Error { Level::Error } else { Level::Warn }, &line);
    }
}

/// The absolute bundle directory and what to create from it.
pub fn translate(global: &Global, args: &CreateArgs, options: CreateOptions) -> Result<(PathBuf, CreateBackend), Failure> {
    if global.runtime == RuntimeKind::Pct && (options.pid_file.is_some() || options.console_socket.is_some()) {
        return Err(Failure::usage(
            "--pid-file and --console-socket need --runtime crun: pct create starts no process, so there is no pid or terminal until start",
        ));
    }
    let bundle = std::fs::canonicalize(&args.bundle)
        .map_err(|e| Failure::usage(format!("bundle {}: {e}", args.bundle.display())))?;
    let bundle_text = bundle
        .to_str()
        .ok_or_else(|| Failure::usage(format!("bundle path {} is not UTF-8", bundle.display())))?
        .to_owned();
    let input = input::read(&bundle_text).map_err(|e| Failure::usage(e.to_string()))?;
    // Engines pass no --target: a wrapper or the engine's environment names the node's file.
    let target_file = args.target.clone().or_else(|| std::env::var_os(TARGET_ENV).filter(|v| !v.is_empty()).map(PathBuf::from));
    let mut target = load_target(target_file.as_ref(), args.pve_version.as_deref()).map_err(|e| Failure::usage(e.to_string()))?;
    if target.rootfs == RootfsTarget::HostPath && target.bundle_dir.is_none() {
        target.bundle_dir = Some(bundle_text);
    }
    let log = global.log();
    // The node policy decides before anything else touches the host.
    let node_policy = super::policy::load(global)?;
    super::policy::enforce(&node_policy, &input, &target, global.runtime.into(), &log)?;
    let t = translator::oci_to_ir(&input.name, &input.bytes, &target);
    report(&t.diagnostics, &log);
    let ir = match (&t.ir, t.has_errors()) {
        (Some(ir), false) => ir,
        _ => {
            let n = t.diagnostics.iter().filter(|d| d.severity == Severity::Error).count();
            return Err(Failure::refused(format!("{} is refused: {n} error(s), listed above", input.name)));
        }
    };
    let backend = match global.runtime {
        RuntimeKind::Pct => {
            let plan = plan::ir_to_plan(ir, &target, &input.name).map_err(|e| Failure::refused(e.to_string()))?;
            CreateBackend::Pct { plan, pack: PackConfig { progress: Progress::Never, ..PackConfig::default() } }
        }
        RuntimeKind::Crun => {
            let mut out = crun::ir_to_crun(ir, &target);
            if let Some(spec) = &t.spec {
                crun::locate(&mut out.diagnostics, spec);
            }
            report(&out.diagnostics, &log);
            CreateBackend::Crun { config: out.to_json(), options }
        }
    };
    Ok((bundle, backend))
}
