package io.bpfwatch.monitor.bpftrace;

import io.bpfwatch.monitor.MonitorSettings;

import java.nio.file.Path;
import java.util.List;

/**
 * A bpftrace monitor's section: the script (a file, or the program inline), its positional
 * parameters, the event name of its printf lines, how its maps become metrics, the longest line
 * it may print, bpftrace's per-CPU perf buffer, and which bpftrace runs it. {@code source} is the script's text as read when the
 * config was loaded, so a changed file restarts the monitor on reload even if its path did not
 * change; {@code probes} are the probes bpftrace's dry run found in it.
 */
public record BpftraceSettings(Path script, String program, String source, List<String> args, String event,
                               String metricPrefix, int maxKeys, int maxLineBytes, int perfBufferBytes, String bpftrace,
                               List<String> probes)
        implements MonitorSettings {
    public static final String DEFAULT_EVENT = "printf";
    public static final int DEFAULT_MAX_KEYS = 1000;
    public static final int DEFAULT_MAX_LINE = 64 << 10;
    /** bpftrace's perf buffer per CPU (its default is 256 KiB): what absorbs a burst while it formats JSON. */
    public static final int DEFAULT_PERF_BUFFER = 2 << 20;

    public BpftraceSettings {
        args = List.copyOf(args);
        probes = List.copyOf(probes);
    }

    /** What bpftrace is given after its options: the script file, or -e and the program; then the parameters. */
    List<String> scriptArguments() {
        List<String> out = new java.util.ArrayList<>();
        if (script != null) {
            out.add(script.toString());
        } else {
            out.add("-e");
            out.add(program);
        }
        out.addAll(args);
        return out;
    }

    /**
     * A probe appended to the script it runs: bpftrace fires BEGIN probes once every probe is
     * attached (its "attached_probes" message comes before), so this line says the script runs.
     */
    static final String ATTACHED = "__bpfwatch_attached__";
    private static final String ATTACHED_PROBE = "\nBEGIN { printf(\"" + ATTACHED + "\\n\"); }\n";

    /** What bpftrace runs: the script's text as read with the config, the readiness probe after it; then the parameters. */
    List<String> runArguments() {
        List<String> out = new java.util.ArrayList<>();
        out.add("-e");
        out.add(source + ATTACHED_PROBE);
        out.addAll(args);
        return out;
    }

    /** How the script is named in messages. */
    String label() {
        return script != null ? script.toString() : "the inline program";
    }
}
