//! Writes `/etc/pve/lxc/<vmid>.conf` exactly as Proxmox's `write_pct_config`
//! would, so Proxmox's first rewrite of the file changes nothing:
//! description comments, normal keys sorted byte-wise, the
//! `lxc.environment.runtime` lines, then the raw keys.

use super::pve::PveConfig;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WriteError {
    /// A guard against translator bugs: lowering validates every value first.
    #[error("internal error: the value of `{key}` cannot be written to a config line ({why})")]
    BadValue { key: String, why: &'static str },
    #[error("internal error: `{0}` is not a raw key Proxmox keeps")]
    NotAllowed(String),
}

pub fn write(conf: &PveConfig) -> Result<String, WriteError> {
    let mut out = String::new();
    if let Some(desc) = &conf.description {
        for line in desc.split('\n') {
            out.push('#');
            out.push_str(&encode_text(line));
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
    }
    for e in &conf.env {
        check(&e.key, &e.value)?;
        out.push_str(&format!("lxc.environment.runtime: {}\n", e.value));
    }
    for e in &conf.raw {
        if !super::allow_list::is_allowed(&e.key) {
            return Err(WriteError::NotAllowed(e.key.clone()));
        }
        check(&e.key, &e.value)?;
        out.push_str(&format!("{}: {}\n", e.key, e.value));
    }
    Ok(out)
}

fn check(key: &str, value: &str) -> Result<(), WriteError> {
    let bad = |why| Err(WriteError::BadValue { key: key.to_string(), why });
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

/// PVE::Tools::encode_text: `uri_escape(utf8, "^\x20-\x39\x3b-\x7e")`, i.e.
/// percent-encode control and non-ASCII bytes and `:`. `%` itself is left
/// alone (Proxmox's reader then decodes a literal `%3A`: lowering reports that).
pub fn encode_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if (0x20..=0x7e).contains(&b) && b != b':' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_like_proxmox() {
        assert_eq!(encode_text("a: b%c"), "a%3A b%c");
        assert_eq!(encode_text("é"), "%C3%A9");
    }
}
