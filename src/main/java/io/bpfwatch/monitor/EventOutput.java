package io.bpfwatch.monitor;

import io.bpfwatch.event.Event;
import io.bpfwatch.export.OtlpExport;
import io.bpfwatch.sink.EventLog;
import io.micrometer.core.instrument.Counter;
import org.jboss.logging.Logger;

/** Where a monitor's decoder puts events: counted, then queued for the log writer. */
public final class EventOutput {
    private static final Logger LOG = Logger.getLogger(EventOutput.class);
    private final MonitorMetrics metrics;
    private final EventLog log;
    private final int unitLabels;
    private long lastComplaint;
    // the last unit's counter: a busy unit's events skip the lookup
    private String lastUnit;
    private Counter lastUnitCounter;

    private final OtlpExport export;

    public EventOutput(MonitorMetrics metrics, EventLog log) {
        this(metrics, log, 0, null);
    }

    /**
     * {@code unitLabels} > 0: events are also counted by systemd unit (the first that many
     * units). {@code export}: where events also go when export.otlp is configured, or null.
     */
    public EventOutput(MonitorMetrics metrics, EventLog log, int unitLabels, OtlpExport export) {
        this.metrics = metrics;
        this.log = log;
        metrics.countEventsOf(log);
        this.unitLabels = unitLabels;
        this.export = export;
    }

    public void emit(Event e) {
        // a full queue counts the event in lost{queue} instead: events caused = events + kernel + queue
        if (log.offer(e)) { // counted in events_total by the log itself (MonitorMetrics.countEventsOf)
            if (unitLabels > 0) byUnit(e.context == null ? null : e.context.unit).increment();
        }
        // the export has its own queue: a slow collector never holds up the file, nor the file the collector
        if (export != null) export.offer(metrics.monitor, e, metrics.lostExport);
    }

    private Counter byUnit(String unit) {
        if (lastUnitCounter == null || !java.util.Objects.equals(unit, lastUnit)) {
            lastUnitCounter = metrics.unitEvents(unit, unitLabels);
            lastUnit = unit;
        }
        return lastUnitCounter;
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
