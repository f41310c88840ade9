//! `pveversion` stand-in of the Proxmox VE simulator (tests only).

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    std::process::exit(pve_sim::cli::pveversion::main(args));
}
