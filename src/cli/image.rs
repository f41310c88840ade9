//! `--image REF`: an OCI image as the input of `convert` (and `--to bundle`, which writes the
//! bundle an image gives). The image is found and verified by `executor::image`, its config
//! converted by `translator::image` (image-spec `conversion.md`) with the accounts read from
//! its merged layers, and the runtime config goes through the same stages as a bundle's.

use std::path::Path;

use executor::image::{ImageRef, Opened, Platform, ACCOUNT_FILES};
use executor::pack::{write_layers_tar, PackConfig, Progress};
use translator::emit::plan::ImageSource;
use translator::image::{
    image_to_oci, Accounts, Converted, ImageParts, VolumeSpec, DEFAULT_VOLUME_GIB,
};

use super::input::ConfigInput;
use super::render::{self, DiagFormat};
use super::{ColorChoice, Failure, EXIT_REFUSED};

/// An image, opened and verified, its layers indexed, its config converted.
pub struct Loaded {
    pub image: Opened,
    pub converted: Converted,
}

/// The image `reference` names with its path made absolute, and `--platform`: what a plan
/// records (the plan may be applied from another directory).
pub fn source(reference: &str, platform: Option<&str>) -> Result<ImageSource, Failure> {
    let r = ImageRef::parse(reference).map_err(Failure::usage)?;
    if let Some(p) = platform {
        Platform::parse(p).map_err(Failure::usage)?;
    }
    Ok(ImageSource {
        reference: r.absolute().map_err(Failure::usage)?.to_string(),
        platform: platform.map(str::to_owned),
    })
}

/// `--volume-size`: whole GiB (`4`, `4G`, `4GiB`), at least 1, as Proxmox allocates a new
/// mount point volume (`STORAGE:SIZE`, in GiB).
pub fn parse_volume_size(s: &str) -> Result<u32, String> {
    let digits = s
        .strip_suffix("GiB")
        .or_else(|| s.strip_suffix('G'))
        .unwrap_or(s);
    match digits.parse::<u32>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!(
            "`{s}` is not a volume size in whole GiB (e.g. 1G, 20G)"
        )),
    }
}

/// Where the image's volumes go on this target: new volumes on the root file system's
/// storage, none for a host-directory root file system.
pub fn volume_spec(target: &translator::Target, size_gib: Option<u32>) -> Option<VolumeSpec> {
    match &target.rootfs {
        translator::target::RootfsTarget::Volume { storage, .. } => Some(VolumeSpec {
            storage: storage.clone(),
            size_gib: size_gib.unwrap_or(DEFAULT_VOLUME_GIB),
        }),
        translator::target::RootfsTarget::HostPath => None,
    }
}

/// Opens `reference` (`--platform` picks from an index), reads every layer once (digests
/// checked, `/etc/passwd` and `/etc/group` kept) and converts the config; `volumes` says
/// where its `Volumes` become mount points.
pub fn load(
    reference: &str,
    platform: Option<&str>,
    volumes: Option<&VolumeSpec>,
) -> Result<Loaded, Failure> {
    let image =
        Opened::open(&source(reference, platform)?).map_err(|e| Failure::usage(e.to_string()))?;
    let accounts = Accounts::parse(
        image.index.file(ACCOUNT_FILES[0]),
        image.index.file(ACCOUNT_FILES[1]),
    )
    .with_notes(
        image.index.uncaptured(ACCOUNT_FILES[0]),
        image.index.uncaptured(ACCOUNT_FILES[1]),
    );
    let name = format!("{reference} (image config {})", image.image.config_digest);
    let converted = image_to_oci(ImageParts {
        name: &name,
        config: &image.image.config,
        accounts: &accounts,
        volumes,
    });
    Ok(Loaded { image, converted })
}

impl Loaded {
    /// Prints the conversion's findings; the runtime config as the input of the next stage,
    /// or exit 1 when the image was refused.
    pub fn into_input(
        self,
        reference: &str,
        format: DiagFormat,
        color: ColorChoice,
    ) -> Result<(ConfigInput, Opened, Vec<String>), u8> {
        let mut diagnostics = self.converted.diagnostics;
        if super::quiet() {
            diagnostics.retain(|d| d.severity == translator::Severity::Error);
        }
        render::emit(&diagnostics, &self.converted.source, format, color);
        let Some(config) = self.converted.runtime_config else {
            return Err(EXIT_REFUSED);
        };
        let input = ConfigInput {
            name: format!("{reference} (config.json)"),
            bytes: config.into_bytes(),
            bundle: None,
        };
        Ok((input, self.image, self.converted.volumes))
    }
}

/// Writes the bundle an image gives: `dir/config.json` and `dir/rootfs`, the layers merged as
/// a template would have them (one more read of every layer; nothing else on disk). `dir`
/// must not exist or be empty, so nothing of the caller's is overwritten.
pub fn write_bundle(image: &Opened, config: &[u8], dir: &Path) -> Result<(), Failure> {
    let io = |what: &str, e: std::io::Error| {
        Failure::usage(format!("{}: cannot {what}: {e}", dir.display()))
    };
    match std::fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(Failure::usage(format!(
                    "{}: not empty; the bundle is written into a new or empty directory",
                    dir.display()
                )));
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir).map_err(|e| io("create it", e))?
        }
        Err(e) => return Err(io("read it", e)),
    }
    let rootfs = dir.join("rootfs");
    std::fs::create_dir(&rootfs).map_err(|e| io("create rootfs", e))?;
    let pack = PackConfig {
        progress: Progress::Never,
        ..PackConfig::default()
    };
    // The merged stream goes through a pipe into tar's unpacker, which keeps every name
    // inside `rootfs` (the stream has no `..`, and `unpack` refuses links out).
    let (reader, writer) = std::io::pipe().map_err(|e| io("make a pipe", e))?;
    let unpacked = std::thread::scope(|s| {
        let unpacker = s.spawn(move || {
            let mut a = tar::Archive::new(reader);
            a.set_preserve_permissions(true);
            // SAFETY: geteuid cannot fail and touches no memory.
            a.set_preserve_ownerships(unsafe { libc::geteuid() } == 0);
            a.set_unpack_xattrs(false);
            a.unpack(&rootfs)
        });
        let written =
            write_layers_tar(&image.image, &image.index, writer, &pack).map(|(w, _)| drop(w));
        (written, unpacker.join())
    });
    match unpacked {
        (Err(e), _) => return Err(Failure::usage(e.to_string())),
        (Ok(()), Ok(Err(e))) => return Err(io("unpack the layers", e)),
        (Ok(()), Err(_)) => return Err(Failure::usage("the unpacking thread panicked")),
        (Ok(()), Ok(Ok(()))) => {}
    }
    std::fs::write(dir.join("config.json"), config).map_err(|e| io("write config.json", e))
}
