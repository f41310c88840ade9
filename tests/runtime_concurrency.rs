//! The state store under pressure, on the Proxmox simulator with real LXC: twenty creates at
//! once, a create killed with SIGKILL half-way, and a failure injected at every host call of a
//! full create. After each, the store and the node must agree: no container config, template,
//! VMID or state entry without its counterpart, and the next create must succeed. Also: a
//! node whose facts reach `create` the way an engine's call allows (the environment).

mod runtime_support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use executor::bundle::Rootfs;
use executor::host::{
    Command as HostCommand, FileMode, Host, HostError, HostLock, Output, RealHost,
};
use executor::id::ContainerId;
use executor::lock::Wait;
use executor::pack::{PackConfig, PackReport, Progress};
use executor::pve::PvePaths;
use executor::runtime::{self as rt, CreateBackend, CreateRequest, Runtime};
use executor::state::StateStore;
use runtime_support::*;

fn setup() -> (Node, tempfile::TempDir) {
    require(SIM_TOOLS);
    ensure_subids();
    (Node::new(), bundle(CONFIG))
}

fn rows(node: &Node) -> Vec<serde_json::Value> {
    let listed = ok(&node.run(&["list", "--format", "json"]));
    match serde_json::from_str(&listed) {
        Ok(serde_json::Value::Array(rows)) => rows,
        other => panic!("list printed {listed:?}: {other:?}"),
    }
}

#[test]
fn twenty_parallel_creates_get_distinct_vmids_and_a_consistent_store() {
    let (node, b) = setup();
    let ids: Vec<String> = (0..20).map(|i| format!("par{i:02}")).collect();

    let start = Instant::now();
    let children: Vec<(String, Child)> = ids
        .iter()
        .map(|id| {
            let child = node
                .lxcri()
                .args(["create", id, "--bundle"])
                .arg(b.path())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("spawn create");
            (id.clone(), child)
        })
        .collect();
    for (id, child) in children {
        let out = child.wait_with_output().expect("wait for create");
        assert!(out.status.success(), "create {id}: {}", text(&out.stderr));
    }
    let took = start.elapsed();
    eprintln!("20 parallel creates took {took:?}");
    assert!(took < Duration::from_secs(60), "20 creates took {took:?}");

    let rows = rows(&node);
    let listed: Vec<&str> = rows.iter().filter_map(|r| r["id"].as_str()).collect();
    assert_eq!(listed, ids, "every create is listed once, sorted");
    let vmids: BTreeSet<u64> = rows.iter().filter_map(|r| r["vmid"].as_u64()).collect();
    assert_eq!(
        vmids,
        (100..120).collect(),
        "20 distinct VMIDs, the lowest free ones"
    );
    for r in &rows {
        assert_eq!(r["status"], "created", "{r}");
        assert_eq!(r["runtime"], "pct", "{r}");
        assert!(r.get("error").is_none(), "{r}");
        let vmid = r["vmid"].as_u64().unwrap_or_default();
        // The store's VMID is the node's container of that id, made from this bundle.
        let conf =
            std::fs::read_to_string(node.host(&format!("/etc/pve/nodes/pve/lxc/{vmid}.conf")))
                .unwrap_or_default();
        assert!(
            conf.contains("lxc.init.uid: 1000\n"),
            "CT {vmid} of {}: {conf:?}",
            r["id"]
        );
        let s = state_json(&node.run(&["state", r["id"].as_str().unwrap_or_default()]));
        assert_eq!(s["annotations"]["org.proxmox-lxcri.vmid"], vmid.to_string());
    }
    let want: Vec<String> = (100..120).map(|v| format!("{v}.conf")).collect();
    assert_eq!(node.configs(), want, "no config without a record");
    assert_eq!(
        node.templates(),
        Vec::<String>::new(),
        "every intermediate template is removed"
    );

    // Deleting them all at once leaves nothing either.
    let children: Vec<(String, Child)> = ids
        .iter()
        .map(|id| {
            (
                id.clone(),
                node.lxcri()
                    .args(["delete", id])
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .expect("spawn delete"),
            )
        })
        .collect();
    for (id, child) in children {
        let out = child.wait_with_output().expect("wait for delete");
        assert!(out.status.success(), "delete {id}: {}", text(&out.stderr));
    }
    eprintln!("20 creates and 20 deletes took {:?}", start.elapsed());
    assert_eq!(node.configs(), Vec::<String>::new());
    assert_eq!(node.records(), Vec::<String>::new());
    assert_eq!(rows_len(&node), 0);
}

fn rows_len(node: &Node) -> usize {
    rows(node).len()
}

/// A `pct` that does the real `pct create`, then says where it is and hangs, so that the
/// executor can be killed with the container made and its create not finished.
fn hanging_pct(node: &Node) -> (PathBuf, PathBuf) {
    let dir = node.dir.path().join("standins");
    std::fs::create_dir_all(&dir).expect("mkdir standins");
    let marker = node.dir.path().join("pct-hangs");
    let real = bin_dir().join("pct");
    script(
        &dir.join("pct"),
        &format!(
            "#!/bin/sh\nif [ \"$1\" = create ]; then\n  {} \"$@\" || exit $?\n  echo $$ > {}.tmp && mv {}.tmp {}\n  exec sleep 120\nfi\nexec {} \"$@\"\n",
            real.display(),
            marker.display(),
            marker.display(),
            marker.display(),
            real.display()
        ),
    );
    (dir, marker)
}

/// Starts `create <id>` with a hanging `pct create`, waits until the container exists, and
/// kills the executor with SIGKILL. Returns the executor's pid; the hanging `pct` is gone too.
fn killed_create(node: &mut Node, id: &str, bundle: &Path) -> u32 {
    let (dir, marker) = hanging_pct(node);
    let _ = std::fs::remove_file(&marker);
    node.extra_path = Some(dir);
    let mut child = node
        .lxcri()
        .args(["create", id, "--bundle"])
        .arg(bundle)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn create");
    node.extra_path = None;
    wait_for(
        "pct create to finish and hang",
        Duration::from_secs(30),
        || marker.exists(),
    );
    let standin: i32 = std::fs::read_to_string(&marker)
        .unwrap_or_default()
        .trim()
        .parse()
        .expect("stand-in pid");

    // Still running: other commands see a create in progress, and wait for nothing.
    let s = state_json(&node.run(&["state", id]));
    assert_eq!(s["status"], "creating", "{s}");
    assert_eq!(rows(node)[0]["status"], "creating");

    let pid = child.id();
    child.kill().expect("SIGKILL the executor");
    let status = child.wait().expect("reap the executor");
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(9)
    );
    // The stand-in (a child of the dead executor) does not hold the container's lock: the
    // next command must see the creator gone even while it lingers.
    let err = fails(&node.run(&["state", id]), 1);
    assert!(err.contains("the creating process is gone"), "{err}");
    let _ = Command::new("kill")
        .args(["-9", &standin.to_string()])
        .status();
    pid
}

#[test]
fn a_create_killed_with_sigkill_is_reported_then_repaired() {
    let (mut node, b) = setup();
    let bundle = b.path().to_str().unwrap();
    let pid = killed_create(&mut node, "k", b.path());

    // What it left: CT 100 and its template on the node, a partial record in the store.
    assert_eq!(node.configs(), ["100.conf"]);
    assert_eq!(node.templates().len(), 1, "{:?}", node.templates());
    let err = fails(&node.run(&["state", "k"]), 1);
    let head =
        format!("proxmox-lxcri: error: container k was not fully created (create by pid {pid} at ");
    assert!(err.starts_with(&head), "{err}");
    assert!(
        err.ends_with(&format!(
            ", bundle {bundle}); the creating process is gone; Proxmox container 100 on node pve may exist and must be destroyed; `delete --force k` cleans up\n"
        )),
        "{err}"
    );
    let err = fails(&node.run(&["start", "k"]), 1);
    assert!(err.starts_with(&head), "{err}");
    let rows = rows(&node);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["status"], "interrupted");
    assert_eq!(rows[0]["vmid"], 100);
    assert!(
        rows[0]["error"]
            .as_str()
            .unwrap_or_default()
            .contains("`delete --force k` cleans up"),
        "{}",
        rows[0]
    );

    // Creating the same id again undoes the journal first, then creates anew.
    ok(&node.run(&["create", "k", "--bundle", bundle]));
    assert_eq!(
        node.configs(),
        ["100.conf"],
        "CT 100 was destroyed and made again"
    );
    assert_eq!(
        node.templates(),
        Vec::<String>::new(),
        "the old template is removed"
    );
    let s = state_json(&node.run(&["state", "k"]));
    assert_eq!(s["status"], "created");
    assert_eq!(s["annotations"]["org.proxmox-lxcri.vmid"], "100");
    ok(&node.run(&["start", "k"]));
    assert_eq!(state_json(&node.run(&["state", "k"]))["status"], "running");
    ok(&node.run(&["delete", "--force", "k"]));
    assert_eq!(node.configs(), Vec::<String>::new());
    assert_eq!(node.records(), Vec::<String>::new());
}

#[test]
fn a_create_killed_with_sigkill_is_cleaned_up_by_delete() {
    let (mut node, b) = setup();
    killed_create(&mut node, "k", b.path());
    // Another container meanwhile gets a fresh VMID: 100 may still exist.
    ok(&node.run(&["create", "other", "--bundle", b.path().to_str().unwrap()]));
    assert_eq!(
        state_json(&node.run(&["state", "other"]))["annotations"]["org.proxmox-lxcri.vmid"],
        "101"
    );

    ok(&node.run(&["delete", "k"]));
    assert_eq!(node.configs(), ["101.conf"]);
    assert_eq!(node.templates(), Vec::<String>::new());
    assert_eq!(node.records(), ["other"]);
    let err = fails(&node.run(&["state", "k"]), 1);
    assert!(err.contains("container k does not exist"), "{err}");
    ok(&node.run(&["delete", "other"]));
}

/// The real host on the simulator, with the `fail_at`-th call (counting from 0) failing
/// before it has any effect.
struct FaultyHost {
    inner: RealHost,
    fail_at: Option<usize>,
    calls: AtomicUsize,
    /// What each call was, for the failure messages.
    log: std::sync::Mutex<Vec<String>>,
}

impl FaultyHost {
    fn new(node: &Node, fail_at: Option<usize>) -> FaultyHost {
        let mut inner = RealHost::new();
        // The simulator finds its node through PVE_SIM_ROOT; this process's environment is
        // shared by parallel tests, so each program gets a wrapper that sets it.
        for program in ["pct", "pvesh", "pvesm"] {
            let wrapper = node.dir.path().join(format!("sim-{program}"));
            if !wrapper.exists() {
                script(
                    &wrapper,
                    &format!(
                        "#!/bin/sh\nPVE_SIM_ROOT={} exec {} \"$@\"\n",
                        node.sim().display(),
                        bin_dir().join(program).display()
                    ),
                );
            }
            inner = inner.with_program(program, wrapper);
        }
        FaultyHost {
            inner,
            fail_at,
            calls: AtomicUsize::new(0),
            log: std::sync::Mutex::new(Vec::new()),
        }
    }

    fn check(&self, what: String) -> Result<(), HostError> {
        let call = self.calls.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut log) = self.log.lock() {
            log.push(what);
        }
        match self.fail_at {
            Some(n) if n == call => Err(HostError::Injected {
                call,
                message: "fault injected by the test".into(),
            }),
            _ => Ok(()),
        }
    }
}

impl Host for FaultyHost {
    fn run(&self, cmd: &HostCommand) -> Result<Output, HostError> {
        self.check(format!("run {}", cmd.program.to_string_lossy()))?;
        self.inner.run(cmd)
    }
    fn spawn(
        &self,
        cmd: &HostCommand,
        terminal: Option<std::os::fd::BorrowedFd<'_>>,
    ) -> Result<u32, HostError> {
        self.check(format!("spawn {}", cmd.program.to_string_lossy()))?;
        self.inner.spawn(cmd, terminal)
    }
    fn read_file(&self, path: &Path) -> Result<Vec<u8>, HostError> {
        self.check("read file".into())?;
        self.inner.read_file(path)
    }
    fn list_dir(&self, path: &Path) -> Result<Vec<std::ffi::OsString>, HostError> {
        self.check("list dir".into())?;
        self.inner.list_dir(path)
    }
    fn write_file(&self, path: &Path, contents: &[u8], mode: FileMode) -> Result<(), HostError> {
        self.check("write file".into())?;
        self.inner.write_file(path, contents, mode)
    }
    fn remove_file(&self, path: &Path) -> Result<(), HostError> {
        self.check("remove file".into())?;
        self.inner.remove_file(path)
    }
    fn lock(&self, path: &Path, wait: Wait) -> Result<HostLock, HostError> {
        self.check("lock".into())?;
        self.inner.lock(path, wait)
    }
    fn pack_rootfs(
        &self,
        rootfs: &Rootfs,
        output: &Path,
        config: &PackConfig,
    ) -> Result<PackReport, HostError> {
        self.check("pack".into())?;
        self.inner.pack_rootfs(rootfs, output, config)
    }
    fn pack_image(
        &self,
        image: &executor::image::Opened,
        output: &Path,
        config: &PackConfig,
    ) -> Result<PackReport, HostError> {
        self.check("pack".into())?;
        self.inner.pack_image(image, output, config)
    }
}

/// The test bundle's config with a seccomp policy, which a create writes as a file of its
/// own. Profiles are content-addressed and shared by every container on the host (outside the
/// simulated node: LXC reads them), so this one is made unique to the test process.
fn seccomp_config() -> String {
    let errno = 1 + std::process::id() % 120;
    CONFIG.replace(
        r#""namespaces":"#,
        &format!(r#""seccomp": {{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{{"names": ["swapon", "swapoff"], "action": "SCMP_ACT_ERRNO", "errnoRet": {errno}}}]}}, "namespaces":"#),
    )
}

/// What `create` does with the bundle: the translator's plan for the default target.
fn request(id: &str, bundle: &Path) -> CreateRequest {
    let target = translator::Target::default();
    let t = translator::oci_to_ir("config.json", seccomp_config().as_bytes(), &target);
    let ir =
        t.ir.as_ref()
            .filter(|_| !t.has_errors())
            .unwrap_or_else(|| panic!("{:?}", t.diagnostics));
    let plan = translator::emit::plan::ir_to_plan(ir, &target, "config.json").expect("plan");
    CreateRequest {
        id: ContainerId::new(id).expect("id"),
        bundle: bundle.to_owned(),
        backend: CreateBackend::Pct {
            image: None,
            plan,
            pack: PackConfig {
                progress: Progress::Never,
                ..PackConfig::default()
            },
            rootfs: None,
            policy: translator::policy::Policy::builtin(),
            host_rootfs: None,
            engine: None,
        },
        stop_signal: None,
    }
}

/// Removes the test's own profile even when an assertion fails.
struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The seccomp profile the plan writes.
fn seccomp_file(req: &CreateRequest) -> PathBuf {
    let CreateBackend::Pct { plan, .. } = &req.backend else {
        panic!("a pct request")
    };
    let written: Vec<&str> = plan
        .steps
        .iter()
        .filter_map(|s| match &s.action {
            translator::emit::plan::Action::WriteFile { path, .. } => Some(path.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(written.len(), 1, "one seccomp profile: {written:?}");
    PathBuf::from(written[0])
}

fn runtime<'a>(node: &Node, host: &'a FaultyHost) -> Runtime<'a> {
    let mut r = Runtime::new(
        host,
        StateStore::open(node.state_dir()).expect("store"),
        PvePaths::under(node.sim()),
    );
    r.lock_wait = Duration::from_secs(5);
    r
}

#[test]
fn a_failure_at_every_host_call_of_a_create_leaves_nothing_and_the_next_create_succeeds() {
    let (node, b) = setup();
    std::fs::write(b.path().join("config.json"), seccomp_config()).expect("config.json");
    let seccomp = seccomp_file(&request("f", b.path()));
    let _ = std::fs::remove_file(&seccomp);
    let _cleanup = RemoveOnDrop(seccomp.clone());
    // The ledger directory exists, as after any earlier create on the cluster: the very first
    // create also makes it (one more call), which would shift the numbering of the faults.
    std::fs::create_dir_all(node.host("/etc/pve/priv/proxmox-lxcri")).expect("ledger dir");
    let start = Instant::now();
    let calls = {
        let host = FaultyHost::new(&node, None);
        let r = runtime(&node, &host);
        rt::create(&r, request("f", b.path())).expect("create without faults");
        host.log.lock().map(|l| l.clone()).unwrap_or_default()
    };
    ok(&node.run(&["delete", "f"]));
    assert!(seccomp.is_file(), "the create wrote {}", seccomp.display());
    // `delete` keeps profiles (another container may use the same one); this one is ours.
    std::fs::remove_file(&seccomp).expect("remove the test's profile");
    // A full create: every kind of effect it has on the node is among the calls that fail.
    for kind in [
        "run pvesh",
        "pack",
        "run pvesm",
        "run pct",
        "lock",
        "write file",
        "remove file",
    ] {
        assert!(
            calls.iter().any(|c| c == kind),
            "no `{kind}` call in {calls:?}"
        );
    }
    assert!(
        calls.iter().filter(|c| *c == "write file").count() >= 2,
        "the seccomp profile and the config: {calls:?}"
    );
    let total = calls.len();

    for n in 0..total {
        let host = FaultyHost::new(&node, Some(n));
        let r = runtime(&node, &host);
        let err = rt::create(&r, request("f", b.path()))
            .expect_err("the injected fault fails the create");
        let msg = err.to_string();
        let what = calls.get(n).cloned().unwrap_or_default();
        assert!(
            msg.contains(&format!(
                "injected failure at call #{n}: fault injected by the test"
            )),
            "call #{n} ({what}): {msg}"
        );
        assert!(
            err.hint().is_none(),
            "call #{n} ({what}): everything was undone, nothing to retry: {msg}"
        );
        assert_eq!(
            node.configs(),
            Vec::<String>::new(),
            "call #{n} ({what}): a container config is left"
        );
        assert_eq!(
            node.templates(),
            Vec::<String>::new(),
            "call #{n} ({what}): a template is left"
        );
        assert_eq!(
            names(&node.host("/var/lib/lxc")),
            Vec::<String>::new(),
            "call #{n} ({what}): an LXC container is left"
        );
        assert_eq!(
            node.records(),
            Vec::<String>::new(),
            "call #{n} ({what}): a state entry is left"
        );
        assert!(
            !seccomp.exists(),
            "call #{n} ({what}): the seccomp profile is left"
        );
        // The VMID is free again and the allocation lock released: the next create, through
        // the binary, gets CT 100.
        ok(&node.run(&["create", "f", "--bundle", b.path().to_str().unwrap()]));
        let s = state_json(&node.run(&["state", "f"]));
        assert_eq!(
            s["annotations"]["org.proxmox-lxcri.vmid"], "100",
            "call #{n}"
        );
        ok(&node.run(&["delete", "f"]));
        std::fs::remove_file(&seccomp).expect("remove the test's profile");
    }
    eprintln!(
        "{total} host calls per create ({calls:?}); every fault checked in {:?}",
        start.elapsed()
    );
}

/// Engines pass no `--target`; on a node not named `pve` the target comes from
/// `PROXMOX_LXCRI_TARGET`, and without it the create fails cleanly.
#[test]
fn an_engine_call_takes_the_node_facts_from_the_environment() {
    let (node, b) = setup();
    let bundle = b.path().to_str().unwrap();
    let on_px1 = |args: &[&str]| {
        node.lxcri()
            .env("PVE_SIM_NODE", "px1")
            .args(args)
            .output()
            .expect("run proxmox-lxcri")
    };

    let err = fails(&on_px1(&["create", "e", "--bundle", bundle]), 1);
    assert!(
        err.contains("step 4 (write-config-lines) failed:")
            && err.contains("nodes/pve/lxc/100.conf"),
        "{err}"
    );
    assert_eq!(
        names(&node.host("/etc/pve/nodes/px1/lxc")),
        Vec::<String>::new(),
        "rolled back"
    );
    assert_eq!(node.records(), Vec::<String>::new());

    let target = node.dir.path().join("target.json");
    std::fs::write(&target, r#"{"node": "px1"}"#).expect("target.json");
    let out = node
        .lxcri()
        .env("PVE_SIM_NODE", "px1")
        .env("PROXMOX_LXCRI_TARGET", &target)
        .args(["create", "e", "--bundle", bundle])
        .output()
        .expect("run");
    ok(&out);
    assert_eq!(names(&node.host("/etc/pve/nodes/px1/lxc")), ["100.conf"]);
    let s = state_json(&on_px1(&["state", "e"]));
    assert_eq!(
        (
            s["status"].as_str(),
            s["annotations"]["org.proxmox-lxcri.node"].as_str()
        ),
        (Some("created"), Some("px1"))
    );
    ok(&on_px1(&["delete", "e"]));
    assert_eq!(
        names(&node.host("/etc/pve/nodes/px1/lxc")),
        Vec::<String>::new()
    );
}
