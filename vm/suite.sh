#!/usr/bin/env bash
# make test-vm, after the build: for each Debian kernel package in VM_KERNELS, build (or reuse)
# its VM image, boot it, run vm/guest-suite.sh inside and check what came back. Then the
# self-test: a guest test made to fail on purpose must fail the run. Leaves in target/vm/:
#   probe-host.txt, probe-guest-RELEASE.txt   `bpfwatch probe` on this kernel and each guest's
#   RELEASE/                                  console.log, junit/*.xml, exit-status of a run
# Ends with 'vm: N passed, N failed, N skipped'; exits non-zero if any test failed or skipped.
#
# env: VM_KERNELS (default linux-image-amd64), VM_CACHE (image cache), VM_SELFTEST (default 1),
#      VM_TESTS (run these classes instead of vm/suite.txt), and vm/boot.sh's VM_* settings.
set -uo pipefail
cd "$(dirname "$0")/.."

kernels=${VM_KERNELS:-linux-image-amd64}
cache=${VM_CACHE:-target/vm/cache}
results=target/vm
mkdir -p "$results"
grep -v '^ *#' vm/suite.txt | grep -q '[^ ]' || { echo "vm: vm/suite.txt names no test class" >&2; exit 1; }

# The tests of vm/suite.txt this image runs. A line "TEST if-image FILE" needs the image to
# have FILE (vm/image.sh leaves no-FILE with the reason instead): said here when it does not.
image_tests() { # IMAGE
    if [ -n "${VM_TESTS:-}" ]; then
        echo "$VM_TESTS"
        return
    fi
    local test cond what
    grep -v '^ *#' vm/suite.txt | while read -r test cond what; do
        [ -n "$test" ] || continue
        case $cond in
            "") ;;
            if-image)
                if [ -z "$what" ] || [ ! -e "$1/$what" ]; then
                    echo "vm: not run on $(cat "$1/release"): $test ($(cat "$1/no-$what" 2>/dev/null || echo "the image has no $what"))" >&2
                    continue
                fi ;;
            *) echo "vm: vm/suite.txt: '$test $cond $what' is not 'TEST' or 'TEST if-image FILE'" >&2; exit 1 ;;
        esac
        echo "$test"
    done | tr '\n' ' '
}

[ -x target/bpfwatch ] && [ -f target/vm/classpath ] || { echo "vm: build first (make test-vm does)" >&2; exit 1; }
target/bpfwatch probe > "$results/probe-host.txt" 2>&1
echo "bpfwatch probe on this machine ($(uname -r)):"
sed 's/^/  /' "$results/probe-host.txt"

failed_runs=0
total_passed=0 total_failed=0 total_skipped=0
for kernel in $kernels; do
    t0=$(date +%s)
    image=$(vm/image.sh "$cache" "$kernel") || { echo "vm: no image for $kernel" >&2; failed_runs=$((failed_runs + 1)); continue; }
    release=$(cat "$image/release")
    tests=$(image_tests "$image") || { failed_runs=$((failed_runs + 1)); continue; }
    echo "vm: $kernel -> $release, image $image (ready in $(( $(date +%s) - t0 ))s)"
    out=$results/$release
    vm/boot.sh "$image" "$out" vm/guest-suite.sh "BPFWATCH_VM_KERNEL=$release" "VM_TESTS=$tests"
    status=$?
    cp "$out/probe-guest.txt" "$results/probe-guest-$release.txt" 2>/dev/null || true
    echo "vm: results on $release (boot to poweroff $(( $(date +%s) - t0 ))s):"
    vm/results.py "$out" $tests || { [ "$status" = 0 ] && status=1; }
    if [ -f "$out/counts" ]; then
        read -r p f s < "$out/counts"
        total_passed=$((total_passed + p)) total_failed=$((total_failed + f)) total_skipped=$((total_skipped + s))
    fi
    [ "$status" = 0 ] || failed_runs=$((failed_runs + 1))
done

# The harness itself: a guest test failing must fail the run, seen from here. The kernel check
# is told to expect a release the guest does not run, so it fails for real inside the guest.
# Skipped when the suite failed already (nothing left to prove, and a hang would repeat).
if [ "${VM_SELFTEST:-1}" = 1 ] && [ -n "${release:-}" ] && [ "$failed_runs" = 0 ]; then
    t0=$(date +%s)
    out=$results/selftest
    VM_QUIET=1 VM_TIMEOUT=300 vm/boot.sh "$image" "$out" vm/guest-suite.sh "BPFWATCH_VM_KERNEL=0.0.0-not-$release" VM_PROBE=0 \
        "VM_TESTS=io.bpfwatch.vm.GuestKernelCheck#runsOnTheKernelTheVmWasAskedToBoot" > "$out.log" 2>&1
    status=$?
    vm/results.py "$out" io.bpfwatch.vm.GuestKernelCheck >> "$out.log" 2>&1
    if [ "$status" != 0 ] && [ "$(cat "$out/counts" 2>/dev/null)" = "0 1 0" ]; then
        echo "vm: self-test: a test failing in the guest failed its run, as it must ($(( $(date +%s) - t0 ))s)"
    else
        echo "vm: self-test FAILED: a guest run with a failing test ended with status $status; see $out.log" >&2
        failed_runs=$((failed_runs + 1))
    fi
fi

echo "vm: probe output kept in $results/probe-*.txt"
echo "vm: $total_passed passed, $total_failed failed, $total_skipped skipped"
[ "$failed_runs" = 0 ] && [ "$total_failed" = 0 ] && [ "$total_skipped" = 0 ]
