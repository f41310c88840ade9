//! An OCI image's layers → one template, streamed: no layer is unpacked to disk.
//!
//! image-spec `layer.md` (opencontainers/image-spec 13cff549) defines the merge: layers are
//! applied bottom to top; a `.wh.<name>` entry deletes `<name>` from the layers below it, a
//! `.wh..wh..opq` entry hides every child of its directory in the layers below, and "whiteout
//! files MUST only apply to resources in lower/parent layers". A later entry for the same name
//! in one layer replaces an earlier one, as tar extraction does.
//!
//! A tar stream cannot be rewound, so packing reads every layer twice:
//!
//! 1. [`index_layers`], top layer first: decides which entry of which layer survives at each
//!    name (and keeps the bytes of a few small files the caller asks for: `/etc/passwd` and
//!    `/etc/group` for `Config.User`), reading headers only;
//! 2. [`pack_layers`], bottom layer first: writes the survivors in the template format of
//!    [`super`] (`./` names, numeric container-side owners, `user.*` and
//!    `security.capability` xattrs, no device nodes).
//!
//! Parents come before children in the output: a directory is written where it first appears
//! (in the lowest layer that has it) with the metadata of its surviving (topmost) entry, and
//! a directory no layer declares is written as `0755 root` before its first child, as Docker
//! and containerd create it. Without this, `tar --skip-old-files` (Proxmox's extraction)
//! would keep the mode of a directory tar made itself on the way to a child.
//!
//! Hard links point at names in their own layer. When the name they point at does not
//! survive (a later layer deleted or replaced it), the link still has to have that content:
//! the target's entry is written under the link's name instead.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::io::{self, Read, Write};
use std::path::Path;

use tar::EntryType;

use super::archive::{Kind, Meta, PaxRecord, TarWriter};
use super::walk::{to_path, SpecialKind};
use super::{progress, xattrs, IdKind, PackConfig, PackError, PackReport, PackWarning};

/// The layers of one image, bottom first.
pub trait LayerSource: Sync {
    /// How many layers.
    fn count(&self) -> usize;
    /// A name for the layer in errors (its digest).
    fn name(&self, index: usize) -> String;
    /// The layer's uncompressed tar stream, from the start.
    fn open(&self, index: usize) -> io::Result<Box<dyn LayerRead + '_>>;
}

/// A layer's tar stream that can say, after the tar's end, whether the blob was the one named.
pub trait LayerRead: Read {
    /// Reads whatever follows the tar's end and checks the blob (its digest and size).
    fn finish(self: Box<Self>) -> io::Result<()>;
}

/// The largest file [`index_layers`] keeps the bytes of: `/etc/passwd` of a big directory is
/// well under it; a hostile image cannot make the index hold more.
pub const MAX_CAPTURE: u64 = 4 << 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Type {
    Dir,
    File,
    Symlink,
    HardLink,
    Special(SpecialKind),
}

/// Where an entry is: its layer and its position among that layer's entries.
type At = (usize, u64);

/// A header's metadata as the layer has it (owners before mapping), with the kept xattrs.
#[derive(Clone, Debug, PartialEq, Eq)]
struct EntryMeta {
    mode: u32,
    uid: u64,
    gid: u64,
    mtime: i64,
    xattrs: Vec<(Vec<u8>, Vec<u8>)>,
}

#[derive(Clone, Debug)]
struct Survivor {
    at: At,
    ty: Type,
    /// For a directory: its metadata, which pass 2 may need before it reads the entry (the
    /// directory is written where it first appears, perhaps in a lower layer).
    dir: Option<Box<EntryMeta>>,
}

/// What [`index_layers`] decided.
#[derive(Debug, Default)]
pub struct LayerIndex {
    survivors: HashMap<Vec<u8>, Survivor>,
    /// Entries that do not survive under their own name but are written under a hard
    /// link's name, which becomes a regular file.
    relocated: HashMap<At, Vec<u8>>,
    /// Hard links whose target was relocated: they point at the new name.
    retargeted: HashMap<At, Vec<u8>>,
    captured: HashMap<Vec<u8>, Vec<u8>>,
    /// For a name asked for with `capture` that the merged image has but whose bytes were
    /// not kept: what it is instead (a symlink and its target, a file over [`MAX_CAPTURE`]).
    uncaptured: HashMap<Vec<u8>, String>,
    /// Entries read in all layers (whiteouts included).
    pub entries_read: u64,
}

impl LayerIndex {
    /// The bytes of a regular file asked for with `capture`, as the merged image has it
    /// (`None` when no layer has it, it was deleted, or it is not a regular file).
    pub fn file(&self, path: &str) -> Option<&[u8]> {
        self.captured
            .get(&normalize(path.as_bytes()).ok()?)
            .map(Vec::as_slice)
    }

    /// Why a name asked for with `capture` has no bytes although the merged image has it:
    /// `is a symbolic link to …`, `is … bytes, more than the … read`, `is not a regular file`.
    /// `None` when its bytes were kept or no layer has it.
    pub fn uncaptured(&self, path: &str) -> Option<&str> {
        self.uncaptured
            .get(&normalize(path.as_bytes()).ok()?)
            .map(String::as_str)
    }

    /// How many names the merged image has.
    pub fn len(&self) -> usize {
        self.survivors.len()
    }

    /// Whether the merged image has no name at all.
    pub fn is_empty(&self) -> bool {
        self.survivors.is_empty()
    }
}

/// One entry as the index pass sees it; `name` is empty for what is not a file (whiteouts,
/// headers the tar crate does not fold).
struct Seen {
    name: Vec<u8>,
    ty: Type,
    link: Option<Vec<u8>>,
    dir: Option<Box<EntryMeta>>,
}

enum Whiteout {
    /// `.wh.<name>`: the name it deletes (empty: aufs bookkeeping that deletes nothing).
    Name(Vec<u8>),
    /// `.wh..wh..opq`: the directory whose lower children it hides.
    Opaque(Vec<u8>),
}

const WHITEOUT: &[u8] = b".wh.";
const OPAQUE: &[u8] = b".wh..wh..opq";

/// `./`-prefixed, no `.` or empty components, no trailing slash; the root is `./`. A `..`
/// component is refused: a layer cannot write outside the root.
fn normalize(raw: &[u8]) -> Result<Vec<u8>, PackError> {
    let mut out = b".".to_vec();
    for part in raw.split(|b| *b == b'/') {
        match part {
            b"" | b"." => {}
            b".." => return Err(PackError::EscapingEntry { path: to_path(raw) }),
            p => {
                out.push(b'/');
                out.extend_from_slice(p);
            }
        }
    }
    if out == b"." {
        out.push(b'/');
    }
    Ok(out)
}

fn parent(name: &[u8]) -> Option<&[u8]> {
    if name == b"./" {
        return None;
    }
    let cut = name.iter().rposition(|b| *b == b'/')?;
    Some(if cut <= 1 { b"./" } else { &name[..cut] })
}

/// The strict ancestors of a name, nearest first, the root last.
fn ancestors(name: &[u8]) -> impl Iterator<Item = &[u8]> {
    std::iter::successors(parent(name), |p| parent(p))
}

fn child(dir: &[u8], base: &[u8]) -> Vec<u8> {
    let mut out = dir.to_vec();
    if out != b"./" {
        out.push(b'/');
    }
    out.extend_from_slice(base);
    out
}

fn whiteout_of(name: &[u8]) -> Option<Whiteout> {
    let base_at = name.iter().rposition(|b| *b == b'/').map_or(0, |i| i + 1);
    let base = name.get(base_at..).unwrap_or_default();
    let dir = parent(name).unwrap_or(b"./");
    if base == OPAQUE {
        return Some(Whiteout::Opaque(dir.to_vec()));
    }
    let deleted = base.strip_prefix(WHITEOUT)?;
    // Other `.wh..wh.` names are aufs bookkeeping (`.wh..wh.plnk`): they delete nothing.
    if deleted.starts_with(WHITEOUT) || deleted.is_empty() {
        return Some(Whiteout::Name(Vec::new()));
    }
    Some(Whiteout::Name(child(dir, deleted)))
}

fn type_of(t: EntryType) -> Option<Type> {
    Some(match t {
        EntryType::Regular | EntryType::Continuous | EntryType::GNUSparse => Type::File,
        EntryType::Directory => Type::Dir,
        EntryType::Symlink => Type::Symlink,
        EntryType::Link => Type::HardLink,
        EntryType::Char => Type::Special(SpecialKind::CharDevice),
        EntryType::Block => Type::Special(SpecialKind::BlockDevice),
        EntryType::Fifo => Type::Special(SpecialKind::Fifo),
        // PAX and GNU long-name headers are folded into the next entry by the tar crate.
        _ => return None,
    })
}

/// The entry's metadata: the ustar fields, overridden by PAX `uid`, `gid` and `mtime`
/// records, and the `SCHILY.xattr.*` records a template keeps (`xattrs::keep`).
fn meta_of<R: Read>(entry: &mut tar::Entry<'_, R>, name: &[u8]) -> Result<EntryMeta, PackError> {
    let bad = |what| PackError::EntryChanged {
        path: to_path(name),
        what,
    };
    let h = entry.header();
    let mut meta = EntryMeta {
        mode: h.mode().map_err(|_| bad("has an unreadable mode"))? & 0o7777,
        uid: h.uid().map_err(|_| bad("has an unreadable uid"))?,
        gid: h.gid().map_err(|_| bad("has an unreadable gid"))?,
        mtime: h
            .mtime()
            .map_err(|_| bad("has an unreadable mtime"))
            .map(|t| i64::try_from(t).unwrap_or(i64::MAX))?,
        xattrs: Vec::new(),
    };
    if let Some(pax) = entry
        .pax_extensions()
        .map_err(|e| PackError::io("read", name, e))?
    {
        for ext in pax {
            let ext = ext.map_err(|e| PackError::io("read", name, e))?;
            let (key, value) = (ext.key_bytes(), ext.value_bytes());
            let number = || {
                std::str::from_utf8(value)
                    .ok()
                    .and_then(|v| v.split('.').next())
                    .and_then(|v| v.parse::<i64>().ok())
            };
            match key {
                b"uid" => {
                    meta.uid = number()
                        .and_then(|n| u64::try_from(n).ok())
                        .ok_or(bad("has a bad PAX uid"))?
                }
                b"gid" => {
                    meta.gid = number()
                        .and_then(|n| u64::try_from(n).ok())
                        .ok_or(bad("has a bad PAX gid"))?
                }
                b"mtime" => meta.mtime = number().ok_or(bad("has a bad PAX mtime"))?,
                k => {
                    if let Some(attr) = k.strip_prefix(b"SCHILY.xattr.") {
                        if xattrs::keep(attr) {
                            meta.xattrs.push((attr.to_vec(), value.to_vec()));
                        }
                    }
                }
            }
        }
    }
    Ok(meta)
}

fn layer_io(source: &dyn LayerSource, index: usize, e: io::Error) -> PackError {
    PackError::Io {
        op: "read layer",
        path: Path::new(&source.name(index)).to_owned(),
        source: e,
    }
}

/// Pass 1: which entry survives at each name. `capture` names regular files whose bytes the
/// caller needs (at most [`MAX_CAPTURE`] each).
pub fn index_layers(source: &dyn LayerSource, capture: &[&str]) -> Result<LayerIndex, PackError> {
    let wanted: HashSet<Vec<u8>> = capture
        .iter()
        .filter_map(|c| normalize(c.as_bytes()).ok())
        .collect();
    let mut index = LayerIndex::default();
    let mut deleted: HashSet<Vec<u8>> = HashSet::new();
    let mut opaque: HashSet<Vec<u8>> = HashSet::new();
    // Per layer: each regular file's or symlink's name → its positions (hard-link targets).
    let mut link_targets: Vec<HashMap<Vec<u8>, Vec<u64>>> = vec![HashMap::new(); source.count()];
    let mut links: Vec<(At, Vec<u8>, Vec<u8>)> = Vec::new();

    for layer in (0..source.count()).rev() {
        let io_err = |e| layer_io(source, layer, e);
        let mut reader = source.open(layer).map_err(io_err)?;
        let mut seen: Vec<Seen> = Vec::new();
        let mut bytes: HashMap<u64, Vec<u8>> = HashMap::new();
        let mut notes: HashMap<u64, String> = HashMap::new();
        let mut whiteouts: Vec<Whiteout> = Vec::new();
        {
            let mut archive = tar::Archive::new(&mut reader);
            for (ordinal, entry) in archive.entries().map_err(io_err)?.enumerate() {
                let mut entry = entry.map_err(io_err)?;
                index.entries_read += 1;
                let ordinal = ordinal as u64;
                let name = normalize(&entry.path_bytes())?;
                let nothing = Seen {
                    name: Vec::new(),
                    ty: Type::Dir,
                    link: None,
                    dir: None,
                };
                if let Some(w) = whiteout_of(&name) {
                    whiteouts.push(w);
                    seen.push(nothing);
                    continue;
                }
                let Some(ty) = type_of(entry.header().entry_type()) else {
                    seen.push(nothing);
                    continue;
                };
                let link = match ty {
                    Type::HardLink => {
                        let target = entry.link_name_bytes().ok_or(PackError::EntryChanged {
                            path: to_path(&name),
                            what: "is a hard link without a target",
                        })?;
                        Some(normalize(&target)?)
                    }
                    _ => None,
                };
                if matches!(ty, Type::File | Type::Symlink) {
                    link_targets[layer]
                        .entry(name.clone())
                        .or_default()
                        .push(ordinal);
                }
                let dir = match ty {
                    Type::Dir => Some(Box::new(meta_of(&mut entry, &name)?)),
                    _ => None,
                };
                if wanted.contains(&name) {
                    // The conversion reads these files by name only, as a chroot-less reader
                    // must: a link is not followed (its target may lie in another layer, or
                    // outside the image), and what is not kept is said, not silently absent.
                    match ty {
                        Type::File if entry.size() <= MAX_CAPTURE => {
                            let mut data = Vec::new();
                            entry.read_to_end(&mut data).map_err(io_err)?;
                            bytes.insert(ordinal, data);
                        }
                        Type::File => {
                            notes.insert(
                                ordinal,
                                format!(
                                    "is {} bytes, more than the {} MiB read",
                                    entry.size(),
                                    MAX_CAPTURE >> 20
                                ),
                            );
                        }
                        Type::Symlink => {
                            let target = entry
                                .link_name_bytes()
                                .map(|t| String::from_utf8_lossy(&t).into_owned())
                                .unwrap_or_default();
                            notes.insert(
                                ordinal,
                                format!("is a symbolic link to {target}, which is not followed"),
                            );
                        }
                        Type::HardLink => {
                            let target = entry
                                .link_name_bytes()
                                .map(|t| String::from_utf8_lossy(&t).into_owned())
                                .unwrap_or_default();
                            notes.insert(
                                ordinal,
                                format!("is a hard link to {target}, which is not read"),
                            );
                        }
                        _ => {
                            notes.insert(ordinal, "is not a regular file".into());
                        }
                    }
                }
                seen.push(Seen {
                    name,
                    ty,
                    link,
                    dir,
                });
            }
        }
        reader.finish().map_err(io_err)?;

        // Later entries of one layer replace earlier ones: walk it backwards.
        let mut in_layer: HashSet<Vec<u8>> = HashSet::new();
        for (ordinal, s) in seen.into_iter().enumerate().rev() {
            if s.name.is_empty() || !in_layer.insert(s.name.clone()) {
                continue;
            }
            let hidden = deleted.contains(&s.name)
                || index.survivors.contains_key(&s.name)
                || ancestors(&s.name).any(|a| {
                    deleted.contains(a)
                        || opaque.contains(a)
                        || index
                            .survivors
                            .get(a)
                            .is_some_and(|up| up.ty != Type::Dir && up.at.0 > layer)
                });
            if hidden {
                continue;
            }
            let at = (layer, ordinal as u64);
            if let Some(data) = bytes.remove(&at.1) {
                index.captured.insert(s.name.clone(), data);
            }
            if let Some(note) = notes.remove(&at.1) {
                index.uncaptured.insert(s.name.clone(), note);
            }
            if let Some(target) = s.link {
                links.push((at, s.name.clone(), target));
            }
            index.survivors.insert(
                s.name,
                Survivor {
                    at,
                    ty: s.ty,
                    dir: s.dir,
                },
            );
        }
        // This layer's whiteouts apply to the layers below it only.
        for w in whiteouts {
            match w {
                Whiteout::Name(n) if n.is_empty() => {}
                Whiteout::Name(n) => {
                    deleted.insert(n);
                }
                Whiteout::Opaque(d) => {
                    opaque.insert(d);
                }
            }
        }
    }

    // Nothing may stand below a name whose final entry is not a directory. Across layers the
    // walk above already hides such entries; within one layer the child is seen before the
    // symlink or file that an earlier entry made of its parent (the layer is walked
    // backwards). A layer with `evil -> /etc` and then `evil/passwd` would have a template
    // write through the link at extraction: refused, naming the entry.
    for (name, s) in &index.survivors {
        let through = ancestors(name).any(|a| {
            index
                .survivors
                .get(a)
                .is_some_and(|up| up.ty != Type::Dir && up.at.0 == s.at.0)
        });
        if through {
            return Err(PackError::EntryChanged {
                path: to_path(name),
                what:
                    "is below a symlink or file of its own layer (it would be written through it)",
            });
        }
    }

    // A link whose target does not survive as that very entry carries the content itself.
    links.sort_by_key(|(at, _, _)| *at);
    for (at, name, target) in links {
        let before = link_targets[at.0]
            .get(&target)
            .and_then(|positions| positions.iter().rev().find(|o| **o < at.1));
        let Some(&target_pos) = before else {
            return Err(PackError::EntryChanged {
                path: to_path(&name),
                what: "is a hard link to a name its layer does not have before it",
            });
        };
        let target_at = (at.0, target_pos);
        if index
            .survivors
            .get(&target)
            .is_some_and(|s| s.at == target_at)
        {
            continue;
        }
        match index.relocated.get(&target_at) {
            Some(first) => {
                index.retargeted.insert(at, first.clone());
            }
            None => {
                index.relocated.insert(target_at, name.clone());
                if let Some(s) = index.survivors.get_mut(&name) {
                    s.ty = Type::File;
                    s.at = target_at;
                }
            }
        }
    }
    Ok(index)
}

/// Pass 2: the survivors, bottom layer first, as a template tar stream into `out`.
pub fn write_layers_tar<W: Write>(
    source: &dyn LayerSource,
    index: &LayerIndex,
    out: W,
    config: &PackConfig,
) -> Result<(W, PackReport), PackError> {
    let mut w = Writer {
        tar: TarWriter::new(out),
        config,
        index,
        written: HashSet::new(),
        report: PackReport::default(),
        meter: progress::Meter::new(config.progress),
        buf: vec![0; super::COPY_BUF],
    };
    for layer in 0..source.count() {
        let io_err = |e| layer_io(source, layer, e);
        let mut reader = source.open(layer).map_err(io_err)?;
        {
            let mut archive = tar::Archive::new(&mut reader);
            for (ordinal, entry) in archive.entries().map_err(io_err)?.enumerate() {
                let mut entry = entry.map_err(io_err)?;
                let at = (layer, ordinal as u64);
                let name = normalize(&entry.path_bytes())?;
                if let Some(link_name) = index.relocated.get(&at) {
                    w.file(link_name, &mut entry)?;
                    continue;
                }
                let Some(survivor) = index.survivors.get(&name) else {
                    continue;
                };
                match (survivor.ty, survivor.at == at) {
                    // Shadowed by a later layer's directory: written where it first appears.
                    (Type::Dir, _) => w.dir(&name)?,
                    (_, false) => {}
                    (Type::File, true) => w.file(&name, &mut entry)?,
                    (Type::Symlink, true) => {
                        let target = entry.link_name_bytes().unwrap_or_default().into_owned();
                        let meta = meta_of(&mut entry, &name)?;
                        w.header(&name, Kind::Symlink { target: &target }, &meta)?;
                    }
                    (Type::HardLink, true) => {
                        let target = match index.retargeted.get(&at) {
                            Some(t) => t.clone(),
                            None => normalize(&entry.link_name_bytes().unwrap_or_default())?,
                        };
                        let meta = meta_of(&mut entry, &name)?;
                        w.header(&name, Kind::HardLink { target: &target }, &meta)?;
                    }
                    (Type::Special(kind), true) => {
                        w.report.warnings.push(PackWarning::SpecialSkipped {
                            path: to_path(&name),
                            kind,
                        });
                    }
                }
            }
        }
        reader.finish().map_err(io_err)?;
    }
    w.dir(b"./")?;
    let Writer {
        tar,
        mut report,
        meter,
        ..
    } = w;
    meter.finish();
    report.tar_bytes = tar.written + 2 * super::archive::BLOCK as u64;
    let out = tar
        .finish()
        .map_err(|e| PackError::io("write the archive after", b"./", e))?;
    Ok((out, report))
}

struct Writer<'a, W: Write> {
    tar: TarWriter<W>,
    config: &'a PackConfig,
    index: &'a LayerIndex,
    /// Directories written so far.
    written: HashSet<Vec<u8>>,
    report: PackReport,
    meter: progress::Meter,
    buf: Vec<u8>,
}

/// A directory no layer declares: what Docker and containerd create on the way to a child.
fn implied_dir() -> EntryMeta {
    EntryMeta {
        mode: 0o755,
        uid: 0,
        gid: 0,
        mtime: 0,
        xattrs: Vec::new(),
    }
}

impl<W: Write> Writer<'_, W> {
    /// Writes the directory (once) after its parents, with its surviving metadata.
    fn dir(&mut self, name: &[u8]) -> Result<(), PackError> {
        if self.written.contains(name) {
            return Ok(());
        }
        self.parents(name)?;
        let meta = match self
            .index
            .survivors
            .get(name)
            .and_then(|s| s.dir.as_deref())
        {
            Some(m) => m.clone(),
            None => implied_dir(),
        };
        self.written.insert(name.to_vec());
        self.header(name, Kind::Directory, &meta)
    }

    fn parents(&mut self, name: &[u8]) -> Result<(), PackError> {
        let missing: Vec<Vec<u8>> = ancestors(name)
            .take_while(|a| !self.written.contains(*a))
            .map(<[u8]>::to_vec)
            .collect();
        for a in missing.into_iter().rev() {
            self.dir(&a)?;
        }
        Ok(())
    }

    fn header(&mut self, name: &[u8], kind: Kind<'_>, meta: &EntryMeta) -> Result<(), PackError> {
        if !matches!(kind, Kind::Directory) {
            self.parents(name)?;
        }
        let map = self.config.owners;
        let id = |kind, raw: u64| {
            u32::try_from(raw)
                .ok()
                .and_then(|host_id| map.map(kind, host_id))
                .ok_or_else(|| PackError::OwnerOutOfRange {
                    path: to_path(name),
                    kind,
                    id: u32::try_from(raw).unwrap_or(u32::MAX),
                    map,
                })
        };
        let out = Meta {
            mode: meta.mode,
            uid: id(IdKind::Uid, meta.uid)?,
            gid: id(IdKind::Gid, meta.gid)?,
            mtime: meta.mtime,
        };
        let mut extra: Vec<PaxRecord<'_>> = Vec::with_capacity(meta.xattrs.len());
        for (key, value) in &meta.xattrs {
            let value = if key == xattrs::CAPABILITY {
                xattrs::capability_for_container(value, map).map_err(|reason| {
                    PackError::BadCapability {
                        path: to_path(name),
                        reason,
                    }
                })?
            } else {
                value.clone()
            };
            let mut k = b"SCHILY.xattr.".to_vec();
            k.extend_from_slice(key);
            extra.push((Cow::Owned(k), Cow::Owned(value)));
        }
        self.meter.entry();
        self.report.entries += 1;
        self.tar
            .header(name, kind, out, &extra)
            .map_err(|e| PackError::io("write the archive entry for", name, e))
    }

    /// A regular file: its header, then exactly the bytes the layer has for it.
    fn file<R: Read>(
        &mut self,
        name: &[u8],
        entry: &mut tar::Entry<'_, R>,
    ) -> Result<(), PackError> {
        let meta = meta_of(entry, name)?;
        let size = match entry.header().as_gnu() {
            Some(gnu) if entry.header().entry_type() == EntryType::GNUSparse => gnu
                .real_size()
                .map_err(|e| PackError::io("read the size of", name, e))?,
            _ => entry.size(),
        };
        self.header(name, Kind::Regular { size }, &meta)?;
        let (report, meter) = (&mut self.report, &self.meter);
        self.tar
            .copy_data(
                &mut self.buf,
                size,
                |chunk, _| entry.read(chunk),
                |n| {
                    report.data_bytes += n;
                    meter.bytes(n);
                },
            )
            .map_err(|e| super::copy_error(e, name, "ends before the size its header gives"))?;
        self.tar
            .pad(size)
            .map_err(|e| PackError::io("write the archive entry for", name, e))
    }
}

#[cfg(test)]
mod tests;
