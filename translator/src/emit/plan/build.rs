//! [`PveConfig`] → [`Plan`]. The plan is built from the same Proxmox form the
//! pct.conf writer reads, and refuses exactly what that writer refuses, so
//! the container the plan creates has the config `--to pct-conf` shows.

use super::{
    Action, Arg, ConfigLine, FileMode, ImageSource, Need, Plan, RootfsDir, Source, Step, Var,
    FORMAT, TEMPLATE_PREFIX,
};
use crate::emit::pct_conf::{self, WriteError};
use crate::emit::pve::{self, Entry, PveConfig};
use crate::ir::mounts::{RootSource, Rootfs};
use crate::ir::Container;
use crate::path::lexical;
use crate::target::Target;

/// How often the executor allocates an id and tries `pct create` before giving up.
pub const VMID_ATTEMPTS: u32 = 5;

/// Why no plan can be built for a container.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PlanError {
    /// The container config cannot be written (see [`WriteError`]).
    #[error(transparent)]
    Config(#[from] WriteError),
    /// A guard: lowering reports a missing or invalid root path as an error first.
    #[error("internal error: the container has no root file system to create it from")]
    NoRootfs,
    /// An image is packed into a template, which only a volume root file system is made
    /// from; a host-directory root file system (the target's `rootfs.mode: host-path`) is
    /// used in place and has nothing to unpack the image into.
    #[error("an image needs a volume root file system (the target's rootfs mode is host-path: Proxmox would use a host directory as it is)")]
    ImageNeedsVolume,
}

/// Lowers the IR to Proxmox's form and plans its creation.
pub fn ir_to_plan(ir: &Container, target: &Target, source: &str) -> Result<Plan, PlanError> {
    pve_to_plan(&pve::ir_to_pve(ir), &ir.rootfs, target, source)
}

/// Plans the creation of the container `conf` describes; `rootfs` says where
/// its root file system comes from.
pub fn pve_to_plan(
    conf: &PveConfig,
    rootfs: &Rootfs,
    target: &Target,
    source: &str,
) -> Result<Plan, PlanError> {
    let text = pct_conf::write(conf)?;
    let mut steps = Vec::new();
    match &rootfs.source {
        RootSource::Volume { .. } => {
            let dir = rootfs_dir(rootfs, target).ok_or(PlanError::NoRootfs)?;
            steps.push(pack_rootfs(dir, rootfs, target));
            steps.push(allocate_vmid());
            steps.push(pct_create(conf));
            if let Some(step) = write_config_lines(conf) {
                steps.push(step);
            }
            steps.extend(write_files(conf));
            steps.push(remove_template());
        }
        RootSource::HostPath(_) => {
            steps.push(allocate_vmid());
            steps.push(create_config(conf, text));
            steps.extend(write_files(conf));
        }
        RootSource::Unset => return Err(PlanError::NoRootfs),
    }
    steps.push(record_state(target));
    Ok(Plan {
        format: FORMAT,
        source: source.to_string(),
        node: target.node.clone(),
        pve_container: target.pve_container.to_string(),
        steps,
    })
}

/// The same plan with its root file system packed from `image`'s layers instead of a
/// directory: the `pack-rootfs` step's source becomes the image, and what the config's
/// `root.path` named is no longer a source of it (an image's config names no rootfs).
pub fn with_image(mut plan: Plan, image: ImageSource) -> Result<Plan, PlanError> {
    let step = plan
        .steps
        .iter_mut()
        .find(|s| matches!(s.action, Action::PackRootfs { .. }))
        .ok_or(PlanError::ImageNeedsVolume)?;
    if let Action::PackRootfs { rootfs, .. } = &mut step.action {
        *rootfs = RootfsDir::Image(image);
    }
    step.sources.retain(|s| s.item != "rootfs");
    if let Some(Need::Root(why)) = step.needs.iter_mut().find(|n| matches!(n, Need::Root(_))) {
        *why = "writes every file of the image with its owner and mode".into();
    }
    Ok(plan)
}

/// A step with the undo its kind has ([`Action::undo`], which the executor derives again).
fn step(action: Action, sources: Vec<Source>, needs: Vec<Need>) -> Step {
    let undo = action.undo();
    Step {
        action,
        sources,
        needs,
        undo,
    }
}

fn pointers(from: &[crate::source::JsonPointer]) -> Vec<String> {
    from.iter().map(|p| p.to_string()).collect()
}

fn sources<'a>(entries: impl IntoIterator<Item = (String, &'a Entry)>) -> Vec<Source> {
    entries
        .into_iter()
        .filter(|(_, e)| !e.from.is_empty())
        .map(|(item, e)| Source {
            item,
            from: pointers(&e.from),
        })
        .collect()
}

/// The bundle's root path, relative to the bundle unless the target names
/// the bundle's directory or the path is absolute.
fn rootfs_dir(rootfs: &Rootfs, target: &Target) -> Option<RootfsDir> {
    let path = &rootfs.bundle_path.as_ref()?.value;
    if path.starts_with('/') {
        return Some(RootfsDir::Path(lexical(path).absolute()));
    }
    let rel = lexical(path).relative();
    Some(match &target.bundle_dir {
        Some(dir) => RootfsDir::Path(lexical(&format!("{dir}/{rel}")).absolute()),
        None => RootfsDir::Bundle(if rel.is_empty() { ".".into() } else { rel }),
    })
}

fn pack_rootfs(dir: RootfsDir, rootfs: &Rootfs, target: &Target) -> Step {
    let from = rootfs
        .bundle_path
        .iter()
        .map(|p| p.ptr.to_string())
        .collect::<Vec<_>>();
    step(
        Action::PackRootfs {
            rootfs: dir,
            storage: target.template_storage.clone(),
            name_prefix: TEMPLATE_PREFIX.into(),
        },
        if from.is_empty() {
            Vec::new()
        } else {
            vec![Source {
                item: "rootfs".into(),
                from,
            }]
        },
        vec![
            Need::Root("reads every file of the root file system with its owner and mode".into()),
            Need::Storage {
                id: target.template_storage.clone(),
                content: "vztmpl".into(),
            },
        ],
    )
}

fn allocate_vmid() -> Step {
    step(
        Action::AllocateVmid {
            attempts: VMID_ATTEMPTS,
        },
        Vec::new(),
        vec![Need::Program("pvesh".into())],
    )
}

fn pct_create(conf: &PveConfig) -> Step {
    let mut argv = vec![
        Arg::lit("pct"),
        Arg::lit("create"),
        Arg::var(Var::Vmid),
        Arg::var(Var::Template),
    ];
    for e in &conf.keys {
        argv.push(Arg::Lit(format!("--{}", e.key)));
        argv.push(Arg::Lit(e.value.clone()));
    }
    // Proxmox stores it as the `#` comment lines the pct.conf writer writes.
    if let Some(desc) = &conf.description {
        argv.push(Arg::lit("--description"));
        argv.push(Arg::Lit(pct_conf::description_argument(
            desc,
            conf.description_percent,
        )));
    }
    step(
        Action::PctCreate { argv },
        sources(conf.keys.iter().map(|e| (format!("--{}", e.key), e))),
        [
            Need::Program("pct".into()),
            Need::Root("pct runs only as root on the node".into()),
        ]
        .into_iter()
        .chain(bind_directories(conf))
        .collect(),
    )
}

/// The lines `pct` cannot set: `lxc.environment.runtime` entries (the CLI
/// passes `--env` as one argument, so only one variable would fit) and raw
/// `lxc.*` keys (no API sets them), in the order Proxmox writes them.
fn write_config_lines(conf: &PveConfig) -> Option<Step> {
    let entries: Vec<&Entry> = conf.env.iter().chain(&conf.raw).collect();
    if entries.is_empty() {
        return None;
    }
    let lines = entries
        .iter()
        .map(|e| ConfigLine {
            key: e.key.clone(),
            value: e.value.clone(),
        })
        .collect();
    Some(step(
        Action::WriteConfigLines { lines },
        sources(entries.iter().map(|e| (e.key.clone(), *e))),
        vec![
            Need::Root("only root can write raw lxc.* keys into /etc/pve".into()),
            Need::Quorum,
            Need::ConfigLock,
        ],
    ))
}

/// The sources of the bind mount points (`mpN: /path,mp=…`): each must be a directory on
/// the node. A source has no `,` (lowering refuses one), so it is the text before the first.
fn bind_directories(conf: &PveConfig) -> impl Iterator<Item = Need> + '_ {
    conf.keys
        .iter()
        .filter_map(|e| crate::host::bind_mount_point_source(&e.key, &e.value))
        .map(|s| Need::Directory(s.to_string()))
}

fn create_config(conf: &PveConfig, text: String) -> Step {
    let all = conf
        .keys
        .iter()
        .map(|e| (e.key.clone(), e))
        .chain(conf.env.iter().chain(&conf.raw).map(|e| (e.key.clone(), e)));
    step(
        Action::CreateConfig { text },
        sources(all),
        [
            Need::Root("a host directory as root file system is root@pam only, and only root writes /etc/pve".into()),
            Need::Quorum,
            Need::ConfigLock,
        ]
        .into_iter()
        .chain(bind_directories(conf))
        .collect(),
    )
}

fn write_files(conf: &PveConfig) -> Vec<Step> {
    conf.files
        .iter()
        .map(|f| {
            step(
                Action::WriteFile {
                    path: f.path.clone(),
                    mode: FileMode(f.mode),
                    content: f.content.clone(),
                },
                vec![Source {
                    item: f.path.clone(),
                    from: vec![f.from.to_string()],
                }],
                vec![Need::Root(format!(
                    "writes {}",
                    crate::path::lxcri::SECCOMP_DIR
                ))],
            )
        })
        .collect()
}

fn remove_template() -> Step {
    step(
        Action::RemoveTemplate,
        Vec::new(),
        vec![Need::Program("pvesm".into())],
    )
}

fn record_state(target: &Target) -> Step {
    step(
        Action::RecordState {
            node: target.node.clone(),
        },
        Vec::new(),
        vec![Need::StateStore],
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::RootfsTarget;

    fn plan(json: &str, target: &Target) -> Plan {
        let t = crate::oci_to_ir("config.json", json.as_bytes(), target);
        let ir = t.ir.unwrap_or_default();
        match ir_to_plan(&ir, target, "config.json") {
            Ok(p) => p,
            Err(e) => panic!("{e}"),
        }
    }

    fn ops(p: &Plan) -> Vec<&'static str> {
        p.steps.iter().map(|s| s.action.op()).collect()
    }

    const APP: &str = r#"{"ociVersion": "1.2.0", "root": {"path": "./rootfs/"}, "hostname": "web",
        "process": {"cwd": "/srv", "args": ["/app", "--port", "80"], "env": ["A=1", "B=two words"]},
        "linux": {"namespaces": [{"type": "user"}, {"type": "network"}]}}"#;

    #[test]
    fn volume_rootfs_steps_in_order() {
        let p = plan(APP, &Target::default());
        assert_eq!(
            ops(&p),
            [
                "pack-rootfs",
                "allocate-vmid",
                "pct-create",
                "write-config-lines",
                "remove-template",
                "record-state"
            ]
        );
        let Some(Action::PackRootfs {
            rootfs, storage, ..
        }) = p.steps.first().map(|s| &s.action)
        else {
            panic!("{p:?}")
        };
        assert_eq!(
            (rootfs, storage.as_str()),
            (&RootfsDir::Bundle("rootfs".into()), "local")
        );
        let Some(Action::WriteConfigLines { lines }) = p.steps.get(3).map(|s| &s.action) else {
            panic!("{p:?}")
        };
        let text: Vec<String> = lines.iter().map(ConfigLine::text).collect();
        assert_eq!(
            text,
            [
                "lxc.environment.runtime: A=1",
                "lxc.environment.runtime: B=two words",
                "lxc.init.cwd: /srv",
                "lxc.signal.halt: SIGTERM"
            ]
        );
    }

    #[test]
    fn pct_create_argv_has_every_key() {
        let p = plan(APP, &Target::default());
        let Some(Action::PctCreate { argv }) = p.steps.get(2).map(|s| &s.action) else {
            panic!("{p:?}")
        };
        let words: Vec<String> = argv
            .iter()
            .map(|a| match a {
                Arg::Lit(s) => s.clone(),
                Arg::Var { var } => format!("${}", var.name()),
            })
            .collect();
        assert_eq!(&words[..4], ["pct", "create", "$vmid", "$template"]);
        assert!(
            words
                .windows(2)
                .any(|w| w == ["--entrypoint", "/app --port 80"]),
            "{words:?}"
        );
        assert!(
            words.windows(2).any(|w| w == ["--hostname", "web"]),
            "{words:?}"
        );
        assert!(
            !words.iter().any(|w| w == "--env"),
            "env goes through config lines: {words:?}"
        );
    }

    #[test]
    fn bundle_dir_makes_the_rootfs_absolute() {
        let target = Target {
            bundle_dir: Some("/srv/bundles/web/".into()),
            ..Target::default()
        };
        let p = plan(APP, &target);
        let Some(Action::PackRootfs { rootfs, .. }) = p.steps.first().map(|s| &s.action) else {
            panic!("{p:?}")
        };
        assert_eq!(rootfs, &RootfsDir::Path("/srv/bundles/web/rootfs".into()));
    }

    #[test]
    fn host_path_rootfs_writes_the_config_itself() {
        let target = Target {
            rootfs: RootfsTarget::HostPath,
            bundle_dir: Some("/srv/b".into()),
            ..Target::default()
        };
        let p = plan(APP, &target);
        assert_eq!(ops(&p), ["allocate-vmid", "create-config", "record-state"]);
        let Some(Action::CreateConfig { text }) = p.steps.get(1).map(|s| &s.action) else {
            panic!("{p:?}")
        };
        assert!(text.contains("\nrootfs: /srv/b/rootfs\n"), "{text}");
    }

    #[test]
    fn an_image_replaces_the_directory_packed_and_needs_a_volume() {
        let image = ImageSource {
            reference: "oci-archive:/srv/app.tar".into(),
            platform: Some("linux/arm64".into()),
        };
        let p = with_image(plan(APP, &Target::default()), image.clone()).unwrap();
        let Some(step) = p.steps.first() else {
            panic!("{p:?}")
        };
        assert!(
            matches!(&step.action, Action::PackRootfs { rootfs: RootfsDir::Image(i), .. } if *i == image),
            "{step:?}"
        );
        assert!(step.sources.is_empty(), "{:?}", step.sources);
        assert_eq!(ops(&p), ops(&plan(APP, &Target::default())));
        let host_path = Target {
            rootfs: RootfsTarget::HostPath,
            bundle_dir: Some("/srv/b".into()),
            ..Target::default()
        };
        assert_eq!(
            with_image(plan(APP, &host_path), image),
            Err(PlanError::ImageNeedsVolume)
        );
    }

    #[test]
    fn missing_root_is_refused() {
        let t = crate::oci_to_ir("c", br#"{"ociVersion": "1.2.0"}"#, &Target::default());
        let ir = t.ir.unwrap_or_default();
        assert_eq!(
            ir_to_plan(&ir, &Target::default(), "c"),
            Err(PlanError::NoRootfs)
        );
    }
}
