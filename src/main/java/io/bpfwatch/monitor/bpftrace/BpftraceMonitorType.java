package io.bpfwatch.monitor.bpftrace;

import io.bpfwatch.config.Section;
import io.bpfwatch.kernel.Kernel;
import io.bpfwatch.monitor.Availability;
import io.bpfwatch.monitor.Meters;
import io.bpfwatch.monitor.Monitor;
import io.bpfwatch.monitor.MonitorConfig;
import io.bpfwatch.monitor.MonitorContext;
import io.bpfwatch.monitor.MonitorType;
import io.bpfwatch.monitor.Plan;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.ScalarNode;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * kind: bpftrace. A user's bpftrace script (a file, or the program inline) run as a supervised
 * child of the daemon (BpftraceProcess): printf lines become events, printed maps metrics. The
 * config loader has bpftrace check the script (its dry run), so `bpfwatch check` and a reload
 * report a script's errors at their line; errors that depend on what the kernel has now (a
 * module's tracepoint) make the monitor unavailable instead, until the kernel has it.
 */
public final class BpftraceMonitorType implements MonitorType<BpftraceSettings, BpftraceMetrics> {
    static final long MAX_SCRIPT_BYTES = 1 << 20;
    /** A supported answer stands this long while the monitor runs (a dry run costs ~0.2 s of CPU). */
    private static final long PROBE_CACHE_NANOS = 60_000_000_000L;

    private record Cached(BpftraceSettings settings, long at, Availability answer) {
    }

    private final Map<BpftraceSettings, Cached> probes = new ConcurrentHashMap<>();

    @Override
    public String name() {
        return "bpftrace";
    }

    @Override
    public String description() {
        return "a bpftrace script run as a supervised child: printf lines as events, printed maps as metrics";
    }

    /** Not a BPF object of ours: bpftrace sizes its own buffers. */
    @Override
    public int defaultRingBuffer() {
        return 64 << 10;
    }

    @Override
    public BpftraceSettings parse(Section s) {
        String name = s.path().substring(s.path().lastIndexOf('.') + 1);
        Node scriptNode = s.valueNode("script");
        Path script = s.absolutePath("script", null);
        Node programNode = s.take("program").orElse(null);
        String program = null;
        if (programNode instanceof ScalarNode sc) {
            program = sc.getValue();
        } else if (programNode != null) {
            s.problems().at(programNode, s.path() + ".program must be the program's text, not " + Section.describe(programNode));
        }
        List<String> args = s.list("args", List.of(), n -> {
            if (n instanceof ScalarNode sc) return sc.getValue();
            s.problems().at(n, s.path() + ".args: a parameter must be a plain value, not " + Section.describe(n));
            return null;
        });
        String event = s.string("event", BpftraceSettings.DEFAULT_EVENT);
        if (!event.matches("[A-Za-z0-9_.:-]{1,64}")) {
            s.problems().at(s.keyNode("event"), s.path() + ".event must be a word of letters, digits and _.:- (at most 64), not '" + event + "'");
        }
        Section m = s.section("metrics");
        String prefix = m.string("prefix", "bpfwatch_custom_" + name.replace('-', '_') + "_");
        if (!prefix.matches("[a-zA-Z_:][a-zA-Z0-9_:]*")) {
            m.problems().at(m.keyNode("prefix"), m.path() + ".prefix must be a Prometheus name prefix like bpfwatch_custom_, not '" + prefix + "'");
        }
        int maxKeys = (int) m.integer("max-keys", BpftraceSettings.DEFAULT_MAX_KEYS, 1, 100_000);
        m.finish();
        int maxLine = (int) s.size("max-line", BpftraceSettings.DEFAULT_MAX_LINE, 1 << 10, 16 << 20);
        int perfBuffer = (int) s.size("perf-buffer", BpftraceSettings.DEFAULT_PERF_BUFFER, 16 << 10, 256 << 20);
        if (Integer.bitCount(perfBuffer) != 1) {
            s.problems().at(s.valueNode("perf-buffer"), s.path() + ".perf-buffer must be a power of two (e.g. 2MiB, 8MiB)");
        }
        String bpftrace = s.string("bpftrace", null);
        if (bpftrace != null && !bpftrace.startsWith("/")) {
            s.problems().at(s.keyNode("bpftrace"), s.path() + ".bpftrace must be an absolute path like /usr/bin/bpftrace, not '" + bpftrace + "'");
            bpftrace = null;
        }

        String source = null;
        if (script != null && program != null) {
            s.problems().at(s.keyNode("program"), s.path() + ": give script or program, not both");
        } else if (script == null && program == null) {
            if (!s.has("script")) s.problems().at(s.node() != null ? s.node() : s.keyNode("kind"), s.path() + " needs script: FILE or program: TEXT");
        } else if (script != null) {
            source = readScript(s, scriptNode, script);
        } else {
            source = program;
        }
        List<String> found = List.of();
        if (source != null) {
            BpftraceSettings draft = new BpftraceSettings(script, program, source, args, event, prefix, maxKeys, maxLine, perfBuffer, bpftrace, List.of());
            found = check(s, script != null ? scriptNode : programNode, draft);
        }
        return new BpftraceSettings(script, program, source, args, event, prefix, maxKeys, maxLine, perfBuffer, bpftrace, found);
    }

    private static String readScript(Section s, Node at, Path script) {
        try {
            if (!Files.isRegularFile(script)) {
                s.problems().at(at, s.path() + ".script: " + script + (Files.exists(script) ? " is not a regular file" : " does not exist"));
                return null;
            }
            if (Files.size(script) > MAX_SCRIPT_BYTES) {
                s.problems().at(at, s.path() + ".script: " + script + " is over 1 MiB; that is not a bpftrace script");
                return null;
            }
            return Files.readString(script, StandardCharsets.UTF_8);
        } catch (IOException | RuntimeException e) {
            s.problems().at(at, s.path() + ".script: cannot read " + script + ": " + e.getMessage());
            return null;
        }
    }

    /**
     * bpftrace's dry run, its errors reported at their place: in the script file (named, with its
     * line and column) or, for a block program, at the line and column in the config file.
     * Without bpftrace, or without the root it needs to check, the script is not checked here
     * (the monitor says why it cannot run).
     */
    private static List<String> check(Section s, Node at, BpftraceSettings settings) {
        Optional<Path> bpftrace = Bpftrace.find(settings.bpftrace());
        if (bpftrace.isEmpty()) return List.of();
        Bpftrace.DryRun run;
        try {
            run = Bpftrace.dryRun(bpftrace.get(), settings.scriptArguments());
        } catch (IOException e) {
            return List.of();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return List.of();
        }
        for (Bpftrace.Diagnostic d : run.errors()) {
            if (d.kernelDependent()) continue;
            if (settings.script() != null) {
                String where = d.line() > 0 ? settings.script() + ":" + d.line() + ":" + d.column() + ": " : settings.script() + ": ";
                s.problems().at(at, s.path() + ".script: " + where + d.message());
            } else if (d.line() > 0 && at instanceof ScalarNode sc && sc.getScalarStyle() == DumperOptions.ScalarStyle.LITERAL) {
                int indent = indentOf(s, sc);
                s.problems().at(sc.getStartMark().getLine() + 1 + d.line(), indent + d.column(), s.path() + ".program: " + d.message());
            } else {
                s.problems().at(at, s.path() + ".program: " + (d.line() > 0 ? "line " + d.line() + ":" + d.column() + ": " : "") + d.message());
            }
        }
        return run.probes();
    }

    /** The indentation of a literal block scalar's content: its first non-blank line's. */
    private static int indentOf(Section s, ScalarNode block) {
        for (int line = block.getStartMark().getLine() + 1; ; line++) {
            String text = s.problems().line(line);
            if (text == null) return 0;
            if (text.isBlank()) continue;
            int i = 0;
            while (i < text.length() && text.charAt(i) == ' ') i++;
            return i;
        }
    }

    @Override
    public Availability probe(Kernel kernel, BpftraceSettings settings) {
        Optional<Path> bpftrace = Bpftrace.find(settings.bpftrace());
        if (bpftrace.isEmpty()) {
            return new Availability.Unsupported(settings.bpftrace() != null ? settings.bpftrace() + " is not an executable"
                    : "bpftrace is not installed (apt install bpftrace)");
        }
        Cached c = probes.get(settings);
        if (c != null && c.answer() instanceof Availability.Supported && System.nanoTime() - c.at() < PROBE_CACHE_NANOS) return c.answer();
        Availability a = dryRun(bpftrace.get(), settings);
        probes.clear(); // one entry per settings in use is enough; stale ones go
        probes.put(settings, new Cached(settings, System.nanoTime(), a));
        return a;
    }

    private static Availability dryRun(Path bpftrace, BpftraceSettings settings) {
        Bpftrace.DryRun run;
        try {
            run = Bpftrace.dryRun(bpftrace, settings.scriptArguments());
        } catch (IOException e) {
            return new Availability.Unsupported("running bpftrace's dry run failed: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Availability.Unsupported("interrupted");
        }
        if (run.refused() != null) return new Availability.Unsupported(run.refused());
        if (!run.errors().isEmpty()) {
            Bpftrace.Diagnostic d = run.errors().get(0);
            return new Availability.Unsupported("bpftrace: " + (d.line() > 0 ? settings.label() + ":" + d.line() + ":" + d.column() + ": " : "") + d.message());
        }
        String strategy = "bpftrace (" + bpftrace + ") running " + settings.label() + ", " + run.probes().size()
                + " probe" + (run.probes().size() == 1 ? "" : "s") + (run.probes().isEmpty() ? "" : ": " + String.join(", ", run.probes()));
        return new Availability.Supported(new Plan(strategy, List.of()));
    }

    @Override
    public BpftraceMetrics metrics(String monitor, Meters meters) {
        return new BpftraceMetrics(monitor, meters);
    }

    @Override
    public Monitor create(MonitorConfig config, BpftraceSettings settings, Plan plan, BpftraceMetrics metrics, MonitorContext context) {
        Path bpftrace = Bpftrace.find(settings.bpftrace()).orElseThrow(() -> new IllegalStateException("bpftrace is not installed"));
        return new BpftraceProcess(config.name(), settings, bpftrace, metrics, context);
    }
}
