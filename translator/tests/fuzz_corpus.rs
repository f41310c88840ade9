//! Replays the fuzz corpora and the raw hostile inputs through the fuzz
//! targets' own entry points, with a time limit per input, so CI catches a
//! regression of any crash or slow input without running a fuzzer.
//!
//! fuzz/corpus/<target>/ holds the seed corpus (golden configs, hostile
//! cases) and every input a fuzzer found that crashed, hung or was slow.

mod support;

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use support::entry;
use support::pct_grammar::Schema;

/// Generous for an unoptimised test build; a release build is 20–50× faster.
const LIMIT: Duration = Duration::from_secs(10);

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
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

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

/// Inputs of known, reported bugs (tests/hostile/cases.json `fixme`): the
/// hostile suite asserts their current behaviour until they are fixed.
fn known_bugs() -> Vec<String> {
    let text = std::fs::read_to_string(repo().join("tests/hostile/cases.json")).unwrap_or_default();
    let data: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    data["cases"]
        .as_array()
        .map(|cases| {
            cases
                .iter()
                .filter(|c| c["fixme"].is_string())
                .filter_map(|c| c["input"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// Runs `run` on every file of `dir` in a worker thread; collects failures.
fn replay(dir: &Path, run: fn(&Schema, &[u8]), min_files: usize) {
    let known = known_bugs();
    let files: Vec<PathBuf> = files(dir)
        .into_iter()
        .filter(|f| {
            !f.file_name()
                .is_some_and(|n| known.iter().any(|k| n.to_string_lossy() == *k))
        })
        .collect();
    assert!(
        files.len() >= min_files,
        "{}: {} files, expected at least {min_files}",
        dir.display(),
        files.len()
    );
    let mut failures = Vec::new();
    let mut slowest = (Duration::ZERO, PathBuf::new());
    for file in &files {
        let bytes = std::fs::read(file).unwrap_or_default();
        let (tx, rx) = mpsc::channel();
        let started = Instant::now();
        std::thread::spawn(move || {
            let schema = Schema::load();
            let result = std::panic::catch_unwind(|| run(&schema, &bytes))
                .map_err(|p| panic_message(p.as_ref()));
            let _ = tx.send(result);
        });
        match rx.recv_timeout(LIMIT) {
            Ok(Ok(())) => {}
            Ok(Err(msg)) => failures.push(format!("{}: panicked: {msg}", file.display())),
            Err(_) => failures.push(format!("{}: no result within {LIMIT:?}", file.display())),
        }
        let took = started.elapsed();
        if took > slowest.0 {
            slowest = (took, file.clone());
        }
    }
    eprintln!(
        "{}: {} inputs, slowest {:?} ({})",
        dir.display(),
        files.len(),
        slowest.0,
        slowest.1.display()
    );
    assert!(
        failures.is_empty(),
        "{} of {} inputs failed:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

#[test]
fn parse_lower_emit_corpus() {
    replay(
        &repo().join("fuzz/corpus/parse_lower_emit"),
        entry::raw_bytes,
        1,
    );
}

#[test]
fn structured_corpus() {
    replay(
        &repo().join("fuzz/corpus/structured"),
        support::gen::structured,
        1,
    );
}

#[test]
fn hostile_inputs_through_the_raw_entry_point() {
    replay(&repo().join("tests/hostile/inputs"), entry::raw_bytes, 40);
}

#[test]
fn shell_quote_corpus() {
    replay(
        &repo().join("fuzz/corpus/shell_quote"),
        entry::shell_quote_bytes,
        1,
    );
}
