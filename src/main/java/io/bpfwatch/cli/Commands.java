package io.bpfwatch.cli;

import io.bpfwatch.Version;
import io.bpfwatch.config.ConfigError;
import io.bpfwatch.config.ConfigException;
import io.bpfwatch.config.ConfigLoader;
import io.bpfwatch.config.DaemonConfig;
import io.bpfwatch.kernel.Kernel;
import io.bpfwatch.monitor.Availability;
import io.bpfwatch.monitor.MonitorCatalog;
import io.bpfwatch.monitor.MonitorConfig;
import io.bpfwatch.monitor.MonitorType;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Optional;

/** check, probe and version: quick, no HTTP port, no BPF programs loaded. */
public final class Commands {
    private Commands() {}

    public static int check(Path file, MonitorCatalog catalog, PrintStream out, PrintStream err) {
        try {
            DaemonConfig c = new ConfigLoader(catalog).load(file);
            long enabled = c.monitors().values().stream().filter(MonitorConfig::enabled).count();
            out.printf("%s: OK (%d monitor%s enabled: %s; logs in %s; serving %s)%n", file, enabled, enabled == 1 ? "" : "s",
                    String.join(", ", c.monitors().values().stream().filter(MonitorConfig::enabled).map(MonitorConfig::name).toList()),
                    c.logs().dir(), c.http().scheme() + "://" + c.http().listen());
            return 0;
        } catch (ConfigException e) {
            for (ConfigError error : e.errors()) err.println(error);
            return 1;
        }
    }

    /**
     * bpfwatch tail: colour on a terminal unless NO_COLOR is set; Ctrl+C ends -f with status 0.
     * Usage errors exit 2.
     */
    public static int tail(java.util.List<String> argv, MonitorCatalog catalog) {
        Tail.Options o;
        try {
            o = Tail.parse(argv);
        } catch (Args.UsageException e) {
            System.err.println("bpfwatch: " + e.getMessage());
            System.err.println("usage: bpfwatch " + Tail.USAGE);
            return 2;
        }
        Path dir = Tail.logsDir(o, catalog, System.err);
        if (dir == null) return 1;
        boolean color = System.console() != null && System.getenv("NO_COLOR") == null;
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        sun.misc.Signal.handle(new sun.misc.Signal("INT"), s -> stop.set(true));
        sun.misc.Signal.handle(new sun.misc.Signal("TERM"), s -> stop.set(true));
        PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), false, java.nio.charset.StandardCharsets.UTF_8);
        try {
            int status = Tail.run(o, dir, out, System.err, color, java.time.ZoneId.systemDefault(), stop::get);
            out.flush();
            return out.checkError() ? (stop.get() ? 0 : 1) : status;
        } catch (java.io.IOException e) {
            System.err.println("bpfwatch tail: " + e.getMessage());
            return 1;
        } catch (InterruptedException e) {
            return 0;
        }
    }

    /**
     * bpfwatch top. On a terminal (stdin and stdout): the alternate screen, keys read unbuffered
     * (stty), both restored on q, Ctrl+C and SIGTERM. Usage errors exit 2.
     */
    public static int top(java.util.List<String> argv, MonitorCatalog catalog) {
        Top.Options o;
        try {
            o = Top.parse(argv);
        } catch (Args.UsageException e) {
            System.err.println("bpfwatch: " + e.getMessage());
            System.err.println("usage: bpfwatch " + Top.USAGE);
            return 2;
        }
        String base = Top.baseUrl(o, catalog, System.err);
        if (base == null) return 1;
        boolean screen = !o.once() && System.console() != null;
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        sun.misc.Signal.handle(new sun.misc.Signal("INT"), s -> stop.set(true));
        sun.misc.Signal.handle(new sun.misc.Signal("TERM"), s -> stop.set(true));
        PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), false, java.nio.charset.StandardCharsets.UTF_8);
        String saved = screen ? stty("-g") : null;
        try {
            if (screen) {
                if (saved != null) stty("-icanon", "-echo", "min", "1");
                out.print("\u001b[?1049h\u001b[?25l");
            }
            return Top.run(o, new Top.Source(base, System.getenv("BPFWATCH_AUTH")), out, screen, screen ? System.in : null,
                    java.time.ZoneId.systemDefault(), stop::get);
        } catch (java.io.IOException e) {
            System.err.println("bpfwatch top: " + e.getMessage());
            return 1;
        } catch (InterruptedException e) {
            return 0;
        } finally {
            if (screen) {
                out.print("\u001b[?25h\u001b[?1049l");
                out.flush();
                if (saved != null) stty(saved);
            }
        }
    }

    /** Runs stty on the controlling terminal; its output, or null if it failed. */
    static String stty(String... args) {
        java.util.List<String> cmd = new java.util.ArrayList<>(java.util.List.of("stty"));
        cmd.addAll(java.util.List.of(args));
        try {
            Process p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/tty")))
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            String s = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII).trim();
            return p.waitFor() == 0 ? s : null;
        } catch (java.io.IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    public static int version(PrintStream out) {
        out.println("bpfwatch " + Version.get());
        out.println("libbpf " + Kernel.libbpfVersion());
        out.println("kernel " + Kernel.system().release());
        out.println("java " + System.getProperty("java.version"));
        return 0;
    }

    /**
     * What this kernel can run. With a readable config (--config, $BPFWATCH_CONFIG or the default
     * path), each monitor is probed with its configured settings; otherwise with its defaults.
     */
    public static int probe(MonitorCatalog catalog, Path config, boolean explicit, PrintStream out) {
        DaemonConfig c = null;
        if (explicit || java.nio.file.Files.isReadable(config)) {
            try {
                c = new ConfigLoader(catalog).load(config);
            } catch (ConfigException e) {
                out.println("(" + config + " is invalid, probing with default settings; run bpfwatch check)");
            }
        }
        Kernel k = Kernel.system();
        out.println("kernel " + k.release() + ", libbpf " + Kernel.libbpfVersion());
        Optional<String> fentry = k.missingFentry();
        out.printf("  BTF %s, tracefs %s, kprobes %s, fentry %s%n", k.hasVmlinuxBtf() ? "yes" : "no",
                k.tracefsEvents().isPresent() ? "yes" : "no", k.kprobesSupported() ? "yes" : "no",
                fentry.isEmpty() ? "yes" : "no");
        fentry.ifPresent(why -> out.println("  " + why));
        String libbpf = Kernel.libbpfProblem();
        if (libbpf != null) out.println("  " + libbpf);
        for (MonitorType<?, ?> t : catalog.all()) {
            MonitorConfig mc = c == null ? null : c.monitors().get(t.name());
            Availability a = t.probeParsed(k, mc == null ? ConfigLoader.defaults(t) : mc.settings());
            String note = c == null ? "" : mc == null || !mc.enabled() ? " (disabled in " + config + ")" : "";
            print(out, t.name(), a, note);
        }
        if (c != null) {
            for (MonitorConfig mc : c.monitors().values()) {
                if (catalog.isBuiltin(mc.name())) continue;
                Availability a = catalog.get(mc.kind()).orElseThrow().probeParsed(k, mc.settings());
                print(out, mc.name(), a, " (kind " + mc.kind() + (mc.enabled() ? "" : ", disabled") + ")");
            }
        }
        return 0;
    }

    private static void print(PrintStream out, String name, Availability a, String note) {
        if (a instanceof Availability.Supported s) {
            out.printf("%-10s supported: %s%s%n", name, s.strategy(), note);
        } else {
            out.printf("%-10s unavailable: %s%s%n", name, ((Availability.Unsupported) a).reason(), note);
        }
    }
}
