//! Peak heap per input byte for large configs: parse, parse + lower, `convert`
//! to each back end, and `lint` (README, "Memory").
//!
//! `cargo bench -p proxmox-lxcri-translator --bench memory` measures the
//! realistic configs of tests/support/big_config.rs at 20 MB and 200 MB
//! (`-- 5 50` for other sizes in MB). `-- --write DIR 20 200` only writes the
//! configs to DIR (`DIR/config-20mb.json`, …), for the whole-process RSS
//! measurement of benches/memory-rss.sh. `-- --breakdown 20` shows what each
//! area of the config costs in parse + lower (`STAGE=lint` for another stage).
//!
//! The counting allocator sees every allocation of this process; the stages
//! run one after another on one thread.

#[allow(dead_code)]
#[path = "../tests/support/big_config.rs"]
mod big_config;
#[allow(dead_code)]
#[path = "../tests/support/counting_alloc.rs"]
mod counting_alloc;
#[allow(dead_code)]
#[path = "../tests/support/memory_stages.rs"]
mod memory_stages;

use std::time::Instant;

use translator::Target;

#[global_allocator]
static ALLOC: counting_alloc::Counting = counting_alloc::Counting;

const MB: usize = 1_000_000;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    // `cargo test --benches` runs this once to check that it works; keep that quick.
    let quick = args.iter().any(|a| a == "--test");
    let write_to = args
        .iter()
        .position(|a| a == "--write")
        .and_then(|i| args.get(i + 1))
        .cloned();
    let mut sizes: Vec<usize> = args
        .iter()
        .filter_map(|a| a.parse::<usize>().ok())
        .collect();
    if sizes.is_empty() {
        sizes = if quick { vec![1] } else { vec![20, 200] };
    }
    if let Some(dir) = write_to {
        for mb in sizes {
            let path = std::path::Path::new(&dir).join(format!("config-{mb}mb.json"));
            if let Err(e) = std::fs::write(&path, big_config::generate(mb * MB)) {
                eprintln!("{}: {e}", path.display());
                std::process::exit(1);
            }
            println!("{}", path.display());
        }
        return;
    }
    let target = Target::default();
    if args.iter().any(|a| a == "--breakdown") {
        breakdown(&sizes, &target);
        return;
    }
    // "above input": peak heap besides the input buffer the stage is handed;
    // "with input": that plus the input, per input byte (the goal is 3×).
    println!(
        "{:<18} {:>10} {:>12} {:>12} {:>11} {:>9}",
        "stage", "input", "peak heap", "above input", "with input", "time"
    );
    for mb in sizes {
        let bytes = big_config::generate(mb * MB).into_bytes();
        for stage in memory_stages::STAGES {
            let started = Instant::now();
            let (input, target) = (bytes.clone(), &target);
            let (result, peak) = counting_alloc::peak_during(move || {
                memory_stages::run(stage, "config.json", input, target)
            });
            std::hint::black_box(result);
            println!(
                "{:<18} {:>7} MB {:>9.1} MB {:>11.2}× {:>10.2}× {:>7.2} s",
                stage,
                bytes.len() / MB,
                peak as f64 / MB as f64,
                peak as f64 / bytes.len() as f64,
                (peak + bytes.len()) as f64 / bytes.len() as f64,
                started.elapsed().as_secs_f64()
            );
        }
    }
}

/// Where parse + lower spends: the same config with one area emptied.
fn breakdown(sizes: &[usize], target: &Target) {
    for &mb in sizes {
        let text = big_config::generate(mb * MB);
        let full: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        let stage = std::env::var("STAGE").unwrap_or_else(|_| "parse+lower".into());
        let measure = |v: &serde_json::Value| {
            let bytes = serde_json::to_vec(v).unwrap_or_default();
            let (input, stage) = (bytes.clone(), stage.as_str());
            let (_, peak) = counting_alloc::peak_during(move || {
                memory_stages::run(stage, "config.json", input, target)
            });
            (bytes.len(), peak)
        };
        let (len, all) = measure(&full);
        println!("{stage}: {len} bytes, peak {all}");
        for (name, path) in [
            ("env", "/process/env"),
            ("args", "/process/args"),
            ("mounts", "/mounts"),
            ("seccomp", "/linux/seccomp/syscalls"),
            ("windows", "/windows/devices"),
        ] {
            let mut v = full.clone();
            if let Some(x) = v.pointer_mut(path) {
                *x = serde_json::Value::Array(Vec::new());
            }
            let (l, p) = measure(&v);
            println!(
                "{name:<8} {:>6.1} MB of input costs {:>6.1} MB ({:.2}×)",
                (len - l) as f64 / 1e6,
                (all - p) as f64 / 1e6,
                (all - p) as f64 / (len - l) as f64
            );
        }
    }
}
