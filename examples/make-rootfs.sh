#!/usr/bin/env bash
# Build a minimal root filesystem from Debian's static busybox:
#   examples/make-rootfs.sh [DIR]     (default: examples/rootfs)
# Installs busybox-static with apt-get when it is missing. Idempotent.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
dest="${1:-$here/rootfs}"
busybox=/bin/busybox

# The container has no libc of its own: the busybox must be the static build.
if ! dpkg -s busybox-static >/dev/null 2>&1; then
  echo "make-rootfs: installing busybox-static" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq busybox-static >/dev/null
fi

mkdir -p "$dest"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,home,run,var/tmp}
chmod 1777 "$dest/tmp" "$dest/var/tmp"
cp "$busybox" "$dest/bin/busybox"
for applet in $("$dest/bin/busybox" --list); do
  [[ -e "$dest/bin/$applet" ]] || ln -s busybox "$dest/bin/$applet"
done
cat > "$dest/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
cat > "$dest/etc/group" <<'GROUP'
root:x:0:
nogroup:x:65534:
GROUP
echo "tsrun example rootfs" > "$dest/etc/motd"
echo "$dest"
