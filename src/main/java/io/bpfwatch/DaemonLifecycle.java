package io.bpfwatch;

import io.bpfwatch.http.DaemonHolder;
import io.bpfwatch.monitor.MonitorCatalog;
import io.bpfwatch.supervise.Backoff;
import io.bpfwatch.systemd.SdNotify;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import io.quarkus.arc.Arc;
import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.QuarkusApplication;
import org.jboss.logging.Logger;
import sun.misc.Signal;

import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The daemon under Quarkus: HTTP is already listening when {@link #run} is called, so READY=1
 * goes out once the monitors have had their first attempt. Signals: HUP reloads (validated
 * first) and reopens the logs; TERM and INT stop cleanly and exit 0.
 */
public class DaemonLifecycle implements QuarkusApplication {
    private static final Logger LOG = Logger.getLogger(DaemonLifecycle.class);
    private static final ExecutorService RELOADS = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "bpfwatch-reload");
        t.setDaemon(true);
        return t;
    });
    private static final SdNotify NOTIFY = SdNotify.fromEnvironment();

    /** A reload is queued: further SIGHUPs until it starts fold into it (at most one waits). */
    private static final java.util.concurrent.atomic.AtomicBoolean RELOAD_PENDING = new java.util.concurrent.atomic.AtomicBoolean();

    static void installSignalHandlers() {
        Signal.handle(new Signal("HUP"), s -> {
            if (RELOAD_PENDING.compareAndSet(false, true)) {
                RELOADS.execute(() -> {
                    RELOAD_PENDING.set(false);
                    reload();
                });
            }
        });
        Signal.handle(new Signal("TERM"), s -> Quarkus.asyncExit(0));
        Signal.handle(new Signal("INT"), s -> Quarkus.asyncExit(0));
    }

    private static void reload() {
        Daemon d = DaemonHolder.get();
        if (d == null) {
            LOG.warn("SIGHUP while starting: ignored");
            return;
        }
        NOTIFY.send("RELOADING=1");
        d.reload();
        NOTIFY.send("READY=1\nSTATUS=" + d.statusLine());
    }

    @Override
    public int run(String... args) {
        Main.RunRequest req = Main.request;
        MeterRegistry registry = direct(Arc.container().instance(MeterRegistry.class).get());
        Daemon daemon = new Daemon(req.configPath(), req.logsDir(), req.config(), MonitorCatalog.builtin(), registry,
                Backoff.fromSystemProperties(), Duration.ofMillis(Long.getLong("bpfwatch.reprobe-ms", 5000)));
        DaemonHolder.set(daemon);
        daemon.start();
        NOTIFY.send("READY=1\nSTATUS=" + daemon.statusLine());

        ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "bpfwatch-notify");
            t.setDaemon(true);
            return t;
        });
        long watchdog = SdNotify.watchdogMicros();
        if (watchdog > 0) {
            long every = Math.max(100, watchdog / 2000);
            timers.scheduleAtFixedRate(() -> {
                if (daemon.live()) NOTIFY.send("WATCHDOG=1");
                else LOG.warn("an event loop is stuck: not pinging the systemd watchdog");
            }, every, every, TimeUnit.MILLISECONDS);
        }
        if (NOTIFY.enabled()) {
            String[] last = {""};
            timers.scheduleWithFixedDelay(() -> {
                String s = daemon.statusLine();
                if (!s.equals(last[0])) NOTIFY.send("STATUS=" + s);
                last[0] = s;
            }, 5, 5, TimeUnit.SECONDS);
        }

        Quarkus.waitForExit();
        NOTIFY.send("STOPPING=1");
        LOG.info("stopping: detaching probes and flushing logs");
        long t0 = System.nanoTime();
        timers.shutdownNow();
        daemon.close();
        DaemonHolder.set(null);
        LOG.infof("stopped in %d ms", (System.nanoTime() - t0) / 1_000_000);
        return 0;
    }

    /**
     * The Prometheus registry behind Quarkus' composite, which /metrics scrapes: the daemon's
     * meters go there directly, as a composite counter's increment walks its children on every
     * event. Quarkus' own binders (JVM, process) stay on the composite.
     */
    static MeterRegistry direct(MeterRegistry registry) {
        if (registry instanceof CompositeMeterRegistry c) {
            for (MeterRegistry r : c.getRegistries()) {
                if (r instanceof PrometheusMeterRegistry) return r;
            }
        }
        return registry;
    }
}
