//! Throughput of `pack_rootfs` against `tar -I 'zstd -T0' -cf` on the same tree.
//!
//! `cargo bench -p proxmox-lxcri-executor --bench pack` generates ~200 MB of mixed files (many
//! small text files, medium binaries of varying compressibility, a few large files, symlinks,
//! hard links, nested directories), then alternates the two packers for a few rounds on a warm
//! page cache and prints the median time, MB/s of input and the archive size of each.
//! `PLXC_BENCH_DIR` chooses where the tree is generated (default: the system temp dir);
//! `PLXC_BENCH_ROUNDS` the number of rounds (default 5).

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{cpu, generate, median};

use executor::pack::{pack_rootfs, PackConfig, Progress};

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing useful. Only run the
    // (slow) measurement when asked to benchmark.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let base = std::env::var_os("PLXC_BENCH_DIR").map_or_else(std::env::temp_dir, Into::into);
    let rounds: usize = std::env::var("PLXC_BENCH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let work = tempfile::tempdir_in(base).unwrap();
    let tree = work.path().join("rootfs");
    fs::create_dir(&tree).unwrap();
    let bytes = generate(&tree);
    let mb = bytes as f64 / 1e6;
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    println!("tree: {mb:.1} MB of file data, {cores} cores");

    let ours_out = work.path().join("ours.tar.zst");
    let tar_out = work.path().join("gnu.tar.zst");
    let cfg = PackConfig {
        progress: Progress::Never,
        ..PackConfig::default()
    };
    let run_ours = || {
        let c = cpu(libc::RUSAGE_SELF);
        let t = Instant::now();
        pack_rootfs(&tree, &ours_out, &cfg).unwrap();
        (t.elapsed(), cpu(libc::RUSAGE_SELF) - c)
    };
    let run_tar = || {
        let c = cpu(libc::RUSAGE_CHILDREN);
        let t = Instant::now();
        let st = Command::new("tar")
            .arg("-I")
            .arg("zstd -T0")
            .arg("-cf")
            .arg(&tar_out)
            .arg("-C")
            .arg(&tree)
            .arg(".")
            .status()
            .expect("GNU tar and zstd must be installed");
        assert!(st.success());
        (t.elapsed(), cpu(libc::RUSAGE_CHILDREN) - c)
    };
    // Warm the page cache for both.
    run_ours();
    run_tar();
    let (mut ours, mut gnu) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        ours.push(run_ours());
        gnu.push(run_tar());
    }
    let size = |p: &Path| fs::metadata(p).unwrap().len() as f64 / 1e6;
    let report = |label: &str, runs: &[(Duration, Duration)], out: &Path| {
        let wall = median(runs.iter().map(|r| r.0).collect());
        let cpu = median(runs.iter().map(|r| r.1).collect());
        let best = runs.iter().map(|r| r.0).min().unwrap_or_default();
        println!(
            "{label:<24}: wall median {:>6.3} s ({:>6.1} MB/s), best {:>6.3} s ({:>6.1} MB/s), \
             CPU median {:>6.3} s, archive {:>6.1} MB",
            wall.as_secs_f64(),
            mb / wall.as_secs_f64(),
            best.as_secs_f64(),
            mb / best.as_secs_f64(),
            cpu.as_secs_f64(),
            size(out)
        );
        (wall, cpu)
    };
    let (ow, oc) = report("pack_rootfs", &ours, &ours_out);
    let (gw, gc) = report("tar -I 'zstd -T0' -cf", &gnu, &tar_out);
    println!(
        "tar/ours: wall {:.2}, CPU {:.2} (above 1 means pack_rootfs is faster)",
        gw.as_secs_f64() / ow.as_secs_f64(),
        gc.as_secs_f64() / oc.as_secs_f64()
    );
}
