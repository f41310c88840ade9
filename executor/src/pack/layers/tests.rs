use std::io::Cursor;

use tar::{EntryType, Header};

use super::*;

/// Layers held in memory, each an uncompressed tar.
struct Mem(Vec<Vec<u8>>);

struct MemRead(Cursor<Vec<u8>>);

impl Read for MemRead {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl LayerRead for MemRead {
    fn finish(self: Box<Self>) -> io::Result<()> {
        Ok(())
    }
}

impl LayerSource for Mem {
    fn count(&self) -> usize {
        self.0.len()
    }
    fn name(&self, index: usize) -> String {
        format!("layer {index}")
    }
    fn open(&self, index: usize) -> io::Result<Box<dyn LayerRead + '_>> {
        Ok(Box::new(MemRead(Cursor::new(self.0[index].clone()))))
    }
}

enum E<'a> {
    Dir(&'a str, u32),
    File(&'a str, &'a str),
    Link(&'a str, &'a str),
    Sym(&'a str, &'a str),
    Char(&'a str),
    Owned(&'a str, u64),
}

/// A layer tar; names are written byte for byte (no checks), as a hostile image could.
fn layer(entries: &[E<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    for e in entries {
        let mut h = Header::new_gnu();
        let (name, ty, data, link, mode, uid): (&str, EntryType, &[u8], &str, u32, u64) = match e {
            E::Dir(n, mode) => (n, EntryType::Directory, b"", "", *mode, 0),
            E::File(n, d) => (n, EntryType::Regular, d.as_bytes(), "", 0o644, 0),
            E::Link(n, t) => (n, EntryType::Link, b"", t, 0o644, 0),
            E::Sym(n, t) => (n, EntryType::Symlink, b"", t, 0o777, 0),
            E::Char(n) => (n, EntryType::Char, b"", "", 0o600, 0),
            E::Owned(n, uid) => (n, EntryType::Regular, b"x", "", 0o644, *uid),
        };
        h.set_entry_type(ty);
        h.set_size(data.len() as u64);
        h.set_mode(mode);
        h.set_uid(uid);
        h.set_gid(0);
        h.set_mtime(1_700_000_000);
        let gnu = h.as_gnu_mut().unwrap();
        gnu.name[..name.len()].copy_from_slice(name.as_bytes());
        gnu.linkname[..link.len()].copy_from_slice(link.as_bytes());
        h.set_cksum();
        out.extend_from_slice(h.as_bytes());
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.resize(out.len() + 1024, 0);
    out
}

/// (name, type, mode, content or link target) of every entry of the template, in order.
fn merged(layers: Vec<Vec<u8>>) -> Result<Vec<(String, char, u32, String)>, PackError> {
    let source = Mem(layers);
    let index = index_layers(&source, &["/etc/passwd"])?;
    let (tar, _) = write_layers_tar(&source, &index, Vec::new(), &PackConfig::default())?;
    let mut archive = tar::Archive::new(Cursor::new(tar));
    let mut out = Vec::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = String::from_utf8(entry.path_bytes().into_owned()).unwrap();
        let h = entry.header().clone();
        let ty = match h.entry_type() {
            EntryType::Directory => 'd',
            EntryType::Regular => 'f',
            EntryType::Link => 'h',
            EntryType::Symlink => 'l',
            _ => '?',
        };
        let mut body = String::new();
        entry.read_to_string(&mut body).unwrap();
        if let Some(l) = entry.link_name_bytes() {
            body = String::from_utf8(l.into_owned()).unwrap();
        }
        out.push((name, ty, h.mode().unwrap(), body));
    }
    Ok(out)
}

fn names(m: &[(String, char, u32, String)]) -> Vec<&str> {
    m.iter().map(|e| e.0.as_str()).collect()
}

fn find<'a>(
    m: &'a [(String, char, u32, String)],
    name: &str,
) -> Option<&'a (String, char, u32, String)> {
    m.iter().find(|e| e.0 == name)
}

#[test]
fn whiteouts_delete_and_later_layers_replace() {
    let m = merged(vec![
        layer(&[
            E::Dir("./", 0o755),
            E::Dir("etc/", 0o755),
            E::File("etc/passwd", "old"),
            E::Dir("bin/", 0o755),
            E::File("bin/sh", "sh"),
            E::File("bin/ls", "ls"),
        ]),
        layer(&[E::File("etc/passwd", "new"), E::File("bin/.wh.sh", "")]),
    ])
    .unwrap();
    assert_eq!(
        names(&m),
        ["./", "./etc", "./bin", "./bin/ls", "./etc/passwd"],
        "the replaced file is written from the layer that has it"
    );
    assert_eq!(find(&m, "./etc/passwd").unwrap().3, "new");
}

#[test]
fn a_directory_is_written_first_with_its_last_metadata() {
    // /tmp is redeclared 1777 by the upper layer; a child comes from the lower one. Written
    // with 0755 first (and 1777 later), `tar --skip-old-files` would keep 0755.
    let m = merged(vec![
        layer(&[E::Dir("tmp/", 0o755), E::File("tmp/a", "a")]),
        layer(&[E::Dir("tmp/", 0o1777), E::File("tmp/b", "b")]),
    ])
    .unwrap();
    assert_eq!(names(&m), ["./", "./tmp", "./tmp/a", "./tmp/b"]);
    assert_eq!(find(&m, "./tmp").unwrap().2, 0o1777);
    assert_eq!(m.iter().filter(|e| e.0 == "./tmp").count(), 1);
}

#[test]
fn an_opaque_directory_hides_only_what_is_below_it() {
    let m = merged(vec![
        layer(&[
            E::Dir("a/", 0o755),
            E::File("a/x", "x"),
            E::File("a/y", "y"),
        ]),
        layer(&[E::File("a/.wh..wh..opq", ""), E::File("a/z", "z")]),
    ])
    .unwrap();
    assert_eq!(names(&m), ["./", "./a", "./a/z"]);
}

#[test]
fn a_file_over_a_directory_hides_its_children() {
    let m = merged(vec![
        layer(&[E::Dir("d/", 0o755), E::File("d/f", "f")]),
        layer(&[E::File("d", "now a file")]),
    ])
    .unwrap();
    assert_eq!(names(&m), ["./", "./d"]);
    assert_eq!(find(&m, "./d").unwrap().1, 'f');
}

#[test]
fn undeclared_parents_are_made_before_their_children() {
    let m = merged(vec![layer(&[E::File("usr/lib/x", "x")])]).unwrap();
    assert_eq!(names(&m), ["./", "./usr", "./usr/lib", "./usr/lib/x"]);
    assert_eq!(find(&m, "./usr/lib").unwrap().2, 0o755);
}

#[test]
fn the_later_entry_of_one_layer_wins() {
    let m = merged(vec![layer(&[
        E::File("f", "first"),
        E::File("f", "second"),
    ])])
    .unwrap();
    assert_eq!(m.iter().filter(|e| e.0 == "./f").count(), 1);
    assert_eq!(find(&m, "./f").unwrap().3, "second");
}

#[test]
fn a_hard_link_keeps_the_content_of_a_deleted_target() {
    let m = merged(vec![
        layer(&[E::File("f", "data"), E::Link("l1", "f"), E::Link("l2", "f")]),
        layer(&[E::File(".wh.f", "")]),
    ])
    .unwrap();
    assert!(find(&m, "./f").is_none());
    assert_eq!(find(&m, "./l1").unwrap().1, 'f');
    assert_eq!(find(&m, "./l1").unwrap().3, "data");
    assert_eq!(find(&m, "./l2").unwrap().1, 'h');
    assert_eq!(find(&m, "./l2").unwrap().3, "./l1");
}

#[test]
fn a_surviving_hard_link_stays_a_link() {
    let m = merged(vec![layer(&[
        E::File("f", "data"),
        E::Link("l", "./f"),
        E::Sym("s", "f"),
    ])])
    .unwrap();
    assert_eq!(find(&m, "./l").unwrap().1, 'h');
    assert_eq!(find(&m, "./l").unwrap().3, "./f");
    assert_eq!(find(&m, "./s").unwrap().3, "f");
}

#[test]
fn passwd_is_read_from_the_merged_view() {
    let source = Mem(vec![
        layer(&[E::File("etc/passwd", "root:x:0:0::/root:/bin/sh\n")]),
        layer(&[E::File("etc/.wh.passwd", "")]),
    ]);
    assert_eq!(
        index_layers(&source, &["/etc/passwd"])
            .unwrap()
            .file("/etc/passwd"),
        None
    );
    let source = Mem(vec![
        layer(&[E::File("./etc/passwd", "a")]),
        layer(&[E::File("etc/passwd", "b")]),
    ]);
    assert_eq!(
        index_layers(&source, &["/etc/passwd"])
            .unwrap()
            .file("/etc/passwd"),
        Some(&b"b"[..])
    );
}

#[test]
fn a_name_climbing_out_of_the_root_is_refused() {
    for bad in ["../etc/shadow", "a/../../x"] {
        let e = merged(vec![layer(&[E::File(bad, "x")])]).unwrap_err();
        assert!(matches!(e, PackError::EscapingEntry { .. }), "{bad}: {e}");
    }
}

#[test]
fn an_owner_outside_the_container_range_is_refused() {
    let e = merged(vec![layer(&[E::Owned("f", 70000)])]).unwrap_err();
    assert!(
        matches!(e, PackError::OwnerOutOfRange { id: 70000, .. }),
        "{e}"
    );
}

#[test]
fn device_nodes_are_reported_not_packed() {
    let source = Mem(vec![layer(&[E::Char("dev/null")])]);
    let index = index_layers(&source, &[]).unwrap();
    let (_, report) =
        write_layers_tar(&source, &index, Vec::new(), &PackConfig::default()).unwrap();
    assert_eq!(report.warnings.len(), 1);
    assert_eq!(report.warnings[0].code(), "pack/special-file-skipped");
}

#[test]
fn a_link_to_nothing_before_it_is_an_error() {
    let e = merged(vec![layer(&[E::Link("l", "missing")])]).unwrap_err();
    assert!(e.to_string().contains("hard link"), "{e}");
}

#[test]
fn a_file_below_a_symlink_of_its_own_layer_is_refused() {
    // `evil -> /etc`, then `evil/passwd`: extracted in that order, the file would be written
    // through the link, outside the container's root.
    let e = merged(vec![layer(&[
        E::Sym("evil", "/etc"),
        E::File("evil/passwd", "x"),
    ])])
    .unwrap_err();
    assert!(e.to_string().contains("./evil/passwd"), "{e}");
    // The same names in two layers: the upper symlink hides the lower file (nothing refused).
    let m = merged(vec![
        layer(&[E::Dir("evil/", 0o755), E::File("evil/passwd", "x")]),
        layer(&[E::Sym("evil", "/etc")]),
    ])
    .unwrap();
    assert_eq!(names(&m), ["./", "./evil"]);
}
