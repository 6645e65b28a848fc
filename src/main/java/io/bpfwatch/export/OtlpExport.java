package io.bpfwatch.export;

import io.bpfwatch.Version;
import io.bpfwatch.config.OtlpConfig;
import io.bpfwatch.event.Event;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.resources.Resource;
import io.prometheus.client.CollectorRegistry;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * export.otlp: the daemon's one OTLP exporter, replaced on reload when its config changes. Every
 * monitor's reader hands its events to {@link #offer} beside the log file's queue; the export
 * has a bounded queue of its own, so a slow or absent collector never holds up a reader or a
 * file: what does not fit is counted in bpfwatch_events_lost_total{stage="export"} of its
 * monitor, and the file still has it.
 */
public final class OtlpExport implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(OtlpExport.class);

    private final CollectorRegistry prometheus;
    private final Map<String, Counter> lost = new ConcurrentHashMap<>();
    final Stats stats;
    private volatile Pipeline current;
    private OtlpConfig config;

    /** Export counters, kept across reloads. */
    static final class Stats {
        final Counter logsOk, logsFailed, metricsOk, metricsFailed, records, points;

        Stats(MeterRegistry r) {
            logsOk = exports(r, "logs", "ok");
            logsFailed = exports(r, "logs", "failed");
            metricsOk = exports(r, "metrics", "ok");
            metricsFailed = exports(r, "metrics", "failed");
            records = Counter.builder("bpfwatch.otlp.sent").tag("signal", "logs")
                    .description("Log records and metric data points the collector accepted").register(r);
            points = Counter.builder("bpfwatch.otlp.sent").tag("signal", "metrics")
                    .description("Log records and metric data points the collector accepted").register(r);
        }

        private static Counter exports(MeterRegistry r, String signal, String result) {
            return Counter.builder("bpfwatch.otlp.exports").tags("signal", signal, "result", result)
                    .description("OTLP export requests, by signal and result (a failed one is retried)").register(r);
        }
    }

    public OtlpExport(MeterRegistry registry, CollectorRegistry prometheus) {
        this.prometheus = prometheus;
        this.stats = new Stats(registry);
        Gauge.builder("bpfwatch.otlp.queue.events", this, x -> {
            Pipeline p = x.current;
            return p == null ? 0 : p.queued();
        }).description("Events waiting to be sent to the OTLP collector").register(registry);
        Gauge.builder("bpfwatch.otlp.up", this, x -> {
            Pipeline p = x.current;
            return p != null && p.healthy() ? 1 : 0;
        }).description("1 if export.otlp is configured and its last export succeeded, else 0").register(registry);
    }

    /** The monitor's lost{stage=export} counter, for the events its queue drops on a stop or a reload. */
    public void lossCounter(String monitor, Counter c) {
        if (c == null) lost.remove(monitor);
        else lost.put(monitor, c);
    }

    /** Starts, replaces or stops the exporter; nothing happens if {@code next} equals what runs. */
    public synchronized void apply(OtlpConfig next) {
        if (Objects.equals(next, config)) return;
        Pipeline old = current;
        Pipeline started = null;
        if (next != null) {
            try {
                started = new Pipeline(next, base(next), SCOPE, prometheus, stats, this::lost);
                started.start();
            } catch (RuntimeException | IOException e) {
                LOG.errorf("export.otlp: cannot export to %s: %s", next.endpoint(), e.getMessage());
                started = null;
            }
        }
        current = started;
        config = next;
        if (old != null) old.close(Pipeline.CLOSE_WAIT_MS);
        if (started != null) {
            LOG.infof("export.otlp: %s to %s (%s%s)", (next.logs() ? "events" : "") + (next.logs() && next.metrics() ? " and " : "")
                            + (next.metrics() ? "metrics every " + next.metricsInterval().toSeconds() + " s" : ""),
                    next.endpoint(), next.protocol().word, next.monitors().isEmpty() ? ", every monitor" : ", monitors " + String.join(", ", next.monitors()));
        } else if (old != null) {
            LOG.info("export.otlp: stopped");
        }
    }

    /** From a monitor's reader: queues the event if its monitor is exported; a full queue counts in {@code lostExport}. */
    public void offer(String monitor, Event e, Counter lostExport) {
        Pipeline p = current;
        if (p != null && p.selects(monitor) && !p.offer(e)) lostExport.increment();
    }

    /** Whether an exporter runs (tests, /monitors). */
    public boolean active() {
        return current != null;
    }

    private void lost(String monitor, long n) {
        Counter c = lost.get(monitor);
        if (c != null && n > 0) c.increment(n);
    }

    private volatile long unsentAtStop;

    @Override
    public synchronized void close() {
        Pipeline p = current;
        current = null;
        config = null;
        if (p != null) unsentAtStop = p.close(Pipeline.CLOSE_WAIT_MS);
    }

    /** Events that were still waiting for the collector when the daemon stopped (counted lost). */
    public long unsentAtStop() {
        return unsentAtStop;
    }

    // ---- resources ----

    static final InstrumentationScopeInfo SCOPE = InstrumentationScopeInfo.builder("io.bpfwatch").setVersion(Version.get()).build();

    private static Resource base(OtlpConfig c) {
        AttributesBuilder b = Attributes.builder();
        b.put("service.name", "bpfwatch");
        b.put("service.version", Version.get());
        b.put("host.name", hostName());
        c.resource().forEach(b::put); // the config's own attributes win
        return Resource.create(b.build());
    }

    static String hostName() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/hostname"), StandardCharsets.UTF_8).strip();
        } catch (IOException | RuntimeException e) {
            return "localhost";
        }
    }
}
