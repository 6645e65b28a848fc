package io.bpfwatch;

import io.bpfwatch.cli.Args;
import io.bpfwatch.config.ConfigException;
import io.bpfwatch.config.ConfigLoader;
import io.bpfwatch.monitor.MonitorCatalog;
import io.bpfwatch.supervise.Backoff;
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
    /**
     * The daemon's meters go to the Prometheus registry /metrics scrapes, not to Quarkus'
     * composite: a composite counter's increment walks its children on every event (and when
     * this bean is made, early in start-up, the composite may not hold the Prometheus registry
     * yet). Quarkus' own binders (JVM, process) stay on the composite.
     */
    @Produces
    @Singleton
    Daemon daemon(@CommandLineArguments String[] argv, PrometheusMeterRegistry registry) throws Args.UsageException, ConfigException {
        Args args = Args.parse(argv);
        MonitorCatalog catalog = MonitorCatalog.builtin();
        Path path = ConfigLoader.resolvePath(args.config());
        return new Daemon(path, args.logsDir(), new ConfigLoader(catalog).load(path), catalog, registry,
                Backoff.fromSystemProperties(), Duration.ofMillis(Long.getLong("bpfwatch.reprobe-ms", 5000)));
    }
}
