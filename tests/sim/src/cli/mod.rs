//! The command-line front ends: `pct`, `pvesh`, `pvesm`.

pub mod pct;
mod pct_create;
pub mod pvesh;
pub mod pvesm;
pub mod pveversion;

use std::collections::BTreeMap;

use crate::error::{SimError, SimResult};
use crate::getopt::{self, CommandSpec};
use crate::schema::ObjectSchema;
use crate::validate::validate_params;

/// Parses and validates a command's arguments (`get_options` + `validate`).
pub fn parse_args(
    schema: &ObjectSchema,
    args: &[String],
    spec: &CommandSpec<'_>,
) -> SimResult<BTreeMap<String, String>> {
    let params = getopt::get_options(schema, args, spec)?;
    if let Err(mut e) = validate_params(&params, schema) {
        e.usage = Some(getopt::usage(schema, spec));
        return Err(SimError::Pve(e));
    }
    Ok(params)
}

/// Prints an error the way the CLI does and returns the exit status (Perl `exit(-1)`).
pub fn fail(err: SimError) -> i32 {
    eprint!("{}", err.render());
    255
}

/// Like [`fail`], attaching the usage line to parameter exceptions (the CLI handler does that
/// for every 400 raised before a worker starts).
pub fn fail_with_usage(err: SimError, schema: &ObjectSchema, spec: &CommandSpec<'_>) -> i32 {
    match err {
        SimError::Pve(mut e) if e.is_param_exc() && e.usage.is_none() => {
            e.usage = Some(getopt::usage(schema, spec));
            fail(SimError::Pve(e))
        }
        other => fail(other),
    }
}

/// The `vmid` parameter value (validated as `pve-vmid` already).
pub fn vmid_of(params: &BTreeMap<String, String>) -> SimResult<String> {
    let raw = params
        .get("vmid")
        .ok_or_else(|| SimError::die("missing vmid\n"))?;
    let n: u64 = raw
        .trim_end_matches('\n')
        .parse()
        .map_err(|_| SimError::die("invalid vmid\n"))?;
    Ok(n.to_string())
}

/// Parses a command whose positional parameter is `vmid`; returns the parameters and the VMID.
pub fn parse_vmid_args(
    schema: &ObjectSchema,
    args: &[String],
    spec: &CommandSpec<'_>,
) -> SimResult<(BTreeMap<String, String>, String)> {
    let params = parse_args(schema, args, spec)?;
    let vmid = vmid_of(&params)?;
    Ok((params, vmid))
}

/// Prints a command's output, or its error with the usage line for parameter errors.
pub fn finish(res: SimResult<String>, schema: &ObjectSchema, spec: &CommandSpec<'_>) -> i32 {
    match res {
        Ok(out) => {
            crate::task::print(&out);
            0
        }
        Err(e) => fail_with_usage(e, schema, spec),
    }
}

/// Whether a boolean parameter is set to 1.
pub fn flag(params: &BTreeMap<String, String>, key: &str) -> bool {
    params.get(key).is_some_and(|v| v == "1")
}
