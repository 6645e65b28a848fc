package io.bpfwatch.monitor;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import io.prometheus.client.Collector;
import io.prometheus.client.CollectorRegistry;
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

    /**
     * The Prometheus client registry beneath the registry (for collectors whose samples are
     * computed at scrape time), or null if there is none.
     */
    public CollectorRegistry prometheus() {
        return prometheus(registry);
    }

    public static CollectorRegistry prometheus(MeterRegistry registry) {
        if (registry instanceof PrometheusMeterRegistry p) return p.getPrometheusRegistry();
        if (registry instanceof CompositeMeterRegistry c) {
            for (MeterRegistry r : c.getRegistries()) {
                CollectorRegistry found = prometheus(r);
                if (found != null) return found;
            }
        }
        return null;
    }

    /** Registers a collector with {@link #prometheus()} until these meters close; false if there is no such registry. */
    public boolean collector(Collector c) {
        CollectorRegistry p = prometheus();
        if (p == null) return false;
        c.register(p);
        onClose(() -> p.unregister(c));
        return true;
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
