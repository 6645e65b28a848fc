package io.bpfwatch.top;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class TallyKeysTest {
    private static final TallyKeys.Text JOIN = (a, b, n) -> a + " " + b + " " + n;
    private static final TallyKeys.Text OTHER = (a, b, n) -> "other " + a + " " + b + " " + n;

    @Test
    void aKeyIsItsTextWhateverTheCacheHolds() {
        // far more keys than slots, each asked for three times, interleaved with another text of the same parts
        for (int round = 0; round < 3; round++) {
            for (int i = 0; i < 2000; i++) {
                String a = "host" + (i % 37), b = i % 3 == 0 ? null : "r" + (i % 5);
                assertThat(TallyKeys.of(JOIN, a, b, i)).isEqualTo(a + " " + b + " " + i);
                assertThat(TallyKeys.of(OTHER, a, b, i)).isEqualTo("other " + a + " " + b + " " + i);
            }
        }
    }

    @Test
    void theSamePartsGiveTheSameInstance() {
        String first = TallyKeys.of(JOIN, new String("example.com"), "A", 1);
        assertThat(TallyKeys.of(JOIN, new String("example.com"), "A", 1)).isSameAs(first);
        assertThat(TallyKeys.of(JOIN, "example.com", "A", 2)).isEqualTo("example.com A 2");
    }
}
