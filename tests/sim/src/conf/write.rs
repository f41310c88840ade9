//! Writing a pct.conf in Proxmox's canonical form.

use super::text::encode_text;
use super::{PctConf, Section};
use crate::error::{SimError, SimResult};
use crate::mountpoint;
use crate::schema::Schemas;

const SKIPPED: [&str; 7] = [
    "digest",
    "description",
    "pending",
    "snapshots",
    "snapname",
    "env",
    "lxc",
];

/// `write_pct_config`. Also drops `unusedN` entries whose volume is still in use, as Proxmox does.
pub fn write_pct_config(schemas: &Schemas, conf: &mut PctConf) -> SimResult<String> {
    conf.main.keys.remove("snapstate");
    drop_used_unused(schemas, &mut conf.main);

    let mut raw = generate(&conf.main)?;
    if !conf.pending.is_empty() {
        raw.push_str("\n[pve:pending]\n");
        raw.push_str(&generate(&conf.pending)?);
    }
    for (name, snap) in &conf.snapshots {
        raw.push_str(&format!("\n[{name}]\n"));
        raw.push_str(&generate(snap)?);
    }
    Ok(raw)
}

fn drop_used_unused(schemas: &Schemas, section: &mut Section) {
    let used = mountpoint::volumes_in_use(schemas, section);
    section
        .keys
        .retain(|k, v| !(k.starts_with("unused") && used.iter().any(|u| u == v)));
}

fn generate(section: &Section) -> SimResult<String> {
    let mut raw = String::new();
    if let Some(descr) = &section.description {
        let mut lines: Vec<&str> = descr.split('\n').collect();
        while lines.last().is_some_and(|l| l.is_empty()) {
            lines.pop();
        }
        for line in lines {
            raw.push('#');
            raw.push_str(&encode_text(line));
            raw.push('\n');
        }
    }
    for (key, value) in &section.keys {
        if SKIPPED.contains(&key.as_str()) {
            continue;
        }
        if value.contains('\n') {
            return Err(SimError::die(format!(
                "detected invalid newline inside property '{key}'\n"
            )));
        }
        raw.push_str(&format!("{key}: {value}\n"));
    }
    if let Some(env) = &section.env {
        if !env.is_empty() {
            let mut vars: Vec<&str> = env.split('\0').collect();
            // `split(/\0+/)`: runs of NULs separate, trailing empty fields are dropped, a
            // leading empty field is kept.
            let leading_empty = vars.first().is_some_and(|v| v.is_empty());
            vars.retain(|v| !v.is_empty());
            if leading_empty {
                raw.push_str("lxc.environment.runtime: \n");
            }
            for var in vars {
                raw.push_str(&format!("lxc.environment.runtime: {var}\n"));
            }
        }
    }
    for (key, value) in &section.lxc {
        if key == "lxc.environment.runtime" {
            continue;
        }
        raw.push_str(&format!("{key}: {value}\n"));
    }
    Ok(raw)
}
