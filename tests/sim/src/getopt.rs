//! Command-line parsing as pve-common's `get_options` does it (Getopt::Long underneath).
//!
//! Every schema property becomes an option: booleans take an optional value (`name:s`), `-list`
//! formats and arrays may repeat (`name=s@`, joined with `,`), everything else takes one
//! mandatory value (`name=s`, the last one wins when repeated). Options may come before, between
//! or after the positional arguments; `--` ends option parsing.
//!
//! Stricter than Getopt::Long on purpose: abbreviated (`--mem`) and differently-cased
//! (`--Memory`) option names are refused, where Getopt::Long would accept them. A caller that
//! relies on either would break as soon as Proxmox adds an option with the same prefix.

use std::collections::BTreeMap;

use crate::error::PveException;
use crate::formats::parse_boolean;
use crate::schema::{Format, ObjectSchema, Type};

/// How a command maps its arguments.
#[derive(Debug, Clone, Default)]
pub struct CommandSpec<'a> {
    /// The usage prefix, e.g. `pct create`.
    pub prefix: &'a str,
    /// Positional parameters, in order.
    pub arg_params: &'a [&'a str],
    /// Parameters fixed by the CLI (not options), e.g. `node`.
    pub fixed: &'a [(&'a str, String)],
    /// Parameters whose value is a file name whose contents are passed (`ssh-public-keys`).
    pub file_params: &'a [&'a str],
    /// Parameters read interactively when given without a value (`password`).
    pub interactive: &'a [&'a str],
    /// Whether the command also takes the standard output-format options (pvesh).
    pub format_options: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Arity {
    Optional,
    Single,
    List,
}

/// Getopt's view of a property. Positional parameters are options too (Proxmox does not exclude
/// them), but a positional argument overwrites the option's value.
fn arity(schema: &ObjectSchema, name: &str, spec: &CommandSpec<'_>) -> Option<Arity> {
    if spec.fixed.iter().any(|(k, _)| *k == name) {
        return None;
    }
    let prop = schema.get(name)?;
    if spec.interactive.contains(&name) || prop.ty == Type::Boolean {
        return Some(Arity::Optional);
    }
    let is_list = matches!(&prop.format, Some(Format::Named(f)) if f.contains("-list"));
    if is_list || prop.ty == Type::Array {
        Some(Arity::List)
    } else {
        Some(Arity::Single)
    }
}

/// The short usage line the CLI handler appends to parameter errors.
pub fn usage(schema: &ObjectSchema, spec: &CommandSpec<'_>) -> String {
    let mut args: Vec<String> = spec.arg_params.iter().map(|a| format!("<{a}>")).collect();
    let mut has_options = false;
    for key in schema.keys() {
        if arity(schema, &key, spec).is_none() || spec.arg_params.contains(&key.as_str()) {
            continue;
        }
        if spec.format_options && is_format_option(&key) {
            continue;
        }
        has_options = true;
        if let Some(p) = schema.get(&key) {
            if !p.optional {
                args.push(format!("--{key} <{}>", p.ty.name()));
            }
        }
    }
    let mut out = format!("{} {}", spec.prefix, args.join(" "));
    if has_options {
        out.push_str(" [OPTIONS]");
    }
    if spec.format_options {
        out.push_str(" [FORMAT_OPTIONS]");
    }
    out
}

/// pvesh's standard output options.
pub fn is_format_option(key: &str) -> bool {
    matches!(
        key,
        "output-format" | "noheader" | "noborder" | "quiet" | "human-readable"
    )
}

/// `get_options`: the parameters as strings (booleans normalised to "0"/"1"), including the
/// fixed ones. Errors are `400` exceptions with the usage line attached.
pub fn get_options(
    schema: &ObjectSchema,
    args: &[String],
    spec: &CommandSpec<'_>,
) -> Result<BTreeMap<String, String>, PveException> {
    let with_usage = |mut e: PveException| {
        e.usage = Some(usage(schema, spec));
        e
    };
    let mut singles: BTreeMap<String, String> = BTreeMap::new();
    let mut lists: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut positional: Vec<String> = Vec::new();
    let mut complaints = String::new();

    let mut i = 0;
    let mut only_positional = false;
    while let Some(arg) = args.get(i) {
        i += 1;
        if only_positional {
            positional.push(arg.clone());
            continue;
        }
        if arg == "--" {
            only_positional = true;
            continue;
        }
        let body = arg.strip_prefix("--").or_else(|| arg.strip_prefix('-'));
        let Some(body) = body.filter(|b| !b.is_empty()) else {
            positional.push(arg.clone());
            continue;
        };
        let (name, inline) = match body.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (body, None),
        };
        let Some(kind) = arity(schema, name, spec) else {
            complaints.push_str(&format!("Unknown option: {name}\n"));
            continue;
        };
        let value = match (kind, inline) {
            (_, Some(v)) => v,
            (Arity::Optional, None) => match args.get(i) {
                Some(next) if !looks_like_option(next) => {
                    i += 1;
                    next.clone()
                }
                _ => String::new(),
            },
            (_, None) => match args.get(i) {
                Some(next) => {
                    i += 1;
                    next.clone()
                }
                None => {
                    complaints.push_str(&format!("Option {name} requires an argument\n"));
                    continue;
                }
            },
        };
        match kind {
            Arity::List => lists.entry(name.to_string()).or_default().push(value),
            _ => {
                singles.insert(name.to_string(), value);
            }
        }
    }
    if !complaints.is_empty() {
        let mut e = PveException::bad_request("unable to parse option\n");
        e.preamble = complaints;
        return Err(with_usage(e));
    }

    let mut opts = singles;
    let mut rest = positional.into_iter();
    let mut assigned = Vec::new();
    for (idx, name) in spec.arg_params.iter().enumerate() {
        match rest.next() {
            Some(v) => {
                opts.insert((*name).to_string(), v);
                assigned.push(*name);
            }
            None => {
                let missing_required = spec
                    .arg_params
                    .iter()
                    .skip(idx)
                    .any(|p| schema.get(p).is_none_or(|prop| !prop.optional));
                if missing_required {
                    return Err(with_usage(PveException::bad_request(
                        "not enough arguments\n",
                    )));
                }
                break;
            }
        }
    }
    if rest.next().is_some() {
        return Err(with_usage(PveException::bad_request(
            "too many arguments\n",
        )));
    }

    for name in spec.file_params {
        if let Some(path) = opts.get(*name).cloned() {
            if !assigned.contains(name) {
                let contents = std::fs::read_to_string(&path).map_err(|e| {
                    PveException::die(format!("unable to open file '{path}' - {e}\n"))
                })?;
                opts.insert((*name).to_string(), contents);
            }
        }
    }

    for (name, values) in lists {
        opts.insert(name, values.join(","));
    }
    for (name, value) in opts.iter_mut() {
        if assigned.contains(&name.as_str()) {
            continue;
        }
        if schema.get(name).is_some_and(|p| p.ty == Type::Boolean) {
            if value.is_empty() {
                *value = "1".into();
            } else {
                match parse_boolean(value) {
                    Some(true) => *value = "1".into(),
                    Some(false) => *value = "0".into(),
                    None => {
                        return Err(with_usage(PveException::bad_request(
                            "unable to parse boolean option\n",
                        )))
                    }
                }
            }
        } else if spec.interactive.contains(&name.as_str()) && value.is_empty() {
            return Err(PveException::die(
                "pve-sim: interactive password prompts are not simulated; pass the value\n",
            ));
        }
    }
    for (k, v) in spec.fixed {
        opts.insert((*k).to_string(), v.clone());
    }
    Ok(opts)
}

/// Getopt::Long does not take an optional value that looks like an option.
fn looks_like_option(arg: &str) -> bool {
    arg.starts_with('-') && arg != "-"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::schemas;

    fn spec<'a>(fixed: &'a [(&'a str, String)]) -> CommandSpec<'a> {
        CommandSpec {
            prefix: "pct create",
            arg_params: &["vmid", "ostemplate"],
            fixed,
            ..Default::default()
        }
    }

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn options_anywhere_and_last_single_value_wins() {
        let fixed = [("node", "pve".to_string())];
        let s = &schemas().unwrap().create;
        let o = get_options(
            s,
            &args(&[
                "--memory",
                "256",
                "100",
                "--env",
                "A=1",
                "local:vztmpl/x.tar",
                "--env=B=2",
                "--unprivileged",
            ]),
            &spec(&fixed),
        )
        .unwrap();
        assert_eq!(o["vmid"], "100");
        assert_eq!(o["ostemplate"], "local:vztmpl/x.tar");
        assert_eq!(o["memory"], "256");
        assert_eq!(o["env"], "B=2");
        assert_eq!(o["unprivileged"], "1");
        assert_eq!(o["node"], "pve");
    }

    #[test]
    fn refusals() {
        let fixed = [("node", "pve".to_string())];
        let s = &schemas().unwrap().create;
        let e = get_options(
            s,
            &args(&["100", "t.tar", "--lxc.init.cmd", "x"]),
            &spec(&fixed),
        )
        .unwrap_err();
        assert_eq!(
            e.render(),
            "Unknown option: lxc.init.cmd\n400 unable to parse option\npct create <vmid> <ostemplate> [OPTIONS]\n"
        );
        let e =
            get_options(s, &args(&["100", "t.tar", "--mem", "512"]), &spec(&fixed)).unwrap_err();
        assert!(e.render().starts_with("Unknown option: mem\n"));
        let e = get_options(s, &args(&["100"]), &spec(&fixed)).unwrap_err();
        assert!(e.render().starts_with("400 not enough arguments\n"));
        let e = get_options(s, &args(&["100", "a", "b"]), &spec(&fixed)).unwrap_err();
        assert!(e.render().starts_with("400 too many arguments\n"));
        let e =
            get_options(s, &args(&["--unprivileged", "100", "t.tar"]), &spec(&fixed)).unwrap_err();
        // Getopt takes "100" as the flag's value, so only one positional argument is left.
        assert!(e.render().starts_with("400 not enough arguments\n"));
        let e = get_options(
            s,
            &args(&["100", "t.tar", "--unprivileged", "maybe"]),
            &spec(&fixed),
        )
        .unwrap_err();
        assert!(e
            .render()
            .starts_with("400 unable to parse boolean option\n"));
        let e = get_options(s, &args(&["100", "t.tar", "--node", "x"]), &spec(&fixed)).unwrap_err();
        assert!(e.render().starts_with("Unknown option: node\n"));
        // Positional parameters are options too; the positional value wins, and giving them
        // only as options is "not enough arguments".
        let o = get_options(s, &args(&["100", "t.tar", "--vmid", "200"]), &spec(&fixed)).unwrap();
        assert_eq!(o["vmid"], "100");
        let e = get_options(
            s,
            &args(&["--vmid", "100", "--ostemplate", "t.tar"]),
            &spec(&fixed),
        )
        .unwrap_err();
        assert!(e.render().starts_with("400 not enough arguments\n"));
    }
}
