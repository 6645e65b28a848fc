package io.bpfwatch.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bpfwatch.config.ConfigException;
import io.bpfwatch.config.ConfigLoader;
import io.bpfwatch.config.HttpConfig;
import io.bpfwatch.monitor.MonitorCatalog;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * bpfwatch top: the running daemon's last seconds from its /top endpoint, one frame per
 * interval. On a terminal, a full-screen view (the alternate screen, the terminal restored on
 * q, Ctrl+C or SIGTERM); otherwise frames one after the other, or one with --once.
 */
public final class Top {
    public static final String USAGE = "top [--interval 2s] [-n N] [--once] [--url URL] [--config FILE]";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");
    /** Longest window the daemon keeps (RecentActivity.MAX_WINDOW). */
    static final int MAX_SECONDS = io.bpfwatch.top.RecentActivity.MAX_WINDOW;

    record Options(Duration interval, int entries, boolean once, String url, String config) {
    }

    private Top() {
    }

    static Options parse(List<String> argv) throws Args.UsageException {
        Duration interval = Duration.ofSeconds(2);
        int entries = 5;
        boolean once = false;
        String url = null, config = null;
        for (int i = 0; i < argv.size(); i++) {
            String a = argv.get(i), name = a, value = null;
            int eq = a.indexOf('=');
            if (a.startsWith("--") && eq > 0) {
                name = a.substring(0, eq);
                value = a.substring(eq + 1);
            }
            switch (name) {
                case "--interval", "-d" -> {
                    value = value != null ? value : Tail.next(argv, ++i, name, "a duration like 2s");
                    interval = Tail.duration(value);
                    if (interval.toMillis() < 1000 || interval.toMillis() > MAX_SECONDS * 1000L || interval.toMillis() % 1000 != 0) {
                        throw new Args.UsageException(name + " needs whole seconds from 1s to " + MAX_SECONDS + "s, not '" + value + "'");
                    }
                }
                case "-n" -> {
                    value = value != null ? value : Tail.next(argv, ++i, name, "a number");
                    try {
                        entries = Integer.parseInt(value);
                    } catch (NumberFormatException e) {
                        entries = -1;
                    }
                    if (entries < 1 || entries > io.bpfwatch.top.RecentActivity.KEYS) {
                        throw new Args.UsageException("-n needs a number from 1 to " + io.bpfwatch.top.RecentActivity.KEYS + ", not '" + value + "'");
                    }
                }
                case "--once" -> once = true;
                case "--url" -> url = value != null ? value : Tail.next(argv, ++i, name, "a URL like http://127.0.0.1:9476");
                case "--config", "-c" -> config = value != null ? value : Tail.next(argv, ++i, name, "a file");
                default -> throw new Args.UsageException("unknown option '" + a + "' for top");
            }
        }
        return new Options(interval, entries, once, url, config);
    }

    /** The daemon's address: --url, else the config's http.listen (a wildcard address as loopback). */
    static String baseUrl(Options o, MonitorCatalog catalog, PrintStream err) {
        if (o.url() != null) return o.url().replaceAll("/+$", "");
        var path = ConfigLoader.resolvePath(o.config());
        try {
            HttpConfig h = new ConfigLoader(catalog).load(path).http();
            String host = switch (h.host()) {
                case "0.0.0.0", "" -> "127.0.0.1";
                case "::" -> "::1";
                default -> h.host();
            };
            return h.scheme() + "://" + new HttpConfig(host, h.port()).listen();
        } catch (ConfigException e) {
            err.println("bpfwatch top: " + path + " is invalid (bpfwatch check says why); give the daemon's address with --url");
            return null;
        }
    }

    /** Reads /top: the parsed document, or an exception saying why not. */
    static final class Source {
        private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        private final String base;
        private final String auth;

        Source(String base, String auth) {
            this.base = base;
            this.auth = auth;
        }

        JsonNode read(int seconds, int entries) throws IOException, InterruptedException {
            HttpRequest.Builder r = HttpRequest.newBuilder(URI.create(base + "/top?seconds=" + seconds + "&n=" + entries))
                    .timeout(Duration.ofSeconds(3));
            if (auth != null) r.header("Authorization", "Basic " + Base64.getEncoder().encodeToString(auth.getBytes(StandardCharsets.UTF_8)));
            HttpResponse<String> resp;
            try {
                resp = client.send(r.build(), HttpResponse.BodyHandlers.ofString());
            } catch (java.net.ConnectException e) {
                throw new IOException("cannot reach " + base + " (is the daemon running? connection refused)");
            } catch (java.net.http.HttpTimeoutException e) {
                throw new IOException("no answer from " + base + " within 3 s");
            }
            if (resp.statusCode() == 401) {
                throw new IOException(base + " asks for a user: set BPFWATCH_AUTH=user:password");
            }
            if (resp.statusCode() != 200) {
                throw new IOException(base + "/top answered " + resp.statusCode() + (resp.statusCode() == 404 ? " (a daemon older than bpfwatch top?)" : ""));
            }
            return JSON.readTree(resp.body());
        }
    }

    /**
     * Runs until {@code stop} says so (or once): each interval, reads /top and prints a frame.
     * {@code screen}: a terminal (clears between frames); {@code keys}: what the user typed, or null.
     * Returns 0, or 1 when --once could not reach the daemon.
     */
    static int run(Options o, Source source, PrintStream out, boolean screen, InputStream keys, ZoneId zone, BooleanSupplier stop)
            throws InterruptedException, IOException {
        int seconds = (int) o.interval().toSeconds();
        Map<String, Long> lastLost = new HashMap<>();
        while (true) {
            String frame;
            try {
                JsonNode doc = source.read(seconds, o.entries());
                frame = frame(doc, source.base, zone, screen ? width() : 0, lastLost);
            } catch (IOException e) {
                if (o.once()) {
                    System.err.println("bpfwatch top: " + e.getMessage());
                    return 1;
                }
                frame = "bpfwatch top   " + source.base + "   " + CLOCK.format(Instant.now().atZone(zone)) + "\n\n"
                        + e.getMessage() + "; trying again every " + seconds + " s\n";
            }
            if (screen) out.print("\u001b[H\u001b[2J" + frame.replace("\n", "\r\n") + "\u001b[J");
            else out.print(frame + (o.once() ? "" : "\n"));
            out.flush();
            if (o.once() || out.checkError()) return 0;
            long until = System.nanoTime() + o.interval().toNanos();
            while (System.nanoTime() < until) {
                if (stop.getAsBoolean()) return 0;
                if (keys != null && keys.available() > 0) {
                    int c = keys.read();
                    if (c == 'q' || c == 'Q' || c == -1) return 0;
                    if (c == ' ') break; // refresh now
                }
                Thread.sleep(50);
            }
        }
    }

    private static int width() {
        String cols = System.getenv("COLUMNS");
        try {
            if (cols != null) return Integer.parseInt(cols.trim());
        } catch (NumberFormatException e) {
            // ask the terminal
        }
        String size = Commands.stty("size");
        String[] rc = size == null ? new String[0] : size.split("\\s+");
        try {
            if (rc.length == 2) return Integer.parseInt(rc[1]);
        } catch (NumberFormatException e) {
            // the default
        }
        return 100;
    }

    /** One frame as text ({@code width} 0: lines are not cut). */
    static String frame(JsonNode doc, String base, ZoneId zone, int width, Map<String, Long> lastLost) {
        int seconds = doc.path("seconds").asInt();
        StringBuilder sb = new StringBuilder();
        Instant t = Instant.parse(doc.path("time").asText());
        line(sb, width, "bpfwatch top   " + base + "   " + CLOCK.format(t.atZone(zone)) + "   last " + seconds + " s   (q quits)");
        sb.append('\n');
        line(sb, width, String.format("%-12s %-12s %10s %12s %10s %8s  %s", "MONITOR", "STATE", "EVENTS/S", "EVENTS", "LOST", "RESTARTS", ""));
        List<String[]> rankings = new ArrayList<>();
        for (JsonNode m : doc.path("monitors")) {
            String name = ReadableLine.visible(m.path("name").asText());
            String state = m.path("state").asText();
            long lost = m.path("lost").asLong();
            Long before = lastLost.put(name, lost);
            String lostText = lost + (before != null && lost > before ? " +" + (lost - before) : "");
            String rate = state.equals("running") ? String.format("%.1f", m.path("events_per_second").asDouble()) : "-";
            String err = m.path("last_error").isNull() || state.equals("running") ? "" : ReadableLine.visible(m.path("last_error").asText());
            line(sb, width, String.format("%-12s %-12s %10s %12d %10s %8d  %s", name, state, rate, m.path("events").asLong(), lostText,
                    m.path("restarts").asLong(), err));
            m.path("top").fields().forEachRemaining(c -> {
                if (c.getValue().path("entries").isEmpty()) return;
                rankings.add(new String[] {name + " " + c.getKey() + (c.getValue().path("approximate").asBoolean() ? " (approximate)" : "")});
                for (JsonNode e : c.getValue().path("entries")) {
                    rankings.add(new String[] {ReadableLine.visible(e.path("key").asText()), Long.toString(e.path("count").asLong())});
                }
            });
        }
        if (!rankings.isEmpty()) sb.append('\n');
        int keyWidth = width == 0 ? 60 : Math.max(20, Math.min(70, width - 14));
        for (String[] r : rankings) {
            if (r.length == 1) {
                if (sb.charAt(sb.length() - 2) != '\n') sb.append('\n');
                line(sb, width, String.format("%-" + (keyWidth + 2) + "s %10s", r[0], "COUNT"));
            } else {
                String key = r[0].length() > keyWidth ? r[0].substring(0, keyWidth - 1) + "…" : r[0];
                line(sb, width, String.format("  %-" + keyWidth + "s %10s", key, r[1]));
            }
        }
        return sb.toString();
    }

    private static void line(StringBuilder sb, int width, String s) {
        s = s.stripTrailing();
        if (width > 0 && s.length() > width) s = s.substring(0, width);
        sb.append(s).append('\n');
    }
}
