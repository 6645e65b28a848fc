package io.bpfwatch.monitor.zfs;

import com.fasterxml.jackson.core.JsonGenerator;
import io.bpfwatch.context.ProcessContext;
import io.bpfwatch.event.Event;

import java.io.IOException;
import java.util.List;

/**
 * One audited ZFS operation (zfs.log, event "operation"). Names are the caller's bytes,
 * written as JSON strings (escaped); invalid UTF-8 shows as U+FFFD.
 */
public final class ZfsEvent extends Event {
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
    public void writeFields(JsonGenerator g) throws IOException {
        if (context == null || context.ppid <= 0) g.writeNumberField("ppid", ppid); // else the context wrote it
        g.writeStringField("action", action.action);
        g.writeStringField("pool", pool);
        if (dataset != null) g.writeStringField("dataset", dataset);
        g.writeArrayFieldStart("snapshots");
        for (String s : snapshots) g.writeString(s);
        g.writeEndArray();
        if (action == ZfsAction.RENAME) {
            g.writeStringField("new_name", newName);
            g.writeBooleanField("recursive", recursive);
        }
        if (tags != null) {
            g.writeArrayFieldStart("tags");
            for (String t : tags) g.writeString(t);
            g.writeEndArray();
        }
        g.writeStringField("result", result);
        g.writeFieldName("duration_ms");
        if (durationNanos < 0) g.writeNull(); else writeMillis(g, durationNanos);
        g.writeBooleanField("truncated", truncated);
        if (decodeError != null) g.writeStringField("decode_error", decodeError);
    }

    /** top: operations by action and result ("destroy ok", "rollback EBUSY"). */
    @Override
    public void tally(Tally t) {
        t.add("operations", action.action + " " + result, 1);
    }
}
