//! Applying plans on a [`RecordingHost`]: order, bindings, retries, rollback after a failure
//! at every host call.

use std::path::Path;

use translator::emit::plan::{ir_to_plan, Plan};
use translator::Target;

use super::*;
use crate::host::{HostCall, Output, RecordingHost};

const APP: &str = r#"{"ociVersion": "1.2.0", "root": {"path": "rootfs"}, "hostname": "web",
    "process": {"cwd": "/srv", "args": ["/app", "--port", "80"], "env": ["A=1"]},
    "linux": {"namespaces": [{"type": "user"}, {"type": "network"}]}}"#;

const CONF: &str = "/sim/etc/pve/nodes/pve/lxc/100.conf";
const TPL: &str = "/sim/var/lib/vz/template/cache/proxmox-lxcri-u1.tar.zst";

/// The bundle plans are applied with: a real directory, because the pack step opens and
/// checks the rootfs it packs (the recording host then only records the pack).
fn bundle() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join("proxmox-lxcri-apply-tests/web");
    std::fs::create_dir_all(dir.join("rootfs")).unwrap();
    std::fs::canonicalize(dir).unwrap()
}

fn plan(json: &str) -> Plan {
    let target = Target::default();
    let t = translator::oci_to_ir("config.json", json.as_bytes(), &target);
    assert!(!t.has_errors(), "{:?}", t.diagnostics);
    ir_to_plan(&t.ir.unwrap(), &target, "config.json").unwrap()
}

/// A host that answers like a Proxmox node whose next free id is 100.
fn node() -> RecordingHost {
    let host = RecordingHost::new();
    host.respond_to("pvesm", &["path"], Output::ok(format!("{TPL}\n")));
    host.respond_to("pvesh", &["get", "/cluster/nextid"], Output::ok("100\n"));
    host.with_file(CONF, "arch: amd64\nhostname: web\n");
    host
}

fn check_apply(
    host: &RecordingHost,
    plan: &Plan,
    journal: &mut MemoryJournal,
) -> Result<Applied, ApplyError> {
    let paths = PvePaths::under("/sim");
    let policy = translator::policy::Policy::builtin();
    let cx = ApplyConfig {
        image: None,
        host,
        paths: &paths,
        bundle: Some(bundle()),
        rootfs: None,
        template_unique: "u1".into(),
        pack: PackConfig::default(),
        dry_run: false,
        policy: &policy,
        host_rootfs: None,
        identity: None,
    };
    apply(plan, &cx, journal)
}

fn shown(host: &RecordingHost) -> Vec<String> {
    host.calls()
        .iter()
        .map(|c| c.to_string().lines().next().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn applies_every_step_in_order() {
    let host = node();
    let mut j = MemoryJournal::default();
    let applied = check_apply(&host, &plan(APP), &mut j).unwrap();
    assert_eq!(applied.vmid, Some(Vmid::new(100).unwrap()));
    let calls = shown(&host);
    let expect_prefix = [
        "run: pvesm path local:vztmpl/proxmox-lxcri-u1.tar.zst".to_owned(),
        "run: mkdir -p -- /sim/var/lib/vz/template/cache".to_owned(),
        format!(
            "pack-rootfs: {}/rootfs -> {TPL} (zstd level 3, all cores, owners as on disk)",
            bundle().display()
        ),
        "run: pvesh get /cluster/nextid --output-format json".to_owned(),
    ];
    assert_eq!(calls[..4], expect_prefix, "{calls:#?}");
    assert!(
        calls[4].starts_with("run: pct create 100 local:vztmpl/proxmox-lxcri-u1.tar.zst --"),
        "{}",
        calls[4]
    );
    assert_eq!(
        calls[5..],
        [
            "run: mkdir -p -- /sim/run/lock/lxc".to_owned(),
            "lock: /sim/run/lock/lxc/pve-config-100.lock (wait up to 10s)".to_owned(),
            format!("read: {CONF}"),
            format!("write: {CONF} (99 bytes, mode of the existing file or 0640, atomic)"),
            format!("remove: {TPL}"),
        ],
        "{calls:#?}"
    );
    let conf = String::from_utf8(host.file(Path::new(CONF)).unwrap()).unwrap();
    assert!(
        conf.starts_with(
            "arch: amd64\nhostname: web\nlxc.environment.runtime: A=1\nlxc.init.cwd: /srv\n"
        ),
        "{conf}"
    );
    assert_eq!(
        j.recorded,
        Some((Vmid::new(100).unwrap(), "pve".to_owned()))
    );
    assert_eq!(j.chosen, vec![Vmid::new(100).unwrap()]);
    let kinds: Vec<&UndoAction> = j.undos.iter().map(|u| &u.action).collect();
    assert!(
        matches!(
            kinds.as_slice(),
            [
                UndoAction::RemoveTemplate { .. },
                UndoAction::ReleaseVmid { .. },
                UndoAction::DestroyCt { .. },
                UndoAction::ForgetState
            ]
        ),
        "{kinds:?}"
    );
}

#[test]
fn a_taken_id_is_retried_with_a_new_one_and_never_destroyed() {
    let host = RecordingHost::new();
    host.respond_to("mkdir", &[], Output::ok(""));
    host.respond_to("pvesm", &["path"], Output::ok(format!("{TPL}\n")));
    host.push_output(Output::ok("100\n"));
    host.respond_to(
        "pct",
        &["create", "100"],
        Output::failed(
            255,
            "unable to create CT 100 - CT 100 already exists on node 'pve2'\n",
        ),
    );
    host.push_output(Output::ok("\"101\"\n"));
    host.with_file("/sim/etc/pve/nodes/pve/lxc/101.conf", "arch: amd64\n");
    let mut j = MemoryJournal::default();
    let applied = check_apply(&host, &plan(APP), &mut j).unwrap();
    assert_eq!(applied.vmid, Some(Vmid::new(101).unwrap()));
    assert_eq!(
        j.chosen,
        vec![Vmid::new(100).unwrap(), Vmid::new(101).unwrap()]
    );
    let destroyed = host
        .commands()
        .iter()
        .any(|c| c.args_start_with(&["destroy"]));
    assert!(!destroyed);
    assert!(!j.undos.iter().any(|u| u.action
        == UndoAction::DestroyCt {
            vmid: Vmid::new(100).unwrap()
        }));
}

#[test]
fn a_failed_step_is_named_with_stderr_and_undone() {
    let host = node();
    host.respond_to(
        "pct",
        &["create"],
        Output::failed(
            255,
            "unable to create CT 100 - storage 'local-lvm' does not exist\n",
        ),
    );
    let mut j = MemoryJournal::default();
    let err = check_apply(&host, &plan(APP), &mut j).unwrap_err();
    assert_eq!(
        err.to_string(),
        "step 3 (pct-create) failed: creating container 100 failed (exit code 255): unable to create CT 100 - storage 'local-lvm' does not exist"
    );
    assert!(err.rolled_back());
    // Proxmox cleans up its own failed create: only the template is ours to remove.
    assert_eq!(
        shown(&host).last().map(String::as_str),
        Some(format!("remove: {TPL}").as_str())
    );
    assert!(j.undos.is_empty());
}

#[test]
fn a_late_failure_destroys_the_container_and_removes_the_template() {
    let host = node();
    host.fail_first(
        |c| matches!(c, HostCall::WriteFile { .. }),
        "read-only file system",
    );
    let mut j = MemoryJournal::default();
    let err = check_apply(&host, &plan(APP), &mut j).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("step 4 (write-config-lines) failed: injected failure"),
        "{err}"
    );
    assert!(err.rolled_back());
    let calls = shown(&host);
    assert_eq!(
        calls[calls.len() - 2..],
        [
            "run: pct destroy 100 --purge".to_owned(),
            format!("remove: {TPL}")
        ]
    );
    assert!(j.undos.is_empty());
}

/// The model: a template or container is left behind when the call that made it succeeded and
/// no later call removed it.
fn leftovers(host: &RecordingHost, failed: usize) -> Vec<String> {
    let mut left = Vec::new();
    for (i, call) in host
        .calls()
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != failed)
    {
        let later = || host.calls().into_iter().skip(i + 1).collect::<Vec<_>>();
        match call {
            HostCall::PackRootfs { output, .. }
                if !later()
                    .iter()
                    .any(|c| matches!(c, HostCall::RemoveFile { path } if path == output)) =>
            {
                left.push(format!("template {}", output.display()));
            }
            HostCall::Run(cmd) if cmd.program == "pct" && cmd.args_start_with(&["create"]) => {
                let vmid = cmd.args.get(1).cloned().unwrap_or_default();
                let destroyed = later().iter().any(|c| {
                    matches!(c, HostCall::Run(d) if d.program == "pct" && d.args_start_with(&["destroy"]) && d.args.get(1) == Some(&vmid))
                });
                if !destroyed {
                    left.push(format!("CT {}", vmid.to_string_lossy()));
                }
            }
            _ => {}
        }
    }
    left
}

#[test]
fn failing_any_host_call_leaves_nothing_behind() {
    let total = {
        let host = node();
        check_apply(&host, &plan(APP), &mut MemoryJournal::default()).unwrap();
        host.calls().len()
    };
    assert_eq!(total, 10);
    for n in 0..total {
        let host = node();
        host.fail_call(n, "injected");
        let mut j = MemoryJournal::default();
        let err = check_apply(&host, &plan(APP), &mut j).unwrap_err();
        assert!(err.rolled_back(), "call #{n}: {err}");
        assert!(
            err.to_string()
                .contains(&format!("injected failure at call #{n}")),
            "call #{n}: {err}"
        );
        assert_eq!(
            leftovers(&host, n),
            Vec::<String>::new(),
            "call #{n}: {:#?}",
            host.calls()
        );
        assert!(j.undos.is_empty(), "call #{n}: {:?}", j.undos);
        assert_eq!(j.recorded, None, "call #{n}");
    }
}

#[test]
fn failed_undos_stay_in_the_journal_and_are_reported() {
    let host = node();
    host.fail_first(|c| matches!(c, HostCall::RemoveFile { .. }), "busy");
    host.respond_to(
        "pct",
        &["destroy"],
        Output::failed(255, "CT 100 is locked (backup)\n"),
    );
    let mut j = MemoryJournal::default();
    let err = check_apply(&host, &plan(APP), &mut j).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("step 5 (remove-template) failed: injected failure"),
        "{err}"
    );
    let rb = err.rollback.as_deref().unwrap();
    assert!(
        rb.to_string()
            .starts_with("undo of step 3 (pct-create) (pct destroy 100 --purge) failed:"),
        "{rb}"
    );
    assert!(rb.to_string().contains("CT 100 is locked (backup)"), "{rb}");
    assert_eq!(j.undos.len(), 1);
    assert_eq!(
        j.undos[0].action,
        UndoAction::DestroyCt {
            vmid: Vmid::new(100).unwrap()
        }
    );
}

#[test]
fn refuses_foreign_formats_programs_and_undos_before_any_host_call() {
    let host = node();
    let mut p = plan(APP);
    p.format = 2;
    let err = check_apply(&host, &p, &mut MemoryJournal::default()).unwrap_err();
    assert!(
        err.to_string()
            .contains("/format: plan format 2 is not supported; this executor applies format 1"),
        "{err}"
    );
    assert!(host.calls().is_empty());

    let mut p = plan(APP);
    if let Some(Action::PctCreate { argv }) = p.steps.get_mut(2).map(|s| &mut s.action) {
        argv[0] = translator::emit::plan::Arg::lit("sh");
    }
    let err = check_apply(&host, &p, &mut MemoryJournal::default()).unwrap_err();
    assert!(
        err.to_string().contains(
            "/steps/2/argv/0 (step 3 (pct-create)): a pct-create step runs `pct create $vmid $template`"
        ),
        "{err}"
    );
    assert!(err.rolled_back());
    assert!(host.calls().is_empty());

    // The plan's undo is documentation; one that says anything but what the executor derives
    // refuses the plan, and the executor never takes an undo from it.
    let mut p = plan(APP);
    if let Some(step) = p.steps.get_mut(0) {
        step.undo = translator::emit::plan::Undo::DestroyCt;
    }
    let err = check_apply(&host, &p, &mut MemoryJournal::default()).unwrap_err();
    assert!(
        err.to_string().contains("/steps/0/undo (step 1 (pack-rootfs)): the plan says its undo is `destroy-ct`; the executor undoes a pack-rootfs step by `free-template`"),
        "{err}"
    );
    assert!(host.calls().is_empty());
}

#[test]
fn host_path_rootfs_creates_the_config_itself() {
    let target = Target {
        rootfs: translator::target::RootfsTarget::HostPath,
        // The bundle apply binds: a create-config rootfs must be inside it (validate.rs).
        bundle_dir: Some(bundle().display().to_string()),
        ..Target::default()
    };
    let t = translator::oci_to_ir("config.json", APP.as_bytes(), &target);
    let p = ir_to_plan(&t.ir.unwrap(), &target, "config.json").unwrap();
    let host = RecordingHost::new();
    host.respond_to("mkdir", &[], Output::ok(""));
    host.push_output(Output::ok("100\n"));
    host.respond_to(
        "pvesh",
        &["get", "/cluster/nextid", "--vmid", "100"],
        Output::failed(255, "vmid: VM 100 already exists\n"),
    );
    host.push_output(Output::ok("101\n"));
    let mut j = MemoryJournal::default();
    let applied = check_apply(&host, &p, &mut j).unwrap();
    assert_eq!(applied.vmid, Some(Vmid::new(101).unwrap()));
    let conf = host
        .file(Path::new("/sim/etc/pve/nodes/pve/lxc/101.conf"))
        .unwrap();
    assert!(String::from_utf8(conf)
        .unwrap()
        .contains(&format!("rootfs: {}/rootfs", bundle().display())));
    assert_eq!(
        host.file(Path::new("/sim/etc/pve/nodes/pve/lxc/100.conf")),
        None
    );
}

#[test]
fn dry_run_prints_and_changes_nothing() {
    let queries = RecordingHost::new();
    queries.respond_to("pvesm", &["path"], Output::ok(format!("{TPL}\n")));
    queries.respond_to("pvesh", &["get", "/cluster/nextid"], Output::ok("100\n"));
    let host = crate::host::DryRunHost::new(Vec::new()).with_queries(queries);
    let paths = PvePaths::under("/sim");
    let policy = translator::policy::Policy::builtin();
    let cx = ApplyConfig {
        image: None,
        host: &host,
        paths: &paths,
        bundle: Some(bundle()),
        rootfs: None,
        template_unique: "u1".into(),
        pack: PackConfig::default(),
        dry_run: true,
        policy: &policy,
        host_rootfs: None,
        identity: None,
    };
    let mut j = MemoryJournal::default();
    apply(&plan(APP), &cx, &mut j).unwrap();
    let printed = String::from_utf8(host.into_output()).unwrap();
    assert!(
        printed.contains(
            "run: pvesh get /cluster/nextid --output-format json  [executed: read-only]\n"
        ),
        "{printed}"
    );
    assert!(
        printed.contains("\nrun: pct create 100 local:vztmpl/proxmox-lxcri-u1.tar.zst"),
        "{printed}"
    );
    assert!(printed.contains(&format!("write: {CONF} (")), "{printed}");
    assert!(printed.contains("  | lxc.init.cwd: /srv\n"), "{printed}");
    assert!(printed.contains(&format!("remove: {TPL}\n")), "{printed}");
}
