//! Packing a 5,000-deep tree holds a bounded number of open descriptors, measured in
//! /proc/self/fd while the archive is written, under a descriptor limit far below the depth.
//!
//! Alone in its own test binary so that no other test opens descriptors meanwhile.

use std::fs;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

use executor::bundle::Rootfs;
use executor::pack::{write_tar_dir, PackConfig, Progress, MAX_OPEN_DIRS};
use rustix::fs::{mkdirat, openat, Mode, OFlags, CWD};
use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};

const DEPTH: usize = 5000;

fn open_fds() -> usize {
    fs::read_dir("/proc/self/fd")
        .map(|d| d.count())
        .unwrap_or(0)
}

/// A sink that looks at the number of open descriptors on every write.
struct Meter {
    bytes: Vec<u8>,
    max_fds: usize,
    samples: u64,
}

impl Write for Meter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.max_fds = self.max_fds.max(open_fds());
        self.samples += 1;
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// `rootfs/d/d/…/d/leaf`, DEPTH directories deep, with a file `z` beside every `d`: reading a
/// `z` after the subtree below it needs its directory open again (the walk closed it).
/// Built with mkdirat/openat: the path is far longer than PATH_MAX.
fn deep_tree(root: &Path) {
    fs::create_dir(root).unwrap();
    let mut dir: OwnedFd =
        openat(CWD, root, OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty()).unwrap();
    for level in 0..DEPTH {
        let z = openat(
            dir.as_fd(),
            "z",
            OFlags::WRONLY | OFlags::CREATE,
            Mode::from_raw_mode(0o644),
        )
        .unwrap();
        fs::File::from(z)
            .write_all(format!("level {level}\n").as_bytes())
            .unwrap();
        mkdirat(dir.as_fd(), "d", Mode::from_raw_mode(0o755)).unwrap();
        dir = openat(
            dir.as_fd(),
            "d",
            OFlags::RDONLY | OFlags::DIRECTORY,
            Mode::empty(),
        )
        .unwrap();
    }
    let leaf = openat(
        dir.as_fd(),
        "leaf",
        OFlags::WRONLY | OFlags::CREATE,
        Mode::from_raw_mode(0o644),
    )
    .unwrap();
    fs::File::from(leaf).write_all(b"bottom\n").unwrap();
}

#[test]
fn a_5000_deep_tree_is_packed_with_a_bounded_number_of_descriptors() {
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("rootfs");
    deep_tree(&root);
    let rootfs = Rootfs::open_path(&root).unwrap();
    let config = PackConfig {
        progress: Progress::Never,
        ..PackConfig::default()
    };

    let before = open_fds();
    let saved = getrlimit(Resource::Nofile);
    // Far below the depth: a walk holding a descriptor per level fails with EMFILE.
    let low = (before + MAX_OPEN_DIRS + 64) as u64;
    setrlimit(
        Resource::Nofile,
        Rlimit {
            current: Some(low),
            maximum: saved.maximum,
        },
    )
    .unwrap();
    let result = write_tar_dir(
        &rootfs,
        Meter {
            bytes: Vec::new(),
            max_fds: 0,
            samples: 0,
        },
        &config,
    );
    setrlimit(Resource::Nofile, saved).unwrap();
    let (meter, report) = result.unwrap();

    let extra = meter.max_fds - before;
    eprintln!(
        "depth {DEPTH}: at most {} descriptors open ({before} before packing, +{extra}; {} samples); limit was {low}",
        meter.max_fds, meter.samples
    );
    assert!(meter.samples > DEPTH as u64, "sampled on every write");
    // The walk's directories, the file being read, and the ones Dir::read_from opens briefly.
    assert!(
        extra <= MAX_OPEN_DIRS + 4,
        "{extra} descriptors opened while packing a {DEPTH}-deep tree"
    );

    // Everything is there, and each `z` is the one of its own level.
    assert_eq!(report.entries, (1 + DEPTH + DEPTH + 1) as u64);
    let mut ar = tar::Archive::new(&meter.bytes[..]);
    let mut z_seen = 0;
    let mut leaf = None;
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        let name = e.path_bytes().into_owned();
        let level = name.windows(2).filter(|w| w == b"d/").count();
        let mut body = String::new();
        if name.ends_with(b"/z") {
            e.read_to_string(&mut body).unwrap();
            assert_eq!(body, format!("level {level}\n"));
            z_seen += 1;
        } else if name.ends_with(b"/leaf") {
            e.read_to_string(&mut body).unwrap();
            leaf = Some((level, body));
        }
    }
    assert_eq!(z_seen, DEPTH);
    assert_eq!(leaf, Some((DEPTH, "bottom\n".to_owned())));
}
