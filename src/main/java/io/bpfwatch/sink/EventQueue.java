package io.bpfwatch.sink;

import io.bpfwatch.event.Event;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.List;

/**
 * A log's bounded queue: events from any number of producers (a monitor's reader, and whoever
 * drains it when it stops) to one consumer (the log's writer), without a lock. An offer claims
 * a slot with one compare-and-set on the tail and then fills it; the writer takes slots in order
 * and empties them. It replaced an {@link java.util.concurrent.ArrayBlockingQueue}, whose lock a
 * reader took and released per event and met the writer's while it drained a batch (the lock
 * was ~4 % of the dns reader's time, async-profiler), plus a separate count of accepted events,
 * which is the tail here. The layout is JCTools' MpscArrayQueue's, without its padding.
 */
final class EventQueue {
    private static final VarHandle SLOT = MethodHandles.arrayElementVarHandle(Object[].class);
    private static final VarHandle TAIL;
    private static final VarHandle HEAD;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            TAIL = l.findVarHandle(EventQueue.class, "tail", long.class);
            HEAD = l.findVarHandle(EventQueue.class, "head", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final Object[] slots;
    private final int mask;
    private final int capacity;
    /** Offers so far: the next slot to claim. Producers only, by compare-and-set. */
    private volatile long tail;
    /** Events taken so far: the next slot to take. Written by the consumer only. */
    private volatile long head;
    /** A tail below this has room (head + capacity as a producer last read it): most offers read no head. */
    private volatile long limit;

    EventQueue(int capacity) {
        if (capacity < 1) throw new IllegalArgumentException("capacity " + capacity);
        this.capacity = capacity;
        int n = Integer.highestOneBit(capacity);
        if (n < capacity) n <<= 1;
        slots = new Object[n];
        mask = n - 1;
        limit = capacity;
    }

    /**
     * Adds {@code e} unless the capacity's worth of events wait; returns how many offers have
     * succeeded with this one (so the first is 1), or -1 when full. Any thread.
     */
    long offer(Event e) {
        long t;
        do {
            t = (long) TAIL.getVolatile(this);
            if (t >= limit) {
                long room = (long) HEAD.getVolatile(this) + capacity;
                if (t >= room) return -1;
                limit = room;
            }
        } while (!TAIL.compareAndSet(this, t, t + 1));
        // the slot is ours; the consumer waits for it to be filled if it gets there first
        SLOT.setRelease(slots, (int) t & mask, e);
        return t + 1;
    }

    /** The oldest event, or null when none waits. The consumer's thread only. */
    Event poll() {
        long h = head;
        int i = (int) h & mask;
        Object e = SLOT.getAcquire(slots, i);
        if (e == null) {
            if (h == tail) return null;
            // a producer has claimed this slot and is about to fill it; should it have been
            // preempted in between, the writer gives up its CPU rather than spin through the slice
            for (int spins = 0; (e = SLOT.getAcquire(slots, i)) == null; spins++) {
                if (spins < 100) Thread.onSpinWait();
                else Thread.yield();
            }
        }
        // emptied before the head moves on: a producer reuses the slot only after reading that head
        SLOT.setOpaque(slots, i, null);
        HEAD.setRelease(this, h + 1);
        return (Event) e;
    }

    /** Moves up to {@code max} waiting events, oldest first, to {@code to}; how many. The consumer's thread only. */
    int drainTo(List<Event> to, int max) {
        int n = 0;
        Event e;
        while (n < max && (e = poll()) != null) {
            to.add(e);
            n++;
        }
        return n;
    }

    /** Offers that have succeeded so far. */
    long offered() {
        return tail;
    }

    /** Events waiting (a moment's view when producers are offering). */
    int size() {
        return (int) Math.max(0, Math.min(capacity, tail - head));
    }

    boolean isEmpty() {
        return head == tail;
    }
}
