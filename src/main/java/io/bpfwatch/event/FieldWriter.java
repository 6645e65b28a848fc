package io.bpfwatch.event;

import java.nio.charset.StandardCharsets;

/**
 * Where an event writes its own fields, the same way for its JSON line ({@link JsonLineEncoder})
 * and for its OTLP log record's attributes: a name, then a value; arrays and objects nest.
 * A null String is written as null. A double that is not finite is written as null (JSON has no
 * NaN). Not thread-safe.
 */
public abstract class FieldWriter {

    /** A field name, with its JSON form ({@code "name":}) encoded once. */
    public static final class Name {
        public final String text;
        final byte[] json;

        private Name(String text) {
            this.text = text;
            JsonLineEncoder e = new JsonLineEncoder(16 + 6 * text.length());
            e.quoted(text);
            e.raw((byte) ':');
            this.json = java.util.Arrays.copyOf(e.array(), e.size());
        }

        public static Name of(String text) {
            return new Name(text);
        }

        @Override
        public String toString() {
            return new String(json, StandardCharsets.UTF_8);
        }
    }

    public abstract void name(Name name);

    /** A name known only at run time (a custom monitor's field). */
    public abstract void name(String name);

    public abstract void string(String value);

    /**
     * A string whose characters are all ISO-8859-1 (U+0000 to U+00FF), as one read from bytes
     * with that charset is: the JSON line copies it as bytes, and escapes only if it must.
     */
    public void latin1(String value) {
        string(value);
    }

    public abstract void number(long value);

    public abstract void number(double value);

    /** An integer past 64 bits (a u64 of a custom monitor's record above 2^63). */
    public abstract void number(java.math.BigInteger value);

    public abstract void bool(boolean value);

    public abstract void nullValue();

    /**
     * A duration as milliseconds rounded to the microsecond ("0.032", "12.5", "3.0"): the digits
     * Double.toString gives for that many milliseconds, without an exponent however long.
     */
    public abstract void millis(long nanos);

    public abstract void startArray();

    public abstract void endArray();

    public abstract void startObject();

    public abstract void endObject();

    public final void field(Name name, String value) {
        name(name);
        string(value);
    }

    public final void field(Name name, long value) {
        name(name);
        number(value);
    }

    public final void field(Name name, double value) {
        name(name);
        number(value);
    }

    public final void field(Name name, boolean value) {
        name(name);
        bool(value);
    }

    /** An array of strings (an empty list writes []). */
    public final void field(Name name, java.util.List<String> values) {
        name(name);
        startArray();
        for (int i = 0, n = values.size(); i < n; i++) string(values.get(i));
        endArray();
    }
}
