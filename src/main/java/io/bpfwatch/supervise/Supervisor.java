package io.bpfwatch.supervise;

import io.bpfwatch.config.DaemonConfig;
import io.bpfwatch.config.LogsConfig;
import io.bpfwatch.context.CgroupResolver;
import io.bpfwatch.context.ContextResolver;
import io.bpfwatch.context.ContextSpec;
import io.bpfwatch.context.DnsNames;
import io.bpfwatch.context.ExeResolver;
import io.bpfwatch.context.HostContext;
import io.bpfwatch.kernel.Kernel;
import io.bpfwatch.monitor.Availability;
import io.bpfwatch.export.OtlpExport;
import io.bpfwatch.monitor.EventOutput;
import io.bpfwatch.monitor.Meters;
import io.bpfwatch.monitor.Monitor;
import io.bpfwatch.monitor.MonitorCatalog;
import io.bpfwatch.monitor.MonitorConfig;
import io.bpfwatch.monitor.MonitorContext;
import io.bpfwatch.monitor.MonitorMetrics;
import io.bpfwatch.monitor.MonitorSettings;
import io.bpfwatch.monitor.MonitorState;
import io.bpfwatch.monitor.MonitorType;
import io.bpfwatch.monitor.Plan;
import io.bpfwatch.sink.EventLog;
import io.bpfwatch.sink.QueueBudget;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.jboss.logging.Logger;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Keeps every configured monitor in its wanted state. Each monitor has a slot that owns what
 * outlives its restarts: its metrics, its event log, its state. A built-in kind always has a
 * slot (disabled when not configured); any other monitor has one while the config names it.
 *
 * All lifecycle work runs on one thread, so slots need no locks; readers see immutable
 * snapshots. A monitor that fails to start or whose decoder throws goes to backoff and is
 * retried (capped, jittered); one the kernel cannot run yet is re-probed every few seconds and
 * starts by itself when it can; one whose plan stops holding (its module went) is stopped and
 * probed again. Nothing one monitor does affects another.
 */
public final class Supervisor implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Supervisor.class);
    /** A run this long resets the backoff. */
    private static final Duration STABLE = Duration.ofSeconds(60);

    private final MonitorCatalog catalog;
    private final Kernel kernel;
    private final MeterRegistry registry;
    private final Backoff backoff;
    private final Duration reprobe;
    private final int queueCapacity;
    /** The heap every monitor's waiting events may take together. */
    private final QueueBudget queueBudget = QueueBudget.forHeap(Runtime.getRuntime().maxMemory());
    private final HostContext host;
    private final ScheduledExecutorService exec;
    private final OtlpExport export;
    private final Map<String, Slot<?, ?>> slots = new LinkedHashMap<>();
    private volatile List<View> snapshot = List.of();
    private volatile long heartbeat = System.nanoTime();
    private volatile long housekeepingRuns;
    private final NativeTrim nativeTrim = new NativeTrim();
    private LogsConfig logs;
    private boolean closed;

    public Supervisor(MonitorCatalog catalog, Kernel kernel, MeterRegistry registry, Backoff backoff, Duration reprobe, int queueCapacity) {
        this.catalog = catalog;
        this.kernel = kernel;
        this.registry = registry;
        this.backoff = backoff;
        this.reprobe = reprobe;
        this.queueCapacity = queueCapacity;
        this.host = HostContext.system();
        FunctionCounter.builder("bpfwatch.context.cgroup.scans", host.cgroups(), CgroupResolver::scans)
                .description("Walks of the cgroup filesystem to name a cgroup id not seen before").register(registry);
        FunctionCounter.builder("bpfwatch.context.cgroup.unresolved", host.cgroups(), CgroupResolver::unresolved)
                .description("Cgroup ids that could not be named (the cgroup was gone, or asked for again too soon)").register(registry);
        FunctionCounter.builder("bpfwatch.context.cgroup.recorded", host.cgroups(), CgroupResolver::fromKernel)
                .description("Cgroup ids named from the kernel's record of cgroups made while monitors ran (gone from the cgroup filesystem when asked)")
                .register(registry);
        Gauge.builder("bpfwatch.dns.names", host.names(), DnsNames::size)
                .description("Addresses the dns monitor's answers named, kept to name the tcp monitor's connections").register(registry);
        FunctionCounter.builder("bpfwatch.dns.names.waits", host.names(), DnsNames::waits)
                .description("Connects that waited (a moment, or held back) for the dns monitor to read the answers made before them").register(registry);
        FunctionCounter.builder("bpfwatch.dns.names.wait.timeouts", host.names(), DnsNames::gaveUp)
                .description("Of those, the ones that gave up after 5 s: the connect may lack a name the dns monitor had not read yet").register(registry);
        this.export = new OtlpExport(registry, Meters.prometheus(registry));
        this.exec = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "bpfwatch-supervisor");
            t.setDaemon(true);
            return t;
        });
        for (MonitorType<?, ?> t : catalog.all()) slots.put(t.name(), slot(t.name(), t));
        publish();
        exec.scheduleWithFixedDelay(this::housekeeping, 1, 1, TimeUnit.SECONDS);
    }

    private <S extends MonitorSettings, M> Slot<S, M> slot(String name, MonitorType<S, M> type) {
        Meters meters = new Meters(registry);
        MonitorMetrics health = new MonitorMetrics(name, meters);
        export.lossCounter(name, health.lostExport);
        meters.onClose(() -> export.lossCounter(name, null));
        return new Slot<>(name, type, meters, health, type.metrics(name, meters));
    }

    /**
     * Brings the running set in line with {@code config}: starts what is new or changed, stops
     * what is gone or disabled, leaves the rest alone. Completes once every enabled monitor
     * has had its first attempt (running, unavailable or in backoff).
     */
    public CompletableFuture<Void> apply(DaemonConfig config) {
        return CompletableFuture.runAsync(() -> applyNow(config), exec);
    }

    private void applyNow(DaemonConfig config) {
        if (closed) return;
        logs = config.logs();
        export.apply(config.otlp());
        // monitors the config no longer names, or names with another kind, leave with their metrics
        for (Iterator<Slot<?, ?>> it = slots.values().iterator(); it.hasNext(); ) {
            Slot<?, ?> s = it.next();
            MonitorConfig wanted = config.monitors().get(s.name);
            if (!catalog.isBuiltin(s.name) && (wanted == null || !wanted.kind().equals(s.type.name()))) {
                remove(s);
                it.remove();
                LOG.infof("%s: removed", s.name);
            }
        }
        for (MonitorConfig mc : config.monitors().values()) {
            if (slots.containsKey(mc.name())) continue;
            MonitorType<?, ?> type = catalog.get(mc.kind()).orElseThrow(() -> new IllegalStateException("unknown kind " + mc.kind()));
            slots.put(mc.name(), slot(mc.name(), type));
        }
        for (Slot<?, ?> s : slots.values()) if (s.log != null) s.log.reconfigure(logs);
        for (Slot<?, ?> s : slots.values()) {
            MonitorConfig wanted = config.monitors().get(s.name);
            boolean enable = wanted != null && wanted.enabled();
            if (!enable) {
                if (s.state != MonitorState.DISABLED) {
                    stopInstance(s);
                    s.cancelPending();
                    s.config = wanted;
                    transition(s, MonitorState.DISABLED);
                    LOG.infof("%s: disabled", s.name);
                }
                s.config = wanted;
                continue;
            }
            if (s.state != MonitorState.DISABLED && Objects.equals(wanted, s.config)) continue;
            if (s.state != MonitorState.DISABLED) LOG.infof("%s: config changed, restarting", s.name);
            stopInstance(s);
            s.cancelPending();
            s.config = wanted;
            s.failures = 0;
            attempt(s, false);
        }
        publish();
    }

    /** A monitor gone from the config: stopped, its log closed, its series removed. */
    private void remove(Slot<?, ?> s) {
        s.cancelPending();
        stopInstance(s);
        if (s.log != null) s.log.close();
        s.meters.close();
    }

    private void attempt(Slot<?, ?> s, boolean afterFailure) {
        if (closed || s.config == null || !s.config.enabled()) return;
        s.cancelPending();
        if (afterFailure) s.health.restarts.increment();
        Availability a = probe(s);
        if (a instanceof Availability.Unsupported u) {
            if (s.state != MonitorState.UNAVAILABLE || !u.reason().equals(s.lastError)) {
                LOG.infof("%s: unavailable: %s (checking again every %ss)", s.name, u.reason(), reprobe.toSeconds());
            }
            s.error(u.reason());
            s.plan = null;
            s.attachPoints = List.of();
            transition(s, MonitorState.UNAVAILABLE);
            s.schedule(exec, reprobe, () -> attempt(s, false));
            s.nextAttempt = Instant.now().plus(reprobe); // when the kernel is asked again
            publish();
            return;
        }
        Plan plan = ((Availability.Supported) a).plan();
        transition(s, MonitorState.STARTING);
        publish();
        if (s.log == null) s.log = new EventLog(s.name, logs, queueCapacity, queueBudget, s.health.lostQueue, s.health.lostWrite, s.health.recent);
        Monitor m;
        try {
            ContextSpec cs = s.config.context();
            ContextResolver process = cs.isEmpty() ? null : new ContextResolver(cs, host.cgroups(), new ExeResolver(Path.of("/proc")));
            m = s.create(plan, new MonitorContext(s.name, s.health, new EventOutput(s.health, s.log, cs.unitLabels(), export), kernel,
                    process, host));
            m.start(failure -> exec.execute(() -> onFailure(s, m, failure)));
        } catch (Exception | Error e) {
            failed(s, e);
            return;
        }
        s.instance = m;
        s.startedAt = System.nanoTime();
        s.plan = plan;
        s.attachPoints = m.attachPoints();
        transition(s, MonitorState.RUNNING);
        LOG.infof("%s: running, attached to %s", s.name, String.join(", ", s.attachPoints));
        publish();
    }

    private Availability probe(Slot<?, ?> s) {
        try {
            return s.type.probeParsed(kernel, s.config.settings());
        } catch (RuntimeException e) {
            return new Availability.Unsupported("probing failed: " + e);
        }
    }

    private void onFailure(Slot<?, ?> s, Monitor m, Throwable failure) {
        if (s.instance != m || closed) return; // stale: already stopped or replaced
        LOG.errorf("%s: stopped after an error: %s", s.name, failure);
        failed(s, failure);
    }

    private void failed(Slot<?, ?> s, Throwable e) {
        stopInstance(s);
        s.failures++;
        Duration delay = backoff.delay(s.failures);
        String message = e.getMessage() != null ? e.getMessage() : e.toString();
        s.error(message);
        s.nextAttempt = Instant.now().plus(delay);
        transition(s, MonitorState.BACKOFF);
        LOG.warnf("%s: failed (%d in a row), retrying in %.1f s: %s", s.name, s.failures, delay.toMillis() / 1000.0, message);
        s.schedule(exec, delay, () -> attempt(s, true));
        publish();
    }

    private void stopInstance(Slot<?, ?> s) {
        Monitor m = s.instance;
        s.instance = null;
        s.attachPoints = List.of();
        if (m != null) m.stop();
    }

    private void transition(Slot<?, ?> s, MonitorState to) {
        if (s.state != to) {
            s.state = to;
            s.since = Instant.now();
        }
        if (to != MonitorState.BACKOFF) s.nextAttempt = null;
        s.health.state(to);
    }

    private void housekeeping() {
        heartbeat = System.nanoTime();
        if (closed) return;
        housekeepingRuns++;
        if (housekeepingRuns % 5 == 0) nativeTrim.tick();
        for (Slot<?, ?> s : slots.values()) {
            if (s.state != MonitorState.RUNNING || s.instance == null) continue;
            if (s.failures > 0 && System.nanoTime() - s.startedAt > STABLE.toNanos()) s.failures = 0;
            String lost = lostPlan(s.plan);
            if (lost != null) {
                LOG.warnf("%s: %s, detaching", s.name, lost);
                stopInstance(s);
                attempt(s, false);
                continue;
            }
            // a module can go away under a running monitor: re-probe every reprobe interval
            // (what is built in cannot, and dns alone has 22 tracepoints to look up)
            if (s.plan.guard() != Plan.BUILT_IN && System.nanoTime() - s.lastProbe > reprobe.toNanos()) {
                s.lastProbe = System.nanoTime();
                Availability a;
                try {
                    a = s.type.probeParsed(kernel, s.config.settings());
                } catch (RuntimeException e) {
                    continue;
                }
                if (a instanceof Availability.Unsupported u) {
                    LOG.warnf("%s: no longer available (%s), detaching", s.name, u.reason());
                    stopInstance(s);
                    attempt(s, false);
                }
            }
        }
        publish();
    }

    private static String lostPlan(Plan plan) {
        if (plan == null) return null;
        try {
            return plan.guard().lost();
        } catch (RuntimeException e) {
            return "checking its attachments failed: " + e;
        }
    }

    /** How many times the once-a-second look over the running monitors has begun (tests wait on it). */
    public long housekeepingRuns() {
        return housekeepingRuns;
    }

    /** Events export.otlp could not send before the stop (0 without export). */
    public long exportUnsentAtStop() {
        return export.unsentAtStop();
    }

    /** SIGHUP: every log reopens its file before the next write. */
    public void reopenLogs() {
        exec.execute(() -> {
            for (Slot<?, ?> s : slots.values()) if (s.log != null) s.log.reopen();
        });
    }

    /** Every monitor's state; counters and the log's state are read live. */
    public List<MonitorStatus> status() {
        List<MonitorStatus> out = new ArrayList<>();
        for (View v : snapshot) out.add(v.status());
        return out;
    }

    /** The supervisor loop and every running reader are alive. */
    public boolean live() {
        if (System.nanoTime() - heartbeat > 5_000_000_000L) return false;
        for (View v : snapshot) {
            Monitor m = v.instance;
            if (m != null && !m.alive()) return false;
        }
        return true;
    }

    /** Stops every monitor (detach, drain) and flushes every log. */
    @Override
    public void close() {
        try {
            exec.submit(() -> {
                closed = true;
                // every monitor at once: each waits on the kernel to detach (see BpfLink.closeAll)
                List<Thread> stopping = new ArrayList<>();
                for (Slot<?, ?> s : slots.values()) {
                    s.cancelPending();
                    if (s.instance == null) continue;
                    Thread t = new Thread(() -> stopInstance(s), "bpfwatch-stop-" + s.name);
                    t.start();
                    stopping.add(t);
                }
                for (Thread t : stopping) {
                    try {
                        t.join(8_000);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                // every reader has stopped: what the export still holds gets its last chance, beside the files' flush
                Thread exporting = new Thread(export::close, "bpfwatch-stop-otlp");
                exporting.start();
                for (Slot<?, ?> s : slots.values()) {
                    if (s.log != null) s.log.close();
                }
                try {
                    exporting.join(8_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                publish();
            }).get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.errorf("stopping monitors: %s", e);
        } finally {
            exec.shutdownNow();
        }
    }

    private void publish() {
        List<View> out = new ArrayList<>();
        for (Slot<?, ?> s : slots.values()) {
            out.add(new View(s.name, s.type.name(), s.state, s.since, s.plan == null ? null : s.plan.strategy(),
                    List.copyOf(s.attachPoints), s.lastError, s.lastErrorAt, s.nextAttempt, s.instance, s.health, s.log));
        }
        snapshot = List.copyOf(out);
    }

    /** What {@link #publish} froze of a slot, plus the live objects its counters are read from. */
    private record View(String name, String kind, MonitorState state, Instant since, String strategy, List<String> attachPoints,
                        String lastError, Instant lastErrorAt, Instant nextAttempt, Monitor instance, MonitorMetrics health, EventLog log) {
        MonitorStatus status() {
            return new MonitorStatus(name, kind, state, since, (long) health.restarts.count(), strategy, attachPoints, lastError,
                    lastErrorAt, nextAttempt, (long) health.events.count(), log == null ? null : log.path().toString(),
                    log == null ? null : log.problem(), log == null ? 0 : log.pending(), health.lostTotal(), health.recent);
        }
    }

    private static final class Slot<S extends MonitorSettings, M> {
        final String name;
        final MonitorType<S, M> type;
        final Meters meters;
        final MonitorMetrics health;
        final M metrics;
        MonitorConfig config;
        MonitorState state = MonitorState.DISABLED;
        Instant since = Instant.now();
        String lastError;
        Instant lastErrorAt;
        Instant nextAttempt;
        Plan plan;
        List<String> attachPoints = List.of();
        Monitor instance;
        EventLog log;
        int failures;
        long startedAt;
        long lastProbe = System.nanoTime();
        ScheduledFuture<?> pending;

        Slot(String name, MonitorType<S, M> type, Meters meters, MonitorMetrics health, M metrics) {
            this.name = name;
            this.type = type;
            this.meters = meters;
            this.health = health;
            this.metrics = metrics;
            health.state(MonitorState.DISABLED);
        }

        /** The live instance of this slot's kind, with its settings as the kind parsed them. */
        @SuppressWarnings("unchecked")
        Monitor create(Plan plan, MonitorContext context) {
            return type.create(config, (S) config.settings(), plan, metrics, context);
        }

        void error(String message) {
            lastError = message;
            lastErrorAt = Instant.now();
        }

        void schedule(ScheduledExecutorService exec, Duration delay, Runnable r) {
            cancelPending();
            pending = exec.schedule(r, delay.toMillis(), TimeUnit.MILLISECONDS);
        }

        void cancelPending() {
            if (pending != null) pending.cancel(false);
            pending = null;
        }
    }
}
