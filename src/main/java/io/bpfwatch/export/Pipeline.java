package io.bpfwatch.export;

import io.bpfwatch.config.OtlpConfig;
import io.bpfwatch.event.Event;
import io.bpfwatch.sink.QueueBudget;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.metrics.MeterProvider;
import io.opentelemetry.exporter.otlp.http.logs.OtlpHttpLogRecordExporter;
import io.opentelemetry.exporter.otlp.http.metrics.OtlpHttpMetricExporter;
import io.opentelemetry.exporter.otlp.logs.OtlpGrpcLogRecordExporter;
import io.opentelemetry.exporter.otlp.metrics.OtlpGrpcMetricExporter;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.common.InstrumentationScopeInfo;
import io.opentelemetry.sdk.common.export.MemoryMode;
import io.opentelemetry.sdk.logs.data.LogRecordData;
import io.opentelemetry.sdk.logs.export.LogRecordExporter;
import io.opentelemetry.sdk.metrics.data.MetricData;
import io.opentelemetry.sdk.metrics.export.MetricExporter;
import io.opentelemetry.sdk.resources.Resource;
import io.prometheus.client.CollectorRegistry;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.ObjLongConsumer;

/**
 * One configured exporter: a bounded queue of events, the thread that sends them as log records
 * in batches, and a timer that sends the metrics. A batch the collector did not take is sent
 * again, after 1 s, 2 s, ... up to 30 s, while new events wait in the queue; so a collector that
 * is down loses nothing until the queue is full, and then only what is counted. On a stop or a
 * reload what is still queued gets {@link #CLOSE_WAIT_MS} to go out, and what does not is counted.
 */
final class Pipeline {
    private static final Logger LOG = Logger.getLogger(Pipeline.class);
    static final long CLOSE_WAIT_MS = 1000;
    /** How often an idle sender looks at its queue: the most an event waits before its batch goes. */
    private static final long IDLE_NANOS = TimeUnit.MILLISECONDS.toNanos(200);
    private static final long MAX_BACKOFF_NANOS = TimeUnit.SECONDS.toNanos(30);

    private final OtlpConfig config;
    private final ArrayBlockingQueue<Event> queue;
    /**
     * What the queued events may take of the heap, besides the queue's count: a custom monitor's
     * event is as large as its line. A quarter of the max heap, apart from the logs' half, so a
     * collector that is away never takes heap the audit logs need.
     */
    private final QueueBudget budget = new QueueBudget(Runtime.getRuntime().maxMemory() / 4);
    private final LogRecordExporter logs;
    private final MetricExporter metrics;
    private final Resource base;
    private final Map<String, Resource> resources = new ConcurrentHashMap<>();
    private final EventRecords records;
    private final CollectorRegistry prometheus;
    private final OtlpExport.Stats stats;
    private final ObjLongConsumer<String> lost;
    private final long startNanos = TimeUnit.MILLISECONDS.toNanos(ManagementFactory.getRuntimeMXBean().getStartTime());
    private Thread sender;
    private ScheduledExecutorService timer;
    private volatile boolean stopping;
    private volatile long closeDeadline;
    private volatile boolean logsHealthy = true, metricsHealthy = true;
    private final Complaints complaints = new Complaints();
    /** The HTTP client's threads (they marshal the requests too): low priority, like the sender. */
    private final ExecutorService io = new ThreadPoolExecutor(0, Integer.MAX_VALUE, 60, TimeUnit.SECONDS, new SynchronousQueue<>(),
            r -> LowPriority.thread("bpfwatch-otlp-io", r));

    Pipeline(OtlpConfig config, Resource base, InstrumentationScopeInfo scope, CollectorRegistry prometheus,
             OtlpExport.Stats stats, ObjLongConsumer<String> lost) throws IOException {
        this.config = config;
        this.base = base;
        this.prometheus = prometheus;
        this.stats = stats;
        this.lost = lost;
        int capacity = capacity(config.queueSize(), Runtime.getRuntime().maxMemory());
        if (capacity < config.queueSize()) {
            LOG.warnf("export.otlp: queue-size %d is more than this daemon's heap (%d MiB) holds while a collector is away: at most %d"
                    + " events wait (raise -Xmx in BPFWATCH_JAVA_OPTS to let more wait)", config.queueSize(), Runtime.getRuntime().maxMemory() >> 20, capacity);
        }
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.records = new EventRecords(scope, this::resource);
        this.logs = config.logs() ? logExporter(config, io) : null;
        this.metrics = config.metrics() && prometheus != null ? metricExporter(config, io) : null;
    }

    /**
     * Heap per waiting event the queue may count on: a waiting event is 0.2-0.5 KiB (a zfs or tcp
     * event, a dns query with its answer), so a full queue takes at most a third to a half of the
     * heap, and the log writers' queues and the daemon the rest. With the allowed 4 Mi and the
     * shipped 128 MiB heap, a collector away during an ioctl storm ran the daemon out of memory.
     */
    static final long HEAP_PER_EVENT = 1024;

    /** The queue's capacity: as configured, but never more than {@code maxHeap} holds (and at least 1024). */
    static int capacity(int configured, long maxHeap) {
        return (int) Math.min(configured, Math.max(1024, maxHeap / HEAP_PER_EVENT));
    }

    private Resource resource(String monitor) {
        return resources.computeIfAbsent(monitor, m -> base.merge(Resource.create(Attributes.of(AttributeKey.stringKey("bpfwatch.monitor"), m))));
    }

    void start() {
        if (logs != null) {
            sender = LowPriority.thread("bpfwatch-otlp-logs", this::sendLoop);
            sender.start();
        }
        if (metrics != null) {
            timer = Executors.newSingleThreadScheduledExecutor(r -> LowPriority.thread("bpfwatch-otlp-metrics", r));
            long every = config.metricsInterval().toMillis();
            timer.scheduleWithFixedDelay(this::pushMetrics, every, every, TimeUnit.MILLISECONDS);
        }
    }

    boolean selects(String monitor) {
        return logs != null && config.selects(monitor);
    }

    boolean offer(Event e) {
        int weight = e.weight();
        if (!budget.take(weight)) {
            complaints.once("events are dropped (counted in lost{stage=\"export\"}): those waiting for the collector hold "
                    + (budget.limit() >> 20) + " MiB, the most this daemon's heap allows them (a quarter of -Xmx)");
            return false;
        }
        if (queue.offer(e)) return true;
        budget.give(weight);
        return false;
    }

    /** The events are sent or counted: their heap is free for others. */
    private void done(List<Event> events) {
        budget.give(events, events.size());
        events.clear();
    }

    int queued() {
        return queue.size();
    }

    boolean healthy() {
        return logsHealthy && metricsHealthy;
    }

    // ---- events ----

    private void sendLoop() {
        List<Event> events = new ArrayList<>(config.batchSize());
        List<LogRecordData> batch = null;
        long backoff = 0;
        while (!stopping) {
            if (batch == null) {
                queue.drainTo(events, config.batchSize());
                if (events.isEmpty()) {
                    LockSupport.parkNanos(this, IDLE_NANOS);
                    continue;
                }
                batch = convert(events);
            }
            if (send(batch, config.timeout().toNanos())) {
                done(events);
                batch = null;
                backoff = 0;
            } else {
                backoff = Math.min(MAX_BACKOFF_NANOS, Math.max(TimeUnit.SECONDS.toNanos(1), backoff * 2));
                long until = System.nanoTime() + backoff;
                for (long left; !stopping && (left = until - System.nanoTime()) > 0; ) LockSupport.parkNanos(this, left);
            }
        }
        // stopping: what is left gets until the deadline, in order; the rest is counted lost
        boolean up = true;
        while (up) {
            if (batch == null) {
                queue.drainTo(events, config.batchSize());
                if (events.isEmpty()) break;
                batch = convert(events);
            }
            long left = closeDeadline - System.nanoTime();
            up = left > 0 && send(batch, left);
            if (up) {
                done(events);
                batch = null;
            }
        }
        queue.drainTo(events);
        countLost(events);
    }

    private List<LogRecordData> convert(List<Event> events) {
        List<LogRecordData> out = new ArrayList<>(events.size());
        long now = System.currentTimeMillis() * 1_000_000L;
        for (int i = 0; i < events.size(); i++) {
            Event e = events.get(i);
            try {
                out.add(records.record(e, now));
            } catch (IOException | RuntimeException x) {
                lost.accept(e.monitor(), 1);
                complaints.once("an event could not be made a log record (" + x + "); such events are counted in lost{stage=\"export\"}");
                events.remove(i--);
                budget.give(e.weight());
            }
        }
        return out;
    }

    private boolean send(List<LogRecordData> batch, long timeoutNanos) {
        if (batch.isEmpty()) return true;
        CompletableResultCode r;
        try {
            r = logs.export(batch).join(timeoutNanos, TimeUnit.NANOSECONDS);
        } catch (RuntimeException e) {
            r = CompletableResultCode.ofExceptionalFailure(e);
        }
        if (r.isSuccess()) {
            stats.logsOk.increment();
            stats.records.increment(batch.size());
            if (!logsHealthy) LOG.infof("export.otlp: the collector at %s takes events again", config.endpoint());
            logsHealthy = true;
            return true;
        }
        stats.logsFailed.increment();
        if (complaints.due(logsHealthy)) {
            LOG.warnf("export.otlp: sending %d events to %s failed (%s); retrying, %d events wait in the queue",
                    batch.size(), config.endpoint(), why(r), queue.size());
        }
        logsHealthy = false;
        return false;
    }

    /** Events counted lost when the sender stopped (a stop's last line says how many). */
    private volatile long unsent;

    long unsent() {
        return unsent;
    }

    private void countLost(List<Event> events) {
        if (events.isEmpty()) return;
        unsent += events.size();
        Map<String, Long> byMonitor = new HashMap<>();
        for (Event e : events) byMonitor.merge(e.monitor(), 1L, Long::sum);
        byMonitor.forEach(lost::accept);
        LOG.warnf("export.otlp: %d events were not sent to %s before the exporter stopped (counted in lost{stage=\"export\"})",
                events.size(), config.endpoint());
        done(events);
    }

    private static String why(CompletableResultCode r) {
        Throwable t = r.getFailureThrowable();
        if (t == null) return r.isDone() ? "the collector refused it" : "no answer in time";
        String m = t.getMessage();
        return m == null ? t.getClass().getSimpleName() : m;
    }

    // ---- metrics ----

    private void pushMetrics() {
        try {
            long now = System.currentTimeMillis() * 1_000_000L;
            List<MetricData> data = PrometheusMetrics.convert(prometheus.metricFamilySamples(), base, OtlpExport.SCOPE, startNanos, now);
            CompletableResultCode r = metrics.export(data).join(config.timeout().toNanos(), TimeUnit.NANOSECONDS);
            if (r.isSuccess()) {
                stats.metricsOk.increment();
                long points = 0;
                for (MetricData m : data) points += m.getData().getPoints().size();
                stats.points.increment(points);
                if (!metricsHealthy) LOG.infof("export.otlp: the collector at %s takes metrics again", config.endpoint());
                metricsHealthy = true;
            } else {
                stats.metricsFailed.increment();
                if (complaints.due(metricsHealthy)) LOG.warnf("export.otlp: sending metrics to %s failed (%s); next try in %d s",
                        config.endpoint(), why(r), config.metricsInterval().toSeconds());
                metricsHealthy = false;
            }
        } catch (RuntimeException e) {
            stats.metricsFailed.increment();
            metricsHealthy = false;
            complaints.once("export.otlp: reading the metrics failed: " + e);
        }
    }

    /** Stops sending: what is queued gets {@code waitMs} to go out; then the exporters close. */
    long close(long waitMs) {
        closeDeadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMs);
        stopping = true;
        if (timer != null) timer.shutdownNow();
        if (sender != null) {
            LockSupport.unpark(sender);
            try {
                sender.join(waitMs + config.timeout().toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (logs != null) logs.shutdown();
        if (metrics != null) metrics.shutdown();
        io.shutdownNow(); // given to the exporters, so not theirs to stop
        return unsent;
    }

    // ---- building ----

    private static String http(OtlpConfig c, String signal) {
        String base = c.endpoint().toString();
        return (base.endsWith("/") ? base.substring(0, base.length() - 1) : base) + "/v1/" + signal;
    }

    private static LogRecordExporter logExporter(OtlpConfig c, ExecutorService io) throws IOException {
        Tls tls = Tls.read(c);
        if (c.protocol() == OtlpConfig.Protocol.GRPC) {
            var b = OtlpGrpcLogRecordExporter.builder().setEndpoint(c.endpoint().toString()).setTimeout(c.timeout())
                    .setCompression(c.gzip() ? "gzip" : "none").setRetryPolicy(null).setMeterProvider(MeterProvider::noop)
                    .setMemoryMode(MemoryMode.REUSABLE_DATA).setExecutorService(io);
            c.headers().forEach(b::addHeader);
            if (tls.ca != null) b.setTrustedCertificates(tls.ca);
            if (tls.key != null) b.setClientTls(tls.key, tls.cert);
            return b.build();
        }
        var b = OtlpHttpLogRecordExporter.builder().setEndpoint(http(c, "logs")).setTimeout(c.timeout())
                .setCompression(c.gzip() ? "gzip" : "none").setRetryPolicy(null).setMeterProvider(MeterProvider::noop)
                    .setMemoryMode(MemoryMode.REUSABLE_DATA).setExecutorService(io);
        c.headers().forEach(b::addHeader);
        if (tls.ca != null) b.setTrustedCertificates(tls.ca);
        if (tls.key != null) b.setClientTls(tls.key, tls.cert);
        return b.build();
    }

    private static MetricExporter metricExporter(OtlpConfig c, ExecutorService io) throws IOException {
        Tls tls = Tls.read(c);
        if (c.protocol() == OtlpConfig.Protocol.GRPC) {
            var b = OtlpGrpcMetricExporter.builder().setEndpoint(c.endpoint().toString()).setTimeout(c.timeout())
                    .setCompression(c.gzip() ? "gzip" : "none").setRetryPolicy(null).setMeterProvider(MeterProvider::noop)
                    .setMemoryMode(MemoryMode.REUSABLE_DATA).setExecutorService(io);
            c.headers().forEach(b::addHeader);
            if (tls.ca != null) b.setTrustedCertificates(tls.ca);
            if (tls.key != null) b.setClientTls(tls.key, tls.cert);
            return b.build();
        }
        var b = OtlpHttpMetricExporter.builder().setEndpoint(http(c, "metrics")).setTimeout(c.timeout())
                .setCompression(c.gzip() ? "gzip" : "none").setRetryPolicy(null).setMeterProvider(MeterProvider::noop)
                    .setMemoryMode(MemoryMode.REUSABLE_DATA).setExecutorService(io);
        c.headers().forEach(b::addHeader);
        if (tls.ca != null) b.setTrustedCertificates(tls.ca);
        if (tls.key != null) b.setClientTls(tls.key, tls.cert);
        return b.build();
    }

    /** The PEM files of export.otlp.tls, read when the exporter is built (a reload reads them again). */
    private record Tls(byte[] ca, byte[] cert, byte[] key) {
        static Tls read(OtlpConfig c) throws IOException {
            if (c.tls() == null) return new Tls(null, null, null);
            return new Tls(c.tls().ca() == null ? null : Files.readAllBytes(c.tls().ca()),
                    c.tls().cert() == null ? null : Files.readAllBytes(c.tls().cert()),
                    c.tls().key() == null ? null : Files.readAllBytes(c.tls().key()));
        }
    }

    /** Warnings about a collector that stays away: the first at once, then at most one a minute. */
    private static final class Complaints {
        private volatile long last;
        private volatile boolean any;
        private final java.util.Set<String> said = ConcurrentHashMap.newKeySet();

        /** Whether to warn of a failure: always right after a success, else once a minute. */
        boolean due(boolean wasHealthy) {
            long now = System.nanoTime();
            if (!wasHealthy && any && now - last < TimeUnit.MINUTES.toNanos(1)) return false;
            last = now;
            any = true;
            return true;
        }

        void once(String message) {
            if (said.size() < 16 && said.add(message)) LOG.warn(message);
        }
    }
}
