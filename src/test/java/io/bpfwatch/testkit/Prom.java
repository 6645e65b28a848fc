package io.bpfwatch.testkit;

import java.util.LinkedHashMap;
import java.util.Map;

/** Reads sample values out of Prometheus text exposition (what /metrics serves). */
public final class Prom {
    private final Map<String, Double> samples = new LinkedHashMap<>();
    private final String text;

    public Prom(String text) {
        this.text = text;
        for (String line : text.split("\n")) {
            if (line.isEmpty() || line.startsWith("#")) continue;
            int sp = line.lastIndexOf(' ');
            if (sp < 0) continue;
            try {
                samples.put(normalize(line.substring(0, sp)), Double.parseDouble(line.substring(sp + 1)));
            } catch (NumberFormatException ignored) {
                // timestamps or exotic values are not used by the tests
            }
        }
    }

    /** Label order as written in the query does not matter: labels are sorted. */
    static String normalize(String series) {
        int b = series.indexOf('{');
        if (b < 0) return series;
        String name = series.substring(0, b);
        String labels = series.substring(b + 1, series.length() - 1);
        if (labels.endsWith(",")) labels = labels.substring(0, labels.length() - 1); // simpleclient writes {a="b",}
        if (labels.isEmpty()) return name;
        String[] parts = labels.split(",(?=[a-zA-Z_]+=\")");
        java.util.Arrays.sort(parts);
        return name + "{" + String.join(",", parts) + "}";
    }

    /** The value of e.g. {@code bpfwatch_events_total{monitor="tcp"}}; 0 if absent. */
    public double get(String series) {
        return samples.getOrDefault(normalize(series), 0.0);
    }

    public boolean has(String series) {
        return samples.containsKey(normalize(series));
    }

    /** Sum over every series of a metric whose labels include all of {@code labels}. */
    public double sum(String name, String... labels) {
        double total = 0;
        outer:
        for (Map.Entry<String, Double> e : samples.entrySet()) {
            String k = e.getKey();
            if (!(k.equals(name) || k.startsWith(name + "{"))) continue;
            for (String l : labels) if (!k.contains(l)) continue outer;
            total += e.getValue();
        }
        return total;
    }

    public String text() {
        return text;
    }
}
