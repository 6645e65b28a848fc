package io.bpfwatch.export;

import io.bpfwatch.event.FieldWriter;
import io.bpfwatch.event.JsonLineEncoder;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.AttributesBuilder;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Writes an event's fields straight into OTLP attributes, so an event writes its own fields
 * once, the same way for its JSON line and its log record, with no tree in between: scalars as
 * themselves (a duration in milliseconds as a double),
 * nested objects as dotted names, lists of one scalar kind as typed arrays, any other list as
 * its JSON text. One per export thread, reused: {@link #reset} before each event.
 */
final class AttributesGenerator extends FieldWriter {
    private AttributesBuilder out;
    /** The dotted prefix of each open object below the top one. */
    private final List<String> prefixes = new ArrayList<>();
    private String field;
    private int objects;
    // inside a list: its name, its scalar items, and the same list written as JSON text
    private String arrayKey;
    private int arrayDepth;
    private List<Object> items;
    private boolean scalarsOnly;
    /** The list being collected, as JSON text: written when its items are not all of one scalar kind. */
    private final JsonLineEncoder text = new JsonLineEncoder(256);
    /** {@link #text} while a list is being collected, else null. */
    private JsonLineEncoder side;
    boolean alert;

    void reset(AttributesBuilder b) {
        out = b;
        prefixes.clear();
        field = null;
        objects = 0;
        arrayDepth = 0;
        side = null;
        alert = false;
    }

    private String key() {
        return prefixes.isEmpty() ? field : prefixes.get(prefixes.size() - 1) + field;
    }

    /** A scalar value: into the list being collected, or an attribute. */
    private void scalar(Object v) {
        if (arrayDepth > 0) {
            if (arrayDepth == 1) items.add(v);
            return;
        }
        if (field == null || objects == 0) return;
        String k = key();
        if (v instanceof String s) out.put(key(strings, k, AttributeKey::stringKey), s);
        else if (v instanceof Long l) out.put(key(longs, k, AttributeKey::longKey), l);
        else if (v instanceof Double d) out.put(key(doubles, k, AttributeKey::doubleKey), d);
        else if (v instanceof Boolean b) {
            out.put(key(booleans, k, AttributeKey::booleanKey), b);
            if (b && objects == 1 && k.equals("alert")) alert = true;
        }
    }

    // Keys are kept: an AttributeKey also keeps its name's UTF-8 bytes, which the OTLP marshaler
    // would otherwise encode again for every record. A monitor's field names are few (a custom
    // monitor's come from its program); past MAX_KEYS of a kind, keys are made per use.
    private static final int MAX_KEYS = 512;
    private final Map<String, AttributeKey<String>> strings = new HashMap<>();
    private final Map<String, AttributeKey<Long>> longs = new HashMap<>();
    private final Map<String, AttributeKey<Double>> doubles = new HashMap<>();
    private final Map<String, AttributeKey<Boolean>> booleans = new HashMap<>();

    private static <T> AttributeKey<T> key(Map<String, AttributeKey<T>> keys, String name, Function<String, AttributeKey<T>> make) {
        AttributeKey<T> k = keys.get(name);
        if (k == null) {
            k = make.apply(name);
            if (keys.size() < MAX_KEYS) keys.put(name, k);
        }
        return k;
    }

    @Override
    public void startArray() {
        if (arrayDepth == 0) {
            arrayKey = key();
            items = new ArrayList<>();
            scalarsOnly = true;
            text.reset();
            side = text;
        } else {
            scalarsOnly = false;
        }
        arrayDepth++;
        side.startArray();
    }

    @Override
    public void endArray() {
        side.endArray();
        if (--arrayDepth > 0) return;
        if (arrayKey != null) array(arrayKey);
        side = null;
    }

    private void array(String k) {
        boolean strings = scalarsOnly, longs = scalarsOnly, doubles = scalarsOnly, bools = scalarsOnly;
        for (Object o : items) {
            strings &= o instanceof String;
            longs &= o instanceof Long;
            doubles &= o instanceof Double || o instanceof Long;
            bools &= o instanceof Boolean;
        }
        if (strings) {
            List<String> l = new ArrayList<>(items.size());
            for (Object o : items) l.add((String) o);
            out.put(AttributeKey.stringArrayKey(k), l);
        } else if (longs) {
            List<Long> l = new ArrayList<>(items.size());
            for (Object o : items) l.add((Long) o);
            out.put(AttributeKey.longArrayKey(k), l);
        } else if (doubles) {
            List<Double> l = new ArrayList<>(items.size());
            for (Object o : items) l.add(((Number) o).doubleValue());
            out.put(AttributeKey.doubleArrayKey(k), l);
        } else if (bools) {
            List<Boolean> l = new ArrayList<>(items.size());
            for (Object o : items) l.add((Boolean) o);
            out.put(AttributeKey.booleanArrayKey(k), l);
        } else {
            out.put(k, new String(side.array(), 0, side.size(), StandardCharsets.UTF_8));
        }
    }

    @Override
    public void startObject() {
        if (arrayDepth > 0) {
            scalarsOnly = false;
            side.startObject();
            return;
        }
        if (objects > 0) prefixes.add(key() + ".");
        objects++;
    }

    @Override
    public void endObject() {
        if (arrayDepth > 0) {
            side.endObject();
            return;
        }
        objects--;
        if (objects > 0) prefixes.remove(prefixes.size() - 1);
        field = null;
    }

    @Override
    public void name(Name name) {
        if (arrayDepth > 0) side.name(name);
        else field = name.text;
    }

    @Override
    public void name(String name) {
        if (arrayDepth > 0) side.name(name);
        else field = name;
    }

    @Override
    public void string(String text) {
        if (text == null) {
            nullValue();
            return;
        }
        if (side != null) side.string(text);
        scalar(text);
    }

    @Override
    public void number(long v) {
        if (side != null) side.number(v);
        scalar(v);
    }

    @Override
    public void number(double v) {
        if (!Double.isFinite(v)) {
            nullValue(); // as the JSON line has it
            return;
        }
        if (side != null) side.number(v);
        scalar(v);
    }

    /** A 64-bit attribute if it fits, else its digits as a string (OTLP has no wider integer). */
    @Override
    public void number(BigInteger v) {
        if (v.bitLength() < 64) {
            number(v.longValue());
        } else {
            if (side != null) side.number(v);
            scalar(v.toString());
        }
    }

    /** Milliseconds to the microsecond: the same double the JSON line's digits read as. */
    @Override
    public void millis(long nanos) {
        long micros = (Math.abs(nanos) + 500) / 1000;
        number((nanos < 0 ? -micros : micros) / 1000.0);
    }

    @Override
    public void bool(boolean state) {
        if (side != null) side.bool(state);
        scalar(state);
    }

    @Override
    public void nullValue() {
        if (side != null) {
            side.nullValue();
            scalarsOnly = false; // a null in a list: the list goes as its JSON text
        }
    }
}
