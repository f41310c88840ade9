//! A `create` killed half-way leaves a partial record that says what it knows, and can be
//! cleaned up.
//!
//! The test runs itself a second time as the creator: the child process (this test, with
//! `PLXC_CREATOR_ROOT` set) begins a create, records a VMID, reports readiness and waits to be
//! killed; the parent watches the record before and after the kill.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

use executor::id::{ContainerId, Vmid};
use executor::lock::Wait;
use executor::state::{Backend, Creator, Mapping, Record, StateStore};

const ROLE_ENV: &str = "PLXC_CREATOR_ROOT";
const TEST_NAME: &str = "killed_create_leaves_a_repairable_partial_record";

fn act_as_creator(root: &Path) -> ! {
    let store = StateStore::open(root).unwrap();
    let cid = ContainerId::new("victim").unwrap();
    let lock = store.lock_container(&cid, Wait::No).unwrap();
    store
        .begin_create(&lock, Path::new("/bundles/victim"))
        .unwrap();
    store
        .write_mapping(
            &lock,
            &Mapping {
                id: cid.clone(),
                bundle: "/bundles/victim".into(),
                backend: Backend::Pct {
                    vmid: Vmid::new(321).unwrap(),
                    node: "pve".into(),
                },
                created: SystemTime::now(),
                token: None,
                stop_signal: None,
            },
        )
        .unwrap();
    println!("READY");
    loop {
        std::thread::sleep(Duration::from_secs(60));
    }
}

#[test]
fn killed_create_leaves_a_repairable_partial_record() {
    if let Some(root) = std::env::var_os(ROLE_ENV) {
        act_as_creator(Path::new(&root));
    }
    let tmp = tempfile::tempdir().unwrap();
    let root: PathBuf = tmp.path().join("state");
    let store = StateStore::open(&root).unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", TEST_NAME, "--nocapture", "--test-threads=1"])
        .env(ROLE_ENV, &root)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while !line.contains("READY") {
        line.clear();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "creator exited early"
        );
    }
    let cid = ContainerId::new("victim").unwrap();

    match store.read(&cid).unwrap() {
        Record::Partial(p) => {
            assert_eq!(p.creator, Creator::InProgress);
            assert_eq!(p.marker.as_ref().map(|m| m.pid), Some(child.id()));
        }
        other => panic!("unexpected {other:?}"),
    }
    // Nobody may repair while the creator is alive.
    assert!(store.lock_container(&cid, Wait::No).is_err());

    child.kill().unwrap();
    child.wait().unwrap();

    let partial = match store.read(&cid).unwrap() {
        Record::Partial(p) => p,
        other => panic!("unexpected {other:?}"),
    };
    assert_eq!(partial.creator, Creator::Gone);
    assert_eq!(partial.vmid(), Some((Vmid::new(321).unwrap(), "pve")));
    assert!(partial.state.is_none());
    let text = partial.to_string();
    assert!(
        text.contains("the creating process is gone")
            && text.contains("Proxmox container 321 on node pve may exist")
            && text.contains("`delete --force victim`"),
        "{text}"
    );

    // Repair: take the lock (the kernel released the dead creator's), clean up, remove.
    let lock = store.lock_container(&cid, Wait::No).unwrap();
    assert!(matches!(
        store.read_locked(&lock).unwrap(),
        Record::Partial(_)
    ));
    store.remove(lock).unwrap();
    assert!(store.list().unwrap().is_empty());
}
