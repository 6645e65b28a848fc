package io.bpfwatch.export;

import io.bpfwatch.config.OtlpConfig;
import io.bpfwatch.event.FieldsEvent;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.opentelemetry.sdk.resources.Resource;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

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

    @Test
    void largeEventsWaitOnlyAsFarAsAQuarterOfTheHeapWhateverTheQueueSize() throws Exception {
        // a collector nobody listens on: everything offered waits (queued, or in the batch being retried)
        OtlpConfig config = new OtlpConfig(URI.create("http://127.0.0.1:9"), OtlpConfig.Protocol.HTTP_PROTOBUF, Map.of(), null, false,
                Duration.ofSeconds(1), true, false, Duration.ofSeconds(60), List.of(), 1 << 22, 1, Map.of());
        AtomicLong lost = new AtomicLong();
        Pipeline p = new Pipeline(config, Resource.getDefault(), OtlpExport.SCOPE, null, new OtlpExport.Stats(new SimpleMeterRegistry()),
                (monitor, n) -> lost.addAndGet(n));
        p.start();
        int accepted = 0;
        try {
            Map<String, Object> fields = new LinkedHashMap<>();
            fields.put("text", "x".repeat(1 << 20));
            FieldsEvent big = new FieldsEvent(0, "custom", "print", fields, 1 << 20); // weighs ~2 MiB
            long limit = Runtime.getRuntime().maxMemory() / 4;
            long room = limit / big.weight();
            for (int i = 0; i < room + 100; i++) if (p.offer(big)) accepted++;
            assertThat((long) accepted).isEqualTo(room);
            // what is left of the budget still takes events small enough (a few per MiB left)
            FieldsEvent small = new FieldsEvent(0, "custom", "print", Map.of());
            long smallOnes = (limit - room * big.weight()) / small.weight();
            for (int i = 0; i < smallOnes + 10; i++) if (p.offer(small)) accepted++;
            assertThat((long) accepted).isEqualTo(room + smallOnes);
        } finally {
            p.close(0);
        }
        // what waited is counted at the stop, by the sender on its way out
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (lost.get() < accepted && System.nanoTime() < deadline) Thread.sleep(10);
        assertThat(lost.get()).isEqualTo(accepted);
    }
}
