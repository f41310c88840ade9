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
    host.with_file("/sim/etc/pve/nodes/pve/lxc/100.conf", "arch: amd64\n");
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
        PvePaths::under("/sim"),
    );
    rt.lock_wait = Duration::from_millis(100);
    rt
}

fn request(name: &str) -> CreateRequest {
    CreateRequest {
        id: id(name),
        bundle: "/b/app".into(),
        backend: CreateBackend::Pct {
            plan: plan(),
            pack: PackConfig::default(),
            policy: translator::policy::Policy::builtin(),
        },
    }
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
    create(&rt, request("app")).unwrap();
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
    create(&rt, request("app")).unwrap();
    start(&rt, &c).unwrap();
    stop(&rt, &c, Duration::from_secs(9), Signal::TERM).unwrap();
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
        let mut j = journal::StoreJournal::new(&rt.store, &lock, "/b/app".into());
        crate::apply::Journal::vmid_chosen(&mut j, Vmid::new(100).unwrap(), "pve").unwrap();
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
    assert_eq!(
        shown[..2],
        [
            "run: pct destroy 100 --purge".to_owned(),
            "remove: /sim/cache/t.tar.zst".to_owned()
        ]
    );
    assert_eq!(state(&rt, &c).unwrap().status, Status::Created);
    assert!(!journal::journal_path(&rt.store, &c).exists());
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
        let mut j = journal::StoreJournal::new(&rt.store, &lock, "/b/app".into());
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
