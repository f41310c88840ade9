//! The extended attributes a Proxmox template keeps.
//!
//! Proxmox extracts with `--xattrs --xattrs-include=user.* --xattrs-include=security.capability`,
//! so only those two survive; packing others would be dead weight. POSIX ACLs
//! (`system.posix_acl_*`) would survive through `--acls`, but are not packed (reported instead).

use std::fs::File;
use std::io;

use xattr::FileExt;

use super::owner::{IdKind, OwnerMap};

pub(super) const CAPABILITY: &[u8] = b"security.capability";
const ACL_NAMES: [&[u8]; 2] = [b"system.posix_acl_access", b"system.posix_acl_default"];

#[derive(Debug, Default)]
pub(super) struct Xattrs {
    /// Sorted by name, values ready for the archive.
    pub kept: Vec<(Vec<u8>, Vec<u8>)>,
    pub has_acl: bool,
}

pub(super) fn keep(name: &[u8]) -> bool {
    name.starts_with(b"user.") || name == CAPABILITY
}

/// Reads the kept attributes through an open file. A file system without xattr support has none.
pub(super) fn read(file: &File) -> io::Result<Xattrs> {
    use std::os::unix::ffi::OsStrExt;
    let names = match file.list_xattr() {
        Ok(n) => n,
        Err(e) if unsupported(&e) => return Ok(Xattrs::default()),
        Err(e) => return Err(e),
    };
    let mut out = Xattrs::default();
    for name in names {
        let bytes = name.as_bytes();
        if ACL_NAMES.contains(&bytes) {
            out.has_acl = true;
        }
        if !keep(bytes) {
            continue;
        }
        // Removed between list and get: nothing to keep.
        if let Some(value) = file.get_xattr(&name)? {
            out.kept.push((bytes.to_vec(), value));
        }
    }
    out.kept.sort();
    Ok(out)
}

fn unsupported(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::ENOTSUP))
}

const REVISION_MASK: u32 = 0xFF00_0000;
const REVISION_1: u32 = 0x0100_0000;
const REVISION_2: u32 = 0x0200_0000;
const REVISION_3: u32 = 0x0300_0000;
const V1_LEN: usize = 12;
const V2_LEN: usize = 20;
const V3_LEN: usize = 24;

/// `security.capability` as the container must restore it.
///
/// Revision 3 (namespaced) capabilities carry the host uid of the namespace root they belong to.
/// On a host-shifted rootfs that is e.g. 100000; inside the container's namespace it is 0, which
/// revision 2 expresses (the kernel turns it back into revision 3 with the container's own root
/// when Proxmox's extraction writes it inside the user namespace).
pub(super) fn capability_for_container(value: &[u8], map: OwnerMap) -> Result<Vec<u8>, String> {
    let le32 = |at: usize| -> Option<u32> {
        value
            .get(at..at + 4)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map(u32::from_le_bytes)
    };
    let magic = le32(0).ok_or("shorter than 4 bytes")?;
    match (magic & REVISION_MASK, value.len()) {
        (REVISION_1, V1_LEN) | (REVISION_2, V2_LEN) => Ok(value.to_vec()),
        (REVISION_3, V3_LEN) => {
            let rootid = le32(V2_LEN).ok_or("truncated revision 3")?;
            let mapped = map.map(IdKind::Uid, rootid).ok_or_else(|| {
                format!("namespace root uid {rootid} has no container id under {map}")
            })?;
            let body = value.get(4..V2_LEN).ok_or("truncated revision 3")?;
            let mut out = Vec::with_capacity(V3_LEN);
            if mapped == 0 {
                out.extend_from_slice(&(REVISION_2 | (magic & !REVISION_MASK)).to_le_bytes());
                out.extend_from_slice(body);
            } else {
                out.extend_from_slice(&magic.to_le_bytes());
                out.extend_from_slice(body);
                out.extend_from_slice(&mapped.to_le_bytes());
            }
            Ok(out)
        }
        (rev, len) => Err(format!(
            "unknown capability format (revision {:#x}, {len} bytes)",
            rev >> 24
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v2(perm: u32) -> Vec<u8> {
        let mut v = (REVISION_2 | 1).to_le_bytes().to_vec();
        for w in [perm, 0, 0, 0] {
            v.extend_from_slice(&w.to_le_bytes());
        }
        v
    }

    fn v3(perm: u32, rootid: u32) -> Vec<u8> {
        let mut v = (REVISION_3 | 1).to_le_bytes().to_vec();
        for w in [perm, 0, 0, 0, rootid] {
            v.extend_from_slice(&w.to_le_bytes());
        }
        v
    }

    #[test]
    fn filter() {
        assert!(keep(b"user.foo"));
        assert!(keep(b"security.capability"));
        assert!(!keep(b"security.selinux"));
        assert!(!keep(b"trusted.x"));
        assert!(!keep(b"system.posix_acl_access"));
        assert!(!keep(b"users.x"));
    }

    #[test]
    fn v2_is_kept() {
        assert_eq!(
            capability_for_container(&v2(1 << 10), OwnerMap::Identity),
            Ok(v2(1 << 10))
        );
    }

    #[test]
    fn v3_of_shifted_root_becomes_v2() {
        let shift = OwnerMap::Shift {
            uid_base: 100000,
            gid_base: 100000,
        };
        assert_eq!(
            capability_for_container(&v3(1 << 10, 100000), shift),
            Ok(v2(1 << 10))
        );
        assert_eq!(
            capability_for_container(&v3(1 << 10, 101000), shift),
            Ok(v3(1 << 10, 1000))
        );
        assert!(capability_for_container(&v3(1, 5), shift).is_err());
    }

    #[test]
    fn garbage_is_refused() {
        assert!(capability_for_container(b"ab", OwnerMap::Identity).is_err());
        assert!(capability_for_container(&[0, 0, 0, 9, 0], OwnerMap::Identity).is_err());
        let mut short_v3 = v3(1, 0);
        short_v3.pop();
        assert!(capability_for_container(&short_v3, OwnerMap::Identity).is_err());
    }
}
