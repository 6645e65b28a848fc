package io.bpfwatch.monitor.zfs;

import io.bpfwatch.context.ProcessContext;
import io.bpfwatch.event.Event;
import io.bpfwatch.event.FieldWriter;
import io.bpfwatch.event.FieldWriter.Name;
import io.bpfwatch.top.TallyKeys;

import java.util.List;

/**
 * One audited ZFS operation (zfs.log, event "operation"). Names are the caller's bytes,
 * written as JSON strings (escaped); invalid UTF-8 shows as U+FFFD.
 */
public final class ZfsEvent extends Event {
    private static final Name PPID = Name.of("ppid"), ACTION = Name.of("action"), POOL = Name.of("pool"),
            DATASET = Name.of("dataset"), SNAPSHOTS = Name.of("snapshots"), NEW_NAME = Name.of("new_name"),
            RECURSIVE = Name.of("recursive"), TAGS = Name.of("tags"), RESULT = Name.of("result"),
            DURATION_MS = Name.of("duration_ms"), TRUNCATED = Name.of("truncated"), DECODE_ERROR = Name.of("decode_error");
    public final int ppid;
    public final ZfsAction action;
    public final String pool;
    /** The file system or volume the operation is about, where it is not a snapshot; else null. */
    public final String dataset;
    public final List<String> snapshots;
    /** rename only: the new name and whether snapshots of descendants are renamed too. */
    public final String newName;
    public final boolean recursive;
    /** hold and release only: the hold tags. */
    public final List<String> tags;
    public final String result;
    /** -1 when the outcome was not seen. */
    public final long durationNanos;
    /** Some names were longer than the kernel side keeps, or the nvlist was cut short. */
    public final boolean truncated;
    /** Why the names may be incomplete (unreadable or malformed input); null if nothing went wrong. */
    public final String decodeError;

    ZfsEvent(long time, int pid, int uid, String comm, ProcessContext context, int ppid, ZfsAction action, String pool, String dataset,
             List<String> snapshots, String newName, boolean recursive, List<String> tags, String result,
             long durationNanos, boolean truncated, String decodeError) {
        super(time, pid, uid, comm, context);
        this.ppid = ppid;
        this.action = action;
        this.pool = pool;
        this.dataset = dataset;
        this.snapshots = snapshots;
        this.newName = newName;
        this.recursive = recursive;
        this.tags = tags;
        this.result = result;
        this.durationNanos = durationNanos;
        this.truncated = truncated;
        this.decodeError = decodeError;
    }

    @Override
    public String monitor() {
        return "zfs";
    }

    @Override
    public String event() {
        return "operation";
    }

    @Override
    public void writeFields(FieldWriter w) {
        if (context == null || context.ppid <= 0) w.field(PPID, ppid); // else the context wrote it
        w.field(ACTION, action.action);
        w.field(POOL, pool);
        if (dataset != null) w.field(DATASET, dataset);
        w.field(SNAPSHOTS, snapshots);
        if (action == ZfsAction.RENAME) {
            w.field(NEW_NAME, newName);
            w.field(RECURSIVE, recursive);
        }
        if (tags != null) w.field(TAGS, tags);
        w.field(RESULT, result);
        w.name(DURATION_MS);
        if (durationNanos < 0) w.nullValue(); else w.millis(durationNanos);
        w.field(TRUNCATED, truncated);
        if (decodeError != null) w.field(DECODE_ERROR, decodeError);
    }

    /** top: operations by action and result ("destroy ok", "rollback EBUSY"). */
    @Override
    public void tally(Tally t) {
        t.add("operations", TallyKeys.of(PAIR, action.action, result, 0), 1);
    }

    private static final TallyKeys.Text PAIR = (a, b, n) -> a + " " + b;
}
