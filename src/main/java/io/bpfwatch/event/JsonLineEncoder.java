package io.bpfwatch.event;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.io.SerializedString;

import java.io.IOException;
import java.io.OutputStream;
import java.util.Arrays;

/**
 * Encodes events as JSON lines into one growable byte buffer, reused batch after batch.
 * Jackson escapes every string (control characters, quotes, backslashes), so attacker-chosen
 * names cannot break a line or forge a field. Not thread-safe: one per writer thread.
 */
public final class JsonLineEncoder {
    private static final JsonFactory FACTORY = JsonFactory.builder().build();
    private static final SerializedString TIME = new SerializedString("time"), MONITOR = new SerializedString("monitor"),
            EVENT = new SerializedString("event"), PID = new SerializedString("pid"), UID = new SerializedString("uid"),
            COMM = new SerializedString("comm");

    private final Buffer out = new Buffer();
    private JsonGenerator gen;
    private final Rfc3339 rfc3339 = new Rfc3339();

    public JsonLineEncoder() {
        gen = newGenerator();
    }

    private JsonGenerator newGenerator() {
        try {
            JsonGenerator g = FACTORY.createGenerator(out, JsonEncoding.UTF8);
            g.setRootValueSeparator(null);
            return g;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Appends one line (object + '\n'); returns the buffer length after it. */
    public int append(Event e) throws IOException {
        JsonGenerator g = gen;
        g.writeStartObject();
        g.writeFieldName(TIME);
        g.writeString(rfc3339.format(e.time), 0, Rfc3339.LENGTH);
        g.writeFieldName(MONITOR);
        g.writeString(e.monitor());
        g.writeFieldName(EVENT);
        g.writeString(e.event());
        if (e.comm != null) { // events of custom monitors may not know their process
            g.writeFieldName(PID);
            g.writeNumber(e.pid);
            g.writeFieldName(UID);
            g.writeNumber(e.uid & 0xffffffffL);
            g.writeFieldName(COMM);
            g.writeString(e.comm);
        }
        if (e.context != null) e.context.write(g);
        e.writeFields(g);
        g.writeEndObject();
        g.writeRaw('\n');
        return size();
    }

    /** Drops a partly written line (an event whose fields threw) back to {@code size}. */
    public void truncate(int size) {
        flush();
        // the generator may be mid-object: start a fresh one
        gen = newGenerator();
        out.size = size;
    }

    /** The encoded lines; the generator's buffer is flushed into it first (once per batch, not per line). */
    public byte[] array() {
        flush();
        return out.bytes;
    }

    /** Bytes encoded so far, including what the generator still buffers. */
    public int size() {
        return out.size + gen.getOutputBuffered();
    }

    private void flush() {
        try {
            gen.flush();
        } catch (IOException e) {
            throw new IllegalStateException(e); // the target is a byte array: cannot fail
        }
    }

    public void reset() {
        flush();
        out.size = 0;
        if (out.bytes.length > (8 << 20)) out.bytes = new byte[64 << 10];
    }

    /** Encodes a single event to a String (tests, /monitors examples). */
    public static String toLine(Event e) throws IOException {
        JsonLineEncoder enc = new JsonLineEncoder();
        enc.append(e);
        return new String(enc.array(), 0, enc.size(), java.nio.charset.StandardCharsets.UTF_8);
    }

    private static final class Buffer extends OutputStream {
        byte[] bytes = new byte[64 << 10];
        int size;

        private void ensure(int extra) {
            if (size + extra > bytes.length) bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, size + extra));
        }

        @Override
        public void write(int b) {
            ensure(1);
            bytes[size++] = (byte) b;
        }

        @Override
        public void write(byte[] b, int off, int len) {
            ensure(len);
            System.arraycopy(b, off, bytes, size, len);
            size += len;
        }
    }
}
