package io.bpfwatch.event;

import io.bpfwatch.context.ContextResolver;
import io.bpfwatch.context.ProcessContext;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
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

    /** Comms made before, by their bytes as two longs (byte i at bits 8i of the first, then the second). */
    private final String[] commCache = new String[256];
    private final long[] commLow = new long[256];
    private final long[] commHigh = new long[256];
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

    /**
     * The NUL-terminated comm; bytes that are not UTF-8 become U+FFFD. Read as two longs and cut
     * at the first NUL without a loop over its bytes: a comm seen before is found by those two
     * numbers, and most events make no string.
     */
    public String comm(ByteBuffer b, int off) {
        long low = b.getLong(off + COMM);
        long high = b.getLong(off + COMM + 8);
        if (b.order() == ByteOrder.BIG_ENDIAN) {
            low = Long.reverseBytes(low);
            high = Long.reverseBytes(high);
        }
        int len;
        long z = zeroBytes(low);
        if (z != 0) {
            len = Long.numberOfTrailingZeros(z) >>> 3;
            low &= below(len);
            high = 0;
        } else if ((z = zeroBytes(high)) != 0) {
            int k = Long.numberOfTrailingZeros(z) >>> 3;
            high &= below(k);
            len = 8 + k;
        } else {
            len = COMM_LEN; // a full comm has no terminator
        }
        long h = (low * 0x9E3779B97F4A7C15L) ^ (high * 0xC2B2AE3D27D4EB4FL);
        int slot = (int) (h >>> 56);
        String cached = commCache[slot];
        if (cached != null && commLow[slot] == low && commHigh[slot] == high) return cached;
        for (int i = 0; i < len; i++) scratch[i] = (byte) (i < 8 ? low >>> (8 * i) : high >>> (8 * (i - 8)));
        String s = new String(scratch, 0, len, StandardCharsets.UTF_8);
        commCache[slot] = s;
        commLow[slot] = low;
        commHigh[slot] = high;
        return s;
    }

    /** The high bit of each byte of {@code x} that is zero; the lowest one set marks exactly the first zero byte. */
    private static long zeroBytes(long x) {
        return (x - 0x0101010101010101L) & ~x & 0x8080808080808080L;
    }

    /** The bits of the first {@code n} (0-7) bytes. */
    private static long below(int n) {
        return (1L << (8 * n)) - 1;
    }
}
