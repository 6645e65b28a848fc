package io.bpfwatch;

import io.bpfwatch.cli.Args;
import io.bpfwatch.cli.Commands;
import io.bpfwatch.config.ConfigError;
import io.bpfwatch.config.ConfigException;
import io.bpfwatch.config.ConfigLoader;
import io.bpfwatch.kernel.Kernel;
import io.bpfwatch.monitor.MonitorCatalog;
import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.annotations.QuarkusMain;

import java.nio.file.Path;

/**
 * Entry point. check, probe and version run here and exit without starting Quarkus (no HTTP
 * port, nothing loaded), so they are safe beside a live daemon; run validates the config and
 * then boots Quarkus with the same arguments (the daemon bean is made from them:
 * {@link DaemonProducer}), whose lifecycle listens for /metrics and the other endpoints.
 */
@QuarkusMain
public final class Main {
    private Main() {}

    public static void main(String... argv) {
        Args args;
        try {
            args = Args.parse(argv);
        } catch (Args.UsageException e) {
            System.err.println("bpfwatch: " + e.getMessage());
            System.err.print(Args.USAGE);
            System.exit(2);
            return;
        }
        MonitorCatalog catalog = MonitorCatalog.builtin();
        switch (args.command()) {
            case "help" -> {
                System.out.print(Args.USAGE);
                System.exit(0);
            }
            case "version" -> System.exit(Commands.version(System.out));
            case "probe" -> System.exit(Commands.probe(catalog, ConfigLoader.resolvePath(args.config()), args.config() != null, System.out));
            case "check" -> System.exit(Commands.check(ConfigLoader.resolvePath(args.config()), catalog, System.out, System.err));
            case "tail" -> System.exit(Commands.tail(args.rest(), catalog));
            case "top" -> System.exit(Commands.top(args.rest(), catalog));
            default -> run(args, catalog, argv);
        }
    }

    private static void run(Args args, MonitorCatalog catalog, String[] argv) {
        String libbpf = Kernel.libbpfProblem();
        if (libbpf != null) {
            System.err.println("bpfwatch: " + libbpf);
            System.exit(1);
        }
        Path path = ConfigLoader.resolvePath(args.config());
        try {
            new ConfigLoader(catalog).load(path);
        } catch (ConfigException e) {
            for (ConfigError error : e.errors()) System.err.println(error);
            System.err.println("bpfwatch: not starting: " + path + " is invalid");
            System.exit(1);
            return;
        }
        DaemonLifecycle.installEarlySignalHandlers();
        Quarkus.run(DaemonLifecycle.class, argv);
    }
}
