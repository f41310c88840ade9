//! Images the tests build from files they make (no registry, no engine): an OCI image layout,
//! an `oci-archive` (plain, gzip, zstd) and a `docker-archive`, written as image-spec and
//! moby's `image/tarexport` lay them out.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

pub fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex(&Sha256::digest(bytes)))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02x}")).collect()
}

/// One entry of a layer.
pub enum E<'a> {
    Dir(&'a str, u32),
    File(&'a str, &'a [u8], u32),
    Symlink(&'a str, &'a str),
    Whiteout(&'a str),
}

/// A layer tar with these entries (owned by root, mtime fixed).
pub fn layer(entries: &[E<'_>]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        let mut h = tar::Header::new_gnu();
        h.set_mtime(1_700_000_000);
        h.set_uid(0);
        h.set_gid(0);
        match e {
            E::Dir(p, mode) => {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_mode(*mode);
                h.set_size(0);
                b.append_data(&mut h, p, &[][..]).unwrap();
            }
            E::File(p, data, mode) => {
                h.set_entry_type(tar::EntryType::Regular);
                h.set_mode(*mode);
                h.set_size(data.len() as u64);
                b.append_data(&mut h, p, *data).unwrap();
            }
            E::Symlink(p, target) => {
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_mode(0o777);
                h.set_size(0);
                b.append_link(&mut h, p, target).unwrap();
            }
            E::Whiteout(p) => {
                h.set_entry_type(tar::EntryType::Regular);
                h.set_mode(0o644);
                h.set_size(0);
                b.append_data(&mut h, p, &[][..]).unwrap();
            }
        }
    }
    b.into_inner().unwrap()
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

pub fn compress(bytes: &[u8], c: Compression) -> Vec<u8> {
    match c {
        Compression::None => bytes.to_vec(),
        Compression::Gzip => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(bytes).unwrap();
            e.finish().unwrap()
        }
        Compression::Zstd => zstd::encode_all(bytes, 1).unwrap(),
    }
}

fn layer_media(c: Compression) -> &'static str {
    match c {
        Compression::None => "application/vnd.oci.image.layer.v1.tar",
        Compression::Gzip => "application/vnd.oci.image.layer.v1.tar+gzip",
        Compression::Zstd => "application/vnd.oci.image.layer.v1.tar+zstd",
    }
}

/// An image: its config's `config` object and its layers (uncompressed tars, bottom first).
pub struct TestImage {
    pub config: Value,
    pub layers: Vec<Vec<u8>>,
    pub compression: Compression,
    pub tag: Option<String>,
    /// `rootfs.diff_ids` to write instead of the layers' real ones (a lying config).
    pub diff_ids: Option<Vec<String>>,
}

impl TestImage {
    pub fn new(config: Value, layers: Vec<Vec<u8>>) -> Self {
        Self {
            config,
            layers,
            compression: Compression::Gzip,
            tag: Some("latest".into()),
            diff_ids: None,
        }
    }

    /// The image config blob.
    pub fn config_blob(&self) -> Vec<u8> {
        let diff_ids: Vec<String> = match &self.diff_ids {
            Some(d) => d.clone(),
            None => self.layers.iter().map(|l| sha256(l)).collect(),
        };
        serde_json::to_vec(&json!({
            "created": "2026-01-01T00:00:00Z",
            "architecture": host_arch(),
            "os": "linux",
            "config": self.config,
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
        }))
        .unwrap()
    }

    /// Writes an OCI image layout into `dir` (created); returns the files it wrote, by
    /// name below `dir`, for tests that tamper with one.
    pub fn write_layout(&self, dir: &Path) -> Vec<(String, Vec<u8>)> {
        let mut files: Vec<(String, Vec<u8>)> = Vec::new();
        let mut blob = |bytes: Vec<u8>| -> (String, usize) {
            let d = sha256(&bytes);
            let len = bytes.len();
            files.push((format!("blobs/sha256/{}", &d[7..]), bytes));
            (d, len)
        };
        let layers: Vec<Value> = self
            .layers
            .iter()
            .map(|l| {
                let (d, size) = blob(compress(l, self.compression));
                json!({"mediaType": layer_media(self.compression), "digest": d, "size": size})
            })
            .collect();
        let (cd, csize) = blob(self.config_blob());
        let manifest = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": csize},
            "layers": layers,
        }))
        .unwrap();
        let (md, msize) = blob(manifest);
        let mut desc = json!({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": msize});
        if let Some(tag) = &self.tag {
            desc["annotations"] = json!({"org.opencontainers.image.ref.name": tag});
        }
        files.push((
            "index.json".into(),
            serde_json::to_vec(&json!({"schemaVersion": 2, "manifests": [desc]})).unwrap(),
        ));
        files.push((
            "oci-layout".into(),
            br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec(),
        ));
        for (name, bytes) in &files {
            let path = dir.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, bytes).unwrap();
        }
        files
    }

    /// Writes the layout as an `oci-archive` tar, compressed as asked.
    pub fn write_oci_archive(&self, file: &Path, c: Compression) -> PathBuf {
        let dir = tempfile::tempdir().unwrap();
        let files = self.write_layout(dir.path());
        let mut b = tar::Builder::new(Vec::new());
        for (name, bytes) in &files {
            let mut h = tar::Header::new_gnu();
            h.set_size(bytes.len() as u64);
            h.set_mode(0o644);
            b.append_data(&mut h, name, bytes.as_slice()).unwrap();
        }
        std::fs::write(file, compress(&b.into_inner().unwrap(), c)).unwrap();
        file.to_owned()
    }

    /// Writes a `docker save` archive: `manifest.json`, `<id>.json`, `<n>/layer.tar`.
    pub fn write_docker_archive(&self, file: &Path, repo_tag: &str) -> PathBuf {
        let config = self.config_blob();
        let config_name = format!("{}.json", &sha256(&config)[7..]);
        let mut entries: Vec<(String, Vec<u8>)> = vec![(config_name.clone(), config)];
        let mut layer_names = Vec::new();
        for (i, l) in self.layers.iter().enumerate() {
            let name = format!("{i}/layer.tar");
            layer_names.push(name.clone());
            entries.push((name, l.clone()));
        }
        entries.push((
            "manifest.json".into(),
            serde_json::to_vec(
                &json!([{"Config": config_name, "RepoTags": [repo_tag], "Layers": layer_names}]),
            )
            .unwrap(),
        ));
        let mut b = tar::Builder::new(Vec::new());
        for (name, bytes) in &entries {
            let mut h = tar::Header::new_gnu();
            h.set_size(bytes.len() as u64);
            h.set_mode(0o644);
            b.append_data(&mut h, name, bytes.as_slice()).unwrap();
        }
        std::fs::write(file, b.into_inner().unwrap()).unwrap();
        file.to_owned()
    }
}

/// The host's architecture in image-spec (GOARCH) names.
pub fn host_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

/// A small application image: busybox-like files, a user `app`, two layers (the second
/// deletes a file of the first and adds to /etc).
pub fn app_image() -> TestImage {
    let base = layer(&[
        E::Dir("etc/", 0o755),
        E::File(
            "etc/passwd",
            b"root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n",
            0o644,
        ),
        E::File(
            "etc/group",
            b"root:x:0:\napp:x:1000:\nweb:x:33:app\n",
            0o644,
        ),
        E::Dir("bin/", 0o755),
        E::File("bin/server", b"#!/bin/sh\necho hi\n", 0o755),
        E::File("bin/old-tool", b"old", 0o755),
        E::Dir("tmp/", 0o1777),
    ]);
    let top = layer(&[
        E::Whiteout("bin/.wh.old-tool"),
        E::Dir("srv/", 0o755),
        E::File("srv/index.html", b"hello\n", 0o644),
        E::Symlink("bin/sh", "server"),
    ]);
    TestImage::new(
        json!({
            "User": "app",
            "Env": ["PATH=/bin", "GREETING=hi"],
            "Entrypoint": ["/bin/server"],
            "Cmd": ["--port", "8080"],
            "WorkingDir": "/srv",
            "ExposedPorts": {"8080/tcp": {}},
            "StopSignal": "SIGTERM",
            "Labels": {"org.opencontainers.image.title": "app"},
        }),
        vec![base, top],
    )
}
