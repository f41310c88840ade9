//! The stages whose peak heap the memory measurements report, each run as
//! the binary runs it (src/cli/convert.rs, src/cli/lint.rs): the parse, the
//! lowering, `convert` to each back end (the translation stays alive while
//! the back end runs, and the diagnostics are copied as `convert` copies
//! them), and `lint`.
//!
//! Needs [`super::counting_alloc::Counting`] installed as the global allocator.

use super::counting_alloc::peak_during;
use translator::emit::plan::{self, shell};
use translator::emit::{crun, pct_conf, pve};
use translator::lint::engine::{self, LintConfig};
use translator::Target;

/// One measured stage: its name, the peak heap bytes above what was live
/// before it started (the input bytes, which the stage is given as the
/// binary gives them, are not counted), and a number from its result so the
/// work cannot be optimised away.
pub struct Measured {
    pub stage: &'static str,
    pub peak: usize,
    pub result: usize,
}

pub const STAGES: &[&str] = &[
    "parse",
    "parse+lower",
    "convert pct-conf",
    "convert plan",
    "convert plan-sh",
    "convert crun",
    "lint",
];

/// Runs one stage on input it takes over, as `convert` takes over the bytes
/// it read (`lint` reads them borrowed, and copies them).
pub fn run(stage: &str, name: &str, bytes: Vec<u8>, target: &Target) -> usize {
    match stage {
        "parse" => {
            let mut diags = Vec::new();
            let (source, spec) = translator::spec::parse_owned(name, bytes, &mut diags);
            source.text().len() + usize::from(spec.is_some()) + diags.len()
        }
        "parse+lower" => {
            let t = translator::oci_to_ir_owned(name, bytes, target);
            t.diagnostics.len() + usize::from(t.ir.is_some())
        }
        "convert pct-conf" | "convert plan" | "convert plan-sh" | "convert crun" => {
            let mut t = translator::oci_to_ir_owned(name, bytes, target);
            // As `convert` does: it takes the translation's diagnostics and adds the back end's.
            let mut diagnostics = std::mem::take(&mut t.diagnostics);
            let Some(ir) = &t.ir else {
                return diagnostics.len();
            };
            let out = match stage {
                "convert pct-conf" => pct_conf::write(&pve::ir_to_pve(ir))
                    .map(|s| s.len())
                    .unwrap_or(1),
                "convert plan" => plan::ir_to_plan(ir, target, name)
                    .map(|p| p.to_json().len())
                    .unwrap_or(1),
                "convert plan-sh" => plan::ir_to_plan(ir, target, name)
                    .ok()
                    .and_then(|p| shell::write(&p).ok())
                    .map(|s| s.len())
                    .unwrap_or(1),
                _ => {
                    let mut out = crun::ir_to_crun(ir, target);
                    if let Some(spec) = &t.spec {
                        crun::locate(&mut out.diagnostics, spec);
                    }
                    diagnostics.append(&mut out.diagnostics);
                    // As `convert` does: written straight to the output, here one that counts.
                    let mut written = Counted(0);
                    out.write_to(&mut written).map(|()| written.0).unwrap_or(1)
                }
            };
            out + diagnostics.len()
        }
        "lint" => {
            let report = engine::lint(
                name,
                &bytes,
                &LintConfig {
                    target: target.clone(),
                    ..LintConfig::default()
                },
            );
            report.findings.len() + report.suppressed.len() + report.source.text().len()
        }
        other => panic!("unknown stage {other}"),
    }
}

/// Every stage, each measured on its own.
pub fn measure_all(name: &str, bytes: &[u8], target: &Target) -> Vec<Measured> {
    STAGES
        .iter()
        .map(|stage| {
            let input = bytes.to_vec();
            let (result, peak) = peak_during(move || run(stage, name, input, target));
            Measured {
                stage,
                peak,
                result,
            }
        })
        .collect()
}

/// A writer that only counts the bytes written to it.
struct Counted(usize);

impl std::io::Write for Counted {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
