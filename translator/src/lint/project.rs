//! The project config of `lint`: `proxmox-lxcri.toml` (or the
//! `[tool.proxmox-lxcri]` table of a `pyproject.toml`), the file a team keeps
//! beside its bundles so that every run, local or in CI, checks the same way.
//!
//! ```toml
//! select = ["security", "pve"]          # only these families (default: every rule)
//! ignore = ["pve/ignored-by-design"]    # codes or families not reported
//! exclude = ["vendor/**", "**/testdata/**"]
//! target = "ci/pve-node.json"           # relative to this file
//! fail-on = "warning"                   # exit 1 at or above (default "error")
//! inline-allow = false                  # ignore the bundles' allow annotations
//!
//! [severity]                            # per code or family
//! "pve/lossy" = "error"
//!
//! [[per-path]]                          # for the bundles below a glob (relative to this file)
//! path = "legacy/**"
//! ignore = ["security/privileged"]
//! severity = { "security/no-seccomp" = "info" }
//! ```
//!
//! Every code is checked against the rule registry: an unknown one is an
//! error with its line and column, so a typo cannot switch a rule off in
//! silence. Pure: the CLI finds and reads the file and hands over its text.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use super::select::Layer;
use crate::diag::Severity;
use crate::rules::Allow;

/// The name of the project config file `lint` looks for.
pub const FILE_NAME: &str = "proxmox-lxcri.toml";
/// The other file it looks in, for the `[tool.proxmox-lxcri]` table.
pub const PYPROJECT: &str = "pyproject.toml";

/// A value and the 1-based line and column it was written at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Located<T> {
    /// The value.
    pub value: T,
    /// Line and column in the file.
    pub at: (usize, usize),
}

/// A `[[per-path]]` section: entries for the bundles a glob matches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PerPath {
    /// The glob, relative to the config file's directory.
    pub glob: Located<String>,
    /// Its entries; the origin names the glob.
    pub layer: Layer,
}

/// A project config, read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProjectConfig {
    /// The top-level `select`, `ignore` and `severity`.
    pub base: Layer,
    /// Globs of paths (relative to the config file's directory) not linted.
    pub exclude: Vec<Located<String>>,
    /// The target file, relative to the config file's directory.
    pub target: Option<Located<String>>,
    /// The severity at or above which the run fails.
    pub fail_on: Option<Severity>,
    /// Whether the bundles' allow annotations count (default true).
    pub inline_allow: Option<bool>,
    /// The base of the `helpUri` of each rule in SARIF logs: the rule's code and `.md` are
    /// appended (`https://example.org/rules/` → `https://example.org/rules/pve/lossy.md`).
    pub help_uri_base: Option<String>,
    /// The `[[per-path]]` sections, in order.
    pub per_path: Vec<PerPath>,
}

/// A config file that cannot be used: where and why (the caller exits 2).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", location.map(|(l, c)| format!("{l}:{c}: ")).unwrap_or_default())]
pub struct ConfigError {
    /// What is wrong.
    pub message: String,
    /// 1-based line and column, when the problem has a place.
    pub location: Option<(usize, usize)>,
}

type Entries = Vec<Spanned<String>>;
type Severities = BTreeMap<Spanned<String>, Spanned<String>>;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct FileFormat {
    #[serde(default)]
    select: Option<Entries>,
    #[serde(default)]
    ignore: Entries,
    #[serde(default)]
    severity: Severities,
    #[serde(default)]
    exclude: Entries,
    #[serde(default)]
    target: Option<Spanned<String>>,
    #[serde(default)]
    fail_on: Option<Spanned<String>>,
    #[serde(default)]
    inline_allow: Option<bool>,
    #[serde(default)]
    help_uri_base: Option<String>,
    #[serde(default)]
    per_path: Vec<PerPathFormat>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PerPathFormat {
    path: Spanned<String>,
    #[serde(default)]
    select: Option<Entries>,
    #[serde(default)]
    ignore: Entries,
    #[serde(default)]
    severity: Severities,
}

/// `pyproject.toml`: only `[tool.proxmox-lxcri]` is read; everything else is
/// another tool's.
#[derive(Deserialize)]
struct Pyproject {
    #[serde(default)]
    tool: Option<Tools>,
}

#[derive(Deserialize)]
struct Tools {
    #[serde(default, rename = "proxmox-lxcri")]
    proxmox_lxcri: Option<FileFormat>,
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map(|l| l.chars().count())
        .unwrap_or(0)
        + 1;
    (line, column)
}

struct Reader<'t> {
    text: &'t str,
}

impl Reader<'_> {
    fn at(&self, span: std::ops::Range<usize>) -> (usize, usize) {
        line_col(self.text, span.start)
    }

    fn error<T>(&self, span: std::ops::Range<usize>, message: String) -> Result<T, ConfigError> {
        Err(ConfigError {
            message,
            location: Some(self.at(span)),
        })
    }

    fn allow(&self, entry: &Spanned<String>, key: &str) -> Result<Allow, ConfigError> {
        Allow::parse(entry.get_ref()).or_else(|e| self.error(entry.span(), format!("{key}: {e}")))
    }

    fn allows(&self, entries: &Entries, key: &str) -> Result<Vec<Allow>, ConfigError> {
        entries.iter().map(|e| self.allow(e, key)).collect()
    }

    fn severity(&self, s: &Spanned<String>, key: &str) -> Result<Severity, ConfigError> {
        Severity::parse(s.get_ref()).map_or_else(
            || {
                self.error(
                    s.span(),
                    format!(
                        "{key}: `{}` is not a severity; expected \"error\", \"warning\" or \"info\"",
                        s.get_ref().escape_debug()
                    ),
                )
            },
            Ok,
        )
    }

    fn layer(
        &self,
        origin: String,
        select: &Option<Entries>,
        ignore: &Entries,
        severity: &Severities,
    ) -> Result<Layer, ConfigError> {
        let select = match select {
            Some(list) => Some(self.allows(list, "select")?),
            None => None,
        };
        let mut severities = Vec::new();
        for (code, level) in severity {
            let allow = self.allow(code, "severity")?;
            severities.push((allow, self.severity(level, "severity")?));
        }
        Ok(Layer {
            origin,
            select,
            ignore: self.allows(ignore, "ignore")?,
            severity: severities,
        })
    }

    fn config(&self, parsed: FileFormat, origin: &str) -> Result<ProjectConfig, ConfigError> {
        let located = |s: &Spanned<String>| Located {
            value: s.get_ref().clone(),
            at: self.at(s.span()),
        };
        let base = self.layer(
            origin.to_string(),
            &parsed.select,
            &parsed.ignore,
            &parsed.severity,
        )?;
        let mut per_path = Vec::new();
        for p in &parsed.per_path {
            let glob = located(&p.path);
            let layer = self.layer(
                format!("{origin} [[per-path]] `{}`", glob.value),
                &p.select,
                &p.ignore,
                &p.severity,
            )?;
            per_path.push(PerPath { glob, layer });
        }
        let fail_on = match &parsed.fail_on {
            Some(s) => Some(self.severity(s, "fail-on")?),
            None => None,
        };
        Ok(ProjectConfig {
            base,
            exclude: parsed.exclude.iter().map(located).collect(),
            target: parsed.target.as_ref().map(located),
            fail_on,
            inline_allow: parsed.inline_allow,
            help_uri_base: parsed.help_uri_base,
            per_path,
        })
    }
}

fn syntax(text: &str, e: toml::de::Error) -> ConfigError {
    ConfigError {
        message: e.message().trim_end().to_string(),
        location: e.span().map(|s| line_col(text, s.start)),
    }
}

impl ProjectConfig {
    /// Reads a `proxmox-lxcri.toml`; `origin` names it in messages.
    pub fn from_toml(text: &str, origin: &str) -> Result<ProjectConfig, ConfigError> {
        let parsed: FileFormat = toml::from_str(text).map_err(|e| syntax(text, e))?;
        Reader { text }.config(parsed, origin)
    }

    /// Reads the `[tool.proxmox-lxcri]` table of a `pyproject.toml`; none when it has none.
    pub fn from_pyproject(text: &str, origin: &str) -> Result<Option<ProjectConfig>, ConfigError> {
        let parsed: Pyproject = toml::from_str(text).map_err(|e| syntax(text, e))?;
        match parsed.tool.and_then(|t| t.proxmox_lxcri) {
            Some(table) => Reader { text }.config(table, origin).map(Some),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::select::{Selection, Verdict};

    const FULL: &str = r#"
select = ["security", "pve"]
ignore = ["pve/ignored-by-design"]
exclude = ["vendor/**"]
target = "ci/node.json"
fail-on = "warning"
inline-allow = false

[severity]
"pve/lossy" = "error"

[[per-path]]
path = "legacy/**"
ignore = ["security/privileged"]
severity = { "security/no-seccomp" = "info" }
"#;

    #[test]
    fn every_key() {
        let c = ProjectConfig::from_toml(FULL, "p.toml").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.fail_on, Some(Severity::Warning));
        assert_eq!(c.inline_allow, Some(false));
        assert_eq!(
            c.target.as_ref().map(|t| t.value.as_str()),
            Some("ci/node.json")
        );
        assert_eq!(c.exclude.first().map(|e| e.at), Some((4, 12)));
        let mut s = Selection::default();
        s.push(c.base.clone());
        assert_eq!(s.decide("security/privileged"), Verdict::Reported);
        assert!(matches!(s.decide("spec/relative-cwd"), Verdict::Ignored(_)));
        assert!(matches!(
            s.decide("pve/ignored-by-design"),
            Verdict::Ignored(_)
        ));
        assert_eq!(s.severity("pve/lossy", Severity::Warning), Severity::Error);
        let p = c.per_path.first().unwrap_or_else(|| panic!("a per-path"));
        assert_eq!(p.glob.value, "legacy/**");
        s.push(p.layer.clone());
        assert_eq!(
            s.decide("security/privileged"),
            Verdict::Ignored(
                "ignored by `security/privileged` in p.toml [[per-path]] `legacy/**`".into()
            )
        );
        assert_eq!(
            s.severity("security/no-seccomp", Severity::Warning),
            Severity::Info
        );
    }

    #[test]
    fn unknown_codes_and_keys_name_their_place() {
        let err = |text: &str| {
            ProjectConfig::from_toml(text, "p.toml")
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        let e = err("select = [\"security\"]\nignore = [\"pve/lossyy\"]\n");
        assert!(
            e.starts_with("2:11: ignore: `pve/lossyy` is not a rule code"),
            "{e}"
        );
        assert!(e.contains("did you mean `pve/lossy`?"), "{e}");
        let e = err("[severity]\n\"pve/lossy\" = \"fatal\"\n");
        assert!(
            e.starts_with("2:15: severity: `fatal` is not a severity"),
            "{e}"
        );
        let e = err("[severity]\n\"nope/x\" = \"info\"\n");
        assert!(e.starts_with("2:1: severity: `nope/x`"), "{e}");
        let e = err("[[per-path]]\npath = \"a/**\"\nselect = [\"bogus\"]\n");
        assert!(e.starts_with("3:11: select: `bogus`"), "{e}");
        let e = err("selct = []\n");
        assert!(e.starts_with("1:1: unknown field `selct`"), "{e}");
        assert!(err("select = [").starts_with("1:"));
    }

    #[test]
    fn pyproject_reads_only_its_table() {
        let none = ProjectConfig::from_pyproject(
            "[project]\nname = \"x\"\n[tool.ruff]\nline-length = 9\n",
            "pyproject.toml",
        );
        assert_eq!(none, Ok(None));
        let some = ProjectConfig::from_pyproject(
            "[project]\nname = \"x\"\n\n[tool.proxmox-lxcri]\nignore = [\"pve/lossy\"]\n",
            "pyproject.toml",
        );
        assert!(matches!(some, Ok(Some(c)) if c.base.ignore.len() == 1));
        let bad = ProjectConfig::from_pyproject(
            "[tool.proxmox-lxcri]\nignore = [\"pve/lossyy\"]\n",
            "pyproject.toml",
        );
        assert!(bad.is_err_and(|e| e.location == Some((2, 11))));
    }
}
