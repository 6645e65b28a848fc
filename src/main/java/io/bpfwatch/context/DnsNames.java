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
 * answer by microseconds: the reader of the connect waits ({@link Reader#lookup}) until the
 * dns monitor has read every record that was in its ring when the connect was made, rather than
 * miss a name that is on its way.
 */
public final class DnsNames {
    public static final long MIN_TTL_NANOS = 60_000_000_000L, MAX_TTL_NANOS = 86_400_000_000_000L;
    public static final int DEFAULT_MAX_ENTRIES = 65536;
    /**
     * The longest the tcp reader waits for the dns reader. 50 ms was too short for a cold
     * daemon on a slow machine (the dns reader's first records, still interpreted, in an
     * emulated VM); 200 ms of a stalled tcp reader fills its 2 MiB ring only above ~85k
     * connects/s, and happens only while the dns reader is that far behind.
     */
    private static final long MAX_WAIT_NANOS = 200_000_000L;

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
        if (a == null || name == null || name.isEmpty()) return;
        long ttl = Math.min(MAX_TTL_NANOS, Math.max(MIN_TTL_NANOS, ttlSeconds * 1_000_000_000L));
        Key k = key(netns, a, 0, a.length);
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

    /** Lookups that waited for the dns monitor's reader to catch up, of all readers so far. */
    public long waits() {
        return waits.get();
    }

    /** Of those, the waits that gave up: a connect that may have gone without its name. */
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

        /**
         * The name for a connection made at kernel time {@code ts} (CLOCK_MONOTONIC, as
         * System.nanoTime()): if it is not known yet and the dns monitor may still hold an
         * answer from before {@code ts}, waits for it (at most 200 ms).
         */
        public String lookup(int netns, byte[] addr, int off, int len, long ts) {
            Fence f = fence;
            if (f == null) return null; // no dns monitor runs: no names
            long now = System.nanoTime();
            String name = get(netns, addr, off, len, now);
            if (name != null || ts <= settled) return name;
            long mark = f.mark();
            if (!f.passed(mark)) {
                waits.incrementAndGet();
                f.wake();
                long deadline = now + MAX_WAIT_NANOS;
                while (!f.passed(mark)) {
                    if (System.nanoTime() - deadline > 0) {
                        gaveUp.incrementAndGet();
                        settled = now; // don't wait again for what was made before this
                        return get(netns, addr, off, len, now);
                    }
                    LockSupport.parkNanos(20_000);
                }
            }
            settled = now;
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
