package io.bpfwatch.http;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import io.bpfwatch.Daemon;
import io.bpfwatch.supervise.MonitorStatus;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import io.prometheus.client.exporter.common.TextFormat;

import java.io.IOException;
import java.io.OutputStream;
import java.io.StringWriter;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

/**
 * Every endpoint: /metrics, /monitors, /top, /health/live, /health/ready and a small index,
 * behind basic auth when {@code http.basic-auth} has users. GET (and HEAD) only. Handlers only
 * read snapshots: they never wait on the supervisor.
 */
public final class HttpRoutes implements HttpHandler {
    private static final JsonFactory JSON = new JsonFactory();
    private static final String TEXT = "text/plain; charset=utf-8", JSON_TYPE = "application/json";
    static final String INDEX = "bpfwatch\n\n/metrics        Prometheus metrics\n/monitors       each monitor's state (JSON)\n"
            + "/top            the last seconds per monitor: events/s, losses, top keys (JSON; ?seconds=2&n=10)\n"
            + "/health/live    200 while the event loops run\n/health/ready   200 once every enabled monitor is attached or known unavailable\n";

    private final Daemon daemon;
    private final PrometheusMeterRegistry registry;
    private final BasicAuth auth;

    public HttpRoutes(Daemon daemon, PrometheusMeterRegistry registry) {
        this.daemon = daemon;
        this.registry = registry;
        // the users are the running config's, so a reload changes them
        this.auth = new BasicAuth(() -> daemon.config().http().basicAuth());
    }

    @Override
    public void handle(HttpExchange ex) throws IOException {
        try (ex) {
            try {
                answer(ex);
            } catch (RuntimeException e) {
                org.jboss.logging.Logger.getLogger(HttpRoutes.class).warnf(e, "HTTP %s %s failed", ex.getRequestMethod(), ex.getRequestURI());
                if (ex.getResponseCode() == -1) send(ex, 500, TEXT, "bpfwatch could not answer: " + e + "\n");
            }
        }
    }

    private static final java.util.Set<String> PATHS = java.util.Set.of("/", "/metrics", "/monitors", "/top", "/health/live", "/health/ready");

    private void answer(HttpExchange ex) throws IOException {
        if (!auth.allows(ex.getRequestHeaders().getFirst("Authorization"))) {
            ex.getResponseHeaders().set("WWW-Authenticate", "Basic realm=\"bpfwatch\"");
            send(ex, 401, TEXT, "Unauthorized\n");
            return;
        }
        String path = ex.getRequestURI().getRawPath();
        if (!PATHS.contains(path)) {
            send(ex, 404, TEXT, "Not found: " + path + "\n\n" + INDEX);
            return;
        }
        if (!ex.getRequestMethod().equals("GET") && !ex.getRequestMethod().equals("HEAD")) {
            ex.getResponseHeaders().set("Allow", "GET, HEAD");
            send(ex, 405, TEXT, "Only GET and HEAD\n");
            return;
        }
        Answer a = switch (path) {
            case "/metrics" -> metrics(ex.getRequestHeaders().getFirst("Accept"));
            case "/monitors" -> new Answer(200, JSON_TYPE, monitorsJson(daemon));
            case "/top" -> top(ex.getRequestURI().getRawQuery());
            case "/health/live" -> health(daemon.live(), "live");
            case "/health/ready" -> health(daemon.ready(), "ready");
            default -> new Answer(200, TEXT, INDEX);
        };
        send(ex, a.status, a.type, a.body);
    }

    private record Answer(int status, String type, String body) {}

    /**
     * The Prometheus text format (0.0.4) to whoever accepts text/plain or text/html (Prometheus
     * itself lists text/plain, a browser text/html), OpenMetrics 1.0 to anyone else, curl with
     * no Accept included: the choice Quarkus's Micrometer endpoint made, which served /metrics
     * before.
     */
    static String contentType(String accept) {
        if (accept != null && (accept.contains("text/plain") || accept.contains("text/html"))) return TextFormat.CONTENT_TYPE_004;
        return TextFormat.CONTENT_TYPE_OPENMETRICS_100;
    }

    private Answer metrics(String accept) {
        String type = contentType(accept);
        return new Answer(200, type, registry.scrape(type));
    }

    private Answer health(boolean ok, String what) {
        return new Answer(ok ? 200 : 503, JSON_TYPE, "{\"status\":\"" + (ok ? "UP" : "DOWN") + "\",\"check\":\"" + what + "\""
                + ",\"summary\":" + quote(daemon.statusLine()) + "}\n");
    }

    private Answer top(String rawQuery) throws IOException {
        int seconds, n;
        try {
            seconds = intParam(rawQuery, "seconds", 2, 1, io.bpfwatch.top.RecentActivity.MAX_WINDOW);
            n = intParam(rawQuery, "n", 10, 1, io.bpfwatch.top.RecentActivity.KEYS);
        } catch (IllegalArgumentException e) {
            return new Answer(400, TEXT, e.getMessage() + "\n");
        }
        return new Answer(200, JSON_TYPE, io.bpfwatch.top.TopJson.write(daemon.status(), seconds, n, System.currentTimeMillis()));
    }

    private static void send(HttpExchange ex, int status, String type, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", type);
        boolean head = ex.getRequestMethod().equals("HEAD");
        if (head) ex.getResponseHeaders().set("Content-Length", String.valueOf(bytes.length));
        ex.sendResponseHeaders(status, head ? -1 : bytes.length);
        if (!head) {
            try (OutputStream out = ex.getResponseBody()) {
                out.write(bytes);
            }
        }
    }

    /** The first value of {@code name} in a raw query string, or {@code dflt} when absent. */
    static int intParam(String rawQuery, String name, int dflt, int min, int max) {
        String v = param(rawQuery, name);
        if (v == null) return dflt;
        try {
            int i = Integer.parseInt(v);
            if (i >= min && i <= max) return i;
        } catch (NumberFormatException e) {
            // below
        }
        throw new IllegalArgumentException(name + " must be a whole number from " + min + " to " + max + ", not " + v);
    }

    static String param(String rawQuery, String name) {
        if (rawQuery == null) return null;
        for (String pair : rawQuery.split("&")) {
            int eq = pair.indexOf('=');
            String key = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            if (key.equals(name)) return eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
        }
        return null;
    }

    public static String monitorsJson(Daemon d) throws IOException {
        StringWriter w = new StringWriter();
        try (JsonGenerator g = JSON.createGenerator(w).useDefaultPrettyPrinter()) {
            g.writeStartObject();
            g.writeBooleanField("ready", d.ready());
            g.writeStringField("config", d.config().file());
            g.writeArrayFieldStart("monitors");
            for (MonitorStatus s : d.status()) {
                g.writeStartObject();
                g.writeStringField("name", s.name());
                g.writeStringField("kind", s.kind());
                g.writeStringField("state", s.state().label());
                g.writeStringField("since", s.since().toString());
                g.writeNumberField("restarts", s.restarts());
                g.writeStringField("strategy", s.strategy());
                g.writeArrayFieldStart("attach_points");
                for (String p : s.attachPoints()) g.writeString(p);
                g.writeEndArray();
                g.writeStringField("last_error", s.lastError());
                g.writeStringField("last_error_at", s.lastErrorAt() == null ? null : s.lastErrorAt().toString());
                g.writeStringField("next_attempt", s.nextAttempt() == null ? null : s.nextAttempt().toString());
                g.writeNumberField("events", s.events());
                g.writeNumberField("lost", s.lost());
                g.writeStringField("log", s.log());
                g.writeStringField("log_problem", s.logProblem());
                g.writeNumberField("log_pending", s.logPending());
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeStringField("time", Instant.now().toString());
            g.writeEndObject();
        }
        return w + "\n";
    }

    private static String quote(String s) {
        StringWriter w = new StringWriter();
        try (JsonGenerator g = JSON.createGenerator(w)) {
            g.writeString(s);
        } catch (IOException e) {
            return "\"\"";
        }
        return w.toString();
    }
}
