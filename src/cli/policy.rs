//! The node policy on the command line: which file (`--policy`,
//! `PROXMOX_LXCRI_POLICY`, /etc/proxmox-lxcri/policy.toml), this run's
//! `--allow`s, and the check `create` and `run` make before the first host
//! call: the lint rules over the bundle's bytes, then the policy's refusals.
//!
//! The policy file is trusted input only if root keeps it: like sudo with
//! sudoers, a file (or its directory) that is not owned by root or the
//! caller, or that group or others can write, is refused (exit 2).

use std::io::Read;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use executor::runtime::log::{Level, Log};
use translator::lint::engine::{LintConfig, SuppressedBy};
use translator::policy::{Backend, Policy};
use translator::{Diagnostic, Target};

use super::input::ConfigInput;
use super::{Failure, Global, RuntimeKind};

/// Environment variable naming the policy file when `--policy` is not given.
pub const POLICY_ENV: &str = "PROXMOX_LXCRI_POLICY";
/// The node's policy file; the built-in defaults apply when it does not exist.
pub const DEFAULT_POLICY: &str = "/etc/proxmox-lxcri/policy.toml";
/// A policy is a few lines; this bounds what a wrong path makes us read.
const MAX_POLICY_BYTES: u64 = 1 << 20;

/// The policy in force and where it came from, for messages.
#[derive(Debug)]
pub struct NodePolicy {
    pub policy: Policy,
    /// "the built-in policy" or the file's path.
    pub origin: String,
}

impl From<RuntimeKind> for Backend {
    fn from(k: RuntimeKind) -> Backend {
        match k {
            RuntimeKind::Pct => Backend::Pct,
            RuntimeKind::Crun => Backend::Crun,
        }
    }
}

/// The policy for this run: the file, then `--allow`. A named file that
/// cannot be read, is not kept by root, or does not parse is a usage error.
pub fn load(global: &Global) -> Result<NodePolicy, Failure> {
    let named = global.policy.clone().or_else(|| {
        std::env::var_os(POLICY_ENV)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    });
    let (path, must_exist) = match named {
        Some(p) => (p, true),
        None => (PathBuf::from(DEFAULT_POLICY), false),
    };
    let mut node = match read_kept_by_root(&path) {
        Ok(text) => {
            let policy = Policy::from_toml(&text)
                .map_err(|e| Failure::usage(format!("policy {}: {e}", path.display())))?;
            NodePolicy {
                policy,
                origin: path.display().to_string(),
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !must_exist => NodePolicy {
            policy: Policy::builtin(),
            origin: "the built-in policy".into(),
        },
        Err(e) => return Err(Failure::usage(format!("policy {}: {e}", path.display()))),
    };
    for allow in super::lint::parse_allows(&global.allow)? {
        node.policy.allow(allow);
    }
    if super::verbose() {
        eprintln!("proxmox-lxcri: policy: {}", node.origin);
    }
    Ok(node)
}

fn invalid(message: String) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::PermissionDenied, message)
}

/// Whether the caller may trust what `meta` describes: owned by root or the
/// caller, and writable by nobody else.
fn kept_by_root(meta: &std::fs::Metadata, what: &str) -> std::io::Result<()> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let euid = unsafe { libc::geteuid() };
    if meta.uid() != 0 && meta.uid() != euid {
        return Err(invalid(format!(
            "{what} is owned by uid {}, not by root: a node policy or configuration must be kept by root",
            meta.uid()
        )));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(invalid(format!(
            "{what} is writable by its group or others (mode {:o}): a node policy or configuration must be kept by root",
            meta.mode() & 0o7777
        )));
    }
    Ok(())
}

/// Reads a node file (the policy, the configuration) from the descriptor that was checked; a FIFO does
/// not block the open (O_NONBLOCK) and is refused by the fstat.
pub(super) fn read_kept_by_root(path: &Path) -> std::io::Result<String> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(invalid("not a regular file".into()));
    }
    kept_by_root(&meta, "the file")?;
    // Whoever can write the directory can replace the file: check the one the path names.
    let dir = std::fs::canonicalize(path)?
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("/"));
    kept_by_root(
        &std::fs::metadata(&dir)?,
        &format!("its directory {}", dir.display()),
    )?;
    if meta.len() > MAX_POLICY_BYTES {
        return Err(invalid(format!(
            "larger than {} KiB",
            MAX_POLICY_BYTES >> 10
        )));
    }
    let mut text = String::new();
    file.take(MAX_POLICY_BYTES + 1).read_to_string(&mut text)?;
    if text.len() as u64 > MAX_POLICY_BYTES {
        return Err(invalid(format!(
            "larger than {} KiB",
            MAX_POLICY_BYTES >> 10
        )));
    }
    Ok(text)
}

/// Bind sources judged once more as the host resolves them: the classifiers
/// read paths as text, and a host symlink (`/srv/x -> /etc/pve`, made by any
/// user who can write /srv) would pass under its own name. Only the node can
/// answer this, so it is asked here, not in the pure translator. What the
/// symlink points to may still change before Proxmox or crun mounts it; this
/// closes the standing link, not the race (see docs/security.md).
fn resolved_binds(input: &ConfigInput) -> Vec<Diagnostic> {
    let mut ignored = Vec::new();
    let (_, spec) = translator::spec::parse(&input.name, &input.bytes, &mut ignored);
    let Some(spec) = spec else { return Vec::new() };
    let mut out = Vec::new();
    for m in spec
        .cursor()
        .get("mounts")
        .map(|m| m.items())
        .unwrap_or_default()
    {
        let fstype = m.get("type").and_then(|t| t.str()).unwrap_or_default();
        let options: Vec<String> = m
            .get("options")
            .map(|o| o.strings().into_iter().map(|s| s.value).collect())
            .unwrap_or_default();
        let Some(source_at) = m.get("source") else {
            continue;
        };
        let Some(source) = source_at.str().filter(|s| s.starts_with('/')) else {
            continue;
        };
        if !translator::host::is_bind(fstype, &options)
            || translator::host::bind_source(source).is_some()
        {
            continue;
        }
        let Ok(real) = std::fs::canonicalize(source) else {
            continue;
        };
        let Some(real) = real.to_str() else { continue };
        if let Some(f) = translator::host::bind_source(real) {
            let message = format!(
                "the host path `{}` resolves to `{}` on this node: {}",
                source.escape_debug(),
                real.escape_debug(),
                f.message
            );
            out.push(
                Diagnostic::new(f.rule, message)
                    .at(source_at.ptr(), source_at.span())
                    .with_label("symlink on the host"),
            );
        }
    }
    out
}

/// One refusing finding: code, severity, pointer, file:line:column, message, and why.
fn refusal_line(
    d: &Diagnostic,
    input: &ConfigInput,
    source: &translator::Source,
    why: &str,
) -> String {
    let at = d
        .pointer
        .as_ref()
        .map(|p| format!(" at {p}"))
        .unwrap_or_default();
    let place = if d.span.is_defined() {
        let (line, column) = source.line_col(d.span.start);
        format!("{}:{line}:{column}", input.name)
    } else {
        input.name.clone()
    };
    format!(
        "{} [{}]{at} ({place}): {} ({why})",
        d.severity.as_str(),
        d.code(),
        d.message
    )
}

/// A container's own places on the host, for [`enforce_create`]: its bundle directory and,
/// below each of the engine's storage directories (`--rootfs-under`), the directory named by
/// its id or by the id of another container this runtime runs (`known`: a pod's infra
/// container, whose `hosts` and `resolv.conf` podman binds into every container sharing its
/// network namespace).
pub struct Own<'a> {
    pub bundle: &'a executor::bundle::Bundle,
    pub id: &'a str,
    pub storage: &'a [PathBuf],
    pub known: &'a dyn Fn(&str) -> bool,
}

/// An absolute path with only normal components, judged by its text (`components()` would
/// hide a `.` in the middle): the only shape compared by prefix with a checked directory.
pub fn plain_absolute(p: &Path) -> bool {
    use std::path::Component;
    p.is_absolute()
        && p.components()
            .all(|c| matches!(c, Component::RootDir | Component::Normal(_)))
        && p.as_os_str().to_str().is_some_and(|t| {
            t.get(1..)
                .unwrap_or_default()
                .split('/')
                .all(|seg| !matches!(seg, "" | "." | ".."))
        })
}

/// Why the bind source `source` is the container's own file, if it is: below its bundle, or
/// in `<storage>/<kind>/<id>/…` (podman keeps each container's `hosts`, `resolv.conf`,
/// `hostname`, `.containerenv` in `<runroot>/<driver>-containers/<id>/userdata/`, next to, not
/// in, the bundle `<graphroot>/<driver>-containers/<id>/userdata`), where `<id>` is this
/// container's or one with a record in this runtime's state directory. The path is then reached
/// from the checked descriptor with no symlink and no `..` (so a source that only *looks*
/// inside, through a link or `..`, stays judged), and must be a directory or a regular file
/// with one link ([`executor::bundle::own_entry`]).
fn own_place(own: &Own, source: &str) -> Option<String> {
    use executor::bundle::{own_entry_below, OwnEntry};
    let path = Path::new(source);
    if !plain_absolute(path) {
        return None;
    }
    let what = |e: OwnEntry| match e {
        OwnEntry::Directory => "directory",
        OwnEntry::File => "file",
    };
    // A directory that may never be a rootfs (`/`, `/etc`, `/var/lib`, …) is never a
    // container's own place either: a bundle there would make the host's files "its own".
    let may_own = |dir: &Path| executor::bundle::system_dir(dir).is_none();
    if let Some(rel) = path
        .strip_prefix(own.bundle.path())
        .ok()
        .filter(|_| may_own(own.bundle.path()))
    {
        return match own.bundle.own_entry(rel.to_str()?) {
            Ok(Some(e)) => Some(format!("the bundle's own {}", what(e))),
            _ => None,
        };
    }
    own.storage.iter().find_map(|dir| {
        if !plain_absolute(dir) || !may_own(dir) {
            return None;
        }
        let rel = path.strip_prefix(dir).ok()?;
        let mut parts = rel.iter();
        let (_kind, id) = (parts.next()?, parts.next()?.to_str()?);
        let whose = if id == own.id {
            "this container's own directory".to_string()
        } else if (own.known)(id) {
            format!("the directory of container {id}, which this runtime runs")
        } else {
            return None;
        };
        match own_entry_below(dir, rel.to_str()?, own.bundle.resolver()) {
            Ok(Some(e)) => Some(format!(
                "a {} of {whose} in the engine's storage {}",
                what(e),
                dir.display()
            )),
            _ => None,
        }
    })
}

/// The findings about a bind source that is the container's own file (see [`own_place`]):
/// dropped from `findings`, each logged with the reason.
fn drop_own_binds(findings: &mut Vec<Diagnostic>, input: &ConfigInput, own: &Own, log: &Log) {
    let Ok(raw) = serde_json::from_slice::<serde_json::Value>(&input.bytes) else {
        return;
    };
    let mut decided: std::collections::HashMap<String, Option<String>> = Default::default();
    findings.retain(|d| {
        let Some(ptr) = d.pointer.as_ref().map(|p| p.as_str().to_owned()) else {
            return true;
        };
        let Some(mount) = ptr
            .strip_prefix("/mounts/")
            .and_then(|r| r.strip_suffix("/source"))
            .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|n| raw.pointer(&format!("/mounts/{n}")))
        else {
            return true;
        };
        if !d.code().starts_with("security/") {
            return true;
        }
        let fstype = mount.get("type").and_then(|t| t.as_str()).unwrap_or("");
        let options: Vec<String> = mount
            .get("options")
            .and_then(|o| o.as_array())
            .map(|o| {
                o.iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let Some(source) = mount.get("source").and_then(|s| s.as_str()) else {
            return true;
        };
        if !translator::host::is_bind(fstype, &options) {
            return true;
        }
        let why = decided
            .entry(ptr.clone())
            .or_insert_with(|| own_place(own, source));
        match why {
            Some(why) => {
                log.info(&format!(
                    "{} at {ptr}: the bind source {} is {why}; not judged by the node policy",
                    d.code(),
                    source.escape_debug()
                ));
                false
            }
            None => true,
        }
    });
}

/// Runs the lint rules over the bundle's config for the target and refuses
/// (exit 1) what the policy refuses on the back end. The bundle's allow
/// annotation is ignored: it documents allows for `lint`, never for the node.
pub fn enforce(
    node: &NodePolicy,
    input: &ConfigInput,
    target: &Target,
    backend: Backend,
    log: &Log,
) -> Result<(), Failure> {
    enforce_within(node, input, target, backend, log, None, None)
}

/// [`enforce`] for a create, which knows the container's own places: a bind of the
/// container's own file is not the host's (see [`own_place`]). On the crun back end the
/// `pve/*` findings are left out: they say what Proxmox would lose or refuse, and the crun back
/// end runs the bundle's own spec, not the Proxmox translation (docs/runtime.md).
pub fn enforce_create(
    node: &NodePolicy,
    input: &ConfigInput,
    target: &Target,
    backend: Backend,
    log: &Log,
    own: Option<&Own>,
) -> Result<(), Failure> {
    enforce_within(node, input, target, backend, log, None, own)
}

/// [`enforce`] for the findings at `/process` and below only: an `exec`'s process, judged in
/// the container's config with its process replaced, exactly as `create` judged the bundle's
/// process. The rest of the config was judged when the container was created (and crun's
/// copy of it differs from the bundle's in `root.path`, which would be judged again here).
pub fn enforce_process(
    node: &NodePolicy,
    input: &ConfigInput,
    target: &Target,
    backend: Backend,
    log: &Log,
) -> Result<(), Failure> {
    enforce_within(node, input, target, backend, log, Some("/process"), None)
}

/// The policy's `[exec]` rules (uid 0, resource limits) for the process `exec` would start:
/// each reason to stderr and `--log`, and exit 1 when there is one. `prepared.config` is the
/// container's recorded config with the exec's process, already checked
/// (`engine_verbs::check_process`), so its fields have their OCI types.
pub fn enforce_exec(
    node: &NodePolicy,
    id: &str,
    prepared: &executor::runtime::engine_verbs::PreparedExec,
    log: &Log,
) -> Result<(), Failure> {
    use translator::policy::{ExecProcess, Rlimit};
    let config: serde_json::Value =
        serde_json::from_slice(&prepared.config).unwrap_or(serde_json::Value::Null);
    let rlimits = |process: &serde_json::Value| -> Vec<Rlimit> {
        process
            .get("rlimits")
            .and_then(|r| r.as_array())
            .into_iter()
            .flatten()
            .map(|r| Rlimit {
                kind: r
                    .get("type")
                    .and_then(|t| t.as_str())
                    .unwrap_or("")
                    .to_owned(),
                soft: r.get("soft").and_then(|v| v.as_u64()).unwrap_or(u64::MAX),
                hard: r.get("hard").and_then(|v| v.as_u64()).unwrap_or(u64::MAX),
            })
            .collect()
    };
    let process = config.get("process").unwrap_or(&serde_json::Value::Null);
    let judged = ExecProcess {
        // A process without a uid was refused by check_process; u32::MAX is never 0.
        uid: process
            .pointer("/user/uid")
            .and_then(|u| u.as_u64())
            .and_then(|u| u32::try_from(u).ok())
            .unwrap_or(u32::MAX),
        user_namespace: prepared.user_namespace,
        rlimits: rlimits(process),
        container_rlimits: rlimits(&prepared.container_process),
    };
    let why = node.policy.exec_refusals(&judged);
    if why.is_empty() {
        return Ok(());
    }
    for w in &why {
        let line = format!("refused: exec in {id}: {w} ({})", node.origin);
        eprintln!("proxmox-lxcri: {line}");
        log.write(Level::Error, &line);
    }
    Err(Failure {
        code: super::EXIT_REFUSED,
        message: format!(
            "exec in {id} is refused by {}: {} reason(s), listed above",
            node.origin,
            why.len()
        ),
        hint: Some("the node's policy file decides (`proxmox-lxcri schema policy`, key `exec`); `--allow` does not change it".into()),
    })
}

/// The findings under `scope` (a JSON pointer) when one is given; the container's own binds
/// (`own`) left out.
fn enforce_within(
    node: &NodePolicy,
    input: &ConfigInput,
    target: &Target,
    backend: Backend,
    log: &Log,
    scope: Option<&str>,
    own: Option<&Own>,
) -> Result<(), Failure> {
    // Never a project config or a run's selection: the node judges every rule.
    let config = LintConfig::for_policy(target.clone());
    let report = translator::lint(&input.name, &input.bytes, &config);
    let mut findings = report.findings.clone();
    findings.extend(resolved_binds(input));
    if let Some(scope) = scope {
        findings.retain(|d| {
            d.pointer.as_ref().is_some_and(|p| {
                let p = p.as_str();
                p == scope || p.strip_prefix(scope).is_some_and(|r| r.starts_with('/'))
            })
        });
    }
    if backend == Backend::Crun {
        findings.retain(|d| !d.code().starts_with("pve/"));
    }
    if let Some(own) = own {
        drop_own_binds(&mut findings, input, own, log);
    }
    let refused = node.policy.refusals(&findings, backend);
    if refused.is_empty() {
        return Ok(());
    }
    for d in &refused {
        let why = node.policy.decide(d.code(), d.severity, backend).explain();
        let line = format!("refused: {}", refusal_line(d, input, &report.source, &why));
        eprintln!("proxmox-lxcri: {line}");
        log.write(Level::Error, &line);
    }
    // What the bundle asked for, so its author sees why the annotation did not help.
    let with_annotation = LintConfig {
        ignore_annotation_allows: false,
        ..config
    };
    let asked = translator::lint(&input.name, &input.bytes, &with_annotation)
        .suppressed
        .iter()
        .filter(|s| s.by == SuppressedBy::Annotation)
        .filter(|s| {
            refused
                .iter()
                .any(|d| d.code() == s.diagnostic.code() && d.pointer == s.diagnostic.pointer)
        })
        .count();
    let mut hint = "allow a code for one run with --allow CODE, or for the node in /etc/proxmox-lxcri/policy.toml (its format: `proxmox-lxcri schema policy`)".to_string();
    if asked > 0 {
        hint.push_str(&format!(
            "; the bundle's `{}` annotation allows {asked} of these findings, but annotations never lower the node's policy",
            translator::lint::suppress::ALLOW_ANNOTATION
        ));
    }
    Err(Failure {
        code: super::EXIT_REFUSED,
        message: format!(
            "{} is refused by {} for the {} back end: {} finding(s), listed above",
            input.name,
            node.origin,
            backend.as_str(),
            refused.len()
        ),
        hint: Some(hint),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_places_are_the_bundle_and_the_engines_directory_of_a_known_container() {
        let bundle_dir = tempfile::tempdir().unwrap();
        std::fs::write(bundle_dir.path().join("hosts"), "b").unwrap();
        let storage = tempfile::tempdir().unwrap();
        for id in ["me", "infra", "stranger"] {
            let d = storage
                .path()
                .join("vfs-containers")
                .join(id)
                .join("userdata");
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join("hosts"), id).unwrap();
        }
        let bundle = executor::bundle::Bundle::open(bundle_dir.path()).unwrap();
        let known = |id: &str| id == "infra";
        let dirs = [storage.path().to_path_buf()];
        let own = Own {
            bundle: &bundle,
            id: "me",
            storage: &dirs,
            known: &known,
        };
        let b = bundle.path().display().to_string();
        let s = std::fs::canonicalize(storage.path()).unwrap();
        let s = s.display();
        for yes in [
            format!("{b}/hosts"),
            format!("{s}/vfs-containers/me/userdata/hosts"),
            format!("{s}/vfs-containers/infra/userdata/hosts"),
        ] {
            assert!(own_place(&own, &yes).is_some(), "{yes}");
        }
        for no in [
            format!("{s}/vfs-containers/stranger/userdata/hosts"),
            // The id must be the second component: `<kind>/<id>`.
            format!("{s}/me/vfs-containers/x"),
            format!("{s}/vfs-containers/me/../stranger/userdata/hosts"),
            format!("{s}/./vfs-containers/me/userdata/hosts"),
            format!("{b}/missing"),
            format!("{b}/../x"),
            "/etc/passwd".to_string(),
        ] {
            assert!(own_place(&own, &no).is_none(), "{no}");
        }
        // Without --rootfs-under, the engine's directories are nobody's own.
        let none = Own {
            storage: &[],
            ..own
        };
        assert!(own_place(&none, &format!("{s}/vfs-containers/me/userdata/hosts")).is_none());
    }
}
