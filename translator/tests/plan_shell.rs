//! The plan's shell rendering, run for real.
//!
//! - Injection: plans whose every string field is hostile (quotes, `$()`,
//!   backticks, line breaks, any NUL-free text, Unicode) are rendered and run
//!   with `/bin/sh` against stand-in commands that record their argument
//!   vectors; the commands must receive exactly the plan's values, and
//!   nothing else may run.
//! - `shellcheck -s sh` passes on the script of every golden case, and on
//!   some hostile ones.
//!
//! `harness = false`: this binary is also the stand-in. Started through a
//! symlink named `pct`, `pvesh`, `pvesm`, `tar`, `flock` or `sh` with
//! `STANDIN_LOG` set, it appends its argv as a JSON line to that file and
//! answers like the real command would.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use translator::emit::plan::{
    shell, Action, Arg, ConfigLine, FileMode, Need, Plan, RootfsDir, Source, Step, Undo, Var,
    FORMAT,
};
use translator::Target;

const STANDIN_LOG: &str = "STANDIN_LOG";
const STANDINS: &[&str] = &["pct", "pvesh", "pvesm", "tar", "flock", "sh"];
const VMID: &str = "100";
const TEMPLATE_DIR: &str = "/var/lib/vz/template/cache";

type TestFn = fn() -> Result<(), String>;

fn main() -> ExitCode {
    if let Some(log) = std::env::var_os(STANDIN_LOG) {
        return standin(Path::new(&log));
    }
    let tests: &[(&str, TestFn)] = &[
        (
            "hostile values reach the commands unchanged",
            hostile_values_reach_the_commands_unchanged,
        ),
        ("the argv check can fail", the_argv_check_can_fail),
        (
            "golden plan scripts pass shellcheck",
            golden_scripts_pass_shellcheck,
        ),
    ];
    let mut failed = 0;
    for (name, test) in tests {
        match test() {
            Ok(()) => println!("test {name} ... ok"),
            Err(e) => {
                failed += 1;
                println!("test {name} ... FAILED\n{e}");
            }
        }
    }
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// The stand-in: records argv, answers `pvesh get /cluster/nextid` and `pvesm path`.
fn standin(log: &Path) -> ExitCode {
    let args: Vec<String> = match std::env::args_os()
        .map(|a| a.into_string())
        .collect::<Result<_, _>>()
    {
        Ok(a) => a,
        Err(bad) => {
            eprintln!("stand-in: an argument is not UTF-8: {bad:?}");
            return ExitCode::from(97);
        }
    };
    let name = args
        .first()
        .map(|a| {
            Path::new(a)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        })
        .unwrap_or_default();
    let mut argv = args.clone();
    if let Some(first) = argv.first_mut() {
        first.clone_from(&name);
    }
    let line = serde_json::to_string(&argv).unwrap_or_default();
    let written = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(log)
        .and_then(|mut f| writeln!(f, "{line}"));
    if let Err(e) = written {
        eprintln!("stand-in: {}: {e}", log.display());
        return ExitCode::from(98);
    }
    let rest: Vec<&str> = argv.iter().skip(1).map(String::as_str).collect();
    match (name.as_str(), rest.as_slice()) {
        ("pvesh", ["get", "/cluster/nextid"]) => println!("{VMID}"),
        ("pvesm", ["path", volid]) => {
            let file = volid
                .split_once(":vztmpl/")
                .map(|(_, f)| f)
                .unwrap_or(volid);
            println!("{TEMPLATE_DIR}/{file}");
        }
        _ => {}
    }
    ExitCode::SUCCESS
}

/// What one run of a script did.
struct Run {
    commands: Vec<Vec<String>>,
    stdout: String,
}

fn run_script(script: &str, bundle: &str) -> Result<Run, String> {
    let dir = tempfile::tempdir().map_err(|e| format!("tempdir: {e}"))?;
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).map_err(|e| e.to_string())?;
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    for name in STANDINS {
        std::os::unix::fs::symlink(&exe, bin.join(name))
            .map_err(|e| format!("symlink {name}: {e}"))?;
    }
    let path = dir.path().join("plan.sh");
    std::fs::write(&path, script).map_err(|e| e.to_string())?;
    let log = dir.path().join("log");
    let out = Command::new("/bin/sh")
        .arg(&path)
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", &bin)
        .env(STANDIN_LOG, &log)
        .env("BUNDLE", bundle)
        .output()
        .map_err(|e| format!("/bin/sh: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "the script failed ({}):\n{}\n--- script ---\n{script}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let mut commands = Vec::new();
    for line in text.lines() {
        commands.push(
            serde_json::from_str::<Vec<String>>(line)
                .map_err(|e| format!("log line {line:?}: {e}"))?,
        );
    }
    Ok(Run {
        commands,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
    })
}

fn bind(argv: &[Arg], template: &str) -> Vec<String> {
    argv.iter()
        .map(|a| match a {
            Arg::Lit(s) => s.clone(),
            Arg::Var { var: Var::Vmid } => VMID.to_string(),
            Arg::Var { var: Var::Template } => template.to_string(),
            Arg::Var { var: Var::Bundle } => "$BUNDLE".to_string(),
        })
        .collect()
}

fn strings(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}

/// Checks the recorded commands against the plan, step by step: the data
/// every command received must be the plan's, and nothing else may have run.
fn check_run(plan: &Plan, run: &Run, bundle: &str) -> Result<(), String> {
    let mut cmds = run.commands.iter();
    let mut next = |what: &str| {
        cmds.next()
            .cloned()
            .ok_or_else(|| format!("{what}: the command did not run"))
    };
    let lock = format!("/run/lock/lxc/pve-config-{VMID}.lock");
    let mut template = String::new();
    let mut expected_stdout = String::new();
    for step in &plan.steps {
        let op = step.action.op();
        match &step.action {
            Action::PackRootfs {
                rootfs,
                storage,
                name_prefix,
            } => {
                let path = next(op)?;
                let prefix = format!("{storage}:vztmpl/{name_prefix}");
                match path.as_slice() {
                    [p, c, t]
                        if p == "pvesm"
                            && c == "path"
                            && t.starts_with(&prefix)
                            && t.ends_with(".tar.zst") =>
                    {
                        template = t.clone()
                    }
                    _ => {
                        return Err(format!(
                            "{op}: expected pvesm path {prefix}<n>.tar.zst, got {path:?}"
                        ))
                    }
                }
                let file = template
                    .split_once(":vztmpl/")
                    .map(|(_, f)| f)
                    .unwrap_or(&template);
                let archive = format!("{TEMPLATE_DIR}/{file}");
                let dir = match rootfs {
                    RootfsDir::Bundle(rel) => format!("{bundle}/{rel}"),
                    RootfsDir::Path(p) => p.clone(),
                    // This harness runs plans of bundles; an image's script is checked in
                    // tests/image_cli.rs.
                    RootfsDir::Image(i) => {
                        return Err(format!(
                            "{op}: an image plan ({}) is not run here",
                            i.reference
                        ))
                    }
                };
                let mut want = strings(&[
                    "tar",
                    "--create",
                    "--zstd",
                    "--numeric-owner",
                    "--acls",
                    "--xattrs",
                    "--sort=name",
                    "--file",
                ]);
                want.extend([archive, "--directory".into(), dir, ".".into()]);
                expect(op, &next(op)?, &want)?;
            }
            Action::AllocateVmid { .. } => expect(
                op,
                &next(op)?,
                &strings(&["pvesh", "get", "/cluster/nextid"]),
            )?,
            Action::PctCreate { argv } => expect(op, &next(op)?, &bind(argv, &template))?,
            Action::WriteConfigLines { lines } => {
                let mut want = vec!["sh".to_string(), format!("/etc/pve/lxc/{VMID}.conf")];
                want.extend(lines.iter().map(ConfigLine::text));
                expect_inner(op, &next(op)?, &["flock", &lock, "sh", "-c"], &want)?;
            }
            Action::CreateConfig { text } => {
                expect_inner(
                    op,
                    &next(op)?,
                    &["flock", &lock, "sh", "-c"],
                    &["sh".into(), VMID.into(), text.clone()],
                )?;
            }
            Action::WriteFile {
                path,
                mode,
                content,
            } => {
                expect_inner(
                    op,
                    &next(op)?,
                    &["sh", "-c"],
                    &["sh".into(), path.clone(), mode.octal(), content.clone()],
                )?;
            }
            Action::RemoveTemplate => expect(
                op,
                &next(op)?,
                &["pvesm".into(), "free".into(), template.clone()],
            )?,
            Action::RecordState { node } => {
                expected_stdout.push_str(&format!("created container {VMID} on node {node}\n"))
            }
        }
    }
    if let Some(extra) = cmds.next() {
        return Err(format!("a command the plan does not have ran: {extra:?}"));
    }
    if run.stdout != expected_stdout {
        return Err(format!(
            "stdout {:?}, expected {expected_stdout:?}",
            run.stdout
        ));
    }
    Ok(())
}

fn expect(op: &str, got: &[String], want: &[String]) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!(
            "{op}: the command got\n  {got:?}\ninstead of\n  {want:?}"
        ))
    }
}

/// `head… BODY tail…`: the fixed inner script is the template's; the rest is data.
fn expect_inner(op: &str, got: &[String], head: &[&str], tail: &[String]) -> Result<(), String> {
    let n = head.len();
    let head_ok = got
        .get(..n)
        .is_some_and(|h| h.iter().zip(head).all(|(a, b)| a == b));
    if head_ok && got.get(n + 1..) == Some(tail) {
        Ok(())
    } else {
        Err(format!(
            "{op}: the command got\n  {got:?}\ninstead of\n  {head:?} <script> {tail:?}"
        ))
    }
}

fn hostile() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => "[^\\x00]{0,10}",
        1 => Just("'".to_string()),
        1 => Just("'\\''".to_string()),
        1 => Just("\"".to_string()),
        1 => Just("$(touch pwned)".to_string()),
        1 => Just("`touch pwned`".to_string()),
        1 => Just("${HOME:-x}$vmid$1$@$$".to_string()),
        1 => Just("\n".to_string()),
        1 => Just("\r\n#".to_string()),
        1 => Just("\\".to_string()),
        1 => Just("; touch pwned &&".to_string()),
        1 => Just("*?[a]~".to_string()),
        1 => Just("-".to_string()),
        1 => Just("--memory".to_string()),
        1 => Just("é ✓ \u{202e}\u{2028}".to_string()),
    ];
    vec(piece, 0..5).prop_map(|v| v.concat())
}

fn hostile_plan() -> impl Strategy<Value = Plan> {
    let header = (hostile(), hostile(), hostile());
    let pack = (any::<bool>(), hostile(), hostile(), hostile());
    let argv = vec(hostile(), 0..8);
    let lines = vec((hostile(), hostile()), 1..4);
    let file = (hostile(), hostile(), 0u32..0o7777);
    let notes = (hostile(), hostile(), hostile(), hostile());
    (header, pack, argv, lines, hostile(), file, notes).prop_map(
        |(
            (source, node, version),
            (in_bundle, dir, storage, prefix),
            argv,
            lines,
            text,
            (path, content, mode),
            (item, from, why, undo_path),
        )| {
            let rootfs = if in_bundle {
                RootfsDir::Bundle(dir)
            } else {
                RootfsDir::Path(dir)
            };
            let mut full = vec![
                Arg::lit("pct"),
                Arg::lit("create"),
                Arg::var(Var::Vmid),
                Arg::var(Var::Template),
            ];
            full.extend(argv.into_iter().map(Arg::Lit));
            let lines = lines
                .into_iter()
                .map(|(key, value)| ConfigLine { key, value })
                .collect();
            let notes = |undo: Undo| Step {
                action: Action::RemoveTemplate,
                sources: vec![Source {
                    item: item.clone(),
                    from: vec![from.clone()],
                }],
                needs: vec![
                    Need::Root(why.clone()),
                    Need::Program(why.clone()),
                    Need::Storage {
                        id: why.clone(),
                        content: why.clone(),
                    },
                ],
                undo,
            };
            let with = |action: Action, undo: Undo| Step {
                action,
                ..notes(undo)
            };
            let steps = vec![
                with(
                    Action::PackRootfs {
                        rootfs,
                        storage,
                        name_prefix: prefix,
                    },
                    Undo::FreeTemplate,
                ),
                with(Action::AllocateVmid { attempts: 5 }, Undo::ReleaseVmid),
                with(Action::PctCreate { argv: full }, Undo::DestroyCt),
                with(Action::WriteConfigLines { lines }, Undo::RemoveConfig),
                with(Action::CreateConfig { text }, Undo::ForgetState),
                with(
                    Action::WriteFile {
                        path,
                        mode: FileMode(mode),
                        content,
                    },
                    Undo::RemoveFileIfCreated(undo_path.clone()),
                ),
                notes(Undo::Nothing(why.clone())),
                with(
                    Action::RecordState { node: node.clone() },
                    Undo::ForgetState,
                ),
            ];
            Plan {
                format: FORMAT,
                source,
                node,
                pve_container: version,
                steps,
            }
        },
    )
}

const BUNDLE: &str = "/srv/a bundle/'x'$(y)";

fn hostile_values_reach_the_commands_unchanged() -> Result<(), String> {
    let mut runner = TestRunner::new(Config {
        cases: 96,
        failure_persistence: None,
        ..Config::default()
    });
    let shellchecked = std::cell::Cell::new(0);
    runner
        .run(&hostile_plan(), |plan| {
            let script = shell::write(&plan).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let run = run_script(&script, BUNDLE).map_err(TestCaseError::fail)?;
            check_run(&plan, &run, BUNDLE)
                .map_err(|e| TestCaseError::fail(format!("{e}\n--- script ---\n{script}")))?;
            if shellchecked.get() < 8 {
                shellchecked.set(shellchecked.get() + 1);
                shellcheck(&script).map_err(TestCaseError::fail)?;
            }
            Ok(())
        })
        .map_err(|e| e.to_string())
}

/// A guard against a check that accepts everything: a script that passes a
/// value through `eval` (as a careless template would) must fail it.
fn the_argv_check_can_fail() -> Result<(), String> {
    let plan = Plan {
        format: FORMAT,
        source: "s".into(),
        node: "n".into(),
        pve_container: "6.1.10".into(),
        steps: vec![Step {
            action: Action::PctCreate {
                argv: vec![
                    Arg::lit("pct"),
                    Arg::lit("a b"),
                    Arg::lit("$(pvesm free x)"),
                ],
            },
            sources: Vec::new(),
            needs: Vec::new(),
            undo: Undo::ReleaseVmid,
        }],
    };
    let careless = "#!/bin/sh\nset -eu\neval \"pct a b $(printf '%s' '$(pvesm free x)')\"\n";
    let run = run_script(careless, BUNDLE)?;
    match check_run(&plan, &run, BUNDLE) {
        Ok(()) => Err("the check accepted a script that split and evaluated the values".into()),
        Err(_) => {
            let script = shell::write(&plan).map_err(|e| e.to_string())?;
            check_run(&plan, &run_script(&script, BUNDLE)?, BUNDLE)
        }
    }
}

fn shellcheck(script: &str) -> Result<(), String> {
    let mut child = Command::new("shellcheck")
        .args(["-s", "sh", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| {
            format!("shellcheck cannot run ({e}); install the Debian package shellcheck")
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(script.as_bytes())
            .map_err(|e| e.to_string())?;
    }
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "shellcheck:\n{}\n--- script ---\n{script}",
            String::from_utf8_lossy(&out.stdout)
        ))
    }
}

fn golden_scripts_pass_shellcheck() -> Result<(), String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../golden");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.path())
                .filter(|p| p.join("config.json").is_file())
                .collect()
        })
        .unwrap_or_default();
    dirs.sort();
    let mut checked = 0;
    for dir in dirs {
        let target = match std::fs::read_to_string(dir.join("target.json")) {
            Ok(text) => Target::from_json(&text).map_err(|e| format!("{}: {e}", dir.display()))?,
            Err(_) => Target::default(),
        };
        let bytes = std::fs::read(dir.join("config.json")).unwrap_or_default();
        let t = translator::oci_to_ir("config.json", &bytes, &target);
        let Some(ir) = t.ir.as_ref().filter(|_| !t.has_errors()) else {
            continue;
        };
        let plan = translator::emit::plan::ir_to_plan(ir, &target, "config.json")
            .map_err(|e| format!("{}: {e}", dir.display()))?;
        let script = shell::write(&plan).map_err(|e| e.to_string())?;
        shellcheck(&script).map_err(|e| format!("{}: {e}", dir.display()))?;
        // The script also runs, against the stand-ins, with the plan's values.
        let run = run_script(&script, "/srv/bundle")?;
        check_run(&plan, &run, "/srv/bundle").map_err(|e| format!("{}: {e}", dir.display()))?;
        checked += 1;
    }
    if checked < 20 {
        return Err(format!("only {checked} golden plans checked"));
    }
    Ok(())
}
