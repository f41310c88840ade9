//! The tar stream: POSIX ustar headers, PAX extended headers where ustar runs out.
//!
//! Names are written byte for byte (the `tar` crate's path setters drop the leading `./`, which
//! Proxmox's `--anchored --exclude ./dev/*` relies on). Owners are numeric only; user and group
//! names stay empty. Everything here is a function of the entries given, so the same tree gives
//! the same bytes.

use std::borrow::Cow;
use std::io::{self, Write};

use tar::{EntryType, Header};

pub(super) const BLOCK: usize = 512;
const NAME_LEN: usize = 100;
const PREFIX_LEN: usize = 155;
/// Largest value of an 11-digit octal field (size, mtime): 8 GiB - 1.
const OCTAL11_MAX: u64 = 0o777_7777_7777;

/// A PAX extended header record: key and value, both raw bytes.
pub(super) type PaxRecord<'a> = (Cow<'a, [u8]>, Cow<'a, [u8]>);

/// What a header says about an entry, besides its name and type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Meta {
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub mtime: i64,
}

pub(super) enum Kind<'a> {
    Directory,
    /// A regular file of this many bytes in the archive (for sparse files: map + data).
    Regular {
        size: u64,
    },
    Symlink {
        target: &'a [u8],
    },
    HardLink {
        target: &'a [u8],
    },
}

/// Writes entries to `w`; `written` counts archive bytes so far.
pub(super) struct TarWriter<W: Write> {
    w: W,
    pub written: u64,
}

/// How [`TarWriter::copy_data`] failed.
#[derive(Debug)]
pub enum CopyError {
    /// The source ended before the length the header gives.
    Short,
    Read(io::Error),
    Write(io::Error),
}

impl<W: Write> TarWriter<W> {
    pub fn new(w: W) -> Self {
        Self { w, written: 0 }
    }

    /// Writes the header(s) of one entry. For regular files the caller then writes exactly
    /// `size` bytes with [`TarWriter::data`] and calls [`TarWriter::pad`].
    pub fn header(
        &mut self,
        name: &[u8],
        kind: Kind<'_>,
        meta: Meta,
        extra: &[PaxRecord<'_>],
    ) -> io::Result<()> {
        let mut pax: Vec<PaxRecord<'_>> = Vec::new();
        let mut h = Header::new_ustar();
        let (ty, size, link) = match kind {
            Kind::Directory => (EntryType::Directory, 0, None),
            Kind::Regular { size } => (EntryType::Regular, size, None),
            Kind::Symlink { target } => (EntryType::Symlink, 0, Some(target)),
            Kind::HardLink { target } => (EntryType::Link, 0, Some(target)),
        };
        h.set_entry_type(ty);
        h.set_mode(meta.mode & 0o7777);
        h.set_uid(u64::from(meta.uid));
        h.set_gid(u64::from(meta.gid));
        if size > OCTAL11_MAX {
            pax.push((b"size"[..].into(), size.to_string().into_bytes().into()));
        }
        h.set_size(size);
        match u64::try_from(meta.mtime) {
            Ok(t) if t <= OCTAL11_MAX => h.set_mtime(t),
            _ => {
                pax.push((
                    b"mtime"[..].into(),
                    meta.mtime.to_string().into_bytes().into(),
                ));
                h.set_mtime(if meta.mtime < 0 { 0 } else { OCTAL11_MAX });
            }
        }
        let ustar = h
            .as_ustar_mut()
            .ok_or_else(|| io::Error::other("ustar header expected"))?;
        if !set_name(&mut ustar.name, &mut ustar.prefix, name) {
            pax.push((b"path"[..].into(), name.into()));
            truncate_into(&mut ustar.name, name);
        }
        if let Some(target) = link {
            if target.len() > NAME_LEN {
                pax.push((b"linkpath"[..].into(), target.into()));
            }
            truncate_into(&mut ustar.linkname, target);
        }
        pax.extend(extra.iter().cloned());
        if !pax.is_empty() {
            self.pax_header(name, meta.mtime, &pax)?;
        }
        h.set_cksum();
        self.raw(h.as_bytes())
    }

    /// Content of the current regular entry.
    pub fn data(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.raw(bytes)
    }

    /// Writes exactly `len` bytes of the current entry's content, read chunk by chunk with
    /// `read(chunk, done)` (`done`: bytes already copied) into `buf`; `copied(n)` is told of
    /// every chunk written. A source that ends early is [`CopyError::Short`]: the header already
    /// promised `len` bytes. The one copy loop of both packers (a directory's files, read at
    /// offsets; a layer's entries, read in order).
    pub fn copy_data(
        &mut self,
        buf: &mut [u8],
        len: u64,
        mut read: impl FnMut(&mut [u8], u64) -> io::Result<usize>,
        mut copied: impl FnMut(u64),
    ) -> Result<(), CopyError> {
        let mut done = 0u64;
        while done < len {
            let want = usize::try_from(len - done)
                .unwrap_or(usize::MAX)
                .min(buf.len());
            let chunk = buf.get_mut(..want).unwrap_or_default();
            let n = match read(chunk, done) {
                Ok(0) => return Err(CopyError::Short),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(CopyError::Read(e)),
            };
            self.data(chunk.get(..n).unwrap_or_default())
                .map_err(CopyError::Write)?;
            done += n as u64;
            copied(n as u64);
        }
        Ok(())
    }

    /// Zero-fills the current entry's data to a whole block, given its size.
    pub fn pad(&mut self, size: u64) -> io::Result<()> {
        let rem = (size % BLOCK as u64) as usize;
        if rem != 0 {
            self.raw(&[0u8; BLOCK][..BLOCK - rem])?;
        }
        Ok(())
    }

    /// Writes the end-of-archive marker (two zero blocks) and returns the writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.raw(&[0u8; 2 * BLOCK])?;
        self.w.flush()?;
        Ok(self.w)
    }

    fn raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.w.write_all(bytes)?;
        self.written += bytes.len() as u64;
        Ok(())
    }

    fn pax_header(
        &mut self,
        for_name: &[u8],
        mtime: i64,
        records: &[PaxRecord<'_>],
    ) -> io::Result<()> {
        let mut body = Vec::new();
        for (k, v) in records {
            pax_record(&mut body, k, v);
        }
        let mut h = Header::new_ustar();
        h.set_entry_type(EntryType::XHeader);
        h.set_mode(0o644);
        h.set_size(body.len() as u64);
        h.set_mtime(u64::try_from(mtime).unwrap_or(0).min(OCTAL11_MAX));
        let ustar = h
            .as_ustar_mut()
            .ok_or_else(|| io::Error::other("ustar header expected"))?;
        // GNU tar's naming, `%d/PaxHeaders/%f`, without a pid so that output is reproducible.
        let trimmed = for_name.strip_suffix(b"/").unwrap_or(for_name);
        let base = trimmed.rsplit(|&b| b == b'/').next().unwrap_or(trimmed);
        let mut pax_name = b"./PaxHeaders/".to_vec();
        pax_name.extend_from_slice(base);
        truncate_into(&mut ustar.name, &pax_name);
        h.set_cksum();
        self.raw(h.as_bytes())?;
        self.raw(&body)?;
        self.pad(body.len() as u64)
    }
}

/// One PAX record: `"<len> <key>=<value>\n"`, where `len` counts the whole record itself.
pub(super) fn pax_record(out: &mut Vec<u8>, key: &[u8], value: &[u8]) {
    let rest = 3 + key.len() + value.len();
    let mut len = rest + 1;
    while rest + len.to_string().len() != len {
        len = rest + len.to_string().len();
    }
    out.extend_from_slice(len.to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(key);
    out.push(b'=');
    out.extend_from_slice(value);
    out.push(b'\n');
}

/// Puts `name` into ustar's name (100) and prefix (155) fields, split at a `/`.
/// Returns false if it does not fit (then a PAX `path` record is needed).
fn set_name(
    name_field: &mut [u8; NAME_LEN],
    prefix_field: &mut [u8; PREFIX_LEN],
    name: &[u8],
) -> bool {
    if name.contains(&0) {
        return false;
    }
    if name.len() <= NAME_LEN {
        truncate_into(name_field, name);
        return true;
    }
    // The last `/` that leaves at most 100 bytes after it and 155 before it; a trailing `/`
    // (directories) is part of the name, so it is not a split point.
    let body = name.strip_suffix(b"/").unwrap_or(name);
    let split = body
        .iter()
        .enumerate()
        .filter(|&(i, &b)| b == b'/' && i <= PREFIX_LEN && name.len() - i - 1 <= NAME_LEN)
        .map(|(i, _)| i)
        .find(|&i| i > 0 && name.len() - i - 1 > 0);
    match split {
        Some(i) => {
            truncate_into(prefix_field, name.get(..i).unwrap_or_default());
            truncate_into(name_field, name.get(i + 1..).unwrap_or_default());
            true
        }
        None => false,
    }
}

fn truncate_into<const N: usize>(field: &mut [u8; N], src: &[u8]) {
    let n = src.len().min(N);
    if let (Some(dst), Some(src)) = (field.get_mut(..n), src.get(..n)) {
        dst.copy_from_slice(src);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> Meta {
        Meta {
            mode: 0o755,
            uid: 1000,
            gid: 100,
            mtime: 1_700_000_000,
        }
    }

    /// Name, link target and PAX records of each entry, as the `tar` crate reads them.
    type Listed = (Vec<u8>, Option<Vec<u8>>, Vec<(String, Vec<u8>)>);

    fn entries(bytes: &[u8]) -> Vec<Listed> {
        let mut ar = tar::Archive::new(bytes);
        ar.entries()
            .unwrap()
            .map(|e| {
                let mut e = e.unwrap();
                let pax = e
                    .pax_extensions()
                    .unwrap()
                    .map(|exts| {
                        exts.map(|x| {
                            let x = x.unwrap();
                            (x.key().unwrap().to_owned(), x.value_bytes().to_vec())
                        })
                        .collect()
                    })
                    .unwrap_or_default();
                (
                    e.path_bytes().into_owned(),
                    e.link_name_bytes().map(|l| l.into_owned()),
                    pax,
                )
            })
            .collect()
    }

    #[test]
    fn pax_record_length_counts_itself() {
        for (k, v, expect) in [
            (&b"path"[..], &b"a"[..], &b"9 path=a\n"[..]),
            (b"k", &[b'x'; 4], b"9 k=xxxx\n"),
            (b"k", &[b'x'; 94], &[]),
            (b"k", &[b'x'; 95], &[]),
        ] {
            let mut out = Vec::new();
            pax_record(&mut out, k, v);
            if !expect.is_empty() {
                assert_eq!(out, expect);
            }
            let space = out.iter().position(|&b| b == b' ').unwrap();
            let len: usize = std::str::from_utf8(&out[..space]).unwrap().parse().unwrap();
            assert_eq!(len, out.len());
        }
    }

    #[test]
    fn names_keep_dot_slash_and_long_names_use_prefix_or_pax() {
        let mut w = TarWriter::new(Vec::new());
        let long_dir = format!("./{}/{}/", "d".repeat(60), "e".repeat(60));
        let single_long = format!("./{}/", "s".repeat(120));
        let long_file = format!("{long_dir}{}", "f".repeat(50));
        let very_long = format!("./{}", "x".repeat(300));
        let long_target = "t".repeat(150);
        w.header(b"./", Kind::Directory, meta(), &[]).unwrap();
        w.header(long_dir.as_bytes(), Kind::Directory, meta(), &[])
            .unwrap();
        w.header(single_long.as_bytes(), Kind::Directory, meta(), &[])
            .unwrap();
        w.header(long_file.as_bytes(), Kind::Regular { size: 3 }, meta(), &[])
            .unwrap();
        w.data(b"abc").unwrap();
        w.pad(3).unwrap();
        w.header(
            very_long.as_bytes(),
            Kind::Symlink {
                target: long_target.as_bytes(),
            },
            meta(),
            &[(b"SCHILY.xattr.user.k"[..].into(), b"v\0bin"[..].into())],
        )
        .unwrap();
        let bytes = w.finish().unwrap();
        assert_eq!(bytes.len() % BLOCK, 0);
        let got = entries(&bytes);
        assert_eq!(got[0].0, b"./");
        assert_eq!(got[1].0, long_dir.as_bytes());
        assert!(got[1].2.is_empty(), "fits in prefix+name, no PAX needed");
        assert_eq!(got[2].0, single_long.as_bytes());
        assert_eq!(
            got[2].2,
            vec![("path".to_owned(), single_long.as_bytes().to_vec())]
        );
        assert_eq!(got[3].0, long_file.as_bytes());
        assert_eq!(got[4].0, very_long.as_bytes());
        assert_eq!(got[4].1.as_deref(), Some(long_target.as_bytes()));
        assert!(got[4]
            .2
            .contains(&("SCHILY.xattr.user.k".to_owned(), b"v\0bin".to_vec())));
    }

    #[test]
    fn numeric_owner_only_and_times_out_of_range() {
        let mut w = TarWriter::new(Vec::new());
        let m = Meta {
            mtime: -5,
            ..meta()
        };
        w.header(b"./a", Kind::Regular { size: 0 }, m, &[]).unwrap();
        let bytes = w.finish().unwrap();
        let mut ar = tar::Archive::new(&bytes[..]);
        let mut e = ar.entries().unwrap().next().unwrap().unwrap();
        assert_eq!(e.header().uid().unwrap(), 1000);
        assert_eq!(e.header().username_bytes(), Some(&b""[..]));
        assert_eq!(e.header().groupname_bytes(), Some(&b""[..]));
        let pax: Vec<_> = e
            .pax_extensions()
            .unwrap()
            .unwrap()
            .map(|x| x.unwrap().value().unwrap().to_owned())
            .collect();
        assert_eq!(pax, vec!["-5".to_owned()]);
    }

    #[test]
    fn split_never_leaves_an_empty_name() {
        let mut n = [0u8; NAME_LEN];
        let mut p = [0u8; PREFIX_LEN];
        // 101 bytes with the only slash at the very end (a directory): cannot be split.
        let dir = format!("{}/", "a".repeat(100));
        assert!(!set_name(&mut n, &mut p, dir.as_bytes()));
    }
}
