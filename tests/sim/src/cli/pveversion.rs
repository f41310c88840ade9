//! `pveversion --verbose`: the versions of the node's Proxmox packages, as `target detect` reads
//! them.
//!
//! Proxmox's `bin/pveversion` (pve-manager 14a22df3) prints one `print_status` line per package
//! of `PVE::API2::APT->versions`: `<package>: <version>`, `proxmox-ve` first with
//! `(running kernel: <uname -r>)`, then `pve-manager` with `(running version: …)`, then the
//! rest sorted by name (`PVE/API2/APT.pm`, `versions`: `push @list, (sort @pkgs, @opt_pack)`).
//! The simulator knows only the two packages whose behaviour it models (`versions.rs`), so it
//! prints only their lines, in that sorted place; a real node prints some forty more, which a
//! reader must skip. It has no pve-manager, so the non-verbose form (`pve-manager/9.x/hash
//! (running kernel: …)`) is not simulated.

use crate::versions;

/// Entry point. Options follow Getopt::Long's `GetOptions('verbose' => …)`: `--verbose` and
/// `-verbose`, or any unique prefix (`-v`); anything else prints the usage and exits with
/// Perl's `exit(-1)`, 255.
pub fn main(args: Vec<String>) -> i32 {
    let mut verbose = false;
    let mut args = args.iter();
    for a in args.by_ref() {
        if a == "--" {
            break;
        }
        let name = a.strip_prefix("--").or_else(|| a.strip_prefix('-'));
        match name {
            Some(n) if !n.is_empty() && "verbose".starts_with(n) => verbose = true,
            Some(n) => {
                eprintln!("Unknown option: {n}");
                return usage();
            }
            // `scalar(@ARGV) != 0`: no positional arguments.
            None => return usage(),
        }
    }
    // What follows `--` is positional, and `scalar(@ARGV) != 0` refuses it.
    if args.next().is_some() {
        return usage();
    }
    if !verbose {
        eprintln!("pve-sim: 'pveversion' without --verbose is not simulated");
        return 255;
    }
    // Like every simulated command: no state root, no answer (and the node's layout exists
    // once any command ran, as pmxcfs's does on a booted node).
    if let Err(e) = crate::state::Sim::from_env() {
        return super::fail(e);
    }
    let v = match versions::current() {
        Ok(v) => v,
        Err(e) => return super::fail(e),
    };
    print!("{}", verbose_text(v));
    0
}

/// The lines of the packages the simulator models, in `pveversion -v`'s order (sorted by name).
pub fn verbose_text(v: versions::Versions) -> String {
    format!(
        "libpve-common-perl: {}\npve-container: {}\n",
        v.pve_common, v.pve_container
    )
}

fn usage() -> i32 {
    eprintln!("USAGE: pveversion [--verbose]");
    255
}
