package io.bpfwatch.monitor.bpftrace;

import com.fasterxml.jackson.databind.JsonNode;
import io.bpfwatch.monitor.Meters;
import io.micrometer.core.instrument.Counter;
import io.prometheus.client.Collector;
import org.jboss.logging.Logger;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The maps a bpftrace monitor's script printed, as Prometheus series: each family holds what the
 * map held when it was last printed. A count, sum, min, max or avg map is a gauge ({@code key}
 * label for a keyed map), stats() a summary (count and sum), hist() and lhist() a histogram with
 * the script's buckets ({@code le} the bucket's upper bound; bpftrace does not print a sum, so
 * there is no _sum). Names are {@code <prefix><map name>}. At most {@code maxKeys} keys per map
 * are exported; the others are counted in bpfwatch_custom_keys_dropped_total.
 */
final class BpftraceMetrics extends Collector {
    private static final Logger LOG = Logger.getLogger(BpftraceMetrics.class);
    private static final int MAX_LABEL = 128;

    private final String monitor;
    private final Map<String, MetricFamilySamples> families = new ConcurrentHashMap<>();
    private final Counter keysDropped;
    private volatile String prefix = "";
    private volatile int maxKeys = 1000;

    BpftraceMetrics(String monitor, Meters meters) {
        this.monitor = monitor;
        keysDropped = meters.add(Counter.builder("bpfwatch.custom.keys.dropped").tag("monitor", monitor)
                .description("Map keys a custom monitor printed but did not export, past its max-keys").register(meters.registry()));
        if (!meters.collector(this)) {
            LOG.warnf("%s: no Prometheus registry behind %s: its maps are not exported", monitor, meters.registry().getClass().getName());
        }
    }

    /** Settings of the running instance (a reload may change them). */
    void configure(String prefix, int maxKeys) {
        this.prefix = prefix;
        this.maxKeys = maxKeys;
        families.clear();
    }

    /** The instance stopped: its last values are no longer current. */
    void clear() {
        families.clear();
    }

    @Override
    public List<MetricFamilySamples> collect() {
        return new ArrayList<>(new TreeMap<>(families).values());
    }

    /** One printed message's maps. */
    void update(String type, Map<String, JsonNode> maps) {
        for (Map.Entry<String, JsonNode> m : maps.entrySet()) {
            String name = prefix + metricName(m.getKey());
            String help = "bpftrace map " + m.getKey() + " of monitor " + monitor + ", as last printed";
            MetricFamilySamples f = switch (type) {
                case "hist" -> histogram(name, help, m.getValue());
                case "stats" -> stats(name, help, m.getValue());
                default -> gauge(name, help, m.getValue());
            };
            if (f != null) families.put(name, f);
        }
    }

    /** "@syscalls" as "syscalls"; anything Prometheus does not allow in a name becomes '_'. */
    static String metricName(String map) {
        String s = map.startsWith("@") ? map.substring(1) : map;
        if (s.isEmpty()) return "map";
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            b.append((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ? c : '_');
        }
        return b.toString();
    }

    private MetricFamilySamples gauge(String name, String help, JsonNode v) {
        List<MetricFamilySamples.Sample> samples = new ArrayList<>();
        if (v.isNumber()) {
            samples.add(new MetricFamilySamples.Sample(name, List.of(), List.of(), v.asDouble()));
        } else if (v.isObject()) {
            int n = 0, dropped = 0;
            for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (!e.getValue().isNumber()) continue; // a map of strings is not a metric
                if (n++ >= maxKeys) {
                    dropped++;
                    continue;
                }
                samples.add(new MetricFamilySamples.Sample(name, List.of("key"), List.of(label(e.getKey())), e.getValue().asDouble()));
            }
            if (dropped > 0) keysDropped.increment(dropped);
            if (samples.isEmpty()) return null;
        } else {
            return null;
        }
        return new MetricFamilySamples(name, Type.GAUGE, help, samples);
    }

    /** stats(): {count, average, total}; avg(): a number (then a gauge). Keyed or not. */
    private MetricFamilySamples stats(String name, String help, JsonNode v) {
        boolean one = v.isObject() && v.path("count").isNumber() && v.path("total").isNumber();
        if (!one && (v.isNumber() || (v.isObject() && v.elements().hasNext() && v.elements().next().isNumber()))) return gauge(name, help, v);
        List<MetricFamilySamples.Sample> samples = new ArrayList<>();
        if (one) {
            summary(samples, name, List.of(), List.of(), v);
        } else if (v.isObject()) {
            int n = 0, dropped = 0;
            for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (n++ >= maxKeys) {
                    dropped++;
                    continue;
                }
                summary(samples, name, List.of("key"), List.of(label(e.getKey())), e.getValue());
            }
            if (dropped > 0) keysDropped.increment(dropped);
        }
        return samples.isEmpty() ? null : new MetricFamilySamples(name, Type.SUMMARY, help, samples);
    }

    private static void summary(List<MetricFamilySamples.Sample> out, String name, List<String> labels, List<String> values, JsonNode s) {
        out.add(new MetricFamilySamples.Sample(name + "_count", labels, values, s.path("count").asDouble()));
        out.add(new MetricFamilySamples.Sample(name + "_sum", labels, values, s.path("total").asDouble()));
    }

    /** hist()/lhist(): an array of {min, max, count} buckets, or an object of them by key. */
    private MetricFamilySamples histogram(String name, String help, JsonNode v) {
        List<MetricFamilySamples.Sample> samples = new ArrayList<>();
        if (v.isArray()) {
            buckets(samples, name, List.of(), List.of(), v);
        } else if (v.isObject()) {
            int n = 0, dropped = 0;
            for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (n++ >= maxKeys) {
                    dropped++;
                    continue;
                }
                buckets(samples, name, List.of("key"), List.of(label(e.getKey())), e.getValue());
            }
            if (dropped > 0) keysDropped.increment(dropped);
        }
        return samples.isEmpty() ? null : new MetricFamilySamples(name, Type.HISTOGRAM, help, samples);
    }

    private static void buckets(List<MetricFamilySamples.Sample> out, String name, List<String> labels, List<String> values, JsonNode hist) {
        if (!hist.isArray()) return;
        TreeMap<Double, Double> byBound = new TreeMap<>();
        double total = 0;
        for (JsonNode b : hist) {
            double count = b.path("count").asDouble();
            total += count;
            double le = b.has("max") && b.get("max").isNumber() ? b.get("max").asDouble() : Double.POSITIVE_INFINITY;
            byBound.merge(le, count, Double::sum);
        }
        List<String> withLe = new ArrayList<>(labels);
        withLe.add("le");
        double cumulative = 0;
        for (Map.Entry<Double, Double> e : byBound.entrySet()) {
            cumulative += e.getValue();
            if (e.getKey().isInfinite()) continue;
            List<String> v = new ArrayList<>(values);
            v.add(Collector.doubleToGoString(e.getKey()));
            out.add(new MetricFamilySamples.Sample(name + "_bucket", withLe, v, cumulative));
        }
        List<String> inf = new ArrayList<>(values);
        inf.add("+Inf");
        out.add(new MetricFamilySamples.Sample(name + "_bucket", withLe, inf, total));
        out.add(new MetricFamilySamples.Sample(name + "_count", labels, values, total));
    }

    private static String label(String key) {
        return key.length() > MAX_LABEL ? key.substring(0, MAX_LABEL) : key;
    }
}
