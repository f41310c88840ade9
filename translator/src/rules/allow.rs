//! Allow entries: a rule code or a whole family (`pve/*`), as `--allow`, the
//! node policy and a bundle's `org.proxmox-lxcri.lint.allow` annotation write
//! them.

use super::Rule;

/// One allowed code or family.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Allow {
    /// One rule, by its code.
    Rule(&'static Rule),
    /// Every rule whose code starts with `family/`.
    Family(String),
}

/// An allow entry that names no registered rule or family.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{code}` is not a rule code or a family (`family/*`){}", suggestion.map(|s| format!("; did you mean `{s}`?")).unwrap_or_default())]
pub struct UnknownCode {
    /// The entry as given (trimmed).
    pub code: String,
    /// The nearest registered code, when one is close.
    pub suggestion: Option<&'static str>,
}

impl Allow {
    /// Reads an allow entry: a code (`pve/unsupported-field`) or a family (`pve/*` or `pve`).
    pub fn parse(entry: &str) -> Result<Allow, UnknownCode> {
        let entry = entry.trim();
        if let Some(rule) = super::find(entry) {
            return Ok(Allow::Rule(rule));
        }
        let family = entry.strip_suffix("/*").unwrap_or(entry);
        if !family.is_empty()
            && super::all_rules().any(|r| r.code.split('/').next() == Some(family))
        {
            return Ok(Allow::Family(family.to_string()));
        }
        let suggestion = crate::diag::suggest(entry, super::all_rules().map(|r| r.code));
        Err(UnknownCode {
            code: entry.to_string(),
            suggestion,
        })
    }

    pub(crate) fn matches(&self, code: &str) -> bool {
        match self {
            Allow::Rule(rule) => rule.code == code,
            Allow::Family(family) => code
                .strip_prefix(family.as_str())
                .is_some_and(|rest| rest.starts_with('/')),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_families() {
        assert_eq!(
            Allow::parse("security/privileged").map(|a| a.matches("security/privileged")),
            Ok(true)
        );
        let family = Allow::parse("pve/*");
        assert_eq!(family.as_ref().map(|a| a.matches("pve/lossy")), Ok(true));
        assert_eq!(family.as_ref().map(|a| a.matches("pvex/lossy")), Ok(false));
        assert!(Allow::parse("security/privilged")
            .is_err_and(|e| e.suggestion == Some("security/privileged")));
        assert!(Allow::parse("nope/*").is_err());
        assert!(Allow::parse("").is_err());
    }
}
