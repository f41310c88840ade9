//! Reading a config: a bundle directory, a config.json path, or `-` (stdin).

use std::io::Read;
use std::path::{Path, PathBuf};

use super::InputError;

/// The most we read from one config; far above any real one, and it bounds memory.
pub const MAX_CONFIG_BYTES: u64 = 256 * 1024 * 1024;

pub struct ConfigInput {
    /// The name diagnostics show.
    pub name: String,
    pub bytes: Vec<u8>,
    /// The bundle directory, when the config came from one.
    pub bundle: Option<PathBuf>,
}

pub fn read(arg: &str) -> Result<ConfigInput, InputError> {
    if arg == "-" {
        let mut bytes = Vec::new();
        std::io::stdin()
            .take(MAX_CONFIG_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|source| InputError::Io { path: "<stdin>".into(), source })?;
        check_size("<stdin>", bytes.len() as u64)?;
        return Ok(ConfigInput { name: "<stdin>".into(), bytes, bundle: None });
    }
    let path = Path::new(arg);
    let meta = std::fs::metadata(path).map_err(|source| InputError::Io { path: arg.into(), source })?;
    let (file, bundle) = if meta.is_dir() {
        let file = path.join("config.json");
        let link = std::fs::symlink_metadata(&file).map_err(|source| InputError::Io { path: file.display().to_string(), source })?;
        if link.file_type().is_symlink() {
            return Err(InputError::Usage(format!(
                "{}: config.json is a symbolic link; a bundle's config must be a regular file inside it",
                file.display()
            )));
        }
        (file, Some(path.to_path_buf()))
    } else {
        (path.to_path_buf(), path.parent().map(Path::to_path_buf))
    };
    let name = file.display().to_string();
    // Opening a FIFO blocks until something writes to it: look before opening.
    let kind = std::fs::metadata(&file).map_err(|source| InputError::Io { path: name.clone(), source })?;
    if !kind.is_file() {
        return Err(InputError::Usage(format!("{name}: not a regular file")));
    }
    let f = std::fs::File::open(&file).map_err(|source| InputError::Io { path: name.clone(), source })?;
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    if !f.metadata().map(|m| m.is_file()).unwrap_or(false) {
        return Err(InputError::Usage(format!("{name}: not a regular file")));
    }
    check_size(&name, len)?;
    let mut bytes = Vec::with_capacity(len as usize);
    f.take(MAX_CONFIG_BYTES + 1).read_to_end(&mut bytes).map_err(|source| InputError::Io { path: name.clone(), source })?;
    check_size(&name, bytes.len() as u64)?;
    Ok(ConfigInput { name, bytes, bundle })
}

fn check_size(name: &str, len: u64) -> Result<(), InputError> {
    if len > MAX_CONFIG_BYTES {
        return Err(InputError::Usage(format!("{name}: larger than {} MiB; refusing to read it", MAX_CONFIG_BYTES >> 20)));
    }
    Ok(())
}
