fn main() -> std::process::ExitCode {
    proxmox_lxcri::cli::main()
}
