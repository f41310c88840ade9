//! Golden tests: every `golden/<case>/config.json` (with an optional
//! `target.json`) is translated, and each output is compared with the reviewed
//! insta snapshot beside it. Adding a case is adding a folder.

use std::path::{Path, PathBuf};

use proxmox_lxcri::cli::convert::{self, OutputKind};
use proxmox_lxcri::cli::render;
use translator::emit::{pct_conf, pve};
use translator::Target;

fn cases() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("golden");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.join("config.json").is_file())
                .collect()
        })
        .unwrap_or_default();
    dirs.sort();
    if let Ok(only) = std::env::var("GOLDEN_CASE") {
        dirs.retain(|d| d.file_name().is_some_and(|n| n.to_string_lossy() == only));
    }
    dirs
}

fn target_for(dir: &Path) -> Target {
    match std::fs::read_to_string(dir.join("target.json")) {
        Ok(text) => match Target::from_json(&text) {
            Ok(t) => t,
            Err(e) => panic!("{}: {e}", dir.display()),
        },
        Err(_) => Target::default(),
    }
}

/// Every case is checked, and all that fail are named at the end, so one
/// run shows everything a change did (insta writes a `.snap.new` for each).
#[test]
fn golden_cases() {
    let cases = cases();
    assert!(
        cases.len() >= 30 || std::env::var("GOLDEN_CASE").is_ok(),
        "only {} golden cases",
        cases.len()
    );
    let mut failed = Vec::new();
    for dir in cases {
        if std::panic::catch_unwind(|| check_case(&dir)).is_err() {
            failed.push(
                dir.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            );
        }
    }
    assert!(failed.is_empty(), "{} golden case(s) differ from their reviewed snapshots: {}\nreview with `cargo insta review`", failed.len(), failed.join(", "));
}

fn check_case(dir: &Path) {
    {
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let bytes = std::fs::read(dir.join("config.json")).unwrap_or_default();
        let target = target_for(dir);
        let t = translator::oci_to_ir(&format!("golden/{name}/config.json"), &bytes, &target);
        let human = render::human(&t.diagnostics, &t.source, false);
        let json = render::json_lines(&t.diagnostics, &t.source);
        let conf = match (&t.ir, t.has_errors()) {
            (Some(ir), false) => match pct_conf::write(&pve::ir_to_pve(ir)) {
                Ok(text) => text,
                Err(e) => panic!("{name}: {e}"),
            },
            _ => format!(
                "(refused: {} error diagnostics)\n",
                t.diagnostics.iter().filter(|d| d.is_error()).count()
            ),
        };
        let source = format!("golden/{name}/config.json");
        let back_end = |kind: OutputKind| match (&t.ir, t.has_errors()) {
            (Some(ir), false) => {
                match convert::emit(kind, ir, t.spec.as_ref(), &target, &source, &mut Vec::new()) {
                    Ok(text) => text,
                    Err(e) => panic!("{name}: {kind:?}: {e}"),
                }
            }
            _ => format!(
                "(refused: {} error diagnostics)\n",
                t.diagnostics.iter().filter(|d| d.is_error()).count()
            ),
        };
        let (plan_json, plan_sh) = (back_end(OutputKind::Plan), back_end(OutputKind::PlanSh));
        // The crun back end reports what it adds or the target's crun lacks.
        let mut crun_diags = Vec::new();
        let crun_json = match (&t.ir, t.has_errors()) {
            (Some(ir), false) => match convert::emit(
                OutputKind::Crun,
                ir,
                t.spec.as_ref(),
                &target,
                &source,
                &mut crun_diags,
            ) {
                Ok(text) => text,
                Err(e) => panic!("{name}: crun: {e}"),
            },
            _ => format!(
                "(refused: {} error diagnostics)\n",
                t.diagnostics.iter().filter(|d| d.is_error()).count()
            ),
        };
        let crun_report: String = crun_diags
            .iter()
            .map(|d| {
                format!(
                    "{} {} {}: {}\n",
                    d.severity.as_str(),
                    d.code(),
                    d.pointer.as_ref().map(|p| p.as_str()).unwrap_or("-"),
                    d.message
                )
            })
            .collect();
        insta::with_settings!({
            snapshot_path => dir,
            prepend_module_to_snapshot => false,
            omit_expression => true,
            description => format!("golden case {name}"),
        }, {
            insta::assert_snapshot!("pct.conf", conf);
            insta::assert_snapshot!("diagnostics.txt", human);
            insta::assert_snapshot!("diagnostics.json", json);
            insta::assert_snapshot!("plan.json", plan_json);
            insta::assert_snapshot!("plan.sh", plan_sh);
            insta::assert_snapshot!("crun.json", crun_json);
            insta::assert_snapshot!("crun-diagnostics.txt", crun_report);
        });
    }
}
