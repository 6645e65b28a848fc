#!/usr/bin/env bash
# Builds (or finds in the cache) OpenZFS's kernel modules for one Debian kernel, from the
# suite's own zfs-dkms source and that kernel's headers, as DKMS would on a Debian machine:
#   CACHE/zfs/<release>-<zfs version>/*.ko
# and prints that directory. When the suite's OpenZFS does not support the kernel (its META
# names the newest Linux it builds for), prints why instead and exits 3.
#
# usage: vm/zfs-modules.sh CACHE RELEASE SUITE
set -euo pipefail

cache=$1
release=$2
suite=$3

log() { echo "vm zfs: $*" >&2; }
die() { echo "vm zfs: $*" >&2; exit 1; }

for tool in gcc make strip apt-cache apt-get dpkg-deb flock; do
    command -v "$tool" >/dev/null || die "$tool is missing (make test-vm installs it)"
done

# The suite's version, from contrib (not backports or updates: what a Debian machine of that
# release installs).
zfs_version=$(apt-cache madison zfs-dkms | awk -F'|' -v s=" $suite/contrib " \
    'index($3, s) { gsub(/ /, "", $2); print $2; exit }')
[ -n "$zfs_version" ] || die "$suite/contrib has no zfs-dkms (apt sources without contrib? make deps enables it)"
out=$cache/zfs/$release-$zfs_version
if [ -f "$out/complete" ]; then
    echo "$out"
    exit 0
fi

mkdir -p "$cache/zfs"
exec 8>"$cache/zfs/.lock"
flock 8
[ -f "$out/complete" ] && { echo "$out"; exit 0; }
rm -rf "$cache"/zfs/.build-*
work=$(mktemp -d "$cache/zfs/.build-XXXXXX")
trap 'rm -rf "$work"' EXIT

(cd "$work" && apt-get download -q -o APT::Sandbox::User=root "zfs-dkms=$zfs_version" >&2)
dpkg-deb -x "$work"/zfs-dkms_*.deb "$work/root"
src=$(echo "$work"/root/usr/src/zfs-*)
[ -f "$src/META" ] || die "zfs-dkms $zfs_version has no source tree with a META file"

# META: "Linux-Maximum: 6.2". A kernel past it does not build (or builds wrong), as DKMS would refuse.
max=$(sed -n 's/^Linux-Maximum: *//p' "$src/META")
kmajor=$(echo "$release" | cut -d. -f1) kminor=$(echo "$release" | cut -d. -f2)
mmajor=${max%%.*} mminor=${max#*.}
if [ -n "$max" ] && { [ "$kmajor" -gt "$mmajor" ] || { [ "$kmajor" = "$mmajor" ] && [ "$kminor" -gt "$mminor" ]; }; }; then
    echo "OpenZFS $zfs_version of $suite builds for Linux up to $max, not $release"
    exit 3
fi

# The kernel's headers: linux-headers-RELEASE, the -common tree and the kbuild tools it depends on.
headers=linux-headers-$release
deps=$(apt-cache show --no-all-versions "$headers" 2>/dev/null | sed -n 's/^Depends: //p' | tr ',' '\n' \
    | sed -n -e 's/^ *\(linux-headers-[^ ]*-common[^ ]*\) *(= *\([^)]*\)).*/\1=\2/p' -e 's/^ *\(linux-kbuild-[^ ]*\) .*/\1/p')
[ -n "$deps" ] || die "apt knows no $headers (or it names no -common or kbuild package)"
(cd "$work" && apt-get download -q -o APT::Sandbox::User=root "$headers" $deps >&2)
for deb in "$work"/linux-*.deb; do dpkg-deb -x "$deb" "$work/root"; done
obj=$work/root/usr/src/$headers
common=$(echo "$work"/root/usr/src/linux-headers-*-common)
[ -d "$obj" ] && [ -d "$common" ] || die "the headers of $release did not unpack as expected"
# Its Makefile includes the -common tree by the path it is installed at: point it at this copy
# (nothing is installed on this machine).
sed -i "s|/usr/src/|$work/root/usr/src/|" "$obj/Makefile"

log "building OpenZFS $zfs_version modules for $release (a few minutes)"
started=$(date +%s)
(
    cd "$src"
    ./configure --with-config=kernel --with-linux="$common" --with-linux-obj="$obj" > "$work/configure.log" 2>&1 \
        || { tail -n 30 "$work/configure.log" >&2; exit 1; }
    make -C module -j"$(nproc)" > "$work/make.log" 2>&1 || { tail -n 40 "$work/make.log" >&2; exit 1; }
) || die "building OpenZFS $zfs_version for $release failed"

mkdir -p "$work/out"
find "$src/module" -name '*.ko' -exec cp {} "$work/out/" \;
# Without debug information: 90 MB of modules become ~15, which the guest holds in RAM.
strip --strip-debug "$work/out"/*.ko
[ -f "$work/out/zfs.ko" ] && [ -f "$work/out/spl.ko" ] || die "the build made no zfs.ko and spl.ko"
echo "$zfs_version" > "$work/out/version"
touch "$work/out/complete"
rm -rf "$out"
mv "$work/out" "$out"
log "built $(ls "$out" | grep -c '\.ko$') modules in $(( $(date +%s) - started )) s: $out"
echo "$out"
