package io.bpfwatch.http;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.bpfwatch.Daemon;
import io.bpfwatch.supervise.MonitorStatus;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

import java.io.IOException;
import java.io.StringWriter;
import java.time.Instant;

/**
 * /monitors, /health/live, /health/ready and a small index; /metrics is Micrometer's.
 * Handlers only read snapshots: they never wait on the supervisor.
 */
@ApplicationScoped
public class HttpRoutes {
    private static final JsonFactory JSON = new JsonFactory();

    /**
     * The daemon once its lifecycle has it ({@link #serve}), null before. Never made here: the
     * routes are made and the server listens while Quarkus starts, before Micrometer's
     * registries get their filters, and making the daemon then (as a request that came early
     * once did, through a bean lookup) registers its meters ahead of the filters: Micrometer
     * warns, and those meters miss them. Until then every request is answered 503.
     */
    private static volatile Daemon current;

    /** Called by the lifecycle with the daemon it runs, once Quarkus has fully started. */
    public static void serve(Daemon daemon) {
        current = daemon;
    }

    /** Only called behind the gate in {@link #routes}, so never null. */
    private static Daemon daemon() {
        return current;
    }

    void routes(@Observes Router router) {
        // first of all, /metrics included: nothing is served before the daemon exists
        router.route().order(Integer.MIN_VALUE).handler(ctx -> {
            if (current != null) {
                ctx.next();
            } else if (ctx.request().path().startsWith("/health/")) {
                String check = ctx.request().path().substring("/health/".length());
                ctx.response().setStatusCode(503).putHeader("content-type", "application/json")
                        .end("{\"status\":\"DOWN\",\"check\":" + quote(check) + ",\"summary\":\"starting\"}\n");
            } else {
                ctx.response().setStatusCode(503).putHeader("content-type", "text/plain; charset=utf-8").end("bpfwatch is starting\n");
            }
        });
        // before every other route; the users are the running config's
        router.route().order(Integer.MIN_VALUE + 1).handler(new BasicAuth(() -> daemon().config().http().basicAuth()));
        router.get("/").handler(ctx -> ctx.response().putHeader("content-type", "text/plain; charset=utf-8")
                .end("bpfwatch\n\n/metrics        Prometheus metrics\n/monitors       each monitor's state (JSON)\n"
                        + "/top            the last seconds per monitor: events/s, losses, top keys (JSON; ?seconds=2&n=10)\n"
                        + "/health/live    200 while the event loops run\n/health/ready   200 once every enabled monitor is attached or known unavailable\n"));
        router.get("/monitors").handler(this::monitors);
        router.get("/top").handler(this::top);
        router.get("/health/live").handler(ctx -> health(ctx, daemon().live(), "live"));
        router.get("/health/ready").handler(ctx -> health(ctx, daemon().ready(), "ready"));
    }

    private void health(RoutingContext ctx, boolean ok, String what) {
        ctx.response().setStatusCode(ok ? 200 : 503).putHeader("content-type", "application/json")
                .end("{\"status\":\"" + (ok ? "UP" : "DOWN") + "\",\"check\":\"" + what + "\""
                        + ",\"summary\":" + quote(daemon().statusLine()) + "}\n");
    }

    private void monitors(RoutingContext ctx) {
        try {
            ctx.response().putHeader("content-type", "application/json").end(monitorsJson(daemon()));
        } catch (IOException e) {
            ctx.fail(e);
        }
    }

    private void top(RoutingContext ctx) {
        int seconds, n;
        try {
            seconds = intParam(ctx, "seconds", 2, 1, io.bpfwatch.top.RecentActivity.MAX_WINDOW);
            n = intParam(ctx, "n", 10, 1, io.bpfwatch.top.RecentActivity.KEYS);
        } catch (IllegalArgumentException e) {
            ctx.response().setStatusCode(400).putHeader("content-type", "text/plain; charset=utf-8").end(e.getMessage() + "\n");
            return;
        }
        try {
            ctx.response().putHeader("content-type", "application/json")
                    .end(io.bpfwatch.top.TopJson.write(daemon().status(), seconds, n, System.currentTimeMillis()));
        } catch (IOException e) {
            ctx.fail(e);
        }
    }

    private static int intParam(RoutingContext ctx, String name, int dflt, int min, int max) {
        String v = ctx.request().getParam(name);
        if (v == null) return dflt;
        try {
            int i = Integer.parseInt(v);
            if (i >= min && i <= max) return i;
        } catch (NumberFormatException e) {
            // below
        }
        throw new IllegalArgumentException(name + " must be a whole number from " + min + " to " + max + ", not " + v);
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
