package io.bpfwatch.event;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * An event of a custom monitor: its fields are whatever the user's program produced, in order.
 * Values are Strings, Longs, Doubles, Booleans, Jackson nodes (a JSON object the program
 * printed), lists and maps of those. The process fields (pid, uid, comm) are written only when
 * known: a bpftrace script prints them or not.
 */
public final class FieldsEvent extends Event {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final String monitor;
    private final String event;
    private final Map<String, Object> fields;

    /** Without process fields ({@code comm} null: pid, uid and comm are not written). */
    public FieldsEvent(long time, String monitor, String event, Map<String, Object> fields) {
        super(time, -1, -1, null);
        this.monitor = monitor;
        this.event = event;
        this.fields = fields;
    }

    /** With the process the kernel record names. */
    public FieldsEvent(long time, int pid, int uid, String comm, String monitor, String event, Map<String, Object> fields) {
        super(time, pid, uid, comm);
        this.monitor = monitor;
        this.event = event;
        this.fields = fields;
    }

    @Override
    public String monitor() {
        return monitor;
    }

    @Override
    public String event() {
        return event;
    }

    public Map<String, Object> fields() {
        return fields;
    }

    @Override
    public void writeFields(JsonGenerator g) throws IOException {
        for (Map.Entry<String, Object> f : fields.entrySet()) {
            g.writeFieldName(f.getKey());
            write(g, f.getValue());
        }
    }

    private static void write(JsonGenerator g, Object v) throws IOException {
        if (v == null) {
            g.writeNull();
        } else if (v instanceof String s) {
            g.writeString(s);
        } else if (v instanceof Long l) {
            g.writeNumber(l);
        } else if (v instanceof Integer i) {
            g.writeNumber(i);
        } else if (v instanceof Double d) {
            g.writeNumber(d);
        } else if (v instanceof Boolean b) {
            g.writeBoolean(b);
        } else if (v instanceof JsonNode n) {
            JSON.writeTree(g, n);
        } else if (v instanceof List<?> list) {
            g.writeStartArray();
            for (Object o : list) write(g, o);
            g.writeEndArray();
        } else if (v instanceof Map<?, ?> map) {
            g.writeStartObject();
            for (Map.Entry<?, ?> e : map.entrySet()) {
                g.writeFieldName(String.valueOf(e.getKey()));
                write(g, e.getValue());
            }
            g.writeEndObject();
        } else {
            g.writeString(v.toString());
        }
    }

    /** top: a custom monitor's events by name. */
    @Override
    public void tally(Tally t) {
        t.add("events", event, 1);
    }
}
