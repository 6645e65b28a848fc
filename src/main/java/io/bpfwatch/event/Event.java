package io.bpfwatch.event;

import com.fasterxml.jackson.core.JsonGenerator;

import java.io.IOException;

/**
 * One decoded event: the fields every event has (PRODUCT.md: time, monitor, event, pid, uid,
 * comm) and the monitor's own, which subclasses write in {@link #writeFields}.
 */
public abstract class Event {
    /** Wall-clock time of the kernel event, epoch nanoseconds. */
    public final long time;
    public final int pid;
    public final int uid;
    public final String comm;

    protected Event(long time, int pid, int uid, String comm) {
        this.time = time;
        this.pid = pid;
        this.uid = uid;
        this.comm = comm;
    }

    /** Reads the common header ({@code struct bw_header}) of a kernel record. */
    protected Event(EventHeader h, java.nio.ByteBuffer b, int off) {
        this(h.time(b, off), h.pid(b, off), h.uid(b, off), h.comm(b, off));
    }

    public abstract String monitor();

    /** The event's kind within its monitor ("connect", "query", "snapshot", ...). */
    public abstract String event();

    /** Writes the monitor's own fields after the common ones. */
    public abstract void writeFields(JsonGenerator g) throws IOException;
}
