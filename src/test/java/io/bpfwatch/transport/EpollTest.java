package io.bpfwatch.transport;

import io.bpfwatch.libbpf.LibC;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Epoll's wake(): what lets a reader sleep a second when idle and still stop at once. */
class EpollTest {
    @Test
    void wakeEndsAWaitAndIsConsumedByIt() throws Exception {
        int quiet = LibC.eventfd(0, LibC.EFD_CLOEXEC | LibC.EFD_NONBLOCK); // never readable: only wake() ends a wait
        assertThat(quiet).isNotNegative();
        try (Epoll epoll = new Epoll("a quiet fd", quiet)) {
            long t0 = System.nanoTime();
            CompletableFuture<Boolean> waited = CompletableFuture.supplyAsync(() -> epoll.await(30_000));
            Thread.sleep(100);
            assertThat(waited).isNotDone();
            epoll.wake();
            assertThat(waited.get(10, TimeUnit.SECONDS)).as("woken, not timed out").isTrue();
            assertThat(System.nanoTime() - t0).isLessThan(TimeUnit.SECONDS.toNanos(10));

            // the wakeup was consumed: the next waits sleep their timeout instead of returning at once
            for (int i = 0; i < 3; i++) {
                long t1 = System.nanoTime();
                assertThat(epoll.await(50)).isFalse();
                assertThat(System.nanoTime() - t1).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(45));
            }

            // a wake before the wait ends that wait at once
            epoll.wake();
            assertThat(epoll.await(30_000)).isTrue();
            assertThat(epoll.await(50)).isFalse();
        } finally {
            LibC.close(quiet);
        }
        int fd = LibC.eventfd(0, LibC.EFD_CLOEXEC);
        Epoll closed = new Epoll("a quiet fd", fd);
        closed.close();
        closed.wake(); // after close: a no-op, never a write to a recycled fd number
        LibC.close(fd);
    }
}
