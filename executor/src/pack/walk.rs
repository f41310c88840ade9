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

use rustix::fs::{self as rfs, AtFlags, FileType, Mode, OFlags};

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
}

struct Frame {
    dir: File,
    names: std::vec::IntoIter<Vec<u8>>,
    prefix: Vec<u8>,
}

/// Visits `root` (as `./`) and everything below it, parents before children, siblings in byte
/// order. Names are archive names: `./`-prefixed, directories with a trailing `/`.
pub(super) fn walk(
    root: File,
    mut visit: impl FnMut(&[u8], &Stat, Node<'_>) -> Result<(), PackError>,
) -> Result<(), PackError> {
    let root_name = b"./".to_vec();
    let st = fstat(&root, &root_name)?;
    let names = read_names(&root, &root_name)?;
    visit(&root_name, &st, Node::Dir(&root))?;
    let mut stack = vec![Frame {
        dir: root,
        names: names.into_iter(),
        prefix: root_name,
    }];
    while let Some(top) = stack.last_mut() {
        let Some(name) = top.names.next() else {
            stack.pop();
            continue;
        };
        let mut path = top.prefix.clone();
        path.extend_from_slice(&name);
        let st = statat(&top.dir, &name, &path)?;
        match st.file_type {
            FileType::Directory => {
                let dir = open_checked(&top.dir, &name, &path, &st, OFlags::DIRECTORY)?;
                path.push(b'/');
                let names = read_names(&dir, &path)?;
                visit(&path, &st, Node::Dir(&dir))?;
                stack.push(Frame {
                    dir,
                    names: names.into_iter(),
                    prefix: path,
                });
            }
            FileType::RegularFile => {
                // O_NONBLOCK: should the entry be swapped for a fifo after statat, open must not hang.
                let file = open_checked(
                    &top.dir,
                    &name,
                    &path,
                    &st,
                    OFlags::NONBLOCK | OFlags::NOCTTY,
                )?;
                visit(&path, &st, Node::File(file))?;
            }
            FileType::Symlink => {
                let target = rfs::readlinkat(top.dir.as_fd(), name.as_slice(), Vec::new())
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

fn statat(dir: &File, name: &[u8], path: &[u8]) -> Result<Stat, PackError> {
    rfs::statat(dir.as_fd(), name, AtFlags::SYMLINK_NOFOLLOW)
        .map(|st| Stat::from(&st))
        .map_err(|e| PackError::io("stat", path, e.into()))
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
