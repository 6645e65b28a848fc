package io.bpfwatch.transport;

import io.bpfwatch.libbpf.BpfMap;
import io.bpfwatch.libbpf.BpfObject;
import io.bpfwatch.testkit.RequiresBpf;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static io.bpfwatch.testkit.TestDaemon.await;
import static org.assertj.core.api.Assertions.assertThat;

/** The reader thread's pace when nothing comes: a tick a second, or every 100 ms while its client waits on time. */
@RequiresBpf
class RingPollerTest {
    private static final class Client implements RingPoller.Client {
        final AtomicInteger ticks = new AtomicInteger();
        final AtomicBoolean waiting = new AtomicBoolean();

        @Override
        public void batchEnd() {
        }

        @Override
        public void tick(long nowNanos) {
            ticks.incrementAndGet();
        }

        @Override
        public boolean waitsOnTime() {
            return waiting.get();
        }
    }

    @Test
    void aQuietReaderTicksEvery100MsWhileItsClientWaitsOnTime() throws Exception {
        try (BpfObject o = RingBufferReaderTest.open(1 << 16)) {
            BpfMap events = o.map("events");
            Client client = new Client();
            RingPoller poller = new RingPoller("test ring", List.of(new RingPoller.Ring("test ring", events.fd(), events.maxEntries(),
                    (b, off, len) -> { })), o.map("bw_reader").fd(), client);
            poller.start("test-ring-reader", t -> { });
            try {
                // quiet and nothing waiting: the reader sleeps on its idle flag, ticking about once a second
                await("the reader to tick while quiet", Duration.ofSeconds(10), () -> client.ticks.get() >= 2);

                // a held event: at 100 ms, ten ticks take a second; at the quiet pace they would take ten
                client.waiting.set(true);
                poller.wake();
                int from = client.ticks.get();
                long start = System.nanoTime();
                await("ten ticks", Duration.ofSeconds(10), () -> client.ticks.get() >= from + 10);
                assertThat(Duration.ofNanos(System.nanoTime() - start)).as("ten ticks while waiting on time").isLessThan(Duration.ofSeconds(5));
            } finally {
                poller.stop();
                poller.close();
            }
        }
    }
}
