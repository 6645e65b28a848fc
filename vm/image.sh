#!/usr/bin/env bash
# Builds (or finds in the cache) the test VM for one Debian kernel package:
#   CACHE/images/<kernel package>-<key>/{vmlinux,rootfs.cpio,release,packages.txt,zfs|no-zfs}
# and prints that directory. Everything comes from the Debian mirror apt is configured with:
# the kernel by `apt-get download`, the root filesystem by `debootstrap --variant=minbase`,
# OpenZFS's modules built from the suite's zfs-dkms where it supports the kernel
# (vm/zfs-modules.sh; the file zfs holds their version, no-zfs says why there are none).
# The key hashes every input (kernel package and version, the guest packages' and zfs-dkms's
# versions in the suite, the module list, these scripts and the guest init), so an unchanged
# image is reused.
#
# usage: vm/image.sh CACHE KERNEL_PACKAGE
# env:   VM_SUITE (default: the host's Debian codename), VM_GUEST_DEBS, VM_MODULES
#        (packages may come from main or contrib)
set -euo pipefail

cache=$1
kernel_pkg=$2
here=$(cd "$(dirname "$0")" && pwd)
suite=${VM_SUITE:-$(. /etc/os-release && echo "$VERSION_CODENAME")}
# What the tests need inside the guest besides the shared JDK and build (see README).
guest_debs=${VM_GUEST_DEBS:-kmod iproute2 iputils-ping procps libbpf1 wireguard-tools dnsmasq-base bind9-dnsutils python3 libzfs4linux libnvpair3linux zfsutils-linux}
# Loaded at boot: 9p for the shares, virtio-rng so the guest has entropy at once.
# wireguard and veth are there for monitors that need them (modprobe in the guest).
modules=${VM_MODULES:-virtio_pci 9pnet_virtio 9p virtio_rng veth wireguard}

log() { echo "vm image: $*" >&2; }
die() { echo "vm image: $*" >&2; exit 1; }

for tool in debootstrap cpio xz depmod modprobe dpkg-deb apt-cache apt-get sha256sum flock; do
    command -v "$tool" >/dev/null || die "$tool is missing (make test-vm installs it)"
done
[ "$(id -u)" = 0 ] || die "building the image needs root (debootstrap)"

# A fresh machine may not have apt's package lists yet.
apt-cache show --no-all-versions "$kernel_pkg" > /dev/null 2>&1 || apt-get update -qq

# The mirror that serves SUITE/main, as apt is configured (no mirror is hard-coded).
mirror=$(apt-get indextargets --format '$(RELEASE) $(COMPONENT) $(REPO_URI)' 'Identifier: Packages' \
    | awk -v s="$suite" '$1 == s && $2 == "main" { print $3; exit }')
[ -n "$mirror" ] || die "apt has no $suite/main source (apt-get update? /etc/apt/sources.list.d/)"

# A metapackage (linux-image-amd64, or linux-image-6.12-amd64 on bookworm) names the next one
# in its Depends, until the package that ships the kernel (it depends on no linux-image);
# --no-all-versions shows the candidate, the version `apt-get download` fetches.
pkg=$kernel_pkg
for _ in 1 2 3; do
    info=$(apt-cache show --no-all-versions "$pkg" 2>/dev/null) || die "apt knows no package $pkg"
    next=$(echo "$info" | sed -n 's/^Depends: //p' | tr ',' '\n' | sed -n 's/^ *\(linux-image-[0-9][^ ]*\).*/\1/p' | head -n1)
    [ -n "$next" ] || break
    pkg=$next
done
case $pkg in linux-image-[0-9]*) ;; *) die "$kernel_pkg names no kernel package in its Depends" ;; esac
version=$(echo "$info" | sed -n 's/^Version: //p')
[ -n "$version" ] || die "apt knows no version of $pkg"
release=${pkg#linux-image-}

# Versions debootstrap will install: the suite's own, not updates or security. Asked up to three
# times: while another apt process rewrites its cache (a concurrent apt-get download or update),
# apt-cache can answer without some packages.
for attempt in 1 2 3; do
    pins=$(apt-cache madison $guest_debs zfs-dkms | awk -F'|' -v s=" $suite/" '
        index($3, s "main ") || index($3, s "contrib ") { gsub(/ /, "", $1); gsub(/ /, "", $2); if (!($1 in v)) v[$1] = $2 }
        END { for (p in v) print p "=" v[p] }' | sort)
    missing=""
    for p in $guest_debs zfs-dkms; do
        echo "$pins" | grep -q "^$p=" || missing="$missing $p"
    done
    [ -z "$missing" ] && break
    [ "$attempt" = 3 ] && die "$suite has no package$missing in main or contrib"
    sleep 2
done

key=$( { echo "$pkg=$version $suite $mirror"; echo "$pins"; echo "$modules"; cat "$here/image.sh" "$here/zfs-modules.sh" "$here/init"; } \
    | sha256sum | cut -c1-16)
image=$cache/images/$pkg-$key
# complete's age is the image's last use: images unused for two weeks are removed.
reuse() {
    if [ -f "$image/complete" ]; then
        touch "$image/complete"
        echo "$image"
        exit 0
    fi
}
reuse

mkdir -p "$cache/images"
exec 9>"$cache/.lock"
flock 9
reuse
# Under the lock no other build runs: any build directory left is from an interrupted one.
rm -rf "$cache"/.build-*
find "$cache/images" -mindepth 2 -maxdepth 2 -name complete -mtime +14 -printf '%h\n' | xargs -r rm -rf

started=$(date +%s)
work=$(mktemp -d "$cache/.build-XXXXXX")
trap 'rm -rf "$work"' EXIT
log "building $pkg $version + $suite minbase from $mirror (key $key)"

(cd "$work" && apt-get download -q -o APT::Sandbox::User=root "$pkg=$version" >&2)
dpkg-deb -x "$work/${pkg}_"*.deb "$work/kernel"

# bzImage -> vmlinux: qemu boots the ELF directly (PVH), seconds faster under TCG than
# decompressing in the guest. Find the compressed payload by its magic and inflate it.
vmlinuz=$work/kernel/boot/vmlinuz-$release
extract() { # MAGIC(hex, grep -P) DECOMPRESSOR...
    local magic=$1; shift
    local off
    for off in $(LC_ALL=C grep -obUaP "$magic" "$vmlinuz" | cut -d: -f1 | head -n 5); do
        tail -c +$((off + 1)) "$vmlinuz" | "$@" > "$work/vmlinux" 2>/dev/null || true
        [ "$(head -c 4 "$work/vmlinux" | od -An -tx1 | tr -d ' ')" = 7f454c46 ] && return 0
    done
    return 1
}
extract '\xFD7zXZ\x00' xz -dc --single-stream || extract '\x28\xB5\x2F\xFD' zstd -dc ||
    extract '\x1F\x8B\x08' gzip -dc || die "cannot find the compressed kernel inside $vmlinuz"

log "debootstrap $suite (minbase + $(echo $guest_debs | tr ' ' ','))"
rootfs=$work/rootfs
debootstrap --variant=minbase --components=main,contrib --include="$(echo $guest_debs | tr ' ' ',')" "$suite" "$rootfs" "$mirror" \
    > "$work/debootstrap.log" 2>&1 || { tail -n 30 "$work/debootstrap.log" >&2; die "debootstrap failed"; }
chroot "$rootfs" dpkg-query -W -f '${Package} ${Version}\n' > "$work/packages.txt"
rm -rf "$rootfs"/usr/share/{doc,man,info,locale} "$rootfs"/var/cache/apt/* "$rootfs"/var/lib/apt/lists/*

# Only the modules named (and what they depend on), with their own modules.dep.
depmod -b "$work/kernel" "$release"
mods=$rootfs/lib/modules/$release
mkdir -p "$mods"
cp "$work/kernel/lib/modules/$release"/modules.{order,builtin,builtin.modinfo} "$mods/"
for m in $modules; do
    modprobe -d "$work/kernel" -S "$release" --show-depends "$m" | awk '$1 == "insmod" { print $2 }' \
        || die "module $m is not in $pkg"
done | sort -u | while read -r ko; do
    rel=${ko#"$work/kernel/lib/modules/$release/"}
    mkdir -p "$mods/$(dirname "$rel")"
    cp "$ko" "$mods/$rel"
done
# OpenZFS's modules, built from the suite's zfs-dkms where it supports this kernel: the image
# then has the file zfs (its version), else no-zfs (why not). vm/suite.txt runs the tests
# marked "if-image zfs" only on the former and says so for the latter.
set +e
zfs=$("$here/zfs-modules.sh" "$cache" "$release" "$suite")
zfs_status=$?
set -e
case $zfs_status in
    0) mkdir -p "$mods/updates/zfs"
       cp "$zfs"/*.ko "$mods/updates/zfs/"
       cp "$zfs/version" "$work/zfs" ;;
    3) echo "$zfs" > "$work/no-zfs"
       log "no OpenZFS modules: $zfs" ;;
    *) die "building OpenZFS's modules for $release failed" ;;
esac
depmod -b "$rootfs" "$release"

install -m 0755 "$here/init" "$rootfs/init"
(cd "$rootfs" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet) > "$work/rootfs.cpio"

mkdir -p "$work/image"
mv "$work/vmlinux" "$work/rootfs.cpio" "$work/packages.txt" "$work/image/"
mv "$work"/zfs "$work"/no-zfs "$work/image/" 2>/dev/null || true
echo "$release" > "$work/image/release"
echo "$pkg $version" > "$work/image/kernel"
touch "$work/image/complete"
rm -rf "$image"
mv "$work/image" "$image"
log "built $image in $(( $(date +%s) - started )) s ($(du -sh "$image/rootfs.cpio" | cut -f1) root filesystem)"
echo "$image"
