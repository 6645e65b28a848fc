package io.bpfwatch.export;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class PipelineTest {
    private static final long MIB = 1 << 20;

    @Test
    void theQueueNeverHoldsMoreThanTheHeapHasRoomFor() {
        assertThat(Pipeline.capacity(65536, 128 * MIB)).as("the default, in the shipped heap").isEqualTo(65536);
        assertThat(Pipeline.capacity(1 << 22, 128 * MIB)).as("the most allowed, in the shipped heap").isEqualTo(131072);
        assertThat(Pipeline.capacity(1 << 22, 1024 * MIB)).as("with -Xmx1g").isEqualTo(1 << 20);
        assertThat(Pipeline.capacity(8, 128 * MIB)).as("a small queue as asked").isEqualTo(8);
        assertThat(Pipeline.capacity(1 << 22, MIB / 4)).as("never below 1024 for a tiny heap").isEqualTo(1024);
    }
}
