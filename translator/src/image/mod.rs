//! OCI image config → OCI runtime config: the image-spec's conversion rules
//! (opencontainers/image-spec `conversion.md`, commit 13cff549), the stage
//! [`image_to_oci`] that runs before [`crate::oci_to_ir`] when the input is an
//! image rather than a bundle.
//!
//! Pure like the rest of the crate: the caller reads the image (its config blob,
//! and `/etc/passwd` and `/etc/group` from the layers) and hands the bytes in.
//! What the conversion does with each field, and what it reports:
//!
//! | image config            | runtime config                               |
//! |-------------------------|----------------------------------------------|
//! | `Config.Entrypoint`+`Cmd` | `process.args` (empty: `image/no-command`)  |
//! | `Config.Env`            | `process.env`; `PATH`, `HOME` added if unset |
//! | `Config.WorkingDir`     | `process.cwd` (`/` if unset)                 |
//! | `Config.User`           | `process.user` resolved in the image's accounts |
//! | `os`, `architecture`, `variant`, `os.version`, `os.features`, `author`, `created`, `Config.StopSignal`, `Config.ExposedPorts` | `org.opencontainers.image.*` annotations |
//! | `Config.Labels`         | annotations, winning over the implicit ones  |
//! | `rootfs.diff_ids`       | their ChainID in the `org.proxmox-lxcri.image.rootfs` annotation (read by `diff`) |
//! | `Config.Volumes`        | mount points on new volumes (`image/volume`) |
//! | `Config.Healthcheck`    | reported (`image/healthcheck`)               |
//! | anything else           | reported (`image/ignored-field`)             |
//!
//! The rest of the runtime config is this crate's implementation-defined
//! default (the private `base` module), which never removes or changes a variable the image sets
//! (conversion.md: "an implementation-defined default SHOULD NOT result in an
//! environment variable being removed or changed").

pub mod accounts;
mod base;
mod user;

use serde_json::{Map, Value};

use crate::diag::{self, Diagnostic};
use crate::json::{self, NodeId, Tree, View};
use crate::rules::image as rules;
use crate::source::{JsonPointer, Source, Span};
pub use accounts::Accounts;

/// What one image gives the conversion.
#[derive(Clone, Copy, Debug)]
pub struct ImageParts<'a> {
    /// A name for the config in diagnostics (`image config sha256:…`).
    pub name: &'a str,
    /// The image config blob (`application/vnd.oci.image.config.v1+json`).
    pub config: &'a [u8],
    /// The image's `/etc/passwd` and `/etc/group`, as read from its layers.
    pub accounts: &'a Accounts,
    /// Where `Config.Volumes` become new storage volumes; `None` (a host-directory root file
    /// system) keeps them directories of the root file system.
    pub volumes: Option<&'a VolumeSpec>,
}

/// The new storage volume each of the image's `Volumes` becomes (a Proxmox mount point).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VolumeSpec {
    /// The Proxmox storage id (the target's root file system storage).
    pub storage: String,
    /// The size of each volume (`--volume-size`; 1 GiB when not given).
    pub size_gib: u32,
}

/// The size of each image volume when `--volume-size` is not given: enough for the state of a
/// small service; an application that needs more says so on the command line.
pub const DEFAULT_VOLUME_GIB: u32 = 1;

/// Adds a mount point on a new volume for each path of [`Converted::volumes`], after the
/// mount points the container already has (the IR's; Proxmox numbers them `mp0`…), as many
/// as Proxmox allows (256 in all; the conversion reported the rest). Pure: `pct create`
/// allocates the volumes (`STORAGE:SIZE` in the `mpN` value).
pub fn add_volumes(ir: &mut crate::ir::Container, volumes: &[String], spec: &VolumeSpec) {
    use crate::ir::mounts::MountPoint;
    for path in volumes {
        if ir.mounts.points.len() >= MAX_VOLUME_POINTS {
            break;
        }
        let Ok(target) = crate::ir::MountTarget::new(path) else {
            continue;
        };
        ir.mounts.points.push(MountPoint {
            source: synthesised(format!("{}:{}", spec.storage, spec.size_gib)),
            target: synthesised(target),
            readonly: false,
            options: Vec::new(),
        });
    }
}

/// A value the conversion made (no place in the runtime config).
fn synthesised<T>(value: T) -> crate::source::Traced<T> {
    crate::source::Traced {
        value,
        ptr: JsonPointer::root(),
        span: Span::default(),
    }
}

/// Proxmox's mount points: `mp0` to `mp255`.
const MAX_VOLUME_POINTS: usize = 256;

/// The result of [`image_to_oci`].
pub struct Converted {
    /// The image config's text, for spans in diagnostics.
    pub source: Source,
    /// The runtime config (`config.json`), pretty-printed; none when a finding is an error.
    pub runtime_config: Option<String>,
    /// Every finding of the conversion, sorted.
    pub diagnostics: Vec<Diagnostic>,
    /// The `Volumes` paths that become mount points on new volumes ([`add_volumes`]), sorted;
    /// empty without a [`VolumeSpec`].
    pub volumes: Vec<String>,
}

impl Converted {
    /// Whether a finding is an error, which refuses the image.
    pub fn has_errors(&self) -> bool {
        diag::has_errors(&self.diagnostics)
    }
}

/// The conversion stage: an image config (and the image's accounts) → the runtime config a
/// bundle made from the image would have, by image-spec `conversion.md`.
pub fn image_to_oci(parts: ImageParts<'_>) -> Converted {
    let text = String::from_utf8_lossy(parts.config).into_owned();
    let source = Source::new(parts.name, text.clone());
    let mut cx = Cx {
        tree: json::parse(&text).tree,
        diagnostics: Vec::new(),
    };
    let mut volumes = Vec::new();
    let runtime_config = match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(doc)) => {
            convert(&doc, parts.accounts, parts.volumes, &mut volumes, &mut cx)
        }
        Ok(_) => {
            cx.report(
                &rules::INVALID_CONFIG,
                &[],
                "the image config is not a JSON object",
            );
            None
        }
        Err(e) => {
            cx.report(
                &rules::INVALID_CONFIG,
                &[],
                format!("the image config is not JSON: {e}"),
            );
            None
        }
    };
    let runtime_config = runtime_config
        .filter(|_| !diag::has_errors(&cx.diagnostics))
        .and_then(|v| match serde_json::to_string_pretty(&v) {
            Ok(text) => Some(text),
            Err(e) => {
                cx.report(
                    &rules::INVALID_CONFIG,
                    &[],
                    format!("the runtime config could not be written: {e}"),
                );
                None
            }
        });
    let mut diagnostics = cx.diagnostics;
    diag::sort(&mut diagnostics);
    Converted {
        source,
        runtime_config,
        diagnostics,
        volumes,
    }
}

/// Findings, placed by pointer and span in the image config.
struct Cx {
    tree: Option<Tree>,
    diagnostics: Vec<Diagnostic>,
}

impl Cx {
    fn report(
        &mut self,
        rule: &'static crate::rules::Rule,
        at: &[&str],
        message: impl Into<String>,
    ) {
        let pointer = at.iter().fold(JsonPointer::root(), |p, t| p.push(t));
        let span = self.span(at);
        self.diagnostics
            .push(Diagnostic::new(rule, message).at(&pointer, span));
    }

    /// The span of the value at `path` (object keys only: array items are reported at their
    /// array), or undefined when the text did not parse.
    fn span(&self, path: &[&str]) -> Span {
        let Some(tree) = &self.tree else {
            return Span::UNDEFINED;
        };
        let mut id: NodeId = tree.root();
        for key in path {
            match tree.get(id, key, View::Written) {
                Some(m) => id = m.value,
                None => break,
            }
        }
        tree.span(id)
    }
}

/// Fields of the image config this module reads, and those it knowingly leaves to others
/// (the layers' `rootfs`, the build `history`: read by the layer reader and by nobody).
const TOP_LEVEL: &[&str] = &[
    "created",
    "author",
    "architecture",
    "os",
    "os.version",
    "os.features",
    "variant",
    "config",
    "rootfs",
    "history",
];

/// `config` members and what becomes of them; the Docker-only ones have no runtime meaning.
const CONFIG_FIELDS: &[&str] = &[
    "User",
    "ExposedPorts",
    "Env",
    "Entrypoint",
    "Cmd",
    "Volumes",
    "WorkingDir",
    "Labels",
    "StopSignal",
    "Healthcheck",
    // Windows-only (image-spec config.md: "only applicable to Windows"), meaningless on Linux.
    "ArgsEscaped",
];

fn convert(
    doc: &Map<String, Value>,
    accounts: &Accounts,
    volume_spec: Option<&VolumeSpec>,
    made: &mut Vec<String>,
    cx: &mut Cx,
) -> Option<Value> {
    for key in doc.keys().filter(|k| !TOP_LEVEL.contains(&k.as_str())) {
        cx.report(
            &rules::IGNORED_FIELD,
            &[key],
            format!("`{key}` is not an image-spec config field; it is not converted"),
        );
    }
    match doc.get("os").and_then(Value::as_str) {
        Some("linux") => {}
        Some(os) => cx.report(
            &rules::NOT_LINUX,
            &["os"],
            format!("the image is for `{os}`; containers here share a Linux kernel"),
        ),
        None => cx.report(
            &rules::INVALID_CONFIG,
            &["os"],
            "the image config has no `os`",
        ),
    }
    let empty = Map::new();
    let config = match doc.get("config") {
        None | Some(Value::Null) => &empty,
        Some(Value::Object(c)) => c,
        Some(_) => {
            cx.report(
                &rules::INVALID_CONFIG,
                &["config"],
                "`config` is not an object",
            );
            &empty
        }
    };
    for key in config
        .keys()
        .filter(|k| !CONFIG_FIELDS.contains(&k.as_str()))
    {
        cx.report(
            &rules::IGNORED_FIELD,
            &["config", key],
            format!("`config.{key}` has no counterpart in the runtime config; it is not converted"),
        );
    }

    let mut spec = base::runtime_config();
    let process = &mut spec["process"];

    // Entrypoint + Cmd → args (conversion.md, "Verbatim Fields", note 2).
    let mut args = strings(config, "Entrypoint", cx).unwrap_or_default();
    args.extend(strings(config, "Cmd", cx).unwrap_or_default());
    if args.is_empty() {
        cx.report(
            &rules::NO_COMMAND,
            &["config"],
            "the image has neither `Entrypoint` nor `Cmd`: there is nothing to run",
        );
    }
    process["args"] = Value::from(args);

    // Env verbatim; defaults only for names the image does not set (note 1).
    let mut env = strings(config, "Env", cx).unwrap_or_default();
    if let Some(bad) = env.iter().find(|e| !e.contains('=')) {
        cx.report(
            &rules::INVALID_CONFIG,
            &["config", "Env"],
            format!("`{bad}` is not `NAME=value`"),
        );
    }
    let sets = |env: &[String], name: &str| {
        env.iter()
            .any(|e| e.split_once('=').is_some_and(|(n, _)| n == name))
    };
    if !sets(&env, "PATH") {
        env.push(format!("PATH={}", base::DEFAULT_PATH));
    }

    let cwd = match config.get("WorkingDir") {
        None | Some(Value::Null) => "/".to_owned(),
        Some(Value::String(s)) if s.is_empty() => "/".to_owned(),
        Some(Value::String(s)) if s.starts_with('/') => s.clone(),
        Some(Value::String(s)) => {
            cx.report(
                &rules::INVALID_CONFIG,
                &["config", "WorkingDir"],
                format!("`{s}` is not an absolute path"),
            );
            s.clone()
        }
        Some(_) => {
            cx.report(
                &rules::INVALID_CONFIG,
                &["config", "WorkingDir"],
                "`WorkingDir` is not a string",
            );
            "/".to_owned()
        }
    };
    process["cwd"] = Value::from(cwd);

    let user_text = match config.get("User") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => {
            cx.report(
                &rules::INVALID_CONFIG,
                &["config", "User"],
                "`User` is not a string",
            );
            String::new()
        }
    };
    match user::resolve(&user_text, accounts) {
        Ok(resolved) => {
            // runc sets HOME from the user's passwd entry when the environment lacks it
            // (libcontainer/init_linux.go, `setupUser`/`finalizeNamespace` at 76d9cf5d).
            if !sets(&env, "HOME") {
                env.push(format!("HOME={}", resolved.home));
            }
            let mut u = Map::new();
            u.insert("uid".into(), resolved.uid.into());
            u.insert("gid".into(), resolved.gid.into());
            if !resolved.additional_gids.is_empty() {
                u.insert("additionalGids".into(), resolved.additional_gids.into());
            }
            process["user"] = Value::Object(u);
            // A process that is not root starts with no effective or permitted capabilities,
            // as under Docker since the fix for CVE-2022-24769 (moby 20.10.14,
            // GHSA-2mm7-x5h6-5pvq); the bounding set still limits file capabilities. It is
            // also what LXC gives a non-root init (no inheritable or ambient set).
            if resolved.uid != 0 {
                process["capabilities"]["effective"] = Value::Array(Vec::new());
                process["capabilities"]["permitted"] = Value::Array(Vec::new());
            }
        }
        Err(message) => cx.report(&rules::UNKNOWN_USER, &["config", "User"], message),
    }
    process["env"] = Value::from(env);

    spec["annotations"] = Value::Object(annotations(doc, config, cx));

    if let Some(volumes) = object(config, "Volumes", cx) {
        for path in volumes.keys() {
            let at = ["config", "Volumes", path.as_str()];
            let message = match (volume_spec, crate::ir::MountTarget::new(path)) {
                (Some(v), Ok(_)) if made.len() < MAX_VOLUME_POINTS => {
                    made.push(path.clone());
                    format!(
                        "`{path}` becomes a mount point on a new {} GiB volume on storage {} (--volume-size sets the size); the volume starts empty, so what the image has at {path} is hidden under it",
                        v.size_gib, v.storage
                    )
                }
                (Some(_), Ok(_)) => format!("`{path}` is one volume more than Proxmox's 256 mount points; it stays a directory of the container's root file system"),
                (Some(_), Err(e)) => format!("`{path}` cannot be a mount point ({e}); it stays a directory of the container's root file system"),
                (None, _) => format!("`{path}` is a volume of the image; the root file system is a host directory, so it stays a directory of it"),
            };
            cx.report(&rules::VOLUME, &at, message);
        }
    }
    if config.get("Healthcheck").is_some_and(|h| !h.is_null()) {
        cx.report(
            &rules::HEALTHCHECK,
            &["config", "Healthcheck"],
            "the image's health check is not run",
        );
    }
    Some(spec)
}

/// The annotations conversion.md's "Annotation Fields" and `ExposedPorts` give, with
/// `Config.Labels` winning on a conflict ("the value specified in `Config.Labels` MUST take
/// precedence").
fn annotations(
    doc: &Map<String, Value>,
    config: &Map<String, Value>,
    cx: &mut Cx,
) -> Map<String, Value> {
    let mut out = Map::new();
    let implicit: &[(&str, Option<&Value>)] = &[
        ("org.opencontainers.image.os", doc.get("os")),
        (
            "org.opencontainers.image.architecture",
            doc.get("architecture"),
        ),
        ("org.opencontainers.image.variant", doc.get("variant")),
        ("org.opencontainers.image.os.version", doc.get("os.version")),
        (
            "org.opencontainers.image.os.features",
            doc.get("os.features"),
        ),
        ("org.opencontainers.image.author", doc.get("author")),
        ("org.opencontainers.image.created", doc.get("created")),
        (
            "org.opencontainers.image.stopSignal",
            config.get("StopSignal"),
        ),
    ];
    for (key, value) in implicit {
        let text = match value {
            None | Some(Value::Null) => continue,
            Some(Value::String(s)) => s.clone(),
            // `os.features` is an array of strings: the annotation is a string.
            Some(Value::Array(items)) if items.iter().all(Value::is_string) => items
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(","),
            Some(_) => {
                let field = key.trim_start_matches("org.opencontainers.image.");
                let at: Vec<&str> = if field == "stopSignal" {
                    vec!["config", "StopSignal"]
                } else {
                    vec![field]
                };
                cx.report(
                    &rules::INVALID_CONFIG,
                    &at,
                    format!("`{field}` is not a string"),
                );
                continue;
            }
        };
        out.insert((*key).into(), text.into());
    }
    if let Some(ports) = object(config, "ExposedPorts", cx) {
        if !ports.is_empty() {
            let list: Vec<&str> = ports.keys().map(String::as_str).collect();
            cx.report(
                &rules::EXPOSED_PORTS,
                &["config", "ExposedPorts"],
                format!(
                    "exposed ports {} are recorded in an annotation only",
                    list.join(", ")
                ),
            );
            out.insert(
                "org.opencontainers.image.exposedPorts".into(),
                list.join(",").into(),
            );
        }
    }
    if let Some(labels) = object(config, "Labels", cx) {
        for (key, value) in labels {
            match value {
                Value::String(s) => {
                    out.insert(key.clone(), s.clone().into());
                }
                _ => cx.report(
                    &rules::INVALID_CONFIG,
                    &["config", "Labels", key],
                    format!("label `{key}` is not a string"),
                ),
            }
        }
    }
    // After the labels, so that no label can stand for other layers: `diff` compares it.
    if let Some(chain) = chain_id(doc) {
        out.insert(ROOTFS_ANNOTATION.into(), chain.into());
    }
    out
}

/// The annotation naming the root file system's layers: the ChainID of the image config's
/// `rootfs.diff_ids`. `diff` compares it to tell a new root file system from a new config.
pub const ROOTFS_ANNOTATION: &str = "org.proxmox-lxcri.image.rootfs";

/// image-spec config.md "Layer ChainID": `ChainID(L0) = DiffID(L0)`,
/// `ChainID(L0|…|Ln) = Digest(ChainID(L0|…|Ln-1) + " " + DiffID(Ln))` (SHA-256). `None`
/// when there are no layers or a `diff_id` is not a string (the layer reader refuses those).
fn chain_id(doc: &Map<String, Value>) -> Option<String> {
    use sha2::{Digest, Sha256};
    let ids = doc.get("rootfs")?.get("diff_ids")?.as_array()?;
    let mut chain: Option<String> = None;
    for id in ids {
        let id = id.as_str()?;
        chain = Some(match chain {
            None => id.to_owned(),
            Some(c) => {
                let digest = Sha256::digest(format!("{c} {id}").as_bytes());
                let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
                format!("sha256:{hex}")
            }
        });
    }
    chain
}

/// An optional array of strings; a wrong type is reported and read as absent.
fn strings(config: &Map<String, Value>, key: &str, cx: &mut Cx) -> Option<Vec<String>> {
    match config.get(key)? {
        Value::Null => None,
        Value::Array(items) if items.iter().all(Value::is_string) => Some(
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
        ),
        _ => {
            cx.report(
                &rules::INVALID_CONFIG,
                &["config", key],
                format!("`{key}` is not an array of strings"),
            );
            None
        }
    }
}

/// An optional object; a wrong type is reported and read as absent.
fn object<'a>(
    config: &'a Map<String, Value>,
    key: &str,
    cx: &mut Cx,
) -> Option<&'a Map<String, Value>> {
    match config.get(key)? {
        Value::Null => None,
        Value::Object(m) => Some(m),
        _ => {
            cx.report(
                &rules::INVALID_CONFIG,
                &["config", key],
                format!("`{key}` is not an object"),
            );
            None
        }
    }
}

#[cfg(test)]
mod tests;
