package io.bpfwatch.monitor.tcp;

import io.bpfwatch.config.IpAddress;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

class AddressTextTest {
    @Test
    void cachedTextIsAlwaysTheTextOfTheseBytes() {
        SplittableRandom r = new SplittableRandom(1);
        byte[] a = new byte[32];
        for (int i = 0; i < 50_000; i++) {
            // few distinct values per byte: many hits, and collisions between different addresses
            for (int j = 0; j < a.length; j++) a[j] = (byte) r.nextInt(3);
            int len = r.nextBoolean() ? 4 : 16, off = r.nextBoolean() ? 0 : 16;
            assertThat(AddressText.of(a, off, len)).isEqualTo(IpAddress.format(a, off, len));
        }
        byte[] v4 = {127, 0, 0, 1};
        assertThat(AddressText.of(v4, 0, 4)).isSameAs(AddressText.of(v4.clone(), 0, 4)).isEqualTo("127.0.0.1");
    }
}
