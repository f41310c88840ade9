//! Host name, annotations → `description`/`tags`, and the root file system.

use super::Cx;
use crate::diag::{Diagnostic, Severity};
use crate::ir::mounts::RootSource;
use crate::ir::{Container, Hostname, PercentInDescription, Tag};
use crate::rules::{pve, spec};
use crate::source::{JsonPointer, Traced};
use crate::spec::Cursor;
use crate::target::{PveContainerVersion, RootfsTarget};

/// Annotation holding Proxmox tags, split on `,`, `;` or white space.
pub(crate) const TAGS_ANNOTATION: &str = "org.proxmox-lxcri.tags";
/// Proxmox's `description` limit (`maxLength` 8192 in `$confdesc`, Config.pm).
const DESCRIPTION_MAX: usize = 8192;

/// The description line the executor stamps every container it creates with
/// (`org.proxmox-lxcri.identity=<id>;<token>`): the executor checks it before
/// any verb acts on the VMID. The translator never writes it; an annotation
/// whose key starts with it is refused, so a bundle cannot forge the line.
pub const IDENTITY_KEY: &str = "org.proxmox-lxcri.identity";

/// Room kept in the description for the executor's identity line: the key,
/// `=`, a container id of at most 250 bytes, `;`, a 32-digit token and the
/// line break that joins it to the annotations.
pub(crate) const IDENTITY_RESERVE: usize = IDENTITY_KEY.len() + 1 + 250 + 1 + 32 + 1;

/// The field-table entries (`spec::fields`, marked `Lower`) this module
/// reads; `lower::consumers::every_lowered_field_has_a_module` holds the table to it.
pub(super) const CONSUMES: &[&str] = &[
    "/root",
    "/root/path",
    "/root/readonly",
    "/hostname",
    "/domainname",
    "/annotations",
];

pub(crate) fn lower(root: &Cursor<'_>, cx: &mut Cx<'_>, ir: &mut Container) {
    hostname(root, cx, ir);
    if let Some(d) = root.get("domainname") {
        cx.unsupported(ir, &d, "LXC sets only the host name (`lxc.uts.name`); set the domain in the container's /etc/hosts or resolv.conf");
    }
    annotations(root, cx, ir);
    rootfs(root, cx, ir);
}

fn hostname(root: &Cursor<'_>, cx: &mut Cx<'_>, ir: &mut Container) {
    let Some(at) = root.get("hostname") else {
        return;
    };
    let Some(name) = at.str() else { return };
    match Hostname::new(name) {
        Ok(h) => ir.hostname = Some(at.traced(h)),
        Err(e) => {
            cx.at(
                &pve::INVALID_HOSTNAME,
                &at,
                format!(
                    "`{}` cannot be a Proxmox host name: {e}",
                    name.escape_debug()
                ),
            )
            .with_label("not a DNS name");
        }
    }
}

fn annotations(root: &Cursor<'_>, cx: &mut Cx<'_>, ir: &mut Container) {
    let Some(at) = root.get("annotations") else {
        return;
    };
    let escapes_percent = cx.pve_at_least(PveContainerVersion::DESCRIPTION_PERCENT);
    ir.description_percent = if escapes_percent {
        PercentInDescription::Escaped
    } else {
        PercentInDescription::Unescaped
    };
    let mut lines = Vec::new();
    for (key, key_span, value) in at.entries() {
        let Some(text) = value.str() else { continue };
        ir.annotations.push((
            Traced::new(key.to_string(), value.ptr().clone(), key_span),
            value.traced(text.to_string()),
        ));
        if key == TAGS_ANNOTATION {
            for word in text.split([',', ';', ' ']).filter(|w| !w.is_empty()) {
                match Tag::new(word) {
                    Some(tag) if !ir.tags.iter().any(|t| t.value == tag) => {
                        ir.tags.push(value.traced(tag))
                    }
                    Some(_) => {}
                    None => {
                        cx.at(
                            &pve::INVALID_VALUE,
                            &value,
                            format!(
                                "`{}` is not a Proxmox tag ([a-z0-9_][a-z0-9_-+.]*)",
                                word.escape_debug()
                            ),
                        )
                        .with_label("invalid tag");
                    }
                }
            }
        }
        // Control and bidi characters would survive Proxmox's encoding only
        // as %XX, and reach `pct create --description` (and a reviewer's
        // view of the plan script) as they are: such an entry is left out.
        if let Some(c) = crate::ir::types::unsafe_char(&key.replace('\n', ""))
            .or_else(|| crate::ir::types::unsafe_char(&text.replace('\n', "")))
        {
            cx.at(&pve::INVALID_VALUE, &value, format!("the annotation holds {}, a control or bidi character; it is left out of the Proxmox description", c.escape_unicode()))
                .with_severity(Severity::Warning)
                .with_label("not in the description");
            continue;
        }
        if reserved_key(key) {
            cx.at(
                &pve::INVALID_VALUE,
                &value,
                format!("the annotation `{}` uses the reserved prefix `{IDENTITY_KEY}`: that description line is the executor's identity stamp and cannot come from a bundle", key.escape_debug()),
            )
            .with_label("reserved annotation")
            .with_help(format!("rename the annotation; keys starting with `{IDENTITY_KEY}` are written only by proxmox-lxcri itself"));
            continue;
        }
        // A line break inside a value would start a new description line.
        let flat_key = key.replace('\n', "\\n");
        let flat_value = text.replace('\n', "\\n");
        if flat_key != key || flat_value != text {
            cx.lossy(
                &value,
                "a line break in an annotation is written as `\\n` in the Proxmox description",
            );
        }
        let line = format!("{flat_key}={flat_value}");
        if !escapes_percent && has_percent_escape(&line) {
            cx.lossy(
                &value,
                format!(
                    "pve-common before 8.2.2 (pve-container {} targets may have it) writes `%` unescaped but decodes `%XX` when it reads the description: `pct create --description` and Proxmox's next rewrite of the config make this annotation read differently",
                    cx.target.pve_container
                ),
            );
        }
        lines.push(line);
    }
    if lines.is_empty() {
        return;
    }
    let description = lines.join("\n");
    // The executor adds its identity line to the same description.
    let max = DESCRIPTION_MAX - IDENTITY_RESERVE;
    if description.chars().count() > max {
        cx.at(&pve::OUT_OF_RANGE, &at, format!("the annotations make a description of {} characters; Proxmox allows {DESCRIPTION_MAX}, of which proxmox-lxcri keeps {IDENTITY_RESERVE} for its identity line", description.chars().count()))
            .with_label("too long for `description`");
        return;
    }
    ir.description = Some(at.traced(description));
}

fn rootfs(root: &Cursor<'_>, cx: &mut Cx<'_>, ir: &mut Container) {
    let Some(at) = root.get("root") else {
        cx.report(
            Diagnostic::new(
                &spec::MISSING_FIELD,
                "the config has no `root`; a Linux container needs a root file system",
            )
            .at(&JsonPointer::root(), root.span()),
        );
        return;
    };
    ir.rootfs.readonly = at.get("readonly").and_then(|r| r.bool()).unwrap_or(false);
    let Some(path_at) = at.get("path") else {
        return;
    };
    let Some(path) = path_at.str() else { return };
    if path.is_empty()
        || path.contains(['\n', '\r', '\0', ',', '='])
        || path.chars().any(char::is_control)
        || crate::ir::types::unsafe_char(path).is_some()
    {
        cx.at(
            &pve::INVALID_PATH,
            &path_at,
            "the root path is empty or holds characters Proxmox cannot store",
        )
        .with_label("invalid root path");
        return;
    }
    let relative = !path.starts_with('/');
    if relative && escapes(path) {
        cx.at(
            &pve::INVALID_PATH,
            &path_at,
            "the root path leaves the bundle directory through `..`",
        )
        .with_label("escapes the bundle");
        return;
    }
    // No container has the host's own root as its root file system: packing it copies the
    // node (its keys and /etc/pve included) into a template, and a host-path rootfs of `/`
    // would hand the node's root to the container. Refused here, for every back end, before
    // the node's policy is even asked (`security/host-rootfs` covers the other host paths).
    if !relative && crate::path::normalize(path).as_deref() == Some("/") {
        cx.at(
            &pve::INVALID_PATH,
            &path_at,
            "the root file system cannot be the host's `/`",
        )
        .with_label("the host's root directory");
        return;
    }
    if !relative {
        cx.at(&pve::LOSSY, &path_at, "the root file system is outside the bundle; it is packed (or used) from that host path")
            .with_severity(Severity::Info)
            .with_label("absolute root path");
    }
    ir.rootfs.bundle_path = path_at.traced_str();
    ir.rootfs.source = match &cx.target.rootfs {
        RootfsTarget::Volume { storage, size_gib } => RootSource::Volume {
            storage: storage.clone(),
            size_gib: *size_gib,
        },
        RootfsTarget::HostPath => {
            let full = if relative {
                match &cx.target.bundle_dir {
                    Some(dir) => format!(
                        "{}/{}",
                        dir.trim_end_matches('/'),
                        path.trim_start_matches("./")
                    ),
                    None => {
                        cx.at(&pve::INVALID_PATH, &path_at, "a host-path rootfs needs the bundle's absolute directory (`bundle-dir` in the target)")
                            .with_label("relative to an unknown directory");
                        return;
                    }
                }
            } else {
                path.to_string()
            };
            match crate::ir::types::check_abs_path(&full, &[',', '=', ';']) {
                Ok(p) => {
                    if ir.ids.unprivileged {
                        cx.at(&pve::LOSSY, &path_at, "an unprivileged container sees this directory through Proxmox's id map: its files must be owned by host ids 100000 and up")
                            .with_severity(Severity::Info)
                            .with_label("used in place");
                    }
                    RootSource::HostPath(p)
                }
                Err(e) => {
                    cx.at(
                        &pve::INVALID_PATH,
                        &path_at,
                        format!("the root path `{full}` cannot be a Proxmox rootfs: {e}"),
                    );
                    return;
                }
            }
        }
    };
}

/// Whether an annotation key would read back, in the description Proxmox
/// decodes, as the identity line (or a look-alike of it): the comparison is on
/// the `%XX`-decoded key (pve-common's `decode_text`, and Proxmox before
/// pve-common 06f436f wrote `%` unescaped), without surrounding white space
/// and ignoring ASCII case.
fn reserved_key(key: &str) -> bool {
    let decoded = crate::emit::pct_conf::decode_text(key);
    let trimmed = decoded.trim();
    trimmed
        .get(..IDENTITY_KEY.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(IDENTITY_KEY))
}

/// Whether the text holds a `%XX` that pve-common's `decode_text` (`uri_unescape`) turns into
/// one byte on read.
fn has_percent_escape(s: &str) -> bool {
    let b = s.as_bytes();
    b.windows(3)
        .any(|w| w.first() == Some(&b'%') && w.iter().skip(1).all(u8::is_ascii_hexdigit))
}

/// Whether a relative path climbs above its starting directory.
fn escapes(path: &str) -> bool {
    crate::path::lexical(path).escapes()
}

#[cfg(test)]
mod tests {
    use crate::lower::{check, pve_conf};
    use crate::target::{RootfsTarget, Target};

    #[test]
    fn hostname_rules() {
        let (ir, codes) = check(
            r#"{"ociVersion": "1.2.0", "root": {"path": "rootfs"}, "hostname": "web-1"}"#,
            &Target::default(),
        );
        assert_eq!(
            ir.hostname.map(|h| h.value.to_string()),
            Some("web-1".into())
        );
        assert!(codes.is_empty());
        let (_, codes) = check(
            r#"{"ociVersion": "1.2.0", "root": {"path": "rootfs"}, "hostname": "web_1"}"#,
            &Target::default(),
        );
        assert_eq!(codes, vec!["pve/invalid-hostname /hostname"]);
    }

    #[test]
    fn annotations_become_description_and_tags() {
        let json = r#"{"ociVersion": "1.2.0", "root": {"path": "rootfs"}, "annotations": {"org.proxmox-lxcri.tags": "Web, prod;web", "a": "b: 100%"}}"#;
        let conf = pve_conf(json, &Target::default());
        assert!(
            conf.starts_with("#org.proxmox-lxcri.tags=Web, prod;web\n#a=b%3A 100%25\n"),
            "{conf}"
        );
        assert!(conf.contains("\ntags: prod;web\n"), "{conf}");
    }

    #[test]
    fn control_and_bidi_characters_keep_an_annotation_out_of_the_description() {
        let json = r#"{"ociVersion": "1.2.0", "root": {"path": "rootfs"}, "annotations": {"iso\u2066late": "x", "a": "b\rc", "ok": "line\nbreak"}}"#;
        let (_, codes) = check(json, &Target::default());
        assert_eq!(
            codes,
            vec![
                "pve/invalid-value /annotations/iso\u{2066}late",
                "pve/invalid-value /annotations/a",
                "pve/lossy /annotations/ok"
            ]
        );
        let conf = pve_conf(json, &Target::default());
        assert!(conf.starts_with("#ok=line\\nbreak\n"), "{conf}");
    }

    #[test]
    fn the_identity_line_cannot_be_forged_by_an_annotation() {
        for key in [
            "org.proxmox-lxcri.identity",
            "org.proxmox-lxcri.identity.x",
            "ORG.Proxmox-LXCRI.Identity",
            " org.proxmox-lxcri.identity",
            "org.proxmox-lxcri%2Eidentity",
            "org%2eproxmox-lxcri.identity",
        ] {
            let json = format!(
                r#"{{"ociVersion": "1.2.0", "root": {{"path": "rootfs"}}, "annotations": {{"{key}": "web;00000000000000000000000000000000", "ok": "1"}}}}"#
            );
            let (_, codes) = check(&json, &Target::default());
            assert_eq!(
                codes,
                vec![format!(
                    "pve/invalid-value /annotations/{}",
                    key.replace('~', "~0").replace('/', "~1")
                )],
                "{key}"
            );
            let conf = pve_conf(&json, &Target::default());
            assert!(
                conf.starts_with("#ok=1\n") && !conf.to_ascii_lowercase().contains("identity"),
                "{key}: {conf}"
            );
        }
        let (_, codes) = check(
            r#"{"ociVersion": "1.2.0", "root": {"path": "rootfs"}, "annotations": {"org.proxmox-lxcri.identit": "x", "my.org.proxmox-lxcri.identity": "y"}}"#,
            &Target::default(),
        );
        assert!(codes.is_empty(), "{codes:?}");
    }

    #[test]
    fn the_description_keeps_room_for_the_identity_line() {
        let fits = "x".repeat(8192 - super::IDENTITY_RESERVE - 2);
        let json = format!(
            r#"{{"ociVersion": "1.2.0", "root": {{"path": "rootfs"}}, "annotations": {{"a": "{fits}"}}}}"#
        );
        assert!(check(&json, &Target::default()).1.is_empty());
        let json = format!(
            r#"{{"ociVersion": "1.2.0", "root": {{"path": "rootfs"}}, "annotations": {{"a": "{fits}x"}}}}"#
        );
        assert_eq!(
            check(&json, &Target::default()).1,
            vec!["pve/out-of-range /annotations"]
        );
    }

    #[test]
    fn invalid_tags_are_refused() {
        let (_, codes) = check(
            r#"{"ociVersion": "1.2.0", "root": {"path": "rootfs"}, "annotations": {"org.proxmox-lxcri.tags": "ok,-bad"}}"#,
            &Target::default(),
        );
        assert_eq!(
            codes,
            vec!["pve/invalid-value /annotations/org.proxmox-lxcri.tags"]
        );
    }

    #[test]
    fn rootfs_volume_and_readonly() {
        let conf = pve_conf(
            r#"{"ociVersion": "1.2.0", "root": {"path": "rootfs", "readonly": true}}"#,
            &Target::default(),
        );
        assert!(conf.contains("\nrootfs: local-lvm:8,ro=1\n"), "{conf}");
    }

    #[test]
    fn rootfs_host_path_needs_bundle_dir() {
        let mut target = Target {
            rootfs: RootfsTarget::HostPath,
            ..Target::default()
        };
        let (_, codes) = check(
            r#"{"ociVersion": "1.2.0", "root": {"path": "rootfs"}}"#,
            &target,
        );
        assert_eq!(codes, vec!["pve/invalid-path /root/path"]);
        target.bundle_dir = Some("/srv/bundles/web".into());
        let conf = pve_conf(
            r#"{"ociVersion": "1.2.0", "root": {"path": "./rootfs"}}"#,
            &target,
        );
        assert!(
            conf.contains("\nrootfs: /srv/bundles/web/rootfs\n"),
            "{conf}"
        );
    }

    #[test]
    fn root_path_escaping_the_bundle_is_refused() {
        let (_, codes) = check(
            r#"{"ociVersion": "1.2.0", "root": {"path": "a/../../etc"}}"#,
            &Target::default(),
        );
        assert_eq!(codes, vec!["pve/invalid-path /root/path"]);
    }

    #[test]
    fn missing_root_is_an_error() {
        let (_, codes) = check(r#"{"ociVersion": "1.2.0"}"#, &Target::default());
        assert_eq!(codes, vec!["spec/missing-field "]);
    }

    #[test]
    fn the_hosts_root_is_never_a_root_file_system() {
        for path in ["/", "//", "/./", "/etc/..", "/../"] {
            let json = format!(r#"{{"ociVersion": "1.2.0", "root": {{"path": "{path}"}}}}"#);
            let (_, codes) = check(&json, &Target::default());
            assert_eq!(codes, vec!["pve/invalid-path /root/path"], "{path}");
        }
    }
}
