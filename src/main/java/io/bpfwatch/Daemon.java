package io.bpfwatch;

import io.bpfwatch.config.ConfigException;
import io.bpfwatch.config.ConfigLoader;
import io.bpfwatch.config.DaemonConfig;
import io.bpfwatch.config.HttpConfig;
import io.bpfwatch.config.LogsConfig;
import io.bpfwatch.kernel.Kernel;
import io.bpfwatch.libbpf.LibbpfLog;
import io.bpfwatch.monitor.MonitorCatalog;
import io.bpfwatch.monitor.MonitorState;
import io.bpfwatch.supervise.Backoff;
import io.bpfwatch.supervise.MonitorStatus;
import io.bpfwatch.supervise.Supervisor;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.jboss.logging.Logger;

import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.StringJoiner;
import java.util.concurrent.atomic.AtomicLong;

/**
 * bpfwatch without its HTTP face: the config, the supervisor and reloads. The Quarkus layer
 * (DaemonLifecycle) and the in-process integration tests both drive this class.
 */
public final class Daemon implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Daemon.class);

    private final Path configPath;
    private final Path logsDirOverride;
    private final ConfigLoader loader;
    private final Supervisor supervisor;
    private final Counter reloadsOk;
    private final Counter reloadsFailed;
    private final AtomicLong lastReloadOk = new AtomicLong(1);
    private final AtomicLong lastReloadTime = new AtomicLong(System.currentTimeMillis() / 1000);
    private volatile DaemonConfig config;
    private volatile boolean ready;

    public Daemon(Path configPath, Path logsDirOverride, DaemonConfig initial, MonitorCatalog catalog,
                  MeterRegistry registry, Backoff backoff, Duration reprobe) {
        this.configPath = configPath;
        this.logsDirOverride = logsDirOverride;
        this.loader = new ConfigLoader(catalog);
        this.config = override(initial);
        LibbpfLog.install();
        this.supervisor = new Supervisor(catalog, Kernel.system(), registry, backoff, reprobe, 65536);
        reloadsOk = Counter.builder("bpfwatch.config.reloads").tag("result", "success")
                .description("Config reloads (SIGHUP), by result").register(registry);
        reloadsFailed = Counter.builder("bpfwatch.config.reloads").tag("result", "failure")
                .description("Config reloads (SIGHUP), by result").register(registry);
        Gauge.builder("bpfwatch.config.last.reload.successful", lastReloadOk, AtomicLong::get)
                .description("1 if the last config load or reload succeeded, 0 if it was refused").register(registry);
        Gauge.builder("bpfwatch.config.last.reload.success.timestamp.seconds", lastReloadTime, AtomicLong::get)
                .description("When the running config was loaded, Unix seconds").register(registry);
        Gauge.builder("bpfwatch.build.info", () -> 1)
                .tags("version", Version.get(), "libbpf", Kernel.libbpfVersion(), "kernel", Kernel.system().release())
                .description("bpfwatch's version, libbpf's and the kernel's").register(registry);
    }

    private DaemonConfig override(DaemonConfig c) {
        if (logsDirOverride == null) return c;
        return new DaemonConfig(c.file(), c.http(), new LogsConfig(logsDirOverride, c.logs().rotation()), c.monitors(), c.otlp());
    }

    /** First start: every enabled monitor gets its first attempt before this returns. */
    public void start() {
        supervisor.apply(config).join();
        ready = true;
        LOG.infof("ready: %s", statusLine());
    }

    /**
     * SIGHUP: validate the file, then apply only what changed, and reopen every log. An invalid
     * file changes nothing that runs; the reason is logged and counted.
     */
    public synchronized boolean reload() {
        supervisor.reopenLogs();
        DaemonConfig next;
        try {
            next = override(loader.load(configPath));
        } catch (ConfigException e) {
            reloadsFailed.increment();
            lastReloadOk.set(0);
            LOG.errorf("reload refused, the running config stays:%n%s", e.getMessage());
            return false;
        }
        HttpConfig was = config.http(), now = next.http();
        if (!now.listen().equals(was.listen()) || !Objects.equals(now.tls(), was.tls())) {
            LOG.warnf("http.listen or http.tls changed (now %s://%s): that takes a restart; still serving %s://%s",
                    now.scheme(), now.listen(), was.scheme(), was.listen());
        }
        if (!now.basicAuth().equals(was.basicAuth())) {
            LOG.infof("http.basic-auth changed: %s", now.basicAuth().isEmpty() ? "no authentication"
                    : now.basicAuth().size() + " user" + (now.basicAuth().size() == 1 ? "" : "s"));
        }
        supervisor.apply(next).join();
        // what is served stays what the server listens with; the users apply at once
        config = new DaemonConfig(next.file(), new HttpConfig(was.host(), was.port(), was.tls(), now.basicAuth()), next.logs(), next.monitors(), next.otlp());
        reloadsOk.increment();
        lastReloadOk.set(1);
        lastReloadTime.set(System.currentTimeMillis() / 1000);
        LOG.infof("reloaded %s: %s", configPath, statusLine());
        return true;
    }

    public DaemonConfig config() {
        return config;
    }

    public Supervisor supervisor() {
        return supervisor;
    }

    public boolean ready() {
        return ready;
    }

    public boolean live() {
        return supervisor.live();
    }

    public List<MonitorStatus> status() {
        return supervisor.status();
    }

    /** One line for STATUS= and the log: "tcp running; dns unavailable (...)". */
    public String statusLine() {
        Map<MonitorState, Integer> counts = new EnumMap<>(MonitorState.class);
        StringJoiner details = new StringJoiner("; ");
        for (MonitorStatus s : status()) {
            counts.merge(s.state(), 1, Integer::sum);
            if (s.state() == MonitorState.DISABLED) continue;
            String d = s.name() + " " + s.state().label();
            if (s.state() == MonitorState.UNAVAILABLE || s.state() == MonitorState.BACKOFF) d += " (" + firstLine(s.lastError()) + ")";
            details.add(d);
        }
        String text = details.length() == 0 ? "no monitors enabled" : details.toString();
        return text.length() > 400 ? text.substring(0, 400) + "..." : text;
    }

    private static String firstLine(String s) {
        if (s == null) return "";
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    @Override
    public void close() {
        ready = false;
        supervisor.close();
    }
}
