package io.bpfwatch.export;

import io.bpfwatch.libbpf.LibC;
import org.jboss.logging.Logger;

/**
 * Export's threads run at nice {@value #NICE}: the audit trail comes first. On a machine whose
 * CPUs are busy (a burst of events with the workload that causes it), the scheduler then gives
 * the ring buffer readers and the log writers the CPU before the export, so a burst the daemon
 * would keep up with alone is not lost in the kernel because of export; the export queue
 * overflows instead, and that is counted in lost{stage="export"}. Linux sets a nice value per
 * thread (setpriority with a thread id).
 */
final class LowPriority {
    static final int NICE = 10;
    private static final Logger LOG = Logger.getLogger(LowPriority.class);
    private static volatile boolean warned;

    private LowPriority() {}

    /** A daemon thread that lowers its own priority before it runs {@code r}. */
    static Thread thread(String name, Runnable r) {
        Thread t = new Thread(() -> {
            lower();
            r.run();
        }, name);
        t.setDaemon(true);
        return t;
    }

    /** Lowers the calling thread's priority; says once if it cannot. */
    static void lower() {
        String why;
        try {
            if (LibC.setpriority(LibC.PRIO_PROCESS, LibC.gettid(), NICE) == 0) return;
            why = "errno " + LibC.errno();
        } catch (LinkageError e) {
            why = e.toString();
        }
        if (!warned) {
            warned = true;
            LOG.warnf("export.otlp: cannot lower the priority of the export threads (%s); they compete with the readers for CPU", why);
        }
    }
}
