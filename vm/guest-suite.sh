#!/bin/sh
# The test VM's entry point (vm/boot.sh runs it as root in the project directory, shared
# read-only from the host): records `bpfwatch probe` for this kernel in /vm/out, then runs the
# test classes VM_TESTS names (vm/suite.sh passes vm/suite.txt) with the JUnit console
# launcher over the host's build, reports to /vm/out/junit. BPF and every kernel feature a
# test asks for are required here: a test that would skip fails instead. VM_PROBE=0 skips
# the probe (the self-test does not need it).
set -u
out=/vm/out
export BPFWATCH_REQUIRE_BPF=1
now() { cut -d' ' -f1 /proc/uptime; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }

# Loaded as on a machine that uses WireGuard, so monitors can probe its module BTF.
modprobe wireguard

if [ "${VM_PROBE:-1}" = 1 ]; then
    t0=$(now)
    target/bpfwatch probe > "$out/probe-guest.txt" 2>&1
    echo "bpfwatch probe on $(uname -r) ($(since "$t0")):"
    sed 's/^/  /' "$out/probe-guest.txt"
fi

selectors=""
for t in ${VM_TESTS:?}; do
    case $t in
        *#*) selectors="$selectors --select-method=$t" ;;
        *) selectors="$selectors --select-class=$t" ;;
    esac
done
# Without quarkus-junit's launcher hooks: they cost 20-40 s per JVM under TCG, and no test
# here boots Quarkus (a @QuarkusTest in vm/suite.txt would need them back).
classpath=$(tr ':' '\n' < target/vm/classpath | grep -v '/quarkus-junit' | paste -sd:)
t0=$(now)
# C1 only: under TCG start-up dominates, and C2 compiler threads would compete with the tests.
java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Djava.util.logging.manager=org.jboss.logmanager.LogManager \
    -cp "target/classes:target/test-classes:$classpath" \
    org.junit.platform.console.ConsoleLauncher execute \
    --disable-banner --disable-ansi-colors --details=tree --fail-if-no-tests \
    --include-classname='.*' --reports-dir="$out/junit" \
    --config=junit.jupiter.execution.timeout.default=300s \
    $selectors
status=$?
echo "junit exited $status after $(since "$t0")"
exit $status
