//! Time per config, in process: parse + lower + emit, for pct.conf alone and
//! for every back end (pct.conf, plan JSON, plan script, crun config).
//!
//! `cargo bench -p proxmox-lxcri-translator --bench emit` prints one line per
//! case with the median of many timed batches. The budget (README) is 100 µs
//! for all back ends of a typical config.

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use translator::emit::plan::{self, shell};
use translator::emit::{crun, pct_conf, pve};
use translator::Target;

fn pct_conf_only(name: &str, bytes: &[u8], target: &Target) -> usize {
    let t = translator::oci_to_ir(name, bytes, target);
    let Some(ir) = &t.ir else { return 0 };
    pct_conf::write(&pve::ir_to_pve(ir))
        .map(|s| s.len())
        .unwrap_or(0)
}

fn all_back_ends(name: &str, bytes: &[u8], target: &Target) -> usize {
    let t = translator::oci_to_ir(name, bytes, target);
    let Some(ir) = &t.ir else { return 0 };
    let conf = pve::ir_to_pve(ir);
    let text = pct_conf::write(&conf).map(|s| s.len()).unwrap_or(0);
    let plan = plan::pve_to_plan(&conf, &ir.rootfs, target, name).ok();
    let json = plan.as_ref().map(|p| p.to_json().len()).unwrap_or(0);
    let script = plan
        .as_ref()
        .and_then(|p| shell::write(p).ok())
        .map(|s| s.len())
        .unwrap_or(0);
    let oci = crun::ir_to_crun(ir, target).to_json().len();
    text + json + script + oci
}

/// Median time per call over `batches` batches sized to take about 10 ms each.
fn measure(f: &dyn Fn() -> usize) -> Duration {
    let start = Instant::now();
    let mut calls = 0u32;
    while start.elapsed() < Duration::from_millis(10) {
        black_box(f());
        calls += 1;
    }
    let per_batch = calls.max(1);
    let mut samples: Vec<Duration> = (0..30)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..per_batch {
                black_box(f());
            }
            t.elapsed() / per_batch
        })
        .collect();
    samples.sort();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

fn main() {
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("../golden");
    let target = Target::default();
    // `cargo test --benches` runs this once to check that it works; keep that quick.
    let quick = std::env::args().any(|a| a == "--test");
    for case in [
        "app-nginx",
        "crun-spec",
        "podman-basic",
        "podman-app-volumes",
    ] {
        let path = golden.join(case).join("config.json");
        let Ok(bytes) = std::fs::read(&path) else {
            eprintln!("{}: missing", path.display());
            std::process::exit(1);
        };
        if quick {
            assert!(
                all_back_ends(case, &bytes, &target) > 0,
                "{case}: nothing emitted"
            );
            continue;
        }
        let one = measure(&|| pct_conf_only(case, &bytes, &target));
        let all = measure(&|| all_back_ends(case, &bytes, &target));
        println!(
            "{case:<20} {:>6} bytes   pct-conf {:>8.1} µs   all back ends {:>8.1} µs",
            bytes.len(),
            micros(one),
            micros(all)
        );
        // Where the time goes, each part on its own.
        let lower = measure(&|| {
            translator::oci_to_ir(case, &bytes, &target)
                .diagnostics
                .len()
        });
        let t = translator::oci_to_ir(case, &bytes, &target);
        let Some(ir) = &t.ir else { continue };
        let conf = pve::ir_to_pve(ir);
        let Ok(plan) = plan::pve_to_plan(&conf, &ir.rootfs, &target, case) else {
            continue;
        };
        let plan_json = measure(&|| {
            plan::pve_to_plan(&conf, &ir.rootfs, &target, case)
                .map(|p| p.to_json().len())
                .unwrap_or(0)
        });
        let script = measure(&|| shell::write(&plan).map(|s| s.len()).unwrap_or(0));
        let oci = measure(&|| crun::ir_to_crun(ir, &target).to_json().len());
        println!(
            "{:<20}   parse+lower {:>6.1} µs   plan json {:>6.1} µs   plan.sh {:>6.1} µs   crun {:>6.1} µs",
            "",
            micros(lower),
            micros(plan_json),
            micros(script),
            micros(oci)
        );
    }
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}
