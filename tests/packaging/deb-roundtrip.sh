#!/usr/bin/env bash
# Installs the Debian package with `apt-get install ./….deb` and removes it with
# `apt-get purge` in a throwaway root, checking what each leaves behind.
#
# The throwaway root is this machine's own Debian 12 system seen through an overlay (the
# host's / read-only below, a tmpfs above) in a private mount namespace: real apt and dpkg
# with the host's package database, seconds instead of a debootstrap's minutes, no network,
# and nothing written to the host. Run as root under `unshare --mount --propagation private`
# (tests/packaging.rs does), on a Debian machine with the package's dependencies installed.
set -euo pipefail
deb=$(realpath "$1")
fail() { echo "deb-roundtrip: $*" >&2; exit 1; }

w=$(mktemp -d)
mount -t tmpfs tmpfs "$w"
mkdir "$w/upper" "$w/work" "$w/root"
mount -t overlay overlay -o "lowerdir=/,upperdir=$w/upper,workdir=$w/work" "$w/root"
r=$w/root
mount -t proc proc "$r/proc"
mount --rbind /dev "$r/dev"
mount -t tmpfs tmpfs "$r/run"
mount -t tmpfs tmpfs "$r/tmp"
cp "$deb" "$r/tmp/"
in_root() { chroot "$r" "$@"; }

in_root dpkg-query -W proxmox-lxcri >/dev/null 2>&1 && fail "proxmox-lxcri is installed on this machine already"
out=$(DEBIAN_FRONTEND=noninteractive in_root apt-get install -y -q "/tmp/$(basename "$deb")" 2>&1) \
    || { echo "$out"; fail "apt-get install failed"; }
echo "$out" | grep -E '^(W|E): ' && fail "apt-get install warned"

for f in /usr/bin/proxmox-lxcri \
         /usr/share/man/man1/proxmox-lxcri.1.gz /usr/share/man/man1/proxmox-lxcri-convert.1.gz \
         /usr/share/man/man1/proxmox-lxcri-target-detect.1.gz \
         /usr/share/bash-completion/completions/proxmox-lxcri \
         /usr/share/zsh/vendor-completions/_proxmox-lxcri \
         /usr/share/fish/vendor_completions.d/proxmox-lxcri.fish \
         /etc/proxmox-lxcri/target.json /etc/proxmox-lxcri/policy.toml \
         /usr/lib/tmpfiles.d/proxmox-lxcri.conf \
         /usr/share/doc/proxmox-lxcri/copyright /usr/share/doc/proxmox-lxcri/README.md; do
    [ -f "$r$f" ] || fail "$f is not installed"
done
# shellcheck disable=SC2016 # dpkg-query's own ${field} syntax
conffiles=$(in_root dpkg-query -W -f '${Conffiles}' proxmox-lxcri)
for f in /etc/proxmox-lxcri/target.json /etc/proxmox-lxcri/policy.toml; do
    echo "$conffiles" | grep -q " $f " || fail "$f is not a conffile: $conffiles"
done
# The installed program runs, and reads the packaged files as the node's.
in_root proxmox-lxcri --version | grep -q '^pve-container: ' || fail "--version"
shown=$(in_root proxmox-lxcri --verbose target show 2>&1 >/dev/null)
[ "$shown" = "proxmox-lxcri: target: /etc/proxmox-lxcri/target.json (the node's file)" ] \
    || fail "target show: $shown"
# The packaged policy is one the node accepts (root's, not group-writable, valid): lint with
# it exits 0 or 1 for a bundle, never 2.
mkdir -p "$r/tmp/b/rootfs"
echo '{"ociVersion": "1.0.2", "process": {"args": ["/bin/app"], "cwd": "/"}, "root": {"path": "rootfs"}}' \
    > "$r/tmp/b/config.json"
code=0
in_root proxmox-lxcri lint --policy /etc/proxmox-lxcri/policy.toml /tmp/b >/dev/null 2>&1 || code=$?
[ "$code" -le 1 ] || fail "lint with the packaged policy exits $code"
gzip -dc "$r/usr/share/man/man1/proxmox-lxcri.1.gz" | grep -q '^\.TH' || fail "man page is not roff"
if [ -x "$r/usr/bin/systemd-tmpfiles" ]; then
    [ "$(stat -c '%a %U' "$r/run/proxmox-lxcri")" = "700 root" ] || fail "the state directory is not 0700 root"
fi

out=$(DEBIAN_FRONTEND=noninteractive in_root apt-get purge -y -q proxmox-lxcri 2>&1) \
    || { echo "$out"; fail "apt-get purge failed"; }
echo "$out" | grep -E '^(W|E): |dpkg: warning' && fail "apt-get purge warned"
# shellcheck disable=SC2016 # dpkg-query's own ${field} syntax
status=$(in_root dpkg-query -W -f '${db:Status-Abbrev}' proxmox-lxcri 2>/dev/null || true)
case "$status" in ""|"un "*|"pn "*) ;; *) fail "after purge dpkg says: $status" ;; esac
for f in /usr/bin/proxmox-lxcri /etc/proxmox-lxcri /usr/share/doc/proxmox-lxcri \
         /usr/share/man/man1/proxmox-lxcri.1.gz /usr/lib/tmpfiles.d/proxmox-lxcri.conf \
         /run/proxmox-lxcri; do
    [ ! -e "$r$f" ] || fail "$f is left after purge"
done
echo "deb-roundtrip: ok"
