package io.bpfwatch.context;

import java.util.Arrays;

/**
 * A bounded map from long to String that forgets its least recently used entry first. The keys
 * stay primitive, so a hit allocates nothing (a boxed key would, for every id above 127). Each
 * entry carries a mark chosen by the caller; an insert that evicts says which mark it evicted.
 * Not thread-safe.
 */
final class LongLru {
    static final long NOTHING_EVICTED = -1;
    private static final int NONE = -1;

    private final long[] keys;
    private final String[] values;
    private final long[] marks;
    private final int[] chain; // the next entry in the same bucket
    private final int[] older;
    private final int[] newer;
    private final int[] buckets;
    private int eldest = NONE;
    private int newest = NONE;
    private int size;

    LongLru(int capacity) {
        if (capacity < 1 || capacity > 1 << 28) throw new IllegalArgumentException("capacity " + capacity);
        keys = new long[capacity];
        values = new String[capacity];
        marks = new long[capacity];
        chain = new int[capacity];
        older = new int[capacity];
        newer = new int[capacity];
        buckets = new int[Integer.highestOneBit(capacity) << 1];
        Arrays.fill(buckets, NONE);
    }

    int size() {
        return size;
    }

    /** The value for {@code key}, now the most recently used; null if there is none. */
    String get(long key) {
        int i = find(key);
        if (i == NONE) return null;
        if (i != newest) {
            unlink(i);
            linkNewest(i);
        }
        return values[i];
    }

    /**
     * Sets {@code key} to {@code value} with {@code mark}, as the most recently used entry. A full
     * map makes room by evicting its eldest entry: the answer is that entry's mark, or
     * {@link #NOTHING_EVICTED}.
     */
    long put(long key, String value, long mark) {
        long evicted = NOTHING_EVICTED;
        int i = find(key);
        if (i != NONE) {
            unlink(i);
        } else {
            if (size == keys.length) {
                i = eldest;
                evicted = marks[i];
                unlink(i);
                unchain(i);
            } else {
                i = size++;
            }
            keys[i] = key;
            int b = bucket(key);
            chain[i] = buckets[b];
            buckets[b] = i;
        }
        values[i] = value;
        marks[i] = mark;
        linkNewest(i);
        return evicted;
    }

    private int bucket(long key) {
        long h = key * 0x9E3779B97F4A7C15L; // inode numbers come in runs: spread them
        return (int) (h >>> 32) & (buckets.length - 1);
    }

    private int find(long key) {
        for (int i = buckets[bucket(key)]; i != NONE; i = chain[i]) {
            if (keys[i] == key) return i;
        }
        return NONE;
    }

    private void unchain(int i) {
        int b = bucket(keys[i]);
        if (buckets[b] == i) {
            buckets[b] = chain[i];
            return;
        }
        int j = buckets[b];
        while (chain[j] != i) j = chain[j];
        chain[j] = chain[i];
    }

    private void unlink(int i) {
        if (older[i] == NONE) eldest = newer[i];
        else newer[older[i]] = newer[i];
        if (newer[i] == NONE) newest = older[i];
        else older[newer[i]] = older[i];
    }

    private void linkNewest(int i) {
        older[i] = newest;
        newer[i] = NONE;
        if (newest == NONE) eldest = i;
        else newer[newest] = i;
        newest = i;
    }
}
