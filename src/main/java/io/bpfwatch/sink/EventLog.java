package io.bpfwatch.sink;

import io.bpfwatch.config.LogsConfig;
import io.bpfwatch.event.Event;
import io.bpfwatch.event.JsonLineEncoder;
import io.micrometer.core.instrument.Counter;
import org.jboss.logging.Logger;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * One monitor's JSON-lines file ({@code <dir>/<monitor>.log}) and the thread that writes it.
 *
 * The reader thread hands events over through a bounded queue and never blocks: a full queue
 * drops the event and counts it ({@code stage="queue"}). The writer encodes a batch and writes
 * it with one write(2); if the write fails part way (disk full), the file is cut back to the
 * last complete line and the rest of the batch is counted ({@code stage="write"}), so the file
 * never holds a split line and every event is either in the file or counted.
 * Before each write the writer checks the path still names its open file: a deleted folder or
 * an external rename is noticed before anything is written into an unlinked file.
 *
 * Handing over does not wake the writer per event: the producer calls {@link #signal()} once
 * per batch (the reader: when it is about to wait), and every {@value #BATCH}th event wakes a
 * sleeping writer by itself, so a long burst is written while it is still being read. A
 * wakeup costs far more than encoding a line (a context switch each way), so this is what
 * makes a moderate event rate cheap. Without a signal the writer still looks every
 * {@value #IDLE_PARK_MILLIS} ms.
 */
public final class EventLog implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(EventLog.class);
    /**
     * Events per write batch, and how many a sleeping writer is left to queue under load before
     * it is woken. Both bound what is live at a young collection: with 4096, bursts had whole
     * batches promoted to the old generation, which stayed committed (measured: 1024-event
     * batches with the wakeup left at 4096 promoted as much as before).
     */
    private static final int BATCH = 1024;
    private static final long RETRY_OPEN_NANOS = 1_000_000_000L;
    private static final long IDLE_PARK_MILLIS = 1000;
    private static final long LINGER_NANOS = 2_000_000L;
    private static final int SEGMENT_BYTES = 256 << 10;

    private final String monitor;
    private final ArrayBlockingQueue<Event> queue;
    private final Counter lostQueue;
    private final Counter lostWrite;
    private final Thread writer;
    private final AtomicLong accepted = new AtomicLong();
    private final AtomicLong processed = new AtomicLong();
    private final AtomicLong linesWritten = new AtomicLong();
    private volatile LogsConfig config;
    private volatile boolean reopenRequested;
    private volatile boolean closing;
    /** The writer is parked (or about to park) waiting for work: producers must unpark it. */
    private volatile boolean waiting;
    private volatile String problem;

    // writer thread only
    private final JsonLineEncoder encoder = new JsonLineEncoder();
    private final Archives archives = new Archives();
    private final List<Event> batch = new ArrayList<>(BATCH);
    private long lastWrite;
    private int[] lineEnds = new int[BATCH];
    private FileChannel channel;
    private Path openPath;
    private Object openKey;
    private long size;
    private long nextOpenAttempt;
    private long rotationBlockedUntil = System.nanoTime();

    public EventLog(String monitor, LogsConfig config, int capacity, Counter lostQueue, Counter lostWrite) {
        this.monitor = monitor;
        this.config = config;
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.lostQueue = lostQueue;
        this.lostWrite = lostWrite;
        this.writer = new Thread(this::run, "bpfwatch-" + monitor + "-writer");
        this.writer.setDaemon(true);
        this.writer.start();
    }

    public String monitor() {
        return monitor;
    }

    public Path path() {
        return config.dir().resolve(monitor + ".log");
    }

    /**
     * Hands an event to the writer; never blocks. False (and counted) if the queue is full.
     * The writer is woken by {@link #signal()}, or here on every {@value #BATCH}th event.
     */
    public boolean offer(Event e) {
        if (queue.offer(e)) {
            if ((accepted.incrementAndGet() & (BATCH - 1)) == 0) signal();
            return true;
        }
        lostQueue.increment();
        signal();
        return false;
    }

    /** Wakes the writer if it sleeps with events to write: call once after offering a batch. */
    public void signal() {
        if (waiting && processed.get() < accepted.get()) LockSupport.unpark(writer);
    }

    /** Reopen the file before the next write (SIGHUP, after logrotate renamed it). */
    public void reopen() {
        reopenRequested = true;
        LockSupport.unpark(writer);
    }

    /** New directory or rotation settings; applied before the next write. */
    public void reconfigure(LogsConfig c) {
        if (!c.equals(config)) {
            config = c;
            reopenRequested = true;
            LockSupport.unpark(writer);
        }
    }

    public long linesWritten() {
        return linesWritten.get();
    }

    public int queued() {
        return queue.size();
    }

    /** The current write problem, or null when writing works. */
    public String problem() {
        return problem;
    }

    /** Waits until every accepted event is written or counted as lost. */
    public boolean awaitDrained(long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        LockSupport.unpark(writer);
        while (processed.get() < accepted.get()) {
            if (System.nanoTime() > deadline) return false;
            Thread.sleep(2);
        }
        return true;
    }

    /** Waits for background compression of rotated files. */
    public void awaitArchives() {
        archives.awaitCompression();
    }

    /** Writes what is queued, closes the file. The caller has stopped offering. */
    @Override
    public void close() {
        closing = true;
        LockSupport.unpark(writer);
        try {
            writer.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        archives.awaitCompression();
    }

    private void run() {
        tryOpen(System.nanoTime()); // at once: the file exists and problems show before the first event
        while (writeOnce()) {
            // until closed and drained
        }
        closeChannel();
    }

    /**
     * Writes one batch, or waits for one; false once closing with nothing left. A method of its
     * own so the JIT compiles it (the loop around it turns too rarely for on-stack replacement).
     */
    private boolean writeOnce() {
        Event first = queue.poll();
        if (first == null) {
            if (closing) return !queue.isEmpty();
            awaitWork();
            if (queue.isEmpty()) {
                // woken without events: the idle timeout, a reopen, a reconfigure
                try {
                    idle();
                } catch (RuntimeException e) {
                    problem("unexpected failure: " + e);
                    closeChannel();
                }
            }
            return true;
        }
        batch.add(first);
        if (!closing && System.nanoTime() - lastWrite < LINGER_NANOS && queue.size() < BATCH / 2) {
            // woken again right after a write: events are streaming in. Gather for a moment, so
            // a high rate is written in large batches instead of one small write per wakeup.
            LockSupport.parkNanos(LINGER_NANOS);
        }
        queue.drainTo(batch, BATCH - 1);
        try {
            write(batch);
        } catch (Throwable t) {
            // never let the writer die: count what could not be written
            lostWrite.increment(batch.size());
            problem("unexpected failure: " + t);
            closeChannel();
        }
        processed.addAndGet(batch.size());
        batch.clear();
        lastWrite = System.nanoTime();
        return true;
    }

    /**
     * Parks until a producer signals, a reopen/reconfigure/close, or the idle timeout. The flag is
     * set before the queue is checked again, and producers check the flag after queueing: an
     * event offered meanwhile is either seen here or unparks (the permit makes park return).
     */
    private void awaitWork() {
        waiting = true;
        if (queue.isEmpty() && !closing && !reopenRequested) {
            LockSupport.parkNanos(this, IDLE_PARK_MILLIS * 1_000_000L);
        }
        waiting = false;
        if (Thread.interrupted()) closing = true;
    }

    private void idle() {
        if (reopenRequested || (channel != null && !stillOurs())) {
            reopenRequested = false;
            closeChannel();
            tryOpen(System.nanoTime());
        }
    }

    private void write(List<Event> batch) {
        if (lineEnds.length < batch.size()) lineEnds = new int[batch.size()];
        int next = 0;
        while (next < batch.size()) next = writeSegment(batch, next);
    }

    /**
     * Encodes events from {@code first} on until about {@link #SEGMENT_BYTES} are encoded and
     * writes them; returns the index of the first event left. Bounding the bytes per write
     * bounds the encoder's buffer and the JDK's per-thread temporary direct buffer (which keeps
     * the size of the largest write ever made: a 4096-event batch of 2 KiB ZFS records would
     * pin 8 MiB of native memory per writer).
     */
    private int writeSegment(List<Event> batch, int first) {
        encoder.reset();
        int n = 0;
        int unencodable = 0;
        int i = first;
        for (; i < batch.size() && encoder.size() < SEGMENT_BYTES; i++) {
            Event e = batch.get(i);
            int before = encoder.size();
            try {
                lineEnds[n] = encoder.append(e);
                n++;
            } catch (Exception ex) {
                encoder.truncate(before);
                unencodable++;
                LOG.errorf(ex, "%s: could not encode a %s event", monitor, e.event());
            }
        }
        if (unencodable > 0) lostWrite.increment(unencodable);
        if (n == 0) return i;

        // Write in chunks that fill the file up to max-size, rotating between chunks, so a file
        // never grows past max-size by more than one line however large the batch.
        int from = 0;
        int byteFrom = 0;
        while (from < n) {
            if (!ensureOpen()) {
                lostWrite.increment(n - from);
                return i;
            }
            if (rotateIfDue()) continue;
            LogsConfig.Rotation r = config.rotation();
            long room = r.external() ? Long.MAX_VALUE : r.maxSize() - size;
            int to = from + 1; // at least one line, or nothing would move
            while (to < n && lineEnds[to] - byteFrom <= room) to++;
            int byteTo = lineEnds[to - 1];
            ByteBuffer buf = ByteBuffer.wrap(encoder.array(), byteFrom, byteTo - byteFrom);
            long start = size;
            try {
                while (buf.hasRemaining()) channel.write(buf);
                size += byteTo - byteFrom;
                linesWritten.addAndGet(to - from);
                if (problem != null) recovered();
            } catch (IOException ex) {
                int done = buf.position(); // absolute index into the encoder's array
                int complete = from;
                while (complete < to && lineEnds[complete] <= done) complete++;
                long keep = start + ((complete == from ? byteFrom : lineEnds[complete - 1]) - byteFrom);
                try {
                    channel.truncate(keep);
                } catch (IOException ignored) {
                    // the file is closed below; a later open starts a fresh line if one was cut
                }
                size = keep;
                linesWritten.addAndGet(complete - from);
                lostWrite.increment(n - complete);
                problem("writing " + openPath + " failed: " + ex.getMessage());
                closeChannel();
                nextOpenAttempt = System.nanoTime() + RETRY_OPEN_NANOS;
                return i;
            }
            from = to;
            byteFrom = byteTo;
            rotateIfDue();
        }
        return i;
    }

    private boolean ensureOpen() {
        if (reopenRequested) {
            reopenRequested = false;
            closeChannel();
        }
        if (channel != null && !stillOurs()) closeChannel();
        if (channel != null) return true;
        long now = System.nanoTime();
        if (now - nextOpenAttempt < 0) return false;
        return tryOpen(now);
    }

    private boolean tryOpen(long now) {
        LogsConfig c = config;
        Path p = c.dir().resolve(monitor + ".log");
        try {
            LogFiles.ensureDir(c.dir());
            FileChannel ch = FileChannel.open(p, java.util.Set.of(StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE), PosixFilePermissions.asFileAttribute(LogFiles.FILE_MODE));
            channel = ch;
            openPath = p;
            openKey = Files.readAttributes(p, BasicFileAttributes.class).fileKey();
            size = ch.size();
            ch.position(size); // the only writer: appending by position keeps the file readable for the check below
            if (size > 0 && !endsWithNewline(ch, size)) {
                // a previous run died mid-line (kill -9): drop the cut line so the file stays line-complete JSON
                long keep = lastNewline(ch, size) + 1;
                LOG.warnf("%s log: dropped %d bytes of a line cut off by a crash at the end of %s", monitor, size - keep, p);
                ch.truncate(keep);
                size = keep;
                ch.position(size);
            }
            return true;
        } catch (IOException ex) {
            closeChannel();
            problem("cannot open " + p + ": " + describe(ex));
            nextOpenAttempt = now + RETRY_OPEN_NANOS;
            return false;
        }
    }

    /** Offset of the last '\n' before {@code size}, or -1. */
    private static long lastNewline(FileChannel ch, long size) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(64 << 10);
        long end = size;
        while (end > 0) {
            long start = Math.max(0, end - buf.capacity());
            buf.clear().limit((int) (end - start));
            ch.read(buf, start);
            for (int i = (int) (end - start) - 1; i >= 0; i--) if (buf.get(i) == '\n') return start + i;
            end = start;
        }
        return -1;
    }

    private static boolean endsWithNewline(FileChannel ch, long size) throws IOException {
        ByteBuffer one = ByteBuffer.allocate(1);
        ch.read(one, size - 1);
        return one.get(0) == '\n';
    }

    /** True while the configured path still names the file we hold open. */
    private boolean stillOurs() {
        try {
            return Objects.equals(openKey, Files.readAttributes(openPath, BasicFileAttributes.class).fileKey());
        } catch (IOException e) {
            return false;
        }
    }

    /** Rotates if the file reached max-size; true if it did (the new file is open, or not). */
    private boolean rotateIfDue() {
        LogsConfig.Rotation r = config.rotation();
        if (r.external() || channel == null || size < r.maxSize()) return false;
        if (System.nanoTime() - rotationBlockedUntil < 0) return false;
        Path p = openPath;
        closeChannel();
        try {
            archives.rotate(p, r.keep(), r.compress());
        } catch (IOException ex) {
            // keep appending to the same file rather than spin; try rotating again in a minute
            problem("rotating " + p + " failed: " + describe(ex));
            rotationBlockedUntil = System.nanoTime() + 60_000_000_000L;
        }
        tryOpen(System.nanoTime());
        return true;
    }

    private void closeChannel() {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // nothing buffered in user space: every write went straight to the kernel
            }
        }
        channel = null;
        openKey = null;
    }

    private void problem(String what) {
        if (!what.equals(problem)) LOG.warnf("%s log: %s (events that cannot be written are counted in bpfwatch_events_lost_total{stage=\"write\"})", monitor, what);
        problem = what;
    }

    private void recovered() {
        LOG.infof("%s log: writing %s again", monitor, openPath);
        problem = null;
    }

    private static String describe(IOException ex) {
        if (ex instanceof NoSuchFileException) return "no such file or directory";
        return ex.getClass().getSimpleName() + ": " + ex.getMessage();
    }
}
