package io.bpfwatch.export;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * An event's attributes, in the order the event writes them (the JSON line's order), built in
 * place: the SDK's own builder sorts and merges every record's attributes into a new array,
 * which was an eighth of the export thread's time. A name written twice keeps its last value,
 * as with the SDK's builder. Its own builder until {@link #build}, immutable after it; one per
 * record.
 */
final class EventAttributes implements Attributes, AttributesBuilder {
    private AttributeKey<?>[] keys;
    private Object[] values;
    private int size;
    private boolean built;

    EventAttributes(int expected) {
        keys = new AttributeKey<?>[Math.max(4, expected)];
        values = new Object[keys.length];
    }

    // ---- building ----

    @Override
    public <T> AttributesBuilder put(AttributeKey<T> key, T value) {
        if (built) throw new IllegalStateException("attributes already built");
        if (key == null || key.getKey().isEmpty() || value == null) return this;
        String name = key.getKey();
        for (int i = 0; i < size; i++) {
            if (keys[i] == key || keys[i].getKey().equals(name)) { // rare: a custom monitor's field named like a common one
                System.arraycopy(keys, i + 1, keys, i, size - i - 1);
                System.arraycopy(values, i + 1, values, i, size - i - 1);
                size--;
                break;
            }
        }
        if (size == keys.length) {
            keys = Arrays.copyOf(keys, size * 2);
            values = Arrays.copyOf(values, size * 2);
        }
        keys[size] = key;
        values[size++] = value;
        return this;
    }

    @Override
    public <T> AttributesBuilder put(AttributeKey<Long> key, int value) {
        return put(key, Long.valueOf(value));
    }

    @Override
    @SuppressWarnings("unchecked")
    public AttributesBuilder putAll(Attributes attributes) {
        attributes.forEach((k, v) -> put((AttributeKey<Object>) k, v));
        return this;
    }

    @Override
    public Attributes build() {
        built = true;
        return this;
    }

    // ---- reading ----

    @Override
    @SuppressWarnings("unchecked")
    public <T> T get(AttributeKey<T> key) {
        for (int i = 0; i < size; i++) if (keys[i].equals(key)) return (T) values[i];
        return null;
    }

    @Override
    public void forEach(BiConsumer<? super AttributeKey<?>, ? super Object> consumer) {
        for (int i = 0; i < size; i++) consumer.accept(keys[i], values[i]);
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public boolean isEmpty() {
        return size == 0;
    }

    @Override
    public Map<AttributeKey<?>, Object> asMap() {
        Map<AttributeKey<?>, Object> m = new LinkedHashMap<>();
        forEach(m::put);
        return Collections.unmodifiableMap(m);
    }

    @Override
    public AttributesBuilder toBuilder() {
        return Attributes.builder().putAll(this);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Attributes a && asMap().equals(a.asMap());
    }

    @Override
    public int hashCode() {
        return asMap().hashCode();
    }

    @Override
    public String toString() {
        return asMap().toString();
    }
}
