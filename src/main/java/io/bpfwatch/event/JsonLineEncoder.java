package io.bpfwatch.event;

import java.util.Arrays;

/**
 * Encodes events as JSON lines into one growable byte buffer, reused batch after batch. Every
 * string is escaped as Jackson escapes it (quote and backslash; control characters as the short
 * escapes n, t, r, b, f or as u00XX; everything else as UTF-8), so attacker-chosen names cannot
 * break a line or forge a field. A character past U+FFFF is its four UTF-8 bytes; a lone
 * surrogate (only a custom monitor's JSON can carry one) is escaped, as Jackson escapes it.
 * Written by hand rather than with Jackson's generator: C2 compiles this into a few small
 * methods where Jackson's generator, inlined into every event's fields, made the largest
 * compiles of a start. Not thread-safe: one per writer thread.
 */
public final class JsonLineEncoder extends FieldWriter {
    private static final byte[] TIME = "{\"time\":\"".getBytes(), MONITOR = "\",\"monitor\":".getBytes(),
            EVENT = ",\"event\":".getBytes(), PID = ",\"pid\":".getBytes(), UID = ",\"uid\":".getBytes(),
            COMM = ",\"comm\":".getBytes(), NULL = "null".getBytes(), TRUE = "true".getBytes(), FALSE = "false".getBytes();
    private static final byte[] HEX = "0123456789ABCDEF".getBytes();
    /** Per ASCII character: 0 written as is, 'u' as backslash-u00XX, else the letter after the backslash. */
    private static final byte[] ESCAPE = new byte[128];

    static {
        for (int c = 0; c < 0x20; c++) ESCAPE[c] = 'u';
        ESCAPE['\n'] = 'n';
        ESCAPE['\t'] = 't';
        ESCAPE['\r'] = 'r';
        ESCAPE['\b'] = 'b';
        ESCAPE['\f'] = 'f';
        ESCAPE['"'] = '"';
        ESCAPE['\\'] = '\\';
    }

    private byte[] bytes;
    private int size;
    /** A comma is due before the next name or array item. */
    private boolean comma;
    private final Rfc3339 rfc3339 = new Rfc3339();
    /**
     * Strings that come again as the same instance, with their JSON form: names known only at
     * run time (a custom monitor's keys, which its reader caches) with their colon, and the
     * monitor, event and comm every line starts with (constants, and comms the readers cache).
     */
    private final ByIdentity names = new ByIdentity(), heads = new ByIdentity();

    public JsonLineEncoder() {
        this(64 << 10);
    }

    public JsonLineEncoder(int capacity) {
        bytes = new byte[capacity];
    }

    /** Appends one line (object + '\n'); returns the buffer length after it. */
    public int append(Event e) {
        ensure(TIME.length + Rfc3339.LENGTH + 1);
        byte[] b = bytes;
        int p = size;
        System.arraycopy(TIME, 0, b, p, TIME.length);
        p += TIME.length;
        char[] t = rfc3339.format(e.time);
        for (int i = 0; i < Rfc3339.LENGTH; i++) b[p++] = (byte) t[i];
        size = p;
        raw(MONITOR);
        quoted(e.monitor(), heads, false);
        raw(EVENT);
        quoted(e.event(), heads, false);
        if (e.comm != null) { // events of custom monitors may not know their process
            raw(PID);
            digits(e.pid);
            raw(UID);
            digits(e.uid & 0xffffffffL);
            raw(COMM);
            quoted(e.comm, heads, false);
        }
        if (e.context != null) raw(e.context.json());
        comma = true;
        e.writeFields(this);
        ensure(2);
        bytes[size++] = '}';
        bytes[size++] = '\n';
        comma = false;
        return size;
    }

    /** Drops a partly written line (an event whose fields threw) back to {@code size}. */
    public void truncate(int size) {
        this.size = size;
        comma = false;
    }

    /** The encoded lines, {@link #size()} bytes of them. */
    public byte[] array() {
        return bytes;
    }

    public int size() {
        return size;
    }

    public void reset() {
        size = 0;
        comma = false;
        if (bytes.length > (8 << 20)) bytes = new byte[64 << 10];
    }

    /** Encodes a single event to a String (tests, /monitors examples). */
    public static String toLine(Event e) {
        JsonLineEncoder enc = new JsonLineEncoder(1024);
        enc.append(e);
        return new String(enc.bytes, 0, enc.size, java.nio.charset.StandardCharsets.UTF_8);
    }

    // --- FieldWriter

    @Override
    public void name(Name name) {
        byte[] n = name.json;
        ensure(n.length + 1);
        if (comma) bytes[size++] = ',';
        System.arraycopy(n, 0, bytes, size, n.length);
        size += n.length;
        comma = false;
    }

    @Override
    public void name(String name) {
        separate();
        quoted(name, names, true);
        comma = false;
    }

    /**
     * Strings by identity with their JSON form: direct-mapped, 64 slots of at most
     * {@value #BYTES} bytes, so a string that is a new instance every time (a JSON object's keys,
     * an event name a script printed) costs a copy of a few bytes and nothing more.
     */
    private static final class ByIdentity {
        static final int BYTES = 48;
        final String[] strings = new String[64];
        final byte[][] json = new byte[64][];
        final int[] length = new int[64];
    }

    /** {@link #quoted(String)} (and a colon), copied from {@code cache} when the same instance came before. */
    private void quoted(String s, ByIdentity cache, boolean colon) {
        int slot = s.hashCode() * 0x9E3779B9 >>> 26;
        byte[] json = cache.json[slot];
        if (cache.strings[slot] == s) {
            raw(json, cache.length[slot]);
            return;
        }
        int start = size;
        quoted(s);
        if (colon) {
            ensure(1);
            bytes[size++] = ':';
        }
        int length = size - start;
        if (length <= ByIdentity.BYTES) {
            if (json == null) cache.json[slot] = json = new byte[ByIdentity.BYTES];
            System.arraycopy(bytes, start, json, 0, length);
            cache.length[slot] = length;
            cache.strings[slot] = s;
        }
    }

    @Override
    public void string(String value) {
        separate();
        if (value == null) raw(NULL);
        else quoted(value);
        comma = true;
    }

    /**
     * One array copy (each char's low byte, which is the char itself in ISO-8859-1) and a scan of
     * the bytes; from the first char to escape or past ASCII on, the string is encoded as any is.
     * A caller wrong about the charset cannot break the line: a char past U+00FF whose low byte
     * is a quote, backslash or control character sends the string to the escaping path too.
     */
    @Override
    @SuppressWarnings("deprecation")
    public void latin1(String value) {
        if (value == null) {
            string(null);
            return;
        }
        separate();
        int n = value.length();
        ensure(2 + 6 * n);
        byte[] b = bytes;
        int start = size;
        value.getBytes(0, n, b, start + 1);
        int end = start + 1 + n;
        for (int i = start + 1; i < end; i++) {
            byte c = b[i];
            if (c < 0x20 || c == '"' || c == '\\') { // past 0x7f too: those bytes are negative
                b[start] = '"';
                escaped(value, i - start - 1, i); // what came before it stands as copied
                comma = true;
                return;
            }
        }
        b[start] = '"';
        b[end] = '"';
        size = end + 1;
        comma = true;
    }

    @Override
    public void number(long value) {
        separate();
        digits(value);
        comma = true;
    }

    @Override
    public void number(double value) {
        separate();
        if (Double.isFinite(value)) ascii(Double.toString(value));
        else raw(NULL);
        comma = true;
    }

    @Override
    public void number(java.math.BigInteger value) {
        separate();
        ascii(value.toString());
        comma = true;
    }

    @Override
    public void bool(boolean value) {
        separate();
        raw(value ? TRUE : FALSE);
        comma = true;
    }

    @Override
    public void nullValue() {
        separate();
        raw(NULL);
        comma = true;
    }

    @Override
    public void millis(long nanos) {
        separate();
        ensure(24);
        long micros = (Math.abs(nanos) + 500) / 1000;
        int frac = (int) (micros % 1000);
        long whole = micros / 1000;
        if (nanos < 0) bytes[size++] = '-';
        digits(whole);
        byte[] b = bytes;
        int p = size;
        b[p++] = '.';
        b[p++] = (byte) ('0' + frac / 100);
        if (frac % 100 != 0) {
            b[p++] = (byte) ('0' + frac / 10 % 10);
            if (frac % 10 != 0) b[p++] = (byte) ('0' + frac % 10);
        }
        size = p;
        comma = true;
    }

    @Override
    public void startArray() {
        open((byte) '[');
    }

    @Override
    public void endArray() {
        close((byte) ']');
    }

    @Override
    public void startObject() {
        open((byte) '{');
    }

    @Override
    public void endObject() {
        close((byte) '}');
    }

    private void open(byte c) {
        separate();
        ensure(1);
        bytes[size++] = c;
        comma = false;
    }

    private void close(byte c) {
        ensure(1);
        bytes[size++] = c;
        comma = true;
    }

    // --- bytes

    private void separate() {
        if (comma) {
            ensure(1);
            bytes[size++] = ',';
        }
    }

    private void ensure(int extra) {
        if (size + extra > bytes.length) bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, size + extra));
    }

    void raw(byte c) {
        ensure(1);
        bytes[size++] = c;
    }

    private void raw(byte[] r, int length) {
        ensure(length);
        System.arraycopy(r, 0, bytes, size, length);
        size += length;
    }

    void raw(byte[] r) {
        ensure(r.length);
        System.arraycopy(r, 0, bytes, size, r.length);
        size += r.length;
    }

    /** Characters known to be printable ASCII (a number's digits). */
    private void ascii(String s) {
        int n = s.length();
        ensure(n);
        byte[] b = bytes;
        int p = size;
        for (int i = 0; i < n; i++) b[p++] = (byte) s.charAt(i);
        size = p;
    }

    private void digits(long v) {
        ensure(20);
        if (v < 0) {
            if (v == Long.MIN_VALUE) {
                ascii("-9223372036854775808");
                return;
            }
            bytes[size++] = '-';
            v = -v;
        }
        long p10 = 1;
        int len = 1;
        while (len < 19 && v >= p10 * 10) {
            p10 *= 10;
            len++;
        }
        int n = size + len;
        byte[] b = bytes;
        for (int i = n - 1; i >= size; i--) {
            b[i] = (byte) ('0' + v % 10);
            v /= 10;
        }
        size = n;
    }

    /** A JSON string: quotes, escapes, UTF-8. */
    void quoted(String s) {
        ensure(2 + 6 * s.length());
        bytes[size] = '"';
        escaped(s, 0, size + 1);
    }

    /**
     * Writes {@code s} from char {@code from} on, escaped, at {@code p}, then the closing quote;
     * room for six bytes a char and the quote is there.
     */
    private void escaped(String s, int from, int p) {
        int n = s.length();
        byte[] b = bytes;
        for (int i = from; i < n; i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                byte e = ESCAPE[c];
                if (e == 0) {
                    b[p++] = (byte) c;
                } else {
                    b[p++] = '\\';
                    b[p++] = e;
                    if (e == 'u') {
                        b[p++] = '0';
                        b[p++] = '0';
                        b[p++] = HEX[c >> 4];
                        b[p++] = HEX[c & 0xf];
                    }
                }
            } else if (c < 0x800) {
                b[p++] = (byte) (0xc0 | c >> 6);
                b[p++] = (byte) (0x80 | c & 0x3f);
            } else if (!Character.isSurrogate(c)) {
                b[p++] = (byte) (0xe0 | c >> 12);
                b[p++] = (byte) (0x80 | c >> 6 & 0x3f);
                b[p++] = (byte) (0x80 | c & 0x3f);
            } else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                int cp = Character.toCodePoint(c, s.charAt(++i));
                b[p++] = (byte) (0xf0 | cp >> 18);
                b[p++] = (byte) (0x80 | cp >> 12 & 0x3f);
                b[p++] = (byte) (0x80 | cp >> 6 & 0x3f);
                b[p++] = (byte) (0x80 | cp & 0x3f);
            } else { // a lone surrogate: escaped, as Jackson does (no UTF-8 for it; two such keys stay two)
                b[p++] = '\\';
                b[p++] = 'u';
                b[p++] = HEX[c >> 12];
                b[p++] = HEX[c >> 8 & 0xf];
                b[p++] = HEX[c >> 4 & 0xf];
                b[p++] = HEX[c & 0xf];
            }
        }
        b[p++] = '"';
        size = p;
    }
}
