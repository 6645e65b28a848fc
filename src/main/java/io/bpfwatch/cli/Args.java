package io.bpfwatch.cli;

import java.nio.file.Path;

/** The command line: a command and its options (see {@link #USAGE}). */
public record Args(String command, String config, Path logsDir, java.util.List<String> rest) {
    public Args(String command, String config, Path logsDir) {
        this(command, config, logsDir, java.util.List.of());
    }

    public static final String USAGE = """
            usage: bpfwatch COMMAND [OPTIONS]

            commands:
              run     [--config FILE] [--logs-dir DIR]   run the daemon in the foreground
              check   [--config FILE]                    validate the config; errors as FILE:LINE:COL: message
              probe   [--config FILE]                    what this kernel can run, monitor by monitor
              version                                    bpfwatch, libbpf and kernel versions
              tail    [MONITOR...] [-f] [-n N] [--since 10m] [--where FIELD=VALUE ...] [--json]
                      [--config FILE] [--logs-dir DIR]   the audit logs, readable: merged in time
                                                         order, filtered, followed across rotations
              top     [--interval 2s] [-n N] [--once] [--url URL] [--config FILE]
                                                         the running daemon's last seconds: events/s,
                                                         losses, top destinations, names, operations

            The config is FILE, else $BPFWATCH_CONFIG, else /etc/bpfwatch/bpfwatch.yaml.
            --logs-dir overrides logs.dir (make run uses ./var/log/bpfwatch).
            Signals: SIGHUP reloads the config and reopens the logs; SIGTERM/SIGINT stop cleanly.
            """;

    public static Args parse(String[] argv) throws UsageException {
        if (argv.length == 0) throw new UsageException("no command given");
        String command = argv[0];
        switch (command) {
            case "-h", "--help", "help" -> {
                return new Args("help", null, null);
            }
            case "--version" -> {
                return new Args("version", null, null);
            }
            case "run", "check", "probe", "version" -> {
                // known
            }
            case "tail", "top" -> {
                return new Args(command, null, null, java.util.List.of(argv).subList(1, argv.length));
            }
            default -> throw new UsageException("unknown command '" + command + "'");
        }
        String config = null;
        Path logsDir = null;
        for (int i = 1; i < argv.length; i++) {
            String a = argv[i];
            String value = null;
            String name = a;
            int eq = a.indexOf('=');
            if (a.startsWith("--") && eq > 0) {
                name = a.substring(0, eq);
                value = a.substring(eq + 1);
            }
            switch (name) {
                case "--config", "-c" -> {
                    if (command.equals("version")) throw new UsageException(command + " takes no --config");
                    if (value == null) {
                        if (++i >= argv.length) throw new UsageException(name + " needs a file");
                        value = argv[i];
                    }
                    config = value;
                }
                case "--logs-dir" -> {
                    if (!command.equals("run")) throw new UsageException("--logs-dir is for run");
                    if (value == null) {
                        if (++i >= argv.length) throw new UsageException(name + " needs a directory");
                        value = argv[i];
                    }
                    logsDir = Path.of(value);
                }
                case "-h", "--help" -> {
                    return new Args("help", null, null);
                }
                default -> throw new UsageException("unknown option '" + a + "' for " + command);
            }
        }
        return new Args(command, config, logsDir);
    }

    public static final class UsageException extends Exception {
        public UsageException(String message) {
            super(message);
        }
    }
}
