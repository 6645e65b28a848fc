package io.bpfwatch.packaging;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a scrape of /metrics offers (sample names, their labels and label values), and the
 * problems of a PromQL expression against it: a metric that does not exist, a label it does
 * not have, a literal label value none of its series carries. Enough PromQL to read the
 * queries of a dashboard and of alerting rules; promtool checks their syntax separately.
 */
final class MetricReferences {
    /** Labels Prometheus adds to every series it scrapes. */
    private static final Set<String> TARGET_LABELS = Set.of("job", "instance");
    /** Series Prometheus makes itself for every target. */
    private static final Set<String> SYNTHETIC = Set.of("up", "scrape_duration_seconds", "scrape_samples_scraped");
    private static final Set<String> KEYWORDS = Set.of("and", "or", "unless", "by", "without", "on", "ignoring", "group_left",
            "group_right", "offset", "bool", "inf", "nan", "atan2");

    private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(.*)})? \\S+");
    private static final Pattern LABEL_PAIR = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");
    private static final Pattern SELECTOR = Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)\\s*\\{([^}]*)}");
    private static final Pattern MATCHER = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)\\s*(=~|!~|!=|=)\\s*\"((?:[^\"\\\\]|\\\\.)*)\"");
    private static final Pattern GROUPING = Pattern.compile("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\(([^)]*)\\)");
    private static final Pattern IDENT = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");

    /** sample name -> label name -> values seen */
    private final Map<String, Map<String, Set<String>>> samples = new TreeMap<>();

    MetricReferences(String scrape) {
        for (String line : scrape.split("\n")) {
            if (line.startsWith("#")) continue;
            Matcher m = SAMPLE.matcher(line);
            if (!m.find()) continue;
            Map<String, Set<String>> labels = samples.computeIfAbsent(m.group(1), k -> new TreeMap<>());
            if (m.group(3) == null) continue;
            Matcher l = LABEL_PAIR.matcher(m.group(3));
            while (l.find()) labels.computeIfAbsent(l.group(1), k -> new TreeSet<>()).add(l.group(2));
        }
    }

    Set<String> names() {
        return samples.keySet();
    }

    /** The problems of one expression; empty if every reference resolves. */
    List<String> problems(String expr) {
        List<String> problems = new ArrayList<>();
        String e = expr.replaceAll("\\$__(rate_interval|interval|range)\\b", "5m")
                .replaceAll("\\$\\{?[a-zA-Z_][a-zA-Z0-9_]*}?", ".*");
        Set<String> metrics = new LinkedHashSet<>();
        Map<String, List<String[]>> matchers = new HashMap<>();
        Matcher s = SELECTOR.matcher(e);
        while (s.find()) {
            metrics.add(s.group(1));
            Matcher m = MATCHER.matcher(s.group(2));
            while (m.find()) matchers.computeIfAbsent(s.group(1), k -> new ArrayList<>()).add(new String[] {m.group(1), m.group(2), m.group(3)});
        }
        Set<String> grouping = new LinkedHashSet<>();
        Matcher g = GROUPING.matcher(e);
        while (g.find()) for (String l : g.group(2).split(",")) if (!l.isBlank()) grouping.add(l.trim());
        String rest = SELECTOR.matcher(e).replaceAll("$1 ");
        rest = GROUPING.matcher(rest).replaceAll(" ");
        rest = rest.replaceAll("\"(?:[^\"\\\\]|\\\\.)*\"", " ").replaceAll("\\[[^]]*]", " ").replaceAll("\\b\\d+(\\.\\d+)?([eE][-+]?\\d+)?\\b", " ");
        Matcher id = IDENT.matcher(rest);
        while (id.find()) {
            String name = id.group();
            int after = id.end();
            while (after < rest.length() && rest.charAt(after) == ' ') after++;
            boolean function = after < rest.length() && rest.charAt(after) == '(';
            if (!function && !KEYWORDS.contains(name)) metrics.add(name);
        }

        Set<String> available = new TreeSet<>(TARGET_LABELS);
        for (String metric : metrics) {
            if (SYNTHETIC.contains(metric)) continue;
            Map<String, Set<String>> labels = samples.get(metric);
            if (labels == null) {
                problems.add("no metric " + metric + " in the scrape");
                continue;
            }
            available.addAll(labels.keySet());
            for (String[] m : matchers.getOrDefault(metric, List.of())) {
                String label = m[0];
                if (TARGET_LABELS.contains(label) || label.equals("__name__")) continue;
                if (!labels.containsKey(label)) {
                    problems.add(metric + " has no label " + label + " (it has " + labels.keySet() + ")");
                } else if (m[1].equals("=") && !labels.get(label).contains(m[2])) {
                    problems.add(metric + " has no series with " + label + "=\"" + m[2] + "\" (values: " + labels.get(label) + ")");
                }
            }
        }
        for (String label : grouping) {
            if (!available.contains(label)) problems.add("grouping by " + label + ", which none of " + metrics + " has");
        }
        if (metrics.isEmpty()) problems.add("no metric referenced");
        return problems;
    }
}
