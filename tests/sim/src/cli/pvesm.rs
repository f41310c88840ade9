//! `pvesm`: `path`, `list` and `status` are simulated.

use super::{fail, finish, flag, parse_args};
use crate::error::SimResult;
use crate::getopt::CommandSpec;
use crate::schema::{simple, Format, ObjectSchema, Property, Type};
use crate::state::Sim;
use crate::storage::Storages;

const SIMULATED: [&str; 3] = ["list", "path", "status"];
const NOT_SIMULATED: [&str; 17] = [
    "add",
    "set",
    "remove",
    "alloc",
    "free",
    "scan",
    "nfsscan",
    "cifsscan",
    "iscsiscan",
    "lvmscan",
    "lvmthinscan",
    "zfsscan",
    "extractconfig",
    "export",
    "import",
    "apiinfo",
    "prune-backups",
];

/// Entry point.
pub fn main(args: Vec<String>) -> i32 {
    let Some((cmd, rest)) = args.split_first() else {
        eprintln!("ERROR: no command specified\nUSAGE: pvesm <COMMAND> [ARGS] [OPTIONS]");
        return 255;
    };
    if NOT_SIMULATED.contains(&cmd.as_str()) {
        eprintln!("pve-sim: 'pvesm {cmd}' is not simulated");
        return 255;
    }
    if !SIMULATED.contains(&cmd.as_str()) {
        eprintln!("ERROR: unknown command 'pvesm {cmd}'\nUSAGE: pvesm <COMMAND> [ARGS] [OPTIONS]");
        return 255;
    }
    let sim = match Sim::from_env() {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    match cmd.as_str() {
        "path" => path(&sim, rest),
        "list" => list(&sim, rest),
        _ => status(&sim, rest),
    }
}

fn named(format: &str, optional: bool) -> Property {
    let mut p = simple(Type::String, optional);
    p.format = Some(Format::Named(format.into()));
    p
}

fn vmid_prop(sim: &Sim) -> Property {
    let mut p = sim
        .schemas
        .status_current
        .get("vmid")
        .cloned()
        .unwrap_or_else(|| simple(Type::Integer, true));
    p.optional = true;
    p
}

/// `pvesm path <volume>`.
fn path(sim: &Sim, args: &[String]) -> i32 {
    let schema = ObjectSchema::default().with(vec![("volume", named("pve-volume-id", false))]);
    let spec = CommandSpec {
        prefix: "pvesm path",
        arg_params: &["volume"],
        ..Default::default()
    };
    let params = match parse_args(&schema, args, &spec) {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    let res = (|| -> SimResult<String> {
        let storages = Storages::load(sim)?;
        let volume = params.get("volume").map_or("", String::as_str);
        Ok(format!("{}\n", storages.path(sim, volume)?.display()))
    })();
    finish(res, &schema, &spec)
}

/// `pvesm list <storage> [--content <type>] [--vmid <id>]`.
fn list(sim: &Sim, args: &[String]) -> i32 {
    let fixed = [("node", sim.node.clone())];
    let schema = ObjectSchema::default().with(vec![
        ("node", named("pve-node", false)),
        ("storage", named("pve-storage-id", false)),
        ("content", named("pve-storage-content", true)),
        ("vmid", vmid_prop(sim)),
    ]);
    let spec = CommandSpec {
        prefix: "pvesm list",
        arg_params: &["storage"],
        fixed: &fixed,
        ..Default::default()
    };
    let params = match parse_args(&schema, args, &spec) {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    let res = (|| -> SimResult<String> {
        let storages = Storages::load(sim)?;
        let storage = params.get("storage").map_or("", String::as_str);
        let vmid = params.get("vmid").and_then(|v| v.parse::<u64>().ok());
        let vols = storages.list(
            sim,
            storage,
            vmid,
            params.get("content").map(String::as_str),
        )?;
        let name_w = vols.iter().map(|v| v.volid.len()).max().unwrap_or(0);
        let max_size = vols.iter().filter_map(|v| v.size).max().unwrap_or(0);
        let size_w = max_size.to_string().len();
        let row = |volid: &str, format: &str, content: &str, size: &str| {
            format!("{volid:<name_w$} {format:<7} {content:<9} {size:>size_w$}")
        };
        let mut out = format!("{} VMID\n", row("Volid", "Format", "Type", "Size"));
        let size_str = |s: Option<u64>| s.map_or_else(|| "-".to_string(), |n| n.to_string());
        for v in vols.iter().filter(|v| v.vmid.is_some_and(|id| id != 0)) {
            out.push_str(&format!(
                "{} {}\n",
                row(&v.volid, &v.format, &v.content, &size_str(v.size)),
                v.vmid.unwrap_or(0)
            ));
        }
        let mut rest: Vec<_> = vols
            .iter()
            .filter(|v| v.vmid.is_none_or(|id| id == 0))
            .collect();
        rest.sort_by(|a, b| a.format.cmp(&b.format));
        for v in rest {
            out.push_str(&format!(
                "{}\n",
                row(&v.volid, &v.format, &v.content, &size_str(v.size))
            ));
        }
        Ok(out)
    })();
    finish(res, &schema, &spec)
}

/// `pvesm status [--storage <id>] [--content <type>] [--enabled]`.
fn status(sim: &Sim, args: &[String]) -> i32 {
    let fixed = [("node", sim.node.clone())];
    let schema = ObjectSchema::default().with(vec![
        ("node", named("pve-node", false)),
        ("storage", named("pve-storage-id", true)),
        ("content", named("pve-storage-content-list", true)),
        ("enabled", simple(Type::Boolean, true)),
    ]);
    let spec = CommandSpec {
        prefix: "pvesm status",
        fixed: &fixed,
        ..Default::default()
    };
    let params = match parse_args(&schema, args, &spec) {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    let res = (|| -> SimResult<String> {
        let storages = Storages::load(sim)?;
        let only = params.get("storage");
        if let Some(id) = only {
            storages.config(id)?;
        }
        let content: Vec<String> = params
            .get("content")
            .map(|c| crate::formats::split_list(c))
            .unwrap_or_default();
        let mut rows = Vec::new();
        for (id, s) in &storages.ids {
            if only.is_some_and(|o| o != id) {
                continue;
            }
            if !content.is_empty() && !content.iter().any(|c| s.content.contains(c)) {
                continue;
            }
            if s.nodes.as_ref().is_some_and(|n| !n.contains(&sim.node)) {
                continue;
            }
            let enabled = !s.disable;
            if flag(&params, "enabled") && !enabled {
                continue;
            }
            let usage = if enabled {
                storages.usage(sim, s)
            } else {
                None
            };
            rows.push((id.clone(), s.kind.name(), enabled, usage));
        }
        let w = rows.iter().map(|r| r.0.len()).max().unwrap_or(0) + 1;
        let mut out = format!(
            "{:<w$} {:>10} {:>10} {:>15} {:>15} {:>15} {:>8}\n",
            "Name", "Type", "Status", "Total (KiB)", "Used (KiB)", "Available (KiB)", "%"
        );
        for (id, kind, enabled, usage) in rows {
            let (total, used, avail) = usage.unwrap_or((0, 0, 0));
            let status = if !enabled {
                "disabled"
            } else if usage.is_some() {
                "active"
            } else {
                "inactive"
            };
            let pct = if !enabled {
                format!("{:>8}", "N/A")
            } else {
                let p = if total > 0 {
                    used as f64 * 100.0 / total as f64
                } else {
                    0.0
                };
                format!("{p:>7.2}%")
            };
            out.push_str(&format!(
                "{id:<w$} {kind:>10} {status:>10} {:>15} {:>15} {:>15} {pct}\n",
                total / 1024,
                used / 1024,
                avail / 1024
            ));
        }
        Ok(out)
    })();
    finish(res, &schema, &spec)
}
