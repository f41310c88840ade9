//! Fails when peak heap per input byte regresses (README, "Memory").
//!
//! Measures allocations with a counting global allocator, not time or RSS,
//! so debug and release builds agree. One test only: the counter sees every
//! thread of the process, and the stages must not overlap with other tests.
//! The input is the realistic 20 MB config of tests/support/big_config.rs
//! (the benchmark, benches/memory.rs, also measures 200 MB).

#[allow(dead_code)]
#[path = "support/big_config.rs"]
mod big_config;
#[allow(dead_code)]
#[path = "support/counting_alloc.rs"]
mod counting_alloc;
#[allow(dead_code)]
#[path = "support/memory_stages.rs"]
mod memory_stages;

#[global_allocator]
static ALLOC: counting_alloc::Counting = counting_alloc::Counting;

/// The most heap each stage may hold at its peak, per input byte (the
/// input itself not counted). Measured: parse 2.2, parse + lower and the
/// Proxmox back ends 4.8, lint 6.5 (README). `convert --to crun` builds a
/// serde_json copy of the whole config and is not bounded yet (19.6).
const LIMITS: &[(&str, f64)] =
    &[("parse", 2.5), ("parse+lower", 5.2), ("convert pct-conf", 5.2), ("convert plan", 5.2), ("convert plan-sh", 5.2), ("lint", 7.0)];

#[test]
fn peak_heap_per_input_byte_stays_bounded() {
    the_tree_costs_less_than_the_text_it_indexes();
    let bytes = big_config::generate(20_000_000).into_bytes();
    assert!(bytes.len().abs_diff(20_000_000) < 64 * 1024, "{}", bytes.len());
    let check: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
    assert!(check["linux"]["seccomp"]["syscalls"].as_array().is_some_and(|a| a.len() > 10_000), "a realistic config");
    drop(check);
    let target = translator::Target::default();
    let mut report = Vec::new();
    let mut over = Vec::new();
    for (stage, limit) in LIMITS {
        let (result, peak) = counting_alloc::peak_during(|| memory_stages::run(stage, "config.json", &bytes, &target));
        std::hint::black_box(result);
        let ratio = peak as f64 / bytes.len() as f64;
        report.push(format!("{stage}: {:.1} MB, {ratio:.2}× (limit {limit}×)", peak as f64 / 1e6));
        if ratio > *limit {
            over.push(stage.to_string());
        }
    }
    eprintln!("{}", report.join("\n"));
    assert!(over.is_empty(), "peak heap over its limit for {over:?}:\n{}", report.join("\n"));
}

/// The tree itself: a node is 12 bytes, strings are not copied, and a
/// document of a hundred bytes does not pay for a chunk of 32,768 nodes.
fn the_tree_costs_less_than_the_text_it_indexes() {
    let text = big_config::generate(2_000_000);
    let parsed = translator::json::parse(&text);
    let tree = parsed.tree.unwrap_or_else(|| panic!("the generated config parses"));
    let ratio = tree.heap_bytes() as f64 / text.len() as f64;
    assert!(ratio < 1.6, "tree {ratio:.2}× its text");
    let small = translator::json::parse(r#"{"ociVersion": "1.2.0"}"#).tree.map(|t| t.heap_bytes()).unwrap_or(usize::MAX);
    assert!(small < 1024, "{small} bytes for a small document");
}
