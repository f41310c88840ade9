//! Reaching a bundle's files without leaving the bundle.
//!
//! A bundle comes from someone the node does not trust (a CI artifact, an image unpacked by an
//! engine), and it can change while we read it. So the bundle directory is opened **once**, and
//! everything in it (`config.json`, the rootfs) is reached from that descriptor:
//!
//! - with `openat2(…, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)`: the kernel refuses a symlink in
//!   any component (not only the last) and any `..` that would climb out;
//! - where the kernel has no `openat2` (`ENOSYS`: before Linux 5.6, or a seccomp filter), by a
//!   walk of one `openat(…, O_NOFOLLOW)` per component, each result `fstat`ed and refused if it
//!   is a symlink, `..` popping back only as far as the bundle itself. Both give the same
//!   answers; the tests run every case through both ([`Resolver`]).
//!
//! Whatever is read is read from the descriptor that was checked: `config.json` is opened with
//! `O_PATH` (which opens nothing: no FIFO blocks, no device's `open` runs), `fstat`ed (a regular
//! file, within the size limit), and only then re-opened for reading through
//! `/proc/self/fd/N`, which names that inode and resolves no path again. The rootfs comes back
//! as an open directory ([`Rootfs`]) that packing walks (`crate::pack`), never a path.
//!
//! A rootfs outside the bundle (an absolute `root.path`) is only opened when the operator names
//! it ([`Bundle::rootfs`]'s `outside`), and no rootfs may be `/` or a system directory
//! ([`system_dir`]), inside a bundle or not.

use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rustix::fs::{self as rfs, FileType, Mode, OFlags, ResolveFlags};
use rustix::io::Errno;

/// How paths below a directory descriptor are resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Resolver {
    /// `openat2`, or the component walk where the kernel lacks it.
    #[default]
    Auto,
    /// `openat2` only (`ENOSYS` is an error).
    Openat2,
    /// The `O_NOFOLLOW` component walk only.
    Walk,
}

#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("{path}: {what} is a symbolic link; a bundle's files must be reached without following links")]
    Symlink { path: PathBuf, what: &'static str },
    #[error("{path}: `..` leads out of {base}")]
    Escapes { path: PathBuf, base: PathBuf },
    #[error("{path}: not a regular file but a {kind}")]
    NotRegular { path: PathBuf, kind: &'static str },
    #[error("{path}: not a directory but a {kind}")]
    NotDirectory { path: PathBuf, kind: &'static str },
    #[error("{path}: larger than {limit} bytes; refusing to read it")]
    TooLarge { path: PathBuf, limit: u64 },
    #[error(
        "root.path {path} is outside the bundle; pass --rootfs-outside-bundle {path} to use \
         that host directory"
    )]
    OutsideNotAllowed { path: String },
    #[error("--rootfs-outside-bundle {flag} does not name the config's root.path {path}")]
    OutsideMismatch { flag: PathBuf, path: String },
    #[error("root.path {path} is inside the bundle; --rootfs-outside-bundle {flag} is not needed")]
    OutsideUnused { flag: PathBuf, path: String },
    #[error("{path} must be an absolute path without `..`")]
    NotAbsolute { path: PathBuf },
    #[error(
        "rootfs {path} is {why}; packing or running it would hand the host's own files to a \
         container"
    )]
    SystemDir { path: PathBuf, why: &'static str },
    #[error("{path} is not reachable by its own path without symbolic links ({why})")]
    Unverified { path: PathBuf, why: String },
    #[error("cannot {op} {path}: {source}")]
    Io {
        op: &'static str,
        path: PathBuf,
        source: io::Error,
    },
}

impl BundleError {
    fn io(op: &'static str, path: &Path, e: impl Into<io::Error>) -> Self {
        BundleError::Io {
            op,
            path: path.to_owned(),
            source: e.into(),
        }
    }
}

/// An open bundle directory (`O_PATH`) and its canonical path.
#[derive(Debug)]
pub struct Bundle {
    dir: OwnedFd,
    path: PathBuf,
    resolver: Resolver,
}

/// The file name of a bundle's config.
pub const CONFIG: &str = "config.json";

impl Bundle {
    /// Opens the bundle directory the operator named. Symlinks in *this* path are the
    /// operator's (an engine's bundle path, `/var/run`); what is below it is the bundle's.
    pub fn open(path: &Path) -> Result<Bundle, BundleError> {
        Self::open_with(path, Resolver::Auto)
    }

    pub fn open_with(path: &Path, resolver: Resolver) -> Result<Bundle, BundleError> {
        let fd = rfs::open(
            path,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| match e {
            Errno::NOTDIR => BundleError::NotDirectory {
                path: path.to_owned(),
                kind: kind_at(rfs::CWD, path.as_os_str().as_bytes()),
            },
            e => BundleError::io("open the bundle", path, e),
        })?;
        let canonical = verified_path(fd.as_fd(), path, resolver)?;
        Ok(Bundle {
            dir: fd,
            path: canonical,
            resolver,
        })
    }

    /// The canonical absolute path of the bundle (no symlinks in it).
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn resolver(&self) -> Resolver {
        self.resolver
    }

    /// What `rel` below the bundle is, reached from the bundle's descriptor (see [`own_entry`]).
    pub fn own_entry(&self, rel: &str) -> Result<Option<OwnEntry>, BundleError> {
        own_entry(self.dir.as_fd(), &self.path, rel, self.resolver)
    }

    /// Reads `config.json`: a regular file directly in the bundle, at most `limit` bytes.
    pub fn read_config(&self, limit: u64) -> Result<Vec<u8>, BundleError> {
        self.read_file(CONFIG, limit)
    }

    /// Reads the regular file `rel` below the bundle, at most `limit` bytes.
    pub fn read_file(&self, rel: &str, limit: u64) -> Result<Vec<u8>, BundleError> {
        let shown = self.path.join(rel);
        let fd = open_beneath(
            self.dir.as_fd(),
            &self.path,
            rel.as_bytes(),
            OFlags::PATH,
            self.resolver,
        )?;
        read_checked(fd, &shown, limit)
    }

    /// Opens the rootfs `root_path` (the config's `root.path`) names.
    ///
    /// A relative path is opened below the bundle. An absolute one is a host directory outside
    /// the bundle: refused unless `outside` (the operator's `--rootfs-outside-bundle`) names the
    /// same path. Either way the result is a directory reached without symlinks, and never `/`
    /// or a system directory.
    pub fn rootfs(&self, root_path: &str, outside: Option<&Path>) -> Result<Rootfs, BundleError> {
        if root_path.starts_with('/') {
            let Some(flag) = outside else {
                return Err(BundleError::OutsideNotAllowed {
                    path: root_path.to_owned(),
                });
            };
            let named = lexical(Path::new(root_path)).ok_or_else(|| BundleError::NotAbsolute {
                path: root_path.into(),
            })?;
            let flagged = lexical(flag).ok_or_else(|| BundleError::NotAbsolute {
                path: flag.to_owned(),
            })?;
            if named != flagged {
                return Err(BundleError::OutsideMismatch {
                    flag: flag.to_owned(),
                    path: root_path.to_owned(),
                });
            }
            return Rootfs::open_absolute_with(&named, self.resolver);
        }
        if let Some(flag) = outside {
            return Err(BundleError::OutsideUnused {
                flag: flag.to_owned(),
                path: root_path.to_owned(),
            });
        }
        let fd = open_beneath(
            self.dir.as_fd(),
            &self.path,
            root_path.as_bytes(),
            OFlags::RDONLY | OFlags::DIRECTORY,
            self.resolver,
        )?;
        Rootfs::from_fd(fd, &self.path.join(root_path), self.resolver)
    }
}

/// A bind source that is a directory's own entry: what [`own_entry`] accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnEntry {
    Directory,
    /// A regular file with one link: no other name on the host reaches the same inode.
    File,
}

/// Opens `rel` below the directory `base` (`O_PATH`: nothing is opened for reading, a FIFO does
/// not block) with no symlink in any component and no `..` out of it, and says what it is:
/// a directory, a regular file with a single link, or `None` for anything else (a file with
/// more links may be a host file linked into the directory; devices, sockets and FIFOs are
/// never a directory's own data). An escape or a symlink is an error, as for every other path
/// of a bundle.
pub fn own_entry(
    base: BorrowedFd<'_>,
    shown: &Path,
    rel: &str,
    resolver: Resolver,
) -> Result<Option<OwnEntry>, BundleError> {
    let fd = open_beneath(base, shown, rel.as_bytes(), OFlags::PATH, resolver)?;
    let st = rfs::fstat(&fd).map_err(|e| BundleError::io("stat", &shown.join(rel), e))?;
    Ok(match FileType::from_raw_mode(st.st_mode) {
        FileType::Directory => Some(OwnEntry::Directory),
        FileType::RegularFile if st.st_nlink == 1 => Some(OwnEntry::File),
        _ => None,
    })
}

/// [`own_entry`] for `rel` below the absolute directory `dir`, which is itself reached from `/`
/// without following a symlink.
pub fn own_entry_below(
    dir: &Path,
    rel: &str,
    resolver: Resolver,
) -> Result<Option<OwnEntry>, BundleError> {
    let root = open_root()?;
    let inner = dir
        .as_os_str()
        .as_bytes()
        .strip_prefix(b"/")
        .ok_or_else(|| BundleError::NotAbsolute {
            path: dir.to_owned(),
        })?;
    let fd = open_beneath(
        root.as_fd(),
        Path::new("/"),
        inner,
        OFlags::PATH | OFlags::DIRECTORY,
        resolver,
    )?;
    own_entry(fd.as_fd(), dir, rel, resolver)
}

/// Reads the regular file the operator named by `path` (symlinks in it are the operator's),
/// at most `limit` bytes, through the same checked `O_PATH` descriptor as [`Bundle::read_file`]:
/// a FIFO or a device is refused without being opened.
pub fn read_path(path: &Path, limit: u64) -> Result<Vec<u8>, BundleError> {
    let fd = rfs::open(path, OFlags::PATH | OFlags::CLOEXEC, Mode::empty())
        .map_err(|e| BundleError::io("open", path, e))?;
    read_checked(fd, path, limit)
}

/// A rootfs directory, open for reading (`O_RDONLY | O_DIRECTORY`), reached without symlinks,
/// and its canonical path. Packing walks this descriptor.
#[derive(Debug)]
pub struct Rootfs {
    dir: File,
    path: PathBuf,
    dev: u64,
    ino: u64,
    resolver: Resolver,
}

impl Rootfs {
    /// Opens the directory `path` (absolute, or relative to the working directory) with no
    /// symlink in any component. For callers that have a path and no bundle: `pack_rootfs`,
    /// plans applied from a file.
    pub fn open_path(path: &Path) -> Result<Rootfs, BundleError> {
        let abs = std::path::absolute(path).map_err(|e| BundleError::io("resolve", path, e))?;
        let abs = lexical(&abs).ok_or_else(|| BundleError::NotAbsolute {
            path: path.to_owned(),
        })?;
        Self::open_absolute_with(&abs, Resolver::Auto)
    }

    /// Opens the absolute directory `path` from `/`, with no symlink in any component.
    pub fn open_absolute_with(path: &Path, resolver: Resolver) -> Result<Rootfs, BundleError> {
        let root = open_root()?;
        let rel = path
            .as_os_str()
            .as_bytes()
            .strip_prefix(b"/")
            .ok_or_else(|| BundleError::NotAbsolute {
                path: path.to_owned(),
            })?;
        let fd = open_beneath(
            root.as_fd(),
            Path::new("/"),
            rel,
            OFlags::RDONLY | OFlags::DIRECTORY,
            resolver,
        )?;
        Self::from_fd(fd, path, resolver)
    }

    fn from_fd(fd: OwnedFd, shown: &Path, resolver: Resolver) -> Result<Rootfs, BundleError> {
        let st = rfs::fstat(&fd).map_err(|e| BundleError::io("stat", shown, e))?;
        let kind = FileType::from_raw_mode(st.st_mode);
        if kind != FileType::Directory {
            return Err(BundleError::NotDirectory {
                path: shown.to_owned(),
                kind: kind_name(kind),
            });
        }
        let path = verified_path(fd.as_fd(), shown, resolver)?;
        if let Some(why) = system_dir(&path) {
            return Err(BundleError::SystemDir { path, why });
        }
        Ok(Rootfs {
            dir: File::from(fd),
            path,
            dev: st.st_dev,
            ino: st.st_ino,
            resolver,
        })
    }

    /// The canonical path the directory had when it was opened.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The open directory.
    pub fn dir(&self) -> &File {
        &self.dir
    }

    /// Device and inode of the directory.
    pub fn id(&self) -> (u64, u64) {
        (self.dev, self.ino)
    }

    /// The directory's path, checked again now: the kernel's name for the open directory,
    /// re-opened from `/` without following symlinks, must be the same inode. This is the path
    /// to hand to a program that takes a path (crun's `root.path`, Proxmox's host-path rootfs);
    /// see docs/security.md for what can still change after it is handed over.
    pub fn verified_path(&self) -> Result<PathBuf, BundleError> {
        verified_path(self.dir.as_fd(), &self.path, self.resolver)
    }
}

/// Why `path` (absolute, canonical) must never be a rootfs, if it must not: the executor's own
/// last line for the one effect it performs itself, packing or handing over a directory, so
/// that no config, plan or flag can make it pack `/etc` or the whole host. The list is
/// [`translator::host::never_a_rootfs`], beside the classifiers the node policy uses.
pub fn system_dir(path: &Path) -> Option<&'static str> {
    match path.to_str() {
        Some(p) => translator::host::never_a_rootfs(p),
        None => Some("a host path that is not UTF-8"),
    }
}

/// `path` with `.` and empty components dropped ([`translator::path::lexical`]), if it is
/// absolute and has no `..`: a `..` is refused rather than resolved, because the kernel
/// resolves it after any symbolic link before it, and the text cannot know. A path that is not
/// UTF-8 is refused too; [`system_dir`] refuses it as a rootfs anyway.
fn lexical(path: &Path) -> Option<PathBuf> {
    let text = path.to_str().filter(|t| t.starts_with('/'))?;
    let l = translator::path::lexical(text);
    (!l.has_parent()).then(|| PathBuf::from(l.absolute()))
}

fn open_root() -> Result<OwnedFd, BundleError> {
    rfs::open(
        "/",
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| BundleError::io("open", Path::new("/"), e))
}

/// Opens `rel` below `base` without following a symlink in any component and without leaving
/// `base`. `shown` is `base`'s path, for messages.
pub fn open_beneath(
    base: BorrowedFd<'_>,
    shown: &Path,
    rel: &[u8],
    flags: OFlags,
    resolver: Resolver,
) -> Result<OwnedFd, BundleError> {
    let full = shown.join(OsStr::from_bytes(rel));
    if rel.first() == Some(&b'/') {
        return Err(BundleError::NotAbsolute { path: full });
    }
    // The walk treats an empty path as the base itself; so must openat2.
    let rel_c: &[u8] = if rel.is_empty() { b"." } else { rel };
    let fd = match resolver {
        Resolver::Walk => walk_beneath(base, shown, rel_c, flags)?,
        Resolver::Openat2 | Resolver::Auto => {
            match rfs::openat2(
                base,
                rel_c,
                with_noctty(flags) | OFlags::CLOEXEC,
                Mode::empty(),
                ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS,
            ) {
                Ok(fd) => fd,
                Err(Errno::NOSYS) if resolver == Resolver::Auto => {
                    walk_beneath(base, shown, rel_c, flags)?
                }
                // RESOLVE_NO_SYMLINKS: a symlink in any component.
                Err(Errno::LOOP) => {
                    return Err(BundleError::Symlink {
                        path: full,
                        what: "a component of the path",
                    })
                }
                // RESOLVE_BENEATH: `..` above the base (or an absolute symlink, refused above).
                Err(Errno::XDEV) => {
                    return Err(BundleError::Escapes {
                        path: full,
                        base: shown.to_owned(),
                    })
                }
                Err(Errno::NOTDIR) => return Err(not_dir_error(base, rel_c, &full)),
                Err(e) => return Err(BundleError::io("open", &full, e)),
            }
        }
    };
    // O_PATH returns a symlink itself when it is the last component and O_NOFOLLOW is given;
    // neither resolver passes that combination, but a descriptor to a link is never returned.
    let st = rfs::fstat(&fd).map_err(|e| BundleError::io("stat", &full, e))?;
    if FileType::from_raw_mode(st.st_mode) == FileType::Symlink {
        return Err(BundleError::Symlink {
            path: full,
            what: "the file",
        });
    }
    Ok(fd)
}

/// `O_NOCTTY` unless `O_PATH` (openat2 refuses `O_PATH` with any flag it ignores).
fn with_noctty(flags: OFlags) -> OFlags {
    if flags.contains(OFlags::PATH) {
        flags
    } else {
        flags | OFlags::NOCTTY
    }
}

/// The walk: one `openat(O_NOFOLLOW)` per component, each checked with `fstat`.
fn walk_beneath(
    base: BorrowedFd<'_>,
    shown: &Path,
    rel: &[u8],
    flags: OFlags,
) -> Result<OwnedFd, BundleError> {
    let full = shown.join(OsStr::from_bytes(rel));
    let comps: Vec<&[u8]> = rel
        .split(|&b| b == b'/')
        .filter(|c| !c.is_empty() && *c != b".")
        .collect();
    let dir_flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    // The directories walked through; `..` pops one, and never the base.
    let mut stack: Vec<OwnedFd> = Vec::new();
    let mut last: Option<OwnedFd> = None;
    for (i, comp) in comps.iter().enumerate() {
        let is_last = i + 1 == comps.len();
        if *comp == b".." {
            if stack.pop().is_none() {
                return Err(BundleError::Escapes {
                    path: full,
                    base: shown.to_owned(),
                });
            }
            continue;
        }
        let at = stack.last().map_or(base, |d| d.as_fd());
        let want = if is_last {
            with_noctty(flags) | OFlags::NOFOLLOW | OFlags::CLOEXEC
        } else {
            dir_flags
        };
        let fd = rfs::openat(at, *comp, want, Mode::empty()).map_err(|e| match e {
            Errno::LOOP => BundleError::Symlink {
                path: full.clone(),
                what: "a component of the path",
            },
            Errno::NOTDIR => not_dir_error(at, comp, &full),
            e => BundleError::io("open", &full, e),
        })?;
        let st = rfs::fstat(&fd).map_err(|e| BundleError::io("stat", &full, e))?;
        if FileType::from_raw_mode(st.st_mode) == FileType::Symlink {
            return Err(BundleError::Symlink {
                path: full,
                what: "a component of the path",
            });
        }
        if is_last {
            last = Some(fd);
        } else {
            stack.push(fd);
        }
    }
    match last {
        Some(fd) => Ok(fd),
        // The path ends in `..` or names the base: open the directory reached.
        None => {
            let at = stack.last().map_or(base, |d| d.as_fd());
            rfs::openat(
                at,
                ".",
                flags | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            )
            .map_err(|e| BundleError::io("open", &full, e))
        }
    }
}

/// `ENOTDIR`: a symlink met with `O_DIRECTORY | O_NOFOLLOW`, or a real non-directory.
fn not_dir_error(at: BorrowedFd<'_>, rel: &[u8], full: &Path) -> BundleError {
    match kind_at(at, rel) {
        "symbolic link" => BundleError::Symlink {
            path: full.to_owned(),
            what: "a component of the path",
        },
        kind => BundleError::NotDirectory {
            path: full.to_owned(),
            kind,
        },
    }
}

/// What `rel` below `at` is (for messages only; nothing is decided on it).
fn kind_at(at: BorrowedFd<'_>, rel: &[u8]) -> &'static str {
    match rfs::statat(at, rel, rfs::AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st) => kind_name(FileType::from_raw_mode(st.st_mode)),
        Err(_) => "file that is not a directory",
    }
}

fn kind_name(kind: FileType) -> &'static str {
    match kind {
        FileType::RegularFile => "regular file",
        FileType::Directory => "directory",
        FileType::Symlink => "symbolic link",
        FileType::Fifo => "FIFO",
        FileType::Socket => "socket",
        FileType::CharacterDevice => "character device",
        FileType::BlockDevice => "block device",
        FileType::Unknown => "file of unknown type",
    }
}

/// `/proc/self/fd/N`: the magic link that names an open descriptor's inode.
fn proc_fd(fd: BorrowedFd<'_>) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()))
}

/// Reads the regular file behind the `O_PATH` descriptor `fd`.
fn read_checked(fd: OwnedFd, shown: &Path, limit: u64) -> Result<Vec<u8>, BundleError> {
    let st = rfs::fstat(&fd).map_err(|e| BundleError::io("stat", shown, e))?;
    let kind = FileType::from_raw_mode(st.st_mode);
    if kind != FileType::RegularFile {
        return Err(BundleError::NotRegular {
            path: shown.to_owned(),
            kind: kind_name(kind),
        });
    }
    let len = u64::try_from(st.st_size).unwrap_or(u64::MAX);
    if len > limit {
        return Err(BundleError::TooLarge {
            path: shown.to_owned(),
            limit,
        });
    }
    // Re-open the inode we checked (not a path): procfs hands back exactly that file.
    // O_NONBLOCK and O_NOCTTY are belt and braces; it is a regular file.
    let file = rfs::open(
        proc_fd(fd.as_fd()),
        OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map(File::from)
    .map_err(|e| BundleError::io("re-open (through /proc/self/fd)", shown, e))?;
    let now = rfs::fstat(&file).map_err(|e| BundleError::io("stat", shown, e))?;
    if (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino) {
        return Err(BundleError::Unverified {
            path: shown.to_owned(),
            why: "the re-opened file is another inode".into(),
        });
    }
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| BundleError::io("read", shown, e))?;
    // It may have grown since fstat.
    if bytes.len() as u64 > limit {
        return Err(BundleError::TooLarge {
            path: shown.to_owned(),
            limit,
        });
    }
    Ok(bytes)
}

/// The kernel's path of the open directory `fd`, re-opened from `/` with no symlinks and
/// checked to be the same inode.
fn verified_path(
    fd: BorrowedFd<'_>,
    shown: &Path,
    resolver: Resolver,
) -> Result<PathBuf, BundleError> {
    let unverified = |why: String| BundleError::Unverified {
        path: shown.to_owned(),
        why,
    };
    let link = rfs::readlinkat(rfs::CWD, proc_fd(fd), Vec::new())
        .map_err(|e| BundleError::io("read the path of", shown, e))?;
    let bytes = link.into_bytes();
    // A removed directory reads as "/path (deleted)"; anything not absolute (another mount
    // namespace's root, an anonymous mount) has no path to hand over either.
    if bytes.first() != Some(&b'/') {
        return Err(unverified(format!(
            "the kernel names it {:?}",
            String::from_utf8_lossy(&bytes)
        )));
    }
    let path = PathBuf::from(OsStr::from_bytes(&bytes));
    let root = open_root()?;
    let again = open_beneath(
        root.as_fd(),
        Path::new("/"),
        bytes.get(1..).unwrap_or_default(),
        OFlags::PATH,
        resolver,
    )
    .map_err(|e| unverified(format!("{} by that path: {e}", path.display())))?;
    let a = rfs::fstat(fd).map_err(|e| BundleError::io("stat", shown, e))?;
    let b = rfs::fstat(&again).map_err(|e| BundleError::io("stat", &path, e))?;
    if (a.st_dev, a.st_ino) != (b.st_dev, b.st_ino) {
        return Err(unverified(format!(
            "{} is now another directory",
            path.display()
        )));
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::symlink;

    const BOTH: [Resolver; 2] = [Resolver::Openat2, Resolver::Walk];

    fn bundle_dir() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        fs::create_dir_all(d.path().join("rootfs/etc")).unwrap();
        fs::write(d.path().join("rootfs/etc/hostname"), b"in").unwrap();
        fs::write(d.path().join(CONFIG), b"{}").unwrap();
        d
    }

    #[test]
    fn own_entries_are_directories_and_single_link_files_reached_without_links() {
        let d = bundle_dir();
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("host"), b"host").unwrap();
        fs::write(d.path().join("own"), b"own").unwrap();
        fs::hard_link(outside.path().join("host"), d.path().join("linked")).unwrap();
        symlink(outside.path().join("host"), d.path().join("link")).unwrap();
        symlink(outside.path(), d.path().join("dirlink")).unwrap();
        rfs::mknodat(
            rfs::CWD,
            d.path().join("fifo"),
            FileType::Fifo,
            Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        for r in BOTH {
            let b = Bundle::open_with(d.path(), r).unwrap();
            assert_eq!(b.own_entry("own").unwrap(), Some(OwnEntry::File), "{r:?}");
            assert_eq!(
                b.own_entry("rootfs/etc").unwrap(),
                Some(OwnEntry::Directory)
            );
            assert_eq!(b.own_entry("").unwrap(), Some(OwnEntry::Directory));
            // A second name of a host file, and a FIFO, are not the bundle's own data.
            assert_eq!(b.own_entry("linked").unwrap(), None, "{r:?}");
            assert_eq!(b.own_entry("fifo").unwrap(), None, "{r:?}");
            for bad in ["link", "dirlink/host", "../x", "rootfs/../../x"] {
                assert!(b.own_entry(bad).is_err(), "{r:?} {bad}");
            }
            let below = own_entry_below(d.path(), "rootfs/etc/hostname", r).unwrap();
            assert_eq!(below, Some(OwnEntry::File));
            assert!(own_entry_below(&d.path().join("dirlink"), "host", r).is_err());
        }
    }

    #[test]
    fn config_and_rootfs_are_read_through_both_resolvers() {
        let d = bundle_dir();
        for r in BOTH {
            let b = Bundle::open_with(d.path(), r).unwrap();
            assert_eq!(b.path(), fs::canonicalize(d.path()).unwrap());
            assert_eq!(b.read_config(10).unwrap(), b"{}");
            for p in ["rootfs", "./rootfs/", "rootfs/etc/..", "x/../rootfs"] {
                if p.starts_with('x') {
                    fs::create_dir_all(d.path().join("x")).unwrap();
                }
                let root = b
                    .rootfs(p, None)
                    .unwrap_or_else(|e| panic!("{r:?} {p}: {e}"));
                assert_eq!(root.path(), b.path().join("rootfs"), "{r:?} {p}");
                assert_eq!(root.verified_path().unwrap(), root.path());
            }
        }
    }

    #[test]
    fn a_symlink_in_any_component_is_refused() {
        let d = bundle_dir();
        let outside = tempfile::tempdir().unwrap();
        fs::create_dir_all(outside.path().join("rootfs")).unwrap();
        fs::write(outside.path().join("secret"), b"s").unwrap();
        symlink(outside.path(), d.path().join("link")).unwrap();
        symlink("rootfs", d.path().join("rootlink")).unwrap();
        symlink(outside.path().join("secret"), d.path().join("cfg")).unwrap();
        for r in BOTH {
            let b = Bundle::open_with(d.path(), r).unwrap();
            for p in [
                "link/rootfs",
                "rootlink",
                "rootlink/",
                "rootlink/etc",
                "link",
            ] {
                let err = b.rootfs(p, None).unwrap_err();
                assert!(
                    matches!(err, BundleError::Symlink { .. }),
                    "{r:?} {p}: {err}"
                );
            }
            let err = b.read_file("cfg", 100).unwrap_err();
            assert!(matches!(err, BundleError::Symlink { .. }), "{r:?}: {err}");
            let err = b.read_file("link/secret", 100).unwrap_err();
            assert!(matches!(err, BundleError::Symlink { .. }), "{r:?}: {err}");
        }
    }

    #[test]
    fn dotdot_out_of_the_bundle_is_refused() {
        let d = bundle_dir();
        for r in BOTH {
            let b = Bundle::open_with(d.path(), r).unwrap();
            for p in ["..", "../x", "rootfs/../..", "rootfs/../../rootfs"] {
                let err = b.rootfs(p, None).unwrap_err();
                assert!(
                    matches!(err, BundleError::Escapes { .. }),
                    "{r:?} {p}: {err}"
                );
            }
        }
    }

    #[test]
    fn config_must_be_a_small_regular_file() {
        let d = bundle_dir();
        fs::write(d.path().join("big"), vec![b' '; 100]).unwrap();
        fs::create_dir(d.path().join("dir")).unwrap();
        rustix::fs::mknodat(
            rustix::fs::CWD,
            d.path().join("fifo"),
            FileType::Fifo,
            Mode::from_raw_mode(0o644),
            0,
        )
        .unwrap();
        for r in BOTH {
            let b = Bundle::open_with(d.path(), r).unwrap();
            assert!(matches!(
                b.read_file("big", 99),
                Err(BundleError::TooLarge { .. })
            ));
            assert_eq!(b.read_file("big", 100).unwrap().len(), 100);
            let err = b.read_file("dir", 100).unwrap_err();
            assert!(
                matches!(
                    err,
                    BundleError::NotRegular {
                        kind: "directory",
                        ..
                    }
                ),
                "{err}"
            );
            // Would block forever if it were opened for reading.
            let err = b.read_file("fifo", 100).unwrap_err();
            assert!(
                matches!(err, BundleError::NotRegular { kind: "FIFO", .. }),
                "{err}"
            );
        }
    }

    #[test]
    fn an_absolute_root_needs_the_flag_naming_it() {
        let d = bundle_dir();
        let outside = tempfile::tempdir().unwrap();
        let o = fs::canonicalize(outside.path()).unwrap();
        let os = o.to_str().unwrap();
        for r in BOTH {
            let b = Bundle::open_with(d.path(), r).unwrap();
            assert!(matches!(
                b.rootfs(os, None),
                Err(BundleError::OutsideNotAllowed { .. })
            ));
            let other = d.path().join("rootfs");
            assert!(matches!(
                b.rootfs(os, Some(&other)),
                Err(BundleError::OutsideMismatch { .. })
            ));
            assert!(matches!(
                b.rootfs("rootfs", Some(&o)),
                Err(BundleError::OutsideUnused { .. })
            ));
            let root = b.rootfs(&format!("{os}/./"), Some(&o)).unwrap();
            assert_eq!(root.path(), o);
            for sys in ["/", "/etc", "/usr/lib", "/var", "/run/pve/x", "//"] {
                let err = b.rootfs(sys, Some(Path::new(sys))).unwrap_err();
                assert!(
                    matches!(err, BundleError::SystemDir { .. } | BundleError::Io { .. }),
                    "{r:?} {sys}: {err}"
                );
            }
        }
    }

    #[test]
    fn system_directories() {
        for p in [
            "/",
            "/etc",
            "/etc/pve",
            "/usr",
            "/var",
            "/var/lib",
            "/var/lib/vz/x",
            "/root",
        ] {
            assert!(system_dir(Path::new(p)).is_some(), "{p}");
        }
        for p in [
            "/srv/images/app",
            "/tmp/b/rootfs",
            "/var/lib/containers/x",
            "/root/b/rootfs",
            "/run/containerd/b/rootfs",
        ] {
            assert_eq!(system_dir(Path::new(p)), None, "{p}");
        }
    }

    #[test]
    fn a_rootfs_reached_through_the_bundle_may_not_be_a_system_dir() {
        let b = Bundle::open(Path::new("/")).unwrap();
        for p in ["etc", ".", "usr/share", "var"] {
            assert!(
                matches!(b.rootfs(p, None), Err(BundleError::SystemDir { .. })),
                "{p}"
            );
        }
    }

    /// Makes `openat2` fail with `ENOSYS` in the calling thread only, as on a kernel before 5.6
    /// (seccomp filters and no_new_privs are per thread unless synchronised).
    fn no_openat2_in_this_thread() {
        use libc::{
            sock_filter, sock_fprog, BPF_ABS, BPF_JEQ, BPF_JMP, BPF_K, BPF_LD, BPF_RET, BPF_W,
        };
        let nr_offset = 0; // offsetof(struct seccomp_data, nr)
        let stmt = |code: u32, k: u32| sock_filter {
            code: code as u16,
            jt: 0,
            jf: 0,
            k,
        };
        let prog = [
            stmt(BPF_LD | BPF_W | BPF_ABS, nr_offset),
            sock_filter {
                code: (BPF_JMP | BPF_JEQ | BPF_K) as u16,
                jt: 0,
                jf: 1,
                k: libc::SYS_openat2 as u32,
            },
            stmt(
                BPF_RET | BPF_K,
                libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32,
            ),
            stmt(BPF_RET | BPF_K, libc::SECCOMP_RET_ALLOW),
        ];
        let fprog = sock_fprog {
            len: prog.len() as u16,
            filter: prog.as_ptr().cast_mut(),
        };
        // SAFETY: plain prctl calls; `fprog` points at `prog`, both alive for the call, and the
        // kernel copies the program.
        unsafe {
            assert_eq!(libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0);
            assert_eq!(
                libc::prctl(
                    libc::PR_SET_SECCOMP,
                    libc::SECCOMP_MODE_FILTER,
                    &fprog as *const sock_fprog
                ),
                0
            );
        }
    }

    #[test]
    fn without_openat2_auto_falls_back_to_the_walk() {
        let d = bundle_dir();
        let outside = tempfile::tempdir().unwrap();
        symlink(outside.path(), d.path().join("link")).unwrap();
        let path = d.path().to_owned();
        std::thread::spawn(move || {
            no_openat2_in_this_thread();
            let forced = Bundle::open_with(&path, Resolver::Openat2).unwrap_err();
            assert!(
                matches!(&forced, BundleError::Unverified { why, .. } if why.contains("os error 38")),
                "openat2 is filtered: {forced}"
            );
            let b = Bundle::open(&path).unwrap();
            assert_eq!(b.read_config(10).unwrap(), b"{}");
            assert_eq!(b.rootfs("rootfs", None).unwrap().path(), b.path().join("rootfs"));
            let err = b.rootfs("link/rootfs", None).unwrap_err();
            assert!(matches!(err, BundleError::Symlink { .. }), "{err}");
        })
        .join()
        .unwrap();
    }
}
