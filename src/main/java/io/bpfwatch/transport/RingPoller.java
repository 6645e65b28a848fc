package io.bpfwatch.transport;

import io.bpfwatch.libbpf.BpfException;
import org.jboss.logging.Logger;

import java.util.function.Consumer;

/**
 * The thread that drains one BPF ring buffer into a {@link Client}.
 *
 * It wakes when the kernel forces a wakeup (bpfwatch's objects do so when the queue crosses a
 * multiple of bw_wakeup_bytes) or every {@link #POLL_MILLIS} otherwise, and always drains after
 * waking, so records submitted with BPF_RB_NO_WAKEUP never strand. After two empty drains in a
 * row it arms the ring's idle flag, if the object has one, and sleeps up to
 * {@link #IDLE_POLL_MILLIS}: the first record after that wakes it at once, and so does
 * {@link #stop}. So a busy ring is read in batches without wakeups, a quiet one costs one
 * wakeup a second (for the client's tick), and a lone event is not held back by the batching.
 * The client is told when the poller is about to wait ({@link Client#batchEnd}), not per record.
 */
public final class RingPoller implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(RingPoller.class);
    public static final int POLL_MILLIS = 50;
    public static final int IDLE_POLL_MILLIS = 1000;
    private static final long TICK_NANOS = 100_000_000L;
    private static final int DRAIN_MAX = 8192;

    /** What the poller feeds, all on its thread. */
    public interface Client extends RingBufferReader.RecordHandler {
        /** Read what there was; about to wait. */
        void batchEnd();

        /** Every 100 ms while records flow, about every second while quiet. */
        void tick(long nowNanos);
    }

    private final String label;
    private final Client client;
    private final RingBufferReader ring;
    private final Epoll epoll;
    private final ReaderIdleFlag idleFlag;
    private Thread thread;
    private volatile boolean running;
    private volatile long heartbeat;
    // poller thread only
    private long lastTick;
    private int emptyDrains;

    /** Maps the ring of map {@code ringFd} ({@code size} bytes) and, if {@code idleFlagFd >= 0}, its idle flag. */
    public RingPoller(String label, int ringFd, int size, int idleFlagFd, Client client) throws BpfException {
        this.label = label;
        this.client = client;
        RingBufferReader r = null;
        Epoll e = null;
        try {
            r = new RingBufferReader(label + " ring buffer", ringFd, size);
            e = new Epoll(label + " ring buffer", ringFd);
            idleFlag = idleFlagFd >= 0 ? new ReaderIdleFlag(label, idleFlagFd) : null;
        } catch (BpfException | RuntimeException ex) {
            if (e != null) e.close();
            if (r != null) r.close();
            throw ex;
        }
        ring = r;
        epoll = e;
    }

    /** Starts the thread; {@code onFailure} gets what the client threw, after which the thread has ended. */
    public void start(String threadName, Consumer<Throwable> onFailure) {
        running = true;
        heartbeat = System.nanoTime();
        thread = new Thread(() -> loop(onFailure), threadName);
        thread.setDaemon(true);
        thread.start();
    }

    /** Thread alive and turning: it turns at least once a second. */
    public boolean alive() {
        return running && System.nanoTime() - heartbeat < 5_000_000_000L;
    }

    /** Ends the thread (out of an idle wait at once) and waits for it, up to 5 s. */
    public void stop() {
        running = false;
        epoll.wake();
        Thread t = thread;
        if (t != null && t != Thread.currentThread()) {
            try {
                t.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (t.isAlive()) LOG.errorf("%s: reader did not stop within 5 s", label);
        }
        thread = null;
    }

    /** After {@link #stop}: hands everything still queued to {@code handler}. */
    public void drainRemaining(RingBufferReader.RecordHandler handler) {
        while (ring.drain(handler, DRAIN_MAX) > 0) {
            // until empty
        }
    }

    private void loop(Consumer<Throwable> onFailure) {
        lastTick = System.nanoTime();
        emptyDrains = 0;
        try {
            while (running) once();
        } catch (Throwable t) {
            running = false;
            onFailure.accept(t);
        }
    }

    /**
     * One turn: drain, else wait. A method of its own so the JIT compiles it: the loop around it
     * turns only tens of times a second, too rarely for on-stack replacement, and would otherwise
     * run its body in the interpreter for good.
     */
    private void once() {
        heartbeat = System.nanoTime();
        int n = ring.drain(client, DRAIN_MAX);
        if (n > 0) {
            emptyDrains = 0; // and drain again before waiting: under load the ring is read without pause
        } else {
            client.batchEnd();
            if (++emptyDrains < 2 || idleFlag == null) {
                epoll.await(emptyDrains < 2 ? POLL_MILLIS : IDLE_POLL_MILLIS);
            } else {
                idleFlag.arm();
                if (ring.pendingBytes() == 0) epoll.await(IDLE_POLL_MILLIS);
                idleFlag.disarm();
            }
        }
        long now = System.nanoTime();
        if (now - lastTick >= TICK_NANOS) {
            client.tick(now);
            lastTick = now;
        }
    }

    @Override
    public void close() {
        epoll.close();
        if (idleFlag != null) idleFlag.close();
        ring.close();
    }

    /** The ring's label, for messages. */
    public String label() {
        return label;
    }
}
