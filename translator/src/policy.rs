//! The node policy: which findings refuse a container on this node.
//!
//! `lint` reports findings; `create`, `run` and `apply` refuse the ones the
//! policy says refuse, before the first host call. The policy is the node's
//! (trusted: root wrote it), never the bundle's: a bundle's
//! `org.proxmox-lxcri.lint.allow` annotation documents an allow for `lint`
//! and has no say here.
//!
//! ```text
//! finding ──▶ error?                        ── refuse (always)
//!         ──▶ --allow of this run?          ── allow
//!         ──▶ policy file entry?            ── its verdict (most specific entry; a tie refuses)
//!         ──▶ built-in refusal?             ── refuse
//!         ──▶ severity ≥ refuse-severity?   ── refuse
//!         ──▶                                  allow
//! ```
//!
//! Pure: the caller reads the policy file and hands over its text.

use serde::Deserialize;

use crate::diag::{Diagnostic, Severity};
use crate::rules::security;
use crate::rules::Allow;
use crate::rules::Rule;

/// What runs the container: the policy can differ per back end (OCI hooks
/// are dropped on Proxmox but run on the host by crun).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Backend {
    /// Proxmox VE: `pct` and the plan.
    Pct,
    /// crun, with the config the crun back end writes.
    Crun,
}

impl Backend {
    /// The name used in policy files and messages (`pct`, `crun`).
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Pct => "pct",
            Backend::Crun => "crun",
        }
    }
}

/// The format version this build reads.
pub(crate) const FORMAT_VERSION: u32 = 1;

/// Findings the built-in policy refuses on every back end: host root or system
/// directories as rootfs or bind source, Proxmox's state, runtime sockets,
/// dangerous devices, host disks and kernel file systems.
pub static BUILTIN_REFUSE: &[&Rule] = &[
    &security::HOST_ROOTFS,
    &security::SENSITIVE_HOST_MOUNT,
    &security::PROXMOX_STATE_MOUNT,
    &security::HOST_SOCKET,
    &security::HOST_SYSTEM_MOUNT,
    &security::DANGEROUS_DEVICE,
    &security::HOST_BLOCK_MOUNT,
    &security::KERNEL_FILESYSTEM,
];

/// Findings the built-in policy refuses on the crun back end only. Proxmox
/// drops OCI hooks (`pve/unsupported`) and mounts /proc and /sys itself
/// (LXC's `lxc.mount.auto = proc:mixed sys:mixed`), so on pct neither reaches the host.
pub static BUILTIN_REFUSE_CRUN: &[&Rule] = &[&security::OCI_HOOKS, &security::WRITABLE_PROC_SYS];

/// Where a verdict comes from, for the message that explains it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reason {
    /// Errors always refuse: the config cannot be translated as written.
    Error,
    /// `--allow` for this run.
    RunAllow(String),
    /// An entry of the policy file (`refuse`/`allow`, top level or `[pct]`/`[crun]`).
    File {
        /// The entry as written.
        entry: String,
        /// The back end section it is in; none at the top level.
        section: Option<Backend>,
    },
    /// The built-in defaults.
    Builtin,
    /// The policy's `refuse-severity`.
    Severity(Severity),
    /// Nothing refuses it.
    NotListed,
}

/// What the policy says about one finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    /// Whether the finding refuses the bundle.
    pub refused: bool,
    /// Which entry decided it.
    pub reason: Reason,
}

impl Decision {
    /// Why, in words: "refused by the built-in policy", "allowed by --allow security/*".
    pub fn explain(&self) -> String {
        let verdict = if self.refused { "refused" } else { "allowed" };
        match &self.reason {
            Reason::Error => "refused: errors always refuse".into(),
            Reason::RunAllow(entry) => format!("{verdict} by --allow {entry}"),
            Reason::File {
                entry,
                section: None,
            } => format!("{verdict} by the policy file's `{entry}`"),
            Reason::File {
                entry,
                section: Some(b),
            } => format!(
                "{verdict} by the policy file's `{entry}` in [{}]",
                b.as_str()
            ),
            Reason::Builtin => format!("{verdict} by the built-in policy"),
            Reason::Severity(s) => format!("{verdict}: the policy refuses every {s}"),
            Reason::NotListed => "allowed: the policy does not refuse it".into(),
        }
    }
}

/// One `refuse` or `allow` entry of the policy file.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Entry {
    allow: Allow,
    text: String,
    refuse: bool,
    section: Option<Backend>,
}

impl Entry {
    /// Higher is more specific: a rule over a family, a back-end section over the top level.
    fn rank(&self) -> (bool, bool) {
        (matches!(self.allow, Allow::Rule(_)), self.section.is_some())
    }
}

/// The node policy: built-in defaults, the node's file, and this run's `--allow`s.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Findings at or above this severity refuse unless allowed; errors always do.
    refuse_severity: Severity,
    file: Vec<Entry>,
    run_allows: Vec<Allow>,
    /// The `[exec]` rules: what a process started by `exec` in a running container may be.
    exec: ExecRules,
}

/// `[exec] root`: whether an `exec`'d process may run as uid 0 (of the container).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ExecRoot {
    /// Any uid (the default: engines' `exec` and health checks run as the image's user, often 0).
    #[default]
    Allow,
    /// Never uid 0.
    Refuse,
    /// Not uid 0 in a container without a user namespace, where it is the node's root.
    RefuseWithoutUserns,
}

/// `[exec] rlimits`: whether an `exec`'d process may have resource limits above the
/// container's. The runtime sets them as root before the process starts (crun's
/// `setrlimit` in `libcrun_container_exec`), so a process could otherwise give itself limits
/// the container was not created with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ExecRlimits {
    /// Any limits (the default).
    #[default]
    Allow,
    /// No hard or soft limit above the container's hard limit of the same type, and no type
    /// the container's own process does not set (it inherited the runtime's).
    NotAboveContainer,
}

/// The policy's `[exec]` section.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExecRules {
    /// `root`: uid 0.
    pub root: ExecRoot,
    /// `rlimits`: resource limits.
    pub rlimits: ExecRlimits,
}

/// One resource limit of an OCI process (`process.rlimits[]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rlimit {
    /// `RLIMIT_NOFILE`, …
    pub kind: String,
    /// `soft`.
    pub soft: u64,
    /// `hard`.
    pub hard: u64,
}

/// What [`Policy::exec_refusals`] judges: the process `exec` would start, and the container
/// it would start in (from the runtime's own record of it, never from the bundle again).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExecProcess {
    /// `process.user.uid` of the exec'd process.
    pub uid: u32,
    /// Whether the container has a user namespace (uid 0 in it is not the node's root).
    pub user_namespace: bool,
    /// The exec'd process's `rlimits`.
    pub rlimits: Vec<Rlimit>,
    /// The container's own process's `rlimits`.
    pub container_rlimits: Vec<Rlimit>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy::builtin()
    }
}

/// A policy file that cannot be used: where and why (the caller exits 2).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", location.map(|(l, c)| format!("line {l}, column {c}: ")).unwrap_or_default())]
pub struct PolicyError {
    /// What is wrong.
    pub message: String,
    /// 1-based line and column, when the problem has a place.
    pub location: Option<(usize, usize)>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct FileFormat {
    version: toml::Spanned<u32>,
    #[serde(default)]
    refuse_severity: Option<toml::Spanned<String>>,
    #[serde(default)]
    refuse: Vec<toml::Spanned<String>>,
    #[serde(default)]
    allow: Vec<toml::Spanned<String>>,
    #[serde(default)]
    pct: Section,
    #[serde(default)]
    crun: Section,
    #[serde(default)]
    exec: ExecSection,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ExecSection {
    #[serde(default)]
    root: Option<toml::Spanned<String>>,
    #[serde(default)]
    rlimits: Option<toml::Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Section {
    #[serde(default)]
    refuse: Vec<toml::Spanned<String>>,
    #[serde(default)]
    allow: Vec<toml::Spanned<String>>,
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

impl Policy {
    /// The safe defaults: every error, [`BUILTIN_REFUSE`], and on crun [`BUILTIN_REFUSE_CRUN`].
    pub fn builtin() -> Self {
        Policy {
            refuse_severity: Severity::Error,
            file: Vec::new(),
            run_allows: Vec::new(),
            exec: ExecRules::default(),
        }
    }

    /// The built-in defaults changed by a policy file (see docs/policy.example.toml).
    pub fn from_toml(text: &str) -> Result<Self, PolicyError> {
        let at = |span: std::ops::Range<usize>| Some(line_col(text, span.start));
        let parsed: FileFormat = toml::from_str(text).map_err(|e| PolicyError {
            message: e.message().trim_end().to_string(),
            location: e.span().and_then(&at),
        })?;
        if *parsed.version.get_ref() != FORMAT_VERSION {
            return Err(PolicyError {
                message: format!("policy format version {} is not supported; this build reads version {FORMAT_VERSION}", parsed.version.get_ref()),
                location: at(parsed.version.span()),
            });
        }
        let refuse_severity = match &parsed.refuse_severity {
            None => Severity::Error,
            Some(s) => match s.get_ref().as_str() {
                "error" => Severity::Error,
                "warning" => Severity::Warning,
                "info" => Severity::Info,
                other => {
                    return Err(PolicyError {
                        message: format!(
                            "refuse-severity is `{}`; expected \"error\", \"warning\" or \"info\"",
                            other.escape_debug()
                        ),
                        location: at(s.span()),
                    })
                }
            },
        };
        let choice = |key: &str, v: &Option<toml::Spanned<String>>, expected: &[&str]| {
            let Some(v) = v else {
                return Ok(None);
            };
            match expected.iter().position(|e| e == v.get_ref()) {
                Some(i) => Ok(Some(i)),
                None => Err(PolicyError {
                    message: format!(
                        "exec.{key} is `{}`; expected {}",
                        v.get_ref().escape_debug(),
                        expected
                            .iter()
                            .map(|e| format!("\"{e}\""))
                            .collect::<Vec<_>>()
                            .join(" or ")
                    ),
                    location: at(v.span()),
                }),
            }
        };
        let root = ["allow", "refuse", "refuse-without-userns"];
        let exec = ExecRules {
            root: match choice("root", &parsed.exec.root, &root)? {
                None | Some(0) => ExecRoot::Allow,
                Some(1) => ExecRoot::Refuse,
                Some(_) => ExecRoot::RefuseWithoutUserns,
            },
            rlimits: match choice(
                "rlimits",
                &parsed.exec.rlimits,
                &["allow", "not-above-container"],
            )? {
                None | Some(0) => ExecRlimits::Allow,
                Some(_) => ExecRlimits::NotAboveContainer,
            },
        };
        let mut file = Vec::new();
        let lists = [
            (&parsed.refuse, true, None),
            (&parsed.allow, false, None),
            (&parsed.pct.refuse, true, Some(Backend::Pct)),
            (&parsed.pct.allow, false, Some(Backend::Pct)),
            (&parsed.crun.refuse, true, Some(Backend::Crun)),
            (&parsed.crun.allow, false, Some(Backend::Crun)),
        ];
        for (list, refuse, section) in lists {
            for item in list {
                let text_entry = item.get_ref().trim().to_string();
                let allow = Allow::parse(&text_entry).map_err(|e| PolicyError {
                    message: e.to_string(),
                    location: at(item.span()),
                })?;
                file.push(Entry {
                    allow,
                    text: text_entry,
                    refuse,
                    section,
                });
            }
        }
        Ok(Policy {
            refuse_severity,
            file,
            run_allows: Vec::new(),
            exec,
        })
    }

    /// The `[exec]` rules of this policy.
    pub fn exec_rules(&self) -> ExecRules {
        self.exec
    }

    /// Why the `[exec]` rules refuse this process, one sentence per reason; empty when they
    /// allow it. `--allow` has no say here: these are not lint findings.
    pub fn exec_refusals(&self, p: &ExecProcess) -> Vec<String> {
        let mut why = Vec::new();
        match self.exec.root {
            ExecRoot::Refuse if p.uid == 0 => why.push(
                "the process runs as uid 0, and the node policy's `[exec] root = \"refuse\"` refuses that".to_string(),
            ),
            ExecRoot::RefuseWithoutUserns if p.uid == 0 && !p.user_namespace => why.push(
                "the process runs as uid 0 in a container without a user namespace (the node's root), and the node policy's `[exec] root = \"refuse-without-userns\"` refuses that".to_string(),
            ),
            _ => {}
        }
        if self.exec.rlimits == ExecRlimits::NotAboveContainer {
            for r in &p.rlimits {
                let own = p.container_rlimits.iter().find(|c| c.kind == r.kind);
                let above = match own {
                    None => Some(format!(
                        "the process sets {} (soft {}, hard {}), which the container's own process does not set",
                        r.kind, r.soft, r.hard
                    )),
                    Some(c) if r.hard > c.hard || r.soft > c.hard => Some(format!(
                        "the process's {} (soft {}, hard {}) is above the container's hard limit {}",
                        r.kind, r.soft, r.hard, c.hard
                    )),
                    Some(_) => None,
                };
                if let Some(a) = above {
                    why.push(format!(
                        "{a}, and the node policy's `[exec] rlimits = \"not-above-container\"` refuses that"
                    ));
                }
            }
        }
        why
    }

    /// Allows a code or family for this run (`--allow`); it outranks the file and the defaults.
    pub fn allow(&mut self, a: Allow) {
        self.run_allows.push(a);
    }

    /// The verdict for a finding of `code` at `severity` on a back end.
    pub fn decide(&self, code: &str, severity: Severity, backend: Backend) -> Decision {
        let refused = |reason| Decision {
            refused: true,
            reason,
        };
        let allowed = |reason| Decision {
            refused: false,
            reason,
        };
        if severity == Severity::Error {
            return refused(Reason::Error);
        }
        if let Some(a) = self.run_allows.iter().find(|a| a.matches(code)) {
            return allowed(Reason::RunAllow(allow_text(a)));
        }
        let matching = self
            .file
            .iter()
            .filter(|e| e.section.is_none_or(|s| s == backend) && e.allow.matches(code));
        // The most specific entry decides; between equally specific ones, refusing wins.
        let best = matching.fold(None::<&Entry>, |best, e| match best {
            Some(b) if (b.rank(), b.refuse) >= (e.rank(), e.refuse) => Some(b),
            _ => Some(e),
        });
        if let Some(e) = best {
            let reason = Reason::File {
                entry: e.text.clone(),
                section: e.section,
            };
            return if e.refuse {
                refused(reason)
            } else {
                allowed(reason)
            };
        }
        let builtin = BUILTIN_REFUSE.iter().chain(if backend == Backend::Crun {
            BUILTIN_REFUSE_CRUN
        } else {
            &[]
        });
        if builtin.into_iter().any(|r| r.code == code) {
            return refused(Reason::Builtin);
        }
        if severity >= self.refuse_severity {
            return refused(Reason::Severity(self.refuse_severity));
        }
        allowed(Reason::NotListed)
    }

    /// Whether the policy refuses this finding on a back end.
    pub(crate) fn refuses(&self, d: &Diagnostic, backend: Backend) -> bool {
        self.decide(d.code(), d.severity, backend).refused
    }

    /// The findings that refuse, in their order. Pass every finding the
    /// rules produced, including those a bundle annotation allowed for lint.
    pub fn refusals<'d>(
        &self,
        findings: &'d [Diagnostic],
        backend: Backend,
    ) -> Vec<&'d Diagnostic> {
        findings
            .iter()
            .filter(|d| self.refuses(d, backend))
            .collect()
    }
}

fn allow_text(a: &Allow) -> String {
    match a {
        Allow::Rule(r) => r.code.to_string(),
        Allow::Family(f) => format!("{f}/*"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{pve, security as sec};
    use Backend::{Crun, Pct};
    use Severity::{Error, Info, Warning};

    fn refused(p: &Policy, rule: &Rule, b: Backend) -> bool {
        p.decide(rule.code, rule.severity, b).refused
    }

    #[test]
    fn builtin_refuses_what_the_issue_lists() {
        let p = Policy::builtin();
        for rule in [
            &sec::HOST_ROOTFS,
            &sec::SENSITIVE_HOST_MOUNT,
            &sec::PROXMOX_STATE_MOUNT,
            &sec::HOST_SOCKET,
            &sec::HOST_SYSTEM_MOUNT,
            &sec::DANGEROUS_DEVICE,
            &sec::HOST_BLOCK_MOUNT,
            &sec::KERNEL_FILESYSTEM,
        ] {
            assert!(
                refused(&p, rule, Pct) && refused(&p, rule, Crun),
                "{}",
                rule.code
            );
        }
        assert!(refused(&p, &sec::OCI_HOOKS, Crun));
        assert!(
            !refused(&p, &sec::OCI_HOOKS, Pct),
            "pct drops hooks with pve/unsupported"
        );
        assert!(!refused(&p, &sec::PRIVILEGED, Pct));
        assert!(
            !refused(&p, &sec::ROOTFS_OUTSIDE_BUNDLE, Pct),
            "the operator's --rootfs-outside-bundle decides"
        );
        assert!(!refused(&p, &pve::LOSSY, Crun));
        assert!(
            p.decide(pve::LOSSY.code, Error, Pct).refused,
            "every error refuses"
        );
    }

    #[test]
    fn run_allows_outrank_everything_but_errors() {
        let mut p = Policy::builtin();
        p.allow(Allow::parse("security/*").unwrap_or_else(|e| panic!("{e}")));
        assert!(!refused(&p, &sec::PROXMOX_STATE_MOUNT, Pct));
        assert!(!refused(&p, &sec::OCI_HOOKS, Crun));
        assert!(
            refused(&p, &sec::HOST_ROOTFS, Pct),
            "host-rootfs is an error"
        );
        assert_eq!(
            p.decide(sec::OCI_HOOKS.code, Warning, Crun).explain(),
            "allowed by --allow security/*"
        );
    }

    #[test]
    fn file_entries() {
        let p = Policy::from_toml(
            "version = 1\nrefuse-severity = \"warning\"\nrefuse = [\"security/privileged\"]\nallow = [\"pve/*\", \"security/dangerous-device\"]\n[crun]\nallow = [\"security/oci-hooks\"]\nrefuse = [\"pve/lossy\"]\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(refused(&p, &sec::PRIVILEGED, Pct));
        assert!(
            !refused(&p, &sec::DANGEROUS_DEVICE, Pct),
            "the file overrides a built-in refusal"
        );
        assert!(!refused(&p, &sec::OCI_HOOKS, Crun));
        assert!(!refused(&p, &pve::LOSSY, Pct), "pve/* allows it on pct");
        assert!(
            refused(&p, &pve::LOSSY, Crun),
            "[crun] is more specific than the top level"
        );
        assert!(
            refused(&p, &sec::NO_SECCOMP, Pct),
            "refuse-severity = warning"
        );
        assert!(!p.decide(sec::NO_SECCOMP.code, Info, Pct).refused);
        assert!(refused(&p, &sec::HOST_SOCKET, Pct));
        let d = p.decide(pve::LOSSY.code, Warning, Crun);
        assert_eq!(
            d.explain(),
            "refused by the policy file's `pve/lossy` in [crun]"
        );
    }

    #[test]
    fn more_specific_entries_win_and_ties_refuse() {
        let p = Policy::from_toml(
            "version = 1\nrefuse = [\"security/*\"]\nallow = [\"security/privileged\"]\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(!refused(&p, &sec::PRIVILEGED, Pct));
        assert!(refused(&p, &sec::NO_SECCOMP, Pct));
        let p = Policy::from_toml(
            "version = 1\nrefuse = [\"security/privileged\"]\nallow = [\"security/privileged\"]\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(refused(&p, &sec::PRIVILEGED, Pct));
    }

    #[test]
    fn errors_in_the_file_say_where() {
        let err = |text: &str| {
            Policy::from_toml(text)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        assert!(err("").contains("version"), "{}", err(""));
        assert!(
            err("version = 2").starts_with("line 1, column 11: policy format version 2"),
            "{}",
            err("version = 2")
        );
        let unknown = err("version = 1\nalow = []\n");
        assert!(
            unknown.starts_with("line 2, column 1:") && unknown.contains("alow"),
            "{unknown}"
        );
        let code = err("version = 1\nallow = [\"security/privilged\"]\n");
        assert!(
            code.starts_with("line 2, column 10:")
                && code.contains("did you mean `security/privileged`"),
            "{code}"
        );
        assert!(err("version = 1\n[lxc]\nallow = []\n").contains("lxc"));
        assert!(err("version = 1\n[crun]\ndeny = []\n").contains("deny"));
        assert!(err("version = 1\nrefuse-severity = \"fatal\"\n").contains("fatal"));
        assert!(err("version = [").starts_with("line 1"));
        assert!(Policy::from_toml("version = 1").is_ok_and(|p| p == Policy::builtin()));
    }

    /// The shipped example parses as it is (the defaults), and with every setting enabled.
    #[test]
    fn the_example_file_is_valid() {
        let example = include_str!("../../docs/policy.example.toml");
        assert_eq!(Policy::from_toml(example), Ok(Policy::builtin()));
        let enabled: String = example
            .lines()
            .map(|l| {
                if l.starts_with('#') && !l.starts_with("# ") && l != "#" {
                    &l[1..]
                } else {
                    l
                }
            })
            .map(|l| format!("{l}\n"))
            .collect();
        let p = Policy::from_toml(&enabled).unwrap_or_else(|e| panic!("{e}\n{enabled}"));
        assert!(
            refused(&p, &sec::PRIVILEGED, Pct)
                && !refused(&p, &sec::DANGEROUS_DEVICE, Pct)
                && !refused(&p, &sec::OCI_HOOKS, Crun)
        );
        // The comment lists the defaults this file describes.
        for rule in BUILTIN_REFUSE.iter().chain(BUILTIN_REFUSE_CRUN) {
            assert!(
                example.contains(rule.code),
                "{} is not in the example's list of defaults",
                rule.code
            );
        }
    }

    #[test]
    fn refusals_keeps_the_order() {
        let findings = vec![
            Diagnostic::new(&sec::PRIVILEGED, "a"),
            Diagnostic::new(&sec::PROXMOX_STATE_MOUNT, "b"),
            Diagnostic::new(&sec::OCI_HOOKS, "c"),
            Diagnostic::new(&sec::DANGEROUS_DEVICE, "d"),
        ];
        let msgs = |b| {
            Policy::builtin()
                .refusals(&findings, b)
                .iter()
                .map(|d| d.message.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(msgs(Pct), ["b", "d"]);
        assert_eq!(msgs(Crun), ["b", "c", "d"]);
    }

    fn rl(kind: &str, soft: u64, hard: u64) -> Rlimit {
        Rlimit {
            kind: kind.into(),
            soft,
            hard,
        }
    }

    #[test]
    fn exec_rules_judge_uid_0_and_raised_rlimits() {
        let process = |uid, user_namespace, rlimits: Vec<Rlimit>| ExecProcess {
            uid,
            user_namespace,
            rlimits,
            container_rlimits: vec![rl("RLIMIT_NOFILE", 1024, 4096)],
        };
        // The defaults allow both (what engines' exec and health checks need).
        let builtin = Policy::builtin();
        assert!(builtin
            .exec_refusals(&process(
                0,
                false,
                vec![rl("RLIMIT_NOFILE", 1 << 20, 1 << 20)]
            ))
            .is_empty());

        let p = Policy::from_toml("version = 1\n[exec]\nroot = \"refuse\"\n").unwrap();
        assert_eq!(p.exec_refusals(&process(0, true, vec![])).len(), 1);
        assert!(p.exec_refusals(&process(1000, false, vec![])).is_empty());

        let p = Policy::from_toml(
            "version = 1\n[exec]\nroot = \"refuse-without-userns\"\nrlimits = \"not-above-container\"\n",
        )
        .unwrap();
        assert!(p.exec_refusals(&process(0, true, vec![])).is_empty());
        let why = p.exec_refusals(&process(0, false, vec![]));
        assert!(why[0].contains("without a user namespace"), "{why:?}");
        // At or below the container's hard limit: allowed; above, or a type it does not set:
        // refused, each named.
        assert!(p
            .exec_refusals(&process(7, false, vec![rl("RLIMIT_NOFILE", 4096, 4096)]))
            .is_empty());
        for (limit, says) in [
            (
                rl("RLIMIT_NOFILE", 1024, 4097),
                "above the container's hard limit 4096",
            ),
            (
                rl("RLIMIT_NOFILE", 8192, 1024),
                "above the container's hard limit 4096",
            ),
            (
                rl("RLIMIT_NPROC", 1, 1),
                "RLIMIT_NPROC (soft 1, hard 1), which the container",
            ),
        ] {
            let why = p.exec_refusals(&process(7, false, vec![limit]));
            assert!(why.len() == 1 && why[0].contains(says), "{why:?}");
        }
        // Both reasons at once.
        assert_eq!(
            p.exec_refusals(&process(0, false, vec![rl("RLIMIT_CORE", 0, 0)]))
                .len(),
            2
        );
    }

    #[test]
    fn bad_exec_rules_name_the_line() {
        for (text, says, line) in [
            (
                "version = 1\n[exec]\nroot = \"never\"\n",
                "exec.root is `never`",
                3,
            ),
            (
                "version = 1\n\n[exec]\n\nrlimits = \"lower\"\n",
                "exec.rlimits is `lower`",
                5,
            ),
            ("version = 1\n[exec]\nuid = 0\n", "unknown field `uid`", 3),
        ] {
            let e = Policy::from_toml(text).unwrap_err();
            assert!(e.message.contains(says), "{text}: {e}");
            assert_eq!(e.location.map(|l| l.0), Some(line), "{text}: {e}");
        }
    }
}
