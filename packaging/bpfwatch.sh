#!/bin/sh
# bpfwatch launcher: runs the packaged application with the JVM flags the daemon is tuned for.
# From a build it runs target/quarkus-app; installed as PREFIX/bin/bpfwatch, PREFIX/lib/bpfwatch
# (/usr for the .deb, /usr/local for `make install`).
set -e
here=$(dirname "$(readlink -f "$0")")
if [ -n "$BPFWATCH_APP_DIR" ]; then
    app=$BPFWATCH_APP_DIR
elif [ -f "$here/quarkus-app/quarkus-run.jar" ]; then
    app=$here/quarkus-app
elif [ -f "$here/../lib/bpfwatch/quarkus-run.jar" ]; then
    app=$(readlink -f "$here/../lib/bpfwatch")
else
    app=/usr/lib/bpfwatch
fi
if [ -n "$JAVA_HOME" ] && [ -x "$JAVA_HOME/bin/java" ]; then java=$JAVA_HOME/bin/java; else java=java; fi

# Small heap and serial GC: the daemon keeps little state and its hot path allocates one
# object per event. The heap may grow to 128 MiB when writer queues back up (a slow disk).
# Two malloc arenas; the daemon gives native memory back itself when it has gone quiet after
# work (NativeTrim: the JIT's arenas after start and after bursts), which keeps a loaded
# daemon's RSS ~80 MiB lower, instead of the JVM's every-5-s TrimNativeHeapInterval, which also
# trimmed in the middle of storms (~5 % of the daemon's CPU there). check/probe/version only
# need to start fast. No hsperfdata: its sampler wakes the JVM 20 times a second (and jps is
# not how a service is found). Less inlining in C2 (FreqInlineSize 325 -> 100, InlineSmallCode
# 2500 -> 1000): measured when the JSON line encoder was built on Jackson's generator (~12 KB of
# it inlined into one 52 KB compile), the first 200k events after start cost half the CPU (C2
# compiling was 70 % of it) and the peak RSS was ~11 MiB lower, warm CPU per event unchanged
# within noise (make bench-jvm; README, Performance). Not measured again since the encoder is
# bpfwatch's own. Fewer idle wakeups: the JVM's monitor deflation thread looks 4 times a second
# by default; with AsyncDeflationInterval=5000 its wait is bounded by GuaranteedSafepointInterval
# (1 s), so it looks once a second (measured idle). GuaranteedSafepointInterval=5000 (the VM
# thread's 1/s, and deflation's) was tried and left out: in
# 500k/s sweeps it lost events in the kernel in 5 of 13 runs against 0 of 12 alternating with
# it, though later runs of both lost on this shared machine too. Flags this JDK does not know
# are ignored rather than fatal.
case "$1" in
    run) flags="-Xms16m -Xmx128m -XX:+UseSerialGC -XX:MaxMetaspaceSize=96m -XX:ReservedCodeCacheSize=48m -Xss512k -XX:FreqInlineSize=100 -XX:InlineSmallCode=1000 -XX:-UsePerfData -XX:+IgnoreUnrecognizedVMOptions -XX:+UnlockDiagnosticVMOptions -XX:AsyncDeflationInterval=5000"
         export MALLOC_ARENA_MAX=${MALLOC_ARENA_MAX:-2} ;;
    *)   flags="-Xmx64m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto" ;;
esac
# JNA unpacks its native stub into a temp dir; make it one the service may write.
jna_tmp=${BPFWATCH_JNA_TMPDIR:-${TMPDIR:-/tmp}}

exec "$java" $flags -Djna.tmpdir="$jna_tmp" -Djava.util.logging.manager=org.jboss.logmanager.LogManager \
    $BPFWATCH_JAVA_OPTS -jar "$app/quarkus-run.jar" "$@"
