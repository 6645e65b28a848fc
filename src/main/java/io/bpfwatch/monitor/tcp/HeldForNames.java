package io.bpfwatch.monitor.tcp;

import java.util.ArrayDeque;
import java.util.function.Consumer;

/**
 * Connects on their way out of the tcp monitor's reader, in the order they were made. A connect
 * whose name the dns monitor's reader may still bring ({@link TcpEvent#namePending()}) is held
 * back until it is named or gives up, and every connect after it waits behind it; the reader
 * reads on meanwhile. Not thread-safe: the reader's thread only.
 */
final class HeldForNames {
    private final ArrayDeque<TcpEvent> held = new ArrayDeque<>();
    private final TcpDecoder decoder;
    private final Consumer<TcpEvent> deliver;
    private final int max;

    HeldForNames(TcpDecoder decoder, Consumer<TcpEvent> deliver, int max) {
        this.decoder = decoder;
        this.deliver = deliver;
        this.max = max;
    }

    /** Delivers {@code e} now, or holds it back; the clock is read only to hold it. */
    void accept(TcpEvent e) {
        if (!e.namePending() && held.isEmpty()) {
            deliver.accept(e);
            return;
        }
        long now = System.nanoTime();
        if (held.size() >= max) release(now, 1); // the oldest goes with what is known
        held.addLast(e);
        release(now, 0);
    }

    /** Delivers held connects from the oldest while they are named, forcing the first {@code force} of them. */
    void release(long now, int force) {
        while (!held.isEmpty()) {
            TcpEvent h = held.peekFirst();
            TcpEvent ready = h.namePending() ? decoder.name(h, now, force > 0) : h;
            if (ready == null) return;
            held.pollFirst();
            force--;
            deliver.accept(ready);
        }
    }

    int size() {
        return held.size();
    }
}
