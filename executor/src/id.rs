//! Validated identifiers: OCI container ids and Proxmox VMIDs.
//!
//! Container ids become file names under the state root (`<root>/<id>/`, `<root>/.locks/<id>.lock`),
//! so they are checked before any path is built from them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Why a container id or VMID was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("container id is empty")]
    Empty,
    #[error("container id is {len} bytes long; the limit is {max}")]
    TooLong { len: usize, max: usize },
    #[error("container id {id:?} must start with an ASCII letter or digit")]
    BadFirstChar { id: String },
    #[error("container id {id:?} contains {found:?} at byte {at}; allowed are A-Z a-z 0-9 _ . -")]
    BadChar { id: String, found: char, at: usize },
    #[error("container id {id:?} contains \"..\"")]
    DotDot { id: String },
    #[error("VMID {value:?} is not a number")]
    VmidNotNumber { value: String },
    #[error("VMID {value} is outside Proxmox's range {min}..={max}")]
    VmidOutOfRange { value: u64, min: u32, max: u32 },
}

/// An OCI container id that is safe to use as one path component.
///
/// Allowed: `[A-Za-z0-9][A-Za-z0-9_.-]*`, at most [`ContainerId::MAX_LEN`] bytes, no `..`.
/// That covers the 64-hex ids of podman/containerd/CRI and the names people type, and
/// refuses `/`, NUL, whitespace, an empty id, a leading dot (which would also hide the
/// entry from `list`) and anything that could climb out of the state root.
///
/// runc checks `^[\w+-\.]+$` and has no explicit length limit, relying on the file
/// system's NAME_MAX (255). We keep room for the `.lock` suffix of the lock file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct ContainerId(String);

impl ContainerId {
    /// NAME_MAX (255) minus the length of `.lock`.
    pub const MAX_LEN: usize = 250;

    pub fn new(id: impl Into<String>) -> Result<Self, IdError> {
        let id = id.into();
        validate(&id)?;
        Ok(Self(id))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn validate(id: &str) -> Result<(), IdError> {
    let mut chars = id.char_indices();
    let Some((_, first)) = chars.next() else {
        return Err(IdError::Empty);
    };
    if id.len() > ContainerId::MAX_LEN {
        return Err(IdError::TooLong {
            len: id.len(),
            max: ContainerId::MAX_LEN,
        });
    }
    if !first.is_ascii_alphanumeric() {
        return Err(IdError::BadFirstChar { id: id.to_owned() });
    }
    for (at, c) in chars {
        if !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')) {
            return Err(IdError::BadChar {
                id: id.to_owned(),
                found: c,
                at,
            });
        }
    }
    if id.contains("..") {
        return Err(IdError::DotDot { id: id.to_owned() });
    }
    Ok(())
}

impl fmt::Display for ContainerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for ContainerId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl AsRef<str> for ContainerId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for ContainerId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::new(s).map_err(serde::de::Error::custom)
    }
}

/// A Proxmox VMID: `pve-vmid` is `^[1-9][0-9]{2,8}$`, i.e. 100..=999999999.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Vmid(u32);

impl Vmid {
    pub const MIN: u32 = 100;
    pub const MAX: u32 = 999_999_999;

    pub fn new(value: u64) -> Result<Self, IdError> {
        match u32::try_from(value) {
            Ok(v) if (Self::MIN..=Self::MAX).contains(&v) => Ok(Self(v)),
            _ => Err(IdError::VmidOutOfRange {
                value,
                min: Self::MIN,
                max: Self::MAX,
            }),
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

impl fmt::Display for Vmid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for Vmid {
    type Err = IdError;
    /// Accepts only plain decimal digits, as Proxmox's `pve-vmid` format does
    /// (no sign, no leading zero, no spaces).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let not_number = || IdError::VmidNotNumber {
            value: s.to_owned(),
        };
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || s.starts_with('0') {
            return Err(not_number());
        }
        let value: u64 = s.parse().map_err(|_| IdError::VmidOutOfRange {
            value: u64::MAX,
            min: Self::MIN,
            max: Self::MAX,
        })?;
        Self::new(value)
    }
}

impl<'de> Deserialize<'de> for Vmid {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = u64::deserialize(d)?;
        Self::new(v).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check_id(input: &str, expect: Result<(), IdError>) {
        assert_eq!(ContainerId::new(input).map(|_| ()), expect, "id {input:?}");
    }

    #[test]
    fn container_ids_accepted() {
        for ok in [
            "a",
            "0",
            "web-1",
            "my_app.v2",
            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            &"x".repeat(ContainerId::MAX_LEN),
        ] {
            check_id(ok, Ok(()));
        }
    }

    #[test]
    fn container_ids_refused() {
        check_id("", Err(IdError::Empty));
        check_id(
            &"x".repeat(ContainerId::MAX_LEN + 1),
            Err(IdError::TooLong {
                len: ContainerId::MAX_LEN + 1,
                max: ContainerId::MAX_LEN,
            }),
        );
        for bad_first in [".", ".hidden", "-x", "_x", "..", "/etc"] {
            check_id(
                bad_first,
                Err(IdError::BadFirstChar {
                    id: bad_first.to_owned(),
                }),
            );
        }
        check_id(
            "a/b",
            Err(IdError::BadChar {
                id: "a/b".into(),
                found: '/',
                at: 1,
            }),
        );
        check_id(
            "a\0b",
            Err(IdError::BadChar {
                id: "a\0b".into(),
                found: '\0',
                at: 1,
            }),
        );
        check_id(
            "a b",
            Err(IdError::BadChar {
                id: "a b".into(),
                found: ' ',
                at: 1,
            }),
        );
        check_id(
            "aé",
            Err(IdError::BadChar {
                id: "aé".into(),
                found: 'é',
                at: 1,
            }),
        );
        check_id("a..b", Err(IdError::DotDot { id: "a..b".into() }));
    }

    #[test]
    fn container_id_deserialize_validates() {
        let ok: ContainerId = serde_json::from_str("\"abc\"").unwrap();
        assert_eq!(ok.as_str(), "abc");
        assert!(serde_json::from_str::<ContainerId>("\"../x\"").is_err());
    }

    #[test]
    fn vmid_range() {
        assert_eq!(Vmid::new(100).map(Vmid::get), Ok(100));
        assert_eq!(Vmid::new(999_999_999).map(Vmid::get), Ok(999_999_999));
        assert!(Vmid::new(99).is_err());
        assert!(Vmid::new(1_000_000_000).is_err());
        assert!(Vmid::new(u64::MAX).is_err());
    }

    #[test]
    fn vmid_parse() {
        assert_eq!("123".parse::<Vmid>().map(Vmid::get), Ok(123));
        for bad in ["", "0100", "+100", "-100", " 100", "1e3", "abc", "99"] {
            assert!(bad.parse::<Vmid>().is_err(), "{bad:?} accepted");
        }
        assert!("99999999999999999999999".parse::<Vmid>().is_err());
    }

    #[test]
    fn vmid_deserialize_validates() {
        assert_eq!(
            serde_json::from_str::<Vmid>("105").map(Vmid::get).ok(),
            Some(105)
        );
        assert!(serde_json::from_str::<Vmid>("5").is_err());
    }
}
