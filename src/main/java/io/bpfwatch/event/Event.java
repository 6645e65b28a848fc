package io.bpfwatch.event;

import com.fasterxml.jackson.core.JsonGenerator;
import io.bpfwatch.context.ProcessContext;

import java.io.IOException;

/**
 * One decoded event: the fields every event has (PRODUCT.md: time, monitor, event, pid, uid,
 * comm) and the monitor's own, which subclasses write in {@link #writeFields}. A custom
 * monitor's event may not know its process: then {@code comm} is null and the process fields
 * are not written.
 */
public abstract class Event {
    /** Wall-clock time of the kernel event, epoch nanoseconds. */
    public final long time;
    public final int pid;
    public final int uid;
    public final String comm;
    /** Parent, exe, cgroup, unit, container: what the monitor asked for and could be found; or null. */
    public final ProcessContext context;

    protected Event(long time, int pid, int uid, String comm) {
        this(time, pid, uid, comm, null);
    }

    protected Event(long time, int pid, int uid, String comm, ProcessContext context) {
        this.time = time;
        this.pid = pid;
        this.uid = uid;
        this.comm = comm;
        this.context = context;
    }

    /** Reads the common header ({@code struct bw_header}) of a kernel record, its context included. */
    protected Event(EventHeader h, java.nio.ByteBuffer b, int off) {
        this(h.time(b, off), h.pid(b, off), h.uid(b, off), h.comm(b, off), h.context(b, off));
    }

    public abstract String monitor();

    /** The event's kind within its monitor ("connect", "query", "snapshot", ...). */
    public abstract String event();

    /**
     * What {@code bpfwatch top} ranks of this event: it adds its keys ("destinations" ->
     * "192.0.2.1:443") to {@code t}. Runs on the log writer's thread once the line is written.
     */
    public void tally(Tally t) {
    }

    /** Where an event adds what {@code bpfwatch top} ranks: a key of a category, with a weight. */
    public interface Tally {
        void add(String category, String key, long weight);
    }

    /** Writes the monitor's own fields after the common ones. */
    public abstract void writeFields(JsonGenerator g) throws IOException;

    // the writer threads' digit buffers (writeRawValue copies out of it)
    private static final ThreadLocal<char[]> MILLIS = ThreadLocal.withInitial(() -> new char[24]);

    /**
     * Writes a duration as milliseconds rounded to the microsecond ("0.032", "12.5", "3.0"),
     * the digits Double.toString gave, without its cost (or its exponent past 10^7 ms).
     */
    public static void writeMillis(JsonGenerator g, long nanos) throws IOException {
        char[] c = MILLIS.get();
        long micros = (Math.abs(nanos) + 500) / 1000;
        int n = c.length;
        int frac = (int) (micros % 1000);
        long whole = micros / 1000;
        int digits = frac == 0 ? 1 : (frac % 100 == 0 ? 1 : frac % 10 == 0 ? 2 : 3);
        int f = frac == 0 ? 0 : digits == 1 ? frac / 100 : digits == 2 ? frac / 10 : frac;
        for (int i = 0; i < digits; i++, f /= 10) c[--n] = (char) ('0' + f % 10);
        c[--n] = '.';
        do {
            c[--n] = (char) ('0' + whole % 10);
            whole /= 10;
        } while (whole > 0);
        if (nanos < 0) c[--n] = '-';
        g.writeRawValue(c, n, c.length - n);
    }
}
