//! `create`'s input: a bundle's config.json translated for the chosen runtime (a plan for
//! pct, a crun config for crun), with the translator's findings on stderr and in the log.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use executor::bundle::{Bundle, Rootfs};
use executor::crun::CreateOptions;
use executor::image::ImageRef;
use executor::pack::{PackConfig, PackReport};
use executor::runtime::log::{Level, Log};
use executor::runtime::{CreateBackend, Signal};
use translator::ir::mounts::RootSource;
use translator::ir::Container;
use translator::target::RootfsTarget;
use translator::{Diagnostic, Severity};

use super::input::ConfigInput;
use super::runtime::CreateArgs;
use super::{input, load_target, Failure, Global, RuntimeKind};

/// One line per finding at warning level or above, in a form logs and engines keep readable.
fn report(diagnostics: &[Diagnostic], log: &Log) {
    for d in diagnostics
        .iter()
        .filter(|d| d.severity >= Severity::Warning)
    {
        if super::quiet() && d.severity < Severity::Error {
            // Still in the log: --quiet is about the terminal.
            log.write(
                Level::Warn,
                &format!("{}: {} [{}]", d.severity.as_str(), d.message, d.code()),
            );
            continue;
        }
        let at = d
            .pointer
            .as_ref()
            .map(|p| format!(" at {p}"))
            .unwrap_or_default();
        let line = format!("{}: {} [{}]{at}", d.severity.as_str(), d.message, d.code());
        eprintln!("proxmox-lxcri: {line}");
        log.write(
            if d.severity == Severity::Error {
                Level::Error
            } else {
                Level::Warn
            },
            &line,
        );
    }
}

/// One line per thing packing left out (special files, mount points not crossed, ACLs).
pub fn report_pack(report: Option<&PackReport>, log: &Log) {
    for w in report.map(|r| r.warnings.as_slice()).unwrap_or_default() {
        let line = format!("warning: {w} [{}]", w.code());
        if !super::quiet() {
            eprintln!("proxmox-lxcri: {line}");
        }
        log.write(Level::Warn, &line);
    }
}

/// The rootfs `root.path` names, opened from the bundle's descriptor and checked before any
/// host call: no symlink on the way, inside the bundle unless the operator named it with
/// `--rootfs-outside-bundle`, never `/` or a system directory. A host-path rootfs (Proxmox
/// uses the directory in place) must be the path that was checked.
fn open_rootfs(opened: &Bundle, ir: &Container, outside: Option<&Path>) -> Result<Rootfs, Failure> {
    // crun's default when the config names none (see translator::emit::crun).
    let root_path = ir
        .rootfs
        .bundle_path
        .as_ref()
        .map_or("rootfs", |p| p.value.as_str());
    let rootfs = opened
        .rootfs(root_path, outside)
        .map_err(|e| Failure::refused(e.to_string()))?;
    if let RootSource::HostPath(p) = &ir.rootfs.source {
        let named: PathBuf = Path::new(p).components().collect();
        if named != rootfs.path() {
            return Err(Failure::refused(format!(
                "the host-path rootfs {p} is not the directory checked for root.path ({})",
                rootfs.path().display()
            )));
        }
    }
    Ok(rootfs)
}

/// A bundle opened for `create`: the descriptor, its canonical directory and its config.json,
/// read once (the routes read its annotations, the translation its bytes). Or an image
/// (`--image`): opened and verified, its layers indexed, its config converted to the runtime
/// config that stands for config.json; `dir` is then the image's absolute path, which the
/// state records as the container's bundle.
pub struct Opened {
    from: From,
    dir: PathBuf,
    /// The config.json as read, or as the image's config converts.
    pub input: ConfigInput,
}

enum From {
    Bundle(Bundle),
    /// The image, the `Volumes` that become mount points, and where.
    Image(
        Arc<executor::image::Opened>,
        Vec<String>,
        Option<translator::image::VolumeSpec>,
    ),
}

/// Opens `--bundle` and reads its config.json, or opens `--image` and converts its config
/// (the conversion's findings reported as the translation's are).
pub fn open(args: &CreateArgs, log: &Log) -> Result<Opened, Failure> {
    if let Some(reference) = &args.image {
        let target = load_target(args.target.as_ref(), args.pve_version.as_deref())?;
        let spec = super::image::volume_spec(&target, args.volume_size);
        let loaded = super::image::load(reference, args.platform.as_deref(), spec.as_ref())?;
        report(&loaded.converted.diagnostics, log);
        let Some(config) = loaded.converted.runtime_config else {
            return Err(Failure::refused(format!(
                "the image {reference} is refused: its config has errors, listed above"
            )));
        };
        let dir = ImageRef::parse(&loaded.image.source.reference)
            .map_err(Failure::usage)?
            .path()
            .to_path_buf();
        let input = ConfigInput {
            name: format!("{reference} (config.json)"),
            bytes: config.into_bytes(),
            bundle: None,
        };
        return Ok(Opened {
            from: From::Image(Arc::new(loaded.image), loaded.converted.volumes, spec),
            dir,
            input,
        });
    }
    // Opened once: config.json now, the rootfs later, both from this descriptor.
    let bundle = Bundle::open(&args.bundle)
        .map_err(|e| Failure::usage(format!("bundle {}: {e}", args.bundle.display())))?;
    let dir = bundle.path().to_path_buf();
    let name = dir.join(executor::bundle::CONFIG).display().to_string();
    let input = input::read_bundle(&bundle, name, dir.clone())?;
    Ok(Opened {
        from: From::Bundle(bundle),
        dir,
        input,
    })
}

/// The config text `create` would give the container from this input (`convert --to
/// pct-conf`'s, which the plan is built from), for `diff`: the same target, conversion and
/// volumes, with the findings reported; no policy, no host effect.
pub fn pct_conf(opened: &Opened, args: &CreateArgs, log: &Log) -> Result<String, Failure> {
    let mut target = load_target(args.target.as_ref(), args.pve_version.as_deref())?;
    if target.rootfs == RootfsTarget::HostPath && target.bundle_dir.is_none() {
        target.bundle_dir = opened.dir.to_str().map(str::to_owned);
    }
    let input = &opened.input;
    let mut t = translator::oci_to_ir(&input.name, &input.bytes, &target);
    if let (Some(ir), From::Image(_, paths, Some(spec))) = (t.ir.as_mut(), &opened.from) {
        translator::image::add_volumes(ir, paths, spec);
    }
    report(&t.diagnostics, log);
    let ir = accepted(&t, input)?;
    translator::ir_to_pct_conf(ir).map_err(|e| Failure::refused(e.to_string()))
}

/// The absolute bundle directory, what to create from it, and the signal `stop` will send
/// (the translation's halt signal, recorded at create time so that `stop` never reads the
/// bundle again).
pub fn translate(
    global: &Global,
    runtime: RuntimeKind,
    opened: Opened,
    args: &CreateArgs,
    options: CreateOptions,
    foreground: bool,
) -> Result<(PathBuf, CreateBackend, Option<Signal>), Failure> {
    if runtime == RuntimeKind::Pct && options.preserve_fds.is_some() {
        return Err(Failure::usage(
            "--preserve-fds needs --runtime crun: the pct back end hands the process its stdio only",
        ));
    }
    // An engine's create: the container is started with the static init in front of its
    // process (executor::runtime::engine_pct). A foreground `run` is one too: this process
    // is then the engine, whose stdio the container's process gets and which waits for it.
    let engine_io = (runtime == RuntimeKind::Pct
        && (foreground || options.pid_file.is_some() || options.console_socket.is_some()))
    .then(|| {
        Box::new(executor::runtime::engine_pct::EngineIo {
            pid_file: options.pid_file.clone(),
            console_socket: options.console_socket.clone(),
            init: crate::INIT,
            timeout: std::time::Duration::from_secs(60),
            // Kept for `exec`: what the CT's process was created with that an attached
            // process gets the same.
            inherited: serde_json::from_slice::<serde_json::Value>(&opened.input.bytes)
                .ok()
                .and_then(|c| c.get("process").and_then(|p| p.as_object()).cloned())
                .map(|p| {
                    p.into_iter()
                        .filter(|(k, _)| {
                            executor::runtime::engine_pct::INHERITED.contains(&k.as_str())
                        })
                        .collect()
                }),
        })
    });
    if engine_io.is_some() {
        refuse_for_engine(&opened.input.bytes, &global.log())?;
    }
    let Opened {
        from,
        dir: bundle,
        input,
    } = opened;
    let opened = match from {
        From::Bundle(b) => b,
        From::Image(image, volumes, spec) => {
            let volumes = spec.map(|s| (volumes, s));
            return from_image(global, runtime, image, volumes, &input, args)
                .map(|(backend, stop)| (bundle, backend, stop));
        }
    };
    let bundle_text = bundle
        .to_str()
        .ok_or_else(|| Failure::usage(format!("bundle path {} is not UTF-8", bundle.display())))?
        .to_owned();
    // The same order as every other verb (engines pass no --target: PROXMOX_LXCRI_TARGET or
    // the node's /etc/proxmox-lxcri/target.json name the node).
    let mut target = load_target(args.target.as_ref(), args.pve_version.as_deref())?;
    // A host-path rootfs and crun's root.path are paths handed to another program: the
    // translator makes them absolute under this (canonical) bundle, and they are checked
    // against the rootfs opened below.
    if (target.rootfs == RootfsTarget::HostPath || runtime == RuntimeKind::Crun)
        && target.bundle_dir.is_none()
    {
        target.bundle_dir = Some(bundle_text);
    }
    let log = global.log();
    // The node policy decides before anything else touches the host.
    let node_policy = super::policy::load(global)?;
    // Which other containers this runtime runs: their records in our own state directory.
    let store = executor::state::StateStore::open(&global.root).ok();
    let known = |id: &str| {
        let id = executor::id::ContainerId::new(id).ok();
        matches!(
            (store.as_ref(), id),
            (Some(s), Some(id)) if matches!(s.read_mapping_alone(&id), Ok(Some(_)))
        )
    };
    let own = super::policy::Own {
        bundle: &opened,
        id: &args.id,
        storage: &global.rootfs_under,
        known: &known,
    };
    super::policy::enforce_create(
        &node_policy,
        &input,
        &target,
        runtime.into(),
        &log,
        Some(&own),
    )?;
    if runtime == RuntimeKind::Crun {
        return engine(&opened, &input, args, &global.rootfs_under, options, &log)
            .map(|(backend, stop)| (bundle, backend, stop));
    }
    let mut t = translator::oci_to_ir(&input.name, &input.bytes, &target);
    // The translator takes every bind source for a directory; this node can say which are
    // files, which Proxmox binds only as `lxc.mount.entry … create=file`.
    if let Some(ir) = t.ir.as_ref().filter(|_| !t.has_errors()) {
        if let Ok(plan) = translator::ir_to_plan(ir, &target, &input.name) {
            let files = executor::apply::needs::files_among(
                executor::apply::needs::directories(&plan)
                    .into_iter()
                    .map(|(_, _, p)| p),
            );
            if !files.is_empty() {
                target.bind_files.extend(files);
                t = translator::oci_to_ir(&input.name, &input.bytes, &target);
            }
        }
    }
    if engine_io.is_some() {
        // Under an engine, stderr is the container's stderr (as for crun, below).
        report_to_log(&t.diagnostics, &log, true);
    } else {
        report(&t.diagnostics, &log);
    }
    let ir = accepted(&t, &input)?;
    // As for crun: the operator's --rootfs-outside-bundle, or the engine's storage named with
    // --rootfs-under (the rootfs podman and containerd prepare lives there, not in the bundle).
    let outside = args.rootfs_outside_bundle.clone().or_else(|| {
        ir.rootfs
            .bundle_path
            .as_ref()
            .and_then(|p| below_engine_storage(&p.value, &global.rootfs_under))
            .or_else(|| match &ir.rootfs.source {
                RootSource::HostPath(p) => below_engine_storage(p, &global.rootfs_under),
                _ => None,
            })
    });
    let rootfs = Arc::new(open_rootfs(&opened, ir, outside.as_deref())?);
    let stop_signal = halt_signal(ir);
    let plan = translator::ir_to_plan(ir, &target, &input.name)
        .map_err(|e| Failure::refused(e.to_string()))?;
    // The operator's `--rootfs-outside-bundle`, as the checked path it was opened at:
    // the plan's pack step may name exactly that directory and no other outside the bundle.
    let host_rootfs = outside.as_ref().map(|_| rootfs.path().to_path_buf());
    let backend = CreateBackend::Pct {
        plan,
        pack: PackConfig {
            progress: super::progress(),
            ..PackConfig::default()
        },
        rootfs: Some(rootfs),
        image: None,
        policy: node_policy.policy.clone(),
        host_rootfs,
        engine: engine_io,
    };
    Ok((bundle, backend, stop_signal))
}

/// What an engine may ask of `create` and a Proxmox container cannot be: refused before
/// anything is made. A Proxmox container always gets its own pid, network, ipc, uts and mount
/// namespaces from LXC (pve-container writes no `lxc.namespace.share.*`, and
/// `lxc.namespace.*` is not on its raw-key allow-list, `src/PVE/LXC/Config.pm`
/// `%valid_lxc_conf_keys` @ 94f55852), so a spec without one of them (a host namespace) or one
/// naming a path (joining a pod's, or a network namespace the engine prepared) cannot be honoured.
fn refuse_for_engine(bytes: &[u8], log: &Log) -> Result<(), Failure> {
    let spec: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| Failure::usage(format!("config.json: {e}")))?;
    let empty = Vec::new();
    let namespaces = spec
        .pointer("/linux/namespaces")
        .and_then(|n| n.as_array())
        .unwrap_or(&empty);
    for kind in ["pid", "network", "ipc", "uts", "mount"] {
        if !namespaces
            .iter()
            .any(|n| n.get("type").and_then(|t| t.as_str()) == Some(kind))
        {
            return Err(Failure::refused(format!(
                "linux.namespaces has no {kind} namespace (the host's): a Proxmox container always has its own"
            )));
        }
    }
    for ns in namespaces {
        let kind = ns.get("type").and_then(|t| t.as_str()).unwrap_or("?");
        if let Some(path) = ns.get("path").and_then(|p| p.as_str()) {
            let why = if kind == "network" {
                log.info("a Proxmox container gets its own veth on the target bridge (its netN); the engine's network namespace is not used");
                "run it with --network none (podman) or without a CNI namespace: the Proxmox container gets its own veth on the target bridge"
            } else {
                "a Proxmox container cannot join another container's namespaces (pods, --pid/--ipc container:)"
            };
            return Err(Failure::refused(format!(
                "linux.namespaces: the {kind} namespace at {path}: {why}"
            )));
        }
    }
    Ok(())
}

/// The translation's IR, or the refusal that names how many errors were listed.
fn accepted<'t>(
    t: &'t translator::Translation,
    input: &ConfigInput,
) -> Result<&'t Container, Failure> {
    match (&t.ir, t.has_errors()) {
        (Some(ir), false) => Ok(ir),
        _ => {
            let n = t
                .diagnostics
                .iter()
                .filter(|d| d.severity == Severity::Error)
                .count();
            Err(Failure::refused(format!(
                "{} is refused: {n} error(s), listed above",
                input.name
            )))
        }
    }
}

/// The IR's halt signal: the first valid one of the three stop-signal annotations, SIGTERM
/// for an application, none for a system container (pct: Proxmox's own halt signal). The
/// same rule for both back ends. The translator has normalised it to a name `kill` knows.
fn halt_signal(ir: &Container) -> Option<Signal> {
    ir.init
        .as_ref()
        .and_then(|i| i.halt_signal.as_ref())
        .and_then(|s| Signal::parse(&s.value).ok())
}

/// `create --image` on pct: the image's converted config through the node policy and the
/// translation like a bundle's, planned with the image's layers streamed into the template
/// (no rootfs directory exists: nothing is unpacked on the way).
fn from_image(
    global: &Global,
    runtime: RuntimeKind,
    image: Arc<executor::image::Opened>,
    volumes: Option<(Vec<String>, translator::image::VolumeSpec)>,
    input: &ConfigInput,
    args: &CreateArgs,
) -> Result<(CreateBackend, Option<Signal>), Failure> {
    if runtime == RuntimeKind::Crun {
        return Err(Failure::usage(
            "--image is for --runtime pct: crun runs a rootfs directory, which an image is not; write one with `proxmox-lxcri convert --image REF --to bundle -o DIR` and create from that bundle",
        ));
    }
    let target = load_target(args.target.as_ref(), args.pve_version.as_deref())?;
    let log = global.log();
    let node_policy = super::policy::load(global)?;
    // An image's config has no bind mounts of its own: every mount is judged by the policy.
    super::policy::enforce_create(&node_policy, input, &target, runtime.into(), &log, None)?;
    let mut t = translator::oci_to_ir(&input.name, &input.bytes, &target);
    if let (Some(ir), Some((paths, spec))) = (t.ir.as_mut(), &volumes) {
        translator::image::add_volumes(ir, paths, spec);
    }
    report(&t.diagnostics, &log);
    let ir = accepted(&t, input)?;
    let plan = translator::ir_to_plan(ir, &target, &input.name)
        .and_then(|p| translator::emit::plan::with_image(p, image.source.clone()))
        .map_err(|e| Failure::refused(e.to_string()))?;
    let backend = CreateBackend::Pct {
        plan,
        pack: PackConfig {
            progress: super::progress(),
            ..PackConfig::default()
        },
        rootfs: None,
        image: Some(image),
        policy: node_policy.policy.clone(),
        host_rootfs: None,
        // `--image` under an engine: not wired (the engine gives a bundle).
        engine: None,
    };
    Ok((backend, halt_signal(ir)))
}

/// Findings of an engine-driven create: to the `--log` file only. Under an engine the
/// runtime's stderr is the container's stderr (conmon and the containerd shim hand their
/// pipes to `create`, and crun's init keeps them), so a warning printed there would show up in
/// `podman logs`. A refusal is different: the engine reports the runtime's stderr when it
/// exits non-zero, so errors go to both.
fn report_to_log(diagnostics: &[Diagnostic], log: &Log, also_stderr: bool) {
    for d in diagnostics
        .iter()
        .filter(|d| d.severity >= Severity::Warning || also_stderr)
    {
        let at = d
            .pointer
            .as_ref()
            .map(|p| format!(" at {p}"))
            .unwrap_or_default();
        let line = format!("{}: {} [{}]{at}", d.severity.as_str(), d.message, d.code());
        if also_stderr && d.severity == Severity::Error {
            eprintln!("proxmox-lxcri: {line}");
        }
        log.write(
            if d.severity == Severity::Error {
                Level::Error
            } else {
                Level::Warn
            },
            &line,
        );
    }
}

/// `--runtime crun`: the bundle's own spec run with crun's semantics (see
/// `executor::crun::engine`), after validation and the node's policy (enforced by the caller).
/// The rootfs is opened and checked exactly as for pct.
fn engine(
    opened: &Bundle,
    input: &input::ConfigInput,
    args: &CreateArgs,
    under: &[PathBuf],
    options: CreateOptions,
    log: &Log,
) -> Result<(CreateBackend, Option<Signal>), Failure> {
    // crun's default when the config names none (runtime-spec: root.path is required, crun
    // and runc both fail without it; the field table reports the missing field first).
    let raw: Option<serde_json::Value> = serde_json::from_slice(&input.bytes).ok();
    let root_path = raw
        .as_ref()
        .and_then(|v| v.pointer("/root/path"))
        .and_then(|p| p.as_str())
        .unwrap_or("rootfs")
        .to_owned();
    let outside = args
        .rootfs_outside_bundle
        .clone()
        .or_else(|| below_engine_storage(&root_path, under));
    if outside.is_some() && args.rootfs_outside_bundle.is_none() {
        log.info(&format!(
            "root.path {root_path} is below a --rootfs-under directory"
        ));
    }
    let rootfs = opened
        .rootfs(&root_path, outside.as_deref())
        .map_err(|e| Failure::refused(e.to_string()))?;
    let verified = rootfs
        .verified_path()
        .map_err(|e| Failure::refused(e.to_string()))?;
    let config = match executor::crun::engine::engine_config(&input.name, &input.bytes, &verified) {
        Ok(c) => c,
        Err(refused) => {
            report_to_log(&refused.diagnostics, log, true);
            return Err(Failure::refused(refused.message));
        }
    };
    report_to_log(&config.diagnostics, log, false);
    let stop_signal = match config.stop_signal.as_deref().map(Signal::parse) {
        Some(Ok(s)) => Some(s),
        Some(Err(e)) => {
            log.write(
                Level::Warn,
                &format!("warning: the stop-signal annotation: {e}; SIGTERM is used instead"),
            );
            None
        }
        None => None,
    };
    Ok((
        CreateBackend::Crun {
            config: config.json,
            options,
            rootfs: Some(Arc::new(rootfs)),
        },
        stop_signal,
    ))
}

/// `root.path` when it is strictly below one of the operator's `--rootfs-under` directories
/// (an engine's image storage: podman mounts every container's rootfs under
/// `/var/lib/containers/storage` and names it with an absolute `root.path`, so no per-create
/// `--rootfs-outside-bundle` can be given). The comparison is lexical and by components, on
/// paths without `.` or `..`; the rootfs is then opened and checked exactly as one named with
/// `--rootfs-outside-bundle` (no symlink on the way, never `/` or a system directory).
fn below_engine_storage(root_path: &str, under: &[PathBuf]) -> Option<PathBuf> {
    let plain = super::policy::plain_absolute;
    let path = Path::new(root_path);
    if !plain(path) {
        return None;
    }
    under
        .iter()
        .any(|dir| {
            plain(dir)
                && dir.components().count() > 1
                && path.starts_with(dir)
                && path.components().count() > dir.components().count()
        })
        .then(|| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_strictly_below_a_named_storage_directory() {
        let under = [PathBuf::from("/var/lib/containers/storage")];
        let ok = "/var/lib/containers/storage/overlay/abc/merged";
        assert_eq!(below_engine_storage(ok, &under), Some(PathBuf::from(ok)));
        for bad in [
            "/var/lib/containers/storage",
            "/var/lib/containers/storage/../../../etc",
            "/var/lib/containers/storage/./x",
            "/var/lib/containers/storagex/y",
            "relative/var/lib/containers/storage/x",
            "/etc",
        ] {
            assert_eq!(below_engine_storage(bad, &under), None, "{bad}");
        }
        // `/` is never a storage directory.
        assert_eq!(below_engine_storage("/etc", &[PathBuf::from("/")]), None);
        assert_eq!(below_engine_storage(ok, &[]), None);
    }
}
