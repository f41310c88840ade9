//! Records the git commit for `-v`/`--version` (runc prints its commit the same way).
//! Outside a git checkout (a source tarball) the commit is `unknown`.
//!
//! Release builds for glibc 2.36 or later (Debian 12, Proxmox VE 8 and 9) also pack the
//! binary's relative relocations (`-z pack-relative-relocs`, DT_RELR): the position-independent
//! binary has some 17,000 of them, and the dynamic loader reading 400 KB of RELA entries at
//! every start was a tenth of a `convert`'s time (README, "Binary size and start-up"). The
//! linker then records a dependency on glibc's `GLIBC_ABI_DT_RELR`, so an older glibc refuses
//! the binary at load instead of running it unrelocated; ASLR is kept.

use std::process::Command;

fn main() {
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
    };
    let commit = git(&["rev-parse", "HEAD"]).unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=PROXMOX_LXCRI_COMMIT={commit}");
    // Rebuilt when HEAD moves (a worktree's HEAD lives in its own git dir).
    if let Some(dir) = git(&["rev-parse", "--git-dir"]) {
        println!("cargo:rerun-if-changed={dir}/HEAD");
        println!("cargo:rerun-if-changed={dir}/refs/heads");
    }
    if let Some(dir) = git(&["rev-parse", "--git-common-dir"]) {
        println!("cargo:rerun-if-changed={dir}/refs/heads");
        println!("cargo:rerun-if-changed={dir}/packed-refs");
    }
    println!("cargo:rerun-if-changed=build.rs");
    build_init();
    if relr_supported() {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}

/// A release build, for Linux with glibc, on a build machine whose glibc (the one the binary
/// is linked against) has DT_RELR support (2.36). Debug and test builds are left alone.
fn relr_supported() -> bool {
    let var = |k: &str| std::env::var(k).unwrap_or_default();
    if var("PROFILE") != "release"
        || var("CARGO_CFG_TARGET_OS") != "linux"
        || var("CARGO_CFG_TARGET_ENV") != "gnu"
        || var("HOST") != var("TARGET")
    {
        return false;
    }
    // `glibc 2.36`
    let version = Command::new("getconf")
        .arg("GNU_LIBC_VERSION")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .unwrap_or_default();
    let mut parts = version
        .trim()
        .strip_prefix("glibc ")
        .unwrap_or_default()
        .split('.')
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (major, minor) >= (2, 36)
}

/// `proxmox-lxcri-init` (init/main.rs), the first process of a container an engine creates on
/// the pct back end: a static executable, because it runs inside arbitrary images, which need
/// not have a libc. It uses std and glibc only, so rustc builds it directly (no crates);
/// `+crt-static` links glibc's libc.a (Debian: libc6-dev) into a static-pie executable. The
/// main binary carries the bytes (`proxmox_lxcri::INIT`) and writes them next to the socket
/// it binds into the container.
fn build_init() {
    println!("cargo:rerun-if-changed=init/main.rs");
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let target = std::env::var("TARGET").expect("TARGET");
    let status = Command::new(rustc)
        .args(["--edition", "2021", "--crate-name", "proxmox_lxcri_init"])
        .args(["--target", &target])
        .args(["-C", "target-feature=+crt-static", "-C", "panic=abort"])
        .args([
            "-C",
            "opt-level=s",
            "-C",
            "strip=symbols",
            "-C",
            "codegen-units=1",
        ])
        .arg("-o")
        .arg(out.join("proxmox-lxcri-init"))
        .arg("init/main.rs")
        .status()
        .expect("run rustc for init/main.rs");
    assert!(status.success(), "rustc failed on init/main.rs");
}
