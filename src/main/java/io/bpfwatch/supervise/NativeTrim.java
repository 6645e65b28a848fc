package io.bpfwatch.supervise;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import org.jboss.logging.Logger;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;

/**
 * Gives the C heap's free memory back to the system (glibc's {@code malloc_trim}) when it is
 * worth it, in place of the JVM's trimmer ({@code -XX:TrimNativeHeapInterval}), which trimmed
 * every 5 s whatever the load: under a connect or query storm each trim took 1-3 ms of pages
 * that malloc wanted back at once, ~5 % of the daemon's CPU. Asked every 5 s by the
 * supervisor's housekeeping: a daemon that has gone quiet after work, or whose JIT compiled
 * since (the compiler's arenas are most of what there is to give back), trims once; one that
 * stays busy, once a minute, and once when its JIT goes quiet (so a daemon started under load
 * settles within seconds of its warm-up, not a minute after it); an idle one, not at all.
 */
final class NativeTrim {
    private static final Logger LOG = Logger.getLogger(NativeTrim.class);
    /** Busy: the process used more than 2 % of a CPU since the last look. */
    static final long BUSY_CPU_PER_SECOND_NANOS = 20_000_000L;
    static final long BUSY_TRIM_EVERY_NANOS = 60_000_000_000L;

    private final com.sun.management.OperatingSystemMXBean os;
    private final CompilationMXBean jit;
    private final boolean available;

    private boolean started;
    private long lastLook, lastCpu, lastCompile, lastTrim;
    /** The JIT compiled between the two looks before this one. */
    private boolean compiledBefore;
    /** Memory may have been freed since the last trim. */
    private boolean dirty;
    private long trims;

    NativeTrim() {
        java.lang.management.OperatingSystemMXBean bean = ManagementFactory.getOperatingSystemMXBean();
        os = bean instanceof com.sun.management.OperatingSystemMXBean b ? b : null;
        CompilationMXBean c = ManagementFactory.getCompilationMXBean();
        jit = c != null && c.isCompilationTimeMonitoringSupported() ? c : null;
        available = os != null && Glibc.load();
    }

    /** Looks, and trims if due. */
    void tick() {
        if (!available) return;
        if (due(System.nanoTime(), os.getProcessCpuTime(), jit == null ? 0 : jit.getTotalCompilationTime())) {
            Glibc.malloc_trim(0);
            trims++;
        }
    }

    long trims() {
        return trims;
    }

    /** Whether to trim now, given the time, the process's CPU time and the JIT's total compile time. */
    boolean due(long now, long cpuNanos, long compileMillis) {
        if (!started) {
            // the start's allocations (class loading, the first compiles) are there to give back
            started = true;
            dirty = true;
            lastLook = lastTrim = now;
            lastCpu = cpuNanos;
            lastCompile = compileMillis;
            return false;
        }
        long elapsed = Math.max(1, now - lastLook);
        boolean busy = (cpuNanos - lastCpu) > BUSY_CPU_PER_SECOND_NANOS * (double) elapsed / 1e9;
        boolean compiled = compileMillis != lastCompile;
        boolean jitWentQuiet = compiledBefore && !compiled;
        lastLook = now;
        lastCpu = cpuNanos;
        lastCompile = compileMillis;
        compiledBefore = compiled;
        if (busy) {
            dirty = true;
            if (!jitWentQuiet && now - lastTrim < BUSY_TRIM_EVERY_NANOS) return false;
        } else if (!dirty && !compiled) {
            return false;
        } else {
            dirty = false;
        }
        lastTrim = now;
        return true;
    }

    /** glibc's malloc_trim, bound on its own: another C library has none, and then nothing is trimmed. */
    static final class Glibc {
        private static Boolean loaded;

        static synchronized boolean load() {
            if (loaded == null) {
                try {
                    Native.register(Glibc.class, NativeLibrary.getInstance("c"));
                    loaded = true;
                } catch (UnsatisfiedLinkError | RuntimeException e) {
                    LOG.debugf("no malloc_trim in this C library (%s): native memory is not trimmed", e.toString());
                    loaded = false;
                }
            }
            return loaded;
        }

        static native int malloc_trim(long pad);
    }
}
