package io.bpfwatch.context;

import io.bpfwatch.config.IpAddress;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The name this host's processes last resolved to each address, per network namespace: filled
 * from the dns monitor's answers, read by the tcp monitor to name each connection's destination.
 *
 * Bounded in time and size: an entry lives for its answer's TTL, at least {@link #MIN_TTL_NANOS}
 * (clients and local caches keep answers past short TTLs) and at most {@link #MAX_TTL_NANOS};
 * past {@code maxEntries} the oldest answers go first. Keys are the namespace's inode and the
 * address, so a name answered in one namespace is never given to a connection in another.
 *
 * Answers and connects are read from two ring buffers on two threads, and a connect follows its
 * answer by microseconds: a connect is named only once the dns monitor has read every record
 * that was in its ring when the connect was made, rather than miss a name that is on its way.
 * The reader of the connect waits a moment for that ({@link Reader#lookup}); if the dns reader
 * is further behind, the connect is held back and named later ({@link Reader#resolve}), so the
 * tcp reader never stalls for long.
 */
public final class DnsNames {
    public static final long MIN_TTL_NANOS = 60_000_000_000L, MAX_TTL_NANOS = 86_400_000_000_000L;
    public static final int DEFAULT_MAX_ENTRIES = 65536;
    /**
     * How long the tcp reader itself waits for the dns reader before it holds the connect back
     * and reads on: the dns reader is usually microseconds behind, and a stalled tcp reader
     * fills its ring (2 MiB: 20 ms at 900k connects/s).
     */
    static final long INLINE_WAIT_NANOS = 20_000_000L;
    /**
     * The longest a connect is held back for its name. Holding back stalls nothing (the tcp
     * reader reads on), so it can be long enough for a cold daemon on a slow machine: in an
     * emulated VM the dns reader's first records, class loading and interpreter, took more than
     * 200 ms.
     */
    public static final long MAX_WAIT_NANOS = 5_000_000_000L;
    /** What {@link Reader#lookup} returns for a connect to hold back (compared by identity). */
    @SuppressWarnings("StringOperationCanBeSimplified")
    public static final String PENDING = new String("(pending)");

    /** The dns monitor's ring: how far it has been read. */
    public interface Fence {
        /** The ring's producer position now: every record committed so far lies below it. */
        long mark();

        /** Whether every record below {@code mark} has been read and handled. */
        boolean passed(long mark);

        /** Wakes the ring's reader if it sleeps. */
        void wake();
    }

    private record Key(int netns, long hi, long lo) {
    }

    private record Entry(String name, long expires) {
    }

    private final int maxEntries;
    private final Map<Key, Entry> entries;
    private final AtomicLong waits = new AtomicLong(), gaveUp = new AtomicLong();
    private volatile Fence fence;

    public DnsNames(int maxEntries) {
        this.maxEntries = maxEntries;
        this.entries = new LinkedHashMap<>(256, 0.75f, false) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Key, Entry> eldest) {
                return size() > DnsNames.this.maxEntries;
            }
        };
    }

    /** The running dns monitor's ring, or null when it stops. */
    public void fence(Fence f) {
        fence = f;
    }

    /** An answer: {@code address} (text, as the dns monitor has it) is {@code name} for {@code ttlSeconds}. */
    public void put(int netns, String address, String name, long ttlSeconds, long nowNanos) {
        byte[] a = IpAddress.parse(address);
        if (a != null) put(netns, a, 0, a.length, name, ttlSeconds, nowNanos);
    }

    /** The same with the address's bytes (4 or 16, network order) at {@code off}, as an answer carries them. */
    public void put(int netns, byte[] buf, int off, int len, String name, long ttlSeconds, long nowNanos) {
        if (len != 4 && len != 16 || name == null || name.isEmpty()) return;
        long ttl = Math.min(MAX_TTL_NANOS, Math.max(MIN_TTL_NANOS, ttlSeconds * 1_000_000_000L));
        Key k = key(netns, buf, off, len);
        synchronized (entries) {
            entries.remove(k); // re-inserted as the newest
            entries.put(k, new Entry(name, nowNanos + ttl));
        }
    }

    /** The name for the address, or null; no waiting. */
    public String get(int netns, byte[] addr, int off, int len, long nowNanos) {
        Key k = key(netns, addr, off, len);
        synchronized (entries) {
            Entry e = entries.get(k);
            if (e == null) return null;
            if (nowNanos - e.expires > 0) {
                entries.remove(k);
                return null;
            }
            return e.name;
        }
    }

    public int size() {
        synchronized (entries) {
            return entries.size();
        }
    }

    /** Connects that waited for the dns monitor's reader to catch up (a moment, or held back), of all readers so far. */
    public long waits() {
        return waits.get();
    }

    /** Connects held back that gave up waiting for the dns reader: each may have gone without its name. */
    public long gaveUp() {
        return gaveUp.get();
    }

    /** A reader of names on one thread (the tcp monitor's reader). */
    public Reader reader() {
        return new Reader();
    }

    public final class Reader {
        /** Every dns record made before this monotonic time has been handled (or waiting for it gave up). */
        private long settled;
        /** The ring position a held-back connect waits for; 0 when none is outstanding. */
        private long outstanding;
        /** After a connect gave up on its name: the ring position to pass before names are waited for again. */
        private long stuck;
        private long pendingMark;
        /** A ring position the dns reader was seen to have read everything below, the last time it had. */
        private long readThrough = -1;
        /** Whose ring that was (a restarted dns monitor's ring counts from 0 again). */
        private Fence readThroughOf;

        /**
         * The name for a connection made at kernel time {@code ts} (CLOCK_MONOTONIC, as
         * System.nanoTime()). If it is not known yet and the dns monitor may still hold an answer
         * from before {@code ts}, waits a moment for it ({@link #INLINE_WAIT_NANOS}); if that is
         * not enough, returns {@link #PENDING}: the caller holds the connect back and asks
         * {@link #resolve} later, with {@link #pendingMark()}. Never waits while an earlier
         * connect is held back, nor while the dns reader is stuck behind one that gave up.
         */
        public String lookup(int netns, byte[] addr, int off, int len, long ts) {
            Fence f = fence;
            if (f == null) return null; // no dns monitor runs: no names
            // a name is given if it was still valid when the connect was made; the clock is read
            // only when there is none (a clock read is a good part of a connect's cost here)
            String name = get(netns, addr, off, len, ts);
            if (name != null || ts <= settled) return name;
            long mark = f.mark();
            // nothing entered the dns ring since it was last found read to its end: no answer can
            // have come since, so the lookup above stands (no clock read, no second lookup: what
            // a connect costs while no DNS traffic flows)
            if (mark == readThrough && f == readThroughOf && stuck == 0) return null;
            long now = System.nanoTime();
            if (stuck != 0) {
                if (!f.passed(stuck)) return null; // it gave up on an earlier one: no more waiting until it catches up
                stuck = 0;
            }
            if (f.passed(mark)) {
                settled = now;
                readThrough = mark;
                readThroughOf = f;
                return get(netns, addr, off, len, now);
            }
            waits.incrementAndGet();
            if (outstanding == 0 || f.passed(outstanding)) {
                // nothing held back: the dns reader is usually microseconds behind
                f.wake();
                long deadline = now + INLINE_WAIT_NANOS;
                while (!f.passed(mark)) {
                    if (System.nanoTime() - deadline > 0) {
                        outstanding = pendingMark = mark;
                        return PENDING;
                    }
                    LockSupport.parkNanos(20_000);
                }
                outstanding = 0;
                settled = now;
                return get(netns, addr, off, len, now);
            }
            pendingMark = mark;
            return PENDING;
        }

        /** The ring position the last {@link #PENDING} lookup waits for. */
        public long pendingMark() {
            return pendingMark;
        }

        /**
         * The name of a connect held back at {@code mark}: known once the dns reader has passed
         * the mark; null once {@code heldSince} is {@link #MAX_WAIT_NANOS} ago or when
         * {@code force}d (then counted as given up if the reader had not passed it); otherwise
         * {@link #PENDING} still.
         */
        public String resolve(int netns, byte[] addr, int off, int len, long mark, long heldSince, long now, boolean force) {
            Fence f = fence;
            if (f == null) return get(netns, addr, off, len, now);
            if (f.passed(mark)) return get(netns, addr, off, len, now);
            if (!force && now - heldSince < MAX_WAIT_NANOS) return PENDING;
            gaveUp.incrementAndGet();
            stuck = mark;
            settled = Math.max(settled, heldSince); // don't wait again for what was made before this
            return get(netns, addr, off, len, now);
        }
    }

    private static Key key(int netns, byte[] a, int off, int len) {
        long hi = 0, lo = 0;
        if (len == 4) {
            lo = 0xffff00000000L | ((a[off] & 0xffL) << 24) | ((a[off + 1] & 0xffL) << 16) | ((a[off + 2] & 0xffL) << 8) | (a[off + 3] & 0xffL);
        } else {
            for (int i = 0; i < 8; i++) hi = hi << 8 | (a[off + i] & 0xff);
            for (int i = 8; i < 16; i++) lo = lo << 8 | (a[off + i] & 0xff);
            if (hi == 0 && (lo >>> 32) == 0xffff) return new Key(netns, 0, lo); // IPv4-mapped: the same as IPv4
        }
        return new Key(netns, hi, lo);
    }
}
