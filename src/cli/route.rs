//! Which back end `create` and `run` use when the command line does not say: the routing rules
//! of the node configuration.
//!
//! Engines never pass `--runtime` (they call the binary with runc's arguments), so the node
//! says where their containers go, by container id and, optionally, by an annotation of the
//! bundle:
//!
//! ```toml
//! # /etc/proxmox-lxcri/config.toml (or --config FILE, or PROXMOX_LXCRI_CONFIG)
//! default = "pct"
//!
//! [[route]]
//! id = "test-*"
//! runtime = "crun"
//!
//! [[route]]
//! id = "*"
//! annotation = { "org.proxmox-lxcri.runtime" = "crun" }
//! runtime = "crun"
//! ```
//!
//! The order: `--runtime` (or `-r`) on the command line; then the first rule whose `id` glob
//! matches the container id and whose annotations all equal the bundle's; then `default`;
//! then pct. The choice is recorded at create; every later verb follows the record, whatever
//! the rules say by then (the runtime verbs read the back end from the state store).
//!
//! The file decides which back end (and so which half of the node policy) a bundle meets, so
//! it is read like the policy: kept by root, a regular file, bounded. A file that does not
//! parse is a usage error (exit 2) naming its line and column.

use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobMatcher};
use serde::Deserialize;
use toml::Spanned;
use translator::Source;

use super::{Failure, Global, RuntimeKind};

/// Environment variable naming the node configuration when `--config` is not given.
pub const CONFIG_ENV: &str = "PROXMOX_LXCRI_CONFIG";

/// The node configuration's file name in [`translator::path::lxcri::ETC_DIR`].
pub const CONFIG_FILE: &str = "config.toml";

/// `/etc/proxmox-lxcri/config.toml`: when it does not exist, there are no rules.
pub fn default_config() -> PathBuf {
    Path::new(translator::path::lxcri::ETC_DIR).join(CONFIG_FILE)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileFormat {
    #[serde(default)]
    default: Option<Spanned<Backend>>,
    #[serde(default)]
    route: Vec<RuleFormat>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFormat {
    id: Spanned<String>,
    #[serde(default)]
    annotation: toml::Table,
    runtime: Backend,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum Backend {
    Pct,
    Crun,
}

impl From<Backend> for RuntimeKind {
    fn from(b: Backend) -> RuntimeKind {
        match b {
            Backend::Pct => RuntimeKind::Pct,
            Backend::Crun => RuntimeKind::Crun,
        }
    }
}

/// One `[[route]]` table.
#[derive(Debug, Clone)]
pub struct Rule {
    /// 1-based, in file order.
    pub number: usize,
    /// The line of its `id`.
    pub line: usize,
    /// The glob as written.
    pub id: String,
    matcher: GlobMatcher,
    /// Every `key = value` must be the bundle's annotation `key` with exactly that value.
    pub annotation: Vec<(String, String)>,
    pub runtime: RuntimeKind,
}

/// The routing rules of one configuration.
#[derive(Debug, Clone, Default)]
pub struct Routes {
    /// The file they came from; `None`: no file, no rules.
    pub origin: Option<PathBuf>,
    pub rules: Vec<Rule>,
    /// `default`, and its line.
    pub default: Option<(RuntimeKind, usize)>,
}

/// Reads one annotation of the bundle's config.json.
pub type Annotations<'a> = &'a dyn Fn(&str) -> Option<String>;

/// What chose the back end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Chooser {
    /// `--runtime` or `-r`.
    CommandLine,
    /// A `[[route]]`: its number and line.
    Rule { number: usize, line: usize },
    /// The file's `default`, at this line.
    Default { line: usize },
    /// Nothing said anything: pct.
    BuiltIn,
}

/// A back end and why.
#[derive(Debug, Clone)]
pub struct Route {
    pub runtime: RuntimeKind,
    pub by: Chooser,
    /// Rules that name an annotation and were not considered because there was no bundle.
    pub unconsidered: Vec<usize>,
}

impl Routes {
    /// Parses a configuration; `name` is for messages. Errors name the line and column.
    pub fn parse(name: &Path, text: &str) -> Result<Routes, String> {
        let source = Source::new(name.display().to_string(), text.to_owned());
        let at = |offset: usize| {
            let (line, column) = source.line_col(offset);
            format!("{}: line {line}, column {column}", name.display())
        };
        let parsed: FileFormat = toml::from_str(text).map_err(|e| {
            let place = e
                .span()
                .map(|s| at(s.start))
                .unwrap_or_else(|| name.display().to_string());
            format!("{place}: {}", e.message().trim_end())
        })?;
        let mut rules = Vec::new();
        for (i, r) in parsed.route.into_iter().enumerate() {
            let span = r.id.span();
            let id = r.id.into_inner();
            // Container ids have no `/`, so `*` may match anything; `\` escapes a `*` or `?`.
            let matcher = GlobBuilder::new(&id)
                .literal_separator(false)
                .backslash_escape(true)
                .build()
                .map_err(|e| {
                    format!(
                        "{}: route {} has the id pattern {id:?}, which is not a glob: {}",
                        at(span.start),
                        i + 1,
                        e.kind()
                    )
                })?
                .compile_matcher();
            let mut annotation = Vec::new();
            for (key, value) in r.annotation {
                let Some(value) = value.as_str() else {
                    return Err(format!(
                        "{}: route {}: the annotation {key:?} must be a string, as annotations are",
                        at(span.start),
                        i + 1
                    ));
                };
                annotation.push((key, value.to_owned()));
            }
            rules.push(Rule {
                number: i + 1,
                line: source.line_col(span.start).0,
                id,
                matcher,
                annotation,
                runtime: r.runtime.into(),
            });
        }
        Ok(Routes {
            origin: Some(name.to_path_buf()),
            rules,
            default: parsed
                .default
                .map(|d| ((*d.get_ref()).into(), source.line_col(d.span().start).0)),
        })
    }

    /// The back end for container `id`. `annotation` reads the bundle's annotations; `None`
    /// when there is no bundle, and then a rule that names an annotation cannot match.
    pub fn choose(
        &self,
        command_line: Option<RuntimeKind>,
        id: &str,
        annotation: Option<Annotations<'_>>,
    ) -> Route {
        let mut unconsidered = Vec::new();
        if let Some(runtime) = command_line {
            return Route {
                runtime,
                by: Chooser::CommandLine,
                unconsidered,
            };
        }
        for rule in &self.rules {
            if !rule.matcher.is_match(id) {
                continue;
            }
            let annotations_match = match annotation {
                _ if rule.annotation.is_empty() => true,
                Some(get) => rule
                    .annotation
                    .iter()
                    .all(|(k, v)| get(k).as_deref() == Some(v.as_str())),
                None => {
                    unconsidered.push(rule.number);
                    false
                }
            };
            if annotations_match {
                return Route {
                    runtime: rule.runtime,
                    by: Chooser::Rule {
                        number: rule.number,
                        line: rule.line,
                    },
                    unconsidered,
                };
            }
        }
        let (runtime, by) = match self.default {
            Some((runtime, line)) => (runtime, Chooser::Default { line }),
            None => (RuntimeKind::Pct, Chooser::BuiltIn),
        };
        Route {
            runtime,
            by,
            unconsidered,
        }
    }

    /// The rule with this number.
    pub fn rule(&self, number: usize) -> Option<&Rule> {
        self.rules.iter().find(|r| r.number == number)
    }
}

/// The node configuration's routes: `--config`, `PROXMOX_LXCRI_CONFIG`, or the default file
/// when it exists. A named file that cannot be read, is not kept by root, or does not parse is
/// a usage error.
pub fn load(global: &Global) -> Result<Routes, Failure> {
    let named = global.config.clone().or_else(|| {
        std::env::var_os(CONFIG_ENV)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    });
    let (path, must_exist) = match named {
        Some(p) => (p, true),
        None => (default_config(), false),
    };
    match super::policy::read_kept_by_root(&path) {
        Ok(text) => Routes::parse(&path, &text).map_err(Failure::usage),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !must_exist => Ok(Routes::default()),
        Err(e) => Err(Failure::usage(format!("config {}: {e}", path.display()))),
    }
}

/// The annotations of a bundle's config.json, read as the translator reads them (the same
/// parser: duplicate keys, spans). A config that does not parse has none here; `create`
/// refuses it when it translates it.
pub fn bundle_annotations(name: &str, bytes: &[u8]) -> impl Fn(&str) -> Option<String> {
    let mut ignored = Vec::new();
    let (_, spec) = translator::spec::parse(name, bytes, &mut ignored);
    move |key: &str| {
        let spec = spec.as_ref()?;
        let value = spec.cursor().get("annotations")?.get(key)?;
        value.str().map(str::to_owned)
    }
}

/// `create`'s and `run`'s back end: the command line (`--runtime` before or after the verb),
/// then the node's rules over the id and the bundle's annotations, then the default.
pub fn for_create(
    global: &Global,
    command_line: Option<RuntimeKind>,
    id: &str,
    input: &super::input::ConfigInput,
) -> Result<Route, Failure> {
    let routes = if command_line.is_some() {
        // The command line wins; a broken file does not stop an explicit choice.
        Routes::default()
    } else {
        load(global)?
    };
    let get = bundle_annotations(&input.name, &input.bytes);
    let route = routes.choose(command_line, id, Some(&get));
    global.log().info(&format!(
        "container {id}: runtime {}, chosen by {}",
        name(route.runtime),
        describe(&routes, &route.by)
    ));
    Ok(route)
}

fn name(k: RuntimeKind) -> &'static str {
    match k {
        RuntimeKind::Pct => "pct",
        RuntimeKind::Crun => "crun",
    }
}

/// What chose, in words: `rule 2 (id "test-*") of /etc/proxmox-lxcri/config.toml, line 5`.
pub fn describe(routes: &Routes, by: &Chooser) -> String {
    let file = routes
        .origin
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    match by {
        Chooser::CommandLine => "--runtime on the command line".into(),
        Chooser::Rule { number, line } => {
            let rule = routes.rule(*number);
            let id = rule.map(|r| r.id.as_str()).unwrap_or_default();
            let ann = rule
                .map(|r| {
                    r.annotation
                        .iter()
                        .map(|(k, v)| format!(", annotation {k:?} = {v:?}"))
                        .collect::<String>()
                })
                .unwrap_or_default();
            format!("rule {number} (id {id:?}{ann}) of {file}, line {line}")
        }
        Chooser::Default { line } => format!("the default of {file}, line {line}"),
        Chooser::BuiltIn => "no rule or default (pct is the built-in default)".into(),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    #[default]
    Text,
    Json,
}

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The container id
    pub id: String,
    /// A bundle whose config.json annotations the rules may match (without it, rules that
    /// name an annotation are not considered)
    #[arg(short = 'b', long, value_name = "DIR")]
    pub bundle: Option<PathBuf>,
    /// The back end, as create's --runtime would choose it
    #[arg(short = 'r', long = "runtime", value_enum)]
    pub runtime: Option<RuntimeKind>,
    /// Output format
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// `route <id> [--bundle DIR]`: which back end `create` would use for this id, and why.
pub fn run(global: &Global, args: &Args) -> u8 {
    match route(global, args) {
        Ok(()) => super::EXIT_OK,
        Err(f) => f.report(None),
    }
}

fn route(global: &Global, args: &Args) -> Result<(), Failure> {
    let command_line = args.runtime.or(global.runtime);
    let routes = load(global)?;
    let input = match &args.bundle {
        Some(dir) => {
            let opened = executor::bundle::Bundle::open(dir)
                .map_err(|e| Failure::usage(format!("bundle {}: {e}", dir.display())))?;
            let name = opened
                .path()
                .join(executor::bundle::CONFIG)
                .display()
                .to_string();
            Some(super::input::read_bundle(
                &opened,
                name,
                opened.path().to_path_buf(),
            )?)
        }
        None => None,
    };
    let get = input
        .as_ref()
        .map(|i| bundle_annotations(&i.name, &i.bytes));
    let route = routes.choose(
        command_line,
        &args.id,
        get.as_ref().map(|g| g as Annotations<'_>),
    );
    match args.format {
        Format::Text => {
            println!("{}: {}", name(route.runtime), describe(&routes, &route.by));
            for n in &route.unconsidered {
                println!("note: rule {n} names an annotation and no --bundle was given; it was not considered");
            }
        }
        Format::Json => {
            let (by, rule, line) = match route.by {
                Chooser::CommandLine => ("command-line", None, None),
                Chooser::Rule { number, line } => ("rule", Some(number), Some(line)),
                Chooser::Default { line } => ("default", None, Some(line)),
                Chooser::BuiltIn => ("built-in", None, None),
            };
            let doc = serde_json::json!({
                "id": args.id,
                "runtime": name(route.runtime),
                "by": by,
                "rule": rule,
                "line": line,
                "config": routes.origin.as_ref().map(|p| p.display().to_string()),
                "unconsidered": route.unconsidered,
            });
            println!("{doc}");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routes(text: &str) -> Routes {
        Routes::parse(Path::new("config.toml"), text).unwrap_or_else(|e| panic!("{e}"))
    }

    fn pick(r: &Routes, id: &str, ann: &[(&str, &str)]) -> (RuntimeKind, Chooser) {
        let owned: Vec<(String, String)> = ann
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let get = move |k: &str| owned.iter().find(|(a, _)| a == k).map(|(_, v)| v.clone());
        let route = r.choose(None, id, Some(&get));
        (route.runtime, route.by)
    }

    const TABLE: &str = r#"default = "crun"

[[route]]
id = "lxc-*"
runtime = "pct"

[[route]]
id = "*"
annotation = { "org.proxmox-lxcri.runtime" = "pct" }
runtime = "pct"

[[route]]
id = "test-?"
runtime = "crun"
"#;

    #[test]
    fn the_first_matching_rule_wins_then_the_default() {
        let r = routes(TABLE);
        use Chooser::*;
        use RuntimeKind::*;
        assert_eq!(
            pick(&r, "lxc-db-123", &[]),
            (Pct, Rule { number: 1, line: 4 })
        );
        // The annotation rule: any id, but only with the annotation.
        assert_eq!(
            pick(&r, "web", &[("org.proxmox-lxcri.runtime", "pct")]),
            (Pct, Rule { number: 2, line: 8 })
        );
        assert_eq!(
            pick(&r, "web", &[("org.proxmox-lxcri.runtime", "crun")]),
            (Crun, Default { line: 1 })
        );
        // `?` is one character.
        assert_eq!(
            pick(&r, "test-1", &[]),
            (
                Crun,
                Rule {
                    number: 3,
                    line: 13
                }
            )
        );
        assert_eq!(pick(&r, "test-12", &[]), (Crun, Default { line: 1 }));
        // Order: the earlier rule wins even when a later one matches too.
        assert_eq!(
            pick(&r, "lxc-1", &[("org.proxmox-lxcri.runtime", "pct")]).1,
            Rule { number: 1, line: 4 }
        );
    }

    #[test]
    fn the_command_line_wins_and_nothing_is_pct() {
        let r = routes(TABLE);
        let route = r.choose(Some(RuntimeKind::Pct), "test-1", None);
        assert_eq!(
            (route.runtime, route.by),
            (RuntimeKind::Pct, Chooser::CommandLine)
        );
        let none = Routes::default().choose(None, "anything", None);
        assert_eq!(
            (none.runtime, none.by),
            (RuntimeKind::Pct, Chooser::BuiltIn)
        );
    }

    #[test]
    fn without_a_bundle_annotation_rules_are_not_considered() {
        let r = routes(TABLE);
        let route = r.choose(None, "web", None);
        assert_eq!(route.unconsidered, vec![2]);
        assert_eq!(route.by, Chooser::Default { line: 1 });
    }

    #[test]
    fn bad_files_name_the_line_and_column() {
        for (text, want) in [
            (
                "[[route]]\nid = \"a*\"\nruntime = \"lxc\"\n",
                "line 3, column 11",
            ),
            ("[[route]]\nid = \"a*\"\n", "line 1, column 1"),
            (
                "[[route]]\nid = \"a*\"\nruntime = \"pct\"\nrutnime = 1\n",
                "line 4, column 1",
            ),
            (
                "default = \"pct\"\n\n[[route]]\nid = \"a[\"\nruntime = \"pct\"\n",
                "line 4, column 6",
            ),
            (
                "[[route]]\nid = \"*\"\nannotation = { a = 1 }\nruntime = \"pct\"\n",
                "line 2",
            ),
            ("default = pct\n", "line 1, column 11"),
        ] {
            let e = Routes::parse(Path::new("c.toml"), text)
                .err()
                .unwrap_or_default();
            assert!(
                e.starts_with("c.toml: ") && e.contains(want),
                "{text:?}: {e}"
            );
        }
    }

    #[test]
    fn globs_are_whole_id_matches() {
        let r = routes("[[route]]\nid = \"db\"\nruntime = \"crun\"\n");
        assert_eq!(pick(&r, "db", &[]).0, RuntimeKind::Crun);
        assert_eq!(pick(&r, "db-1", &[]).0, RuntimeKind::Pct);
        assert_eq!(pick(&r, "my-db", &[]).0, RuntimeKind::Pct);
    }
}
