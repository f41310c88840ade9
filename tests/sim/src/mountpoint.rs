//! `rootfs`, `mpN` and `unusedN` values: Config.pm `parse_volume` / `print_ct_mountpoint`.

use std::sync::Arc;

use crate::conf::Section;
use crate::formats::parse_size;
use crate::propstring::{self, PropMap};
use crate::schema::{Format, PropFormat, Schemas};

/// `classify_mountpoint`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MpType {
    /// A storage volume (`local-lvm:vm-100-disk-0`) or a new-disk request (`local-lvm:8`).
    Volume,
    /// A host directory (absolute path).
    Bind,
    /// A host block device (path under `/dev/`).
    Device,
}

/// A parsed mount point. `props` holds the property-string keys; `size` is in bytes.
#[derive(Debug, Clone)]
pub struct MountPoint {
    pub props: PropMap,
    pub kind: MpType,
}

impl MountPoint {
    pub fn volume(&self) -> &str {
        self.props.get("volume").map_or("", String::as_str)
    }

    /// The path inside the container (`/` for rootfs).
    pub fn mp(&self) -> &str {
        self.props.get("mp").map_or("", String::as_str)
    }

    pub fn flag(&self, key: &str) -> bool {
        self.props.get(key).is_some_and(|v| v == "1")
    }
}

/// `classify_mountpoint`.
pub fn classify(volume: &str) -> MpType {
    if volume.starts_with('/') {
        if volume.starts_with("/dev/") {
            MpType::Device
        } else {
            MpType::Bind
        }
    } else {
        MpType::Volume
    }
}

fn props_format(schemas: &Schemas, key: &str) -> Option<Arc<PropFormat>> {
    match schemas.confdesc.get(key).and_then(|p| p.format.as_ref()) {
        Some(Format::Props(f)) => Some(f.clone()),
        _ => None,
    }
}

/// True for the keys that hold volumes.
pub fn is_volume_key(key: &str) -> bool {
    key == "rootfs" || is_indexed(key, "mp") || is_indexed(key, "unused")
}

fn is_indexed(key: &str, prefix: &str) -> bool {
    key.strip_prefix(prefix)
        .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
}

/// `parse_volume($key, $value)`. The error is the text Proxmox dies with.
pub fn parse_volume(schemas: &Schemas, key: &str, value: &str) -> Result<MountPoint, String> {
    let fmt_key = if key == "rootfs" {
        "rootfs"
    } else if is_indexed(key, "mp") {
        "mp0"
    } else if is_indexed(key, "unused") {
        "unused0"
    } else {
        return Err(format!("parse_volume - unknown type: {key}\n"));
    };
    let format = props_format(schemas, fmt_key)
        .ok_or_else(|| format!("parse_volume - no format for {key}\n"))?;
    let mut props = propstring::parse(&format, value, None)?;
    if let Some(size) = props.get("size").cloned() {
        let bytes = parse_size(&size).ok_or_else(|| format!("invalid size: {size}\n"))?;
        props.insert("size".into(), bytes.to_string());
    }
    if let Some(idmap) = props.get("idmap") {
        if idmap != "passthrough" {
            for entry in idmap.split(';') {
                let parts: Vec<&str> = entry.split(':').collect();
                let ok = parts.len() == 4
                    && matches!(parts.first(), Some(&"u") | Some(&"g"))
                    && parts
                        .iter()
                        .skip(1)
                        .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
                if !ok {
                    return Err(format!("failed to parse mount point idmap: {entry}\n"));
                }
            }
        }
    }
    if key == "rootfs" {
        props.insert("mp".into(), "/".into());
    }
    let kind = classify(props.get("volume").map_or("", String::as_str));
    Ok(MountPoint { props, kind })
}

/// `print_ct_mountpoint($mp, $nomp)`: printed with the `mpN` format, without `mp` for rootfs.
pub fn print_mountpoint(
    schemas: &Schemas,
    mp: &MountPoint,
    is_rootfs: bool,
) -> Result<String, String> {
    let format = props_format(schemas, "mp0").ok_or_else(|| "no mp format\n".to_string())?;
    let skip: &[&str] = if is_rootfs {
        &["type", "mp"]
    } else {
        &["type"]
    };
    propstring::print(&mp.props, &format, skip)
}

/// `get_vm_volumes`: storage volumes used by rootfs and mount points.
pub fn volumes_in_use(schemas: &Schemas, section: &Section) -> Vec<String> {
    let mut out = Vec::new();
    for (key, value) in &section.keys {
        if key != "rootfs" && !is_indexed(key, "mp") {
            continue;
        }
        let Ok(mp) = parse_volume(schemas, key, value) else {
            continue;
        };
        if mp.kind == MpType::Volume && crate::formats::parse_volume_id(mp.volume()).is_some() {
            out.push(mp.volume().to_string());
        }
    }
    out
}
