//! OS type and architecture detection after a template is unpacked (LXC/Setup.pm,
//! LXC/Tools.pm `detect_elf_architecture`).
//!
//! Proxmox does this in a forked child that `chroot`s into the rootfs. The simulator resolves
//! paths inside the rootfs itself (symlinks followed relative to the rootfs), which gives the
//! same answers without a chroot.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

/// Plugin names Setup.pm knows (`openeuler` is known there but not in the `ostype` enum).
const PLUGINS: [&str; 12] = [
    "alpine",
    "archlinux",
    "centos",
    "debian",
    "devuan",
    "fedora",
    "gentoo",
    "openeuler",
    "opensuse",
    "ubuntu",
    "nixos",
    "unmanaged",
];

const ALIASES: [(&str, &str); 8] = [
    ("opensuse-leap", "opensuse"),
    ("opensuse-tumbleweed", "opensuse"),
    ("opensuse-slowroll", "opensuse"),
    ("openEuler", "openeuler"),
    ("arch", "archlinux"),
    ("sles", "opensuse"),
    ("rocky", "centos"),
    ("almalinux", "centos"),
];

/// Resolves `path` inside `root` as a chrooted process would (absolute symlinks are relative to
/// `root`, `..` never leaves it).
pub fn resolve_in_root(root: &Path, path: &str) -> Option<PathBuf> {
    let mut parts: Vec<String> = Vec::new();
    let mut pending: Vec<String> = path
        .split('/')
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .rev()
        .collect();
    let mut hops = 0;
    while let Some(part) = pending.pop() {
        match part.as_str() {
            "." => continue,
            ".." => {
                parts.pop();
                continue;
            }
            _ => {}
        }
        let candidate: PathBuf = root.join(parts.iter().collect::<PathBuf>()).join(&part);
        match fs::symlink_metadata(&candidate) {
            Ok(meta) if meta.file_type().is_symlink() => {
                hops += 1;
                if hops > 40 {
                    return None;
                }
                let target = fs::read_link(&candidate).ok()?;
                if target.is_absolute() {
                    parts.clear();
                }
                let comps: Vec<String> = target
                    .components()
                    .filter_map(|c| match c {
                        Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
                        Component::ParentDir => Some("..".into()),
                        _ => None,
                    })
                    .collect();
                for c in comps.into_iter().rev() {
                    pending.push(c);
                }
            }
            _ => parts.push(part),
        }
    }
    Some(root.join(parts.iter().collect::<PathBuf>()))
}

fn is_file_in_root(root: &Path, path: &str) -> bool {
    resolve_in_root(root, path).is_some_and(|p| p.is_file())
}

/// Setup.pm's os-release parser: `KEY=value`, `KEY='value'`, `KEY="value"` (with escapes).
pub fn parse_os_release(data: &str) -> BTreeMap<String, String> {
    let mut vars = BTreeMap::new();
    for line in data.lines() {
        let line = line.trim_start();
        let Some((var, content)) = line.split_once('=') else {
            continue;
        };
        let valid_name = var
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid_name {
            continue;
        }
        let value = if let Some(rest) = content.strip_prefix('\'') {
            rest.split('\'').next().unwrap_or("").to_string()
        } else if let Some(rest) = content.strip_prefix('"') {
            let mut out = String::new();
            let mut chars = rest.chars();
            let mut closed = false;
            while let Some(c) = chars.next() {
                match c {
                    '"' => {
                        closed = true;
                        break;
                    }
                    '\\' => match chars.next() {
                        Some(n @ ('"' | '\'' | '`' | '$' | '\\')) => out.push(n),
                        Some('n') => out.push('\n'),
                        Some('t') => out.push('\t'),
                        Some(other) => {
                            out.push('\\');
                            out.push(other);
                        }
                        None => break,
                    },
                    other => out.push(other),
                }
            }
            if !closed {
                continue;
            }
            out
        } else {
            content
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect()
        };
        vars.insert(var.to_string(), value);
    }
    vars
}

/// The outcome of OS detection, with what Proxmox prints on the way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detected {
    pub ostype: String,
    pub warnings: Vec<String>,
}

/// Setup.pm `new` + `$autodetect_type`: the plugin type for the rootfs. An os-release with an
/// unknown ID and no marker file is an error ("unable to detect OS distribution").
pub fn detect_ostype(root: &Path, configured: Option<&str>) -> Result<Detected, String> {
    let mut warnings = Vec::new();
    if configured == Some("unmanaged") {
        return Ok(Detected {
            ostype: "unmanaged".into(),
            warnings,
        });
    }
    let os_release = ["/etc/os-release", "/usr/lib/os-release"]
        .iter()
        .find_map(|p| resolve_in_root(root, p).filter(|p| p.is_file()))
        .and_then(|p| fs::read_to_string(p).ok())
        .map(|t| parse_os_release(&t))
        .unwrap_or_default();

    let mut detected: Option<String> = None;
    if let Some(id) = os_release.get("ID").filter(|id| !id.is_empty()) {
        if PLUGINS.contains(&id.as_str()) {
            detected = Some(id.clone());
        } else if let Some((_, alias)) = ALIASES.iter().find(|(a, _)| a == id) {
            detected = Some((*alias).to_string());
        } else {
            warnings.push(format!(
                "unknown ID '{id}' in /etc/os-release file, trying fallback detection\n"
            ));
        }
    }
    let ostype = match detected {
        Some(t) => t,
        None => fallback(root, &mut warnings)?,
    };
    let expected = configured.unwrap_or(&ostype);
    if ostype != expected {
        if !root.join("etc").exists() {
            warnings.push("WARNING: /etc not present in CT, is the rootfs mounted?\n".into());
        }
        warnings.push(format!("got unexpected ostype ({ostype} != {expected})\n"));
    }
    Ok(Detected { ostype, warnings })
}

fn fallback(root: &Path, warnings: &mut Vec<String>) -> Result<String, String> {
    if let Some(p) = resolve_in_root(root, "/etc/lsb-release").filter(|p| p.is_file()) {
        let data = fs::read_to_string(p).unwrap_or_default();
        if data
            .lines()
            .any(|l| l.eq_ignore_ascii_case("DISTRIB_ID=Ubuntu"))
        {
            return Ok("ubuntu".into());
        }
    }
    let f = |p: &str| is_file_in_root(root, p);
    let t = if f("/etc/debian_version") {
        "debian"
    } else if f("/etc/devuan_version") {
        "devuan"
    } else if f("/etc/SuSE-brand") || f("/etc/SuSE-release") {
        "opensuse"
    } else if f("/etc/fedora-release") {
        "fedora"
    } else if f("/etc/centos-release") || f("/etc/redhat-release") {
        "centos"
    } else if f("/etc/arch-release") {
        "archlinux"
    } else if f("/etc/alpine-release") {
        "alpine"
    } else if f("/etc/gentoo-release") {
        "gentoo"
    } else if resolve_in_root(root, "/nix/store").is_some_and(|p| p.is_dir()) {
        "nixos"
    } else if f("/etc/openEuler-release") {
        "openeuler"
    } else if f("/etc/os-release") {
        return Err("unable to detect OS distribution\n".into());
    } else {
        warnings.push(
            "/etc/os-release file not found and autodetection failed, falling back to 'unmanaged'\n".into(),
        );
        "unmanaged"
    };
    Ok(t.to_string())
}

/// `detect_elf_architecture('/bin/sh')` inside the rootfs.
pub fn detect_architecture(root: &Path) -> Result<String, String> {
    let elf = "/bin/sh";
    let path = resolve_in_root(root, elf)
        .ok_or_else(|| format!("open '{elf}' failed: too many symlinks\n"))?;
    let mut file = fs::File::open(&path).map_err(|e| format!("open '{elf}' failed: {e}\n"))?;
    let mut header = [0u8; 20];
    let n = file
        .read(&mut header)
        .map_err(|e| format!("read failed: {e}\n"))?;
    if n < 19 || header.get(0..4) != Some(b"\x7fELF".as_slice()) {
        return Err(format!("'{elf}' does not resolve to an ELF!\n"));
    }
    let class = header.get(4).copied().unwrap_or(0);
    // Proxmox unpacks "A4CA12n": the big-endian u16 at bytes 17..19. On a little-endian ELF that
    // is the high byte of e_type (0) and the low byte of e_machine, which is the machine number
    // for every architecture it knows.
    let machine = u16::from_be_bytes([
        header.get(17).copied().unwrap_or(0),
        header.get(18).copied().unwrap_or(0),
    ]);
    let Some(arch) = machine_name(machine) else {
        return Err(format!("'{elf}' has unknown ELF machine '{machine}'!\n"));
    };
    if arch == "riscv" {
        return match class {
            1 => Ok("riscv32".into()),
            2 => Ok("riscv64".into()),
            c => Err(format!("'{elf}' has invalid class '{c}'!\n")),
        };
    }
    Ok(arch.to_string())
}

fn machine_name(m: u16) -> Option<&'static str> {
    match m {
        0x03 => Some("i386"),
        0x3e => Some("amd64"),
        0x28 => Some("armhf"),
        0xb7 => Some("arm64"),
        0xf3 => Some("riscv"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_release_quoting() {
        let v =
            parse_os_release("ID=alpine\nNAME=\"Alpine \\\"Linux\\\"\"\nVERSION_ID='3.20'\n#x=y\n");
        assert_eq!(v["ID"], "alpine");
        assert_eq!(v["NAME"], "Alpine \"Linux\"");
        assert_eq!(v["VERSION_ID"], "3.20");
    }

    #[test]
    fn detection_order_and_fallbacks() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let d = detect_ostype(root, None).unwrap();
        assert_eq!(d.ostype, "unmanaged");
        assert!(d.warnings[0].contains("falling back to 'unmanaged'"));

        fs::create_dir_all(root.join("etc")).unwrap();
        fs::write(root.join("etc/os-release"), "ID=plan9\n").unwrap();
        assert_eq!(
            detect_ostype(root, None).unwrap_err(),
            "unable to detect OS distribution\n"
        );
        fs::write(root.join("etc/alpine-release"), "3.20\n").unwrap();
        assert_eq!(detect_ostype(root, None).unwrap().ostype, "alpine");
        fs::write(root.join("etc/os-release"), "ID=rocky\n").unwrap();
        assert_eq!(detect_ostype(root, None).unwrap().ostype, "centos");
        assert_eq!(
            detect_ostype(root, Some("unmanaged")).unwrap().ostype,
            "unmanaged"
        );
        let d = detect_ostype(root, Some("debian")).unwrap();
        assert_eq!(d.ostype, "centos");
        assert!(d
            .warnings
            .iter()
            .any(|w| w == "got unexpected ostype (centos != debian)\n"));
    }

    #[test]
    fn symlinks_resolve_inside_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("bin")).unwrap();
        fs::create_dir_all(root.join("usr/lib")).unwrap();
        fs::write(root.join("usr/lib/os-release"), "ID=debian\n").unwrap();
        std::os::unix::fs::symlink("/usr/lib/os-release", root.join("etc-os")).unwrap();
        let p = resolve_in_root(root, "/etc-os").unwrap();
        assert_eq!(p, root.join("usr/lib/os-release"));
        std::os::unix::fs::symlink("../../../../busybox", root.join("bin/sh")).unwrap();
        assert_eq!(
            resolve_in_root(root, "/bin/sh").unwrap(),
            root.join("busybox")
        );
    }
}
