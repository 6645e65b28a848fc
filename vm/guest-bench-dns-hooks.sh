#!/bin/sh
# make bench-dns-hooks-vm's guest entry (vm/boot.sh runs it as root in the project directory,
# read-only): bench/dns_hooks.py on this kernel, its table to /vm/out. Under emulation everything
# is slower: fewer operations, a longer wait for the daemon's start, and the workload's own CPU
# clock is left out (it times the emulator: untraced DNS round trips of 0.3-2 ms). A window waits
# up to 30 s of a quiet log for its lines (BENCH_QUIET): with 2 s, a daemon still compiling its
# warm-up under emulation wrote the warm-up's lines into the next window, which then counted
# more than it sent (bench/results/dns-hooks-*.md).
set -u
cd "$(dirname "$0")/.."
# The daemon runs from a copy in the guest's memory: a build on the host while the bench runs
# rewrites target/quarkus-app under it through the share (once a daemon stopped answering
# /metrics and then did not stop).
app=$(mktemp -d /tmp/bpfwatch-app.XXXXXX)
cp -r target/quarkus-app/. "$app"/ || exit 1
export BPFWATCH_APP_DIR="$app"
# -Xshare:off: the JDK's class-data archive is mapped from the read-only 9p share; one 6.12 run
# had the daemon's JVM crash (SIGSEGV in compiled Quarkus code) at its third start, twice in a row.
BPFWATCH_JAVA_OPTS="${BPFWATCH_JAVA_OPTS:--Xshare:off}" \
BENCH_QUIET=${BENCH_QUIET:-30} BENCH_ODD=/vm/out BENCH_SCALE=${BENCH_SCALE:-0.1} BENCH_REPS=${BENCH_REPS:-3} BENCH_TIMING=0 BENCH_OUT=/vm/out BENCH_READY_TIMEOUT=300 \
    python3 -B bench/dns_hooks.py
