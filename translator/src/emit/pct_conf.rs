//! Writes `/etc/pve/lxc/<vmid>.conf` exactly as Proxmox's `write_pct_config`
//! would, so Proxmox's first rewrite of the file changes nothing:
//! description comments, normal keys sorted byte-wise, the
//! `lxc.environment.runtime` lines, then the raw keys.

use super::pve::PveConfig;
use crate::ir::PercentInDescription;

/// Why the container config cannot be written.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WriteError {
    /// A guard against translator bugs: lowering validates every value first.
    #[error("internal error: the value of `{key}` cannot be written to a config line ({why})")]
    BadValue {
        /// The key whose value it is.
        key: String,
        /// What is wrong with the value.
        why: &'static str,
    },
    /// A raw key outside Proxmox's allow-list.
    #[error("internal error: `{0}` is not a raw key Proxmox keeps")]
    NotAllowed(String),
    /// Larger than pmxcfs keeps ([`MAX_BYTES`]).
    #[error("the container config would be larger than {MAX_BYTES} bytes, the most Proxmox's cluster file system (pmxcfs) keeps in one file")]
    TooLarge,
}

/// pmxcfs refuses to write a file larger than this (`MEMDB_MAX_FILE_SIZE`,
/// 1 MiB, in pve-cluster's memdb.h), so `pct create` or the raw-key append
/// would fail half-way; refuse before anything runs.
pub const MAX_BYTES: usize = 1024 * 1024;

/// The finding for a config [`write`] refuses as [`WriteError::TooLarge`]: `convert` reports
/// it with this code, and `lint` (which writes the config to know) reports it too. It is about
/// the whole document (its root pointer and span), since every variable and mount adds to it.
pub fn too_large_diagnostic(spec: Option<&crate::spec::Spec>) -> crate::Diagnostic {
    let d = crate::Diagnostic::new(
        &crate::rules::pve::CONFIG_TOO_LARGE,
        format!("the container config would be larger than {MAX_BYTES} bytes (1 MiB), the most Proxmox's cluster file system (pmxcfs) keeps in one file"),
    )
    .with_help("keep large data in files of the image or a bind mount instead of environment variables, mounts or annotations");
    match spec {
        Some(spec) => {
            let root = spec.cursor();
            d.at(root.ptr(), root.span()).with_label("this config")
        }
        None => d,
    }
}

/// Whether the container config for this IR is larger than pmxcfs keeps.
pub fn is_too_large(ir: &crate::ir::Container) -> bool {
    write(&super::pve::ir_to_pve(ir)) == Err(WriteError::TooLarge)
}

/// Stops as soon as the text outgrows pmxcfs, so a huge input cannot make a
/// huge output either.
fn fits(out: &str) -> Result<(), WriteError> {
    if out.len() > MAX_BYTES {
        return Err(WriteError::TooLarge);
    }
    Ok(())
}

/// Writes the config text Proxmox's `write_pct_config` would write for this form.
pub fn write(conf: &PveConfig) -> Result<String, WriteError> {
    if conf.oversized {
        return Err(WriteError::TooLarge);
    }
    let mut out = String::new();
    if let Some(desc) = &conf.description {
        for line in desc.split('\n') {
            out.push('#');
            out.push_str(&encode_text(line, conf.description_percent));
            out.push('\n');
        }
        // Proxmox's split drops trailing empty lines; match it.
        while out.ends_with("#\n") {
            out.truncate(out.len() - 2);
        }
    }
    for e in &conf.keys {
        check(&e.key, &e.value)?;
        out.push_str(&format!("{}: {}\n", e.key, e.value));
        fits(&out)?;
    }
    for e in &conf.env {
        check(&e.key, &e.value)?;
        out.push_str(&format!("lxc.environment.runtime: {}\n", e.value));
        fits(&out)?;
    }
    for e in &conf.raw {
        if !super::allow_list::is_allowed(&e.key) {
            return Err(WriteError::NotAllowed(e.key.clone()));
        }
        // Raw keys may be empty (`lxc.cap.drop:` clears a list); Proxmox
        // writes those as `key: ` with the space, and so do we.
        if !e.value.is_empty() {
            check(&e.key, &e.value)?;
        }
        out.push_str(&format!("{}: {}\n", e.key, e.value));
        fits(&out)?;
    }
    Ok(out)
}

fn check(key: &str, value: &str) -> Result<(), WriteError> {
    let bad = |why| {
        Err(WriteError::BadValue {
            key: key.to_string(),
            why,
        })
    };
    if value.is_empty() {
        return bad("empty");
    }
    if crate::ir::types::unsafe_char(value).is_some() {
        return bad("control or bidi character");
    }
    if value.trim() != value {
        return bad("surrounding white space would be trimmed");
    }
    Ok(())
}

/// pve-common's `encode_text` (`PVE::ParseUtils::encode_text`; `PVE::Tools` before):
/// `uri_escape(utf8, "^\x20-\x24\x26-\x39\x3b-\x7e")` since 8.2.2 (commit 06f436f), i.e.
/// percent-encode control and non-ASCII bytes, `:` and `%`; before 8.2.2 the set lacked `%`.
///
/// For a node that may have the older pve-common, `%` is still written `%25` where it starts
/// a `%XX` (so the text reads back right; lowering warns that the node's own rewrite will
/// not keep it) and left as it is elsewhere (so that rewrite changes nothing).
/// The `pct create --description` text that Proxmox stores as the lines [`encode_text`]
/// writes. A node with pve-common 8.2.2 or later escapes everything itself; an older one
/// writes `%` as is and reads any `%XX` back as a byte, so a `%` that starts one is handed
/// over already written `%25` (the node keeps it, and reads back the bundle's text).
pub(crate) fn description_argument(s: &str, percent: PercentInDescription) -> String {
    match percent {
        PercentInDescription::Escaped => s.to_string(),
        PercentInDescription::Unescaped => {
            let b = s.as_bytes();
            let mut out = String::with_capacity(s.len());
            for (i, c) in s.char_indices() {
                if c == '%'
                    && b.get(i + 1..i + 3)
                        .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit))
                {
                    out.push_str("%25");
                } else {
                    out.push(c);
                }
            }
            out
        }
    }
}

pub(crate) fn encode_text(s: &str, percent: PercentInDescription) -> String {
    let mut out = String::with_capacity(s.len());
    let b = s.as_bytes();
    for (i, &c) in b.iter().enumerate() {
        let escape = match c {
            b'%' => match percent {
                PercentInDescription::Escaped => true,
                PercentInDescription::Unescaped => b
                    .get(i + 1..i + 3)
                    .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)),
            },
            b':' => true,
            _ => !(0x20..=0x7e).contains(&c),
        };
        if escape {
            out.push_str(&format!("%{c:02X}"));
        } else {
            out.push(c as char);
        }
    }
    out
}

/// PVE::Tools::decode_text, the inverse Proxmox applies when it reads a description line:
/// `uri_unescape` (`%XX` → the byte; anything else stays) plus UTF-8 decoding.
pub fn decode_text(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'%' {
            let hex = b
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok());
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_pmxcfs_cannot_store() {
        use super::super::pve::Entry;
        let entry = |i: usize| Entry {
            key: "lxc.environment.runtime".into(),
            value: format!("V{i}={}", "x".repeat(1000)),
            from: Vec::new(),
        };
        let mut conf = PveConfig {
            env: (0..1000).map(entry).collect(),
            ..PveConfig::default()
        };
        assert!(write(&conf).is_ok_and(|t| t.len() < MAX_BYTES));
        conf.env.extend((1000..1100).map(entry));
        assert_eq!(write(&conf), Err(WriteError::TooLarge));
    }

    #[test]
    fn empty_raw_values_are_written_as_proxmox_does() {
        let conf = PveConfig {
            raw: vec![super::super::pve::Entry {
                key: "lxc.cap.drop".into(),
                value: String::new(),
                from: Vec::new(),
            }],
            ..PveConfig::default()
        };
        assert_eq!(write(&conf), Ok("lxc.cap.drop: \n".to_string()));
    }

    #[test]
    fn decode_text_inverts_encode_text_and_reads_literal_escapes() {
        for s in [
            "plain",
            "a:b",
            "ünï\tcode",
            "100%",
            "%zz",
            "%4",
            "%41",
            "50%2F%",
        ] {
            for percent in [
                PercentInDescription::Escaped,
                PercentInDescription::Unescaped,
            ] {
                assert_eq!(decode_text(&encode_text(s, percent)), s, "{percent:?}");
            }
        }
        // Proxmox's reader decodes escapes it never wrote: the identity check relies on this.
        assert_eq!(decode_text("org%2Eproxmox"), "org.proxmox");
    }

    #[test]
    fn encodes_like_proxmox() {
        assert_eq!(
            encode_text("a: b%c", PercentInDescription::Escaped),
            "a%3A b%25c"
        );
        assert_eq!(
            description_argument("5% %20 ü%2", PercentInDescription::Unescaped),
            "5% %2520 ü%2"
        );
        assert_eq!(
            description_argument("5% %20", PercentInDescription::Escaped),
            "5% %20"
        );
        assert_eq!(
            encode_text("a: b%c %20", PercentInDescription::Unescaped),
            "a%3A b%c %2520"
        );
        assert_eq!(encode_text("é", PercentInDescription::Escaped), "%C3%A9");
    }
}
