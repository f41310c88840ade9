//! pct.conf (`/etc/pve/lxc/<vmid>.conf`): Config.pm `parse_pct_config` / `write_pct_config`.
//!
//! A file has a main section, an optional `[pve:pending]` section and snapshot sections. Each
//! section holds a description (from `#` lines), normal `key: value` pairs (written sorted
//! byte-wise), `env` (stored as `lxc.environment.runtime:` lines) and raw `lxc.*` entries (kept in
//! order, duplicates included).

mod parse;
pub mod rawkeys;
pub mod text;
mod typecheck;
mod write;

use std::collections::BTreeMap;

pub use parse::parse_pct_config;
pub use typecheck::check_type;
pub use write::write_pct_config;

/// One section of a pct.conf.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Section {
    /// The description, as decoded from `#` lines (each line ends with `\n`).
    pub description: Option<String>,
    /// Normal keys. `BTreeMap` order is byte-wise, the same as Perl's `sort`.
    pub keys: BTreeMap<String, String>,
    /// `env`: NUL-joined `NAME=value` entries (from `lxc.environment.runtime` lines).
    pub env: Option<String>,
    /// Raw `lxc.*` entries in file order.
    pub lxc: Vec<(String, String)>,
}

impl Section {
    /// A normal key's value.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.keys.get(key).map(String::as_str)
    }

    /// Whether a raw entry with this key exists (`has_lxc_entry`).
    pub fn has_lxc_entry(&self, key: &str) -> bool {
        self.lxc.iter().any(|(k, _)| k == key)
    }

    /// True when the section holds nothing (`scalar(keys %$pending)` is 0).
    pub fn is_empty(&self) -> bool {
        self.description.is_none()
            && self.keys.is_empty()
            && self.env.is_none()
            && self.lxc.is_empty()
    }

    /// A config value the way `$conf->{$key}` reads, with `description` and `env` included.
    pub fn value(&self, key: &str) -> Option<&str> {
        match key {
            "description" => self.description.as_deref(),
            "env" => self.env.as_deref(),
            _ => self.get(key),
        }
    }

    /// Sets a value the way `$conf->{$key} = $value` does.
    pub fn set(&mut self, key: &str, value: String) {
        match key {
            "description" => self.description = Some(value),
            "env" => self.env = Some(value),
            _ => {
                self.keys.insert(key.to_string(), value);
            }
        }
    }

    /// Removes a value (`delete $conf->{$key}`).
    pub fn remove(&mut self, key: &str) -> Option<String> {
        match key {
            "description" => self.description.take(),
            "env" => self.env.take(),
            _ => self.keys.remove(key),
        }
    }
}

/// A parsed pct.conf.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PctConf {
    pub main: Section,
    pub pending: Section,
    pub snapshots: BTreeMap<String, Section>,
    /// SHA-1 of the raw bytes read (`digest`).
    pub digest: String,
}

/// The result of reading a file: the config and the warnings Proxmox prints on stderr.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    pub conf: PctConf,
    pub warnings: Vec<String>,
}
