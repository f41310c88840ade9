#!/bin/sh
# Builds ./rootfs for this bundle from the host's busybox-static
# (Debian: apt-get install busybox-static). Nothing binary is committed.
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
mkdir -p "$rootfs/bin" "$rootfs/etc" "$rootfs/dev" "$rootfs/proc" "$rootfs/sys" \
    "$rootfs/run" "$rootfs/tmp" "$rootfs/srv/www/data"
chmod 1777 "$rootfs/tmp"
cp "$busybox" "$rootfs/bin/busybox"
for applet in $("$busybox" --list); do
    [ "$applet" = busybox ] || ln -s busybox "$rootfs/bin/$applet"
done

# The user the process runs as (process.user 1000:1000 in config.json).
cat > "$rootfs/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
app:x:1000:1000:app:/srv/www:/bin/sh
nobody:x:65534:65534:nobody:/:/bin/false
PASSWD
cat > "$rootfs/etc/group" <<'GROUP'
root:x:0:
app:x:1000:
nogroup:x:65534:
GROUP

cat > "$rootfs/srv/www/index.html" <<'HTML'
<!doctype html>
<title>hello-app</title>
<p>Hello from an OCI bundle running as a Proxmox VE container.</p>
HTML
# A CGI script shows what the container sees: user, working directory, environment.
mkdir -p "$rootfs/srv/www/cgi-bin"
cat > "$rootfs/srv/www/cgi-bin/env" <<'CGI'
#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\n'
echo "id: $(id)"
echo "GREETING: ${GREETING:-unset}"
echo "data: $(ls /srv/www/data 2>&1)"
CGI
chmod 0755 "$rootfs/srv/www/cgi-bin/env"

echo "rootfs ready: $rootfs"
