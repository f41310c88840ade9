//! A walk of the rootfs that cannot leave it.
//!
//! Every entry is reached with `openat`/`statat`/`readlinkat` relative to its parent's open
//! directory, never by a path string, and with `O_NOFOLLOW`: a symlink is read as a symlink and
//! never followed, so no component swapped for a symlink (during the walk, by a container that
//! shares the tree) can lead outside. Each opened entry is checked to be the same inode that
//! was stat'ed. Directory entries are visited in byte order of their names, so the same tree
//! gives the same archive.

use std::ffi::CStr;
use std::fs::File;
use std::os::fd::AsFd;
use std::path::PathBuf;

use rustix::fs::{self as rfs, AtFlags, FileType, Mode, OFlags, StatxAttributes, StatxFlags};

use super::PackError;

/// What the walk knows about an entry from `statat`/`fstat`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Stat {
    pub file_type: FileType,
    pub perm: u32,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    pub mtime: i64,
    pub nlink: u64,
    pub dev: u64,
    pub ino: u64,
    pub blocks_512: u64,
}

impl From<&rfs::Statx> for Stat {
    fn from(x: &rfs::Statx) -> Self {
        Stat {
            file_type: FileType::from_raw_mode(u32::from(x.stx_mode)),
            perm: u32::from(x.stx_mode) & 0o7777,
            uid: x.stx_uid,
            gid: x.stx_gid,
            size: x.stx_size,
            mtime: x.stx_mtime.tv_sec,
            nlink: u64::from(x.stx_nlink),
            // The same encoding as stat's st_dev, so the two compare.
            dev: rfs::makedev(x.stx_dev_major, x.stx_dev_minor),
            ino: x.stx_ino,
            blocks_512: x.stx_blocks,
        }
    }
}

impl From<&rfs::Stat> for Stat {
    fn from(st: &rfs::Stat) -> Self {
        Stat {
            file_type: FileType::from_raw_mode(st.st_mode),
            perm: st.st_mode & 0o7777,
            uid: st.st_uid,
            gid: st.st_gid,
            size: u64::try_from(st.st_size).unwrap_or(0),
            mtime: st.st_mtime,
            nlink: st.st_nlink,
            dev: st.st_dev,
            ino: st.st_ino,
            blocks_512: u64::try_from(st.st_blocks).unwrap_or(0),
        }
    }
}

/// Device nodes, fifos and sockets: never packed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SpecialKind {
    CharDevice,
    BlockDevice,
    Fifo,
    Socket,
}

impl std::fmt::Display for SpecialKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SpecialKind::CharDevice => "character device",
            SpecialKind::BlockDevice => "block device",
            SpecialKind::Fifo => "fifo",
            SpecialKind::Socket => "socket",
        })
    }
}

pub(super) enum Node<'a> {
    Dir(&'a File),
    File(File),
    Symlink(Vec<u8>),
    Special(SpecialKind),
    /// The root of another mount (a bind mount, a tmpfs, a `/proc`): `Stat` is the mounted
    /// root's, and nothing below it is visited. `dir` says whether it is a directory.
    MountPoint {
        dir: bool,
    },
}

/// At most this many directories of the walk are open at once, whatever the depth; deeper
/// ancestors are closed and re-opened through `..` when the walk climbs back (see [`walk`]).
pub const MAX_OPEN_DIRS: usize = 16;

struct Frame {
    /// `None` for an ancestor closed to keep the bound; the top frame is always open.
    dir: Option<File>,
    names: std::vec::IntoIter<Vec<u8>>,
    prefix: Vec<u8>,
    dev: u64,
    ino: u64,
}

/// Visits `root` (as `./`) and everything below it, parents before children, siblings in byte
/// order. Names are archive names: `./`-prefixed, directories with a trailing `/`.
///
/// Stays on `root`'s mount: an entry that is the root of another mount is visited as
/// [`Node::MountPoint`] and not entered (Proxmox's own restore runs tar with
/// `--one-file-system`; we do not pack what another file system has mounted into the tree).
///
/// Holds at most [`MAX_OPEN_DIRS`] directory descriptors (plus the file being read): when the
/// walk goes deeper, the descriptor of the ancestor [`MAX_OPEN_DIRS`] levels up is closed;
/// when it climbs back to that ancestor, the ancestor is re-opened as `..` of the child it
/// leaves (no path is resolved) and must be the same (device, inode) as before, or the tree
/// was moved under us and packing stops.
pub(super) fn walk(
    root: &File,
    mut visit: impl FnMut(&[u8], &Stat, Node<'_>) -> Result<(), PackError>,
) -> Result<(), PackError> {
    let root_name = b"./".to_vec();
    let st = fstat(root, &root_name)?;
    let names = read_names(root, &root_name)?;
    visit(&root_name, &st, Node::Dir(root))?;
    let own = root
        .try_clone()
        .map_err(|e| PackError::io("open", &root_name, e))?;
    let mut stack = vec![Frame {
        dir: Some(own),
        names: names.into_iter(),
        prefix: root_name,
        dev: st.dev,
        ino: st.ino,
    }];
    let root_dev = st.dev;
    while let Some(top) = stack.last_mut() {
        let Some(name) = top.names.next() else {
            if let Some(done) = stack.pop() {
                reopen_parent(&mut stack, &done)?;
            }
            continue;
        };
        let Some(dir) = top.dir.as_ref() else {
            return Err(PackError::EntryChanged {
                path: to_path(&top.prefix),
                what: "was closed while packing (internal error)",
            });
        };
        let mut path = top.prefix.clone();
        path.extend_from_slice(&name);
        let (st, mount_root) = statat(dir, &name, &path)?;
        // A mount root by statx's attribute; where the kernel cannot say (before 5.8), a
        // directory on another device. (Only directories: overlayfs may report the lower
        // layer's device for files.)
        let other_mount = match mount_root {
            Some(m) => m,
            None => st.file_type == FileType::Directory && st.dev != root_dev,
        };
        if other_mount {
            if st.file_type == FileType::Directory {
                path.push(b'/');
            }
            visit(
                &path,
                &st,
                Node::MountPoint {
                    dir: st.file_type == FileType::Directory,
                },
            )?;
            continue;
        }
        match st.file_type {
            FileType::Directory => {
                let sub = open_checked(dir, &name, &path, &st, OFlags::DIRECTORY)?;
                path.push(b'/');
                let names = read_names(&sub, &path)?;
                visit(&path, &st, Node::Dir(&sub))?;
                stack.push(Frame {
                    dir: Some(sub),
                    names: names.into_iter(),
                    prefix: path,
                    dev: st.dev,
                    ino: st.ino,
                });
                if let Some(far) = stack
                    .len()
                    .checked_sub(MAX_OPEN_DIRS + 1)
                    .and_then(|i| stack.get_mut(i))
                {
                    far.dir = None;
                }
            }
            FileType::RegularFile => {
                // O_NONBLOCK: should the entry be swapped for a fifo after statat, open must not hang.
                let file = open_checked(dir, &name, &path, &st, OFlags::NONBLOCK | OFlags::NOCTTY)?;
                visit(&path, &st, Node::File(file))?;
            }
            FileType::Symlink => {
                let target = rfs::readlinkat(dir.as_fd(), name.as_slice(), Vec::new())
                    .map_err(|e| PackError::io("read the symlink", &path, e.into()))?;
                visit(&path, &st, Node::Symlink(target.into_bytes()))?;
            }
            FileType::CharacterDevice => visit(&path, &st, Node::Special(SpecialKind::CharDevice))?,
            FileType::BlockDevice => visit(&path, &st, Node::Special(SpecialKind::BlockDevice))?,
            FileType::Fifo => visit(&path, &st, Node::Special(SpecialKind::Fifo))?,
            FileType::Socket => visit(&path, &st, Node::Special(SpecialKind::Socket))?,
            FileType::Unknown => {
                return Err(PackError::EntryChanged {
                    path: to_path(&path),
                    what: "has an unknown file type",
                })
            }
        }
    }
    Ok(())
}

/// After leaving `done`, makes sure its parent (the new top of `stack`) is open: re-opened as
/// `done`'s `..` when it was closed, and checked to be the directory it was.
fn reopen_parent(stack: &mut [Frame], done: &Frame) -> Result<(), PackError> {
    let Some(parent) = stack.last_mut() else {
        return Ok(());
    };
    if parent.dir.is_some() {
        return Ok(());
    }
    let moved = || PackError::EntryChanged {
        path: to_path(&done.prefix),
        what: "was moved to another directory while packing",
    };
    let child = done.dir.as_ref().ok_or_else(moved)?;
    let fd = rfs::openat(
        child.as_fd(),
        c"..",
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| PackError::io("re-open", &parent.prefix, e.into()))?;
    let dir = File::from(fd);
    let st = fstat(&dir, &parent.prefix)?;
    if (st.dev, st.ino) != (parent.dev, parent.ino) {
        return Err(moved());
    }
    parent.dir = Some(dir);
    Ok(())
}

/// Entry names of a directory, sorted, without `.` and `..`. A name with `/` (impossible from
/// a sane kernel) is refused rather than allowed to address another directory.
fn read_names(dir: &File, path: &[u8]) -> Result<Vec<Vec<u8>>, PackError> {
    let reader = rfs::Dir::read_from(dir.as_fd())
        .map_err(|e| PackError::io("read the directory", path, e.into()))?;
    let mut names = Vec::new();
    for entry in reader {
        let entry = entry.map_err(|e| PackError::io("read the directory", path, e.into()))?;
        let name: &CStr = entry.file_name();
        let bytes = name.to_bytes();
        if bytes == b"." || bytes == b".." {
            continue;
        }
        check_name(bytes, path)?;
        names.push(bytes.to_vec());
    }
    names.sort_unstable();
    Ok(names)
}

/// An entry name must be exactly one path component.
pub(super) fn check_name(name: &[u8], parent: &[u8]) -> Result<(), PackError> {
    if name.is_empty() || name == b"." || name == b".." || name.contains(&b'/') || name.contains(&0)
    {
        let mut p = parent.to_vec();
        p.extend_from_slice(name);
        return Err(PackError::EscapingEntry { path: to_path(&p) });
    }
    Ok(())
}

/// The entry's metadata, and whether it is the root of a mount (`None`: the kernel cannot say).
fn statat(dir: &File, name: &[u8], path: &[u8]) -> Result<(Stat, Option<bool>), PackError> {
    match rfs::statx(
        dir.as_fd(),
        name,
        AtFlags::SYMLINK_NOFOLLOW,
        StatxFlags::BASIC_STATS,
    ) {
        Ok(x) => {
            let known = x.stx_attributes_mask.contains(StatxAttributes::MOUNT_ROOT);
            let mount_root = known.then(|| x.stx_attributes.contains(StatxAttributes::MOUNT_ROOT));
            Ok((Stat::from(&x), mount_root))
        }
        // statx is Linux 4.11; older kernels (or filters) still have fstatat.
        Err(rustix::io::Errno::NOSYS) => rfs::statat(dir.as_fd(), name, AtFlags::SYMLINK_NOFOLLOW)
            .map(|st| (Stat::from(&st), None))
            .map_err(|e| PackError::io("stat", path, e.into())),
        Err(e) => Err(PackError::io("stat", path, e.into())),
    }
}

fn fstat(file: &File, path: &[u8]) -> Result<Stat, PackError> {
    rfs::fstat(file.as_fd())
        .map(|st| Stat::from(&st))
        .map_err(|e| PackError::io("stat", path, e.into()))
}

fn open_checked(
    dir: &File,
    name: &[u8],
    path: &[u8],
    expect: &Stat,
    extra: OFlags,
) -> Result<File, PackError> {
    let fd = rfs::openat(
        dir.as_fd(),
        name,
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC | extra,
        Mode::empty(),
    )
    .map_err(|e| match e {
        // O_NOFOLLOW on a symlink: the entry was replaced after we looked at it.
        rustix::io::Errno::LOOP | rustix::io::Errno::NOTDIR => PackError::EntryChanged {
            path: to_path(path),
            what: "was replaced while packing",
        },
        e => PackError::io("open", path, e.into()),
    })?;
    let file = File::from(fd);
    let now = fstat(&file, path)?;
    if now.dev != expect.dev || now.ino != expect.ino || now.file_type != expect.file_type {
        return Err(PackError::EntryChanged {
            path: to_path(path),
            what: "was replaced while packing",
        });
    }
    Ok(file)
}

pub(super) fn to_path(bytes: &[u8]) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    PathBuf::from(std::ffi::OsStr::from_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_are_not_one_component_are_refused() {
        for bad in [&b""[..], b".", b"..", b"a/b", b"../x", b"a\0"] {
            assert!(
                matches!(
                    check_name(bad, b"./d/"),
                    Err(PackError::EscapingEntry { .. })
                ),
                "{bad:?} accepted"
            );
        }
        assert!(check_name(b"..a", b"./").is_ok());
        assert!(check_name(b"a b", b"./").is_ok());
    }
}
