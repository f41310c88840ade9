//! Real podman drives proxmox-lxcri (`--runtime crun` back end), and the same podman command
//! lines drive plain crun as the baseline, in the same test: every case must give the same
//! transcript on both, and the baseline must show what the case is about (so two identical
//! failures do not pass).
//!
//! Needs root, `podman` (with `conmon`), `crun`, `busybox` and `unshare` (Debian: podman, conmon,
//! crun, busybox-static, util-linux). Without root or podman the test is skipped with a message;
//! under `CI=true` that is a failure.
//!
//! Isolation: podman runs with a private `--root`/`--runroot` (the vfs driver: no overlay
//! mounts to leak), a private `containers.conf` (`CONTAINERS_CONF`) with its own `tmp_dir`, one
//! image imported from a busybox tar (no registry), and names prefixed per runtime. As with
//! podman's defaults, the run directory (runroot) is under `/run` (`/run/containers/storage`)
//! and the graphroot is not (here `/var/tmp`), so the node policy sees the bind sources it sees
//! in real use. Pods use the test image as their infra image (no catatonit), healthchecks run
//! with `--health-interval disable` (no systemd timers). What is shared with the host:
//! CNI's default `podman` network (bridge `cni-podman0`, which stays once created, and its IPAM
//! leases, released when a container is removed).
//!
//! Two facts of hosts like this one, both also true of plain crun:
//! - crun 1.8.1 refuses the hybrid cgroup layout, so both runtimes get the `unshare -m` wrapper
//!   of docs/runtime.md (test-environment.md);
//! - rootful podman puts `nofile=1048576` into every spec (containers/common
//!   `pkg/config/default.go`, `DefaultUlimits` / `RLimitDefaultValue`) and lowers its own
//!   `RLIMIT_NPROC` to `kernel.pid_max` (`pkg/config/default_linux.go`,
//!   `getDefaultProcessLimits`). Raising a hard limit above the caller's needs
//!   `CAP_SYS_RESOURCE`; where the machine withholds it (a sandbox, a CI container), crun's
//!   `setrlimit` fails with EPERM for every container. So `default_ulimits` names this process's
//!   hard limits (nproc at most `pid_max`): not a proxmox-lxcri matter, and a no-op on hosts
//!   with the capability.

use std::io::{BufRead, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const IMAGE: &str = "localhost/lxcri-busybox";
const APPLETS: &[&str] = &[
    "sh", "cat", "echo", "id", "pwd", "ls", "sleep", "env", "true", "false", "touch", "nc", "ip",
    "hostname", "ps", "grep", "test", "readlink", "rm", "mkdir", "wc",
];
/// The image's default command and the pods' infra process: exits on TERM within a second.
const PAUSE: &str = "#!/bin/sh\ntrap 'exit 0' TERM INT\nwhile :; do sleep 1; done\n";
/// The two runtimes, by their `[engine.runtimes]` names.
const BASELINE: &str = "crun-baseline";
const OURS: &str = "proxmox-lxcri";
/// proxmox-lxcri without `--runtime`: the node configuration ([`ROUTES`]) chooses.
const ROUTED: &str = "proxmox-lxcri-routed";
/// Bundles whose annotation asks for crun go to crun; everything else to Proxmox.
const ROUTES: &str = "default = \"pct\"\n\n[[route]]\nid = \"*\"\nannotation = { \"org.proxmox-lxcri.runtime\" = \"crun\" }\nruntime = \"crun\"\n";

fn which(tool: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join(tool))
            .find(|f| f.is_file())
    })
}

/// Whether the test can run; `None` means run, `Some(why)` skip (a failure under CI=true).
fn missing() -> Option<String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Some("podman tests run containers as root; not root".into());
    }
    for (tool, package) in [
        ("podman", "podman"),
        ("conmon", "conmon"),
        ("crun", "crun"),
        ("busybox", "busybox-static"),
        ("unshare", "util-linux"),
        ("tar", "tar"),
    ] {
        if which(tool).is_none() {
            return Some(format!(
                "`{tool}` is not installed (Debian package {package})"
            ));
        }
    }
    None
}

/// This process's hard limit of `name` in /proc/self/limits.
fn hard_limit(name: &str) -> u64 {
    let limits = std::fs::read_to_string("/proc/self/limits").expect("/proc/self/limits");
    let line = limits
        .lines()
        .find(|l| l.starts_with(name))
        .unwrap_or_else(|| panic!("no `{name}` in /proc/self/limits"));
    let hard = line[name.len()..].split_whitespace().nth(1).unwrap_or("");
    if hard == "unlimited" {
        // What podman would ask for anyway (containers/common RLimitDefaultValue).
        1_048_576
    } else {
        hard.parse().unwrap_or_else(|e| panic!("{line}: {e}"))
    }
}

fn script(path: &Path, body: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, body).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Podman with the private storage and config, and the runtimes' log files.
struct Engine {
    base: tempfile::TempDir,
    /// The graphroot (images, containers' root file systems and bundles), outside `/run` as
    /// podman's own `/var/lib/containers/storage` is.
    store: tempfile::TempDir,
    /// Volumes live outside `/run` (a bind from `/run` is a policy matter of its own).
    volumes: tempfile::TempDir,
}

impl Engine {
    fn new() -> Engine {
        let base = tempfile::Builder::new()
            .prefix("lxcri-podman-")
            .tempdir_in("/run")
            .expect("a temporary directory under /run");
        let volumes = tempfile::tempdir().expect("tempdir");
        let store = tempfile::Builder::new()
            .prefix("lxcri-podman-store-")
            .tempdir_in("/var/tmp")
            .expect("a temporary directory under /var/tmp");
        let b = base.path();
        let root = store.path().join("root");
        std::fs::create_dir_all(&root).unwrap();
        for d in ["run", "tmp", "lxcri", "image/bin", "image/tmp", "image/etc"] {
            std::fs::create_dir_all(b.join(d)).unwrap();
        }
        for d in ["proc", "sys", "dev", "run", "var"] {
            std::fs::create_dir_all(b.join("image").join(d)).unwrap();
        }
        let img = b.join("image");
        std::fs::copy(which("busybox").unwrap(), img.join("bin/busybox")).unwrap();
        for a in APPLETS {
            std::os::unix::fs::symlink("busybox", img.join("bin").join(a)).unwrap();
        }
        std::fs::write(img.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n").unwrap();
        std::fs::write(img.join("etc/group"), "root:x:0:\n").unwrap();
        script(&img.join("pause"), PAUSE);
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(img.join("tmp"), std::fs::Permissions::from_mode(0o1777)).unwrap();

        // crun with the cgroup workaround (docs/runtime.md): the baseline, and our back end's crun.
        let crun = b.join("crun-wrapper");
        script(
            &crun,
            "#!/bin/sh\nexec unshare -m sh -c 'umount /sys/fs/cgroup/unified 2>/dev/null; exec crun --cgroup-manager=cgroupfs \"$@\"' crun \"$@\"\n",
        );
        // The engine wrapper docs/runtime.md describes: our binary, the crun back end, and the
        // engine's storage named as such (`--rootfs-under`: its rootfs and the container's own
        // files there).
        let ours = b.join("proxmox-lxcri-engine");
        script(
            &ours,
            &format!(
                "#!/bin/sh\nexec {bin} --root {state} --log {log} --log-format json --runtime crun --crun {crun} --rootfs-under {root} --rootfs-under {run} \"$@\"\n",
                bin = env!("CARGO_BIN_EXE_proxmox-lxcri"),
                state = b.join("lxcri").display(),
                log = b.join("lxcri.log").display(),
                crun = crun.display(),
                root = root.display(),
                run = b.join("run").display(),
            ),
        );
        // The same, choosing the back end by the node configuration (PROXMOX_LXCRI_CONFIG), as
        // an engine that passes no --runtime gets it (docs/runtime.md, routing).
        std::fs::write(b.join("routes.toml"), ROUTES).unwrap();
        let routed = b.join("proxmox-lxcri-routed");
        script(
            &routed,
            &format!(
                "#!/bin/sh\nPROXMOX_LXCRI_CONFIG={config} exec {bin} --root {state} --log {log} --log-format json --crun {crun} --rootfs-under {root} --rootfs-under {run} \"$@\"\n",
                config = b.join("routes.toml").display(),
                bin = env!("CARGO_BIN_EXE_proxmox-lxcri"),
                state = b.join("lxcri-routed").display(),
                log = b.join("lxcri-routed.log").display(),
                crun = crun.display(),
                root = root.display(),
                run = b.join("run").display(),
            ),
        );
        let nofile = hard_limit("Max open files");
        let pid_max: u64 = std::fs::read_to_string("/proc/sys/kernel/pid_max")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(u64::MAX);
        let nproc = hard_limit("Max processes").min(pid_max);
        std::fs::write(
            b.join("containers.conf"),
            format!(
                r#"[containers]
default_ulimits = ["nofile={nofile}:{nofile}", "nproc={nproc}:{nproc}"]

[engine]
cgroup_manager = "cgroupfs"
events_logger = "none"
tmp_dir = "{tmp}"
infra_image = "{IMAGE}"

[engine.runtimes]
{BASELINE} = ["{crun}"]
{OURS} = ["{ours}"]
{ROUTED} = ["{routed}"]
"#,
                tmp = b.join("tmp").display(),
                crun = crun.display(),
                ours = ours.display(),
                routed = routed.display(),
            ),
        )
        .unwrap();
        let engine = Engine {
            base,
            store,
            volumes,
        };
        let tar = engine.base.path().join("image.tar");
        let out = Command::new("tar")
            .arg("-C")
            .arg(&img)
            .arg("-cf")
            .arg(&tar)
            .arg(".")
            .output()
            .unwrap();
        assert!(out.status.success(), "tar: {}", text(&out.stderr));
        let out = engine.podman(
            BASELINE,
            &[
                "import",
                "-q",
                "--change",
                "CMD [\"/pause\"]",
                tar.to_str().unwrap(),
                IMAGE,
            ],
            None,
        );
        assert!(out.status.success(), "podman import: {}", text(&out.stderr));
        engine
    }

    fn podman(&self, runtime: &str, args: &[&str], stdin: Option<&str>) -> Output {
        let b = self.base.path();
        let mut cmd = Command::new("podman");
        cmd.env("CONTAINERS_CONF", b.join("containers.conf"))
            .arg("--root")
            .arg(self.store.path().join("root"))
            .arg("--runroot")
            .arg(b.join("run"))
            .args(["--storage-driver", "vfs", "--runtime", runtime])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            });
        let mut child = cmd.spawn().expect("podman");
        if let Some(input) = stdin {
            let mut pipe = child.stdin.take().unwrap();
            pipe.write_all(input.as_bytes()).unwrap();
        }
        child.wait_with_output().expect("podman")
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        // Containers first (they hold shm mounts and IPAM leases), then pods and the image.
        for args in [
            &["rm", "-a", "-f", "-t", "0"][..],
            &["pod", "rm", "-a", "-f", "-t", "0"],
            &["rmi", "-a", "-f"],
        ] {
            let _ = self.podman(BASELINE, args, None);
        }
    }
}

/// One runtime's run of a case: what is compared, and podman's stderr for the failure message.
struct Transcript<'e> {
    engine: &'e Engine,
    runtime: &'static str,
    tag: &'static str,
    compared: String,
    stderr: String,
}

impl<'e> Transcript<'e> {
    /// A name for this runtime's run only.
    fn name(&self, n: &str) -> String {
        format!("{}-{n}", self.tag)
    }

    fn raw(&mut self, args: &[&str], stdin: Option<&str>) -> Output {
        let out = self.engine.podman(self.runtime, args, stdin);
        self.stderr.push_str(&format!(
            "$ podman {}\n  exit {:?}\n  stdout: {}\n  stderr: {}\n",
            args.join(" "),
            out.status.code(),
            text(&out.stdout).trim_end(),
            text(&out.stderr).trim_end()
        ));
        out
    }

    /// Runs podman; the exit code and stdout are compared.
    fn step(&mut self, label: &str, args: &[&str]) -> String {
        self.step_in(label, args, None)
    }

    fn step_in(&mut self, label: &str, args: &[&str], stdin: Option<&str>) -> String {
        let out = self.raw(args, stdin);
        let stdout = text(&out.stdout);
        self.compared.push_str(&format!(
            "{label}: exit={:?}\n{}",
            out.status.code(),
            stdout
        ));
        stdout
    }

    /// Runs podman; only the exit code is compared (stdout is an id).
    fn quiet(&mut self, label: &str, args: &[&str]) {
        let out = self.raw(args, None);
        self.compared
            .push_str(&format!("{label}: exit={:?}\n", out.status.code()));
    }

    /// Runs podman; exit code, stdout and stderr are compared (the container's own streams).
    fn streams(&mut self, label: &str, args: &[&str]) {
        let out = self.raw(args, None);
        self.compared.push_str(&format!(
            "{label}: exit={:?}\nstdout:\n{}stderr:\n{}",
            out.status.code(),
            text(&out.stdout),
            text(&out.stderr)
        ));
    }

    fn note(&mut self, line: &str) {
        self.compared.push_str(line);
        self.compared.push('\n');
    }

    /// Waits until `podman logs NAME` shows `needle` (a detached container got going).
    fn wait_logs(&mut self, name: &str, needle: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            let out = self.engine.podman(self.runtime, &["logs", name], None);
            if text(&out.stdout).contains(needle) {
                self.note(&format!("{name} logged {needle:?}"));
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        self.note(&format!("{name} never logged {needle:?}"));
    }
}

struct Case {
    name: &'static str,
    run: fn(&mut Transcript),
    /// Lines the baseline's transcript must contain (and so ours, being equal).
    expect: &'static [&'static str],
}

fn run_options(t: &mut Transcript) {
    let vol = t.engine.volumes.path().join(t.tag);
    std::fs::create_dir_all(&vol).unwrap();
    std::fs::write(vol.join("file"), "volume-data\n").unwrap();
    let volume = format!("{}:/vol:ro", vol.display());
    t.step(
        "run",
        &[
            "run", "--rm", "-e", "GREETING=hi", "-u", "1000:1000", "-w", "/tmp", "-v", &volume,
            "--read-only", IMAGE, "sh", "-c",
            "echo $GREETING; id -u; id -g; pwd; cat /vol/file; touch /vol/x 2>/dev/null || echo vol-ro; touch /x 2>/dev/null || echo root-ro; touch /tmp/y && echo tmp-rw",
        ],
    );
}

fn more_options(t: &mut Transcript) {
    t.step(
        "more",
        &[
            "run", "--rm", "--tmpfs", "/scratch", "--cap-add", "NET_ADMIN", "--cap-drop", "CHOWN",
            "--sysctl", "net.ipv4.ip_unprivileged_port_start=80", "--hostname", "h1",
            "--add-host", "db:10.1.2.3", "--pids-limit", "50", "--env", "A=1", "--workdir", "/scratch",
            "--stop-signal", "USR1", "--security-opt", "no-new-privileges",
            IMAGE, "sh", "-c",
            "grep -c ' /scratch ' /proc/mounts; grep CapEff /proc/self/status; cat /proc/sys/net/ipv4/ip_unprivileged_port_start; hostname; grep db /etc/hosts; cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max; grep NoNewPrivs /proc/self/status; pwd",
        ],
    );
}

fn detached(t: &mut Transcript) {
    let n = t.name("detached");
    t.quiet("run -d", &["run", "-d", "--name", &n, IMAGE]);
    let filter = format!("name=^{n}$");
    t.step("ps", &["ps", "--filter", &filter, "--format", "{{.Names}}"]);
    t.step("status", &["inspect", &n, "--format", "{{.State.Status}}"]);
    t.quiet("stop", &["stop", "-t", "10", &n]);
    t.step("ps after stop", &["ps", "-q", "--filter", &filter]);
    t.step("stopped", &["inspect", &n, "--format", "{{.State.Status}}"]);
    t.step(
        "exit code",
        &["inspect", &n, "--format", "{{.State.ExitCode}}"],
    );
    t.quiet("rm", &["rm", &n]);
    t.step("gone", &["ps", "-a", "-q", "--filter", &filter]);
}

fn kill(t: &mut Transcript) {
    let n = t.name("kill");
    t.quiet(
        "run -d",
        &[
            "run",
            "-d",
            "--name",
            &n,
            IMAGE,
            "sh",
            "-c",
            "trap 'echo got USR1; exit 3' USR1; echo started; while :; do sleep 0.1; done",
        ],
    );
    t.wait_logs(&n, "started");
    t.quiet("kill USR1", &["kill", "-s", "USR1", &n]);
    t.step("wait", &["wait", &n]);
    t.streams("logs", &["logs", &n]);
    t.quiet("rm", &["rm", &n]);
    let n = t.name("killed");
    t.quiet("run -d", &["run", "-d", "--name", &n, IMAGE]);
    t.quiet("kill", &["kill", &n]);
    t.step("wait KILL", &["wait", &n]);
    t.quiet("rm", &["rm", &n]);
}

fn logs(t: &mut Transcript) {
    let n = t.name("logs");
    t.quiet(
        "run -d",
        &[
            "run",
            "-d",
            "--name",
            &n,
            IMAGE,
            "sh",
            "-c",
            "echo to-stdout; echo to-stderr >&2",
        ],
    );
    t.step("wait", &["wait", &n]);
    t.streams("logs", &["logs", &n]);
    t.quiet("rm", &["rm", &n]);
    // Attached: the container's streams are podman's, nothing of the runtime's own in them.
    t.streams(
        "attached",
        &["run", "--rm", IMAGE, "sh", "-c", "echo out; echo err >&2"],
    );
}

fn exit_codes(t: &mut Transcript) {
    t.step("exit 7", &["run", "--rm", IMAGE, "sh", "-c", "exit 7"]);
    t.step("false", &["run", "--rm", IMAGE, "false"]);
    // podman maps the runtime's "executable file not found" to 127.
    t.quiet("not found", &["run", "--rm", IMAGE, "/no/such/program"]);
    t.step(
        "killed by a signal",
        &[
            "run",
            "--rm",
            IMAGE,
            "sh",
            "-c",
            "sleep 10 & kill -9 $!; wait $!",
        ],
    );
}

fn stdin(t: &mut Transcript) {
    t.step_in(
        "-i",
        &["run", "--rm", "-i", IMAGE, "cat"],
        Some("hello through stdin\n"),
    );
    t.step_in(
        "without -i",
        &["run", "--rm", IMAGE, "cat"],
        Some("not forwarded\n"),
    );
}

fn exec(t: &mut Transcript) {
    let n = t.name("exec");
    t.quiet("run -d", &["run", "-d", "--name", &n, IMAGE]);
    t.step("exec", &["exec", &n, "sh", "-c", "echo in-exec; id -u"]);
    t.step(
        "exec -u -w -e",
        &[
            "exec",
            "-u",
            "1000",
            "-w",
            "/tmp",
            "-e",
            "X=y",
            &n,
            "sh",
            "-c",
            "id -u; pwd; echo X=$X",
        ],
    );
    t.step("exec exit 5", &["exec", &n, "sh", "-c", "exit 5"]);
    t.step_in("exec -i", &["exec", "-i", &n, "cat"], Some("exec stdin\n"));
    t.step(
        "exec sees init",
        &[
            "exec",
            &n,
            "sh",
            "-c",
            "ps -o args | grep -c '[/]bin/sh /pause'",
        ],
    );
    t.quiet("rm", &["rm", "-f", "-t", "0", &n]);
}

fn healthcheck(t: &mut Transcript) {
    let n = t.name("health");
    // `--health-interval disable`: no systemd timer (podman runs checks from systemd units).
    t.quiet(
        "run -d",
        &[
            "run",
            "-d",
            "--name",
            &n,
            "--health-cmd",
            "test ! -e /tmp/sick",
            "--health-interval",
            "disable",
            IMAGE,
        ],
    );
    t.step("healthy", &["healthcheck", "run", &n]);
    t.quiet("make sick", &["exec", &n, "touch", "/tmp/sick"]);
    t.step("unhealthy", &["healthcheck", "run", &n]);
    t.quiet("rm", &["rm", "-f", "-t", "0", &n]);
}

fn restart(t: &mut Transcript) {
    let n = t.name("restart");
    // create + init + start as separate steps, then restart: each is a runtime call of its own.
    t.quiet(
        "create",
        &[
            "create",
            "--name",
            &n,
            IMAGE,
            "sh",
            "-c",
            "echo boot; exec /pause",
        ],
    );
    t.step("created", &["inspect", &n, "--format", "{{.State.Status}}"]);
    t.quiet("init", &["init", &n]);
    t.step(
        "initialized",
        &["inspect", &n, "--format", "{{.State.Status}}"],
    );
    t.quiet("start", &["start", &n]);
    t.wait_logs(&n, "boot");
    t.quiet("restart", &["restart", "-t", "0", &n]);
    t.step(
        "restarted",
        &["inspect", &n, "--format", "{{.State.Status}}"],
    );
    t.step("works", &["exec", &n, "echo", "alive"]);
    t.quiet("rm", &["rm", "-f", "-t", "0", &n]);
}

fn pause(t: &mut Transcript) {
    let n = t.name("pause");
    t.quiet("run -d", &["run", "-d", "--name", &n, IMAGE]);
    t.quiet("pause", &["pause", &n]);
    t.step("paused", &["inspect", &n, "--format", "{{.State.Status}}"]);
    t.quiet("unpause", &["unpause", &n]);
    t.step("running", &["inspect", &n, "--format", "{{.State.Status}}"]);
    t.step("works again", &["exec", &n, "echo", "alive"]);
    t.quiet("rm", &["rm", "-f", "-t", "0", &n]);
}

/// The memory limit the container sees: cgroup v1 (hybrid hosts) or v2.
const MEMORY_LIMIT: &str =
    "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max";

fn update(t: &mut Transcript) {
    let n = t.name("update");
    t.quiet(
        "run -d",
        &["run", "-d", "--name", &n, "--memory", "128m", IMAGE],
    );
    t.step("before", &["exec", &n, "sh", "-c", MEMORY_LIMIT]);
    t.quiet("update", &["update", "--memory", "64m", &n]);
    t.step("after", &["exec", &n, "sh", "-c", MEMORY_LIMIT]);
    t.quiet("rm", &["rm", "-f", "-t", "0", &n]);
}

/// Whether two `readlink /proc/self/ns/...` outputs name the same namespaces.
fn same(a: &str, b: &str) -> &'static str {
    if !a.trim().is_empty() && a.trim() == b.trim() {
        "same"
    } else {
        "different"
    }
}

const NS: [&str; 4] = [
    "/proc/self/ns/net",
    "/proc/self/ns/uts",
    "/proc/self/ns/ipc",
    "/proc/self/ns/pid",
];

fn pod(t: &mut Transcript) {
    let pod = t.name("pod");
    let a = t.name("pod-a");
    t.quiet(
        "pod create",
        &[
            "pod",
            "create",
            "--name",
            &pod,
            "--share",
            "net,uts,ipc,pid",
        ],
    );
    t.quiet(
        "run -d --pod",
        &["run", "-d", "--pod", &pod, "--name", &a, IMAGE],
    );
    let each = format!("for f in {}; do readlink $f; done", NS.join(" "));
    let readlink = vec!["sh", "-c", each.as_str()];
    let mut in_a = vec!["exec", a.as_str()];
    in_a.extend(&readlink);
    let first = t.raw(&in_a, None);
    let mut second = vec!["run", "--rm", "--pod", pod.as_str(), IMAGE];
    second.extend(&readlink);
    let other = t.raw(&second, None);
    for (i, (x, y)) in text(&first.stdout)
        .lines()
        .zip(text(&other.stdout).lines())
        .enumerate()
    {
        t.note(&format!("pod {}: {}", NS[i], same(x, y)));
    }
    t.step(
        "hostname",
        &["run", "--rm", "--pod", &pod, IMAGE, "hostname"],
    );
    t.step(
        "sees the pod's processes",
        &[
            "run",
            "--rm",
            "--pod",
            &pod,
            IMAGE,
            "sh",
            "-c",
            "ps -o args | grep -c '[/]bin/sh /pause'",
        ],
    );
    t.quiet("pod rm", &["pod", "rm", "-f", "-t", "0", &pod]);
}

fn pid_host(t: &mut Transcript) {
    let me = format!("test -d /proc/{} && echo sees-the-test", std::process::id());
    t.step(
        "--pid host",
        &["run", "--rm", "--pid", "host", IMAGE, "sh", "-c", &me],
    );
    let host = std::fs::read_link("/proc/self/ns/pid").unwrap();
    let out = t.raw(
        &[
            "run",
            "--rm",
            "--pid",
            "host",
            IMAGE,
            "readlink",
            "/proc/self/ns/pid",
        ],
        None,
    );
    let verdict = same(&text(&out.stdout), &host.display().to_string());
    t.note(&format!("host pid namespace: {verdict}"));
}

fn host_namespaces(t: &mut Transcript) {
    let each = "for f in /proc/self/ns/ipc /proc/self/ns/uts /proc/self/ns/net /proc/self/ns/cgroup; do readlink $f; done";
    let out = t.raw(
        &[
            "run",
            "--rm",
            "--ipc",
            "host",
            "--uts",
            "host",
            "--network",
            "host",
            "--cgroupns",
            "host",
            IMAGE,
            "sh",
            "-c",
            each,
        ],
        None,
    );
    for (ns, inside) in ["ipc", "uts", "net", "cgroup"]
        .iter()
        .zip(text(&out.stdout).lines())
    {
        let host = std::fs::read_link(format!("/proc/self/ns/{ns}")).unwrap();
        t.note(&format!(
            "host {ns}: {}",
            same(inside, &host.display().to_string())
        ));
    }
    // `rm -f` of a container in the host's pid namespace: the runtime must kill every process
    // of it (runc's `kill --all`), since killing the init alone is not the whole container.
    let n = t.name("pidhost");
    // A duration of this run's and this runtime's own, to find its process among the host's
    // (another run of this test may be going on at the same time).
    let secs =
        (1_000_000 + 2 * u64::from(std::process::id()) + u64::from(t.runtime == OURS)).to_string();
    let secs = secs.as_str();
    let script = format!("sleep {secs} & exec /pause");
    t.quiet(
        "run -d --pid host",
        &[
            "run", "-d", "--pid", "host", "--name", &n, IMAGE, "sh", "-c", &script,
        ],
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while sleepers(secs) == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    t.note(&format!("before rm: {} sleeping", sleepers(secs)));
    t.quiet("rm -f", &["rm", "-f", "-t", "0", &n]);
    let filter = format!("name=^{n}$");
    t.step("gone", &["ps", "-a", "-q", "--filter", &filter]);
    t.note(&format!("after rm: {} sleeping", sleepers(secs)));
}

/// How many host processes run `sleep SECS`.
fn sleepers(secs: &str) -> usize {
    let want = format!("sleep\0{secs}\0");
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| std::fs::read(e.path().join("cmdline")).is_ok_and(|c| c == want.as_bytes()))
        .count()
}

fn terminal(t: &mut Transcript) {
    // `-t`: podman hands the runtime a console socket; the container's stdio is the terminal.
    t.step(
        "run -t",
        &[
            "run",
            "--rm",
            "-t",
            IMAGE,
            "sh",
            "-c",
            "test -t 0 && test -t 1 && echo on-a-tty",
        ],
    );
    let n = t.name("tty");
    t.quiet("run -d", &["run", "-d", "--name", &n, IMAGE]);
    t.step(
        "exec -t",
        &[
            "exec",
            "-t",
            &n,
            "sh",
            "-c",
            "test -t 1 && echo exec-on-a-tty",
        ],
    );
    t.quiet("rm", &["rm", "-f", "-t", "0", &n]);
}

fn bridge(t: &mut Transcript) {
    // A listener on every host address; the container reaches it through the bridge's gateway,
    // which podman names host.containers.internal in the container's /etc/hosts.
    let listener = TcpListener::bind("0.0.0.0:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    // Accepted while the container runs: busybox nc waits for the peer to close.
    let server = std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            match listener.accept() {
                Ok((s, _)) => {
                    s.set_nonblocking(false).unwrap();
                    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                    let mut line = String::new();
                    let _ = std::io::BufReader::new(s).read_line(&mut line);
                    return line;
                }
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
        String::new()
    });
    let send = format!(
        "echo from-{} | nc -w 5 host.containers.internal {port}",
        t.tag
    );
    t.step(
        "bridge",
        &[
            "run",
            "--rm",
            IMAGE,
            "sh",
            "-c",
            &format!("{send} && echo sent; ip -o link | grep -c eth0"),
        ],
    );
    let got = server.join().unwrap();
    let expected = format!("from-{}\n", t.tag);
    t.note(&format!(
        "host got: {}",
        if got == expected {
            "the message"
        } else {
            "nothing"
        }
    ));
}

fn publish(t: &mut Transcript) {
    // A free port of the host's, for the published one.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let n = t.name("publish");
    let map = format!("127.0.0.1:{port}:8080");
    t.quiet(
        "run -d -p",
        &[
            "run",
            "-d",
            "--name",
            &n,
            "-p",
            &map,
            IMAGE,
            "sh",
            "-c",
            "echo published | nc -l -p 8080",
        ],
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut got = String::new();
    while Instant::now() < deadline && got.is_empty() {
        if let Ok(s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
            let _ = std::io::BufReader::new(s).read_line(&mut got);
        }
        if got.is_empty() {
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    t.note(&format!("host read: {}", got.trim()));
    t.quiet("rm", &["rm", "-f", "-t", "0", &n]);
}

fn network_none(t: &mut Transcript) {
    t.step(
        "--network none",
        &[
            "run",
            "--rm",
            "--network",
            "none",
            IMAGE,
            "sh",
            "-c",
            "ip -o link | while read n name rest; do echo $name; done",
        ],
    );
}

fn network_container(t: &mut Transcript) {
    let n = t.name("netns");
    t.quiet("run -d", &["run", "-d", "--name", &n, IMAGE]);
    let of_n = t.raw(&["exec", &n, "readlink", "/proc/self/ns/net"], None);
    let joined = format!("container:{n}");
    let other = t.raw(
        &[
            "run",
            "--rm",
            "--network",
            &joined,
            IMAGE,
            "readlink",
            "/proc/self/ns/net",
        ],
        None,
    );
    t.note(&format!(
        "--network container: {}",
        same(&text(&of_n.stdout), &text(&other.stdout))
    ));
    t.quiet("rm", &["rm", "-f", "-t", "0", &n]);
}

const CASES: &[Case] = &[
    Case {
        name: "run with env, user, cwd, volume, read-only",
        run: run_options,
        expect: &["hi\n1000\n1000\n/tmp\nvolume-data\nvol-ro\nroot-ro\ntmp-rw\n"],
    },
    Case {
        name: "run with tmpfs, capabilities, sysctl, hostname, add-host, pids limit, no-new-privileges",
        run: more_options,
        // podman's default capabilities with NET_ADMIN (bit 12) added and CHOWN (bit 0) dropped.
        expect: &["more: exit=Some(0)\n1\nCapEff:\t00000000a80435fa\n80\nh1\n10.1.2.3\tdb\n50\nNoNewPrivs:\t1\n/scratch\n"],
    },
    Case {
        name: "detached run, ps, stop, rm",
        run: detached,
        expect: &[
            "ps: exit=Some(0)\nT-detached\n",
            "status: exit=Some(0)\nrunning\n",
            "ps after stop: exit=Some(0)\nstopped",
            "stopped: exit=Some(0)\nexited\n",
            "exit code: exit=Some(0)\n0\n",
            "rm: exit=Some(0)\ngone: exit=Some(0)\n",
        ],
    },
    Case {
        name: "kill",
        run: kill,
        expect: &[
            "wait: exit=Some(0)\n3\n",
            "stdout:\nstarted\ngot USR1\n",
            "wait KILL: exit=Some(0)\n137\n",
        ],
    },
    Case {
        name: "logs",
        run: logs,
        expect: &[
            "stdout:\nto-stdout\nstderr:\nto-stderr\n",
            "attached: exit=Some(0)\nstdout:\nout\nstderr:\nerr\n",
        ],
    },
    Case {
        name: "exit codes",
        run: exit_codes,
        expect: &[
            "exit 7: exit=Some(7)\n",
            "false: exit=Some(1)\n",
            "not found: exit=Some(127)\n",
            "killed by a signal: exit=Some(137)\n",
        ],
    },
    Case {
        name: "stdin",
        run: stdin,
        expect: &[
            "-i: exit=Some(0)\nhello through stdin\n",
            "without -i: exit=Some(0)\n",
        ],
    },
    Case {
        name: "exec",
        run: exec,
        expect: &[
            "in-exec\n0\n",
            "1000\n/tmp\nX=y\n",
            "exec exit 5: exit=Some(5)\n",
            "exec -i: exit=Some(0)\nexec stdin\n",
            "exec sees init: exit=Some(0)\n1\n",
        ],
    },
    Case {
        name: "healthcheck",
        run: healthcheck,
        expect: &[
            "healthy: exit=Some(0)\n",
            "unhealthy: exit=Some(1)\nunhealthy\n",
        ],
    },
    Case {
        name: "create, init, start and restart as separate steps",
        run: restart,
        expect: &["created\n", "initialized\n", "logged \"boot\"", "restarted: exit=Some(0)\nrunning\n", "works: exit=Some(0)\nalive\n"],
    },
    Case {
        name: "pause and unpause",
        run: pause,
        expect: &["paused\n", "running\n", "alive\n"],
    },
    Case {
        name: "update",
        run: update,
        expect: &[
            "before: exit=Some(0)\n134217728\n",
            "after: exit=Some(0)\n67108864\n",
        ],
    },
    Case {
        name: "pod with shared namespaces",
        run: pod,
        expect: &[
            "pod /proc/self/ns/net: same",
            "pod /proc/self/ns/uts: same",
            "pod /proc/self/ns/ipc: same",
            "pod /proc/self/ns/pid: same",
            "sees the pod's processes: exit=Some(0)\n2\n",
        ],
    },
    Case {
        name: "--pid host",
        run: pid_host,
        expect: &["sees-the-test\n", "host pid namespace: same"],
    },
    Case {
        name: "host ipc, uts, network and cgroup namespaces; rm -f of a --pid host container",
        run: host_namespaces,
        expect: &[
            "host ipc: same",
            "host uts: same",
            "host net: same",
            "host cgroup: same",
            "before rm: 1 sleeping",
            "rm -f: exit=Some(0)\ngone: exit=Some(0)\nafter rm: 0 sleeping",
        ],
    },
    Case {
        name: "terminal (-t) for run and exec",
        run: terminal,
        expect: &["on-a-tty\r\n", "exec-on-a-tty\r\n"],
    },
    Case {
        name: "bridge network reaches the host",
        run: bridge,
        expect: &["sent\n1\n", "host got: the message"],
    },
    Case {
        name: "a published port (-p) reaches the container",
        run: publish,
        expect: &["host read: published\n"],
    },
    Case {
        name: "--network none",
        run: network_none,
        expect: &["--network none: exit=Some(0)\nlo:\n"],
    },
    Case {
        name: "--network container:N",
        run: network_container,
        expect: &["--network container: same"],
    },
];

#[test]
fn podman_gives_the_same_outcome_on_proxmox_lxcri_as_on_crun() {
    if let Some(why) = missing() {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("CI=true: the podman engine test cannot run: {why}");
        }
        eprintln!("skipped: {why}");
        return;
    }
    let engine = Engine::new();
    let started = Instant::now();
    // Both runtimes at once, each through every case in order.
    let (baseline, ours) = std::thread::scope(|s| {
        let run_all = |runtime: &'static str, tag: &'static str| {
            let engine = &engine;
            move || {
                CASES
                    .iter()
                    .map(|case| {
                        let mut t = Transcript {
                            engine,
                            runtime,
                            tag,
                            compared: String::new(),
                            stderr: String::new(),
                        };
                        (case.run)(&mut t);
                        (t.compared, t.stderr)
                    })
                    .collect::<Vec<_>>()
            }
        };
        let b = s.spawn(run_all(BASELINE, "crun"));
        let o = s.spawn(run_all(OURS, "lxcri"));
        (b.join().unwrap(), o.join().unwrap())
    });
    eprintln!(
        "{} cases on both runtimes in {:.1} s",
        CASES.len(),
        started.elapsed().as_secs_f64()
    );
    // The tags differ on purpose (names, the bridge message); compare without them.
    let plain = |s: &str, tag: &str| s.replace(&format!("{tag}-"), "T-");
    let mut failures = Vec::new();
    for (case, ((b, b_err), (o, o_err))) in CASES.iter().zip(baseline.iter().zip(ours.iter())) {
        let b_plain = plain(b, "crun");
        let o_plain = plain(o, "lxcri");
        let missing: Vec<&str> = case
            .expect
            .iter()
            .copied()
            .filter(|e| !b_plain.contains(*e))
            .collect();
        if b_plain != o_plain || !missing.is_empty() {
            failures.push(format!(
                "── {}{}\n── crun:\n{b}\n── proxmox-lxcri:\n{o}\n── crun's podman calls:\n{b_err}\n── proxmox-lxcri's podman calls:\n{o_err}",
                case.name,
                if missing.is_empty() {
                    String::new()
                } else {
                    format!(" (the baseline lacks {missing:?})")
                }
            ));
        }
    }
    // The log's last lines: what proxmox-lxcri said about the last containers.
    let log = std::fs::read_to_string(engine.base.path().join("lxcri.log")).unwrap_or_default();
    let lines: Vec<&str> = log.lines().collect();
    let log = lines[lines.len().saturating_sub(40)..].join("\n");
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}\n── proxmox-lxcri's log:\n{log}",
        failures.len(),
        CASES.len(),
        failures.join("\n")
    );
}

/// Issue 19: podman passes no `--runtime`; the node configuration sends its containers to the
/// back end it names, here by the bundle's annotation (podman's ids are generated, so an id
/// glob is `*`).
#[test]
fn podman_containers_go_where_the_node_configuration_routes_them() {
    if let Some(why) = missing() {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("CI=true: the podman engine test cannot run: {why}");
        }
        eprintln!("skipped: {why}");
        return;
    }
    let engine = Engine::new();
    let log =
        || std::fs::read_to_string(engine.base.path().join("lxcri-routed.log")).unwrap_or_default();
    let routed = engine.podman(
        ROUTED,
        &[
            "run",
            "--rm",
            "--network",
            "none",
            "--annotation",
            "org.proxmox-lxcri.runtime=crun",
            IMAGE,
            "echo",
            "routed to crun",
        ],
        None,
    );
    assert_eq!(
        (routed.status.code(), text(&routed.stdout)),
        (Some(0), "routed to crun\n".to_owned()),
        "stderr: {}\nlog: {}",
        text(&routed.stderr),
        log()
    );
    assert!(
        log().contains("runtime crun, chosen by rule 1 "),
        "{}",
        log()
    );
    // Without the annotation the default, pct: this engine has no Proxmox node (no pct on
    // PATH), so the create fails; what matters here is that it went to pct
    // (tests/engines_pct.rs runs engines on the pct back end of the simulator).
    let default = engine.podman(
        ROUTED,
        &["run", "--rm", "--network", "none", IMAGE, "echo", "never"],
        None,
    );
    assert_ne!(default.status.code(), Some(0), "{}", text(&default.stderr));
    assert!(!text(&default.stdout).contains("never"));
    assert!(
        log().contains("runtime pct, chosen by the default of "),
        "{}",
        log()
    );
}
