package io.bpfwatch.event;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FieldsTest {
    @Test
    void behavesAsALinkedHashMapUnderRandomPutsRemovesAndReads() {
        Random random = new Random(20261207);
        for (int round = 0; round < 200; round++) {
            Fields fields = new Fields(1 + random.nextInt(4));
            Map<String, Object> expected = new LinkedHashMap<>();
            int keys = 1 + random.nextInt(round % 2 == 0 ? 8 : 60); // half the rounds past the hash index's threshold
            for (int op = 0; op < 300; op++) {
                String k = "k" + random.nextInt(keys);
                switch (random.nextInt(6)) {
                    case 0, 1, 2 -> {
                        Object v = random.nextBoolean() ? (Object) random.nextLong() : null;
                        assertThat(fields.put(k, v)).isEqualTo(expected.put(k, v));
                    }
                    case 3 -> assertThat(fields.remove(k)).isEqualTo(expected.remove(k));
                    case 4 -> {
                        assertThat(fields.get(k)).isEqualTo(expected.get(k));
                        assertThat(fields.containsKey(k)).isEqualTo(expected.containsKey(k));
                    }
                    default -> {
                        Iterator<Map.Entry<String, Object>> it = fields.entrySet().iterator();
                        Iterator<Map.Entry<String, Object>> ex = expected.entrySet().iterator();
                        while (ex.hasNext()) {
                            Map.Entry<String, Object> e = ex.next();
                            assertThat(it.next()).isEqualTo(e);
                            if (random.nextInt(8) == 0) {
                                it.remove();
                                ex.remove();
                            }
                        }
                        assertThat(it.hasNext()).isFalse();
                    }
                }
                assertThat(fields.size()).isEqualTo(expected.size());
            }
            assertThat(fields).isEqualTo(expected);
            assertThat(fields.hashCode()).isEqualTo(expected.hashCode());
            assertThat(fields.toString()).isEqualTo(expected.toString());
            List<String> byIndex = new ArrayList<>();
            for (int i = 0; i < fields.size(); i++) byIndex.add(fields.key(i) + "=" + fields.value(i));
            assertThat(byIndex).containsExactlyElementsOf(expected.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList());
        }
    }

    @Test
    void aKeyPutAgainKeepsItsPlaceAndTakesTheNewValue() {
        Fields f = new Fields();
        f.put("pid", 1L);
        f.put("comm", "zfs");
        f.put("pid", 2L);
        assertThat(f.keySet()).containsExactly("pid", "comm");
        assertThat(f.get("pid")).isEqualTo(2L);
    }

    @Test
    void thousandsOfDistinctKeysAreFoundThroughTheIndex() {
        Fields f = new Fields();
        for (int i = 0; i < 20_000; i++) f.put("k" + i, (long) i);
        for (int i = 0; i < 20_000; i += 997) assertThat(f.get("k" + i)).isEqualTo((long) i);
        assertThat(f.remove("k5")).isEqualTo(5L);
        assertThat(f.get("k6")).isEqualTo(6L);
        assertThat(f.key(5)).isEqualTo("k6");
        assertThat(f).hasSize(19_999);
    }

    @Test
    void anEntryWritesThroughAndAStaleIteratorFails() {
        Fields f = new Fields();
        f.put("a", 1L);
        f.entrySet().iterator().next().setValue(2L);
        assertThat(f.get("a")).isEqualTo(2L);
        Iterator<Map.Entry<String, Object>> it = f.entrySet().iterator();
        f.put("b", 3L);
        assertThatThrownBy(it::next).isInstanceOf(java.util.ConcurrentModificationException.class);
        assertThatThrownBy(() -> f.key(2)).isInstanceOf(IndexOutOfBoundsException.class);
    }

    @Test
    void anEventWritesItsFieldsInOrder() {
        Fields f = new Fields();
        f.put("cmd", "0x5a23");
        f.put("n", 3L);
        f.put("name", "tank@snap");
        String line = JsonLineEncoder.toLine(new FieldsEvent(1_700_000_000_000_000_000L, "custom", "printf", f));
        assertThat(line).contains("\"cmd\":\"0x5a23\",\"n\":3,\"name\":\"tank@snap\"");
    }
}
