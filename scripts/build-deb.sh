#!/bin/sh
# Builds the Debian package: target/debian/proxmox-lxcri_<version>-1_<arch>.deb.
# Needs cargo-deb (`cargo install cargo-deb --locked`) and dpkg-dev (build-essential).
# The man pages and completions are generated from the command line's definition first
# (examples/gen-assets.rs), into packaging/generated/, which [package.metadata.deb] packages.
set -eu
cd "$(dirname "$0")/.."
cargo run --quiet --locked --example gen-assets -- packaging/generated
# Debian installs man pages compressed (policy 12.1); -n keeps the build reproducible.
gzip -9nf packaging/generated/man/*.1
exec cargo deb --locked "$@"
