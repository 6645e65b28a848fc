package io.bpfwatch.monitor;

import io.bpfwatch.config.Section;
import io.bpfwatch.kernel.Kernel;

/**
 * A kind of monitor: the spec side, deterministic and built from files alone (its settings from
 * the config, its plan from what the kernel offers), and the factory of live instances, which
 * carry out the plan they are given. {@code S} is its settings record, {@code M} its own metrics,
 * made once per configured monitor and kept across restarts.
 *
 * A built-in kind's BPF object is derived from its name: monitors/NAME/NAME.bpf.o, shipped as the
 * resource bpf/NAME.bpf.o (see {@link BpfObjects}).
 */
public interface MonitorType<S extends MonitorSettings, M> {
    String name();

    /** One line for {@code bpfwatch probe} and the README. */
    String description();

    /**
     * The kernel ring buffer's size unless the config sets {@code ring-buffer}: sized for the
     * monitor's records and the rates it can meet (the kernel allocates the whole ring at load
     * and the reader maps it, so an oversized ring costs memory for nothing).
     */
    int defaultRingBuffer();

    /**
     * The process context ({@code context:}) its events carry unless configured, or null if its
     * records have no {@code struct bw_header} to take it from (then {@code context:} is an error).
     */
    default java.util.Set<io.bpfwatch.context.ContextField> defaultContext() {
        return null;
    }

    /** Reads this kind's own keys; {@code enabled} and {@code ring-buffer} are read by the loader. */
    S parse(Section section);

    /**
     * Can this kernel run it with these settings, and with which plan. Must be cheap: it is re-run
     * while the monitor is unavailable, and every few seconds while it runs.
     */
    Availability probe(Kernel kernel, S settings);

    /** The kind's own metrics for the monitor named {@code monitor}, registered through {@code meters}. */
    M metrics(String monitor, Meters meters);

    /** A live instance, not yet started, that will carry out {@code plan}. */
    Monitor create(MonitorConfig config, S settings, Plan plan, M metrics, MonitorContext context);

    /** {@link #probe} for settings this kind parsed (the config holds them untyped). */
    @SuppressWarnings("unchecked")
    default Availability probeParsed(Kernel kernel, MonitorSettings settings) {
        return probe(kernel, (S) settings);
    }
}
