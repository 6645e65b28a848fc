package io.bpfwatch.export;

import com.fasterxml.jackson.core.Base64Variant;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.base.GeneratorBase;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.AttributesBuilder;

import java.io.IOException;
import java.io.StringWriter;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * A Jackson generator that writes an event's fields straight into OTLP attributes, so an event
 * writes its own fields once, the same way for its JSON line and its log record, with no tree
 * in between: scalars as themselves (a number written raw, like a latency, as a double),
 * nested objects as dotted names, lists of one scalar kind as typed arrays, any other list as
 * its JSON text. One per export thread, reused: {@link #reset} before each event.
 */
final class AttributesGenerator extends GeneratorBase {
    private static final JsonFactory JSON = new JsonFactory();
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
    private StringWriter arrayText;
    private JsonGenerator side;
    boolean alert;

    AttributesGenerator() {
        super(0, null);
    }

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
    private void scalar(Object v) throws IOException {
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
    public void writeStartArray() throws IOException {
        if (arrayDepth == 0) {
            arrayKey = key();
            items = new ArrayList<>();
            scalarsOnly = true;
            arrayText = new StringWriter();
            side = JSON.createGenerator(arrayText);
        } else {
            scalarsOnly = false;
        }
        arrayDepth++;
        side.writeStartArray();
    }

    @Override
    public void writeEndArray() throws IOException {
        side.writeEndArray();
        if (--arrayDepth > 0) return;
        side.close();
        side = null;
        if (arrayKey != null) array(arrayKey);
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
            out.put(k, arrayText.toString());
        }
    }

    @Override
    public void writeStartObject() throws IOException {
        if (arrayDepth > 0) {
            scalarsOnly = false;
            side.writeStartObject();
            return;
        }
        if (objects > 0) prefixes.add(key() + ".");
        objects++;
    }

    @Override
    public void writeEndObject() throws IOException {
        if (arrayDepth > 0) {
            side.writeEndObject();
            return;
        }
        objects--;
        if (objects > 0) prefixes.remove(prefixes.size() - 1);
        field = null;
    }

    @Override
    public void writeFieldName(String name) throws IOException {
        if (arrayDepth > 0) side.writeFieldName(name);
        else field = name;
    }

    @Override
    public void writeString(String text) throws IOException {
        if (side != null) side.writeString(text);
        if (text == null) writeNull();
        else scalar(text);
    }

    @Override
    public void writeString(char[] text, int offset, int len) throws IOException {
        writeString(new String(text, offset, len));
    }

    @Override
    public void writeRawUTF8String(byte[] text, int offset, int length) throws IOException {
        writeString(new String(text, offset, length, StandardCharsets.UTF_8));
    }

    @Override
    public void writeUTF8String(byte[] text, int offset, int length) throws IOException {
        writeString(new String(text, offset, length, StandardCharsets.UTF_8));
    }

    /** Raw text is a value here (Event.writeMillis writes numbers raw): a number if it reads as one. */
    @Override
    public void writeRaw(String text) throws IOException {
        if (side != null) side.writeRawValue(text);
        try {
            scalar(Double.parseDouble(text));
        } catch (NumberFormatException e) {
            scalar(text);
        }
    }

    @Override
    public void writeRaw(String text, int offset, int len) throws IOException {
        writeRaw(text.substring(offset, offset + len));
    }

    @Override
    public void writeRaw(char[] text, int offset, int len) throws IOException {
        writeRaw(new String(text, offset, len));
    }

    @Override
    public void writeRaw(char c) throws IOException {
        writeRaw(String.valueOf(c));
    }

    @Override
    public void writeRawValue(String text) throws IOException {
        writeRaw(text);
    }

    @Override
    public void writeRawValue(String text, int offset, int len) throws IOException {
        writeRaw(text, offset, len);
    }

    @Override
    public void writeRawValue(char[] text, int offset, int len) throws IOException {
        writeRaw(text, offset, len);
    }

    @Override
    public void writeBinary(Base64Variant variant, byte[] data, int offset, int len) throws IOException {
        String s = variant.encode(java.util.Arrays.copyOfRange(data, offset, offset + len));
        writeString(s);
    }

    @Override
    public void writeNumber(int v) throws IOException {
        writeNumber((long) v);
    }

    @Override
    public void writeNumber(long v) throws IOException {
        if (side != null) side.writeNumber(v);
        scalar(v);
    }

    @Override
    public void writeNumber(BigInteger v) throws IOException {
        if (v.bitLength() < 64) {
            writeNumber(v.longValue());
        } else {
            if (side != null) side.writeNumber(v);
            scalar(v.toString());
        }
    }

    @Override
    public void writeNumber(double v) throws IOException {
        if (side != null) side.writeNumber(v);
        scalar(v);
    }

    @Override
    public void writeNumber(float v) throws IOException {
        writeNumber((double) v);
    }

    @Override
    public void writeNumber(BigDecimal v) throws IOException {
        writeNumber(v.doubleValue());
    }

    @Override
    public void writeNumber(String encodedValue) throws IOException {
        writeRaw(encodedValue);
    }

    @Override
    public void writeBoolean(boolean state) throws IOException {
        if (side != null) side.writeBoolean(state);
        scalar(state);
    }

    @Override
    public void writeNull() throws IOException {
        if (side != null) {
            side.writeNull();
            scalarsOnly = false; // a null in a list: the list goes as its JSON text
        }
    }

    @Override
    public void writeObject(Object value) throws IOException {
        if (value == null) writeNull();
        else if (value instanceof String s) writeString(s);
        else if (value instanceof Number n) {
            if (n instanceof Double || n instanceof Float || n instanceof BigDecimal) writeNumber(n.doubleValue());
            else writeNumber(n.longValue());
        } else if (value instanceof Boolean b) writeBoolean(b);
        else writeString(value.toString());
    }

    @Override
    public void flush() {
    }

    @Override
    protected void _releaseBuffers() {
    }

    @Override
    protected void _verifyValueWrite(String typeMsg) {
    }
}
