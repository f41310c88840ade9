//! Throughput of `pack_rootfs` against `tar -I 'zstd -T0' -cf` on the same tree.
//!
//! `cargo bench -p proxmox-lxcri-executor --bench pack` generates ~200 MB of mixed files (many
//! small text files, medium binaries of varying compressibility, a few large files, symlinks,
//! hard links, nested directories), then alternates the two packers for a few rounds on a warm
//! page cache and prints the median time, MB/s of input and the archive size of each.
//! `PLXC_BENCH_DIR` chooses where the tree is generated (default: the system temp dir);
//! `PLXC_BENCH_ROUNDS` the number of rounds (default 5).

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use executor::pack::{pack_rootfs, PackConfig, Progress};

/// xorshift32: reproducible content without a dependency.
struct Rng(u32);

impl Rng {
    fn next(&mut self) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 17;
        self.0 ^= self.0 << 5;
        self.0
    }
    fn below(&mut self, n: u32) -> u32 {
        self.next() % n
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        let mut v = Vec::with_capacity(n + 4);
        while v.len() < n {
            v.extend_from_slice(&self.next().to_le_bytes());
        }
        v.truncate(n);
        v
    }
}

const WORDS: &[&str] = &[
    "config",
    "the",
    "container",
    "proxmox",
    "rootfs",
    "lib",
    "usr",
    "share",
    "error",
    "value",
    "return",
    "function",
    "int",
    "char",
    "static",
    "include",
    "define",
    "if",
    "else",
    "for",
    "while",
    "struct",
    "license",
    "copyright",
    "GNU",
    "version",
    "/etc/",
    "0x1f",
    "==",
    "{",
    "}",
];

fn text(rng: &mut Rng, n: usize) -> Vec<u8> {
    let mut s = Vec::with_capacity(n + 16);
    while s.len() < n {
        s.extend_from_slice(WORDS[rng.below(WORDS.len() as u32) as usize].as_bytes());
        s.push(if rng.below(10) == 0 { b'\n' } else { b' ' });
    }
    s.truncate(n);
    s
}

/// Binary with some structure: random runs mixed with repeated runs.
fn semi(rng: &mut Rng, n: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(n + 4096);
    while v.len() < n {
        let run = 64 + rng.below(2048) as usize;
        if rng.below(3) == 0 {
            v.extend_from_slice(&rng.bytes(run));
        } else {
            let b = rng.below(256) as u8;
            v.extend(std::iter::repeat_n(b, run));
        }
    }
    v.truncate(n);
    v
}

fn generate(root: &Path) -> u64 {
    let mut rng = Rng(0x9e37_79b9);
    let mut total = 0u64;
    let mut put = |p: &Path, data: Vec<u8>| {
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        total += data.len() as u64;
        fs::write(p, data).unwrap();
    };
    // ~40 MB of small text files in a nested tree.
    for i in 0..5000 {
        let n = 512 + rng.below(15 * 1024) as usize;
        let p = root.join(format!(
            "usr/share/doc/pkg{}/sub{}/file{i}.txt",
            i % 97,
            i % 7
        ));
        put(&p, text(&mut rng, n));
    }
    // ~90 MB of medium binaries: a third incompressible, the rest semi-compressible.
    for i in 0..300 {
        let n = 64 * 1024 + rng.below(512 * 1024) as usize;
        let p = root.join(format!("usr/lib/x86_64-linux-gnu/lib{i}.so.1"));
        let data = if i % 3 == 0 {
            rng.bytes(n)
        } else {
            semi(&mut rng, n)
        };
        put(&p, data);
    }
    // ~70 MB of large files.
    put(&root.join("opt/app/blob.bin"), rng.bytes(24 << 20));
    put(&root.join("opt/app/data.db"), semi(&mut rng, 24 << 20));
    put(&root.join("var/log/big.log"), text(&mut rng, 22 << 20));
    for i in 0..200 {
        let link = root.join(format!("usr/bin/tool{i}"));
        fs::create_dir_all(link.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(format!("../lib/x86_64-linux-gnu/lib{}.so.1", i % 300), link)
            .unwrap();
    }
    for i in 0..50 {
        fs::hard_link(
            root.join(format!("usr/lib/x86_64-linux-gnu/lib{i}.so.1")),
            root.join(format!("usr/lib/x86_64-linux-gnu/lib{i}.so")),
        )
        .unwrap();
    }
    total
}

/// User + system CPU time of this process (all threads) or of its waited-for children.
fn cpu(who: libc::c_int) -> Duration {
    // SAFETY: getrusage only writes the struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::getrusage(who, &mut u) };
    assert_eq!(rc, 0, "getrusage");
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(u.ru_utime) + tv(u.ru_stime)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

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
