//! Writes what the Debian package installs besides the binary, from the command line's own
//! definition (`cli::help::command`, the layout the program parses with): a man page per
//! command (`proxmox-lxcri.1`, `proxmox-lxcri-convert.1`, …, clap_mangen) and bash, zsh and
//! fish completions (clap_complete). A dev-only example, so that neither crate is linked
//! into the program users run:
//!
//!     cargo run --locked --example gen-assets -- target/assets
//!
//! writes `target/assets/man/*.1` and `target/assets/completions/{proxmox-lxcri.bash,
//! _proxmox-lxcri,proxmox-lxcri.fish}`; `scripts/build-deb.sh` runs it before `cargo deb`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap_complete::Shell;
use proxmox_lxcri::cli::help;

const NAME: &str = "proxmox-lxcri";

fn main() -> ExitCode {
    let Some(out) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: gen-assets <DIR>");
        return ExitCode::from(2);
    };
    match generate(&out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gen-assets: {}: {e}", out.display());
            ExitCode::FAILURE
        }
    }
}

fn generate(out: &std::path::Path) -> std::io::Result<()> {
    let man = out.join("man");
    let completions = out.join("completions");
    // Stale pages of a command that no longer exists must not be packaged.
    for dir in [&man, &completions] {
        if dir.exists() {
            std::fs::remove_dir_all(dir)?;
        }
        std::fs::create_dir_all(dir)?;
    }
    // Every subcommand gets its own page, named as the top page's SEE ALSO names them.
    clap_mangen::generate_to(help::command(), &man)?;
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        clap_complete::generate_to(shell, &mut help::command(), NAME, &completions)?;
    }
    Ok(())
}
