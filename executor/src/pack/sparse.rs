//! Sparse files, stored in GNU tar's PAX format 1.0 so that extraction recreates the holes.
//!
//! A member is a regular file whose PAX header carries `GNU.sparse.major=1`,
//! `GNU.sparse.minor=0`, `GNU.sparse.name` (the real name) and `GNU.sparse.realsize`; its data
//! starts with the map (count, then offset/length pairs, decimal, one per line, NUL-padded to a
//! block), followed by the data segments. GNU tar (which Proxmox uses) has read this since 1.16.

use std::fs::File;
use std::io;

use rustix::fs::{seek, SeekFrom};
use rustix::io::Errno;

use super::archive::BLOCK;

/// A data segment of a sparse file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Segment {
    pub offset: u64,
    pub len: u64,
}

/// The data segments of `file`, or `None` when it has no holes (or the file system cannot say).
/// A trailing hole is marked by a final empty segment at `size`, as GNU tar does.
pub(super) fn data_map(
    file: &File,
    size: u64,
    blocks_512: u64,
) -> io::Result<Option<Vec<Segment>>> {
    if size == 0 || blocks_512.saturating_mul(512) >= size {
        return Ok(None);
    }
    let mut segments = Vec::new();
    let mut pos = 0;
    while pos < size {
        let data = match seek(file, SeekFrom::Data(pos)) {
            Ok(d) => d,
            // No data after `pos`: the rest is a hole.
            Err(Errno::NXIO) => break,
            Err(Errno::INVAL) | Err(Errno::NOTSUP) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        if data >= size {
            break;
        }
        let hole = match seek(file, SeekFrom::Hole(data)) {
            Ok(h) => h.min(size),
            Err(e) => return Err(e.into()),
        };
        if hole <= data {
            // The file changed under us; a dense copy is always correct.
            return Ok(None);
        }
        segments.push(Segment {
            offset: data,
            len: hole - data,
        });
        pos = hole;
    }
    if segments.as_slice()
        == [Segment {
            offset: 0,
            len: size,
        }]
    {
        return Ok(None);
    }
    let end = segments.last().map_or(0, |s| s.offset + s.len);
    if end < size || segments.is_empty() {
        segments.push(Segment {
            offset: size,
            len: 0,
        });
    }
    Ok(Some(segments))
}

/// The map that precedes the data of a PAX 1.0 sparse member, padded to a whole block.
pub(super) fn map_block(segments: &[Segment]) -> Vec<u8> {
    let mut out = format!("{}\n", segments.len()).into_bytes();
    for s in segments {
        out.extend_from_slice(format!("{}\n{}\n", s.offset, s.len).as_bytes());
    }
    let pad = (BLOCK - out.len() % BLOCK) % BLOCK;
    out.resize(out.len() + pad, 0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Seek, Write};
    use std::os::unix::fs::{FileExt, MetadataExt};

    fn sparse_file(layout: &[(u64, &[u8])], size: u64) -> (tempfile::NamedTempFile, u64) {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.as_file().set_len(size).unwrap();
        for (off, data) in layout {
            f.as_file().write_all_at(data, *off).unwrap();
        }
        f.flush().unwrap();
        f.as_file().sync_all().unwrap();
        let blocks = f.as_file().metadata().unwrap().blocks();
        f.rewind().unwrap();
        (f, blocks)
    }

    #[test]
    fn finds_data_between_holes() {
        let mib = 1 << 20;
        let (f, blocks) = sparse_file(&[(mib, b"middle"), (4 * mib, b"late")], 8 * mib);
        let map = data_map(f.as_file(), 8 * mib, blocks)
            .unwrap()
            .expect("sparse");
        // File systems allocate whole blocks: each segment covers its data, aligned.
        assert_eq!(map.len(), 3, "{map:?}");
        let (a, b, end) = (map[0], map[1], map[2]);
        assert!(a.offset <= mib && a.offset + a.len >= mib + 6, "{map:?}");
        assert!(
            b.offset <= 4 * mib && b.offset + b.len >= 4 * mib + 4,
            "{map:?}"
        );
        assert_eq!(
            end,
            Segment {
                offset: 8 * mib,
                len: 0
            }
        );
    }

    #[test]
    fn dense_and_empty_files_are_not_sparse() {
        let (f, blocks) = sparse_file(&[(0, &[7u8; 9000])], 9000);
        assert_eq!(data_map(f.as_file(), 9000, blocks).unwrap(), None);
        let (e, blocks) = sparse_file(&[], 0);
        assert_eq!(data_map(e.as_file(), 0, blocks).unwrap(), None);
    }

    #[test]
    fn all_hole_file_is_one_empty_segment() {
        let (f, blocks) = sparse_file(&[], 1 << 20);
        assert_eq!(
            data_map(f.as_file(), 1 << 20, blocks).unwrap(),
            Some(vec![Segment {
                offset: 1 << 20,
                len: 0
            }])
        );
    }

    #[test]
    fn map_block_format() {
        let m = map_block(&[
            Segment {
                offset: 4096,
                len: 4096,
            },
            Segment {
                offset: 100000,
                len: 0,
            },
        ]);
        assert_eq!(m.len(), BLOCK);
        assert!(m.starts_with(b"2\n4096\n4096\n100000\n0\n\0"));
        assert!(m[22..].iter().all(|&b| b == 0));
    }
}
