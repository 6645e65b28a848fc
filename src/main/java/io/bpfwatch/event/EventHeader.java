package io.bpfwatch.event;

import io.bpfwatch.context.ContextResolver;
import io.bpfwatch.context.ProcessContext;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Decodes {@code struct bw_header} (monitors/include/bpfwatch.h) at the start of every record.
 * Offsets are checked against the struct's BTF by EventLayoutTest. One instance per reader
 * thread: it caches comm strings, which repeat, so most events allocate none.
 */
public final class EventHeader {
    public static final int TS_NS = 0, PID = 8, TID = 12, UID = 16, TYPE = 20, COMM = 24, COMM_LEN = 16;
    /** The context part (see {@link ContextResolver}): filled as the monitor asked. */
    public static final int CGROUP_ID = ContextResolver.CGROUP_ID, START_NS = ContextResolver.START_NS,
            PPID = ContextResolver.PPID, NETNS = ContextResolver.NETNS, PCOMM = ContextResolver.PCOMM;
    public static final int SIZE = 80;

    private final ContextResolver context;

    /** A header without context. */
    public EventHeader() {
        this(null);
    }

    /** A header whose events carry the context {@code context} resolves (null: none). */
    public EventHeader(ContextResolver context) {
        this.context = context;
    }

    private final String[] commCache = new String[256];
    private final byte[][] commKeys = new byte[256][];
    private final byte[] scratch = new byte[COMM_LEN];

    public long time(ByteBuffer b, int off) {
        return WallClock.toEpochNanos(b.getLong(off + TS_NS));
    }

    public int pid(ByteBuffer b, int off) {
        return b.getInt(off + PID);
    }

    public int tid(ByteBuffer b, int off) {
        return b.getInt(off + TID);
    }

    public int uid(ByteBuffer b, int off) {
        return b.getInt(off + UID);
    }

    public int type(ByteBuffer b, int off) {
        return b.getInt(off + TYPE);
    }

    /** The process context the monitor asked for, or null. */
    public ProcessContext context(ByteBuffer b, int off) {
        return context == null ? null : context.resolve(b, off);
    }

    /** The network namespace (inode) the record was made in, if the monitor asked the kernel for it. */
    public int netns(ByteBuffer b, int off) {
        return b.getInt(off + NETNS);
    }

    /** The NUL-terminated comm; bytes that are not UTF-8 become U+FFFD. */
    public String comm(ByteBuffer b, int off) {
        int len = 0;
        int h = 0;
        for (; len < COMM_LEN; len++) {
            byte c = b.get(off + COMM + len);
            if (c == 0) break;
            scratch[len] = c;
            h = h * 31 + c;
        }
        int slot = (h ^ (h >>> 8) ^ len) & 0xff;
        byte[] key = commKeys[slot];
        if (key != null && key.length == len && equal(key, scratch, len)) return commCache[slot];
        byte[] k = java.util.Arrays.copyOf(scratch, len);
        String s = new String(k, StandardCharsets.UTF_8);
        commKeys[slot] = k;
        commCache[slot] = s;
        return s;
    }

    private static boolean equal(byte[] a, byte[] b, int len) {
        for (int i = 0; i < len; i++) if (a[i] != b[i]) return false;
        return true;
    }
}
