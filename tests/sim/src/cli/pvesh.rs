//! `pvesh`: `get /cluster/nextid`, and the container calls proxmox-lxcri makes for a CT on any
//! node: `get /nodes/{node}/lxc/{vmid}/status/current`, `create
//! /nodes/{node}/lxc/{vmid}/status/{start,shutdown,stop}` and `delete /nodes/{node}/lxc/{vmid}`
//! (pve-container `src/PVE/API2/LXC/Status.pm` `vm_status`, `vm_start`, `vm_shutdown`,
//! `vm_stop`, and `src/PVE/API2/LXC.pm` `destroy_vm`, @ 94f55852), with the parameters and
//! refusals of the matching `pct` command, which calls the same API methods. For another node
//! pvesh proxies the call (pve-manager `PVE/CLI/pvesh.pm` `check_proxyto`/`proxy_handler`
//! @ 14a22df3: `pvesh --noproxy <cmd> <path> --output-format json` over SSH there); the
//! simulator runs it as that node, and a failure ends as the proxy's does: the remote error,
//! then `proxy handler failed: …`.

use std::collections::BTreeMap;

use super::{fail, parse_args};
use crate::error::{PveException, SimError, SimResult};
use crate::getopt::CommandSpec;
use crate::schema::{simple, Property, Type};
use crate::state::Sim;
use crate::task;

/// Entry point: `pvesh [--noproxy] [--nooutput] <get|set|create|delete|ls|usage> <path> [OPTIONS]`.
pub fn main(mut args: Vec<String>) -> i32 {
    let mut nooutput = false;
    while let Some(first) = args.first() {
        match first.as_str() {
            "--noproxy" => {
                args.remove(0);
            }
            "--nooutput" => {
                nooutput = true;
                args.remove(0);
            }
            _ => break,
        }
    }
    let Some((cmd, rest)) = args.split_first() else {
        eprintln!("ERROR: no command specified\nUSAGE: pvesh <COMMAND> [ARGS] [OPTIONS]");
        return 255;
    };
    let path = rest.first().map(|p| p.trim_matches('/').to_string());
    if let Some(p) = path.as_deref() {
        if let Some(code) = ct_call(cmd, p, &rest[1..]) {
            return code;
        }
    }
    match (cmd.as_str(), path.as_deref()) {
        ("get", Some("cluster/nextid")) => nextid(rest, nooutput),
        ("get" | "set" | "create" | "delete" | "ls" | "usage", Some(p)) => {
            eprintln!("pve-sim: 'pvesh {cmd} /{p}' is not simulated");
            255
        }
        ("get" | "set" | "create" | "delete" | "ls" | "usage", None) => {
            eprintln!(
                "400 not enough arguments\npvesh {cmd} <api_path> [OPTIONS] [FORMAT_OPTIONS]"
            );
            255
        }
        _ => {
            eprintln!(
                "ERROR: unknown command 'pvesh {cmd}'\nUSAGE: pvesh <COMMAND> [ARGS] [OPTIONS]"
            );
            255
        }
    }
}

/// A container call on `/nodes/{node}/lxc/{vmid}[/status/…]`; `None` for other paths.
fn ct_call(cmd: &str, path: &str, opts: &[String]) -> Option<i32> {
    let parts: Vec<&str> = path.split('/').collect();
    let (node, vmid, rest) = match parts.as_slice() {
        ["nodes", node, "lxc", vmid, rest @ ..] => (*node, *vmid, rest),
        _ => return None,
    };
    let call = match (cmd, rest) {
        ("get", ["status", "current"]) => "status",
        ("create", ["status", "start"]) => "start",
        ("create", ["status", "shutdown"]) => "shutdown",
        ("create", ["status", "stop"]) => "stop",
        ("delete", []) => "destroy",
        _ => return None,
    };
    let sim = match Sim::from_env() {
        Ok(s) => s,
        Err(e) => return Some(fail(e)),
    };
    let there = match sim.on_node(node) {
        Ok(s) => s,
        Err(e) => return Some(fail(e)),
    };
    let remote = there.node != sim.node;
    // The format options belong to pvesh, not to the API method.
    let mut args = vec![vmid.to_string()];
    let mut format = "text".to_string();
    let mut it = opts.iter();
    while let Some(o) = it.next() {
        if o == "--output-format" {
            match it.next() {
                Some(f) if ["text", "json", "json-pretty", "yaml"].contains(&f.as_str()) => {
                    format = f.clone()
                }
                _ => {
                    eprintln!("400 Parameter verification failed.\noutput-format: value '{}' does not have a value in the enumeration 'text, json, json-pretty, yaml'", it.as_slice().first().map(String::as_str).unwrap_or(""));
                    return Some(255);
                }
            }
        } else {
            args.push(o.clone());
        }
    }
    let fixed = [("node", there.node.clone())];
    let code = match call {
        "status" => status_current(&there, &args, &format),
        "start" => super::pct::start(&there, &args, &fixed),
        "shutdown" => super::pct::shutdown(&there, &args, &fixed),
        "stop" => super::pct::stop(&there, &args, &fixed),
        _ => super::pct::destroy(&there, &args, &fixed),
    };
    if code != 0 && remote {
        eprintln!(
            "proxy handler failed: command 'pvesh --noproxy {cmd} /{path} --output-format json' failed: exit code {code}"
        );
    }
    Some(code)
}

/// `vm_status`: the CT's `vmstatus` as the API returns it (numbers as JSON numbers).
fn status_current(sim: &Sim, args: &[String], format: &str) -> i32 {
    if args.len() != 1 {
        eprintln!("400 too many arguments\npvesh get <api_path> [OPTIONS] [FORMAT_OPTIONS]");
        return 255;
    }
    let vmid = &args[0];
    let res = (|| -> SimResult<BTreeMap<String, String>> {
        let conf = sim.load_config(vmid)?;
        super::pct::vmstatus(sim, vmid, &conf)
    })();
    match res {
        Ok(stat) => {
            let obj: serde_json::Map<String, serde_json::Value> = stat
                .into_iter()
                .map(|(k, v)| {
                    let value = match v.parse::<i64>() {
                        Ok(n) if k != "name" => serde_json::Value::from(n),
                        _ => serde_json::Value::String(v),
                    };
                    (k, value)
                })
                .collect();
            let out = match format {
                "json" => serde_json::to_string(&obj).unwrap_or_default(),
                _ => serde_json::to_string_pretty(&obj).unwrap_or_default(),
            };
            task::print(&format!("{out}\n"));
            0
        }
        Err(e) => fail(e),
    }
}

fn output_format() -> Property {
    let mut p = simple(Type::String, true);
    p.enumeration = Some(vec![
        "text".into(),
        "json".into(),
        "json-pretty".into(),
        "yaml".into(),
    ]);
    p
}

fn nextid(args: &[String], nooutput: bool) -> i32 {
    let sim = match Sim::from_env() {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let schema = sim.schemas.nextid.with(vec![
        ("api_path", simple(Type::String, false)),
        ("noproxy", simple(Type::Boolean, true)),
        ("output-format", output_format()),
        ("noheader", simple(Type::Boolean, true)),
        ("noborder", simple(Type::Boolean, true)),
        ("quiet", simple(Type::Boolean, true)),
        ("human-readable", simple(Type::Boolean, true)),
    ]);
    let spec = CommandSpec {
        prefix: "pvesh get",
        arg_params: &["api_path"],
        format_options: true,
        ..Default::default()
    };
    let params = match parse_args(&schema, args, &spec) {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    match compute(&sim, &params) {
        Ok(value) => {
            if nooutput || params.get("quiet").is_some_and(|q| q == "1") {
                return 0;
            }
            let format = params.get("output-format").map_or("text", String::as_str);
            task::print(&render(&value, format));
            0
        }
        Err(SimError::Pve(mut e)) if e.is_param_exc() => {
            e.usage = Some(crate::getopt::usage(&schema, &spec));
            fail(SimError::Pve(e))
        }
        Err(e) => fail(e),
    }
}

/// The result: a number, or the `--vmid` string echoed back (Perl keeps it a string, so JSON
/// output quotes it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NextId {
    Number(u64),
    Echo(String),
}

fn compute(sim: &Sim, params: &BTreeMap<String, String>) -> SimResult<NextId> {
    let list = sim.vmlist()?;
    if let Some(vmid) = params.get("vmid") {
        let id: u64 = vmid
            .trim_end_matches('\n')
            .parse()
            .map_err(|_| SimError::die("invalid vmid\n"))?;
        if !list.contains_key(&id) {
            return Ok(NextId::Echo(vmid.clone()));
        }
        return Err(PveException::param1("vmid", format!("VM {vmid} already exists")).into());
    }
    let (lower, upper) = next_id_range(sim);
    (lower..upper)
        .find(|i| !list.contains_key(i))
        .map(NextId::Number)
        .ok_or_else(|| {
            SimError::die(format!(
                "unable to get any free VMID in range [{lower}, {upper}]\n"
            ))
        })
}

/// datacenter.cfg `next-id: lower=..,upper=..`, default [100, 1000000).
fn next_id_range(sim: &Sim) -> (u64, u64) {
    let mut lower = 100;
    let mut upper = 1_000_000;
    if let Some(v) = sim.datacenter_option("next-id") {
        for part in v.split(',') {
            match part.split_once('=') {
                Some(("lower", n)) => lower = n.trim().parse().unwrap_or(lower),
                Some(("upper", n)) => upper = n.trim().parse().unwrap_or(upper),
                _ => {}
            }
        }
    }
    (lower, upper)
}

/// `print_api_result` for an integer result.
pub fn render(value: &NextId, format: &str) -> String {
    match (value, format) {
        (NextId::Number(n), "yaml") => format!("--- {n}\n"),
        (NextId::Echo(s), "yaml") => format!("--- '{s}'\n"),
        (NextId::Number(n), _) => format!("{n}\n"),
        (NextId::Echo(s), "json" | "json-pretty") => {
            format!("{}\n", serde_json::Value::String(s.clone()))
        }
        (NextId::Echo(s), _) => format!("{s}\n"),
    }
}
