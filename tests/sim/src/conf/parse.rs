//! Reading a pct.conf, line by line, in the order Config.pm tries its patterns.

use std::sync::OnceLock;

use regex::Regex;
use sha1::{Digest, Sha1};

use super::rawkeys::{classify, RawKeyVerdict};
use super::text::decode_text;
use super::typecheck::check_type;
use super::{Parsed, PctConf, Section};
use crate::error::{SimError, SimResult};
use crate::formats::is_perl_space;
use crate::schema::Schemas;

/// Perl's `\s` and `\S` on byte strings.
const S: &str = r"[\t\n\x0B\x0C\r ]";
const NS: &str = r"[^\t\n\x0B\x0C\r ]";

struct LineRes {
    pending: Regex,
    snapshot: Regex,
    raw: Regex,
    description: Regex,
    snapstate: Regex,
    delete: Regex,
    normal: Regex,
}

fn line_res() -> SimResult<&'static LineRes> {
    static CELL: OnceLock<Option<LineRes>> = OnceLock::new();
    CELL.get_or_init(|| {
        Some(LineRes {
            pending: Regex::new(&format!(r"(?i)^\[pve:pending\]{S}*\z")).ok()?,
            snapshot: Regex::new(&format!(r"(?i)^\[([a-z][a-z0-9_\-]+)\]{S}*\z")).ok()?,
            raw: Regex::new(&format!(r"^(lxc\.[a-z0-9_\-.]+)(?::|{S}*=){S}*(.*?){S}*\z")).ok()?,
            description: Regex::new(&format!(r"^description:{S}*(.*{NS}){S}*\z")).ok()?,
            snapstate: Regex::new(&format!(r"snapstate:{S}*(prepare|delete){S}*\z")).ok()?,
            delete: Regex::new(&format!(r"^delete:{S}*(.*{NS}){S}*\z")).ok()?,
            normal: Regex::new(&format!(r"^([a-z][a-z_]*\d*):{S}*(.+?){S}*\z")).ok()?,
        })
    })
    .as_ref()
    .ok_or_else(|| SimError::Schema("pct.conf line patterns do not compile".into()))
}

enum Target {
    Main,
    Pending,
    Snapshot(String),
}

/// `parse_pct_config`: in normal mode problems are warnings (the line or value is dropped or
/// kept as described in Config.pm); in strict mode the first problem is an error.
pub fn parse_pct_config(
    schemas: &Schemas,
    vmid: &str,
    raw: &[u8],
    strict: bool,
) -> SimResult<Parsed> {
    let res = line_res()?;
    let text = String::from_utf8_lossy(raw);
    let mut conf = PctConf {
        digest: hex_sha1(raw),
        ..PctConf::default()
    };
    let mut warnings: Vec<String> = Vec::new();
    let handle_error = |warnings: &mut Vec<String>, msg: String| -> SimResult<()> {
        if strict {
            Err(SimError::die(msg))
        } else {
            warnings.push(msg);
            Ok(())
        }
    };

    let mut target = Target::Main;
    let mut current = Section::default();
    let mut descr = String::new();

    let mut lines: Vec<&str> = text.split('\n').collect();
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }

    for line in lines {
        if line.chars().all(is_perl_space) {
            continue;
        }
        let header = if res.pending.is_match(line) {
            Some(Target::Pending)
        } else {
            res.snapshot
                .captures(line)
                .and_then(|c| c.get(1))
                .map(|m| Target::Snapshot(m.as_str().to_string()))
        };
        if let Some(next) = header {
            if !descr.is_empty() {
                current.description = Some(std::mem::take(&mut descr));
            }
            store(&mut conf, target, std::mem::take(&mut current));
            target = next;
            continue;
        }

        if let Some(rest) = line.strip_prefix('#') {
            descr.push_str(&decode_text(rest));
            descr.push('\n');
            continue;
        }

        if let Some(c) = res.raw.captures(line) {
            let key = c.get(1).map_or("", |m| m.as_str());
            let value = c.get(2).map_or("", |m| m.as_str());
            let verdict = classify(&schemas.raw_keys, vmid, key);
            if key == "lxc.environment.runtime" {
                match &mut current.env {
                    None => current.env = Some(value.to_string()),
                    Some(env) => {
                        env.push('\0');
                        env.push_str(value);
                    }
                }
                continue;
            }
            match verdict {
                RawKeyVerdict::Accepted => current.lxc.push((key.to_string(), value.to_string())),
                RawKeyVerdict::Warned(w) => {
                    // Proxmox warns and keeps the entry.
                    warnings.push(w);
                    current.lxc.push((key.to_string(), value.to_string()));
                }
                RawKeyVerdict::Refused(msg) => {
                    handle_error(&mut warnings, format!("vm {vmid} - {key}: {msg}\n"))?
                }
                RawKeyVerdict::Unknown => handle_error(
                    &mut warnings,
                    format!("vm {vmid} - unable to parse config: {line}\n"),
                )?,
            }
        } else if let Some(c) = res.description.captures(line) {
            descr.push_str(&decode_text(c.get(1).map_or("", |m| m.as_str())));
        } else if let Some(c) = res.snapstate.captures(line) {
            let state = c.get(1).map_or("", |m| m.as_str());
            current.keys.insert("snapstate".into(), state.to_string());
        } else if let Some(c) = res.delete.captures(line) {
            let value = c.get(1).map_or("", |m| m.as_str());
            if matches!(target, Target::Pending) {
                current.keys.insert("delete".into(), value.to_string());
            } else {
                handle_error(
                    &mut warnings,
                    format!("vm {vmid} - property 'delete' is only allowed in [pve:pending]\n"),
                )?;
            }
        } else if let Some(c) = res.normal.captures(line) {
            let key = c.get(1).map_or("", |m| m.as_str());
            let raw_value = c.get(2).map_or("", |m| m.as_str());
            let value = match check_type(&schemas.confdesc, key, raw_value) {
                Ok(v) => v,
                Err(e) => {
                    handle_error(
                        &mut warnings,
                        format!("vm {vmid} - unable to parse value of '{key}' - {e}"),
                    )?;
                    raw_value.to_string()
                }
            };
            current.keys.insert(key.to_string(), value);
        } else {
            handle_error(
                &mut warnings,
                format!("vm {vmid} - unable to parse config: {line}\n"),
            )?;
        }
    }
    if !descr.is_empty() {
        current.description = Some(descr);
    }
    store(&mut conf, target, current);
    conf.main.keys.remove("snapstate");
    Ok(Parsed { conf, warnings })
}

fn store(conf: &mut PctConf, target: Target, section: Section) {
    match target {
        Target::Main => conf.main = section,
        Target::Pending => conf.pending = section,
        Target::Snapshot(name) => {
            conf.snapshots.insert(name, section);
        }
    }
}

fn hex_sha1(raw: &[u8]) -> String {
    let digest = Sha1::digest(raw);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}
