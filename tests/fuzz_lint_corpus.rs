//! Replays the `lint` fuzz target's corpus, the raw-input corpus and the
//! hostile inputs through the target's own check (tests/lint_support), with a
//! time limit per input, so CI catches a regression without running a fuzzer.

mod lint_support;

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

/// Generous for an unoptimised test build.
const LIMIT: Duration = Duration::from_secs(10);

fn files(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

#[test]
fn lint_corpus_and_hostile_inputs() {
    let inputs: Vec<PathBuf> = [
        "fuzz/corpus/lint",
        "fuzz/corpus/parse_lower_emit",
        "tests/hostile/inputs",
    ]
    .iter()
    .flat_map(|d| files(d))
    .collect();
    assert!(inputs.len() >= 100, "only {} inputs", inputs.len());
    let mut failures = Vec::new();
    for file in &inputs {
        let bytes = std::fs::read(file).unwrap_or_default();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let result = std::panic::catch_unwind(|| lint_support::check(&bytes));
            let _ = tx.send(result.is_ok());
        });
        match rx.recv_timeout(LIMIT) {
            Ok(true) => {}
            Ok(false) => failures.push(format!("{}: panicked", file.display())),
            Err(_) => failures.push(format!("{}: no result within {LIMIT:?}", file.display())),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} inputs failed:\n{}",
        failures.len(),
        inputs.len(),
        failures.join("\n")
    );
}
