//! Golden tests: every `golden/<case>/config.json` (with an optional
//! `target.json`) is translated, and each output is compared with the reviewed
//! insta snapshot beside it. Adding a case is adding a folder.

use std::path::{Path, PathBuf};

use proxmox_lxcri::cli::render;
use translator::emit::{pct_conf, pve};
use translator::Target;

fn cases() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("golden");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.join("config.json").is_file()).collect())
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

#[test]
fn golden_cases() {
    let cases = cases();
    assert!(cases.len() >= 30 || std::env::var("GOLDEN_CASE").is_ok(), "only {} golden cases", cases.len());
    for dir in cases {
        let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let bytes = std::fs::read(dir.join("config.json")).unwrap_or_default();
        let target = target_for(&dir);
        let t = translator::oci_to_ir(&format!("golden/{name}/config.json"), &bytes, &target);
        let human = render::human(&t.diagnostics, &t.source, false);
        let json = render::json_lines(&t.diagnostics, &t.source);
        let conf = match (&t.ir, t.has_errors()) {
            (Some(ir), false) => match pct_conf::write(&pve::ir_to_pve(ir, &target)) {
                Ok(text) => text,
                Err(e) => panic!("{name}: {e}"),
            },
            _ => format!("(refused: {} error diagnostics)\n", t.diagnostics.iter().filter(|d| d.is_error()).count()),
        };
        insta::with_settings!({
            snapshot_path => dir.clone(),
            prepend_module_to_snapshot => false,
            omit_expression => true,
            description => format!("golden case {name}"),
        }, {
            insta::assert_snapshot!("pct.conf", conf);
            insta::assert_snapshot!("diagnostics.txt", human);
            insta::assert_snapshot!("diagnostics.json", json);
        });
    }
}
