package io.bpfwatch;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import io.bpfwatch.http.HttpRoutes;
import io.bpfwatch.http.WebServer;
import io.bpfwatch.libbpf.LibC;
import io.bpfwatch.systemd.SdNotify;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.QuarkusApplication;
import jakarta.inject.Inject;
import org.jboss.logging.Logger;
import sun.misc.Signal;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The daemon under Quarkus: {@link #run} listens on {@code http.listen} (and gives up, exit 1,
 * when it cannot), starts the monitors, and READY=1 goes out once they have had their first
 * attempt. Signals: HUP reloads (validated first) and reopens the logs; TERM and INT stop
 * cleanly and exit 0.
 */
public class DaemonLifecycle implements QuarkusApplication {
    private static final Logger LOG = Logger.getLogger(DaemonLifecycle.class);
    private final SdNotify notify = SdNotify.fromEnvironment();
    private final ExecutorService reloads = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "bpfwatch-reload");
        t.setDaemon(true);
        return t;
    });
    /** A reload is queued: further SIGHUPs until it starts fold into it (at most one waits). */
    private final AtomicBoolean reloadPending = new AtomicBoolean();
    /** Detaching and flushing, started by the first TERM or INT. */
    private final java.util.concurrent.atomic.AtomicReference<Thread> stopping = new java.util.concurrent.atomic.AtomicReference<>();

    @Inject
    Daemon daemon;
    @Inject
    PrometheusMeterRegistry registry;
    /** The HTTP(S) listener, once {@link #run} has it. */
    private volatile WebServer web;

    /** Until the daemon has started, SIGHUP is ignored (the JVM would otherwise exit 129) and TERM/INT stop. */
    static void installEarlySignalHandlers() {
        // Ignored signals are inherited: under nohup HUP is, in a script's background job INT
        // is. The JVM then silently declines to handle them, and `kill -HUP` would reload
        // nothing. HUP (reload) and TERM (stop) are the daemon's interface: take them back.
        // INT ignored in a background job is what its shell asked for: kept, and said.
        for (int sig : new int[] {SIGHUP, SIGTERM}) {
            if (ignored(sig)) {
                LibC.signal(sig, Pointer.NULL);
                LOG.infof("SIG%s was ignored by whoever started the daemon; it is handled anyway", sig == SIGHUP ? "HUP" : "TERM");
            }
        }
        if (ignored(SIGINT)) LOG.info("SIGINT is ignored, as whoever started the daemon asked (a background job): Ctrl+C does not stop it, SIGTERM does");
        Signal.handle(new Signal("HUP"), s -> LOG.warn("SIGHUP while starting: ignored"));
        Signal.handle(new Signal("TERM"), s -> Quarkus.asyncExit(0));
        Signal.handle(new Signal("INT"), s -> Quarkus.asyncExit(0));
    }

    static final int SIGHUP = 1, SIGINT = 2, SIGTERM = 15;

    /** Whether {@code sig}'s disposition is SIG_IGN. */
    static boolean ignored(int sig) {
        try (Memory old = new Memory(LibC.SIGACTION_SIZE)) {
            old.clear();
            return LibC.sigaction(sig, Pointer.NULL, old) == 0 && old.getLong(0) == LibC.SIG_IGN;
        } catch (UnsatisfiedLinkError e) {
            return false;
        }
    }

    private void reloadOnHup() {
        Signal.handle(new Signal("HUP"), s -> {
            if (reloadPending.compareAndSet(false, true)) {
                reloads.execute(() -> {
                    reloadPending.set(false);
                    notify.send("RELOADING=1");
                    daemon.reload();
                    notify.send("READY=1\nSTATUS=" + daemon.statusLine());
                });
            }
        });
    }

    /**
     * TERM and INT start detaching at once, beside Quarkus's own shutdown:
     * the kernel serializes detaching tracepoints, tens of milliseconds each, so this is most of
     * a stop and need not wait for the rest.
     */
    private void stopOnTermAndInt() {
        for (String name : new String[] {"TERM", "INT"}) {
            Signal.handle(new Signal(name), s -> {
                beginStop();
                Quarkus.asyncExit(0);
            });
        }
    }

    private Thread beginStop() {
        Thread t = new Thread(() -> {
            notify.send("STOPPING=1");
            LOG.info("stopping: detaching probes and flushing logs");
            long t0 = System.nanoTime();
            WebServer w = web;
            if (w != null) w.close();
            daemon.close();
            // on stderr itself: by now Quarkus's shutdown, beside this, may have closed the log handlers
            long unsent = daemon.supervisor().exportUnsentAtStop();
            System.err.printf("bpfwatch: stopped in %d ms: probes detached, logs flushed%s%n", (System.nanoTime() - t0) / 1_000_000,
                    unsent == 0 ? "" : "; " + unsent + " events were not sent to the OTLP collector (the logs have them)");
        }, "bpfwatch-stop");
        if (stopping.compareAndSet(null, t)) t.start();
        return stopping.get();
    }

    @Override
    public int run(String... args) {
        try {
            web = WebServer.start(daemon.config().http(), new HttpRoutes(daemon, registry));
        } catch (Exception e) {
            LOG.errorf("not starting: %s", e.getMessage());
            return 1;
        }
        daemon.start();
        reloadOnHup();
        stopOnTermAndInt();
        notify.send("READY=1\nSTATUS=" + daemon.statusLine());

        ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "bpfwatch-notify");
            t.setDaemon(true);
            return t;
        });
        long watchdog = SdNotify.watchdogMicros();
        if (watchdog > 0) {
            long every = Math.max(100, watchdog / 2000);
            timers.scheduleAtFixedRate(() -> {
                if (daemon.live()) notify.send("WATCHDOG=1");
                else LOG.warn("an event loop is stuck: not pinging the systemd watchdog");
            }, every, every, TimeUnit.MILLISECONDS);
        }
        if (notify.enabled()) {
            String[] last = {""};
            timers.scheduleWithFixedDelay(() -> {
                String s = daemon.statusLine();
                if (!s.equals(last[0])) notify.send("STATUS=" + s);
                last[0] = s;
            }, 5, 5, TimeUnit.SECONDS);
        }

        // The JVM exits once the stop has finished: a shutdown hook waits for it, while Quarkus
        // closes its own side at the same time.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                beginStop().join(); // already under way if a signal asked for it
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "bpfwatch-exit"));
        Quarkus.waitForExit();
        timers.shutdownNow();
        beginStop();
        return 0;
    }
}
