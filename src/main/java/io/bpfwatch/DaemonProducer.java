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
 * The daemon as a bean, made from the command line `bpfwatch run` was given, and the registry
 * of its meters: the lifecycle gets both injected. {@link Main} has already refused an invalid config before
 * Quarkus started, so loading it here fails only if the file changed in between.
 */
@Singleton
public class DaemonProducer {
    /** The one registry /metrics scrapes: every meter of the daemon, the JVM's and the process's. */
    @Produces
    @Singleton
    PrometheusMeterRegistry registry() {
        return io.bpfwatch.http.JvmMeters.registry();
    }

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
