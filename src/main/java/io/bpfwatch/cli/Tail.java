package io.bpfwatch.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bpfwatch.config.ConfigException;
import io.bpfwatch.config.ConfigLoader;
import io.bpfwatch.monitor.MonitorCatalog;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code bpfwatch tail [MONITOR...] [-f] [-n N] [--since 10m] [--where FIELD=VALUE ...] [--json]}:
 * the audit logs as a person reads them. The monitors' files (rotated and gzip'd ones included)
 * are merged in time order, filtered, printed one aligned line per event ({@link ReadableLine})
 * or as the JSON lines they are ({@code --json}); {@code -f} then follows every current file
 * across rotations. Works whether the daemon runs or not: it only reads the log folder. A line
 * that is not a JSON event (cut short, foreign) is skipped and counted, never fatal.
 */
public final class Tail {
    public static final String USAGE = "tail [MONITOR...] [-f] [-n N] [--since 10m] [--where FIELD=VALUE ...] [--json] [--config FILE] [--logs-dir DIR]";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern DURATION = Pattern.compile("([0-9]+)(ms|s|m|h|d)");
    private static final long FOLLOW_POLL_MILLIS = 200;

    /** A --where filter: the event's field (its text, numbers as written) equals the value. */
    record Where(String field, String value) {
        boolean matches(JsonNode e) {
            JsonNode n = e.get(field);
            if (n == null || n.isNull()) return false;
            if (n.isArray()) {
                for (JsonNode x : n) if (x.asText().equals(value)) return true;
                return false;
            }
            return (n.isValueNode() ? n.asText() : n.toString()).equals(value);
        }
    }

    record Options(List<String> monitors, boolean follow, int lines, Duration since, List<Where> where, boolean json,
                   String config, Path logsDir) {
    }

    private Tail() {
    }

    static Options parse(List<String> argv) throws Args.UsageException {
        List<String> monitors = new ArrayList<>();
        List<Where> where = new ArrayList<>();
        boolean follow = false, json = false;
        int lines = -1;
        Duration since = null;
        String config = null;
        Path logsDir = null;
        for (int i = 0; i < argv.size(); i++) {
            String a = argv.get(i);
            String value = null, name = a;
            int eq = a.indexOf('=');
            if (a.startsWith("--") && eq > 0) {
                name = a.substring(0, eq);
                value = a.substring(eq + 1);
            }
            switch (name) {
                case "-f", "--follow" -> follow = true;
                case "--json" -> json = true;
                case "-n", "--lines" -> {
                    value = value != null ? value : next(argv, ++i, name, "a number");
                    try {
                        lines = Integer.parseInt(value);
                    } catch (NumberFormatException e) {
                        throw new Args.UsageException(name + " needs a number, not '" + value + "'");
                    }
                    if (lines < 0) throw new Args.UsageException(name + " needs a number of 0 or more");
                }
                case "--since" -> since = duration(value != null ? value : next(argv, ++i, name, "a duration like 10m"));
                case "--where" -> {
                    value = value != null ? value : next(argv, ++i, name, "FIELD=VALUE");
                    int e = value.indexOf('=');
                    if (e <= 0) throw new Args.UsageException("--where needs FIELD=VALUE, not '" + value + "'");
                    where.add(new Where(value.substring(0, e), value.substring(e + 1)));
                }
                case "--config", "-c" -> config = value != null ? value : next(argv, ++i, name, "a file");
                case "--logs-dir" -> logsDir = Path.of(value != null ? value : next(argv, ++i, name, "a directory"));
                default -> {
                    if (a.startsWith("-")) throw new Args.UsageException("unknown option '" + a + "' for tail");
                    if (!a.matches("[a-z][a-z0-9_-]{0,31}")) throw new Args.UsageException("'" + a + "' is not a monitor name");
                    monitors.add(a);
                }
            }
        }
        if (lines < 0) lines = since == null ? 10 : Integer.MAX_VALUE;
        return new Options(List.copyOf(monitors), follow, lines, since, List.copyOf(where), json, config, logsDir);
    }

    static String next(List<String> argv, int i, String name, String what) throws Args.UsageException {
        if (i >= argv.size()) throw new Args.UsageException(name + " needs " + what);
        return argv.get(i);
    }

    static Duration duration(String s) throws Args.UsageException {
        Matcher m = DURATION.matcher(s);
        Duration d = Duration.ZERO;
        int at = 0;
        while (m.find() && m.start() == at) {
            try {
                long n = Long.parseLong(m.group(1));
                d = d.plus(switch (m.group(2)) {
                    case "ms" -> Duration.ofMillis(n);
                    case "s" -> Duration.ofSeconds(n);
                    case "m" -> Duration.ofMinutes(n);
                    case "h" -> Duration.ofHours(n);
                    default -> Duration.ofDays(n);
                });
            } catch (NumberFormatException | ArithmeticException tooLarge) {
                throw new Args.UsageException("--since '" + s + "' is too large");
            }
            at = m.end();
        }
        if (at == 0 || at != s.length()) throw new Args.UsageException("--since needs a duration like 90s, 10m, 2h or 1d, not '" + s + "'");
        return d;
    }

    /** The log folder: --logs-dir, else the config's logs.dir. */
    static Path logsDir(Options o, MonitorCatalog catalog, PrintStream err) {
        if (o.logsDir() != null) return o.logsDir();
        Path config = ConfigLoader.resolvePath(o.config());
        try {
            return new ConfigLoader(catalog).load(config).logs().dir();
        } catch (ConfigException e) {
            err.println("bpfwatch tail: " + config + " is invalid (bpfwatch check says why); give the folder with --logs-dir");
            return null;
        }
    }

    /** One event read: its time (for merging) and its line. */
    private record Line(Instant time, int order, String raw, JsonNode event) {
    }

    /**
     * Prints what the options select; with -f then follows until {@code stop} says so. Returns
     * the exit status: 0, or 1 if the folder cannot be read.
     */
    public static int run(Options o, Path dir, PrintStream out, PrintStream err, boolean color, ZoneId zone, BooleanSupplier stop)
            throws IOException, InterruptedException {
        if (!Files.isDirectory(dir)) {
            if (!o.follow()) {
                err.println("bpfwatch tail: no log folder " + dir);
                return 1;
            }
        }
        ReadableLine fmt = new ReadableLine(color, zone);
        long[] skipped = {0};
        Instant cutoff = o.since() == null ? null : Instant.now().minus(o.since());
        List<LogLines.Files_> monitors = Files.isDirectory(dir) ? LogLines.list(dir, o.monitors()) : List.of();

        // with -f, following starts now, and the history is what the files held before it:
        // a line written meanwhile is printed once, by the follower
        Map<String, LogLines.Follower> followers = new LinkedHashMap<>();
        if (o.follow()) addFollowers(o, dir, followers, true);

        // history: the last -n events (or all since the cutoff) of every monitor, merged by time
        List<Line> history = new ArrayList<>();
        int[] order = {0};
        for (LogLines.Files_ m : monitors) {
            List<Line> mine = new ArrayList<>();
            List<Path> files = m.files();
            LogLines.Follower following = followers.get(m.monitor());
            for (int i = files.size() - 1; i >= 0 && (cutoff != null || mine.size() < o.lines()); i--) {
                Path f = files.get(i);
                long limit = i == files.size() - 1 && following != null ? following.position() : Long.MAX_VALUE;
                List<Line> fromFile = new ArrayList<>();
                if (cutoff == null && !f.getFileName().toString().endsWith(".gz")) {
                    // from the end: enough lines that -n of them pass the filters, or the whole file
                    int want = o.lines() - mine.size();
                    List<String> tailLines;
                    for (long n = Math.max(64, want * 2L); ; n *= 4) {
                        tailLines = LogLines.last(f, (int) Math.min(n, Integer.MAX_VALUE), limit);
                        if (tailLines.size() < n || n >= Integer.MAX_VALUE || selected(tailLines, o) >= want) break;
                    }
                    for (String l : tailLines) add(fromFile, l, o, null, skipped, order);
                } else {
                    LogLines.readAll(f, limit, l -> add(fromFile, l, o, cutoff, skipped, order));
                }
                mine.addAll(0, fromFile);
            }
            if (cutoff == null && mine.size() > o.lines()) mine = mine.subList(mine.size() - o.lines(), mine.size());
            history.addAll(mine);
        }
        history.sort(Comparator.comparing(Line::time).thenComparingInt(Line::order));
        if (history.size() > o.lines()) history = history.subList(history.size() - o.lines(), history.size());
        for (Line l : history) out.println(o.json() ? l.raw() : fmt.format(l.event()));
        out.flush();

        if (o.follow()) follow(o, dir, out, fmt, skipped, stop, followers);
        if (skipped[0] > 0) err.println("bpfwatch tail: skipped " + skipped[0] + " line" + (skipped[0] == 1 ? "" : "s") + " that were not JSON events");
        return 0;
    }

    /** How many of these lines are events the filters select. */
    private static int selected(List<String> lines, Options o) {
        int n = 0;
        for (String l : lines) {
            JsonNode e = parse(l);
            if (e != null && time(e) != null && selected(e, o)) n++;
        }
        return n;
    }

    private static void add(List<Line> into, String raw, Options o, Instant cutoff, long[] skipped, int[] order) {
        JsonNode e = parse(raw);
        Instant t = e == null ? null : time(e);
        if (t == null) {
            skipped[0]++;
            return;
        }
        if (cutoff != null && t.isBefore(cutoff)) return;
        if (!selected(e, o)) return;
        into.add(new Line(t, order[0]++, raw, e));
    }

    private static boolean selected(JsonNode e, Options o) {
        for (Where w : o.where()) if (!w.matches(e)) return false;
        return true;
    }

    private static JsonNode parse(String raw) {
        if (raw.isEmpty() || raw.charAt(0) != '{') return null;
        try {
            JsonNode n = JSON.readTree(raw);
            return n != null && n.isObject() && n.has("monitor") ? n : null;
        } catch (IOException notJson) {
            return null;
        }
    }

    private static Instant time(JsonNode e) {
        try {
            return Instant.parse(e.path("time").asText());
        } catch (RuntimeException notATime) {
            return null;
        }
    }

    /** Follows every current file (and monitors whose file appears later, when none were named). */
    private static void follow(Options o, Path dir, PrintStream out, ReadableLine fmt, long[] skipped, BooleanSupplier stop,
                               Map<String, LogLines.Follower> followers) throws IOException, InterruptedException {
        try {
            while (!stop.getAsBoolean()) {
                for (LogLines.Follower f : followers.values()) {
                    f.poll(raw -> {
                        JsonNode e = parse(raw);
                        if (e == null || time(e) == null) {
                            skipped[0]++;
                        } else if (selected(e, o)) {
                            out.println(o.json() ? raw : fmt.format(e));
                        }
                    });
                }
                out.flush();
                if (out.checkError()) return; // the reader went away (a closed pipe)
                Thread.sleep(FOLLOW_POLL_MILLIS);
                addFollowers(o, dir, followers, false);
            }
        } finally {
            for (LogLines.Follower f : followers.values()) f.close();
        }
    }

    /** {@code initial}: files that exist now are followed from their end (the history showed them). */
    private static void addFollowers(Options o, Path dir, Map<String, LogLines.Follower> followers, boolean initial) throws IOException {
        if (!o.monitors().isEmpty()) {
            for (String m : o.monitors()) {
                if (!followers.containsKey(m)) followers.put(m, new LogLines.Follower(dir.resolve(m + ".log")));
            }
            return;
        }
        if (!Files.isDirectory(dir)) return;
        for (LogLines.Files_ m : LogLines.list(dir, List.of())) {
            if (!followers.containsKey(m.monitor())) {
                // a monitor whose file appears later is read from its start: all of it is new
                followers.put(m.monitor(), new LogLines.Follower(dir.resolve(m.monitor() + ".log"), initial));
            }
        }
    }
}
