//! The hostile-input suite: every case in tests/hostile/cases.json goes
//! through the binary (exit code, the exact set of error codes, a time limit)
//! and through the library (pct.conf grammar and allow-list, LXC splitting of
//! the init command, diagnostic spans, determinism).
//!
//! Inputs are files in tests/hostile/inputs/, or generated here at run time
//! when they are large (100,000-deep nesting, a 50 MB config, a 10 MB string,
//! 10,000 capabilities) or need the file system (symbolic links, a FIFO).

#[allow(dead_code)]
#[path = "../translator/tests/support/entry.rs"]
mod entry;
#[allow(dead_code)]
#[path = "../translator/tests/support/lxc_split.rs"]
mod lxc_split;
#[allow(dead_code)]
#[path = "../translator/tests/support/pct_grammar.rs"]
mod pct_grammar;
#[allow(dead_code)]
#[path = "../translator/tests/support/shell.rs"]
mod shell;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use pct_grammar::Schema;
use serde_json::Value;

fn hostile_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile")
}

/// Where a case's input is: a file, or a bundle directory.
struct Prepared {
    arg: PathBuf,
    /// The config bytes, for the library checks (None: not a readable config).
    bytes: Option<Vec<u8>>,
    _dir: tempfile::TempDir,
}

const PREFIX: &str = r#"{"ociVersion": "1.2.0", "root": {"path": "rootfs"}, "process": {"cwd": "/", "args": ["/app"]"#;
const LINUX: &str = r#""linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}, {"type": "ipc"}, {"type": "uts"}, {"type": "user"}, {"type": "network"}], "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}], "gidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}]}"#;

fn generate(name: &str) -> Vec<u8> {
    match name {
        "deep-arrays-100000" => format!(r#"{{"ociVersion": "1.2.0", "windows": {}{}}}"#, "[".repeat(100_000), "]".repeat(100_000)).into_bytes(),
        "deep-objects-100000" => {
            let mut s = String::from(r#"{"ociVersion": "1.2.0", "annotations": "#);
            s.push_str(&r#"{"a": "#.repeat(100_000));
            s.push('1');
            s.push_str(&"}".repeat(100_000));
            s.push('}');
            s.into_bytes()
        }
        "unclosed-arrays-100000" => "[".repeat(100_000).into_bytes(),
        "env-list-50mb" => {
            // 640,000 variables of ~80 bytes: a 50 MB config.
            let mut s = format!(r#"{PREFIX}, "env": ["#);
            for i in 0..640_000 {
                if i > 0 {
                    s.push(',');
                }
                s.push_str(&format!(r#""VARIABLE_{i:07}=value-{i:07}-{}""#, "x".repeat(48)));
            }
            s.push_str(&format!("]}}, {LINUX}}}"));
            s.into_bytes()
        }
        "hostname-10mb" => format!(r#"{PREFIX}}}, "hostname": "{}", {LINUX}}}"#, "a".repeat(10 << 20)).into_bytes(),
        "env-value-10mb" => format!(r#"{PREFIX}, "env": ["BIG={}"]}}, {LINUX}}}"#, "v".repeat(10 << 20)).into_bytes(),
        "arg-10mb" => format!(r#"{{"ociVersion": "1.2.0", "root": {{"path": "rootfs"}}, "process": {{"cwd": "/", "args": ["/app", "{}"]}}, {LINUX}}}"#, "a".repeat(10 << 20)).into_bytes(),
        "capabilities-10000" => {
            let caps: Vec<String> = (0..10_000).map(|i| format!(r#""CAP_BOGUS_{i}""#)).collect();
            let list = caps.join(",");
            format!(r#"{PREFIX}, "capabilities": {{"bounding": [{list}], "effective": [{list}], "permitted": [{list}]}}}}, {LINUX}}}"#).into_bytes()
        }
        "capabilities-10000-repeated-valid" => {
            let list = vec![r#""CAP_CHOWN""#; 10_000].join(",");
            format!(r#"{PREFIX}, "capabilities": {{"bounding": [{list}], "effective": [{list}], "permitted": [{list}]}}}}, {LINUX}}}"#).into_bytes()
        }
        other => panic!("unknown generator {other}"),
    }
}

fn base_config() -> Vec<u8> {
    format!("{PREFIX}}}, {LINUX}}}").into_bytes()
}

/// Writes the case's input into a fresh directory.
fn prepare(case: &Value) -> Prepared {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let root = dir.path().to_path_buf();
    let write = |p: &Path, bytes: &[u8]| {
        std::fs::write(p, bytes).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    };
    if let Some(input) = case["input"].as_str() {
        let bytes = std::fs::read(hostile_dir().join("inputs").join(input))
            .unwrap_or_else(|e| panic!("{input}: {e}"));
        let arg = root.join("config.json");
        write(&arg, &bytes);
        return Prepared {
            arg,
            bytes: Some(bytes),
            _dir: dir,
        };
    }
    if let Some(generator) = case["generate"].as_str() {
        let bytes = generate(generator);
        let arg = root.join("config.json");
        write(&arg, &bytes);
        return Prepared {
            arg,
            bytes: Some(bytes),
            _dir: dir,
        };
    }
    let bundle = root.join("bundle");
    let outside = root.join("outside");
    for d in [&bundle, &outside] {
        std::fs::create_dir_all(d).unwrap_or_else(|e| panic!("{}: {e}", d.display()));
    }
    let link = |target: &Path, at: &Path| {
        std::os::unix::fs::symlink(target, at).unwrap_or_else(|e| panic!("{}: {e}", at.display()))
    };
    let config = bundle.join("config.json");
    let bytes = base_config();
    let fs_case = case["bundle"].as_str().unwrap_or_default();
    let readable = match fs_case {
        "config-symlink-outside" => {
            write(&outside.join("config.json"), &bytes);
            link(&outside.join("config.json"), &config);
            false
        }
        "config-symlink-dangling" => {
            link(Path::new("/nonexistent/config.json"), &config);
            false
        }
        "config-is-directory" => {
            std::fs::create_dir(&config).unwrap_or_else(|e| panic!("{e}"));
            false
        }
        "config-is-fifo" => {
            let status = Command::new("mkfifo")
                .arg(&config)
                .status()
                .unwrap_or_else(|e| panic!("mkfifo: {e}"));
            assert!(status.success(), "mkfifo failed");
            false
        }
        "rootfs-symlink-outside" => {
            write(&config, &bytes);
            link(&outside, &bundle.join("rootfs"));
            true
        }
        "rootfs-symlink-to-host-root" => {
            write(&config, &bytes);
            link(Path::new("/"), &bundle.join("rootfs"));
            true
        }
        "rootfs-missing" => {
            write(&config, &bytes);
            true
        }
        "bundle-missing" => {
            std::fs::remove_dir(&bundle).unwrap_or_else(|e| panic!("{e}"));
            false
        }
        other => panic!("unknown bundle case {other}"),
    };
    if readable {
        std::fs::create_dir_all(bundle.join("rootfs")).ok();
    }
    Prepared {
        arg: bundle,
        bytes: readable.then_some(bytes),
        _dir: dir,
    }
}

fn binary() -> PathBuf {
    assert_cmd::cargo::cargo_bin("proxmox-lxcri")
}

struct Run {
    /// None: killed at the time limit.
    exit: Option<i32>,
    stdout: Vec<u8>,
    stderr: String,
    took: Duration,
}

fn run(args: &[&std::ffi::OsStr], limit: Duration) -> Run {
    let started = Instant::now();
    let out = assert_cmd::Command::new(binary())
        .args(args)
        .timeout(limit)
        .output()
        .unwrap_or_else(|e| panic!("running the binary: {e}"));
    Run {
        exit: out.status.code(),
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        took: started.elapsed(),
    }
}

/// The distinct codes of the JSON diagnostics on stderr, split by severity.
fn codes(stderr: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let (mut errors, mut others) = (BTreeSet::new(), BTreeSet::new());
    for line in stderr.lines().filter(|l| l.starts_with('{')) {
        let d: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("diagnostic line is not JSON ({e}): {line}"));
        let code = d["code"].as_str().unwrap_or_default().to_string();
        if d["severity"] == "error" {
            errors.insert(code);
        } else {
            others.insert(code);
        }
    }
    (errors, others)
}

fn strings(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

fn check_case(schema: &Schema, case: &Value) -> Result<(), String> {
    let prepared = prepare(case);
    let limit = Duration::from_secs(case["seconds"].as_u64().unwrap_or(10));
    let r = run(
        &[
            "convert".as_ref(),
            prepared.arg.as_os_str(),
            "--format".as_ref(),
            "json".as_ref(),
        ],
        limit,
    );
    let mut problems = Vec::new();
    let want_exit = case["exit"].as_i64().unwrap_or(-1);
    match r.exit {
        None => problems.push(format!("no exit within {limit:?}")),
        Some(code) if i64::from(code) != want_exit => {
            problems.push(format!("exit {code} (expected {want_exit})"))
        }
        Some(_) => {}
    }
    let (errors, others) = codes(&r.stderr);
    let want_errors = strings(&case["errors"]);
    if errors != want_errors {
        problems.push(format!("error codes {errors:?} (expected {want_errors:?})"));
    }
    for code in strings(&case["also"]) {
        if !others.contains(&code) && !errors.contains(&code) {
            problems.push(format!("no {code} diagnostic"));
        }
    }
    if let Some(text) = case["stderr_contains"].as_str() {
        if !r.stderr.contains(text) {
            problems.push(format!("stderr lacks {text:?}"));
        }
    }
    if let Some(c) = r
        .stderr
        .chars()
        .find(|c| *c != '\n' && pct_grammar::is_forbidden_char(*c))
    {
        problems.push(format!("stderr carries the raw control character {c:?}"));
    }
    if r.exit == Some(0) {
        match String::from_utf8(r.stdout.clone()) {
            Ok(text) => {
                if let Err(e) = pct_grammar::check(schema, &text) {
                    problems.push(format!("pct.conf on stdout: {e}"));
                }
                for lacks in strings(&case["stdout_lacks"]) {
                    if text.contains(&lacks) {
                        problems.push(format!("pct.conf on stdout has {lacks:?}"));
                    }
                }
            }
            Err(_) => problems.push("stdout is not UTF-8".into()),
        }
    } else if !r.stdout.is_empty() {
        problems.push("a refused input still wrote output".into());
    }
    if let Some(fixme) = case["fixme"].as_str() {
        // A known bug, asserted as it is now; the library checks would fail.
        eprintln!("FIXME {}: {fixme}", case_name(case));
    } else if let Some(bytes) = &prepared.bytes {
        let bytes = bytes.clone();
        let worker = std::thread::spawn(move || {
            let schema = Schema::load();
            for target in entry::fixed_targets() {
                entry::translate_and_check(&schema, &bytes, &target);
            }
        });
        if let Err(p) = worker.join() {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            problems.push(format!(
                "library check: {}",
                msg.chars().take(2000).collect::<String>()
            ));
        }
    }
    eprintln!(
        "{:40} exit {:?} in {:>6.2?}  errors {:?} others {:?}",
        case_name(case),
        r.exit,
        r.took,
        errors,
        others
    );
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{}: {}\n  stderr: {}",
            case_name(case),
            problems.join("; "),
            r.stderr.chars().take(600).collect::<String>()
        ))
    }
}

fn case_name(case: &Value) -> String {
    ["input", "generate", "bundle"]
        .iter()
        .find_map(|k| case[*k].as_str())
        .unwrap_or("?")
        .to_string()
}

fn cases() -> Vec<Value> {
    let text = std::fs::read_to_string(hostile_dir().join("cases.json"))
        .unwrap_or_else(|e| panic!("cases.json: {e}"));
    let data: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("cases.json: {e}"));
    data["cases"].as_array().cloned().unwrap_or_default()
}

#[test]
fn every_input_file_has_a_case() {
    let listed: BTreeSet<String> = cases()
        .iter()
        .filter_map(|c| c["input"].as_str().map(String::from))
        .collect();
    let files: BTreeSet<String> = std::fs::read_dir(hostile_dir().join("inputs"))
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        listed, files,
        "tests/hostile/inputs and cases.json disagree"
    );
    assert!(cases().len() >= 40, "only {} hostile cases", cases().len());
}

#[test]
fn hostile_inputs() {
    let schema = Schema::load();
    let only = std::env::var("HOSTILE_CASE").ok();
    let failures: Vec<String> = cases()
        .iter()
        .filter(|c| only.as_ref().is_none_or(|o| case_name(c) == *o))
        .filter_map(|c| check_case(&schema, c).err())
        .collect();
    assert!(
        failures.is_empty(),
        "{} hostile cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// A 50 MB config must be handled in bounded memory: the binary runs under an
/// address-space limit of 1 GiB (20 × the input).
#[test]
fn large_config_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.path().join("config.json");
    std::fs::write(&path, generate("env-list-50mb")).unwrap_or_else(|e| panic!("{e}"));
    let script = format!(
        "ulimit -v {}; exec \"$0\" convert \"$1\" --format json -o /dev/null",
        1 << 20
    );
    let started = Instant::now();
    let out = assert_cmd::Command::new("sh")
        .args(["-c", &script])
        .arg(binary())
        .arg(&path)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.code().is_some(), "killed: {stderr}");
    assert!(
        !stderr.contains("memory allocation") && !stderr.contains("panicked"),
        "{stderr}"
    );
    eprintln!(
        "50 MB config under a 1 GiB address-space limit: exit {:?} in {:?}",
        out.status.code(),
        started.elapsed()
    );
}
