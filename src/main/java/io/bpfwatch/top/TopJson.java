package io.bpfwatch.top;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.bpfwatch.supervise.MonitorStatus;

import java.io.IOException;
import java.io.StringWriter;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** The /top document: each monitor's state, totals and its last {@code seconds} ranked. */
public final class TopJson {
    private static final JsonFactory JSON = new JsonFactory();

    private TopJson() {}

    public static String write(List<MonitorStatus> monitors, int seconds, int n, long nowMillis) throws IOException {
        StringWriter w = new StringWriter();
        try (JsonGenerator g = JSON.createGenerator(w)) {
            g.writeStartObject();
            g.writeStringField("time", Instant.ofEpochMilli(nowMillis).toString());
            g.writeNumberField("seconds", seconds);
            g.writeArrayFieldStart("monitors");
            for (MonitorStatus s : monitors) {
                g.writeStartObject();
                g.writeStringField("name", s.name());
                g.writeStringField("kind", s.kind());
                g.writeStringField("state", s.state().label());
                g.writeNumberField("restarts", s.restarts());
                g.writeStringField("last_error", s.lastError());
                g.writeNumberField("events", s.events());
                g.writeNumberField("lost", s.lost());
                RecentActivity.Window win = s.recent() == null ? null : s.recent().window(seconds, nowMillis, n);
                g.writeNumberField("window_seconds", win == null ? seconds : Math.round(win.seconds() * 1000) / 1000.0);
                g.writeNumberField("window_events", win == null ? 0 : win.events());
                g.writeNumberField("events_per_second", win == null ? 0 : Math.round(win.perSecond() * 10) / 10.0);
                g.writeObjectFieldStart("top");
                if (win != null) {
                    for (Map.Entry<String, RecentActivity.Ranking> c : win.top().entrySet()) {
                        g.writeObjectFieldStart(c.getKey());
                        g.writeBooleanField("approximate", c.getValue().approximate());
                        g.writeArrayFieldStart("entries");
                        for (RecentActivity.Entry e : c.getValue().entries()) {
                            g.writeStartObject();
                            g.writeStringField("key", e.key());
                            g.writeNumberField("count", e.count());
                            g.writeEndObject();
                        }
                        g.writeEndArray();
                        g.writeEndObject();
                    }
                }
                g.writeEndObject();
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        }
        return w + "\n";
    }
}
