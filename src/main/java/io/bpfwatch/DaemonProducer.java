package io.bpfwatch;

import io.bpfwatch.cli.Args;
import io.bpfwatch.config.ConfigException;
import io.bpfwatch.config.ConfigLoader;
import io.bpfwatch.monitor.MonitorCatalog;
import io.bpfwatch.supervise.Backoff;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import io.quarkus.runtime.annotations.CommandLineArguments;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

import java.nio.file.Path;
import java.time.Duration;

/**
 * The daemon as a bean, made from the command line `bpfwatch run` was given: the HTTP routes and
 * the lifecycle get it injected. {@link Main} has already refused an invalid config before
 * Quarkus started, so loading it here fails only if the file changed in between.
 */
@Singleton
public class DaemonProducer {
    @Produces
    @Singleton
    Daemon daemon(@CommandLineArguments String[] argv, MeterRegistry registry) throws Args.UsageException, ConfigException {
        Args args = Args.parse(argv);
        MonitorCatalog catalog = MonitorCatalog.builtin();
        Path path = ConfigLoader.resolvePath(args.config());
        return new Daemon(path, args.logsDir(), new ConfigLoader(catalog).load(path), catalog, direct(registry),
                Backoff.fromSystemProperties(), Duration.ofMillis(Long.getLong("bpfwatch.reprobe-ms", 5000)));
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
