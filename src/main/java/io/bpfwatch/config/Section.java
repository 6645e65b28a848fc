package io.bpfwatch.config;

import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A YAML mapping read strictly: each key is taken once by the code that understands it, and
 * {@link #finish()} reports the keys nobody took. Every problem lands in {@link Problems} at the
 * line and column of the offending key or value; readers return defaults so parsing goes on and
 * all problems of a file are reported in one pass.
 */
public final class Section {
    private final Problems problems;
    private final String path;      // "monitors.tcp.alert", for messages
    private final Node node;        // the mapping, or the node that should have been one
    private final Map<String, NodeTuple> entries = new LinkedHashMap<>();
    private final List<String> taken = new ArrayList<>();

    Section(Problems problems, String path, Node node) {
        this.problems = problems;
        this.path = path;
        this.node = node;
        if (node instanceof MappingNode m) {
            for (NodeTuple t : m.getValue()) {
                Node k = t.getKeyNode();
                if (!(k instanceof ScalarNode ks)) {
                    problems.at(k, "keys must be plain names" + where());
                    continue;
                }
                if (entries.containsKey(ks.getValue())) {
                    problems.at(k, "duplicate key '" + ks.getValue() + "'" + where());
                    continue;
                }
                entries.put(ks.getValue(), t);
            }
        }
    }

    /** An empty section standing in for one that is absent. */
    static Section absent(Problems problems, String path) {
        return new Section(problems, path, null);
    }

    public Problems problems() {
        return problems;
    }

    public String path() {
        return path;
    }

    public Node node() {
        return node;
    }

    /**
     * False for a section that is absent or was not a mapping (that problem is already
     * reported): then "X is required" would only repeat it.
     */
    public boolean isMapping() {
        return node instanceof MappingNode;
    }

    private String where() {
        return path.isEmpty() ? "" : " in " + path;
    }

    private String keyPath(String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    /** The value node of {@code key}, marking the key as understood. */
    public Optional<Node> take(String key) {
        taken.add(key);
        NodeTuple t = entries.get(key);
        if (t == null) return Optional.empty();
        Node v = t.getValueNode();
        if (v instanceof ScalarNode s && s.getTag().equals(Tag.NULL)) return Optional.empty();
        return Optional.of(v);
    }

    public boolean has(String key) {
        return entries.containsKey(key);
    }

    /** Names of the keys present, in file order. */
    public List<String> keys() {
        return new ArrayList<>(entries.keySet());
    }

    /** The value node of {@code key} without taking it (for messages about a value read elsewhere), or the key's. */
    public Node valueNode(String key) {
        NodeTuple t = entries.get(key);
        return t == null ? keyNode(key) : t.getValueNode();
    }

    public Node keyNode(String key) {
        NodeTuple t = entries.get(key);
        return t == null ? node : t.getKeyNode();
    }

    /** A nested mapping; absent or null gives an empty section. */
    public Section section(String key) {
        Optional<Node> v = take(key);
        if (v.isEmpty()) return absent(problems, keyPath(key));
        if (!(v.get() instanceof MappingNode)) {
            problems.at(v.get(), keyPath(key) + " must be a mapping (key: value lines), not " + describe(v.get()));
            return new Section(problems, keyPath(key), v.get()); // empty; what is missing in it is reported here
        }
        return new Section(problems, keyPath(key), v.get());
    }

    /** Reports every key no reader took; call after all reads. */
    public void finish() {
        List<String> known = new ArrayList<>(new java.util.LinkedHashSet<>(taken));
        for (Map.Entry<String, NodeTuple> e : entries.entrySet()) {
            if (!taken.contains(e.getKey())) {
                String hint = suggestion(e.getKey(), known);
                problems.at(e.getValue().getKeyNode(), "unknown key '" + e.getKey() + "'" + where()
                        + (hint != null ? "; did you mean '" + hint + "'?" : known.isEmpty() ? "" : " (known: " + String.join(", ", known) + ")"));
            }
        }
    }

    // ---- scalars ----

    public String string(String key, String def) {
        Optional<Node> v = take(key);
        if (v.isEmpty()) return def;
        if (!(v.get() instanceof ScalarNode s)) {
            problems.at(v.get(), keyPath(key) + " must be a string, not " + describe(v.get()));
            return def;
        }
        return s.getValue();
    }

    /** A list of mappings, each a section of its own ("events[0]" in messages). */
    public List<Section> sections(String key) {
        Optional<Node> v = take(key);
        if (v.isEmpty()) return List.of();
        if (v.get() instanceof MappingNode) return List.of(new Section(problems, keyPath(key), v.get()));
        if (!(v.get() instanceof SequenceNode seq)) {
            problems.at(v.get(), keyPath(key) + " must be a list of mappings, not " + describe(v.get()));
            return List.of();
        }
        List<Section> out = new ArrayList<>();
        int i = 0;
        for (Node n : seq.getValue()) {
            String p = keyPath(key) + "[" + i++ + "]";
            if (!(n instanceof MappingNode)) {
                problems.at(n, p + " must be a mapping (key: value lines), not " + describe(n));
                continue;
            }
            out.add(new Section(problems, p, n));
        }
        return out;
    }

    /** A number, whole or decimal (1e-9 allowed). */
    public double decimal(String key, double def) {
        Optional<Node> v = take(key);
        if (v.isEmpty()) return def;
        if (v.get() instanceof ScalarNode s) {
            try {
                double d = Double.parseDouble(s.getValue());
                if (Double.isFinite(d) && d > 0) return d;
            } catch (NumberFormatException e) {
                // reported below
            }
        }
        problems.at(v.get(), keyPath(key) + " must be a positive number like 1 or 1e-9, not " + describe(v.get()));
        return def;
    }

    /** One of {@code allowed} words, else a problem naming them. */
    public String oneOf(String key, String def, List<String> allowed) {
        Optional<Node> v = take(key);
        if (v.isEmpty()) return def;
        if (v.get() instanceof ScalarNode s && allowed.contains(s.getValue())) return s.getValue();
        problems.at(v.get(), keyPath(key) + " must be " + words(allowed) + ", not " + describe(v.get()));
        return def;
    }

    private static String words(List<String> allowed) {
        if (allowed.size() == 1) return allowed.get(0);
        return String.join(", ", allowed.subList(0, allowed.size() - 1)) + " or " + allowed.get(allowed.size() - 1);
    }

    /** An absolute path, taken as written (".." next to a symlink means what the kernel says). */
    public Path absolutePath(String key, Path def) {
        Optional<Node> v = take(key);
        if (v.isEmpty()) return def;
        if (!(v.get() instanceof ScalarNode s)) {
            problems.at(v.get(), keyPath(key) + " must be a path like " + def + ", not " + describe(v.get()));
            return def;
        }
        String text = s.getValue();
        if (!text.startsWith("/")) {
            problems.at(v.get(), keyPath(key) + " must be an absolute path like " + def + ", not '" + text + "'");
            return def;
        }
        try {
            return Path.of(text);
        } catch (InvalidPathException e) {
            problems.at(v.get(), keyPath(key) + " is not a usable path: " + e.getReason());
            return def;
        }
    }

    public boolean bool(String key, boolean def) {
        Optional<Node> v = take(key);
        if (v.isEmpty()) return def;
        return toBool(v.get(), keyPath(key), def);
    }

    boolean toBool(Node n, String what, boolean def) {
        if (n instanceof ScalarNode s) {
            String t = s.getValue();
            if (t.equals("true")) return true;
            if (t.equals("false")) return false;
        }
        problems.at(n, what + " must be true or false, not " + describe(n));
        return def;
    }

    public long integer(String key, long def, long min, long max) {
        Optional<Node> v = take(key);
        if (v.isEmpty()) return def;
        return toInteger(v.get(), keyPath(key), def, min, max);
    }

    long toInteger(Node n, String what, long def, long min, long max) {
        if (n instanceof ScalarNode s && s.getTag().equals(Tag.INT) && s.getValue().matches("[-+]?[0-9]+")) {
            try {
                long x = Long.parseLong(s.getValue());
                if (x < min || x > max) {
                    problems.at(n, what + " must be between " + min + " and " + max + ", not " + x);
                    return def;
                }
                return x;
            } catch (NumberFormatException tooLarge) {
                problems.at(n, what + " must be between " + min + " and " + max + ", not " + s.getValue());
                return def;
            }
        }
        problems.at(n, what + " must be a whole number, not " + describe(n));
        return def;
    }

    public int port(Node n, String what, int def) {
        if (n instanceof ScalarNode s && s.getTag().equals(Tag.INT) && s.getValue().matches("[0-9]+")) {
            long p = s.getValue().length() > 6 ? Long.MAX_VALUE : Long.parseLong(s.getValue());
            if (p >= 1 && p <= 65535) return (int) p;
            problems.at(n, what + ": port " + s.getValue() + " is out of range (1-65535)");
            return def;
        }
        problems.at(n, what + ": a port must be a number from 1 to 65535, not " + describe(n));
        return def;
    }

    public List<Integer> ports(String key, List<Integer> def) {
        return list(key, def, (n) -> {
            int p = port(n, keyPath(key), -1);
            return p < 0 ? null : p;
        });
    }

    public List<Cidr> cidrs(String key, List<Cidr> def) {
        return list(key, def, (n) -> {
            if (!(n instanceof ScalarNode s)) {
                problems.at(n, keyPath(key) + ": a network must be written as text like 10.0.0.0/8, not " + describe(n));
                return null;
            }
            try {
                return Cidr.parse(s.getValue());
            } catch (IllegalArgumentException e) {
                problems.at(n, keyPath(key) + ": " + e.getMessage());
                return null;
            }
        });
    }

    /** A sequence whose items {@code item} converts (null = already reported). */
    public <T> List<T> list(String key, List<T> def, Function<Node, T> item) {
        Optional<Node> v = take(key);
        if (v.isEmpty()) return def;
        if (!(v.get() instanceof SequenceNode seq)) {
            problems.at(v.get(), keyPath(key) + " must be a list (e.g. [a, b]), not " + describe(v.get()));
            return def;
        }
        List<T> out = new ArrayList<>();
        for (Node n : seq.getValue()) {
            T t = item.apply(n);
            if (t != null) out.add(t);
        }
        return List.copyOf(out);
    }

    public Duration duration(String key, Duration def, Duration min, Duration max) {
        Optional<Node> v = take(key);
        if (v.isEmpty()) return def;
        Node n = v.get();
        Duration d = n instanceof ScalarNode s ? parseDuration(s.getValue()) : null;
        if (d != null) {
            ScalarNode s = (ScalarNode) n;
            if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
                problems.at(n, keyPath(key) + " must be between " + human(min) + " and " + human(max) + ", not " + s.getValue());
                return def;
            }
            return d;
        }
        problems.at(n, keyPath(key) + " must be a duration like 500ms, 30s, 5m or 1h, not " + describe(n));
        return def;
    }

    private static final Pattern SIZE = Pattern.compile("([0-9]+)\\s*(B|KB|KiB|MB|MiB|GB|GiB|k|K|M|G)?");

    public long size(String key, long def, long min, long max) {
        Optional<Node> v = take(key);
        if (v.isEmpty()) return def;
        Node n = v.get();
        if (n instanceof ScalarNode s) {
            Matcher m = SIZE.matcher(s.getValue().trim());
            if (m.matches() && m.group(1).length() <= 15) {
                long x = Long.parseLong(m.group(1));
                String unit = m.group(2) == null ? "B" : m.group(2);
                long mult = switch (unit) {
                    case "KB" -> 1000L;
                    case "KiB", "k", "K" -> 1024L;
                    case "MB" -> 1000_000L;
                    case "MiB", "M" -> 1024L * 1024;
                    case "GB" -> 1000_000_000L;
                    case "GiB", "G" -> 1024L * 1024 * 1024;
                    default -> 1L;
                };
                if (x > Long.MAX_VALUE / mult) x = Long.MAX_VALUE / mult;
                long bytes = x * mult;
                if (bytes < min || bytes > max) {
                    problems.at(n, keyPath(key) + " must be between " + bytes(min) + " and " + bytes(max) + ", not " + s.getValue());
                    return def;
                }
                return bytes;
            }
        }
        problems.at(n, keyPath(key) + " must be a size like 100MiB, 512KiB or 1GiB, not " + describe(n));
        return def;
    }

    /**
     * Parts like 500ms, 30s, 5m, 1h, one after another (1m30s): their sum, saturated (a sum past
     * what a long holds in milliseconds is that long, out of any range), or null when it is not
     * a duration. By hand: a regular expression for "one or more parts" recursed per part and
     * overflowed the stack on a value of some thousands of them.
     */
    static Duration parseDuration(String t) {
        int n = t.length(), i = 0;
        if (n == 0) return null;
        long total = 0;
        while (i < n) {
            int start = i;
            long x = 0;
            while (i < n && t.charAt(i) >= '0' && t.charAt(i) <= '9') {
                x = x > Long.MAX_VALUE / 10 ? Long.MAX_VALUE : x * 10 + (t.charAt(i) - '0');
                if (x < 0) x = Long.MAX_VALUE;
                i++;
            }
            if (i == start || i >= n) return null;
            long unit;
            if (t.startsWith("ms", i)) {
                unit = 1;
                i += 2;
            } else {
                unit = switch (t.charAt(i)) {
                    case 's' -> 1000L;
                    case 'm' -> 60_000L;
                    case 'h' -> 3_600_000L;
                    default -> 0L;
                };
                if (unit == 0) return null;
                i++;
            }
            long ms = x > Long.MAX_VALUE / unit ? Long.MAX_VALUE : x * unit;
            total = total > Long.MAX_VALUE - ms ? Long.MAX_VALUE : total + ms;
        }
        return Duration.ofMillis(total);
    }

    static String human(Duration d) {
        if (d.toMillis() % 3_600_000 == 0 && d.toHours() > 0) return d.toHours() + "h";
        if (d.toMillis() % 60_000 == 0 && d.toMinutes() > 0) return d.toMinutes() + "m";
        if (d.toMillis() % 1000 == 0) return d.toSeconds() + "s";
        return d.toMillis() + "ms";
    }

    static String bytes(long b) {
        if (b % (1L << 30) == 0 && b > 0) return (b >> 30) + "GiB";
        if (b % (1L << 20) == 0 && b > 0) return (b >> 20) + "MiB";
        if (b % (1L << 10) == 0 && b > 0) return (b >> 10) + "KiB";
        return b + "B";
    }

    /** What a node is, for messages: "the text 'abc'", "a list", "a mapping". */
    public static String describe(Node n) {
        if (n instanceof MappingNode) return "a mapping";
        if (n instanceof SequenceNode) return "a list";
        if (n instanceof ScalarNode s) {
            String v = s.getValue();
            if (v.length() > 40) v = v.substring(0, 40) + "...";
            return "'" + v.replace("\n", "\\n") + "'";
        }
        return "this";
    }

    /** The closest known key within edit distance 2, for "did you mean". */
    static String suggestion(String key, List<String> known) {
        String best = null;
        int bestD = 3;
        for (String k : known) {
            int d = distance(key.toLowerCase(Locale.ROOT), k.toLowerCase(Locale.ROOT));
            if (d < bestD) {
                bestD = d;
                best = k;
            }
        }
        return best;
    }

    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1], cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) prev[j] = j;
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int c = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + c);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
