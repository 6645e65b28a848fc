package io.bpfwatch.monitor.libbpf;

import io.bpfwatch.monitor.MonitorSettings;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * A libbpf monitor's section: the user's compiled CO-RE object ({@code sha256} of its bytes as
 * read when the config was loaded, so a rebuilt object restarts the monitor on reload), the
 * `const volatile` values to set before load, the ring buffers to read as events and the maps
 * to export as metrics.
 */
public record LibbpfSettings(Path object, String sha256, Map<String, Long> constants, List<Events> events,
                             List<Metric> metrics, int maxKeys, String lostMap) implements MonitorSettings {
    public static final int DEFAULT_MAX_KEYS = 10_000;

    public LibbpfSettings {
        constants = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(constants));
        events = List.copyOf(events);
        metrics = List.copyOf(metrics);
    }

    /**
     * One ring buffer: its records are {@code struct}s, logged as events named {@code name};
     * {@code time}: a member holding bpf_ktime_get_ns() (else the time of reading);
     * {@code fields}: decoders by member path.
     */
    public record Events(String ring, String struct, String name, String time, Map<String, String> fields) {
        public Events {
            fields = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(fields));
        }
    }

    /** counter, gauge or histogram. */
    public enum Type {
        COUNTER, GAUGE, HISTOGRAM;

        static final List<String> WORDS = List.of("counter", "gauge", "histogram");
    }

    /**
     * One map as a metric: the key's members in {@code labels} (with their decoders) become
     * labels, the value (or its member {@code value}) the sample; for a histogram the key's
     * member {@code bucket} is the bucket's index: log2 (bucket i counts values below 2^(i+1))
     * or linear (below (i+1) x width), the bounds multiplied by {@code scale}.
     */
    public record Metric(String map, String name, String help, Type type, Map<String, String> labels, String value,
                         String bucket, boolean linear, double width, double scale) {
        public Metric {
            labels = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(labels));
        }
    }
}
