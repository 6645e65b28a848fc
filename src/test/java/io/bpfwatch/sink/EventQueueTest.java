package io.bpfwatch.sink;

import io.bpfwatch.event.Event;
import io.bpfwatch.testkit.SimpleEvent;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

class EventQueueTest {

    /** An event that says which producer made it (its pid) and its place in that producer's sequence. */
    private static SimpleEvent numbered(int producer, long seq) {
        return new SimpleEvent(0, producer, "p", seq, "");
    }

    @Test
    void holdsExactlyItsCapacityInOrderAcrossManyWrapsOfItsSlots() {
        EventQueue q = new EventQueue(5); // 8 slots: the bound is the capacity, not the slots
        long seq = 0;
        long taken = 0;
        for (int round = 0; round < 1000; round++) {
            int room = 5 - q.size();
            for (int i = 0; i < room; i++) assertThat(q.offer(numbered(0, seq++))).isEqualTo(seq);
            assertThat(q.offer(numbered(0, -1))).as("full").isEqualTo(-1);
            assertThat(q.size()).isEqualTo(5);
            int take = 1 + round % 5;
            for (int i = 0; i < take; i++) assertThat(((SimpleEvent) q.poll()).seq).isEqualTo(taken++);
        }
        List<Event> rest = new ArrayList<>();
        assertThat(q.drainTo(rest, 2)).isEqualTo(Math.min(2, (int) (seq - taken)));
        q.drainTo(rest, Integer.MAX_VALUE);
        for (Event e : rest) assertThat(((SimpleEvent) e).seq).isEqualTo(taken++);
        assertThat(taken).isEqualTo(seq);
        assertThat(q.isEmpty()).isTrue();
        assertThat(q.poll()).isNull();
        assertThat(q.offered()).isEqualTo(seq);
    }

    /**
     * Producers offering at once into a small queue that is full most of the time, one consumer
     * taking: every accepted event comes out once, each producer's in the order it offered them,
     * and the counts of accepted offers add up.
     */
    @Test
    void manyProducersOneConsumerLoseNothingDuplicateNothingAndKeepEachProducersOrder() throws Exception {
        int producers = 4;
        int perProducer = 200_000;
        EventQueue q = new EventQueue(64);
        AtomicLong refused = new AtomicLong();
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        long[] accepted = new long[producers];
        for (int p = 0; p < producers; p++) {
            int id = p;
            Thread t = new Thread(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    return;
                }
                long seq = 0;
                while (seq < perProducer) {
                    // a refused offer is offered again: every event is accepted in the end
                    if (q.offer(numbered(id, seq)) > 0) seq++;
                    else refused.incrementAndGet();
                }
                accepted[id] = seq;
            }, "producer-" + p);
            t.start();
            threads.add(t);
        }
        long[] next = new long[producers];
        long total = 0;
        List<Event> batch = new ArrayList<>();
        start.countDown();
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (total < (long) producers * perProducer) {
            assertThat(System.nanoTime()).as("the consumer got every event in time").isLessThan(deadline);
            batch.clear();
            if (total % 3 == 0) {
                Event e = q.poll();
                if (e != null) batch.add(e);
            } else {
                q.drainTo(batch, 17);
            }
            for (Event e : batch) {
                SimpleEvent n = (SimpleEvent) e;
                assertThat(n.seq).as("producer %d's order", n.pid).isEqualTo(next[n.pid]);
                next[n.pid]++;
                total++;
            }
        }
        for (Thread t : threads) t.join(60_000);
        for (int p = 0; p < producers; p++) {
            assertThat(next[p]).isEqualTo(perProducer);
            assertThat(accepted[p]).isEqualTo(perProducer);
        }
        assertThat(q.poll()).as("nothing extra").isNull();
        assertThat(q.offered()).isEqualTo((long) producers * perProducer);
        assertThat(refused.get()).as("the queue was full at times").isPositive();
    }
}
