#!/bin/sh
# Builds ./rootfs for this bundle from the host's busybox-static
# (Debian: apt-get install busybox-static): busybox init as PID 1, a DHCP
# client for eth0 and an httpd service. Nothing binary is committed.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
rootfs="$here/rootfs"
busybox=${BUSYBOX:-/bin/busybox}

if ! "$busybox" --list >/dev/null 2>&1; then
    echo "make-rootfs.sh: $busybox is not a busybox binary (install busybox-static)" >&2
    exit 1
fi
# ldd succeeds only on dynamically linked programs; the container has no libc.
if LC_ALL=C ldd "$busybox" >/dev/null 2>&1; then
    echo "make-rootfs.sh: $busybox is dynamically linked; use busybox-static" >&2
    exit 1
fi

rm -rf "$rootfs"
mkdir -p "$rootfs/bin" "$rootfs/sbin" "$rootfs/etc/udhcpc" "$rootfs/dev" "$rootfs/proc" "$rootfs/sys" \
    "$rootfs/run" "$rootfs/tmp" "$rootfs/var/log" "$rootfs/root" "$rootfs/srv/www"
chmod 1777 "$rootfs/tmp"
chmod 0700 "$rootfs/root"
cp "$busybox" "$rootfs/bin/busybox"
for applet in $("$busybox" --list); do
    [ "$applet" = busybox ] || ln -s busybox "$rootfs/bin/$applet"
done
ln -s ../bin/busybox "$rootfs/sbin/init"

cat > "$rootfs/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/:/bin/false
PASSWD
cat > "$rootfs/etc/group" <<'GROUP'
root:x:0:
nogroup:x:65534:
GROUP

# busybox init: no getty (the Proxmox console attaches to /dev/console);
# SIGPWR, which `pct shutdown` sends to a system container, halts.
cat > "$rootfs/etc/inittab" <<'INITTAB'
::sysinit:/bin/echo "system-init: starting"
::respawn:/bin/udhcpc -f -i eth0 -s /etc/udhcpc/default.script
::respawn:/bin/httpd -f -p 80 -h /srv/www
::shutdown:/bin/echo "system-init: stopping"
INITTAB

# Proxmox does not configure the network of an `unmanaged` container, so
# init runs busybox's DHCP client; this script applies what it leases.
cat > "$rootfs/etc/udhcpc/default.script" <<'DHCP'
#!/bin/sh
case "$1" in
    deconfig)
        ip addr flush dev "$interface"
        ip link set "$interface" up
        ;;
    bound|renew)
        ip addr flush dev "$interface"
        ip addr add "$ip/${mask:-24}" dev "$interface"
        if [ -n "${router:-}" ]; then
            ip route replace default via "${router%% *}" dev "$interface"
        fi
        : > /etc/resolv.conf
        for server in ${dns:-}; do
            echo "nameserver $server" >> /etc/resolv.conf
        done
        ;;
esac
DHCP
chmod 0755 "$rootfs/etc/udhcpc/default.script"

cat > "$rootfs/srv/www/index.html" <<'HTML'
<!doctype html>
<title>system-init</title>
<p>Hello from a busybox system container on Proxmox VE.</p>
HTML

echo "rootfs ready: $rootfs"
