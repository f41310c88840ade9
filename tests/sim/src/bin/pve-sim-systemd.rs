//! The simulated node's service manager (tests only): runs `pve-container@<vmid>` units for
//! `pct start` as systemd does; see `pve_sim::service`. Serves `PVE_SIM_ROOT` until killed.

fn main() {
    let root = match std::env::var_os(pve_sim::state::ROOT_ENV) {
        Some(r) if std::path::Path::new(&r).is_absolute() => std::path::PathBuf::from(r),
        _ => {
            eprintln!(
                "pve-sim-systemd: {} must name the state root (absolute)",
                pve_sim::state::ROOT_ENV
            );
            std::process::exit(1);
        }
    };
    if let Err(e) = pve_sim::service::serve(pve_sim::service::Root(root)) {
        eprintln!("pve-sim-systemd: {e}");
        std::process::exit(1);
    }
}
