//! The state store: lifecycle, refusals, listing broken entries, and VMID allocation under
//! contention.

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::{Arc, Barrier, Mutex};
use std::thread;
use std::time::{Duration, SystemTime};

use executor::host::{Output, RecordingHost};
use executor::id::{ContainerId, Vmid};
use executor::lock::{LockError, Wait};
use executor::pve::{allocate_vmid, allocate_vmid_locked, AllocPolicy, CreateFailure};
use executor::state::{
    Backend, Creator, Mapping, OciState, Record, StateStore, Status, StoreError,
};

fn id(s: &str) -> ContainerId {
    ContainerId::new(s).unwrap()
}

fn mapping(cid: &ContainerId, vmid: u64) -> Mapping {
    Mapping {
        id: cid.clone(),
        bundle: "/bundles/x".into(),
        backend: Backend::Pct {
            vmid: Vmid::new(vmid).unwrap(),
            node: "pve".into(),
        },
        created: SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        token: None,
        stop_signal: None,
    }
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Creates a complete container record.
fn create(store: &StateStore, name: &str, vmid: u64) {
    let cid = id(name);
    let lock = store.lock_container(&cid, Wait::No).unwrap();
    store.begin_create(&lock, Path::new("/bundles/x")).unwrap();
    store.write_mapping(&lock, &mapping(&cid, vmid)).unwrap();
    store
        .write_state(
            &lock,
            &OciState::new(cid.clone(), Status::Created, "/bundles/x".into()),
        )
        .unwrap();
    store.finish_create(&lock).unwrap();
}

#[test]
fn create_read_list_remove() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("run/proxmox-lxcri");
    let store = StateStore::open(&root).unwrap();
    assert_eq!(
        fs::metadata(&root).unwrap().permissions().mode() & 0o777,
        0o700
    );
    let cid = id("web");
    let lock = store.lock_container(&cid, Wait::No).unwrap();
    store
        .begin_create(&lock, Path::new("/bundles/web"))
        .unwrap();
    assert_eq!(files_in(&root.join("web")), vec!["creating"]);

    // While creating, the record is partial, and the caller knows it holds the lock.
    match store.read_locked(&lock).unwrap() {
        Record::Partial(p) => {
            assert_eq!(p.creator, Creator::ThisCaller);
            let marker = p.marker.clone().expect("marker");
            assert_eq!(marker.pid, std::process::id());
            assert_eq!(marker.bundle, Path::new("/bundles/web"));
            assert_eq!(p.vmid(), None);
        }
        other => panic!("unexpected {other:?}"),
    }
    // Another reader sees the creation in progress.
    match store.read(&cid).unwrap() {
        Record::Partial(p) => assert_eq!(p.creator, Creator::InProgress),
        other => panic!("unexpected {other:?}"),
    }

    store.write_mapping(&lock, &mapping(&cid, 105)).unwrap();
    let mut state = OciState::new(cid.clone(), Status::Created, "/bundles/web".into());
    state.pid = Some(1234);
    store.write_state(&lock, &state).unwrap();
    store.finish_create(&lock).unwrap();
    assert_eq!(
        files_in(&root.join("web")),
        vec!["mapping.json", "state.json"],
        "no temp files or marker left"
    );
    for f in ["mapping.json", "state.json"] {
        let mode = fs::metadata(root.join("web").join(f))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let on_disk: serde_json::Value =
        serde_json::from_slice(&fs::read(root.join("web/state.json")).unwrap()).unwrap();
    assert_eq!(
        on_disk,
        serde_json::json!({"ociVersion": "1.2.0", "id": "web", "status": "created", "pid": 1234, "bundle": "/bundles/web"})
    );

    match store.read(&cid).unwrap() {
        Record::Complete {
            state: s,
            mapping: m,
        } => {
            assert_eq!(s, state);
            assert_eq!(m, mapping(&cid, 105));
        }
        other => panic!("unexpected {other:?}"),
    }
    let listed = store.list().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].name, "web");
    assert!(matches!(listed[0].record, Ok(Record::Complete { .. })));

    store.remove(lock).unwrap();
    assert!(matches!(store.read(&cid), Err(StoreError::NotFound { .. })));
    assert!(store.list().unwrap().is_empty());
    assert_eq!(
        files_in(&root.join(".locks")),
        Vec::<String>::new(),
        "lock file removed with the container"
    );
}

#[test]
fn refusals() {
    let tmp = tempfile::tempdir().unwrap();
    let store = StateStore::open(tmp.path()).unwrap();
    let cid = id("a");
    let lock = store.lock_container(&cid, Wait::No).unwrap();
    // Container lock is exclusive.
    assert!(matches!(
        store.lock_container(&cid, Wait::No),
        Err(StoreError::Lock(LockError::Busy { .. }))
    ));
    // Writing before the directory exists.
    let st = OciState::new(cid.clone(), Status::Created, "/b".into());
    assert!(matches!(
        store.write_state(&lock, &st),
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        store.finish_create(&lock),
        Err(StoreError::NotFound { .. })
    ));
    store.begin_create(&lock, Path::new("/b")).unwrap();
    assert!(matches!(
        store.begin_create(&lock, Path::new("/b")),
        Err(StoreError::AlreadyExists { .. })
    ));
    // A record for another id cannot be written through this lock.
    let other = OciState::new(id("b"), Status::Created, "/b".into());
    assert!(matches!(
        store.write_state(&lock, &other),
        Err(StoreError::IdMismatch { .. })
    ));
    // Finishing needs both files.
    assert!(matches!(
        store.finish_create(&lock),
        Err(StoreError::Incomplete {
            missing: "state.json",
            ..
        })
    ));
    store.write_state(&lock, &st).unwrap();
    assert!(matches!(
        store.finish_create(&lock),
        Err(StoreError::Incomplete {
            missing: "mapping.json",
            ..
        })
    ));
    store.write_mapping(&lock, &mapping(&cid, 100)).unwrap();
    store.finish_create(&lock).unwrap();
    assert!(matches!(
        store.finish_create(&lock),
        Err(StoreError::NotCreating { .. })
    ));
}

#[test]
fn list_reports_broken_entries_without_failing() {
    let tmp = tempfile::tempdir().unwrap();
    let store = StateStore::open(tmp.path()).unwrap();
    create(&store, "good", 100);
    create(&store, "corrupt", 101);
    fs::write(tmp.path().join("corrupt/state.json"), b"{\"ociVersion\": ").unwrap();
    create(&store, "swapped", 102);
    // state.json copied from another container: must not be believed.
    fs::copy(
        tmp.path().join("good/state.json"),
        tmp.path().join("swapped/state.json"),
    )
    .unwrap();
    fs::create_dir(tmp.path().join("not an id")).unwrap();
    fs::write(tmp.path().join("file-not-dir"), b"").unwrap();
    // A directory with nothing in it: a create killed right after mkdir.
    fs::create_dir(tmp.path().join("bare")).unwrap();

    let listed = store.list().unwrap();
    let names: Vec<_> = listed.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(
        names,
        vec![
            "bare",
            "corrupt",
            "file-not-dir",
            "good",
            "not an id",
            "swapped"
        ]
    );
    let by = |n: &str| &listed.iter().find(|l| l.name == n).unwrap().record;
    assert!(matches!(by("good"), Ok(Record::Complete { .. })));
    assert!(matches!(by("corrupt"), Err(StoreError::Corrupt { .. })));
    assert!(matches!(by("swapped"), Err(StoreError::IdMismatch { .. })));
    assert!(matches!(by("not an id"), Err(StoreError::Stray { .. })));
    assert!(matches!(by("file-not-dir"), Err(StoreError::Stray { .. })));
    match by("bare") {
        Ok(Record::Partial(p)) => {
            assert_eq!(p.creator, Creator::Gone);
            assert_eq!(
                (p.marker.is_none(), p.state.is_none(), p.mapping.is_none()),
                (true, true, true)
            );
            assert_eq!(
                p.to_string(),
                "container bare was not fully created; the creating process is gone; no Proxmox \
                 container was recorded; `delete --force bare` cleans up"
            );
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn ids_are_validated_before_paths_are_built() {
    // The only way to name a container is a ContainerId, which refuses these.
    for bad in ["../etc", "a/b", ".locks", "", "x\0y"] {
        assert!(ContainerId::new(bad).is_err(), "{bad:?}");
    }
}

#[derive(Debug, thiserror::Error)]
enum TestError {
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A fake `pvesh get /cluster/nextid`: the lowest id at or above 100 not in `taken`.
fn fake_nextid(host: &RecordingHost, taken: Arc<Mutex<BTreeSet<u32>>>) {
    host.respond(move |cmd| {
        if cmd.program != "pvesh" || !cmd.args_start_with(&["get", "/cluster/nextid"]) {
            return None;
        }
        let taken = taken.lock().unwrap();
        let free = (100u32..).find(|v| !taken.contains(v)).unwrap();
        Some(Output::ok(format!("\"{free}\"\n")))
    });
}

const THREADS: usize = 20;

/// 20 creators on one node, each with its own store handle (its own lock file descriptions, as
/// separate processes would have). The fake create does NOT detect duplicates, so only the
/// allocation lock keeps the ids apart.
#[test]
fn allocation_lock_gives_concurrent_creators_distinct_ids() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().to_owned();
    StateStore::open(&root).unwrap();
    let taken = Arc::new(Mutex::new(BTreeSet::new()));
    let start = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|_| {
            let (root, taken, start) = (root.clone(), taken.clone(), start.clone());
            thread::spawn(move || {
                let store = StateStore::open(&root).unwrap();
                let host = RecordingHost::new();
                fake_nextid(&host, taken.clone());
                start.wait();
                let (vmid, ()) = allocate_vmid_locked::<_, _, TestError, _>(
                    &store,
                    &host,
                    AllocPolicy::default(),
                    |v| {
                        // Widen the window between nextid and create.
                        thread::sleep(Duration::from_millis(5));
                        taken.lock().unwrap().insert(v.get());
                        Ok(())
                    },
                )
                .unwrap();
                assert_eq!(host.commands().len(), 1, "no retries needed under the lock");
                vmid
            })
        })
        .collect();
    let ids: Vec<Vmid> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let distinct: BTreeSet<_> = ids.iter().map(|v| v.get()).collect();
    assert_eq!(distinct.len(), THREADS, "duplicate VMIDs: {ids:?}");
    assert_eq!(distinct, (100..100 + THREADS as u32).collect());
}

/// Without the node lock (creators on different nodes), `pct create` refuses a taken id and
/// the allocator retries until every creator has its own.
#[test]
fn retry_on_already_exists_resolves_races_between_nodes() {
    let taken = Arc::new(Mutex::new(BTreeSet::new()));
    let start = Arc::new(Barrier::new(THREADS));
    let handles: Vec<_> = (0..THREADS)
        .map(|n| {
            let (taken, start) = (taken.clone(), start.clone());
            thread::spawn(move || {
                let host = RecordingHost::new();
                fake_nextid(&host, taken.clone());
                start.wait();
                let policy = AllocPolicy {
                    max_attempts: THREADS as u32 + 1,
                };
                let (vmid, ()) = allocate_vmid::<_, _, TestError, _>(&host, policy, |v| {
                    thread::sleep(Duration::from_millis(2));
                    if taken.lock().unwrap().insert(v.get()) {
                        Ok(())
                    } else {
                        Err(CreateFailure::Command(Output::failed(
                            255,
                            format!("unable to create CT {v} - CT {v} already exists on node 'node{n}'\n"),
                        )))
                    }
                })
                .unwrap();
                (vmid, host.commands().len())
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let distinct: BTreeSet<_> = results.iter().map(|(v, _)| v.get()).collect();
    assert_eq!(distinct.len(), THREADS, "{results:?}");
}
