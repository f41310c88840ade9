//! Validated newtypes: constructing one proves the value is acceptable to Proxmox.

use std::fmt;

/// A Proxmox `dns-name`: labels of `[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?` joined by `.`, at most 255 bytes.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Hostname(String);

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum HostnameError {
    #[error("a host name cannot be empty")]
    Empty,
    #[error("a host name is at most 255 characters long ({0} given)")]
    TooLong(usize),
    #[error("the label `{0}` is not a valid DNS label (letters, digits and inner hyphens)")]
    BadLabel(String),
}

impl Hostname {
    pub(crate) fn new(s: &str) -> Result<Hostname, HostnameError> {
        if s.is_empty() {
            return Err(HostnameError::Empty);
        }
        if s.len() > 255 {
            return Err(HostnameError::TooLong(s.len()));
        }
        for label in s.split('.') {
            let bytes = label.as_bytes();
            let ok = !bytes.is_empty()
                && bytes
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
                && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
                && bytes.last().is_some_and(u8::is_ascii_alphanumeric);
            if !ok {
                return Err(HostnameError::BadLabel(label.to_string()));
            }
        }
        Ok(Hostname(s.to_string()))
    }

    /// The validated name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Hostname {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A Proxmox tag: `[a-z0-9_][a-z0-9_\-+.]*` (stored lowercased).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag(String);

impl Tag {
    pub(crate) fn new(s: &str) -> Option<Tag> {
        let lower = s.to_ascii_lowercase();
        let mut bytes = lower.bytes();
        let first_ok = bytes
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if first_ok
            && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-+.".contains(&b))
        {
            Some(Tag(lower))
        } else {
            None
        }
    }

    /// The validated tag.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Memory in MiB, at least Proxmox's minimum of 16.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct MemoryMiB(u64);

impl MemoryMiB {
    pub(crate) const MIN: u64 = 16;

    /// Rounds bytes up to whole MiB; `None` below the 16 MiB minimum.
    pub(crate) fn from_bytes(bytes: u64) -> Option<MemoryMiB> {
        (bytes >= Self::MIN * 1024 * 1024).then(|| MemoryMiB(bytes.div_ceil(1024 * 1024)))
    }

    /// The size in MiB.
    pub fn get(self) -> u64 {
        self.0
    }
}

/// An absolute path inside the container with no `.`/`..` components and no
/// characters that would break a property string or a config line.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MountTarget(String);

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PathError {
    #[error("the path is not absolute")]
    Relative,
    #[error("the path contains a `.` or `..` component")]
    DotComponent,
    #[error("the path contains a character Proxmox cannot store here ({0:?})")]
    BadCharacter(char),
}

/// Unicode bidirectional-text controls. Invisible, they make a reviewed
/// config line read differently from what it does ("Trojan Source").
pub const BIDI_CONTROLS: &[char] = &[
    '\u{061c}', '\u{200e}', '\u{200f}', '\u{202a}', '\u{202b}', '\u{202c}', '\u{202d}', '\u{202e}',
    '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}',
];

/// The first character that must never reach a config line: a control
/// character (TAB aside, which Proxmox's own patterns allow) or a bidi control.
pub(crate) fn unsafe_char(s: &str) -> Option<char> {
    s.chars()
        .find(|c| (c.is_control() && *c != '\t') || BIDI_CONTROLS.contains(c))
}

/// Checks a path for use in a property string or an `lxc.*` value.
pub(crate) fn check_abs_path(s: &str, extra_forbidden: &[char]) -> Result<String, PathError> {
    if !s.starts_with('/') {
        return Err(PathError::Relative);
    }
    if s.split('/').any(|c| c == "." || c == "..") {
        return Err(PathError::DotComponent);
    }
    if let Some(c) = s
        .chars()
        .find(|c| c.is_control() || BIDI_CONTROLS.contains(c) || extra_forbidden.contains(c))
    {
        return Err(PathError::BadCharacter(c));
    }
    // `//` and a trailing `/` mean the same directory; store the short form.
    let mut norm = String::with_capacity(s.len());
    for comp in s.split('/').filter(|c| !c.is_empty()) {
        norm.push('/');
        norm.push_str(comp);
    }
    if norm.is_empty() {
        norm.push('/');
    }
    Ok(norm)
}

impl MountTarget {
    /// `,` and `=` would split Proxmox's property string; whitespace would split fstab lines.
    pub(crate) fn new(s: &str) -> Result<MountTarget, PathError> {
        check_abs_path(s, &[',', '=', ' ', '\t', ';']).map(MountTarget)
    }

    /// The validated path.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MountTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostnames() {
        assert!(Hostname::new("web-1.example.org").is_ok());
        assert!(Hostname::new("a").is_ok());
        assert_eq!(
            Hostname::new("-x"),
            Err(HostnameError::BadLabel("-x".into()))
        );
        assert_eq!(
            Hostname::new("a..b"),
            Err(HostnameError::BadLabel(String::new()))
        );
        assert_eq!(
            Hostname::new("under_score"),
            Err(HostnameError::BadLabel("under_score".into()))
        );
        assert!(matches!(
            Hostname::new(&"a".repeat(256)),
            Err(HostnameError::TooLong(256))
        ));
    }

    #[test]
    fn memory_rounds_up() {
        assert_eq!(
            MemoryMiB::from_bytes(16 * 1024 * 1024).map(MemoryMiB::get),
            Some(16)
        );
        assert_eq!(
            MemoryMiB::from_bytes(16 * 1024 * 1024 + 1).map(MemoryMiB::get),
            Some(17)
        );
        assert_eq!(MemoryMiB::from_bytes(16 * 1024 * 1024 - 1), None);
    }

    #[test]
    fn mount_targets() {
        assert_eq!(
            MountTarget::new("/data//x/").map(|m| m.0),
            Ok("/data/x".into())
        );
        assert_eq!(MountTarget::new("data"), Err(PathError::Relative));
        assert_eq!(MountTarget::new("/a/../etc"), Err(PathError::DotComponent));
        assert_eq!(MountTarget::new("/a,b"), Err(PathError::BadCharacter(',')));
        assert_eq!(
            MountTarget::new("/a\nb"),
            Err(PathError::BadCharacter('\n'))
        );
    }

    #[test]
    fn bidi_and_control_characters_are_unsafe() {
        assert_eq!(unsafe_char("tab\tok"), None);
        assert_eq!(unsafe_char("a\u{202e}b"), Some('\u{202e}'));
        assert_eq!(unsafe_char("c1\u{85}"), Some('\u{85}'));
        assert_eq!(
            MountTarget::new("/x\u{2066}"),
            Err(PathError::BadCharacter('\u{2066}'))
        );
    }

    #[test]
    fn tags() {
        assert_eq!(Tag::new("Web").map(|t| t.0), Some("web".into()));
        assert_eq!(Tag::new("-x"), None);
        assert_eq!(Tag::new("a b"), None);
    }
}
