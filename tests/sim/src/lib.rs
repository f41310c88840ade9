//! Proxmox simulator (tests only).
