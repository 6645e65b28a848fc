package io.bpfwatch.monitor;

import java.util.List;
import java.util.function.Consumer;

/**
 * A live monitor, as the supervisor drives it: started once, stopped once. A BPF object with its
 * ring reader ({@link BpfMonitor}) or a supervised child process; the supervisor treats both alike.
 */
public interface Monitor {
    /**
     * Loads, attaches and starts delivering events. On failure nothing stays attached and the
     * exception says why. {@code onFailure} is called (once, from any thread) if it breaks later.
     */
    void start(Consumer<Throwable> onFailure) throws Exception;

    /** Detaches, delivers what was already produced, releases everything. Safe to call twice. */
    void stop();

    /** Where it is attached, as /monitors shows it. */
    List<String> attachPoints();

    /** Its event loop is alive and turning (the watchdog and /health/live). */
    boolean alive();
}
