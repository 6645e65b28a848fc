package io.bpfwatch.sink;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The heap that events waiting to be written may take, shared by every monitor's log. Each
 * queue is bounded by a count of events too, but a count does not bound memory: a waiting event
 * holds ~150 bytes (a zfs ioctl, measured) to tens of KiB (a custom monitor's line, up to its
 * max-line), and with a disk full, four queues of 65536 events each, or one queue of long
 * bpftrace lines, would fill the heap and take the daemon down. Events are weighed by
 * {@link io.bpfwatch.event.Event#weight()} when offered and given back once written (or counted
 * lost); one that would take the total past the limit is dropped and counted as a full queue's.
 */
public final class QueueBudget {
    /** The share of the JVM's max heap for waiting events; the rest is the daemon's own. */
    static final int HEAP_DIVISOR = 2;

    private final long limit;
    private final AtomicLong used = new AtomicLong();

    public QueueBudget(long limitBytes) {
        this.limit = limitBytes;
    }

    /** Half of {@code maxHeap}: with the shipped -Xmx128m, 64 MiB of waiting events in all. */
    public static QueueBudget forHeap(long maxHeap) {
        return new QueueBudget(maxHeap / HEAP_DIVISOR);
    }

    /** No limit but the queues' own (tests of one log). */
    public static QueueBudget unlimited() {
        return new QueueBudget(Long.MAX_VALUE);
    }

    /**
     * Takes {@code bytes}; false (nothing taken) when that would pass the limit. One atomic add,
     * no retry loop: at the limit, two monitors offering at once may both be refused where one
     * would have fit, which costs an event that was at the edge of being dropped anyway.
     */
    public boolean take(int bytes) {
        if (used.addAndGet(bytes) <= limit) return true;
        used.addAndGet(-bytes);
        return false;
    }

    public void give(long bytes) {
        used.addAndGet(-bytes);
    }

    /** Gives back what the first {@code n} of {@code events} weigh: they are written, sent or counted lost. */
    public void give(java.util.List<? extends io.bpfwatch.event.Event> events, int n) {
        long bytes = 0;
        for (int i = 0; i < n; i++) bytes += events.get(i).weight();
        if (bytes != 0) used.addAndGet(-bytes);
    }

    public long used() {
        return used.get();
    }

    public long limit() {
        return limit;
    }
}
