package io.bpfwatch.monitor;

import io.bpfwatch.sink.EventLog;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The self-health metrics every monitor has (PRODUCT.md), owned by its supervisor slot and so
 * kept across restarts: events caused = bpfwatch_events_total + lost{kernel} + lost{queue},
 * always; lost{decode} counts records the decoder refused, lost{write} events the file write
 * failed for.
 */
public final class MonitorMetrics {
    private static final String LOST_HELP = "Events lost, by stage: kernel (ring buffer full), queue (writer queue full), write (file write failed), decode (malformed record), export (not sent to the OTLP collector; the file has them)";

    public final String monitor;
    /** What the monitor's log accepted ({@link #countEventsOf}): exact, and no count kept per event. */
    public final FunctionCounter events;
    public final Counter lostQueue;
    public final Counter lostWrite;
    public final Counter lostDecode;
    /** Events export.otlp did not send (its queue was full, or it stopped first); the log file has them. */
    public final Counter lostExport;
    public final Counter restarts;
    private final KernelCounter kernelLoss = new KernelCounter();
    private final AtomicReference<MonitorState> state = new AtomicReference<>(MonitorState.DISABLED);
    private final Meters meters;
    /** Whose accepted events {@link #events} counts ({@link #countEventsOf}). */
    private volatile EventLog log;
    private final Map<String, Counter> byUnit = new ConcurrentHashMap<>();
    /** The last seconds' events and top keys (bpfwatch top), filled by the monitor's log writer. */
    public final io.bpfwatch.top.RecentActivity recent = new io.bpfwatch.top.RecentActivity();

    public MonitorMetrics(String monitor, Meters meters) {
        this.monitor = monitor;
        this.meters = meters;
        var registry = meters.registry();
        events = meters.add(FunctionCounter.builder("bpfwatch.events", this, MonitorMetrics::accepted).tag("monitor", monitor)
                .description("Events decoded from the kernel and queued for the log (a full queue counts in lost{stage=queue} instead)").register(registry));
        lostQueue = lost(meters, "queue");
        lostWrite = lost(meters, "write");
        lostDecode = lost(meters, "decode");
        lostExport = lost(meters, "export");
        meters.add(FunctionCounter.builder("bpfwatch.events.lost", kernelLoss, KernelCounter::read)
                .tags("monitor", monitor, "stage", "kernel").description(LOST_HELP).register(registry));
        restarts = meters.add(Counter.builder("bpfwatch.monitor.restarts").tag("monitor", monitor)
                .description("Times the monitor was restarted after a failure").register(registry));
        meters.add(Gauge.builder("bpfwatch.monitor.up", state, s -> s.get() == MonitorState.RUNNING ? 1 : 0)
                .tag("monitor", monitor).description("1 if the monitor is attached and running, else 0").register(registry));
        for (MonitorState s : MonitorState.values()) {
            meters.add(Gauge.builder("bpfwatch.monitor.state", state, st -> st.get() == s ? 1 : 0)
                    .tags("monitor", monitor, "state", s.label())
                    .description("1 for the monitor's current state, 0 for the others").register(registry));
        }
    }

    /**
     * The events counted are those {@code log} accepts: a monitor has one log for as long as it
     * has these metrics (its restarts and reloads keep it), and the log's queue already counts
     * what it accepted, exactly, with the compare-and-set that claims a slot. A Micrometer
     * counter incremented per event added another (its DoubleAdder's) on the reader's thread.
     */
    public void countEventsOf(EventLog log) {
        this.log = log;
    }

    private double accepted() {
        EventLog l = log;
        return l == null ? 0 : l.accepted();
    }

    private Counter lost(Meters meters, String stage) {
        return meters.add(Counter.builder("bpfwatch.events.lost").tags("monitor", monitor, "stage", stage)
                .description(LOST_HELP).register(meters.registry()));
    }

    /**
     * The counter of this monitor's events from systemd unit {@code unit} (null: not in a unit):
     * the first {@code max} units seen get their own series, later ones count as "other", events
     * outside any unit as "none", so the series stay bounded whatever runs on the host.
     */
    public Counter unitEvents(String unit, int max) {
        String label = unit == null ? "none" : unit;
        Counter c = byUnit.get(label);
        if (c != null) return c;
        if (unit != null) {
            int units = byUnit.size() - (byUnit.containsKey("none") ? 1 : 0) - (byUnit.containsKey("other") ? 1 : 0);
            if (units >= max) label = "other";
        }
        return byUnit.computeIfAbsent(label, l -> meters.add(Counter.builder("bpfwatch.unit.events")
                .tags("monitor", monitor, "unit", l)
                .description("Events by the systemd unit of their process (monitors with unit-label: the first N units, then other)")
                .register(meters.registry())));
    }

    public void state(MonitorState s) {
        state.set(s);
    }

    public MonitorState state() {
        return state.get();
    }

    /** Events lost at every stage so far. */
    public long lostTotal() {
        return (long) (kernelLoss.read() + lostQueue.count() + lostWrite.count() + lostDecode.count());
    }

    /** Records the kernel could not queue (the object's bw_lost map). */
    public KernelCounter kernelLoss() {
        return kernelLoss;
    }
}
