//! `pack-rootfs`: a bundle's `rootfs/` → a `.tar.zst` template Proxmox restores exactly.
//!
//! Proxmox (`PVE::LXC::Create::restore_tar_archive`) extracts templates with
//! `tar xpf - --zstd --totals --one-file-system -p --sparse --numeric-owner --acls --xattrs
//! --xattrs-include=user.* --xattrs-include=security.capability --warning=no-file-ignored
//! --warning=no-xattr-write -C <rootdir> --skip-old-files --anchored --exclude ./dev/*`,
//! inside `lxc-usernsexec -m u:0:100000:65536 -m g:0:100000:65536` for unprivileged containers.
//! So the archive has:
//!
//! - `./`-prefixed names (the exclude is anchored on `./dev/`), parents before children, siblings
//!   in byte order, the rootfs itself as `./`;
//! - modes (setuid/setgid/sticky included), numeric container-side owners in 0..=65535 (see
//!   [`OwnerMap`]), mtimes in whole seconds;
//! - symlinks as symlinks (never followed), hard links (by device and inode) as links to the first
//!   name, empty directories;
//! - `user.*` and `security.capability` xattrs as PAX `SCHILY.xattr.*` records;
//! - sparse files in GNU's PAX 1.0 sparse format (holes stay holes);
//! - no device nodes, fifos or sockets: they are skipped and reported as [`PackWarning`]s
//!   (Proxmox drops `./dev/*`, and `mknod` fails in a user namespace anyway).
//!
//! The output is written to a temp file beside `output` and renamed into place, so a failed or
//! interrupted pack never leaves a truncated template behind. Compression is zstd (level 3 by
//! default, as `zstd` itself) on all cores.

mod archive;
mod layers;
mod owner;
mod pipeline;
mod progress;
mod sparse;
mod walk;
mod xattrs;

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::fs::{self, File, Permissions};
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::{FileExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::bundle::{BundleError, Rootfs};

pub use layers::{index_layers, write_layers_tar, LayerIndex, LayerRead, LayerSource, MAX_CAPTURE};
pub use owner::{IdKind, OwnerMap, CONTAINER_ID_COUNT};
pub use progress::Progress;
pub use walk::{SpecialKind, MAX_OPEN_DIRS};

use archive::{Kind, Meta, PaxRecord, TarWriter};
use walk::{to_path, Node, Stat};

/// How to pack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackConfig {
    pub owners: OwnerMap,
    pub progress: Progress,
    /// zstd level (1..=19; 3 is zstd's default).
    pub level: i32,
    /// zstd worker threads; 0 means one per available core.
    pub threads: u32,
}

impl Default for PackConfig {
    fn default() -> Self {
        Self {
            owners: OwnerMap::Identity,
            progress: Progress::Auto,
            level: 3,
            threads: 0,
        }
    }
}

impl fmt::Display for PackConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "zstd level {}, ", self.level)?;
        match self.threads {
            0 => f.write_str("all cores")?,
            n => write!(f, "{n} threads")?,
        }
        write!(f, ", {}", self.owners)
    }
}

/// Something that was not packed, or not packed completely. Packing still succeeds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackWarning {
    SpecialSkipped {
        path: PathBuf,
        kind: SpecialKind,
    },
    AclNotPacked {
        path: PathBuf,
    },
    /// The root of another mount inside the rootfs: not crossed. A directory is packed empty
    /// (with the mounted root's mode and owner, as `tar --one-file-system` does), so the
    /// mount point still exists in the container; anything else is skipped.
    MountPointNotCrossed {
        path: PathBuf,
        dir: bool,
    },
}

impl PackWarning {
    pub fn code(&self) -> &'static str {
        match self {
            PackWarning::SpecialSkipped { .. } => "pack/special-file-skipped",
            PackWarning::AclNotPacked { .. } => "pack/acl-not-packed",
            PackWarning::MountPointNotCrossed { .. } => "pack/mount-point-not-crossed",
        }
    }

    pub fn path(&self) -> &Path {
        match self {
            PackWarning::SpecialSkipped { path, .. }
            | PackWarning::AclNotPacked { path }
            | PackWarning::MountPointNotCrossed { path, .. } => path,
        }
    }
}

impl fmt::Display for PackWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PackWarning::SpecialSkipped { path, kind } => write!(
                f,
                "skipped {kind} {}: Proxmox templates cannot carry it (`--exclude ./dev/*`, no \
                 mknod in an unprivileged container); LXC creates the standard /dev nodes",
                path.display()
            ),
            PackWarning::AclNotPacked { path } => write!(
                f,
                "POSIX ACL of {} not packed; only modes, owners and user.*/security.capability \
                 xattrs are kept",
                path.display()
            ),
            PackWarning::MountPointNotCrossed { path, dir: true } => write!(
                f,
                "{} is a mount point (another file system); packed as an empty directory, its \
                 contents are not packed",
                path.display()
            ),
            PackWarning::MountPointNotCrossed { path, dir: false } => write!(
                f,
                "{} is a mount point (a file mounted over it); skipped",
                path.display()
            ),
        }
    }
}

/// What packing did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PackReport {
    /// Archive entries (PAX extension headers not counted).
    pub entries: u64,
    /// File content read from the rootfs.
    pub data_bytes: u64,
    /// Size of the uncompressed tar stream.
    pub tar_bytes: u64,
    /// Size of the compressed template.
    pub archive_bytes: u64,
    pub warnings: Vec<PackWarning>,
}

#[derive(Debug, thiserror::Error)]
pub enum PackError {
    #[error("rootfs {path} is a symlink; pass the real directory")]
    RootIsSymlink { path: PathBuf },
    #[error("rootfs {path} is not a directory")]
    RootNotDirectory { path: PathBuf },
    #[error("output {output} is inside the rootfs {rootfs}; it would pack itself")]
    OutputInsideRootfs { output: PathBuf, rootfs: PathBuf },
    #[error("output {path} must end in .tar.zst: Proxmox picks the decompressor by file name")]
    OutputName { path: PathBuf },
    #[error("cannot {op} {path}: {source}")]
    Io {
        op: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("{path}: {kind} {id} has no container id in 0..=65535 ({map})")]
    OwnerOutOfRange {
        path: PathBuf,
        kind: IdKind,
        id: u32,
        map: OwnerMap,
    },
    #[error("{path} {what}")]
    EntryChanged { path: PathBuf, what: &'static str },
    #[error("{path}: entry name is not a single path component; refusing to pack it")]
    EscapingEntry { path: PathBuf },
    #[error("{path}: security.capability: {reason}")]
    BadCapability { path: PathBuf, reason: String },
    #[error(transparent)]
    Rootfs(#[from] BundleError),
}

impl PackError {
    fn io(op: &'static str, path: &[u8], source: io::Error) -> Self {
        PackError::Io {
            op,
            path: to_path(path),
            source,
        }
    }

    fn io_at(op: &'static str, path: &Path, source: io::Error) -> Self {
        PackError::Io {
            op,
            path: path.to_owned(),
            source,
        }
    }
}

/// Packs the directory `rootfs` into the zstd-compressed template `output` (which must end in
/// `.tar.zst`). The directory is opened with no symlink in any component of its path (see
/// [`Rootfs::open_path`]); callers with a bundle use [`pack_dir`] on the rootfs they opened.
pub fn pack_rootfs(
    rootfs: &Path,
    output: &Path,
    config: &PackConfig,
) -> Result<PackReport, PackError> {
    pack_dir(&open_rootfs(rootfs)?, output, config)
}

/// Packs the open, checked rootfs directory into `output`: the walk starts from that
/// descriptor, so what is packed is what was checked, whatever its path names meanwhile.
pub fn pack_dir(
    rootfs: &Rootfs,
    output: &Path,
    config: &PackConfig,
) -> Result<PackReport, PackError> {
    let out_dir = template_dir(output)?;
    let canon_out =
        fs::canonicalize(out_dir).map_err(|e| PackError::io_at("resolve", out_dir, e))?;
    if canon_out.starts_with(rootfs.path()) {
        return Err(PackError::OutputInsideRootfs {
            output: output.to_owned(),
            rootfs: rootfs.path().to_owned(),
        });
    }
    write_template(output, config, |sender| {
        pack_into(rootfs.dir(), sender, config).map(|(_sender, report)| report)
    })
}

/// Packs an image's layers into the template `output`: the survivors [`index_layers`]
/// found, in one more read of every layer (see `layers`).
pub fn pack_layers(
    source: &dyn LayerSource,
    index: &LayerIndex,
    output: &Path,
    config: &PackConfig,
) -> Result<PackReport, PackError> {
    write_template(output, config, |sender| {
        write_layers_tar(source, index, sender, config).map(|(_sender, report)| report)
    })
}

/// The directory a template is written in; the name must end in `.tar.zst`.
fn template_dir(output: &Path) -> Result<&Path, PackError> {
    output
        .file_name()
        .filter(|n| n.as_encoded_bytes().ends_with(b".tar.zst"))
        .ok_or_else(|| PackError::OutputName {
            path: output.to_owned(),
        })?;
    Ok(match output.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    })
}

/// Writes the tar stream `produce` makes into the template `output`: zstd on another thread,
/// into a temp file beside `output` that is synced and renamed into place only when the
/// whole stream was written.
fn write_template(
    output: &Path,
    config: &PackConfig,
    produce: impl FnOnce(pipeline::ChunkSender) -> Result<PackReport, PackError>,
) -> Result<PackReport, PackError> {
    let out_dir = template_dir(output)?;
    let file_name = output.file_name().unwrap_or_default();
    let mut prefix = std::ffi::OsString::from(".");
    prefix.push(file_name);
    prefix.push(".");
    let tmp = tempfile::Builder::new()
        .prefix(&prefix)
        .suffix(".tmp")
        .tempfile_in(out_dir)
        .map_err(|e| PackError::io_at("create a temp file in", out_dir, e))?;
    let zio = |e| PackError::io_at("compress into", tmp.path(), e);
    let mut enc = zstd::stream::write::Encoder::new(
        BufWriter::with_capacity(1 << 20, tmp.as_file()),
        config.level,
    )
    .map_err(zio)?;
    enc.include_checksum(true).map_err(zio)?;
    enc.multithread(workers(config.threads)).map_err(zio)?;
    // Produce on this thread, compress-feed on another (see `pipeline`).
    let (sender, receiver) = pipeline::chunk_channel();
    let (packed, fed) = std::thread::scope(|s| {
        let feeder = s.spawn(move || -> io::Result<_> {
            receiver.drain_into(&mut enc)?;
            enc.finish()
        });
        // The sender is dropped on every path out of here, which ends the feeder's loop.
        let packed = produce(sender);
        (packed, feeder.join())
    });
    let fed = fed.map_err(|_| zio(io::Error::other("the compressing thread panicked")))?;
    let mut report = match (packed, fed) {
        (Ok(report), Ok(buffered)) => {
            buffered
                .into_inner()
                .map_err(|e| PackError::io_at("write", tmp.path(), e.into_error()))?;
            report
        }
        // The producer stopped because the compressor did: its error is the cause.
        (Err(PackError::Io { source, .. }), Err(e))
            if source.kind() == io::ErrorKind::BrokenPipe =>
        {
            return Err(zio(e))
        }
        (Err(e), _) => return Err(e),
        (Ok(_), Err(e)) => return Err(zio(e)),
    };
    let f = tmp.as_file();
    f.set_permissions(Permissions::from_mode(0o644))
        .map_err(|e| PackError::io_at("chmod", tmp.path(), e))?;
    f.sync_all()
        .map_err(|e| PackError::io_at("fsync", tmp.path(), e))?;
    report.archive_bytes = f.metadata().map(|m| m.len()).unwrap_or(0);
    tmp.persist(output)
        .map_err(|e| PackError::io_at("rename the temp file onto", output, e.error))?;
    crate::fs::sync_dir(out_dir).map_err(|e| PackError::io_at("fsync", out_dir, e))?;
    Ok(report)
}

/// Writes the uncompressed tar stream of the directory `rootfs` to `out`.
pub fn write_tar<W: Write>(
    rootfs: &Path,
    out: W,
    config: &PackConfig,
) -> Result<(W, PackReport), PackError> {
    write_tar_dir(&open_rootfs(rootfs)?, out, config)
}

/// Writes the uncompressed tar stream of the open rootfs directory to `out`.
pub fn write_tar_dir<W: Write>(
    rootfs: &Rootfs,
    out: W,
    config: &PackConfig,
) -> Result<(W, PackReport), PackError> {
    pack_into(rootfs.dir(), out, config)
}

fn workers(threads: u32) -> u32 {
    match threads {
        0 => std::thread::available_parallelism()
            .map(|n| u32::try_from(n.get()).unwrap_or(u32::MAX))
            .unwrap_or(1),
        n => n,
    }
}

/// Opens a rootfs by path, refusing a symlink in any component of it.
fn open_rootfs(rootfs: &Path) -> Result<Rootfs, PackError> {
    Rootfs::open_path(rootfs).map_err(|e| match e {
        BundleError::Symlink { .. } => PackError::RootIsSymlink {
            path: rootfs.to_owned(),
        },
        BundleError::NotDirectory { .. } => PackError::RootNotDirectory {
            path: rootfs.to_owned(),
        },
        e => PackError::Rootfs(e),
    })
}

/// Entries Proxmox's `--anchored --exclude ./dev/*` drops: never a hard-link target, or links
/// to them would dangle after extraction.
fn excluded_by_proxmox(name: &[u8]) -> bool {
    name.len() > b"./dev/".len() && name.starts_with(b"./dev/")
}

const COPY_BUF: usize = 1 << 20;

struct Packer<'c, W: Write> {
    tar: TarWriter<W>,
    config: &'c PackConfig,
    links: HashMap<(u64, u64), Vec<u8>>,
    report: PackReport,
    meter: progress::Meter,
    buf: Vec<u8>,
}

fn pack_into<W: Write>(
    root: &File,
    out: W,
    config: &PackConfig,
) -> Result<(W, PackReport), PackError> {
    let mut p = Packer {
        tar: TarWriter::new(out),
        config,
        links: HashMap::new(),
        report: PackReport::default(),
        meter: progress::Meter::new(config.progress),
        buf: vec![0; COPY_BUF],
    };
    walk::walk(root, |name, st, node| p.entry(name, st, node))?;
    let Packer {
        tar,
        mut report,
        meter,
        ..
    } = p;
    meter.finish();
    report.tar_bytes = tar.written + 2 * archive::BLOCK as u64;
    let out = tar
        .finish()
        .map_err(|e| PackError::io("write the archive after", b"./", e))?;
    Ok((out, report))
}

impl<W: Write> Packer<'_, W> {
    fn entry(&mut self, name: &[u8], st: &Stat, node: Node<'_>) -> Result<(), PackError> {
        let wio = |e| PackError::io("write the archive entry for", name, e);
        let link_key = (st.dev, st.ino);
        let meta = match &node {
            Node::Special(kind) => {
                self.report.warnings.push(PackWarning::SpecialSkipped {
                    path: to_path(name),
                    kind: *kind,
                });
                return Ok(());
            }
            Node::MountPoint { dir } => {
                self.report
                    .warnings
                    .push(PackWarning::MountPointNotCrossed {
                        path: to_path(name),
                        dir: *dir,
                    });
                if !*dir {
                    return Ok(());
                }
                self.meta(name, st)?
            }
            _ => self.meta(name, st)?,
        };
        self.meter.entry();
        self.report.entries += 1;
        // A second name for an inode already packed becomes a hard link to the first name.
        if st.nlink > 1 && matches!(node, Node::File(_) | Node::Symlink(_)) {
            if let Some(first) = self.links.get(&link_key) {
                return self
                    .tar
                    .header(name, Kind::HardLink { target: first }, meta, &[])
                    .map_err(wio);
            }
            if !excluded_by_proxmox(name) {
                self.links.insert(link_key, name.to_vec());
            }
        }
        match node {
            Node::Special(_) | Node::MountPoint { dir: false } => Ok(()),
            Node::MountPoint { dir: true } => self
                .tar
                .header(name, Kind::Directory, meta, &[])
                .map_err(wio),
            Node::Symlink(target) => self
                .tar
                .header(name, Kind::Symlink { target: &target }, meta, &[])
                .map_err(wio),
            Node::Dir(dir) => {
                let extra = self.xattr_records(name, dir)?;
                self.tar
                    .header(name, Kind::Directory, meta, &extra)
                    .map_err(wio)
            }
            Node::File(file) => self.file(name, st, meta, &file),
        }
    }

    fn meta(&self, name: &[u8], st: &Stat) -> Result<Meta, PackError> {
        let map = self.config.owners;
        let id = |kind, host_id| {
            map.map(kind, host_id)
                .ok_or_else(|| PackError::OwnerOutOfRange {
                    path: to_path(name),
                    kind,
                    id: host_id,
                    map,
                })
        };
        Ok(Meta {
            mode: st.perm,
            uid: id(IdKind::Uid, st.uid)?,
            gid: id(IdKind::Gid, st.gid)?,
            mtime: st.mtime,
        })
    }

    fn xattr_records(
        &mut self,
        name: &[u8],
        file: &File,
    ) -> Result<Vec<PaxRecord<'static>>, PackError> {
        let found = xattrs::read(file)
            .map_err(|e| PackError::io("read extended attributes of", name, e))?;
        if found.has_acl {
            self.report.warnings.push(PackWarning::AclNotPacked {
                path: to_path(name),
            });
        }
        found
            .kept
            .into_iter()
            .map(|(key, value)| {
                let value = if key == xattrs::CAPABILITY {
                    xattrs::capability_for_container(&value, self.config.owners).map_err(
                        |reason| PackError::BadCapability {
                            path: to_path(name),
                            reason,
                        },
                    )?
                } else {
                    value
                };
                let mut k = b"SCHILY.xattr.".to_vec();
                k.extend_from_slice(&key);
                Ok((Cow::Owned(k), Cow::Owned(value)))
            })
            .collect()
    }

    fn file(&mut self, name: &[u8], st: &Stat, meta: Meta, file: &File) -> Result<(), PackError> {
        let wio = |e| PackError::io("write the archive entry for", name, e);
        let mut extra = self.xattr_records(name, file)?;
        let map = sparse::data_map(file, st.size, st.blocks_512)
            .map_err(|e| PackError::io("find the holes of", name, e))?;
        let Some(segments) = map else {
            self.tar
                .header(name, Kind::Regular { size: st.size }, meta, &extra)
                .map_err(wio)?;
            self.copy(name, file, 0, st.size)?;
            return self.tar.pad(st.size).map_err(wio);
        };
        let map_block = sparse::map_block(&segments);
        let data: u64 = segments.iter().map(|s| s.len).sum();
        let stored = map_block.len() as u64 + data;
        extra.extend([
            (
                Cow::Borrowed(&b"GNU.sparse.major"[..]),
                Cow::Borrowed(&b"1"[..]),
            ),
            (
                Cow::Borrowed(&b"GNU.sparse.minor"[..]),
                Cow::Borrowed(&b"0"[..]),
            ),
            (
                Cow::Borrowed(&b"GNU.sparse.name"[..]),
                Cow::Owned(name.to_vec()),
            ),
            (
                Cow::Borrowed(&b"GNU.sparse.realsize"[..]),
                Cow::Owned(st.size.to_string().into_bytes()),
            ),
        ]);
        // What a tar without sparse support would extract; always short enough for ustar, so
        // no `path` record competes with GNU.sparse.name.
        let base = name.rsplit(|&b| b == b'/').next().unwrap_or(name);
        let mut stand_in = b"./GNUSparseFile.0/".to_vec();
        stand_in.extend_from_slice(base.get(..base.len().min(80)).unwrap_or(base));
        self.tar
            .header(&stand_in, Kind::Regular { size: stored }, meta, &extra)
            .map_err(wio)?;
        self.tar.data(&map_block).map_err(wio)?;
        for s in &segments {
            self.copy(name, file, s.offset, s.len)?;
        }
        self.tar.pad(stored).map_err(wio)
    }

    /// Copies exactly `len` bytes from `offset`; a file that shrank meanwhile is an error (the
    /// header already promised `len` bytes).
    fn copy(&mut self, name: &[u8], file: &File, offset: u64, len: u64) -> Result<(), PackError> {
        let (report, meter) = (&mut self.report, &self.meter);
        self.tar
            .copy_data(
                &mut self.buf,
                len,
                |chunk, done| file.read_at(chunk, offset + done),
                |n| {
                    report.data_bytes += n;
                    meter.bytes(n);
                },
            )
            .map_err(|e| copy_error(e, name, "shrank while packing"))
    }
}

/// A failed [`archive::TarWriter::copy_data`] as the packers report it; `short` says how the
/// source came up short.
fn copy_error(e: archive::CopyError, name: &[u8], short: &'static str) -> PackError {
    match e {
        archive::CopyError::Short => PackError::EntryChanged {
            path: to_path(name),
            what: short,
        },
        archive::CopyError::Read(e) => PackError::io("read", name, e),
        archive::CopyError::Write(e) => PackError::io("write the archive entry for", name, e),
    }
}
