package io.bpfwatch.event;

import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.Arrays;
import java.util.ConcurrentModificationException;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Set;

/**
 * A custom event's fields in the order they were put: a map to whoever reads it as one, two
 * arrays underneath. A bpftrace line or a user's struct has a handful of fields; a
 * LinkedHashMap of them cost a table and an entry object per field (~380 bytes for six), this
 * ~120, and the writer walks them by index ({@link #key}, {@link #value}), without an iterator
 * or entries. As in a LinkedHashMap, a key put again keeps its place and takes the new value.
 * Past {@value #INDEX_FROM} fields a hash index finds keys, so that a line of thousands of
 * pairs does not cost a scan per pair. Not thread-safe: filled by one thread, then handed over
 * (through the log's queue) to be read.
 */
public final class Fields extends AbstractMap<String, Object> {
    static final int INDEX_FROM = 16;

    private String[] keys;
    private Object[] values;
    private int size;
    private int modCount;
    private HashMap<String, Integer> index;
    private Set<Map.Entry<String, Object>> entries;

    public Fields() {
        this(8);
    }

    public Fields(int capacity) {
        keys = new String[Math.max(1, capacity)];
        values = new Object[keys.length];
    }

    @Override
    public int size() {
        return size;
    }

    /** The name of the {@code i}th field. */
    public String key(int i) {
        Objects.checkIndex(i, size);
        return keys[i];
    }

    /** The value of the {@code i}th field. */
    public Object value(int i) {
        Objects.checkIndex(i, size);
        return values[i];
    }

    private int find(Object key) {
        if (index != null) {
            Integer i = index.get(key);
            return i == null ? -1 : i;
        }
        if (!(key instanceof String k)) {
            for (int i = 0; i < size; i++) if (Objects.equals(keys[i], key)) return i;
            return -1;
        }
        // a line's keys are mostly the readers' cached instances; strings keep their hash, so
        // comparing it first turns down the other keys without comparing their characters
        int h = k.hashCode();
        for (int i = 0; i < size; i++) {
            String x = keys[i];
            if (x == k || x != null && x.hashCode() == h && x.equals(k)) return i;
        }
        return -1;
    }

    @Override
    public Object put(String key, Object value) {
        int i = find(key);
        if (i >= 0) {
            Object old = values[i];
            values[i] = value;
            return old;
        }
        if (size == keys.length) {
            keys = Arrays.copyOf(keys, size * 2);
            values = Arrays.copyOf(values, size * 2);
        }
        keys[size] = key;
        values[size] = value;
        size++;
        modCount++;
        if (index != null) {
            index.put(key, size - 1);
        } else if (size > INDEX_FROM) {
            reindex();
        }
        return null;
    }

    private void reindex() {
        index = new HashMap<>(size * 2);
        for (int i = 0; i < size; i++) index.put(keys[i], i);
    }

    @Override
    public Object get(Object key) {
        int i = find(key);
        return i < 0 ? null : values[i];
    }

    @Override
    public boolean containsKey(Object key) {
        return find(key) >= 0;
    }

    @Override
    public Object remove(Object key) {
        int i = find(key);
        if (i < 0) return null;
        Object old = values[i];
        removeAt(i);
        return old;
    }

    private void removeAt(int i) {
        System.arraycopy(keys, i + 1, keys, i, size - i - 1);
        System.arraycopy(values, i + 1, values, i, size - i - 1);
        size--;
        keys[size] = null;
        values[size] = null;
        modCount++;
        if (index != null) reindex();
    }

    @Override
    public void clear() {
        Arrays.fill(keys, 0, size, null);
        Arrays.fill(values, 0, size, null);
        size = 0;
        modCount++;
        index = null;
    }

    @Override
    public Set<Map.Entry<String, Object>> entrySet() {
        Set<Map.Entry<String, Object>> s = entries;
        if (s == null) entries = s = new Entries();
        return s;
    }

    private final class Entries extends AbstractSet<Map.Entry<String, Object>> {
        @Override
        public int size() {
            return size;
        }

        @Override
        public void clear() {
            Fields.this.clear();
        }

        @Override
        public Iterator<Map.Entry<String, Object>> iterator() {
            return new Iterator<>() {
                private int next, last = -1, expected = modCount;

                @Override
                public boolean hasNext() {
                    return next < size;
                }

                @Override
                public Map.Entry<String, Object> next() {
                    if (modCount != expected) throw new ConcurrentModificationException();
                    if (next >= size) throw new NoSuchElementException();
                    last = next++;
                    return new Entry(last);
                }

                @Override
                public void remove() {
                    if (last < 0) throw new IllegalStateException();
                    if (modCount != expected) throw new ConcurrentModificationException();
                    removeAt(last);
                    next = last;
                    last = -1;
                    expected = modCount;
                }
            };
        }
    }

    /** A field seen through the map's entries: writes through, as a LinkedHashMap's do. */
    private final class Entry implements Map.Entry<String, Object> {
        private final int i;
        private final String key;

        Entry(int i) {
            this.i = i;
            this.key = keys[i];
        }

        @Override
        public String getKey() {
            return key;
        }

        @Override
        public Object getValue() {
            return values[i];
        }

        @Override
        public Object setValue(Object value) {
            Object old = values[i];
            values[i] = value;
            return old;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Map.Entry<?, ?> e && Objects.equals(key, e.getKey()) && Objects.equals(getValue(), e.getValue());
        }

        @Override
        public int hashCode() {
            return Objects.hashCode(key) ^ Objects.hashCode(getValue());
        }

        @Override
        public String toString() {
            return key + "=" + getValue();
        }
    }
}
