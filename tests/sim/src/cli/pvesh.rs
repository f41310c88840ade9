//! `pvesh`: only `pvesh get /cluster/nextid` is simulated.

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
