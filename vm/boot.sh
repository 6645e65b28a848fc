#!/usr/bin/env bash
# Boots a test VM image (vm/image.sh) under qemu, TCG, and runs ENTRY inside it as root. The
# guest sees, read-only over 9p at the same paths as here, the project directory and the JDK
# that runs Maven here; OUT is shared writable at /vm/out for results. The guest console goes
# to OUT/console.log and to stdout as it comes.
#
# usage: vm/boot.sh IMAGE OUT ENTRY [NAME=VALUE...]   (NAME=VALUE: ENTRY's environment)
# env:   VM_BOOT_TIMEOUT  seconds until the guest must have booted (default 120)
#        VM_TIMEOUT       seconds until ENTRY must have finished (default 600)
#        VM_CPUS (2), VM_MEMORY (2G), VM_QUIET=1 (console only to the log file),
#        VM_TCG_THREAD (single: the vCPUs take turns on one host thread; multi: one thread
#        each. With multi, a 6.12 guest once died of "Oops: int3" in
#        syscall_exit_to_user_mode_prepare while the daemon attached a tracepoint: a vCPU
#        trapped on the int3 of a jump-label patch that, by the time its handler looked, the
#        other vCPU had finished; most likely multi-threaded TCG's cross-modifying code, as
#        the kernel's patching waits for every CPU. Single costs nothing measurable here: a
#        whole make test-vm took 185 and 180 s per guest against 187 and 164+ s.)
#        VM_APPEND (more kernel arguments, e.g. loglevel=7 to see the whole boot)
# exit:  ENTRY's exit status; 124 after a timeout, 125 if the guest stopped without one.
set -euo pipefail

image=$1 out=$2 entry=$3
shift 3
project=$(cd "$(dirname "$0")/.." && pwd)
boot_timeout=${VM_BOOT_TIMEOUT:-120}
timeout=${VM_TIMEOUT:-600}

die() { echo "vm: $*" >&2; exit 125; }
[ -f "$image/complete" ] || die "$image is not a built image"

java_home=${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")}
[ -x "$java_home/bin/java" ] || die "no JDK at $java_home (set JAVA_HOME)"
# Debian's JDK keeps its configuration in /etc and links to it.
java_etc=$(readlink -f "$java_home/lib/jvm.cfg" | sed -n 's|^\(/etc/[^/]*\)/.*|\1|p')

rm -rf "$out"
mkdir -p "$out"
out=$(cd "$out" && pwd)

shares=(project "$project" jdk "$java_home")
[ -n "$java_etc" ] && shares+=(jdketc "$java_etc")
virtfs=() guest_shares=""
for ((i = 0; i < ${#shares[@]}; i += 2)); do
    tag=${shares[i]} path=${shares[i + 1]}
    case $path in *[\ \'\"]*) die "cannot share $path: spaces and quotes are not supported" ;; esac
    virtfs+=(-virtfs "local,path=$path,mount_tag=$tag,security_model=none,readonly=on")
    guest_shares+="$tag=$path "
done

{
    echo "VM_SHARES='$guest_shares'"
    echo "VM_WORKDIR='$project'"
    echo "VM_ENTRY='$entry'"
    echo "export JAVA_HOME='$java_home'"
    echo "export PATH='$java_home/bin':\$PATH"
    for kv in "$@"; do
        case $kv in *\'*) die "quotes are not supported in $kv" ;; esac
        echo "export ${kv%%=*}='${kv#*=}'"
    done
} > "$out/guest.env"

console=$out/console.log
: > "$console"
started=$(date +%s)
qemu-system-x86_64 -accel "tcg,thread=${VM_TCG_THREAD:-single}" -smp "${VM_CPUS:-2}" -m "${VM_MEMORY:-2G}" \
    -nodefaults -no-reboot -display none -monitor none \
    -kernel "$image/vmlinux" -initrd "$image/rootfs.cpio" \
    -append "console=ttyS0 panic=-1 quiet ${VM_APPEND:-}" \
    -serial "file:$console" \
    -device virtio-rng-pci \
    -virtfs "local,path=$out,mount_tag=out,security_model=none" \
    "${virtfs[@]}" > "$out/qemu.log" 2>&1 &
qemu=$!
trap 'kill $qemu 2>/dev/null || true' EXIT
tailer=""
if [ "${VM_QUIET:-0}" != 1 ]; then
    tail -n +1 -s 0.2 -f --pid=$qemu "$console" &
    tailer=$!
fi

verdict=""
while kill -0 $qemu 2>/dev/null; do
    sleep 1
    elapsed=$(( $(date +%s) - started ))
    if ! grep -q '^bpfwatch-vm: booted' "$console" && [ $elapsed -ge "$boot_timeout" ]; then
        verdict="the guest did not boot within ${boot_timeout}s (VM_BOOT_TIMEOUT)"
    elif [ $elapsed -ge "$timeout" ]; then
        verdict="the guest did not finish within ${timeout}s (VM_TIMEOUT)"
    fi
    if [ -n "$verdict" ]; then
        kill $qemu 2>/dev/null || true
        break
    fi
done
wait $qemu 2>/dev/null || true
[ -z "$tailer" ] || wait $tailer 2>/dev/null || true

if [ -n "$verdict" ]; then
    status=124
elif [ -s "$out/exit-status" ]; then
    status=$(cat "$out/exit-status")
    echo "vm: $(basename "$entry") exited $status after $(( $(date +%s) - started ))s"
    exit "$status"
else
    status=125
    verdict="the guest stopped without an exit status from $(basename "$entry")"
fi
{
    echo "vm: $verdict; the last 60 lines of the guest console ($console):"
    tail -n 60 "$console" | sed 's/^/  | /'
    [ -s "$out/qemu.log" ] && sed 's/^/  qemu: /' "$out/qemu.log"
} >&2
exit $status
