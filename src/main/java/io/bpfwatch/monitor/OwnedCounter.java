package io.bpfwatch.monitor;

import io.micrometer.core.instrument.FunctionCounter;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A counter incremented per event by one thread at a time (a monitor's reader; a restart's
 * new reader starts after the old one has ended), read at scrape time. An increment is a plain
 * add and an opaque store, where Micrometer's counter (a DoubleAdder) does a compare-and-set on
 * every event. Registered as a {@link FunctionCounter}, so the series is the same
 * {@code _total} with the same name, help and labels; a scrape sees every increment made before
 * it started, give or take the ones in flight.
 */
public final class OwnedCounter {
    private static final VarHandle COUNT;

    static {
        try {
            COUNT = MethodHandles.lookup().findVarHandle(OwnedCounter.class, "count", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private long count;

    /**
     * Registers a counter on {@code meters}, which remove it with the monitor. The caller keeps
     * the counter returned: a function counter holds its object weakly.
     */
    public static OwnedCounter register(Meters meters, String name, String description, String... tags) {
        OwnedCounter c = new OwnedCounter();
        meters.add(FunctionCounter.builder(name, c, OwnedCounter::count).tags(tags).description(description)
                .register(meters.registry()));
        return c;
    }

    /** The owning thread only. */
    public void increment() {
        COUNT.setOpaque(this, count + 1);
    }

    /** Any thread. */
    public double count() {
        return (long) COUNT.getOpaque(this);
    }
}
