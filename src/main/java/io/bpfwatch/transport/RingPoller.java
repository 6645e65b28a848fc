package io.bpfwatch.transport;

import io.bpfwatch.libbpf.BpfException;
import org.jboss.logging.Logger;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

/**
 * The thread that drains a monitor's BPF ring buffers (bpfwatch's own objects have one) into
 * their handlers.
 *
 * It wakes when the kernel forces a wakeup (bpfwatch's objects do so when the queue crosses a
 * multiple of bw_wakeup_bytes; other objects usually wake per record) or every
 * {@link #POLL_MILLIS} otherwise, and always drains after waking, so records submitted with
 * BPF_RB_NO_WAKEUP never strand. After two empty drains in a row it arms the object's idle
 * flag, if it has one, and sleeps up to {@link #IDLE_POLL_MILLIS}: the first record after that
 * wakes it at once, and so does {@link #stop}. So a busy ring is read in batches without
 * wakeups, a quiet one costs one wakeup a second (for the client's tick), and a lone event is
 * not held back by the batching; a client with work that waits on time (a connect held for its
 * name) keeps the 100 ms tick while quiet. An object without that flag (a user's, whose programs wake the
 * reader for every record) is read with a 1 ms pause after a small batch, so a steady stream is
 * read in batches there too. The client is told when the poller is about to wait
 * ({@link Client#batchEnd}), not per record.
 */
public final class RingPoller implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(RingPoller.class);
    public static final int POLL_MILLIS = 50;
    public static final int IDLE_POLL_MILLIS = 1000;
    private static final long TICK_NANOS = 100_000_000L;
    private static final int DRAIN_MAX = 8192;
    private static final int LINGER_BELOW = 256;
    private static final long LINGER_NANOS = 1_000_000L;

    /** One ring buffer map to read: its fd and data size, and who handles its records. */
    public record Ring(String label, int fd, int size, RingBufferReader.RecordHandler handler) {
    }

    /** What the poller tells its owner, on its thread. */
    public interface Client {
        /** Read what there was; about to wait. */
        void batchEnd();

        /** Every 100 ms while records flow or {@link #waitsOnTime}, about every second while quiet. */
        void tick(long nowNanos);

        /** Work that waits on time or on another thread (a held event): tick every 100 ms though quiet. */
        default boolean waitsOnTime() {
            return false;
        }
    }

    private final String label;
    private final Client client;
    private final List<RingBufferReader> readers = new ArrayList<>();
    private final List<RingBufferReader.RecordHandler> handlers = new ArrayList<>();
    private final Epoll epoll;
    private final ReaderIdleFlag idleFlag;
    private Thread thread;
    private volatile boolean running;
    private volatile long heartbeat;
    // poller thread only
    private long lastTick;
    private int emptyDrains;

    /** Maps the rings and, if {@code idleFlagFd >= 0}, the object's idle flag. */
    public RingPoller(String label, List<Ring> rings, int idleFlagFd, Client client) throws BpfException {
        this.label = label;
        this.client = client;
        Epoll e = null;
        ReaderIdleFlag flag = null;
        try {
            int[] fds = new int[rings.size()];
            for (int i = 0; i < rings.size(); i++) {
                Ring r = rings.get(i);
                readers.add(new RingBufferReader(r.label(), r.fd(), r.size()));
                handlers.add(r.handler());
                fds[i] = r.fd();
            }
            e = new Epoll(label + " ring buffers", fds);
            flag = idleFlagFd >= 0 ? new ReaderIdleFlag(label, idleFlagFd) : null;
        } catch (BpfException | RuntimeException ex) {
            if (e != null) e.close();
            for (RingBufferReader r : readers) r.close();
            throw ex;
        }
        epoll = e;
        idleFlag = flag;
    }

    /** Starts the thread; {@code onFailure} gets what a handler threw, after which the thread has ended. */
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

    /**
     * Ring number {@code ring}'s progress, for another thread that must know when records
     * made before some moment have been handled: {@code mark()} then {@code passed(mark)}.
     */
    public RingBufferReader ring(int ring) {
        return readers.get(ring);
    }

    /** Ends a wait of the reader thread now (it then drains). */
    public void wake() {
        epoll.wake();
    }

    /** After {@link #stop}: hands what ring number {@code ring} (as passed in) still holds to {@code handler}. */
    public void drainRemaining(int ring, RingBufferReader.RecordHandler handler) {
        RingBufferReader r = readers.get(ring);
        while (r.drain(handler, DRAIN_MAX) > 0) {
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
        int n = 0;
        for (int i = 0; i < readers.size(); i++) n += readers.get(i).drain(handlers.get(i), DRAIN_MAX);
        if (n > 0) {
            emptyDrains = 0; // and drain again before waiting: under load the rings are read without pause
            if (idleFlag == null && n < LINGER_BELOW) {
                // an object that wakes its reader for every record (libbpf's default): a few
                // records came; let more gather for a moment rather than be woken for each
                LockSupport.parkNanos(LINGER_NANOS);
            }
        } else {
            client.batchEnd();
            boolean soon = ++emptyDrains < 2 || client.waitsOnTime();
            if (soon || idleFlag == null) {
                epoll.await(soon ? POLL_MILLIS : IDLE_POLL_MILLIS);
            } else {
                idleFlag.arm();
                if (pendingBytes() == 0) epoll.await(IDLE_POLL_MILLIS);
                idleFlag.disarm();
            }
        }
        long now = System.nanoTime();
        if (now - lastTick >= TICK_NANOS) {
            client.tick(now);
            lastTick = now;
        }
    }

    private long pendingBytes() {
        long p = 0;
        for (RingBufferReader r : readers) p += r.pendingBytes();
        return p;
    }

    @Override
    public void close() {
        epoll.close();
        if (idleFlag != null) idleFlag.close();
        for (RingBufferReader r : readers) r.close();
    }
}
