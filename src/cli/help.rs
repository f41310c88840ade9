//! The help layout: commands listed in groups (translate, lint, run), and the runtime flags
//! shown only on the verbs that use them.
//!
//! Engines (podman, containerd) put runc's global flags (`--root`, `--log`, ...) before any
//! verb they call, so the flags stay global and are accepted everywhere. On the other verbs a
//! hidden copy stands in for each one: clap propagates a global flag into a subcommand only
//! when the subcommand has no argument of that id (`Command::_propagate_global_args`), and
//! values are matched by id, so the copy parses exactly as the global flag does, into the same
//! `Global` field, without showing in that verb's help, man page or completions.

use clap::CommandFactory;

use super::{Cli, RUNTIME_HEADING};

/// The command groups of the top-level help, in order. A test keeps every command in one.
pub const GROUPS: &[(&str, &[&str])] = &[
    ("Translate", &["convert", "schema", "target"]),
    ("Lint", &["lint", "rules", "explain"]),
    (
        "Run (an OCI runtime with runc's command line, on this node)",
        &[
            "create", "start", "state", "kill", "stop", "delete", "run", "list", "exec", "ps",
            "pause", "resume", "update", "spec", "features", "apply", "route", "diff",
        ],
    ),
];

/// The verbs that use every runtime flag: the run group.
fn is_runtime_verb(name: &str) -> bool {
    GROUPS[2].1.contains(&name)
}

/// The runtime flags `lint` uses too: with `--policy`, it reports what `create` on that node
/// would refuse for `--runtime`'s back end; `--allow` suppresses findings.
const LINT_USES: &[&str] = &["runtime", "policy", "allow"];

/// Whether clap may print a help text for this argument vector: `-h`, `--help` or the `help`
/// subcommand anywhere (a value that happens to be `help`, such as a container id, only costs
/// the layout's construction). Errors print the usage line, which is the same either way.
pub fn may_print_help(args: &[std::ffi::OsString]) -> bool {
    args.iter()
        .skip(1)
        .any(|a| a == "-h" || a == "--help" || a == "help")
}

/// The command as man pages and completions describe it: every verb with the flags it uses.
pub fn command() -> clap::Command {
    let mut cmd = Cli::command();
    let runtime: Vec<clap::Arg> = cmd
        .get_arguments()
        .filter(|a| a.get_help_heading() == Some(RUNTIME_HEADING))
        .cloned()
        .collect();
    let others: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_owned())
        .filter(|n| !is_runtime_verb(n))
        .collect();
    for name in others {
        // A verb with its own argument of that id (lint's `--config`) keeps it: clap does not
        // propagate the global one there either.
        let own: Vec<String> = cmd
            .find_subcommand(&name)
            .map(|sc| sc.get_arguments().map(|a| a.get_id().to_string()).collect())
            .unwrap_or_default();
        let hidden: Vec<clap::Arg> = runtime
            .iter()
            .filter(|a| !own.iter().any(|o| o == a.get_id().as_str()))
            .filter(|a| !(name == "lint" && LINT_USES.contains(&a.get_id().as_str())))
            .map(|a| a.clone().hide(true))
            .collect();
        cmd = cmd.mut_subcommand(name, |sc| sc.args(hidden));
    }
    cmd
}

/// The command as the program parses it: [`command`] with the top-level help listing the
/// commands in [`GROUPS`] (clap lists subcommands under one heading only, so the listing is
/// written here and clap's own is hidden).
pub fn for_parsing() -> clap::Command {
    let mut cmd = command();
    let listing = listing(&cmd);
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_owned())
        .collect();
    for name in names {
        cmd = cmd.mut_subcommand(name, |sc| sc.hide(true));
    }
    // Without a visible subcommand clap would leave `<COMMAND>` out of the usage line.
    cmd = cmd.override_usage("proxmox-lxcri [OPTIONS] <COMMAND>");
    cmd = cmd.help_template(format!(
        "{{before-help}}{{about-with-newline}}\n{{usage-heading}} {{usage}}\n\n{listing}{{all-args}}{{after-help}}"
    ));
    // clap's own `help` subcommand (`proxmox-lxcri help convert`) is never listed once no
    // other subcommand is visible (`Command::has_visible_subcommands`), so nothing more is
    // built here: building the whole tree up front would cost every run its start-up time.
    cmd
}

/// The grouped command list: a heading per group, then each command and its one-line about,
/// styled as clap styles its own headings and literals.
fn listing(cmd: &clap::Command) -> String {
    let styles = cmd.get_styles();
    let (header, literal) = (styles.get_header(), styles.get_literal());
    let width = GROUPS
        .iter()
        .flat_map(|(_, names)| names.iter())
        .map(|n| n.len())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for (group, names) in GROUPS {
        out.push_str(&format!(
            "{}{group}:{}\n",
            header.render(),
            header.render_reset()
        ));
        for name in names.iter() {
            let about = cmd
                .find_subcommand(name)
                .and_then(|s| s.get_about())
                .map(|a| a.to_string())
                .unwrap_or_default();
            // The template treats `{` as a tag.
            let about = about.replace('{', "(").replace('}', ")");
            out.push_str(&format!(
                "  {}{name:<width$}{}  {about}\n",
                literal.render(),
                literal.render_reset()
            ));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::FromArgMatches;

    #[test]
    fn every_command_is_in_one_group() {
        let cmd = command();
        let mut listed: Vec<&str> = GROUPS.iter().flat_map(|(_, n)| n.iter().copied()).collect();
        listed.sort_unstable();
        let before = listed.len();
        listed.dedup();
        assert_eq!(before, listed.len(), "a command is in two groups");
        let mut names: Vec<&str> = cmd.get_subcommands().map(|s| s.get_name()).collect();
        names.sort_unstable();
        assert_eq!(listed, names);
    }

    #[test]
    fn the_layout_is_valid() {
        for_parsing().debug_assert();
    }

    #[test]
    fn the_layout_changes_only_the_help() {
        let argvs: &[&[&str]] = &[
            &[
                "convert",
                "x",
                "--root",
                "/r",
                "--log-format",
                "json",
                "--to",
                "crun",
            ],
            &[
                "--root",
                "/r",
                "--runtime",
                "crun",
                "--allow",
                "a/b,c/*",
                "lint",
                "x",
            ],
            &["lint", "--policy", "p", "x", "--runtime", "crun", "--quiet"],
            &[
                "--log",
                "l",
                "create",
                "id",
                "-b",
                "b",
                "--crun",
                "c",
                "--systemd-cgroup",
            ],
            &[
                "target",
                "detect",
                "--crun",
                "c",
                "-o",
                "t.json",
                "--verbose",
            ],
            &["schema", "plan", "--rootfs-under", "/var/lib/containers"],
            &["kill", "id", "KILL", "--all"],
        ];
        for argv in argvs {
            let args = |cmd: clap::Command| {
                let argv = std::iter::once("proxmox-lxcri").chain(argv.iter().copied());
                let cli = super::super::Cli::from_arg_matches(
                    &cmd.try_get_matches_from(argv).expect("parses"),
                )
                .expect("matches");
                format!("{cli:?}")
            };
            assert_eq!(args(Cli::command()), args(for_parsing()), "{argv:?}");
        }
    }

    #[test]
    fn every_argument_is_described() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for a in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
                if a.get_help().is_none() && !matches!(a.get_id().as_str(), "help" | "version") {
                    missing.push(format!("{path} {}", a.get_id()));
                }
            }
            for sc in cmd.get_subcommands() {
                if sc.get_about().is_none() {
                    missing.push(format!("{path} {} (no about)", sc.get_name()));
                }
                walk(sc, &format!("{path} {}", sc.get_name()), missing);
            }
        }
        let mut cmd = command();
        cmd.build();
        let mut missing = Vec::new();
        walk(&cmd, "proxmox-lxcri", &mut missing);
        assert!(missing.is_empty(), "undescribed: {missing:#?}");
    }

    #[test]
    fn runtime_flags_show_only_on_runtime_verbs() {
        let mut cmd = command();
        cmd.build();
        let shown = |verb: &str, id: &str| {
            cmd.find_subcommand(verb)
                .and_then(|s| s.get_arguments().find(|a| a.get_id() == id))
                .is_some_and(|a| !a.is_hide_set())
        };
        for verb in ["convert", "rules", "explain", "schema", "target"] {
            assert!(!shown(verb, "root") && !shown(verb, "log") && !shown(verb, "runtime"));
        }
        assert!(!shown("lint", "root") && !shown("lint", "crun"));
        assert!(shown("lint", "policy") && shown("lint", "runtime"));
        for verb in ["create", "run", "delete", "apply"] {
            assert!(shown(verb, "root") && shown(verb, "log") && shown(verb, "crun"));
        }
        assert!(shown("convert", "quiet") && shown("convert", "verbose"));
    }
}
