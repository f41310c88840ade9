//! Packs a rootfs with every kind of entry, extracts it with GNU tar exactly as Proxmox does,
//! and compares the two trees entry by entry.
//!
//! Needs root (chown, mknod, security.capability), GNU tar and zstd; the user-namespace test
//! also needs `lxc-usernsexec` (package lxc) and `root:100000:65536` in /etc/subuid and
//! /etc/subgid, as on a Proxmox host.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::fs::{self, File};
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{lchown, symlink, FileExt, MetadataExt, PermissionsExt};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use executor::pack::{
    pack_rootfs, write_tar, OwnerMap, PackConfig, PackError, PackWarning, Progress, SpecialKind,
};
use rustix::fs::{makedev, mknodat, utimensat, AtFlags, FileType, Mode, Timespec, Timestamps, CWD};

/// Proxmox's extraction (`PVE::LXC::Create::restore_tar_archive`), compression flag for `.zst`.
const PVE_TAR_FLAGS: &[&str] = &[
    "xpf",
    "-",
    "--zstd",
    "--totals",
    "--one-file-system",
    "-p",
    "--sparse",
    "--numeric-owner",
    "--acls",
    "--xattrs",
    "--xattrs-include=user.*",
    "--xattrs-include=security.capability",
    "--warning=no-file-ignored",
    "--warning=no-xattr-write",
];
const PVE_TAR_TAIL: &[&str] = &["--skip-old-files", "--anchored", "--exclude", "./dev/*"];

const MIB: u64 = 1 << 20;
const SPARSE_SIZE: u64 = 64 * MIB;

fn config() -> PackConfig {
    PackConfig {
        progress: Progress::Never,
        ..PackConfig::default()
    }
}

/// security.capability revision 2 with CAP_NET_RAW (13) permitted and effective.
fn cap_net_raw_v2() -> Vec<u8> {
    let mut v = 0x0200_0001u32.to_le_bytes().to_vec();
    for w in [1u32 << 13, 0, 0, 0] {
        v.extend_from_slice(&w.to_le_bytes());
    }
    v
}

fn xattrs_supported(dir: &Path) -> bool {
    let probe = dir.join(".xattr-probe");
    fs::write(&probe, b"").unwrap();
    let ok = xattr::set(&probe, "user.probe", b"1").is_ok();
    fs::remove_file(&probe).unwrap();
    if !ok {
        eprintln!(
            "NOTE: {} does not support user.* xattrs; xattr checks are skipped",
            dir.display()
        );
    }
    ok
}

fn write(path: &Path, content: &[u8], mode: u32, owner: (u32, u32)) {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).unwrap();
    }
    fs::write(path, content).unwrap();
    lchown(path, Some(owner.0), Some(owner.1)).unwrap();
    // After chown: chown clears setuid bits.
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

fn mkdir(path: &Path, mode: u32, owner: (u32, u32)) {
    fs::create_dir_all(path).unwrap();
    lchown(path, Some(owner.0), Some(owner.1)).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

fn link(target: &str, at: &Path, owner: (u32, u32)) {
    symlink(target, at).unwrap();
    lchown(at, Some(owner.0), Some(owner.1)).unwrap();
}

fn mknod(path: &Path, ty: FileType, dev: (u32, u32)) {
    mknodat(
        CWD,
        path,
        ty,
        Mode::from_raw_mode(0o666),
        makedev(dev.0, dev.1),
    )
    .unwrap();
}

/// A rootfs with every kind of entry the packer must handle. Returns the special files it
/// contains (which must be skipped) as archive names.
fn build_tree(root: &Path, with_xattrs: bool) -> Vec<(String, SpecialKind)> {
    mkdir(root, 0o755, (0, 0));
    mkdir(&root.join("bin"), 0o755, (0, 0));
    write(
        &root.join("bin/tool"),
        b"#!/bin/sh\necho tool\n",
        0o755,
        (0, 0),
    );
    // Hard links: three names for one file, one of them in another directory.
    fs::hard_link(root.join("bin/tool"), root.join("bin/tool-again")).unwrap();
    mkdir(&root.join("usr/bin"), 0o755, (0, 0));
    fs::hard_link(root.join("bin/tool"), root.join("usr/bin/tool")).unwrap();
    write(&root.join("bin/su"), b"\x7fELF setuid", 0o4755, (0, 0));
    write(&root.join("bin/wall"), b"\x7fELF setgid", 0o2755, (0, 5));
    write(&root.join("bin/ping"), b"\x7fELF ping", 0o755, (0, 0));
    write(
        &root.join("etc/shadow"),
        b"root:*:1::::::\n",
        0o640,
        (0, 42),
    );
    write(&root.join("etc/hostname"), b"app\n", 0o644, (0, 0));
    write(&root.join("etc/empty-file"), b"", 0o600, (0, 0));
    mkdir(&root.join("home/user"), 0o700, (1000, 1000));
    write(
        &root.join("home/user/.profile"),
        b"export A=1\n",
        0o644,
        (1000, 1000),
    );
    write(
        &root.join("home/user/private"),
        b"secret",
        0o600,
        (1000, 1001),
    );
    write(&root.join("srv/nobody"), b"n", 0o444, (65534, 65534));
    mkdir(&root.join("tmp"), 0o1777, (0, 0));
    // Empty directories.
    mkdir(&root.join("var/empty"), 0o755, (0, 0));
    mkdir(&root.join("mnt"), 0o755, (0, 0));
    // Symlinks: relative, absolute, dangling, climbing above the root, owned by a user.
    link("tool", &root.join("bin/sh"), (0, 0));
    link(
        "/usr/share/zoneinfo/UTC",
        &root.join("etc/localtime"),
        (0, 0),
    );
    link("does/not/exist", &root.join("etc/dangling"), (0, 0));
    link("../../../../etc/passwd", &root.join("etc/climbing"), (0, 0));
    link("private", &root.join("home/user/link"), (1000, 1000));
    // Long names: path over 100 bytes with a split point, over 255 without one, long target.
    let deep = root.join(format!("opt/{}/{}", "a".repeat(90), "b".repeat(90)));
    write(&deep.join("file"), b"deep", 0o644, (0, 0));
    let long = root.join(format!("opt/{}", "c".repeat(200)));
    write(&long, b"long name", 0o644, (0, 0));
    link(
        &format!("/{}", "t".repeat(180)),
        &root.join("opt/long-target"),
        (0, 0),
    );
    // A name that is not UTF-8.
    write(
        &root.join(OsStr::from_bytes(b"srv/caf\xe9")),
        b"latin1",
        0o644,
        (0, 0),
    );
    // A sparse file: two data islands in 64 MiB of holes, ending in a hole.
    fs::create_dir_all(root.join("var/lib")).unwrap();
    let sparse = File::create(root.join("var/lib/sparse.img")).unwrap();
    sparse.set_len(SPARSE_SIZE).unwrap();
    sparse.write_all_at(&[0xab; 8192], MIB).unwrap();
    sparse.write_all_at(b"island two", 40 * MIB).unwrap();
    sparse.sync_all().unwrap();
    // A larger dense file with content that is not all zeros.
    let mut dense = Vec::with_capacity(3 * MIB as usize);
    let mut x: u32 = 12345;
    while dense.len() < 3 * MIB as usize {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        dense.extend_from_slice(&x.to_le_bytes());
    }
    write(&root.join("var/lib/dense.bin"), &dense, 0o644, (0, 0));
    // /dev: a regular file there is dropped by Proxmox's `--exclude ./dev/*`; nodes are skipped.
    mkdir(&root.join("dev"), 0o755, (0, 0));
    write(
        &root.join("dev/README"),
        b"excluded by Proxmox",
        0o644,
        (0, 0),
    );
    mknod(&root.join("dev/null"), FileType::CharacterDevice, (1, 3));
    mknod(&root.join("dev/loop0"), FileType::BlockDevice, (7, 0));
    // Special files outside /dev are skipped too.
    mknod(
        &root.join("etc/weird-tty"),
        FileType::CharacterDevice,
        (5, 0),
    );
    mkdir(&root.join("run"), 0o755, (0, 0));
    mknod(&root.join("run/initctl"), FileType::Fifo, (0, 0));
    let sock = UnixListener::bind(root.join("run/agent.sock")).unwrap();
    drop(sock);

    if with_xattrs {
        xattr::set(root.join("etc/hostname"), "user.comment", b"set by test").unwrap();
        xattr::set(root.join("home/user"), "user.bin", b"\x00\x01\xff binary").unwrap();
        xattr::set(root.join("var/lib/sparse.img"), "user.kind", b"disk").unwrap();
        xattr::set(
            root.join("bin/ping"),
            "security.capability",
            &cap_net_raw_v2(),
        )
        .unwrap();
        // Not kept by Proxmox: must not be packed.
        xattr::set(root.join("etc/hostname"), "trusted.hidden", b"x").unwrap();
    }
    set_mtimes(root);
    let mut specials = vec![
        ("./dev/loop0".to_owned(), SpecialKind::BlockDevice),
        ("./dev/null".to_owned(), SpecialKind::CharDevice),
        ("./etc/weird-tty".to_owned(), SpecialKind::CharDevice),
        ("./run/agent.sock".to_owned(), SpecialKind::Socket),
        ("./run/initctl".to_owned(), SpecialKind::Fifo),
    ];
    specials.sort();
    specials
}

/// Distinct, known mtimes on every entry (children first, so setting them sticks).
fn set_mtimes(root: &Path) {
    let mut all = Vec::new();
    collect(root, &mut all);
    all.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
    for (i, p) in all.iter().enumerate() {
        let t = Timespec {
            tv_sec: 1_600_000_000 + i as i64 * 1000,
            tv_nsec: 0,
        };
        let times = Timestamps {
            last_access: t,
            last_modification: t,
        };
        utimensat(CWD, p, &times, AtFlags::SYMLINK_NOFOLLOW).unwrap();
    }
}

fn collect(p: &Path, out: &mut Vec<PathBuf>) {
    out.push(p.to_owned());
    if fs::symlink_metadata(p).unwrap().is_dir() {
        for e in fs::read_dir(p).unwrap() {
            collect(&e.unwrap().path(), out);
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    kind: &'static str,
    mode: u32,
    uid: u32,
    gid: u32,
    size: u64,
    content: Option<Vec<u8>>,
    link: Option<OsString>,
    xattrs: BTreeMap<OsString, Vec<u8>>,
    mtime: i64,
    nlink: u64,
}

/// Everything a template must carry, per archive name (`.` is the root). Device nodes, fifos
/// and sockets are left out: they must not be in a template.
fn manifest(root: &Path, with_xattrs: bool) -> BTreeMap<OsString, Entry> {
    let mut paths = Vec::new();
    collect(root, &mut paths);
    let mut out = BTreeMap::new();
    for p in paths {
        let m = fs::symlink_metadata(&p).unwrap();
        let ft = m.file_type();
        let kind = if ft.is_dir() {
            "dir"
        } else if ft.is_file() {
            "file"
        } else if ft.is_symlink() {
            "symlink"
        } else {
            continue;
        };
        let content = ft.is_file().then(|| {
            let mut v = Vec::new();
            File::open(&p).unwrap().read_to_end(&mut v).unwrap();
            v
        });
        let mut xattrs = BTreeMap::new();
        if with_xattrs && !ft.is_symlink() {
            for name in xattr::list(&p).unwrap() {
                let n = name.as_bytes();
                if n.starts_with(b"user.") || n == b"security.capability" {
                    xattrs.insert(name.clone(), xattr::get(&p, &name).unwrap().unwrap());
                }
            }
        }
        let rel = p.strip_prefix(root).unwrap();
        let mut name = OsString::from(".");
        if !rel.as_os_str().is_empty() {
            name.push("/");
            name.push(rel.as_os_str());
        }
        out.insert(
            name,
            Entry {
                kind,
                mode: m.mode() & 0o7777,
                uid: m.uid(),
                gid: m.gid(),
                size: if ft.is_dir() { 0 } else { m.size() },
                content,
                link: ft
                    .is_symlink()
                    .then(|| fs::read_link(&p).unwrap().into_os_string()),
                xattrs,
                mtime: m.mtime(),
                nlink: if ft.is_dir() { 0 } else { m.nlink() },
            },
        );
    }
    out
}

fn extract_like_proxmox(archive: &Path, dest: &Path, userns: bool) {
    let mut cmd = if userns {
        let mut c = Command::new("lxc-usernsexec");
        c.args([
            "-m",
            "u:0:100000:65536",
            "-m",
            "g:0:100000:65536",
            "--",
            "tar",
        ]);
        c
    } else {
        Command::new("tar")
    };
    cmd.args(PVE_TAR_FLAGS)
        .arg("-C")
        .arg(dest)
        .args(PVE_TAR_TAIL)
        .stdin(File::open(archive).unwrap())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let out = cmd
        .output()
        .expect("run GNU tar (is tar/zstd/lxc installed?)");
    assert!(
        out.status.success(),
        "extraction failed: {}{}\n{}",
        out.status,
        if userns {
            " (lxc-usernsexec needs root:100000:65536 in /etc/subuid and /etc/subgid)"
        } else {
            ""
        },
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    // --totals prints one line; anything else is a complaint about our archive.
    let complaints: Vec<_> = stderr
        .lines()
        .filter(|l| !l.starts_with("Total bytes read"))
        .collect();
    assert!(complaints.is_empty(), "tar complained:\n{stderr}");
}

/// The source manifest minus what Proxmox's `--exclude ./dev/*` drops, and minus the root:
/// with `--skip-old-files` GNU tar leaves the existing target directory's mode, owner and mtime
/// alone (Proxmox's volume root keeps its own), so `./` cannot be compared.
fn expected_after_proxmox(src: &BTreeMap<OsString, Entry>) -> BTreeMap<OsString, Entry> {
    src.iter()
        .filter(|(k, _)| !k.as_bytes().starts_with(b"./dev/") && k.as_bytes() != b".")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn assert_same(
    expected: &BTreeMap<OsString, Entry>,
    got: &BTreeMap<OsString, Entry>,
    skip_symlink_mtime: bool,
) {
    let missing: Vec<_> = expected.keys().filter(|k| !got.contains_key(*k)).collect();
    let extra: Vec<_> = got.keys().filter(|k| !expected.contains_key(*k)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?}, extra {extra:?}"
    );
    for (name, want) in expected {
        let mut have = got[name].clone();
        if skip_symlink_mtime && want.kind == "symlink" {
            have.mtime = want.mtime;
        }
        assert_eq!(&have, want, "entry {name:?} differs");
    }
}

fn pack(src: &Path, out_dir: &Path, cfg: &PackConfig) -> (PathBuf, executor::pack::PackReport) {
    let out = out_dir.join("rootfs.tar.zst");
    let report = pack_rootfs(src, &out, cfg).unwrap();
    (out, report)
}

#[test]
fn gnu_tar_restores_the_tree_exactly_as_proxmox_extracts_it() {
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("rootfs");
    let xattrs = xattrs_supported(work.path());
    let specials = build_tree(&src, xattrs);
    let (archive, report) = pack(&src, work.path(), &config());

    let mut skipped: Vec<_> = report
        .warnings
        .iter()
        .filter_map(|w| match w {
            PackWarning::SpecialSkipped { path, kind } => {
                Some((path.to_string_lossy().into_owned(), *kind))
            }
            _ => None,
        })
        .collect();
    skipped.sort();
    assert_eq!(skipped, specials);
    assert_eq!(
        report.warnings.len(),
        specials.len(),
        "{:?}",
        report.warnings
    );
    assert!(report.archive_bytes > 0 && report.archive_bytes < report.tar_bytes);

    let dest = work.path().join("extracted");
    fs::create_dir(&dest).unwrap();
    extract_like_proxmox(&archive, &dest, false);

    let want = expected_after_proxmox(&manifest(&src, xattrs));
    let mut got = manifest(&dest, xattrs);
    got.remove(OsStr::new("."));
    assert_same(&want, &got, false);

    // Holes stay holes: 64 MiB apparent, a few blocks allocated.
    let sparse = fs::metadata(dest.join("var/lib/sparse.img")).unwrap();
    assert_eq!(sparse.len(), SPARSE_SIZE);
    assert!(
        sparse.blocks() * 512 < 4 * MIB,
        "sparse file was filled: {} blocks",
        sparse.blocks()
    );
    // The three names of bin/tool are one inode again.
    let ino = |p: &str| fs::metadata(dest.join(p)).unwrap().ino();
    assert_eq!(ino("bin/tool"), ino("bin/tool-again"));
    assert_eq!(ino("bin/tool"), ino("usr/bin/tool"));
    // ./dev itself is kept, its contents are Proxmox's to drop.
    assert!(dest.join("dev").is_dir());
    assert!(!dest.join("dev/README").exists());
    if xattrs {
        assert_eq!(
            xattr::get(dest.join("etc/hostname"), "trusted.hidden").unwrap(),
            None
        );
        assert_eq!(
            xattr::get(dest.join("bin/ping"), "security.capability").unwrap(),
            Some(cap_net_raw_v2())
        );
    }
}

#[test]
fn archive_members_are_dot_slash_prefixed_sorted_and_numeric() {
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("rootfs");
    build_tree(&src, false);
    let (tar, _) = write_tar(&src, Vec::new(), &config()).unwrap();
    let mut ar = tar::Archive::new(&tar[..]);
    let mut names = Vec::new();
    for e in ar.entries().unwrap() {
        let e = e.unwrap();
        assert_eq!(
            e.header().username_bytes(),
            Some(&b""[..]),
            "user names must stay empty"
        );
        assert_eq!(e.header().groupname_bytes(), Some(&b""[..]));
        names.push(e.path_bytes().into_owned());
    }
    // The `tar` crate does not read GNU sparse names: list with GNU tar, as Proxmox would.
    let listing = Command::new("tar")
        .args(["-tf", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn();
    let mut child = listing.expect("GNU tar");
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), &tar).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let names: Vec<Vec<u8>> = out
        .stdout
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(<[u8]>::to_vec)
        .collect();
    assert!(names.contains(&b"./var/lib/sparse.img".to_vec()));
    assert_eq!(names.first().map(Vec::as_slice), Some(&b"./"[..]));
    assert!(names.iter().all(|n| n.starts_with(b"./")), "{names:?}");
    // Parents come before children, siblings in byte order: the list is sorted when each name
    // is compared component by component.
    let key = |n: &Vec<u8>| -> Vec<Vec<u8>> {
        n.split(|&b| b == b'/')
            .filter(|c| !c.is_empty())
            .map(<[u8]>::to_vec)
            .collect()
    };
    let mut sorted = names.clone();
    sorted.sort_by_key(key);
    assert_eq!(names, sorted);
    assert!(!names
        .iter()
        .any(|n| n.ends_with(b"null") || n.ends_with(b"initctl")));
}

#[test]
fn same_tree_gives_the_same_bytes() {
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("rootfs");
    build_tree(&src, xattrs_supported(work.path()));
    let a = work.path().join("a.tar.zst");
    let b = work.path().join("b.tar.zst");
    pack_rootfs(&src, &a, &config()).unwrap();
    pack_rootfs(&src, &b, &config()).unwrap();
    assert_eq!(fs::read(&a).unwrap(), fs::read(&b).unwrap());
    let (t1, _) = write_tar(&src, Vec::new(), &config()).unwrap();
    let (t2, _) = write_tar(&src, Vec::new(), &config()).unwrap();
    assert_eq!(t1, t2);
    // zstd frames decode to exactly that tar stream.
    let decoded = zstd::decode_all(File::open(&a).unwrap()).unwrap();
    assert_eq!(decoded, t1);
    assert_eq!(fs::metadata(&a).unwrap().mode() & 0o777, 0o644);
}

/// Unprivileged containers: Proxmox runs the same tar inside `lxc-usernsexec` with the
/// container's map. Owners land shifted by 100000, capabilities become namespaced.
#[test]
fn gnu_tar_in_a_user_namespace_restores_the_tree_shifted() {
    let work = tempfile::tempdir().unwrap();
    // The tree must be reachable by the mapped root (uid 100000).
    fs::set_permissions(work.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let src = work.path().join("rootfs");
    let xattrs = xattrs_supported(work.path());
    build_tree(&src, xattrs);
    let (archive, _) = pack(&src, work.path(), &config());
    fs::set_permissions(&archive, fs::Permissions::from_mode(0o644)).unwrap();
    let dest = work.path().join("ct-rootfs");
    mkdir(&dest, 0o755, (100000, 100000));
    extract_like_proxmox(&archive, &dest, true);

    let mut want = expected_after_proxmox(&manifest(&src, xattrs));
    for e in want.values_mut() {
        e.uid += 100000;
        e.gid += 100000;
    }
    let mut got = manifest(&dest, xattrs);
    got.remove(OsStr::new("."));
    // The kernel stores a capability written inside the namespace as revision 3 with the
    // namespace's root (100000); check that, then compare the rest.
    if xattrs {
        let cap = got
            .get_mut(OsStr::new("./bin/ping"))
            .unwrap()
            .xattrs
            .remove(OsStr::new("security.capability"))
            .expect("capability restored");
        assert_eq!(cap.len(), 24, "namespaced capability expected: {cap:?}");
        assert_eq!(cap[3], 3, "revision 3");
        assert_eq!(u32::from_le_bytes(cap[20..24].try_into().unwrap()), 100000);
        assert_eq!(cap[4..8], cap_net_raw_v2()[4..8]);
        want.get_mut(OsStr::new("./bin/ping"))
            .unwrap()
            .xattrs
            .remove(OsStr::new("security.capability"));
    }
    assert_same(&want, &got, false);
}

#[test]
fn host_shifted_rootfs_is_mapped_back_to_container_ids() {
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("rootfs");
    mkdir(&src, 0o755, (100000, 100000));
    write(
        &src.join("etc/passwd"),
        b"root:x:0:0\n",
        0o644,
        (100000, 100000),
    );
    write(&src.join("home/u/f"), b"u", 0o600, (101000, 101000));
    lchown(src.join("home"), Some(100000), Some(100000)).unwrap();
    lchown(src.join("home/u"), Some(101000), Some(101000)).unwrap();
    lchown(src.join("etc"), Some(100000), Some(100000)).unwrap();
    link("passwd", &src.join("etc/pw"), (100000, 100000));
    let xattrs = xattrs_supported(work.path());
    if xattrs {
        write(&src.join("bin/ping"), b"p", 0o755, (100000, 100000));
        lchown(src.join("bin"), Some(100000), Some(100000)).unwrap();
        // A capability written from inside the container's namespace: revision 3, rootid 100000.
        let mut v3 = 0x0300_0001u32.to_le_bytes().to_vec();
        for w in [1u32 << 13, 0, 0, 0, 100000] {
            v3.extend_from_slice(&w.to_le_bytes());
        }
        xattr::set(src.join("bin/ping"), "security.capability", &v3).unwrap();
    }
    let shift = PackConfig {
        owners: OwnerMap::Shift {
            uid_base: 100000,
            gid_base: 100000,
        },
        ..config()
    };
    let (archive, _) = pack(&src, work.path(), &shift);
    let dest = work.path().join("out");
    fs::create_dir(&dest).unwrap();
    extract_like_proxmox(&archive, &dest, false);
    let owner = |p: &str| {
        let m = fs::symlink_metadata(dest.join(p)).unwrap();
        (m.uid(), m.gid())
    };
    assert_eq!(owner("."), (0, 0));
    assert_eq!(owner("etc/passwd"), (0, 0));
    assert_eq!(owner("etc/pw"), (0, 0));
    assert_eq!(owner("home/u"), (1000, 1000));
    assert_eq!(owner("home/u/f"), (1000, 1000));
    if xattrs {
        assert_eq!(
            xattr::get(dest.join("bin/ping"), "security.capability").unwrap(),
            Some(cap_net_raw_v2()),
            "a capability of the container's root must be packed as revision 2"
        );
    }

    // Without the mapping, host-shifted owners are refused, naming the entry.
    let err = pack_rootfs(&src, &work.path().join("x.tar.zst"), &config()).unwrap_err();
    match err {
        PackError::OwnerOutOfRange { path, id, .. } => {
            assert_eq!(path, Path::new("./"));
            assert_eq!(id, 100000);
        }
        other => panic!("unexpected {other}"),
    }
    assert!(
        !work.path().join("x.tar.zst").exists(),
        "no template after a failed pack"
    );
    let leftovers: Vec<_> = fs::read_dir(work.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");
}

#[test]
fn owners_outside_the_container_range_are_refused() {
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("rootfs");
    mkdir(&src, 0o755, (0, 0));
    write(&src.join("ok"), b"", 0o644, (65535, 65535));
    write(&src.join("too-big"), b"", 0o644, (0, 65536));
    let err = pack_rootfs(&src, &work.path().join("o.tar.zst"), &config()).unwrap_err();
    assert!(
        matches!(&err, PackError::OwnerOutOfRange { path, id: 65536, kind: executor::pack::IdKind::Gid, .. } if path == Path::new("./too-big")),
        "{err}"
    );
}

#[test]
fn symlinked_rootfs_is_refused() {
    let work = tempfile::tempdir().unwrap();
    let real = work.path().join("real");
    mkdir(&real, 0o755, (0, 0));
    write(&real.join("f"), b"x", 0o644, (0, 0));
    let via = work.path().join("rootfs");
    symlink(&real, &via).unwrap();
    let err = pack_rootfs(&via, &work.path().join("o.tar.zst"), &config()).unwrap_err();
    assert!(matches!(err, PackError::RootIsSymlink { .. }), "{err}");
    // A trailing slash makes the kernel follow the link; still refused.
    let mut slash = via.into_os_string();
    slash.push("/");
    let err = pack_rootfs(Path::new(&slash), &work.path().join("o.tar.zst"), &config());
    assert!(err.is_err(), "rootfs/ through a symlink was packed");
}

/// Symlinks inside the tree that point outside it are stored, never followed: nothing outside
/// the rootfs ends up in the archive.
#[test]
fn symlinks_pointing_outside_are_not_followed() {
    let work = tempfile::tempdir().unwrap();
    let outside = work.path().join("outside");
    write(&outside.join("secret"), b"host secret", 0o600, (0, 0));
    let src = work.path().join("rootfs");
    mkdir(&src, 0o755, (0, 0));
    link(outside.to_str().unwrap(), &src.join("abs-dir"), (0, 0));
    link("../outside/secret", &src.join("rel-file"), (0, 0));
    let (tar, report) = write_tar(&src, Vec::new(), &config()).unwrap();
    assert_eq!(report.entries, 3);
    assert_eq!(report.data_bytes, 0);
    assert!(!tar.windows(11).any(|w| w == b"host secret"));
    let mut ar = tar::Archive::new(&tar[..]);
    let kinds: Vec<_> = ar
        .entries()
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (e.path_bytes().into_owned(), e.header().entry_type())
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            (b"./".to_vec(), tar::EntryType::Directory),
            (b"./abs-dir".to_vec(), tar::EntryType::Symlink),
            (b"./rel-file".to_vec(), tar::EntryType::Symlink),
        ]
    );
}

#[test]
fn output_inside_the_rootfs_or_with_a_wrong_suffix_is_refused() {
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("rootfs");
    mkdir(&src.join("var"), 0o755, (0, 0));
    let err = pack_rootfs(&src, &src.join("var/self.tar.zst"), &config()).unwrap_err();
    assert!(matches!(err, PackError::OutputInsideRootfs { .. }), "{err}");
    let err = pack_rootfs(&src, &work.path().join("t.tar.gz"), &config()).unwrap_err();
    assert!(matches!(err, PackError::OutputName { .. }), "{err}");
    let file = work.path().join("plain");
    fs::write(&file, b"").unwrap();
    let err = pack_rootfs(&file, &work.path().join("t.tar.zst"), &config()).unwrap_err();
    assert!(matches!(err, PackError::RootNotDirectory { .. }), "{err}");
}

#[test]
fn failed_pack_keeps_an_existing_template() {
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("rootfs");
    mkdir(&src, 0o755, (0, 0));
    write(&src.join("f"), b"v1", 0o644, (0, 0));
    let out = work.path().join("t.tar.zst");
    pack_rootfs(&src, &out, &config()).unwrap();
    let before = fs::read(&out).unwrap();
    write(&src.join("bad"), b"", 0o644, (70000, 0));
    assert!(pack_rootfs(&src, &out, &config()).is_err());
    assert_eq!(fs::read(&out).unwrap(), before);
}

/// `system.posix_acl_access` for `u::rw-,u:1000:r--,g::r--,m::r--,o::r--`.
fn acl_with_named_user() -> Vec<u8> {
    let mut v = 2u32.to_le_bytes().to_vec();
    for (tag, perm, id) in [
        (0x01u16, 6u16, u32::MAX),
        (0x02, 4, 1000),
        (0x04, 4, u32::MAX),
        (0x10, 4, u32::MAX),
        (0x20, 4, u32::MAX),
    ] {
        v.extend_from_slice(&tag.to_le_bytes());
        v.extend_from_slice(&perm.to_le_bytes());
        v.extend_from_slice(&id.to_le_bytes());
    }
    v
}

#[test]
fn acls_are_reported_not_silently_dropped() {
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("rootfs");
    mkdir(&src, 0o755, (0, 0));
    write(&src.join("shared"), b"s", 0o644, (0, 0));
    if xattr::set(
        src.join("shared"),
        "system.posix_acl_access",
        &acl_with_named_user(),
    )
    .is_err()
    {
        eprintln!("NOTE: POSIX ACLs unsupported here; ACL warning not checked");
        return;
    }
    let (_, report) = write_tar(&src, Vec::new(), &config()).unwrap();
    assert_eq!(
        report.warnings,
        vec![PackWarning::AclNotPacked {
            path: PathBuf::from("./shared")
        }]
    );
    assert_eq!(report.warnings[0].code(), "pack/acl-not-packed");
}

/// The walk closes far ancestors and re-opens them as `..` of the child it leaves. A subtree
/// moved out of the rootfs meanwhile (here: to a directory whose `z` is a host secret) makes
/// that `..` another directory: packing stops instead of reading the rest of the level from
/// there.
#[test]
fn a_subtree_moved_out_during_the_walk_stops_packing() {
    const DEPTH: usize = executor::pack::MAX_OPEN_DIRS + 24;
    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("rootfs");
    let outside = work.path().join("outside");
    write(&outside.join("z"), b"host secret", 0o600, (0, 0));
    let mut dir = src.clone();
    let mut chain = Vec::new();
    for level in 0..DEPTH {
        dir = dir.join(format!("d{level}"));
        chain.push(dir.clone());
        mkdir(&dir, 0o755, (0, 0));
        write(&dir.join("z"), b"inside", 0o644, (0, 0));
    }
    write(&dir.join("leaf"), b"LEAF-MARKER", 0o644, (0, 0));
    // d5 (and the walk's position below it) goes to outside/d5 when the leaf is written.
    let moved_from = chain[5].clone();
    let moved_to = outside.join("d5");

    struct Trap {
        bytes: std::rc::Rc<std::cell::RefCell<Vec<u8>>>,
        from: PathBuf,
        to: PathBuf,
        sprung: bool,
    }
    impl std::io::Write for Trap {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if !self.sprung && buf.windows(11).any(|w| w == b"LEAF-MARKER") {
                fs::rename(&self.from, &self.to).unwrap();
                self.sprung = true;
            }
            self.bytes.borrow_mut().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let bytes = std::rc::Rc::default();
    let trap = Trap {
        bytes: std::rc::Rc::clone(&bytes),
        from: moved_from,
        to: moved_to.clone(),
        sprung: false,
    };
    let rootfs = executor::bundle::Rootfs::open_path(&src).unwrap();
    let err = match executor::pack::write_tar_dir(&rootfs, trap, &config()) {
        Ok(_) => panic!("packing went on after its tree was moved"),
        Err(e) => e,
    };
    assert!(moved_to.join("d6").is_dir(), "the trap was sprung");
    assert!(
        matches!(&err, PackError::EntryChanged { what, .. } if what.contains("moved")),
        "{err}"
    );
    let written = bytes.borrow();
    assert!(
        written.windows(11).any(|w| w == b"LEAF-MARKER"),
        "packed down to the leaf"
    );
    assert!(
        !written.windows(11).any(|w| w == b"host secret"),
        "read a file outside the rootfs"
    );
}
