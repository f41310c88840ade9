//! The verbs on a [`RecordingHost`] that plays a Proxmox node, with a real state store.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use translator::emit::plan::{ir_to_plan, Plan};
use translator::Target;

use super::*;
use crate::apply::{UndoAction, UndoEntry};
use crate::host::{Command, Output, RecordingHost};
use crate::id::Vmid;
use crate::pack::PackConfig;
use crate::state::{OciState, Status};

const APP: &str = r#"{"ociVersion": "1.2.0", "root": {"path": "rootfs"}, "process": {"cwd": "/", "args": ["/bin/sh"]},
    "linux": {"namespaces": [{"type": "user"}]}}"#;

fn plan() -> Plan {
    let target = Target::default();
    let t = translator::oci_to_ir("config.json", APP.as_bytes(), &target);
    ir_to_plan(&t.ir.unwrap(), &target, "config.json").unwrap()
}

fn id(s: &str) -> ContainerId {
    ContainerId::new(s).unwrap()
}

/// A node whose CT 100 runs while `running` is set.
fn node(running: Arc<AtomicBool>) -> RecordingHost {
    let host = RecordingHost::new();
    host.respond(|cmd| {
        // `pvesm path <storage>:vztmpl/<file>` → the storage's template directory.
        let volid = cmd.args.get(1)?.to_str()?.to_owned();
        let file = volid.split_once(":vztmpl/")?.1.to_owned();
        (cmd.program == "pvesm").then(|| Output::ok(format!("/sim/cache/{file}\n")))
    });
    host.respond_to("pvesh", &["get"], Output::ok("100\n"));
    // `pct create` writes the config with the description as `#` lines on top
    // (`write_pct_config`); `pct destroy` removes it.
    host.on_run(|cmd, files| {
        if cmd.program == "pct" && cmd.args_start_with(&["create"]) {
            let at = cmd.args.iter().position(|a| a == "--description");
            let desc = at
                .and_then(|i| cmd.args.get(i + 1))
                .and_then(|d| d.to_str())
                .unwrap_or_default();
            let mut text: String = desc
                .lines()
                .map(|l| format!("#{}\n", l.replace('%', "%25").replace(':', "%3A")))
                .collect();
            text.push_str("arch: amd64\n");
            files.insert(CONF.into(), text.into_bytes());
        } else if cmd.program == "pct" && cmd.args_start_with(&["destroy"]) {
            files.remove(Path::new(CONF));
        }
    });
    let r = running.clone();
    host.respond(move |cmd| {
        (cmd.program == "pct" && cmd.args_start_with(&["status"])).then(|| {
            if r.load(Ordering::SeqCst) {
                Output::ok("pid: 4242\nstatus: running\n")
            } else {
                Output::ok("status: stopped\n")
            }
        })
    });
    let r = running.clone();
    host.respond(move |cmd| {
        (cmd.program == "pct" && cmd.args_start_with(&["start"])).then(|| {
            r.store(true, Ordering::SeqCst);
            Output::ok("")
        })
    });
    host.respond(move |cmd| {
        (cmd.program == "pct" && cmd.args_start_with(&["shutdown"])).then(|| {
            running.store(false, Ordering::SeqCst);
            Output::ok("")
        })
    });
    host
}

fn runtime<'a>(host: &'a RecordingHost, root: &Path) -> Runtime<'a> {
    let mut rt = Runtime::new(
        host,
        crate::state::StateStore::open(root).unwrap(),
        PvePaths::under("/sim").on_node(Some("pve".into())),
    );
    rt.lock_wait = Duration::from_millis(100);
    rt
}

/// A real bundle directory: the pack step opens and checks the rootfs it packs.
fn bundle() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join("proxmox-lxcri-runtime-tests/app");
    std::fs::create_dir_all(dir.join("rootfs")).unwrap();
    std::fs::canonicalize(dir).unwrap()
}

fn request(name: &str) -> CreateRequest {
    CreateRequest {
        id: id(name),
        bundle: bundle(),
        backend: CreateBackend::Pct {
            image: None,
            plan: plan(),
            pack: PackConfig::default(),
            policy: translator::policy::Policy::builtin(),
            host_rootfs: None,
            engine: None,
            rootfs: None,
        },
        stop_signal: Some(Signal::TERM),
    }
}

const CONF: &str = "/sim/etc/pve/nodes/pve/lxc/100.conf";

fn create_app(rt: &Runtime<'_>, _host: &RecordingHost) {
    create(rt, request("app")).unwrap();
}

fn destroys(host: &RecordingHost) -> usize {
    host.commands()
        .iter()
        .filter(|c| c.program == "pct" && c.args_start_with(&["destroy"]))
        .count()
}

#[test]
fn pct_lifecycle() {
    let running = Arc::new(AtomicBool::new(false));
    let host = node(running.clone());
    let tmp = tempfile::tempdir().unwrap();
    let rt = runtime(&host, tmp.path());
    let c = id("app");

    let created = create(&rt, request("app")).unwrap();
    assert_eq!(created.status, Status::Created);
    let conf = String::from_utf8(host.file(Path::new(CONF)).unwrap()).unwrap();
    assert!(
        conf.starts_with("#org.proxmox-lxcri.identity=app;"),
        "{conf}"
    );
    let s = state(&rt, &c).unwrap();
    assert_eq!((s.status, s.pid), (Status::Created, None));
    assert_eq!(
        s.annotations
            .get(super::state::VMID_ANNOTATION)
            .map(String::as_str),
        Some("100")
    );
    assert!(matches!(
        kill(&rt, &c, Signal::TERM),
        Err(RuntimeError::NotRunning { .. })
    ));

    let s = start(&rt, &c).unwrap();
    assert_eq!((s.status, s.pid), (Status::Running, Some(4242)));
    assert!(matches!(
        start(&rt, &c),
        Err(RuntimeError::WrongStatus {
            status: "running",
            ..
        })
    ));
    kill(&rt, &c, Signal::TERM).unwrap();
    assert!(host
        .commands()
        .contains(&Command::new("kill").args(["-s", "15", "--", "4242"])));
    assert!(!host
        .commands()
        .iter()
        .any(|c| c.program == "pct" && c.args_start_with(&["exec"])));

    let err = delete(&rt, &c, false, Duration::from_secs(5)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot delete container app that is not stopped: running (use --force)"
    );

    running.store(false, Ordering::SeqCst);
    let s = state(&rt, &c).unwrap();
    assert_eq!((s.status, s.pid), (Status::Stopped, None));
    let err = kill(&rt, &c, Signal::KILL).unwrap_err();
    assert_eq!(err.to_string(), "container not running: app is stopped");

    let rows = list(&rt).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].status.as_str(), rows[0].vmid),
        ("stopped", Some(100))
    );

    delete(&rt, &c, false, Duration::from_secs(5)).unwrap();
    assert!(host
        .commands()
        .contains(&Command::new("pct").args(["destroy", "100", "--purge"])));
    assert!(matches!(state(&rt, &c), Err(RuntimeError::NotFound { .. })));
    assert!(list(&rt).unwrap().is_empty());
}

#[test]
fn forced_delete_shuts_down_first() {
    let running = Arc::new(AtomicBool::new(false));
    let host = node(running);
    let tmp = tempfile::tempdir().unwrap();
    let rt = runtime(&host, tmp.path());
    let c = id("app");
    create_app(&rt, &host);
    start(&rt, &c).unwrap();
    delete(&rt, &c, true, Duration::from_secs(3)).unwrap();
    let shown: Vec<String> = host.commands().iter().map(ToString::to_string).collect();
    let tail = &shown[shown.len() - 2..];
    assert_eq!(
        tail,
        [
            "pct shutdown 100 --timeout 3 --forceStop 1",
            "pct destroy 100 --purge"
        ]
    );
}

#[test]
fn stop_shuts_down_and_records_it() {
    let running = Arc::new(AtomicBool::new(false));
    let host = node(running);
    let tmp = tempfile::tempdir().unwrap();
    let rt = runtime(&host, tmp.path());
    let c = id("app");
    create_app(&rt, &host);
    start(&rt, &c).unwrap();
    stop(&rt, &c, Duration::from_secs(9)).unwrap();
    assert!(host.commands().contains(&Command::new("pct").args([
        "shutdown",
        "100",
        "--timeout",
        "9",
        "--forceStop",
        "1"
    ])));
    assert_eq!(state(&rt, &c).unwrap().status, Status::Stopped);
}

#[test]
fn a_failed_create_leaves_no_record_and_can_be_repeated() {
    let host = node(Arc::new(AtomicBool::new(false)));
    host.fail_first(
        |c| matches!(c, crate::host::HostCall::WriteFile { .. }),
        "no quorum",
    );
    let tmp = tempfile::tempdir().unwrap();
    let rt = runtime(&host, tmp.path());
    let err = create(&rt, request("app")).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("step 4 (write-config-lines) failed: injected failure"),
        "{err}"
    );
    assert!(err.hint().is_none());
    assert!(rt.store.list().unwrap().is_empty());
    create(&rt, request("app")).unwrap();
    assert!(matches!(
        create(&rt, request("app")),
        Err(RuntimeError::Exists { .. })
    ));
    let mapping = rt.store.read_mapping_alone(&id("app")).unwrap().unwrap();
    assert_eq!(mapping.stop_signal.as_deref(), Some("SIGTERM"));
    assert!(mapping.token.is_some());
}

#[test]
fn an_interrupted_create_is_reported_then_cleaned_up() {
    let host = node(Arc::new(AtomicBool::new(false)));
    let tmp = tempfile::tempdir().unwrap();
    let rt = runtime(&host, tmp.path());
    let c = id("app");
    // What a create killed right after `pct create` leaves.
    {
        let lock = rt.store.lock_container(&c, crate::lock::Wait::No).unwrap();
        rt.store.begin_create(&lock, Path::new("/b/app")).unwrap();
        let mut j = journal::StoreJournal::new(&rt.store, &lock, "/b/app".into())
            .with_identity(Some(TOKEN.clone()), None);
        crate::apply::Journal::vmid_chosen(&mut j, Vmid::new(100).unwrap(), "pve").unwrap();
        host.with_file(CONF, format!("#{}\narch: amd64\n", stamp("app")));
        let undos = [
            UndoEntry {
                step: "step 1 (pack-rootfs)".into(),
                action: UndoAction::RemoveTemplate {
                    volid: "local:vztmpl/t.tar.zst".into(),
                    path: "/sim/cache/t.tar.zst".into(),
                },
            },
            UndoEntry {
                step: "step 3 (pct-create)".into(),
                action: UndoAction::DestroyCt {
                    vmid: Vmid::new(100).unwrap(),
                },
            },
        ];
        crate::apply::Journal::save(&mut j, &undos).unwrap();
    }
    let err = state(&rt, &c).unwrap_err().to_string();
    assert!(
        err.contains("the creating process is gone") && err.contains("delete --force app"),
        "{err}"
    );
    assert_eq!(list(&rt).unwrap()[0].status, "interrupted");

    let before = host.calls().len();
    create(&rt, request("app")).unwrap();
    let shown: Vec<String> = host.calls()[before..]
        .iter()
        .map(|c| c.to_string())
        .collect();
    // The identity is read before the destroy.
    assert_eq!(
        shown[..3],
        [
            "read: /sim/etc/pve/nodes/pve/lxc/100.conf".to_owned(),
            "run: pct destroy 100 --purge".to_owned(),
            "remove: /sim/cache/t.tar.zst".to_owned()
        ]
    );
    assert_eq!(state(&rt, &c).unwrap().status, Status::Created);
    assert!(!journal::journal_path(&rt.store, &c).exists());
}

static TOKEN: std::sync::LazyLock<crate::pve::identity::Token> = std::sync::LazyLock::new(|| {
    crate::pve::identity::Token::parse("0123456789abcdef0123456789abcdef").unwrap()
});

fn stamp(name: &str) -> String {
    crate::pve::identity::Identity {
        id: id(name),
        token: TOKEN.clone(),
    }
    .line()
}

#[test]
fn a_reused_vmid_is_never_touched() {
    let running = Arc::new(AtomicBool::new(false));
    let host = node(running.clone());
    let tmp = tempfile::tempdir().unwrap();
    let rt = runtime(&host, tmp.path());
    let c = id("app");
    create_app(&rt, &host);
    // CT 100 is destroyed out of band and another container gets the VMID (and runs).
    let theirs = "#org.proxmox-lxcri.identity=db;ffffffffffffffffffffffffffffffff\nhostname: db\nmemory: 512\n";
    host.with_file(CONF, theirs);
    running.store(true, Ordering::SeqCst);
    let before = host.commands().len();
    for err in [
        state(&rt, &c).unwrap_err(),
        start(&rt, &c).unwrap_err(),
        stop(&rt, &c, Duration::from_secs(1)).unwrap_err(),
        kill(&rt, &c, Signal::KILL).unwrap_err(),
        delete(&rt, &c, false, Duration::from_secs(1)).unwrap_err(),
    ] {
        let msg = err.to_string();
        assert!(matches!(err, RuntimeError::Identity(_)), "{msg}");
        assert!(
            msg.contains("container app (CT 100 on node pve)")
                && msg.contains("proxmox-lxcri container \"db\" (hostname \"db\")"),
            "{msg}"
        );
        assert_eq!(err.hint().as_deref(), Some("`proxmox-lxcri delete --force app` forgets the record without touching any Proxmox container"));
    }
    assert_eq!(list(&rt).unwrap()[0].status, "unknown");
    let notes = delete(&rt, &c, true, Duration::from_secs(1)).unwrap();
    assert!(
        notes[0].contains("--force removed only the record of app"),
        "{notes:?}"
    );
    // Not one command that changes anything reached CT 100, and its config is as it was.
    let after: Vec<String> = host.commands()[before..]
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert!(
        after.iter().all(|c| !c.starts_with("kill")
            && !c.contains("shutdown")
            && !c.contains("destroy")
            && !c.contains("start")),
        "{after:?}"
    );
    assert_eq!(host.file(Path::new(CONF)).unwrap(), theirs.as_bytes());
    assert!(rt.store.list().unwrap().is_empty());
}

#[test]
fn a_gone_container_is_reported_and_forgotten() {
    let host = node(Arc::new(AtomicBool::new(false)));
    let tmp = tempfile::tempdir().unwrap();
    let rt = runtime(&host, tmp.path());
    let c = id("app");
    create_app(&rt, &host);
    host.remove_file(Path::new(CONF)).unwrap();
    let s = state(&rt, &c).unwrap();
    assert_eq!(s.status, Status::Stopped);
    assert_eq!(
        s.annotations
            .get(super::state::CT_ANNOTATION)
            .map(String::as_str),
        Some("gone")
    );
    let err = start(&rt, &c).unwrap_err().to_string();
    assert_eq!(err, "Proxmox CT 100 of container app no longer exists on node pve; `delete app` forgets the record");
    assert!(matches!(
        kill(&rt, &c, Signal::KILL),
        Err(RuntimeError::Gone { .. })
    ));
    let notes = delete(&rt, &c, false, Duration::from_secs(1)).unwrap();
    assert_eq!(
        notes,
        ["Proxmox CT 100 of app no longer exists on node pve or any other node; only the record was removed"]
    );
    assert_eq!(destroys(&host), 0);
}

#[test]
fn an_interrupted_create_never_destroys_a_container_it_did_not_make() {
    let host = node(Arc::new(AtomicBool::new(false)));
    let tmp = tempfile::tempdir().unwrap();
    let rt = runtime(&host, tmp.path());
    let c = id("app");
    {
        // Killed during `pct create` of an id someone else took: the write-ahead undo names it.
        let lock = rt.store.lock_container(&c, crate::lock::Wait::No).unwrap();
        rt.store.begin_create(&lock, Path::new("/b/app")).unwrap();
        let mut j = journal::StoreJournal::new(&rt.store, &lock, "/b/app".into())
            .with_identity(Some(TOKEN.clone()), None);
        crate::apply::Journal::vmid_chosen(&mut j, Vmid::new(100).unwrap(), "pve").unwrap();
        let undos = [UndoEntry {
            step: "step 3 (pct-create)".into(),
            action: UndoAction::DestroyCt {
                vmid: Vmid::new(100).unwrap(),
            },
        }];
        crate::apply::Journal::save(&mut j, &undos).unwrap();
    }
    host.with_file(CONF, "hostname: theirs\nmemory: 512\n");
    let err = delete(&rt, &c, false, Duration::from_secs(1))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("a container without a proxmox-lxcri identity (hostname \"theirs\")"),
        "{err}"
    );
    let notes = delete(&rt, &c, true, Duration::from_secs(1)).unwrap();
    assert!(notes[0].contains("left them as they are"), "{notes:?}");
    assert_eq!(destroys(&host), 0);
    assert_eq!(
        host.file(Path::new(CONF)).unwrap(),
        b"hostname: theirs\nmemory: 512\n"
    );
    assert!(rt.store.list().unwrap().is_empty());
}

#[test]
fn a_corrupt_record_is_removed_by_force_without_touching_a_container() {
    let host = node(Arc::new(AtomicBool::new(false)));
    let tmp = tempfile::tempdir().unwrap();
    let rt = runtime(&host, tmp.path());
    let c = id("app");
    create_app(&rt, &host);
    std::fs::write(tmp.path().join("app/state.json"), "{not json").unwrap();
    assert!(matches!(
        state(&rt, &c),
        Err(RuntimeError::Store(StoreError::Corrupt { .. }))
    ));
    assert!(delete(&rt, &c, false, Duration::from_secs(1)).is_err());
    let notes = delete(&rt, &c, true, Duration::from_secs(1)).unwrap();
    assert!(
        notes[0].contains("names Proxmox CT 100 on node pve, which was not touched"),
        "{notes:?}"
    );
    assert_eq!(destroys(&host), 0);
    assert!(host.file(Path::new(CONF)).is_some());
    assert!(rt.store.list().unwrap().is_empty());
}

#[test]
fn unknown_ids_leave_no_lock_file() {
    let host = node(Arc::new(AtomicBool::new(false)));
    let tmp = tempfile::tempdir().unwrap();
    let rt = runtime(&host, tmp.path());
    let c = id("nosuch");
    assert!(matches!(state(&rt, &c), Err(RuntimeError::NotFound { .. })));
    assert!(matches!(start(&rt, &c), Err(RuntimeError::NotFound { .. })));
    assert!(matches!(
        stop(&rt, &c, Duration::from_secs(1)),
        Err(RuntimeError::NotFound { .. })
    ));
    assert!(matches!(
        kill(&rt, &c, Signal::KILL),
        Err(RuntimeError::NotFound { .. })
    ));
    assert!(matches!(
        delete(&rt, &c, true, Duration::from_secs(1)),
        Err(RuntimeError::NotFound { .. })
    ));
    let locks: Vec<_> = std::fs::read_dir(tmp.path().join(".locks"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(locks.is_empty(), "{locks:?}");
}

#[test]
fn a_failed_cleanup_stays_in_the_journal() {
    let host = node(Arc::new(AtomicBool::new(false)));
    host.respond_to(
        "pct",
        &["destroy"],
        Output::failed(255, "CT 100 is locked (create)\n"),
    );
    let tmp = tempfile::tempdir().unwrap();
    let rt = runtime(&host, tmp.path());
    let c = id("app");
    {
        let lock = rt.store.lock_container(&c, crate::lock::Wait::No).unwrap();
        rt.store.begin_create(&lock, Path::new("/b/app")).unwrap();
        let mut j = journal::StoreJournal::new(&rt.store, &lock, "/b/app".into())
            .with_identity(Some(TOKEN.clone()), None);
        crate::apply::Journal::vmid_chosen(&mut j, Vmid::new(100).unwrap(), "pve").unwrap();
        host.with_file(CONF, format!("#{}\narch: amd64\n", stamp("app")));
        let undos = [UndoEntry {
            step: "step 3 (pct-create)".into(),
            action: UndoAction::DestroyCt {
                vmid: Vmid::new(100).unwrap(),
            },
        }];
        crate::apply::Journal::save(&mut j, &undos).unwrap();
    }
    let err = delete(&rt, &c, true, Duration::from_secs(1)).unwrap_err();
    assert!(
        err.to_string().contains("CT 100 is locked (create)"),
        "{err}"
    );
    assert_eq!(
        err.hint().as_deref(),
        Some("retry with `proxmox-lxcri delete --force app`")
    );
    assert_eq!(
        journal::read_journal(&rt.store, &c)
            .unwrap()
            .map(|u| u.len()),
        Some(1)
    );
}

#[test]
fn a_create_in_progress_shows_as_creating() {
    let host = node(Arc::new(AtomicBool::new(false)));
    let tmp = tempfile::tempdir().unwrap();
    let rt = runtime(&host, tmp.path());
    let c = id("app");
    let lock = rt.store.lock_container(&c, crate::lock::Wait::No).unwrap();
    rt.store.begin_create(&lock, Path::new("/b/app")).unwrap();
    let s: OciState = state(&rt, &c).unwrap();
    assert_eq!(s.status, Status::Creating);
    assert!(matches!(
        delete(&rt, &c, true, Duration::from_secs(1)),
        Err(RuntimeError::Busy { .. })
    ));
    drop(lock);
}

/// An engine's CT whose container stopped between `kill`'s two status reads: the init's pid
/// that `engine.json` recorded at create may be another process's by now, and is never
/// signalled.
#[test]
fn kill_never_signals_the_recorded_init_of_a_stopped_engine_container() {
    let running = Arc::new(AtomicBool::new(false));
    let host = node(running.clone());
    let root = tempfile::tempdir().unwrap();
    let rt = runtime(&host, root.path());
    create_app(&rt, &host);
    let c = id("app");
    {
        let lock = rt.store.lock_container(&c, crate::lock::Wait::No).unwrap();
        let record = super::engine_pct::EngineRecord {
            standin: 31337,
            init: 31338,
            inherited: None,
        };
        rt.store
            .write_file(&lock, crate::state::ContainerFile::Engine, &record)
            .unwrap();
    }
    // The engine's CT runs from create on; it stops right after the first status read.
    running.store(true, Ordering::SeqCst);
    let reads = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (r, n) = (running.clone(), reads.clone());
    host.on_run(move |cmd, _| {
        if cmd.program == "pct"
            && cmd.args_start_with(&["status"])
            && n.fetch_add(1, Ordering::SeqCst) == 1
        {
            r.store(false, Ordering::SeqCst);
        }
    });
    let err = kill(&rt, &c, Signal::KILL).unwrap_err();
    assert!(matches!(err, RuntimeError::NotRunning { .. }), "{err}");
    assert!(reads.load(Ordering::SeqCst) >= 2, "both status reads ran");
    assert!(
        !host.commands().iter().any(|c| c.program == "kill"),
        "{:?}",
        host.commands()
    );

    // While it runs, the signal goes to the pid Proxmox reports now, not the recorded one.
    running.store(true, Ordering::SeqCst);
    reads.store(100, Ordering::SeqCst);
    kill(&rt, &c, Signal::TERM).unwrap();
    assert!(host
        .commands()
        .contains(&Command::new("kill").args(["-s", "15", "--", "4242"])));
}
