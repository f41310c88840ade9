//! `lint`'s project configs on disk: finding the `proxmox-lxcri.toml` (or a
//! `pyproject.toml` with `[tool.proxmox-lxcri]`) that applies to each linted
//! file, and what it and the command line make of that file's run.
//!
//! As ruff does, the nearest config file above each linted path applies, and
//! only that one (configs are not merged); `--config FILE` names one for every
//! path and `--no-config` turns discovery off. Each directory is looked up once
//! and each config file read, and its target loaded, once per run. The
//! command line is layered above the file: `--select` and `--ignore` (and the
//! global `--allow`) over its entries, `--fail-on`, `--target` and
//! `--no-inline-allow` over its keys.
//!
//! Globs (`exclude`, `[[per-path]] path`, `--exclude`) are matched against the
//! path relative to the config file's directory (`--exclude`: to the working
//! directory) and against each of its parent directories, so `vendor` or
//! `vendor/**` excludes everything below `vendor/`; a glob without `/`
//! matches at any depth (`testdata` is `**/testdata`), as in .gitignore; `*`
//! does not cross a `/`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use translator::lint::engine::LintConfig;
use translator::lint::project::{self, Located, ProjectConfig};
use translator::lint::select::{Layer, Selection};
use translator::rules::Allow;
use translator::{Severity, Target};

use super::{load_target, Failure};

/// A project config is a few lines; this bounds what a wrong file makes us read.
const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// Where the project config comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigSource {
    /// The nearest one above each path.
    Discover,
    /// This file, for every path (`--config`).
    File(PathBuf),
    /// None (`--no-config`).
    Off,
}

/// What the command line says, before any config file is read.
#[derive(Clone, Debug)]
pub struct CommandLine {
    pub select: Option<Vec<Allow>>,
    /// `--ignore` and the global `--allow`.
    pub ignore: Vec<Allow>,
    pub exclude: Vec<String>,
    pub target: Option<PathBuf>,
    pub pve_version: Option<String>,
    pub fail_on: Option<Severity>,
    pub no_inline_allow: bool,
    pub config: ConfigSource,
}

impl Default for CommandLine {
    /// No flags: every rule, the built-in target, configs discovered.
    fn default() -> Self {
        CommandLine {
            select: None,
            ignore: Vec::new(),
            exclude: Vec::new(),
            target: None,
            pve_version: None,
            fail_on: None,
            no_inline_allow: false,
            config: ConfigSource::Discover,
        }
    }
}

/// One config file, read, with its globs compiled and its target loaded.
pub struct Project {
    /// Its path, as messages name it.
    pub origin: String,
    /// Its directory: globs and the target are relative to it.
    pub dir: PathBuf,
    pub config: ProjectConfig,
    exclude: GlobSet,
    per_path: Vec<GlobSet>,
    target: Target,
}

/// What one linted file is checked with.
pub struct FileSettings {
    pub lint: LintConfig,
    pub fail_on: Severity,
}

/// A config (by index) and which of its `[[per-path]]` sections matched.
type SettingsKey = (Option<usize>, Vec<bool>);

/// Finds and caches the project configs of a run.
pub struct Resolver {
    cli: CommandLine,
    cli_exclude: GlobSet,
    cwd: PathBuf,
    /// The command line's target (or the built-in one), for files without a config.
    default_target: Target,
    fixed: Option<Arc<Project>>,
    projects: Mutex<Vec<Arc<Project>>>,
    /// Directory → index into `projects` of the config that applies there.
    dirs: Mutex<HashMap<PathBuf, Option<usize>>>,
    /// (project, matched per-path sections) → the settings, shared by the files they apply to.
    settings: Mutex<HashMap<SettingsKey, Arc<FileSettings>>>,
}

fn glob_set(globs: &[Located<String>], origin: &str) -> Result<GlobSet, Failure> {
    let mut builder = GlobSetBuilder::new();
    for g in globs {
        let pattern = if g.value.contains('/') {
            g.value.trim_start_matches("./").to_string()
        } else {
            format!("**/{}", g.value)
        };
        let glob = GlobBuilder::new(&pattern)
            .literal_separator(true)
            .build()
            .map_err(|e| {
                Failure::usage(format!(
                    "{origin}:{}:{}: `{}` is not a glob: {}",
                    g.at.0,
                    g.at.1,
                    g.value.escape_debug(),
                    e.kind()
                ))
            })?;
        builder.add(glob);
    }
    builder
        .build()
        .map_err(|e| Failure::usage(format!("{origin}: {e}")))
}

/// Whether a glob set matches a relative path or one of its parent directories.
fn matches(set: &GlobSet, relative: &Path) -> bool {
    !set.is_empty()
        && relative
            .ancestors()
            .any(|a| !a.as_os_str().is_empty() && set.is_match(a))
}

fn read_small(path: &Path) -> Result<String, Failure> {
    let bytes = executor::bundle::read_path(path, MAX_CONFIG_BYTES)
        .map_err(|e| Failure::usage(format!("{}: {e}", path.display())))?;
    String::from_utf8(bytes)
        .map_err(|_| Failure::usage(format!("{}: not UTF-8 text", path.display())))
}

impl Resolver {
    pub fn new(cli: CommandLine) -> Result<Resolver, Failure> {
        let cwd = std::env::current_dir()
            .map_err(|e| Failure::usage(format!("the working directory: {e}")))?;
        let located: Vec<Located<String>> = cli
            .exclude
            .iter()
            .map(|g| Located {
                value: g.clone(),
                at: (1, 1),
            })
            .collect();
        let cli_exclude = glob_set(&located, "--exclude")?;
        let default_target = load_target(cli.target.as_ref(), cli.pve_version.as_deref())?;
        let mut resolver = Resolver {
            cli,
            cli_exclude,
            cwd,
            default_target,
            fixed: None,
            projects: Mutex::new(Vec::new()),
            dirs: Mutex::new(HashMap::new()),
            settings: Mutex::new(HashMap::new()),
        };
        if let ConfigSource::File(path) = &resolver.cli.config {
            let path = path.clone();
            let text = read_small(&path)?;
            let project = resolver
                .load(
                    &path,
                    &text,
                    path.file_name().is_some_and(|n| n == project::PYPROJECT),
                )?
                .ok_or_else(|| {
                    Failure::usage(format!(
                        "{}: has no [tool.proxmox-lxcri] table",
                        path.display()
                    ))
                })?;
            resolver.fixed = Some(Arc::new(project));
        }
        Ok(resolver)
    }

    fn absolute(&self, path: &Path) -> PathBuf {
        self.cwd.join(path)
    }

    /// Reads a config file; `None` for a pyproject.toml without our table.
    fn load(&self, path: &Path, text: &str, pyproject: bool) -> Result<Option<Project>, Failure> {
        let origin = path.display().to_string();
        let at = |e: project::ConfigError| {
            Failure::usage(match e.location {
                Some((line, column)) => format!("{origin}:{line}:{column}: {}", e.message),
                None => format!("{origin}: {}", e.message),
            })
        };
        let config = if pyproject {
            match ProjectConfig::from_pyproject(text, &origin).map_err(at)? {
                Some(c) => c,
                None => return Ok(None),
            }
        } else {
            ProjectConfig::from_toml(text, &origin).map_err(at)?
        };
        let dir = self
            .absolute(path)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("/"));
        let exclude = glob_set(&config.exclude, &origin)?;
        let per_path = config
            .per_path
            .iter()
            .map(|p| glob_set(std::slice::from_ref(&p.glob), &origin))
            .collect::<Result<Vec<_>, _>>()?;
        // The command line's --target wins; the file's is relative to the file.
        let target_file = match (&self.cli.target, &config.target) {
            (Some(t), _) => Some(t.clone()),
            (None, Some(t)) => Some(dir.join(&t.value)),
            (None, None) => None,
        };
        let target = load_target(target_file.as_ref(), self.cli.pve_version.as_deref())
            .map_err(|f| Failure::usage(format!("{origin}: target: {}", f.message)))?;
        Ok(Some(Project {
            origin,
            dir,
            config,
            exclude,
            per_path,
            target,
        }))
    }

    /// The index of the config that applies in directory `dir` (absolute).
    fn project_index(&self, dir: &Path) -> Result<Option<usize>, Failure> {
        if let Some(hit) = self.dirs.lock().ok().and_then(|d| d.get(dir).copied()) {
            return Ok(hit);
        }
        let mut found = None;
        for name in [project::FILE_NAME, project::PYPROJECT] {
            let candidate = dir.join(name);
            if std::fs::symlink_metadata(&candidate).is_err() {
                continue;
            }
            let text = read_small(&candidate)?;
            if let Some(p) = self.load(&candidate, &text, name == project::PYPROJECT)? {
                let mut projects = self.projects.lock().map_err(|_| poisoned())?;
                projects.push(Arc::new(p));
                found = Some(projects.len() - 1);
                break;
            }
        }
        if found.is_none() {
            if let Some(parent) = dir.parent() {
                found = self.project_index(parent)?;
            }
        }
        if let Ok(mut dirs) = self.dirs.lock() {
            dirs.insert(dir.to_path_buf(), found);
        }
        Ok(found)
    }

    fn project(&self, index: Option<usize>) -> Option<Arc<Project>> {
        let index = index?;
        self.projects.lock().ok()?.get(index).cloned()
    }

    /// The config that applies to `path` (a file or directory), and its index.
    fn project_of(&self, path: &Path) -> Result<(Option<usize>, Option<Arc<Project>>), Failure> {
        if let Some(fixed) = &self.fixed {
            return Ok((Some(usize::MAX), Some(fixed.clone())));
        }
        if self.cli.config == ConfigSource::Off {
            return Ok((None, None));
        }
        let abs = self.absolute(path);
        let dir = if abs.is_dir() {
            abs
        } else {
            abs.parent().map(Path::to_path_buf).unwrap_or_default()
        };
        let index = self.project_index(&dir)?;
        Ok((index, self.project(index)))
    }

    /// Whether `path` is excluded, by `--exclude` or by its config's `exclude`.
    pub fn excluded(&self, path: &Path) -> Result<bool, Failure> {
        let relative = path.strip_prefix("./").unwrap_or(path);
        if relative.is_relative() && matches(&self.cli_exclude, relative) {
            return Ok(true);
        }
        if !self.cli_exclude.is_empty() {
            if let Ok(r) = self.absolute(path).strip_prefix(&self.cwd) {
                if matches(&self.cli_exclude, r) {
                    return Ok(true);
                }
            }
        }
        let (_, project) = self.project_of(path)?;
        Ok(project.is_some_and(|p| {
            self.absolute(path)
                .strip_prefix(&p.dir)
                .is_ok_and(|r| matches(&p.exclude, r))
        }))
    }

    /// What the file at `path` (a config.json, or where stdin's config is said to be) is
    /// checked with.
    pub fn settings_for(&self, path: &Path) -> Result<Arc<FileSettings>, Failure> {
        let (index, project) = self.project_of(path)?;
        let matched: Vec<bool> = match &project {
            Some(p) => {
                let relative = self.absolute(path);
                let relative = relative.strip_prefix(&p.dir).unwrap_or(path);
                p.per_path.iter().map(|g| matches(g, relative)).collect()
            }
            None => Vec::new(),
        };
        let key = (index, matched);
        if let Some(hit) = self.settings.lock().ok().and_then(|s| s.get(&key).cloned()) {
            return Ok(hit);
        }
        let mut selection = Selection::default();
        let mut fail_on = Severity::Error;
        let mut inline_allow = true;
        let mut target = &self.default_target;
        if let Some(p) = &project {
            selection.push(p.config.base.clone());
            for (section, on) in p.config.per_path.iter().zip(&key.1) {
                if *on {
                    selection.push(section.layer.clone());
                }
            }
            fail_on = p.config.fail_on.unwrap_or(fail_on);
            inline_allow = p.config.inline_allow.unwrap_or(inline_allow);
            target = &p.target;
        }
        selection.push(Layer {
            origin: "the command line".into(),
            select: self.cli.select.clone(),
            ignore: self.cli.ignore.clone(),
            severity: Vec::new(),
        });
        let settings = Arc::new(FileSettings {
            lint: LintConfig {
                target: target.clone(),
                selection,
                ignore_annotation_allows: self.cli.no_inline_allow || !inline_allow,
            },
            fail_on: self.cli.fail_on.unwrap_or(fail_on),
        });
        if let Ok(mut s) = self.settings.lock() {
            s.insert(key, settings.clone());
        }
        Ok(settings)
    }

    /// The `help-uri-base` of the config that applies to the working directory.
    pub fn help_uri_base(&self) -> Result<Option<String>, Failure> {
        let (_, project) = self.project_of(&self.cwd.clone())?;
        Ok(project.and_then(|p| p.config.help_uri_base.clone()))
    }
}

fn poisoned() -> Failure {
    Failure::usage("internal error: a lock was poisoned")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(globs: &[&str]) -> GlobSet {
        let located: Vec<Located<String>> = globs
            .iter()
            .map(|g| Located {
                value: g.to_string(),
                at: (1, 1),
            })
            .collect();
        glob_set(&located, "t").unwrap_or_else(|f| panic!("{}", f.message))
    }

    #[test]
    fn globs_match_the_path_or_a_parent_and_bare_names_at_any_depth() {
        let s = set(&["vendor/**", "testdata", "legacy/*/config.json"]);
        assert!(matches(&s, Path::new("vendor/a/config.json")));
        assert!(matches(&s, Path::new("x/testdata/b/config.json")));
        assert!(matches(&s, Path::new("legacy/web/config.json")));
        assert!(!matches(&s, Path::new("legacy/a/b/config.json")));
        assert!(!matches(&s, Path::new("src/vendorx/config.json")));
        assert!(!matches(&set(&[]), Path::new("a")));
        let bad = glob_set(
            &[Located {
                value: "a/[".into(),
                at: (3, 4),
            }],
            "p.toml",
        );
        assert!(bad.is_err_and(|f| f.message.starts_with("p.toml:3:4: `a/[` is not a glob")));
    }
}
