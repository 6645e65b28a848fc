package io.bpfwatch.event;

import io.bpfwatch.context.ProcessContext;

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

    /**
     * About how many bytes of heap this event holds while it waits to be written: what the log
     * queues' shared {@link io.bpfwatch.sink.QueueBudget} counts. A built-in event is a few
     * fixed fields and short strings (a zfs ioctl's is ~150 bytes, measured: heap after a full
     * collection with 66560 waiting); events whose size varies say so themselves.
     */
    public int weight() {
        return 256;
    }

    /** Writes the monitor's own fields after the common ones. */
    public abstract void writeFields(FieldWriter w);
}
