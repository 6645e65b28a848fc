package io.bpfwatch.monitor;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import org.jboss.logging.Logger;

import java.util.ArrayList;
import java.util.List;

/**
 * The meters of one configured monitor. Its supervisor slot owns them: they outlive restarts of
 * the monitor, and when a reload removes the monitor from the config they leave the registry
 * with it. Everything a monitor registers goes through here ({@link #add}), so nothing lingers.
 */
public final class Meters implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Meters.class);
    private final MeterRegistry registry;
    private final List<Meter> meters = new ArrayList<>();
    private final List<Runnable> onClose = new ArrayList<>();
    private boolean closed;

    public Meters(MeterRegistry registry) {
        this.registry = registry;
    }

    public MeterRegistry registry() {
        return registry;
    }

    /** Remembers a meter registered on {@link #registry()}: {@code meters.add(Counter.builder(..).register(meters.registry()))}. */
    public synchronized <T extends Meter> T add(T meter) {
        if (!closed) meters.add(meter);
        return meter;
    }

    /** Runs when the monitor leaves the config (collectors registered elsewhere, say). */
    public synchronized void onClose(Runnable r) {
        onClose.add(r);
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        for (Meter m : meters) registry.remove(m);
        meters.clear();
        for (Runnable r : onClose) {
            try {
                r.run();
            } catch (RuntimeException e) {
                LOG.warnf("removing a monitor's metrics: %s", e);
            }
        }
        onClose.clear();
    }
}
