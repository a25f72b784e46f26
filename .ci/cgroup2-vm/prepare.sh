#!/usr/bin/env bash
# Makes sure the cgroup2 guest can boot: installs qemu, busybox-static,
# xz-utils, apparmor, secilc and curl when missing, fetches the kernel (Debian's, or the pinned
# Ubuntu one) into a cache (never onto the host) and builds the initramfs. Idempotent and cheap once cached.
#
# Prints three lines on stdout for run.sh:
#   kernel <path to the image qemu boots: vmlinux (PVH), else the vmlinuz>
#   initrd <path to initramfs>
#   modules <path to the kernel's module tree, lib/modules/<version>>
# Progress and errors go to stderr.
#
# Environment:
#   TSRUN_VM_CACHE       cache directory (default /var/cache/tsrun-cgroup2-vm)
#   TSRUN_VM_KERNEL      debian (default): Debian's kernel, what linux-image-amd64 depends on;
#                        ubuntu-5.15: Ubuntu 22.04's kernel as released (pinned below)
#   TSRUN_VM_KERNEL_PKG  pin the Debian kernel package instead of what linux-image-amd64 depends on
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd -P)
CACHE=${TSRUN_VM_CACHE:-/var/cache/tsrun-cgroup2-vm}

# Loaded in this order in the guest, dependencies first. virtio + 9p give the
# host's root; overlay makes it writable; virtio_console carries the command's
# stdout and stderr. Builtins and absent ones are skipped.
GUEST_MODULES=(virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci
  netfs fscache 9pnet 9pnet_virtio 9p overlay virtio_console)

# Ubuntu 22.04's kernel as it was released: the jammy pocket never changes
# once a release is out, so these files stay in the archive, and their hashes
# (from the pocket's Packages index) are checked on every download. 5.15 is
# the newest long-term kernel whose cgroup v1 memory controller still applies
# memory.kmem.limit_in_bytes (Linux 6.1 made it a no-op): what a legacy host
# that still runs v1 looks like, for the conformance programs that read it.
UBUNTU_MIRROR=${TSRUN_VM_UBUNTU_MIRROR:-http://archive.ubuntu.com/ubuntu}
UBUNTU_KVER=5.15.0-25-generic
UBUNTU_VERSION=5.15.0-25.25
UBUNTU_DEBS=(
  "pool/main/l/linux-signed/linux-image-5.15.0-25-generic_5.15.0-25.25_amd64.deb ad56f8c442a54d4f5ff2dff010d00321d53e32b543f3a92f3ba4e042d20a71da"
  "pool/main/l/linux/linux-modules-5.15.0-25-generic_5.15.0-25.25_amd64.deb d0ba4087d9e1d497925b3481d3531fba6c2a852855f8019d73b0b1385aa4da1f"
)

log() { echo "cgroup2-vm: $*" >&2; }
fail() {
  log "$*"
  exit 1
}

apt_updated=0
apt_update_once() {
  if ((apt_updated == 0)); then
    log "apt-get update"
    apt-get update -qq >&2
    apt_updated=1
  fi
}

# qemu runs the guest; busybox-static is the initramfs userland and, being
# installed on the host, also the guest's PID 1 after switch_root (/bin/busybox);
# xz unpacks the kernel's vmlinux; apparmor brings apparmor_parser, with
# which the guest's tests load profiles (the guest's kernel runs AppArmor;
# on a host whose kernel does not, the package does nothing); secilc
# compiles the test SELinux policy for a guest booted with SELinux; curl
# fetches Ubuntu's kernel (TSRUN_VM_KERNEL=ubuntu-5.15); systemd is the
# guest's PID 1 with TSRUN_VM_INIT=systemd (on the host it need not run).
ensure_packages() {
  local missing=() pkg
  for pkg in qemu-system-x86 busybox-static xz-utils apparmor secilc curl systemd; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  ((${#missing[@]} == 0)) && return 0
  [[ $(id -u) -eq 0 ]] || fail "missing ${missing[*]}; run as root to install them"
  export DEBIAN_FRONTEND=noninteractive
  apt_update_once
  log "installing ${missing[*]}"
  # dpkg's progress is noise in a test log; shown only when it fails.
  local out
  out=$(mktemp)
  if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$out" 2>&1; then
    cat "$out" >&2
    rm -f "$out"
    fail "apt-get install ${missing[*]} failed"
  fi
  rm -f "$out"
}

# The real package behind the linux-image-amd64 metapackage, e.g.
# linux-image-6.1.0-56-amd64. Asks apt once more after an update when the
# package lists are missing.
kernel_package() {
  if [[ -n ${TSRUN_VM_KERNEL_PKG:-} ]]; then
    echo "$TSRUN_VM_KERNEL_PKG"
    return
  fi
  local pkg
  pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
    sed -n 's/^ *Depends: \(linux-image-[^ <>]*\)$/\1/p' | head -n1)
  if [[ -z $pkg ]]; then
    apt_update_once
    pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
      sed -n 's/^ *Depends: \(linux-image-[^ <>]*\)$/\1/p' | head -n1)
  fi
  [[ -n $pkg ]] || fail "cannot resolve the package linux-image-amd64 depends on"
  echo "$pkg"
}

candidate_version() {
  apt-cache policy "$1" 2>/dev/null | sed -n 's/^ *Candidate: //p' | head -n1
}

# "<package> <version>" of the kernel to boot. apt-cache takes about 2 s
# here and its answer only changes with the package lists, so it is kept in
# the cache with a fingerprint of those lists.
resolve_kernel() {
  local file=$CACHE/resolved pkg version sig
  sig=$(lists_fingerprint)
  if [[ -f $file && $(head -n1 "$file") == "$sig" ]]; then
    tail -n1 "$file"
    return
  fi
  pkg=$(kernel_package)
  version=$(candidate_version "$pkg")
  # After an apt-get update in kernel_package, the lists changed.
  printf '%s\n%s %s\n' "$(lists_fingerprint)" "$pkg" "$version" >"$file"
  echo "$pkg $version"
}

lists_fingerprint() {
  { echo "${TSRUN_VM_KERNEL_PKG:-}"; stat -c '%n %Y %s' /var/lib/apt/lists/*Packages* 2>/dev/null || true; } |
    sha256sum | cut -c1-16
}

# Downloads the kernel .deb and unpacks it under $1/root. No dpkg database
# entry, no files outside the cache.
fetch_kernel() {
  local dir=$1 pkg=$2 version=$3 kver=$4 tmp deb
  tmp=$(mktemp -d "$CACHE/.fetch.XXXXXX")
  log "downloading $pkg=$version"
  if ! (cd "$tmp" && apt-get download -q -o APT::Sandbox::User=root "$pkg=$version" >&2); then
    # A stale package index names a file the mirror no longer has.
    apt_update_once
    version=$(candidate_version "$pkg")
    (cd "$tmp" && apt-get download -q -o APT::Sandbox::User=root "$pkg=$version" >&2) ||
      fail "apt-get download $pkg failed"
  fi
  deb=$(ls "$tmp"/*.deb)
  dpkg-deb -x "$deb" "$tmp/root"
  rm -f "$deb"
  [[ -f $tmp/root/boot/vmlinuz-$kver ]] || fail "$pkg has no boot/vmlinuz-$kver"
  install_unpacked "$tmp" "$dir" "$kver"
}

# Moves the kernel unpacked under $1/root to $2/root, once busybox depmod has
# written modules.dep there (the .debs do not ship one; their postinst
# normally runs depmod) so that modprobe works inside the guest.
install_unpacked() {
  local tmp=$1 dir=$2 kver=$3
  busybox depmod -b "$tmp/root" "$kver" ||
    log "warning: depmod failed; modprobe will not work in the guest"
  mkdir -p "$dir"
  rm -rf "$dir/root"
  mv "$tmp/root" "$dir/root"
  rmdir "$tmp"
}

# The pinned Ubuntu kernel: image and modules unpacked under $1/root, as
# fetch_kernel does for Debian's. curl over plain HTTP is enough: each file
# must match its pinned SHA-256 before dpkg-deb opens it.
fetch_ubuntu_kernel() {
  local dir=$1 tmp entry path sum deb
  tmp=$(mktemp -d "$CACHE/.fetch.XXXXXX")
  for entry in "${UBUNTU_DEBS[@]}"; do
    read -r path sum <<<"$entry"
    deb=$tmp/${path##*/}
    log "downloading $UBUNTU_MIRROR/$path"
    curl -fsS --retry 3 -o "$deb" "$UBUNTU_MIRROR/$path" || fail "download of $UBUNTU_MIRROR/$path failed"
    echo "$sum  $deb" | sha256sum -c --quiet - >&2 || fail "${path##*/}: SHA-256 differs from the pinned $sum"
    dpkg-deb -x "$deb" "$tmp/root"
    rm -f "$deb"
  done
  [[ -f $tmp/root/boot/vmlinuz-$UBUNTU_KVER ]] || fail "the Ubuntu packages have no boot/vmlinuz-$UBUNTU_KVER"
  install_unpacked "$tmp" "$dir" "$UBUNTU_KVER"
}

# bzImage -> the ELF vmlinux inside it, for a PVH boot: qemu then loads the
# kernel directly and skips SeaBIOS's real-mode path and the decompressor,
# about 5 s under TCG. The payload's place comes from the boot header
# (setup_sects, payload_offset, payload_length); its last 4 bytes are the
# uncompressed size, which checks the result. Fails when any of it differs.
extract_vmlinux() {
  local bz=$1 out=$2 sects offset length start magic size decompress
  sects=$(od -An -tu1 -j $((0x1f1)) -N1 "$bz" | tr -d ' ')
  ((sects != 0)) || sects=4
  offset=$(od -An -tu4 -j $((0x248)) -N4 "$bz" | tr -d ' ')
  length=$(od -An -tu4 -j $((0x24c)) -N4 "$bz" | tr -d ' ')
  start=$(((sects + 1) * 512 + offset))
  magic=$(od -An -tx1 -j "$start" -N6 "$bz" | tr -d ' \n')
  size=$(od -An -tu4 -j $((start + length - 4)) -N4 "$bz" | tr -d ' ')
  case $magic in
  fd377a585a00) decompress="xz -dc" ;;
  1f8b*) decompress="gzip -dc" ;;
  28b52ffd*) decompress="zstd -qdc" ;;
  *) return 1 ;;
  esac
  tail -c +$((start + 1)) "$bz" | head -c $((length - 4)) | $decompress >"$out.tmp" 2>/dev/null || true
  if [[ $(head -c4 "$out.tmp" | od -An -tx1 | tr -d ' \n') == 7f454c46 && $(stat -c %s "$out.tmp") == "$size" ]]; then
    mv "$out.tmp" "$out"
  else
    rm -f "$out.tmp"
    return 1
  fi
}

# The kernel image qemu boots: the PVH-capable vmlinux when there is one.
boot_image() {
  local dir=$1 kver=$2 bz=$1/root/boot/vmlinuz-$2
  if [[ ! -f $dir/vmlinux ]] && grep -q '^CONFIG_PVH=y' "$dir/root/boot/config-$kver" 2>/dev/null; then
    extract_vmlinux "$bz" "$dir/vmlinux" || log "cannot extract vmlinux; booting the bzImage (slower)"
  fi
  if [[ -f $dir/vmlinux ]]; then echo "$dir/vmlinux"; else echo "$bz"; fi
}

# modname <path>: module name as the kernel spells it (dashes become underscores).
modname() {
  local base=${1##*/}
  base=${base%%.ko*}
  echo "${base//-/_}"
}

# Resolves GUEST_MODULES into an insmod order, dependencies first, from each
# module's own "depends=" field (.modinfo); works without modules.dep. Sets
# the global array LOAD_ORDER to paths relative to the module tree.
declare -A MOD_PATH=() MOD_BUILTIN=() MOD_SEEN=()
LOAD_ORDER=()
index_modules() {
  local moddir=$1 rel name
  # modname inlined: a subshell per module costs seconds over 4000 modules.
  while IFS= read -r rel; do
    name=${rel##*/}
    name=${name%%.ko*}
    MOD_BUILTIN[${name//-/_}]=1
  done <"$moddir/modules.builtin"
  while IFS= read -r rel; do
    name=${rel##*/}
    name=${name%%.ko*}
    MOD_PATH[${name//-/_}]=$rel
  done < <(cd "$moddir" && find kernel -name '*.ko*')
}

module_depends() {
  local file=$1
  case $file in
  *.ko.xz) xz -dc "$file" ;;
  *.ko.zst) zstd -qdc "$file" ;;
  *.ko.gz) gzip -dc "$file" ;;
  *) cat "$file" ;;
  esac | tr '\0' '\n' | sed -n 's/^depends=//p' | head -n1 | tr ',' ' '
}

resolve_module() {
  local moddir=$1 name=$2 dep
  [[ -n ${MOD_SEEN[$name]:-} ]] && return 0
  MOD_SEEN[$name]=1
  if [[ -n ${MOD_BUILTIN[$name]:-} ]]; then
    log "module $name is built in"
    return 0
  fi
  if [[ -z ${MOD_PATH[$name]:-} ]]; then
    log "module $name does not exist in this kernel; skipped"
    return 0
  fi
  for dep in $(module_depends "$moddir/${MOD_PATH[$name]}"); do
    resolve_module "$moddir" "$(modname "$dep")"
  done
  LOAD_ORDER+=("${MOD_PATH[$name]}")
}

# The initramfs: static busybox, the two init stages, the modules (stored
# uncompressed: busybox insmod uses init_module) and their load order.
build_initramfs() {
  local kver=$1 moddir=$2 out=$3 tmp rel name m
  tmp=$(mktemp -d "$CACHE/.initramfs.XXXXXX")
  mkdir -p "$tmp"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,lower,rw,job,newroot}
  cp "$(command -v busybox)" "$tmp/bin/busybox"
  ln -s busybox "$tmp/bin/sh"
  # The kernel opens it as init's stdio before anything is mounted.
  mknod -m 0600 "$tmp/dev/console" c 5 1
  install -m 0755 "$HERE/guest-init.sh" "$tmp/init"
  install -m 0644 "$HERE/guest-stage2.sh" "$tmp/stage2.sh"
  echo "$kver" >"$tmp/etc/kernel-version"

  index_modules "$moddir"
  for m in "${GUEST_MODULES[@]}"; do
    resolve_module "$moddir" "$m"
  done
  : >"$tmp/etc/modules"
  for rel in "${LOAD_ORDER[@]}"; do
    name=${rel%%.ko*}.ko
    mkdir -p "$tmp/modules/$(dirname "$name")"
    case $rel in
    *.ko.xz) xz -dc "$moddir/$rel" >"$tmp/modules/$name" ;;
    *.ko.zst) zstd -qdc "$moddir/$rel" >"$tmp/modules/$name" ;;
    *.ko.gz) gzip -dc "$moddir/$rel" >"$tmp/modules/$name" ;;
    *) cp "$moddir/$rel" "$tmp/modules/$name" ;;
    esac
    echo "$name" >>"$tmp/etc/modules"
  done
  log "initramfs modules: $(tr '\n' ' ' <"$tmp/etc/modules")"

  # Not compressed: gunzip in the guest costs more under TCG than the bytes do.
  (cd "$tmp" && find . -mindepth 1 | busybox cpio -o -H newc 2>/dev/null) >"$out.tmp"
  mv "$out.tmp" "$out"
  rm -rf "$tmp"
}

# Everything that goes into the initramfs; a change rebuilds it.
initramfs_key() {
  local kver=$1
  {
    echo "$kver ${GUEST_MODULES[*]}"
    cat "$HERE/guest-init.sh" "$HERE/guest-stage2.sh" "$HERE/prepare.sh"
    sha256sum "$(command -v busybox)"
  } | sha256sum | cut -c1-16
}

main() {
  ensure_packages
  mkdir -p "$CACHE"
  # Concurrent runs share the cache: one builds, the others wait.
  exec 9>"$CACHE/.lock"
  flock 9
  # Left by a run that failed half-way; nobody else works here under the lock.
  rm -rf "$CACHE"/.fetch.* "$CACHE"/.initramfs.*

  local resolved pkg version kver dir key
  case ${TSRUN_VM_KERNEL:-debian} in
  ubuntu-5.15)
    kver=$UBUNTU_KVER
    dir="$CACHE/${kver}_${UBUNTU_VERSION}"
    [[ -f $dir/root/boot/vmlinuz-$kver ]] || fetch_ubuntu_kernel "$dir"
    ;;
  debian)
    resolved=$(resolve_kernel)
    read -r pkg version <<<"$resolved"
    kver=${pkg#linux-image-}
    if [[ -z $version || $version == "(none)" ]]; then
      # Offline with a pinned or vanished package: reuse any cached build of it.
      dir=$(ls -d "$CACHE/$kver"_* 2>/dev/null | tail -n1 || true)
      [[ -n $dir ]] || fail "no installable version of $pkg and nothing cached"
    else
      dir="$CACHE/${kver}_${version}"
    fi
    [[ -f $dir/root/boot/vmlinuz-$kver ]] || fetch_kernel "$dir" "$pkg" "$version" "$kver"
    ;;
  *) fail "TSRUN_VM_KERNEL: debian or ubuntu-5.15, not '$TSRUN_VM_KERNEL'" ;;
  esac

  key=$(initramfs_key "$kver")
  if [[ ! -f $dir/initramfs-$key.img ]]; then
    log "building initramfs for $kver"
    rm -f "$dir"/initramfs-*.img
    build_initramfs "$kver" "$dir/root/lib/modules/$kver" "$dir/initramfs-$key.img"
  fi

  echo "kernel $(boot_image "$dir" "$kver")"
  echo "initrd $dir/initramfs-$key.img"
  echo "modules $dir/root/lib/modules/$kver"
}

main "$@"
