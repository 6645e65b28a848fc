package io.bpfwatch.monitor;

import io.bpfwatch.event.Event;
import io.bpfwatch.sink.EventLog;
import org.jboss.logging.Logger;

/** Where a monitor's decoder puts events: counted, then queued for the log writer. */
public final class EventOutput {
    private static final Logger LOG = Logger.getLogger(EventOutput.class);
    private final MonitorMetrics metrics;
    private final EventLog log;
    private long lastComplaint;

    public EventOutput(MonitorMetrics metrics, EventLog log) {
        this.metrics = metrics;
        this.log = log;
    }

    public void emit(Event e) {
        // a full queue counts the event in lost{queue} instead: events caused = events + kernel + queue
        if (log.offer(e)) metrics.events.increment();
    }

    /** After a batch of emits (a ring drain, a tick): wakes the log writer if it sleeps. */
    public void endOfBatch() {
        log.signal();
    }

    /** A record the decoder could not make sense of: counted, reported at most once a minute. */
    public void malformed(String why) {
        metrics.lostDecode.increment();
        long now = System.nanoTime();
        if (lastComplaint == 0 || now - lastComplaint > 60_000_000_000L) {
            lastComplaint = now;
            LOG.warnf("%s: dropped a malformed kernel record (%s); further ones are only counted in bpfwatch_events_lost_total{stage=\"decode\"}",
                    metrics.monitor, why);
        }
    }
}
