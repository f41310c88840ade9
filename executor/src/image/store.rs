//! Where an image's files are: a layout directory reached below one descriptor, or the
//! entries of one archive file read by offset.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::Path;

use crate::bundle::Bundle;

use super::blob::Digest;

pub(super) enum Store {
    Dir(Bundle),
    Archive {
        file: File,
        /// Regular-file entries: name (no `./`) → (offset of the data, size).
        entries: HashMap<String, (u64, u64)>,
    },
}

/// A window of the archive file: reads by offset, so many can be open at once.
struct Section<'a> {
    file: &'a File,
    at: u64,
    end: u64,
}

impl Read for Section<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let room = usize::try_from(self.end - self.at)
            .unwrap_or(usize::MAX)
            .min(buf.len());
        if room == 0 {
            return Ok(0);
        }
        let n = self.file.read_at(&mut buf[..room], self.at)?;
        self.at += n as u64;
        Ok(n)
    }
}

fn entry_name(raw: &[u8]) -> String {
    let s = String::from_utf8_lossy(raw);
    s.trim_start_matches("./")
        .trim_start_matches('/')
        .to_owned()
}

impl Store {
    pub(super) fn open_dir(dir: &Path) -> Result<Store, String> {
        Bundle::open(dir).map(Store::Dir).map_err(|e| e.to_string())
    }

    /// Opens an archive (the operator's path: its own symlinks are the operator's) and lists
    /// its entries. A gzip or zstd archive is decompressed once into an anonymous temp file.
    pub(super) fn open_archive(path: &Path) -> Result<Store, String> {
        let shown = path.display();
        // O_NONBLOCK: a FIFO named as the archive must not hang the open.
        let opened = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
            .open(path)
            .map_err(|e| format!("cannot open {shown}: {e}"))?;
        let meta = opened
            .metadata()
            .map_err(|e| format!("cannot stat {shown}: {e}"))?;
        if !meta.is_file() {
            return Err(format!("{shown} is not a regular file"));
        }
        let mut magic = [0u8; 4];
        let n = opened
            .read_at(&mut magic, 0)
            .map_err(|e| format!("cannot read {shown}: {e}"))?;
        let file = match &magic[..n] {
            [0x1f, 0x8b, ..] => inflate(
                flate2::read::MultiGzDecoder::new(BufReader::new(opened)),
                path,
            )?,
            [0x28, 0xb5, 0x2f, 0xfd] => inflate(
                zstd::stream::read::Decoder::new(opened).map_err(|e| format!("{shown}: {e}"))?,
                path,
            )?,
            _ => opened,
        };
        let mut entries = HashMap::new();
        let mut archive = tar::Archive::new(BufReader::new(&file));
        for entry in archive
            .entries()
            .map_err(|e| format!("{shown} is not a tar: {e}"))?
        {
            let entry = entry.map_err(|e| format!("{shown} is not a readable tar: {e}"))?;
            if matches!(
                entry.header().entry_type(),
                tar::EntryType::Regular | tar::EntryType::Continuous
            ) {
                entries.insert(
                    entry_name(&entry.path_bytes()),
                    (entry.raw_file_position(), entry.size()),
                );
            }
        }
        Ok(Store::Archive { file, entries })
    }

    /// The file `name` (`index.json`, `blobs/sha256/…`, a docker-archive's layer path).
    pub(super) fn open(&self, name: &str) -> Result<Box<dyn Read + '_>, String> {
        match self {
            Store::Dir(dir) => {
                let (file, _) = dir.open_file(name).map_err(|e| e.to_string())?;
                Ok(Box::new(file))
            }
            Store::Archive { file, entries } => {
                let &(at, size) = entries
                    .get(entry_name(name.as_bytes()).as_str())
                    .ok_or_else(|| format!("the archive has no file {name}"))?;
                Ok(Box::new(Section {
                    file,
                    at,
                    end: at + size,
                }))
            }
        }
    }

    pub(super) fn blob(&self, digest: &Digest) -> Result<Box<dyn Read + '_>, String> {
        self.open(&format!("blobs/sha256/{}", digest.hex()))
    }

    /// A small file that no digest names (`oci-layout`, `index.json`, `manifest.json`, a
    /// docker-archive's config): at most `limit` bytes.
    pub(super) fn read_named(&self, name: &str, limit: u64) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        self.open(name)?
            .take(limit + 1)
            .read_to_end(&mut out)
            .map_err(|e| format!("cannot read {name}: {e}"))?;
        if out.len() as u64 > limit {
            return Err(format!("{name} is larger than {limit} bytes"));
        }
        Ok(out)
    }
}

/// Decompresses into an anonymous temp file (unlinked: nothing is left behind) and rewinds it.
fn inflate(mut r: impl Read, path: &Path) -> Result<File, String> {
    let mut tmp = tempfile::tempfile().map_err(|e| format!("cannot make a temp file: {e}"))?;
    io::copy(&mut r, &mut tmp).map_err(|e| format!("cannot decompress {}: {e}", path.display()))?;
    tmp.rewind().map_err(|e| e.to_string())?;
    Ok(tmp)
}
