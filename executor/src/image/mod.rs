//! Reading OCI images: an image layout directory, an `oci-archive` tar (plain, gzip or zstd)
//! or a `docker-archive` (`docker save`, `podman save`), down to the image config and the
//! layers, every blob checked against its digest (see [`blob`]).
//!
//! An image is untrusted input like a bundle: a layout directory is opened once and every
//! blob is reached below that descriptor without following links ([`Bundle::open_file`]); an
//! archive is read by offset from one open file, never unpacked. A compressed archive is
//! decompressed once into an anonymous temp file (a tar cannot be read by offset through a
//! decompressor), which is the only copy made.
//!
//! What the image *is* (its config, its layers' merge) goes to the translator
//! (`translator::image`) and the packer ([`crate::pack::index_layers`],
//! [`crate::pack::pack_layers`]): this module only finds and verifies bytes.

pub mod blob;
pub mod reference;
mod store;

use std::io::{self, Read};
use std::path::PathBuf;

use serde_json::Value;

use crate::pack::{LayerRead, LayerSource};
pub use blob::Digest;
use blob::{read_small, Verified};
pub use reference::ImageRef;
use store::Store;

/// The largest manifest, index or image config read (image-spec sets no limit; registries
/// refuse manifests over 4 MiB, distribution-spec `spec.md`, "Pushing Manifests").
const SMALL_BLOB_LIMIT: u64 = 4 << 20;

/// A platform (`--platform os/arch[/variant]`), as image-spec `image-index.md` names them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

impl Platform {
    /// `linux/amd64`, `linux/arm64/v8`.
    pub fn parse(s: &str) -> Result<Platform, String> {
        let mut parts = s.split('/');
        let (Some(os), Some(arch)) = (parts.next(), parts.next()) else {
            return Err(format!(
                "`{s}` is not a platform (`os/arch[/variant]`, e.g. linux/amd64)"
            ));
        };
        let variant = parts.next().map(str::to_owned);
        if os.is_empty()
            || arch.is_empty()
            || parts.next().is_some()
            || variant.as_deref() == Some("")
        {
            return Err(format!(
                "`{s}` is not a platform (`os/arch[/variant]`, e.g. linux/amd64)"
            ));
        }
        Ok(Platform {
            os: os.into(),
            architecture: arch.into(),
            variant,
        })
    }

    /// This machine's platform, in the GOARCH names images use (image-spec `config.md`).
    pub fn host() -> Platform {
        let architecture = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            "x86" => "386",
            "powerpc64" if cfg!(target_endian = "little") => "ppc64le",
            other => other,
        };
        Platform {
            os: "linux".into(),
            architecture: architecture.into(),
            variant: None,
        }
    }

    fn matches(&self, p: &Value) -> bool {
        let field = |k: &str| p.get(k).and_then(Value::as_str);
        field("os") == Some(&self.os)
            && field("architecture") == Some(&self.architecture)
            && (self.variant.is_none() || field("variant") == self.variant.as_deref())
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

/// Why an image could not be read: always names the image and the blob or file.
#[derive(Debug, thiserror::Error)]
#[error("{image}: {message}")]
pub struct ImageError {
    pub image: String,
    pub message: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Compression {
    None,
    Gzip,
    Zstd,
}

/// One layer: where its bytes are and what they must hash to.
#[derive(Clone, Debug)]
struct Layer {
    /// The blob in the store: `blobs/sha256/<hex>` or a docker-archive's path.
    path: String,
    /// The blob's digest and size, when a descriptor gave them.
    blob: Option<(Digest, u64)>,
    /// The uncompressed tar's digest (`rootfs.diff_ids`).
    diff_id: Option<Digest>,
    compression: Option<Compression>,
}

/// An image, found and with its config read and verified; its layers are read on demand
/// (twice when packing: see [`crate::pack::index_layers`]).
pub struct Image {
    reference: String,
    store: Store,
    /// The image config blob.
    pub config: Vec<u8>,
    /// Its digest: the image id.
    pub config_digest: Digest,
    layers: Vec<Layer>,
}

impl Image {
    /// Finds the image `reference` names; `platform` picks from a multi-platform index (the
    /// host's when none is given).
    pub fn open(reference: &ImageRef, platform: Option<&Platform>) -> Result<Image, ImageError> {
        let name = reference.to_string();
        let err = |message: String| ImageError {
            image: name.clone(),
            message,
        };
        let platform = platform.cloned().unwrap_or_else(Platform::host);
        match reference {
            ImageRef::Layout { dir, tag } => {
                let store = Store::open_dir(dir).map_err(|e| err(e.to_string()))?;
                oci(name.clone(), store, tag.as_deref(), &platform).map_err(err)
            }
            ImageRef::OciArchive { file, tag } => {
                let store = Store::open_archive(file).map_err(|e| err(e.to_string()))?;
                oci(name.clone(), store, tag.as_deref(), &platform).map_err(err)
            }
            ImageRef::DockerArchive { file, name: wanted } => {
                let store = Store::open_archive(file).map_err(|e| err(e.to_string()))?;
                docker(name.clone(), store, wanted.as_deref()).map_err(err)
            }
        }
    }

    /// The reference the image was opened by.
    pub fn reference(&self) -> &str {
        &self.reference
    }

    /// How many layers the image has.
    pub fn layer_count(&self) -> usize {
        self.layers.len()
    }
}

/// `oci-layout` must say 1.0.0 (image-spec `image-layout.md`).
fn check_layout(store: &Store) -> Result<(), String> {
    let text = store.read_named("oci-layout", 4096)?;
    let v: Value =
        serde_json::from_slice(&text).map_err(|e| format!("oci-layout is not JSON: {e}"))?;
    match v.get("imageLayoutVersion").and_then(Value::as_str) {
        Some("1.0.0") => Ok(()),
        Some(other) => Err(format!(
            "oci-layout: imageLayoutVersion {other} is not supported (1.0.0)"
        )),
        None => Err("oci-layout has no imageLayoutVersion".into()),
    }
}

const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
const REF_NAME: &str = "org.opencontainers.image.ref.name";

/// A descriptor's digest and size, checked.
fn descriptor(d: &Value, what: &str) -> Result<(Digest, u64), String> {
    let digest = d
        .get("digest")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("a {what} descriptor has no digest"))?;
    let digest = Digest::parse(digest)?;
    let size = d
        .get("size")
        .and_then(Value::as_u64)
        .ok_or_else(|| format!("the {what} descriptor {digest} has no size"))?;
    Ok((digest, size))
}

fn media_type(d: &Value) -> &str {
    d.get("mediaType").and_then(Value::as_str).unwrap_or("")
}

fn json_blob(store: &Store, d: &Value, what: &str) -> Result<Value, String> {
    let (digest, size) = descriptor(d, what)?;
    let r = store.blob(&digest)?;
    let bytes = read_small(r, &digest, size, SMALL_BLOB_LIMIT, what).map_err(|e| e.to_string())?;
    serde_json::from_slice(&bytes).map_err(|e| format!("{what} {digest} is not JSON: {e}"))
}

fn oci(
    name: String,
    store: Store,
    tag: Option<&str>,
    platform: &Platform,
) -> Result<Image, String> {
    check_layout(&store)?;
    let index: Value = serde_json::from_slice(&store.read_named("index.json", SMALL_BLOB_LIMIT)?)
        .map_err(|e| format!("index.json is not JSON: {e}"))?;
    let manifests = index
        .get("manifests")
        .and_then(Value::as_array)
        .ok_or("index.json has no manifests")?;
    let tag_of = |m: &Value| {
        m.get("annotations")
            .and_then(|a| a.get(REF_NAME))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let chosen = match tag {
        Some(t) => {
            let found: Vec<&Value> = manifests
                .iter()
                .filter(|m| tag_of(m).as_deref() == Some(t))
                .collect();
            match found.as_slice() {
                [one] => *one,
                [] => {
                    let tags: Vec<String> = manifests.iter().filter_map(tag_of).collect();
                    return Err(format!("no image is tagged `{t}` (tags: {})", list(&tags)));
                }
                _ => return Err(format!("{} images are tagged `{t}`", found.len())),
            }
        }
        None => match manifests.as_slice() {
            [one] => one,
            [] => return Err("index.json lists no image".into()),
            many => {
                let tags: Vec<String> = many.iter().filter_map(tag_of).collect();
                return Err(format!(
                    "index.json lists {} images: name one with :TAG (tags: {})",
                    many.len(),
                    list(&tags)
                ));
            }
        },
    };
    let manifest = resolve_manifest(&store, chosen, platform, 0)?;
    let config_desc = manifest.get("config").ok_or("the manifest has no config")?;
    match media_type(config_desc) {
        OCI_CONFIG | DOCKER_CONFIG => {}
        other => {
            return Err(format!(
                "the config's media type `{other}` is not an image config"
            ))
        }
    }
    let (config_digest, config_size) = descriptor(config_desc, "config")?;
    let config = read_small(
        store.blob(&config_digest)?,
        &config_digest,
        config_size,
        SMALL_BLOB_LIMIT,
        "config",
    )
    .map_err(|e| e.to_string())?;
    let diff_ids = diff_ids(&config)?;
    let descs = manifest
        .get("layers")
        .and_then(Value::as_array)
        .ok_or("the manifest has no layers")?;
    if descs.len() != diff_ids.len() {
        return Err(format!(
            "the manifest has {} layers, the config's rootfs.diff_ids {}",
            descs.len(),
            diff_ids.len()
        ));
    }
    let mut layers = Vec::with_capacity(descs.len());
    for (d, diff_id) in descs.iter().zip(diff_ids) {
        let (digest, size) = descriptor(d, "layer")?;
        let compression = match media_type(d) {
            "application/vnd.oci.image.layer.v1.tar"
            | "application/vnd.oci.image.layer.nondistributable.v1.tar" => Compression::None,
            "application/vnd.oci.image.layer.v1.tar+gzip"
            | "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
            | "application/vnd.docker.image.rootfs.diff.tar.gzip" => Compression::Gzip,
            "application/vnd.oci.image.layer.v1.tar+zstd"
            | "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd" => Compression::Zstd,
            other => {
                return Err(format!(
                "layer {digest} has media type `{other}`, which is not a layer this reader knows"
            ))
            }
        };
        layers.push(Layer {
            path: format!("blobs/sha256/{}", digest.hex()),
            blob: Some((digest, size)),
            diff_id: Some(diff_id),
            compression: Some(compression),
        });
    }
    Ok(Image {
        reference: name,
        store,
        config,
        config_digest,
        layers,
    })
}

/// A manifest, following indexes (to the platform's entry) at most a few levels deep.
fn resolve_manifest(
    store: &Store,
    d: &Value,
    platform: &Platform,
    depth: u32,
) -> Result<Value, String> {
    if depth > 4 {
        return Err("indexes nest more than 4 deep".into());
    }
    match media_type(d) {
        OCI_MANIFEST | DOCKER_MANIFEST => json_blob(store, d, "manifest"),
        OCI_INDEX | DOCKER_LIST => {
            let index = json_blob(store, d, "index")?;
            let entries = index
                .get("manifests")
                .and_then(Value::as_array)
                .ok_or("an index has no manifests")?;
            let found = entries
                .iter()
                .find(|m| m.get("platform").is_some_and(|p| platform.matches(p)));
            match found {
                Some(m) => resolve_manifest(store, m, platform, depth + 1),
                None => {
                    let have: Vec<String> = entries
                        .iter()
                        .filter_map(|m| m.get("platform"))
                        .map(|p| {
                            let f = |k| p.get(k).and_then(Value::as_str).unwrap_or("?");
                            format!("{}/{}", f("os"), f("architecture"))
                        })
                        .collect();
                    Err(format!(
                        "no image for {platform} (the index has {}); pass --platform",
                        list(&have)
                    ))
                }
            }
        }
        other => Err(format!(
            "a descriptor has media type `{other}`, neither a manifest nor an index"
        )),
    }
}

fn diff_ids(config: &[u8]) -> Result<Vec<Digest>, String> {
    let v: Value =
        serde_json::from_slice(config).map_err(|e| format!("the image config is not JSON: {e}"))?;
    v.pointer("/rootfs/diff_ids")
        .and_then(Value::as_array)
        .ok_or("the image config has no rootfs.diff_ids")?
        .iter()
        .map(|d| Digest::parse(d.as_str().unwrap_or_default()))
        .collect()
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "none".into()
    } else {
        items.join(", ")
    }
}

/// `docker save`'s `manifest.json`: `[{"Config": …, "RepoTags": […], "Layers": […]}]`
/// (moby `image/tarexport`, `manifestItem`).
fn docker(name: String, store: Store, wanted: Option<&str>) -> Result<Image, String> {
    let manifest: Value =
        serde_json::from_slice(&store.read_named("manifest.json", SMALL_BLOB_LIMIT)?)
            .map_err(|e| format!("manifest.json is not JSON: {e}"))?;
    let items = manifest.as_array().ok_or("manifest.json is not a list")?;
    let tags = |m: &Value| -> Vec<String> {
        m.get("RepoTags")
            .and_then(Value::as_array)
            .map(|t| {
                t.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    let item = match (wanted, items.as_slice()) {
        (None, [one]) => one,
        (None, []) => return Err("manifest.json lists no image".into()),
        (None, many) => {
            let all: Vec<String> = many.iter().flat_map(tags).collect();
            return Err(format!(
                "the archive has {} images: name one (tags: {})",
                many.len(),
                list(&all)
            ));
        }
        (Some(w), _) => items
            .iter()
            .find(|m| {
                tags(m)
                    .iter()
                    .any(|t| t == w || t.rsplit_once('/').is_some_and(|(_, s)| s == w))
            })
            .ok_or_else(|| {
                let all: Vec<String> = items.iter().flat_map(tags).collect();
                format!("no image is tagged `{w}` (tags: {})", list(&all))
            })?,
    };
    let config_path = item
        .get("Config")
        .and_then(Value::as_str)
        .ok_or("manifest.json names no Config")?;
    let config = store.read_named(config_path, SMALL_BLOB_LIMIT)?;
    let config_digest = Digest::of(&config);
    // The config's file name is its digest in every docker save format; a mismatch is a
    // tampered archive.
    let named = config_path
        .trim_end_matches(".json")
        .rsplit('/')
        .next()
        .unwrap_or_default();
    if named.len() == 64 && named != config_digest.hex() {
        return Err(format!(
            "{config_path} does not match its name (its content is {config_digest})"
        ));
    }
    let diff_ids = diff_ids(&config)?;
    let paths: Vec<&str> = item
        .get("Layers")
        .and_then(Value::as_array)
        .ok_or("manifest.json names no Layers")?
        .iter()
        .map(|l| l.as_str().ok_or("a layer path is not a string"))
        .collect::<Result<_, _>>()?;
    if paths.len() != diff_ids.len() {
        return Err(format!(
            "manifest.json has {} layers, the config's rootfs.diff_ids {}",
            paths.len(),
            diff_ids.len()
        ));
    }
    let layers = paths
        .into_iter()
        .zip(diff_ids)
        .map(|(path, diff_id)| Layer {
            path: path.to_owned(),
            blob: None,
            diff_id: Some(diff_id),
            // Older docker saves plain tars; newer ones may compress: found by magic.
            compression: None,
        })
        .collect();
    Ok(Image {
        reference: name,
        store,
        config,
        config_digest,
        layers,
    })
}

/// A layer's tar stream: decompressed, the uncompressed bytes checked against the diff id and
/// the blob against its digest when `finish` reads the rest.
struct LayerStream<'a> {
    tar: Verified<Box<dyn Read + 'a>>,
}

impl Read for LayerStream<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.tar.read(buf)
    }
}

impl LayerRead for LayerStream<'_> {
    fn finish(self: Box<Self>) -> io::Result<()> {
        // Drains the tar (checks the diff id), which drains the decompressor, which reads the
        // blob to its end (checks its digest).
        self.tar.finish()
    }
}

impl LayerSource for Image {
    fn count(&self) -> usize {
        self.layers.len()
    }

    fn name(&self, index: usize) -> String {
        match self.layers.get(index) {
            Some(Layer {
                blob: Some((d, _)), ..
            }) => format!("{}: layer {d}", self.reference),
            Some(l) => format!("{}: layer {}", self.reference, l.path),
            None => format!("{}: layer {index}", self.reference),
        }
    }

    fn open(&self, index: usize) -> io::Result<Box<dyn LayerRead + '_>> {
        let layer = self
            .layers
            .get(index)
            .ok_or_else(|| io::Error::other(format!("no layer {index}")))?;
        let raw = self.store.open(&layer.path).map_err(io::Error::other)?;
        let blob: Box<dyn Read + '_> = match &layer.blob {
            Some((digest, size)) => Box::new(Verified::new(
                raw,
                digest.clone(),
                Some(*size),
                format!("layer {digest}"),
            )),
            None => raw,
        };
        let mut blob = io::BufReader::with_capacity(1 << 16, blob);
        let compression = match layer.compression {
            Some(c) => c,
            None => {
                use io::BufRead;
                match blob.fill_buf()? {
                    [0x1f, 0x8b, ..] => Compression::Gzip,
                    [0x28, 0xb5, 0x2f, 0xfd, ..] => Compression::Zstd,
                    _ => Compression::None,
                }
            }
        };
        let tar: Box<dyn Read + '_> = match compression {
            Compression::None => Box::new(blob),
            // Both decoders read their input to its end (every gzip member, every zstd
            // frame), so the blob's digest is checked when the tar's end is drained.
            Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(blob)),
            Compression::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(blob)?),
        };
        let diff_id = layer
            .diff_id
            .clone()
            .ok_or_else(|| io::Error::other("a layer without a diff id"))?;
        Ok(Box::new(LayerStream {
            tar: Verified::new(
                tar,
                diff_id.clone(),
                None,
                format!("uncompressed layer {diff_id}"),
            ),
        }))
    }
}

/// An image opened for a plan's `pack-rootfs` step: the source as the plan names it, the
/// image found and its config verified, and its layers read once (every blob checked against
/// its digest, every layer against its `diff_id`) into the index the template is written from.
pub struct Opened {
    pub source: translator::emit::plan::ImageSource,
    pub image: Image,
    pub index: crate::pack::LayerIndex,
}

impl Opened {
    /// Opens and indexes the image `source` names, keeping [`ACCOUNT_FILES`] for the
    /// conversion. The reference is parsed here, where it is used, whoever wrote it.
    pub fn open(source: &translator::emit::plan::ImageSource) -> Result<Opened, ImageError> {
        let err = |message: String| ImageError {
            image: source.reference.clone(),
            message,
        };
        let reference = ImageRef::parse(&source.reference).map_err(err)?;
        let platform = source
            .platform
            .as_deref()
            .map(Platform::parse)
            .transpose()
            .map_err(err)?;
        let image = Image::open(&reference, platform.as_ref())?;
        let index =
            crate::pack::index_layers(&image, &ACCOUNT_FILES).map_err(|e| err(e.to_string()))?;
        Ok(Opened {
            source: source.clone(),
            image,
            index,
        })
    }
}

impl std::fmt::Debug for Opened {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Opened")
            .field("source", &self.source)
            .field("config_digest", &self.image.config_digest)
            .field("entries", &self.index.len())
            .finish()
    }
}

/// Paths of the image config the conversion reads from the layers.
pub const ACCOUNT_FILES: [&str; 2] = ["/etc/passwd", "/etc/group"];

/// Where an image reference's files are, for messages.
pub fn describe(reference: &ImageRef) -> PathBuf {
    match reference {
        ImageRef::Layout { dir, .. } => dir.clone(),
        ImageRef::OciArchive { file, .. } | ImageRef::DockerArchive { file, .. } => file.clone(),
    }
}
