package io.bpfwatch.event;

import com.fasterxml.jackson.databind.JsonNode;

import java.math.BigInteger;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * An event of a custom monitor: its fields are whatever the user's program produced, in order.
 * Values are Strings, Longs, BigIntegers (u64 past 2^63), Doubles, Booleans, Jackson nodes (a JSON object the program
 * printed), lists and maps of those. The process fields (pid, uid, comm) are written only when
 * known: a bpftrace script prints them or not.
 */
public final class FieldsEvent extends Event {
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
    public void writeFields(FieldWriter w) {
        for (Map.Entry<String, Object> f : fields.entrySet()) {
            w.name(f.getKey());
            write(w, f.getValue());
        }
    }

    private static void write(FieldWriter w, Object v) {
        if (v == null) {
            w.nullValue();
        } else if (v instanceof String s) {
            w.string(s);
        } else if (v instanceof Long l) {
            w.number(l);
        } else if (v instanceof Integer i) {
            w.number(i);
        } else if (v instanceof Double d) {
            w.number(d);
        } else if (v instanceof Boolean b) {
            w.bool(b);
        } else if (v instanceof BigInteger b) {
            w.number(b);
        } else if (v instanceof JsonNode n) {
            write(w, n);
        } else if (v instanceof List<?> list) {
            w.startArray();
            for (Object o : list) write(w, o);
            w.endArray();
        } else if (v instanceof Map<?, ?> map) {
            w.startObject();
            for (Map.Entry<?, ?> e : map.entrySet()) {
                w.name(String.valueOf(e.getKey()));
                write(w, e.getValue());
            }
            w.endObject();
        } else {
            w.string(v.toString());
        }
    }

    /**
     * A JSON value the program printed, as it was; a number with a fraction or an exponent is
     * written as the double it reads as.
     */
    private static void write(FieldWriter w, JsonNode n) {
        switch (n.getNodeType()) {
            case OBJECT -> {
                w.startObject();
                for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = it.next();
                    w.name(e.getKey());
                    write(w, e.getValue());
                }
                w.endObject();
            }
            case ARRAY -> {
                w.startArray();
                for (JsonNode item : n) write(w, item);
                w.endArray();
            }
            case STRING -> w.string(n.textValue());
            case BOOLEAN -> w.bool(n.booleanValue());
            case NUMBER -> {
                if (!n.isIntegralNumber()) w.number(n.doubleValue());
                else if (n.canConvertToLong()) w.number(n.longValue());
                else w.number(n.bigIntegerValue());
            }
            case NULL, MISSING -> w.nullValue();
            default -> w.string(n.asText()); // binary, POJO: not produced by parsing text
        }
    }

    /** top: a custom monitor's events by name. */
    @Override
    public void tally(Tally t) {
        t.add("events", event, 1);
    }
}
