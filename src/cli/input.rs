//! Reading a config: a bundle directory, a config.json path, or `-` (stdin).
//!
//! A bundle directory is opened once and its config.json read from that descriptor without
//! following symlinks, as `create` reads it (`executor::bundle`): lint, convert and create
//! share one reader, so none of them can be made to block on a FIFO, read a device or follow
//! a link out of the bundle.

use std::io::Read;
use std::path::{Path, PathBuf};

use executor::bundle::{self, Bundle, BundleError};

use super::Failure;

/// The most we read from one config; far above any real one, and it bounds memory.
pub const MAX_CONFIG_BYTES: u64 = 256 * 1024 * 1024;

pub struct ConfigInput {
    /// The name diagnostics show.
    pub name: String,
    pub bytes: Vec<u8>,
    /// The bundle directory, when the config came from one.
    pub bundle: Option<PathBuf>,
}

/// The file name `lint -` looks for a project config beside (in the working directory).
pub const CONFIG_NAME: &str = bundle::CONFIG;

/// A config named on the command line: `-` (stdin), a bundle directory, or a file.
pub fn read(arg: &str) -> Result<ConfigInput, Failure> {
    if arg == "-" {
        return read_stdin("<stdin>")
            .map_err(|u| Failure::usage(format!("{}: {}", u.name, u.reason)));
    }
    let path = Path::new(arg);
    let meta = std::fs::metadata(path).map_err(|source| Failure::io(path, source))?;
    if meta.is_dir() {
        let b = Bundle::open(path).map_err(|e| Failure::usage(format!("{arg}: {}", reason(e))))?;
        let name = path.join(bundle::CONFIG).display().to_string();
        return read_bundle(&b, name, path.to_path_buf());
    }
    read_file(path).map_err(|u| Failure::usage(format!("{}: {}", u.name, u.reason)))
}

/// A config file that could not be read: its name and the reason, apart, because `lint`
/// shows the reason under the name it already printed.
pub struct Unreadable {
    pub name: String,
    pub reason: String,
}

/// Standard input, at most [`MAX_CONFIG_BYTES`]; `name` is what diagnostics call it.
pub fn read_stdin(name: &str) -> Result<ConfigInput, Unreadable> {
    let unreadable = |reason: String| Unreadable {
        name: name.to_string(),
        reason,
    };
    let mut bytes = Vec::new();
    std::io::stdin()
        .take(MAX_CONFIG_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| unreadable(e.to_string()))?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err(unreadable(too_large()));
    }
    Ok(ConfigInput {
        name: name.to_string(),
        bytes,
        bundle: None,
    })
}

/// A config file (not a directory): what `read` does for a file, and what `lint` does for
/// every config it found.
pub fn read_file(path: &Path) -> Result<ConfigInput, Unreadable> {
    let name = path.display().to_string();
    match read_config_file(path) {
        Ok(bytes) => Ok(ConfigInput {
            name,
            bytes,
            bundle: path.parent().map(Path::to_path_buf),
        }),
        Err(reason) => Err(Unreadable { name, reason }),
    }
}

/// The config of an opened bundle; `name` is what diagnostics call it.
pub fn read_bundle(b: &Bundle, name: String, dir: PathBuf) -> Result<ConfigInput, Failure> {
    let bytes = b
        .read_config(MAX_CONFIG_BYTES)
        .map_err(|e| Failure::usage(format!("{name}: {}", reason(e))))?;
    Ok(ConfigInput {
        name,
        bytes,
        bundle: Some(dir),
    })
}

/// A `config.json` is read as a bundle's (from its directory, not through a symlink); any
/// other file is the one the operator named. The error is the reason alone.
fn read_config_file(path: &Path) -> Result<Vec<u8>, String> {
    let in_bundle = path.file_name().is_some_and(|n| n == bundle::CONFIG);
    let read = match path.parent() {
        Some(dir) if in_bundle => {
            let dir = if dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                dir
            };
            Bundle::open(dir).and_then(|b| b.read_config(MAX_CONFIG_BYTES))
        }
        _ => bundle::read_path(path, MAX_CONFIG_BYTES),
    };
    read.map_err(reason)
}

fn too_large() -> String {
    format!(
        "larger than {} MiB; refusing to read it",
        MAX_CONFIG_BYTES >> 20
    )
}

/// The reason part of a message (the caller names the file).
fn reason(e: BundleError) -> String {
    match e {
        BundleError::Symlink { .. } => {
            "config.json is a symbolic link; a bundle's config must be a regular file inside it"
                .into()
        }
        BundleError::NotRegular {
            kind: "directory", ..
        } => "not a regular file".into(),
        BundleError::NotRegular { kind, .. } => format!("not a regular file but a {kind}"),
        BundleError::TooLarge { .. } => too_large(),
        BundleError::Io { source, .. } => source.to_string(),
        e => e.to_string(),
    }
}
