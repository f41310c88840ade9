//! `schema <NAME>`: the JSON Schemas the help and the docs refer to, compiled into the binary,
//! so an installed proxmox-lxcri can say what its files look like without the source tree.

use super::{Failure, EXIT_OK};

/// The target file's schema (generated from `translator::Target`; a translator test keeps the
/// file current).
const TARGET_SCHEMA: &str = include_str!("../../schemas/target.schema.json");
/// The node policy's schema (the TOML file read as JSON data; a test checks it accepts the
/// example policy and refuses what `Policy::from_toml` refuses).
pub const POLICY_SCHEMA: &str = include_str!("../../schemas/policy.schema.json");

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Which schema: plan, target, policy, runtime-spec (the newest) or runtime-spec-1.0 … -1.3; without one, the list
    #[arg(value_name = "NAME")]
    pub name: Option<String>,
}

/// Every schema by name, with one line on what it describes.
fn schemas() -> Vec<(String, String, &'static str)> {
    let mut out = vec![
        (
            "plan".to_string(),
            "a plan from `convert --to plan`, as `apply` checks it".to_string(),
            executor::apply::validate::PLAN_SCHEMA,
        ),
        (
            "target".to_string(),
            "a target file (--target, PROXMOX_LXCRI_TARGET, /etc/proxmox-lxcri/target.json)"
                .to_string(),
            TARGET_SCHEMA,
        ),
        (
            "policy".to_string(),
            "the node policy (/etc/proxmox-lxcri/policy.toml, read as TOML)".to_string(),
            POLICY_SCHEMA,
        ),
    ];
    let specs: Vec<_> = translator::lint::runtime_spec_schemas().collect();
    if let Some((release, text)) = specs.last() {
        out.push((
            "runtime-spec".to_string(),
            format!("an OCI config.json, runtime-spec {release} (the newest lint knows)"),
            text,
        ));
    }
    for (release, text) in specs {
        let minor = release.rsplit_once('.').map_or(release, |(mm, _)| mm);
        out.push((
            format!("runtime-spec-{minor}"),
            format!("an OCI config.json declaring ociVersion {minor}.x (runtime-spec {release})"),
            text,
        ));
    }
    out
}

pub fn run(args: &Args) -> u8 {
    let all = schemas();
    match &args.name {
        None => {
            let width = all.iter().map(|(n, _, _)| n.len()).max().unwrap_or(0);
            for (name, what, _) in &all {
                println!("{name:<width$}  {what}");
            }
            EXIT_OK
        }
        Some(name) => match all.iter().find(|(n, _, _)| n == name) {
            Some((_, _, text)) => {
                print!("{text}");
                if !text.ends_with('\n') {
                    println!();
                }
                EXIT_OK
            }
            None => {
                let names: Vec<&str> = all.iter().map(|(n, _, _)| n.as_str()).collect();
                Failure::usage(format!(
                    "no schema named `{name}` (one of {})",
                    names.join(", ")
                ))
                .report(None)
            }
        },
    }
}
