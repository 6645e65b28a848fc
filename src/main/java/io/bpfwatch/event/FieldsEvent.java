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
    private final int weight;
    /** Every String value is ISO-8859-1 characters only (read from bytes as such): see {@link FieldWriter#latin1}. */
    private final boolean latin1;

    /** Without process fields ({@code comm} null: pid, uid and comm are not written). */
    public FieldsEvent(long time, String monitor, String event, Map<String, Object> fields) {
        this(time, monitor, event, fields, 0);
    }

    /**
     * {@code textBytes}: the length of the text or record the fields were read from (a bpftrace
     * line, a user's struct), which their strings and nodes hold about twice over at most.
     */
    public FieldsEvent(long time, String monitor, String event, Map<String, Object> fields, int textBytes) {
        this(time, monitor, event, fields, textBytes, false);
    }

    /**
     * {@code latin1}: every String among the fields' values (not in lists, maps or nodes) holds
     * only ISO-8859-1 characters, as one read from bytes with that charset does.
     */
    public FieldsEvent(long time, String monitor, String event, Map<String, Object> fields, int textBytes, boolean latin1) {
        super(time, -1, -1, null);
        this.monitor = monitor;
        this.event = event;
        this.fields = fields;
        this.weight = weigh(fields, textBytes);
        this.latin1 = latin1;
    }

    /** With the process the kernel record names. */
    public FieldsEvent(long time, int pid, int uid, String comm, String monitor, String event, Map<String, Object> fields) {
        this(time, pid, uid, comm, monitor, event, fields, 0);
    }

    /** With the process, and the size of the record the fields were read from ({@code textBytes}). */
    public FieldsEvent(long time, int pid, int uid, String comm, String monitor, String event, Map<String, Object> fields, int textBytes) {
        super(time, pid, uid, comm);
        this.monitor = monitor;
        this.event = event;
        this.fields = fields;
        this.weight = weigh(fields, textBytes);
        this.latin1 = false;
    }

    /** The header and ~64 bytes per field (its map entry and boxed value), plus the text's. */
    private static int weigh(Map<String, Object> fields, int textBytes) {
        return (int) Math.min(Integer.MAX_VALUE, 256L + 64L * fields.size() + 2L * textBytes);
    }

    @Override
    public int weight() {
        return weight;
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
        if (fields instanceof Fields f) { // what the custom kinds make: by index, no iterator or entries
            for (int i = 0, n = f.size(); i < n; i++) {
                w.name(f.key(i));
                Object v = f.value(i);
                if (latin1 && v instanceof String s) w.latin1(s);
                else write(w, v);
            }
            return;
        }
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
