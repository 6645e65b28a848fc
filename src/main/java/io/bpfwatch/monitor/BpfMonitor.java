package io.bpfwatch.monitor;

import io.bpfwatch.event.EventHeader;
import io.bpfwatch.libbpf.BpfException;
import io.bpfwatch.libbpf.BpfLink;
import io.bpfwatch.libbpf.BpfMap;
import io.bpfwatch.libbpf.BpfObject;
import io.bpfwatch.transport.Epoll;
import io.bpfwatch.transport.ReaderIdleFlag;
import io.bpfwatch.transport.RingBufferReader;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * A live monitor: its BPF object, the links that keep its programs attached, and the reader
 * thread that drains its ring buffer into the decoder. Subclasses say what to set before
 * load, what to attach, and how to decode a record; the lifecycle is the same for all.
 *
 * The reader wakes when the kernel forces a wakeup (the queue crossed a multiple of
 * bw_wakeup_bytes) or every {@link #POLL_MILLIS} otherwise, and always drains after waking, so
 * records submitted with BPF_RB_NO_WAKEUP never strand. After two empty drains in a row it
 * arms the ring's idle flag and sleeps up to {@link #IDLE_POLL_MILLIS}: the first record after
 * that wakes it at once, and so does {@link #stop}. So a busy ring is read in batches without
 * wakeups, a quiet one costs one wakeup a second (for {@link #tick}), and a lone event is not
 * held back by the batching. The log writer is
 * woken when the reader is about to wait, not per event (see EventLog).
 */
public abstract class BpfMonitor {
    private static final Logger LOG = Logger.getLogger(BpfMonitor.class);
    public static final int POLL_MILLIS = 50;
    public static final int IDLE_POLL_MILLIS = 1000;
    private static final long TICK_NANOS = 100_000_000L;
    private static final int WAKEUP_BYTES = 256 << 10;

    protected final MonitorConfig config;
    protected final MonitorContext context;
    /** Decodes the common header; owned by the reader thread. */
    protected final EventHeader header = new EventHeader();

    private BpfObject object;
    private final List<BpfLink> links = new ArrayList<>();
    private RingBufferReader ring;
    private ReaderIdleFlag idleFlag;
    private Epoll epoll;
    private Thread reader;
    private volatile boolean running;
    private volatile boolean paused;
    private volatile boolean readerPaused;
    private volatile long heartbeat;
    private boolean lossAttached;
    // reader thread only
    private RingBufferReader.RecordHandler handler;
    private long lastTick;
    private int emptyDrains;

    protected BpfMonitor(MonitorConfig config, MonitorContext context) {
        this.config = config;
        this.context = context;
    }

    public String name() {
        return config.name();
    }

    /** Opens, configures, loads and attaches, then starts the reader. On failure nothing stays attached. */
    public final void start(Consumer<Throwable> onFailure) throws BpfException, IOException {
        try {
            object = BpfObject.open(BpfObjects.label(objectName()), objectName(), BpfObjects.read(objectName()));
            BpfMap events = object.map("events");
            events.setMaxEntries(config.ringBufferBytes());
            object.setConstant("bw_wakeup_bytes", Math.min(WAKEUP_BYTES, config.ringBufferBytes() / 4));
            configure(object);
            object.load();
            context.metrics().kernelLoss().attach(object.map("bw_lost"));
            lossAttached = true;
            ring = new RingBufferReader(BpfObjects.label(objectName()) + " ring buffer", events.fd(), events.maxEntries());
            epoll = new Epoll(BpfObjects.label(objectName()) + " ring buffer", events.fd());
            idleFlag = new ReaderIdleFlag(BpfObjects.label(objectName()), object.map("bw_reader").fd());
            attach(object, links);
            afterAttach(object);
            running = true;
            heartbeat = System.nanoTime();
            reader = new Thread(() -> readLoop(onFailure), "bpfwatch-" + name() + "-reader");
            reader.setDaemon(true);
            reader.start();
        } catch (BpfException | IOException | RuntimeException | Error e) {
            stop();
            throw e;
        }
    }

    /** The object resource name; the monitor's name unless a test says otherwise. */
    protected String objectName() {
        return name();
    }

    /** Before load: `const volatile` filters, map sizes, which programs load. */
    protected abstract void configure(BpfObject object) throws BpfException;

    /** After load: attach programs, adding each link to {@code links} as soon as it exists. */
    protected abstract void attach(BpfObject object, List<BpfLink> links) throws BpfException;

    /** After attach: e.g. resolve maps read at scrape time. */
    protected void afterAttach(BpfObject object) throws BpfException {
    }

    /** Decodes one record and emits its events. Throwing stops this monitor; it is restarted. */
    protected abstract void onRecord(ByteBuffer data, int offset, int length);

    /**
     * Periodic work on the reader thread (timeouts, interval summaries, device checks): every
     * 100 ms while events flow, about every second while the monitor is quiet.
     */
    protected void tick(long nowNanos) {
    }

    /** On the reader thread after the final drain (flush pending state as events). */
    protected void onDrained() {
    }

    /** Before the object closes (read final map state). */
    protected void beforeClose(BpfObject object) {
    }

    /**
     * Why this instance's hooks no longer see anything although it runs, e.g. the kernel module
     * it probes was unloaded (and maybe loaded again) since it attached; null while they hold.
     * The supervisor asks every second and, on an answer, stops the instance and probes again.
     * Must be cheap and safe to call from any thread.
     */
    public String attachmentLost() {
        return null;
    }

    public List<String> attachPoints() {
        List<String> out = new ArrayList<>();
        for (BpfLink l : links) out.add(l.attachPoint());
        return out;
    }

    /** Reader alive and looping (for the watchdog and /health/live). */
    public boolean alive() {
        return running && System.nanoTime() - heartbeat < 5_000_000_000L;
    }

    /** Test hook: hold the consumer back so the ring fills (overflow accounting tests). */
    public void pauseReading(boolean pause) {
        paused = pause;
        Epoll ep = epoll;
        if (pause && ep != null) ep.wake();
        // returns once the reader has seen it: a drain already under way would otherwise go on
        // reading what the caller produces next
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (pause && running && !readerPaused && System.nanoTime() < deadline) {
            try {
                Thread.sleep(1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** Detaches, drains what the kernel already queued, closes. Safe to call twice. */
    public final void stop() {
        for (BpfLink l : links) {
            try {
                l.close();
            } catch (RuntimeException e) {
                LOG.warnf("%s: detaching %s failed: %s", name(), l, e);
            }
        }
        running = false;
        paused = false;
        if (epoll != null) epoll.wake(); // out of an idle wait now, not in up to a second
        Thread r = reader;
        if (r != null && r != Thread.currentThread()) {
            try {
                r.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (r.isAlive()) LOG.errorf("%s: reader did not stop within 5 s", name());
        }
        reader = null;
        if (ring != null) drainRemaining();
        if (object != null) beforeClose(object);
        context.output().endOfBatch();
        if (lossAttached) {
            context.metrics().kernelLoss().detach();
            lossAttached = false;
        }
        if (epoll != null) epoll.close();
        if (idleFlag != null) idleFlag.close();
        if (ring != null) ring.close();
        if (object != null) object.close();
        epoll = null;
        idleFlag = null;
        ring = null;
        object = null;
        links.clear();
    }

    private void readLoop(Consumer<Throwable> onFailure) {
        handler = this::dispatch;
        lastTick = System.nanoTime();
        emptyDrains = 0;
        try {
            while (running) readOnce();
        } catch (Throwable t) {
            running = false;
            onFailure.accept(t);
        }
    }

    /**
     * One turn of the reader: drain, else wait. A method of its own so the JIT compiles it: the
     * loop around it turns only tens of times a second, too rarely for on-stack replacement,
     * and would otherwise run its body in the interpreter for good.
     */
    private void readOnce() throws InterruptedException {
        heartbeat = System.nanoTime();
        boolean pause = paused;
        readerPaused = pause;
        int n = pause ? 0 : ring.drain(handler, 8192);
        if (n > 0) {
            emptyDrains = 0; // and drain again before waiting: under load the ring is read without pause
        } else {
            // about to wait: hand what was read to the writer (under load the writer is woken
            // every few thousand events instead, so it writes big batches)
            context.output().endOfBatch();
            if (pause) {
                Thread.sleep(POLL_MILLIS);
            } else if (++emptyDrains < 2) {
                epoll.await(POLL_MILLIS);
            } else {
                idleFlag.arm();
                if (ring.pendingBytes() == 0) epoll.await(IDLE_POLL_MILLIS);
                idleFlag.disarm();
            }
        }
        long now = System.nanoTime();
        if (now - lastTick >= TICK_NANOS) {
            tick(now);
            context.output().endOfBatch();
            lastTick = now;
        }
    }

    /**
     * With the links gone and the reader stopped (or dead after a decoder failure), deliver what
     * the kernel queued before, so a stop or restart loses nothing. A record that still throws
     * is counted as a decode loss and skipped.
     */
    private void drainRemaining() {
        RingBufferReader.RecordHandler safe = (data, offset, length) -> {
            try {
                onRecord(data, offset, length);
            } catch (RuntimeException e) {
                context.metrics().lostDecode.increment();
            }
        };
        while (ring.drain(safe, 8192) > 0) {
            // until empty
        }
        try {
            onDrained();
        } catch (RuntimeException e) {
            LOG.warnf("%s: flushing pending state failed: %s", name(), e);
        }
    }

    private void dispatch(ByteBuffer data, int offset, int length) {
        try {
            onRecord(data, offset, length);
        } catch (RuntimeException e) {
            context.metrics().lostDecode.increment();
            throw new DecodeException(name() + ": decoding a " + length + "-byte record failed", e);
        }
    }

    /** An exception escaped a decoder: the monitor is restarted. */
    public static final class DecodeException extends RuntimeException {
        DecodeException(String message, Throwable cause) {
            super(message + ": " + cause, cause);
        }
    }
}
