//! Which rules a run reports, and at which severity: `select`, `ignore` and
//! `severity` entries from the project config (`proxmox-lxcri.toml`), its
//! `[[per-path]]` sections and the command line (`--select`, `--ignore`,
//! `--allow`), layered in that order.
//!
//! For one code, the most specific matching entry decides (a rule over a
//! family), then the later layer (the command line over the file, a
//! `[[per-path]]` section over the file's top level), then `ignore` over
//! `select`. A code no entry matches is reported, unless some layer has a
//! `select` list: then only what is selected is. This is ruff's model:
//! `select = ["security"]` with `ignore = ["security/no-seccomp"]` reports every
//! security rule but one, and `ignore = ["pve"]` with `select = ["pve/version"]`
//! reports one pve rule.
//!
//! Pure data: the CLI reads the files and builds the layers.

use crate::diag::Severity;
use crate::rules::Allow;

/// One source of entries: the project config's top level, one of its
/// `[[per-path]]` sections, or the command line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Layer {
    /// Where the entries come from, for the messages that say why a finding
    /// was not reported (`proxmox-lxcri.toml`, `--ignore`).
    pub origin: String,
    /// Only these codes and families, when given.
    pub select: Option<Vec<Allow>>,
    /// Codes and families not reported.
    pub ignore: Vec<Allow>,
    /// The severity a code or family is reported at.
    pub severity: Vec<(Allow, Severity)>,
}

/// The layers of a run, lowest precedence first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selection {
    layers: Vec<Layer>,
}

/// Whether a code is reported, and if not, why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Reported.
    Reported,
    /// Not reported: the entry (or the missing `select`) that decided it, in words.
    Ignored(String),
}

/// A rule entry is more specific than a family entry.
fn specificity(a: &Allow) -> u8 {
    match a {
        Allow::Rule(_) => 1,
        Allow::Family(_) => 0,
    }
}

/// An entry as its author wrote it, for messages.
pub fn entry_text(a: &Allow) -> String {
    match a {
        Allow::Rule(r) => r.code.to_string(),
        Allow::Family(f) => format!("{f}/*"),
    }
}

impl Selection {
    /// Adds a layer above the ones already there.
    pub fn push(&mut self, layer: Layer) {
        self.layers.push(layer);
    }

    /// Whether nothing changes what the rules report.
    pub fn is_empty(&self) -> bool {
        self.layers
            .iter()
            .all(|l| l.select.is_none() && l.ignore.is_empty() && l.severity.is_empty())
    }

    /// Whether a finding of `code` is reported.
    pub fn decide(&self, code: &str) -> Verdict {
        // (specificity, layer, ignore over select), and what to say if it ignores.
        let mut best: Option<((u8, usize, bool), String)> = None;
        let mut any_select = false;
        for (i, layer) in self.layers.iter().enumerate() {
            let selected = layer.select.iter().flatten().map(|a| (a, false));
            any_select |= layer.select.is_some();
            for (a, ignore) in selected.chain(layer.ignore.iter().map(|a| (a, true))) {
                if !a.matches(code) {
                    continue;
                }
                let rank = (specificity(a), i, ignore);
                if best.as_ref().is_none_or(|(b, _)| rank > *b) {
                    let why = format!("ignored by `{}` in {}", entry_text(a), layer.origin);
                    best = Some((rank, why));
                }
            }
        }
        match best {
            Some(((_, _, true), why)) => Verdict::Ignored(why),
            Some(_) => Verdict::Reported,
            None if any_select => {
                let origins: Vec<&str> = self
                    .layers
                    .iter()
                    .filter(|l| l.select.is_some())
                    .map(|l| l.origin.as_str())
                    .collect();
                Verdict::Ignored(format!("not selected by {}", origins.join(", ")))
            }
            None => Verdict::Reported,
        }
    }

    /// The severity a finding of `code` found at `found` is reported at.
    pub fn severity(&self, code: &str, found: Severity) -> Severity {
        let mut best: Option<((u8, usize), Severity)> = None;
        for (i, layer) in self.layers.iter().enumerate() {
            for (a, s) in &layer.severity {
                let rank = (specificity(a), i);
                if a.matches(code) && best.is_none_or(|(b, _)| rank >= b) {
                    best = Some((rank, *s));
                }
            }
        }
        best.map_or(found, |(_, s)| s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allows(entries: &[&str]) -> Vec<Allow> {
        entries
            .iter()
            .map(|e| Allow::parse(e).unwrap_or_else(|err| panic!("{err}")))
            .collect()
    }

    fn layer(origin: &str, select: Option<&[&str]>, ignore: &[&str]) -> Layer {
        Layer {
            origin: origin.into(),
            select: select.map(allows),
            ignore: allows(ignore),
            severity: Vec::new(),
        }
    }

    #[test]
    fn everything_is_reported_without_entries() {
        let s = Selection::default();
        assert!(s.is_empty());
        assert_eq!(s.decide("pve/lossy"), Verdict::Reported);
        assert_eq!(s.severity("pve/lossy", Severity::Info), Severity::Info);
    }

    #[test]
    fn the_most_specific_entry_decides_then_the_later_layer() {
        let mut s = Selection::default();
        s.push(layer("file", Some(&["security"]), &["security/no-seccomp"]));
        assert_eq!(s.decide("security/privileged"), Verdict::Reported);
        assert_eq!(
            s.decide("security/no-seccomp"),
            Verdict::Ignored("ignored by `security/no-seccomp` in file".into())
        );
        assert_eq!(
            s.decide("pve/lossy"),
            Verdict::Ignored("not selected by file".into())
        );
        // A rule selected over its ignored family.
        let mut s = Selection::default();
        s.push(layer("file", None, &["pve"]));
        s.push(layer("--select", Some(&["pve/version"]), &[]));
        assert_eq!(s.decide("pve/version"), Verdict::Reported);
        assert!(matches!(s.decide("pve/lossy"), Verdict::Ignored(_)));
        // Same specificity: the later layer wins; in one layer, ignore wins.
        let mut s = Selection::default();
        s.push(layer("file", None, &["pve/lossy"]));
        s.push(layer("cli", Some(&["pve/lossy"]), &[]));
        assert_eq!(s.decide("pve/lossy"), Verdict::Reported);
        let mut s = Selection::default();
        s.push(layer("one", Some(&["pve/lossy"]), &["pve/lossy"]));
        assert!(matches!(s.decide("pve/lossy"), Verdict::Ignored(_)));
    }

    #[test]
    fn severity_overrides_by_specificity_then_layer() {
        let mut s = Selection::default();
        s.push(Layer {
            origin: "file".into(),
            severity: vec![
                (allows(&["pve/lossy"])[0].clone(), Severity::Error),
                (allows(&["pve"])[0].clone(), Severity::Info),
            ],
            ..Layer::default()
        });
        assert_eq!(s.severity("pve/lossy", Severity::Warning), Severity::Error);
        assert_eq!(s.severity("pve/version", Severity::Warning), Severity::Info);
        assert_eq!(
            s.severity("security/privileged", Severity::Warning),
            Severity::Warning
        );
        s.push(Layer {
            origin: "per-path".into(),
            severity: vec![(allows(&["pve/lossy"])[0].clone(), Severity::Info)],
            ..Layer::default()
        });
        assert_eq!(s.severity("pve/lossy", Severity::Warning), Severity::Info);
    }
}
