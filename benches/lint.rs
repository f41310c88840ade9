//! Time to lint a directory of 1,000 bundles, the way `proxmox-lxcri lint DIR`
//! does it (walk, read, lint on every core), in process.
//!
//! `cargo bench -p proxmox-lxcri --bench lint` writes 1,000 bundles (the
//! golden configs, repeated) into a temporary directory, lints the tree a few
//! times and prints the median and best wall time and the findings counted,
//! then the time to render the findings in each report format.
//!
//! Then, whole processes side by side in the same run (README, "Lint in CI"):
//! `proxmox-lxcri lint DIR --format json` against `jq empty` over the same
//! 1,000 files (one jq process, as a CI step would run it), alternating, and
//! the median of each. Without jq on PATH that part says so and is skipped.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use proxmox_lxcri::cli::lint::{lint_paths, report, Context, LintFormat, OutputMode, Summary};
use proxmox_lxcri::cli::project::{CommandLine, Resolver};

const BUNDLES: usize = 1000;
const ROUNDS: usize = 7;

fn golden_configs() -> Vec<Vec<u8>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("golden");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.path().join("config.json"))
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    dirs.sort();
    dirs.iter().filter_map(|p| std::fs::read(p).ok()).collect()
}

fn main() {
    let configs = golden_configs();
    assert!(!configs.is_empty(), "no golden configs");
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let mut bytes = 0;
    for i in 0..BUNDLES {
        let bundle = dir.path().join(format!("bundle-{i:04}"));
        std::fs::create_dir_all(bundle.join("rootfs")).unwrap_or_else(|e| panic!("{e}"));
        let config = &configs[i % configs.len()];
        bytes += config.len();
        std::fs::write(bundle.join("config.json"), config).unwrap_or_else(|e| panic!("{e}"));
    }
    let paths = vec![dir.path().to_path_buf()];
    let resolver =
        Resolver::new(CommandLine::default()).unwrap_or_else(|f| panic!("{}", f.message));
    let lint = || {
        lint_paths(&paths, &resolver, None, None)
            .unwrap_or_else(|f| panic!("{}", f.message))
            .results
    };
    let mut times: Vec<Duration> = Vec::new();
    let mut findings = 0;
    for _ in 0..ROUNDS {
        let start = Instant::now();
        let results = lint();
        times.push(start.elapsed());
        assert_eq!(results.len(), BUNDLES);
        findings = results
            .iter()
            .filter_map(|r| r.outcome.as_ref().ok())
            .map(|r| r.findings.len())
            .sum();
    }
    times.sort();
    let results = lint();
    let summary = Summary::of(&results, 0);
    let cx = Context {
        results: &results,
        summary: &summary,
        color: false,
        help_uri_base: None,
    };
    let mut rendering = Vec::new();
    for (name, format) in [
        ("human", LintFormat::Human),
        ("json", LintFormat::Json),
        ("sarif", LintFormat::Sarif),
        ("github", LintFormat::Github),
    ] {
        let mut render_times: Vec<Duration> = (0..ROUNDS)
            .map(|_| {
                let start = Instant::now();
                let text = report(&cx, format, OutputMode::Full);
                let took = start.elapsed();
                assert!(!text.is_empty());
                took
            })
            .collect();
        render_times.sort();
        rendering.push(format!(
            "{name} {:.3} s",
            render_times[ROUNDS / 2].as_secs_f64()
        ));
    }
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    println!(
        "lint {BUNDLES} bundles ({:.1} MB of config.json, {findings} findings) on {cores} cores: median {:.3} s, best {:.3} s",
        bytes as f64 / 1e6,
        times[ROUNDS / 2].as_secs_f64(),
        times[0].as_secs_f64()
    );
    println!("rendering the report (median): {}", rendering.join(", "));
    processes(dir.path());
}

/// The median wall time of a command, run `ROUNDS` times alternating with the others.
fn processes(dir: &Path) {
    use std::process::{Command, Stdio};
    let mut files: Vec<PathBuf> = (0..BUNDLES)
        .map(|i| dir.join(format!("bundle-{i:04}/config.json")))
        .collect();
    files.sort();
    let bin = env!("CARGO_BIN_EXE_proxmox-lxcri");
    let lint = || {
        let mut c = Command::new(bin);
        c.args(["lint", "--format", "json", "--no-config", "-o", "/dev/null"])
            .arg(dir);
        c
    };
    let jq = || {
        let mut c = Command::new("jq");
        c.arg("empty").args(&files);
        c
    };
    let have_jq = Command::new("jq")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !have_jq {
        println!("jq is not on PATH: the whole-process comparison is skipped");
        return;
    }
    let mut times: [Vec<Duration>; 2] = [Vec::new(), Vec::new()];
    for _ in 0..ROUNDS {
        for (i, mut cmd) in [lint(), jq()].into_iter().enumerate() {
            let start = Instant::now();
            let status = cmd
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .unwrap_or_else(|e| panic!("{e}"));
            let took = start.elapsed();
            // lint exits 1 when the corpus has errors; jq must succeed.
            assert!(status.code().is_some_and(|c| c <= 1), "{status}");
            if let Some(t) = times.get_mut(i) {
                t.push(took);
            }
        }
    }
    for t in times.iter_mut() {
        t.sort();
    }
    let median = |t: &Vec<Duration>| t.get(ROUNDS / 2).map_or(0.0, |d| d.as_secs_f64());
    let (l, j) = (median(&times[0]), median(&times[1]));
    println!(
        "whole processes over the same {BUNDLES} files (median of {ROUNDS}): proxmox-lxcri lint {l:.3} s, jq empty {j:.3} s, ratio {:.2}",
        l / j
    );
}
