package io.bpfwatch.sink;

import io.bpfwatch.config.LogsConfig;
import io.bpfwatch.event.Event;
import io.bpfwatch.event.JsonLineEncoder;
import io.bpfwatch.top.RecentActivity;
import io.micrometer.core.instrument.Counter;
import org.jboss.logging.Logger;

import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * One monitor's events on their way into its {@link LineFile}: a bounded queue and the thread
 * that encodes and writes them.
 *
 * The reader thread hands events over and never blocks: a full queue drops the event and counts
 * it ({@code stage="queue"}), and so does the heap budget all logs share ({@link QueueBudget}),
 * which bounds what waiting events may take of the heap whatever their size. The writer
 * encodes a batch as JSON lines and appends it. When the file cannot take them (a full disk, a
 * folder that is gone and cannot be made), the lines not written wait, in order, and the writer tries again every {@value #RETRY_NANOS} ns, leaving new
 * events in the queue meanwhile: once the file takes lines again, every waiting event is
 * written, and only what overflowed the queue is lost. Stopping while the file still fails
 * counts what waits as {@code stage="write"}. So every event is in the file or counted.
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
     * it is woken. Both bound what is live at a young collection: larger batches had whole
     * batches promoted to the old generation during bursts, where they stayed committed.
     */
    private static final int BATCH = 1024;
    /**
     * How often an idle writer looks whether its file is still there (deleted or renamed without
     * a SIGHUP, it opens a new one; a write checks that anyway first). Every producer signals
     * its events, so this bounds no event's wait; each look is a wakeup of an idle daemon.
     */
    private static final long IDLE_PARK_MILLIS = 5000;
    private static final long LINGER_NANOS = 2_000_000L;
    /** After a failed write, how soon the writer tries again (the file's open is retried as often). */
    static final long RETRY_NANOS = 100_000_000L;
    /**
     * Bytes encoded per append. Bounding them bounds the encoder's buffer and the JDK's
     * per-thread temporary direct buffer, which keeps the size of the largest write ever made.
     */
    private static final int SEGMENT_BYTES = 256 << 10;

    private final String monitor;
    private final EventQueue queue;
    private final QueueBudget budget;
    /** When the budget last refused an event and that was said (producer thread). */
    private long budgetWarned = Long.MIN_VALUE;
    private final Counter lostQueue;
    private final Counter lostWrite;
    private final LineFile file;
    private final RecentActivity recent;
    private final Thread writer;
    private final AtomicLong processed = new AtomicLong();
    private final AtomicLong linesWritten = new AtomicLong();
    private volatile boolean closing;
    /** The writer is parked (or about to park) waiting for work: producers must unpark it. */
    private volatile boolean waiting;

    // writer thread only
    private final JsonLineEncoder encoder = new JsonLineEncoder();
    private final List<Event> batch = new ArrayList<>(BATCH);
    private long lastWrite;
    private int[] lineEnds = new int[BATCH];
    private int[] eventOfLine = new int[BATCH];
    /** Events a failed write left, oldest first: written before anything newer. */
    private final ArrayDeque<Event> held = new ArrayDeque<>();
    /** held.size() as of the writer's last batch, for other threads. */
    private volatile int heldSize;
    private long nextRetry;

    public EventLog(String monitor, LogsConfig config, int capacity, Counter lostQueue, Counter lostWrite) {
        this(monitor, config, capacity, QueueBudget.unlimited(), lostQueue, lostWrite, null);
    }

    /**
     * {@code capacity}: events that may wait; {@code budget}: the heap they may take, shared with
     * the other monitors' logs; {@code recent}: where written events are ranked for bpfwatch
     * top, or null.
     */
    public EventLog(String monitor, LogsConfig config, int capacity, QueueBudget budget, Counter lostQueue, Counter lostWrite,
                    RecentActivity recent) {
        this.monitor = monitor;
        this.budget = budget;
        this.recent = recent;
        this.file = new LineFile(monitor, config);
        this.queue = new EventQueue(capacity);
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
        return file.path();
    }

    /**
     * Hands an event to the writer; never blocks. False (and counted) if the queue is full.
     * The writer is woken by {@link #signal()}, or here on every {@value #BATCH}th event.
     */
    public boolean offer(Event e) {
        int weight = e.weight();
        if (budget.take(weight)) {
            long accepted = queue.offer(e);
            if (accepted > 0) {
                if ((accepted & (BATCH - 1)) == 0) signal();
                return true;
            }
            budget.give(weight);
        } else {
            overBudget();
        }
        lostQueue.increment();
        signal();
        return false;
    }

    /** Says, at most once a minute per log, that events were dropped for the shared budget. */
    private void overBudget() {
        long now = System.nanoTime();
        if (budgetWarned != Long.MIN_VALUE && now - budgetWarned < 60_000_000_000L) return;
        budgetWarned = now;
        LOG.warnf("%s: events dropped (counted in lost{stage=\"queue\"}): the events waiting to be written, all monitors"
                + " together, hold %d MiB, the most this daemon's heap allows (half of -Xmx); %s", monitor, budget.limit() >> 20,
                file.problem() == null ? "a writer is behind" : "writing fails: " + file.problem());
    }

    /** Wakes the writer if it sleeps with events to write: call once after offering a batch. */
    public void signal() {
        if (waiting && processed.get() < queue.offered()) LockSupport.unpark(writer);
    }

    /** Reopen the file before the next write (SIGHUP, after logrotate renamed it). */
    public void reopen() {
        file.requestReopen();
        LockSupport.unpark(writer);
    }

    /** New directory or rotation settings; applied before the next write. */
    public void reconfigure(LogsConfig c) {
        if (file.reconfigure(c)) LockSupport.unpark(writer);
    }

    public long linesWritten() {
        return linesWritten.get();
    }

    /** Events this log has accepted since it was made: bpfwatch_events_total. Any thread. */
    public long accepted() {
        return queue.offered();
    }

    /** Events accepted and not yet written (or counted as lost). */
    public long pending() {
        return queue.offered() - processed.get();
    }

    /** Events the writer took and holds because the file failed (tests wait on it). */
    int held() {
        return heldSize;
    }

    /** The current write problem, or null when writing works. */
    public String problem() {
        return file.problem();
    }

    /** Waits until every accepted event is written or counted as lost. */
    public boolean awaitDrained(long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        LockSupport.unpark(writer);
        while (pending() > 0) {
            if (System.nanoTime() > deadline) return false;
            Thread.sleep(2);
        }
        return true;
    }

    /** Waits for background compression of rotated files. */
    public void awaitArchives() {
        file.awaitArchives();
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
        file.awaitArchives();
    }

    private void run() {
        file.open(); // at once: the file exists and problems show before the first event
        while (writeOnce()) {
            // until closed and drained
        }
        file.close();
    }

    /**
     * Writes one batch, or waits for one; false once closing with nothing left. A method of its
     * own so the JIT compiles it (the loop around it turns too rarely for on-stack replacement).
     */
    private boolean writeOnce() {
        if (!held.isEmpty()) return retryHeld();
        Event first = queue.poll();
        if (first == null) {
            if (closing) return !queue.isEmpty();
            awaitWork(IDLE_PARK_MILLIS * 1_000_000L);
            if (queue.isEmpty()) {
                // woken without events: the idle timeout, a reopen, a reconfigure
                try {
                    file.idle();
                } catch (RuntimeException e) {
                    file.failed("unexpected failure: " + e);
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
        writeBatch();
        lastWrite = System.nanoTime();
        return true;
    }

    /**
     * Writes {@link #batch}; what the file could not take is held, in order, to be written
     * before anything newer once the file takes lines again.
     */
    private void writeBatch() {
        int done;
        try {
            done = write(batch);
        } catch (Throwable t) {
            // never let the writer die: count what could not be written
            lostWrite.increment(batch.size());
            file.failed("unexpected failure: " + t);
            done = batch.size();
        }
        for (int i = done; i < batch.size(); i++) held.addLast(batch.get(i));
        heldSize = held.size();
        release(batch, done);
        processed.addAndGet(done);
        batch.clear();
        if (!held.isEmpty()) nextRetry = System.nanoTime() + RETRY_NANOS;
    }

    /**
     * The file failed with events held: retry on a timer (and when a reopen is asked for),
     * leaving new events in the queue meanwhile, so only what overflows the queue is lost.
     * Closing gives it one more try, then counts what is left as lost{stage="write"}.
     */
    private boolean retryHeld() {
        long wait = nextRetry - System.nanoTime();
        if (!closing && wait > 0 && !file.reopenRequested()) {
            awaitWork(wait);
            return true;
        }
        while (!held.isEmpty() && batch.size() < BATCH) batch.add(held.pollFirst());
        writeBatch();
        if (closing && !held.isEmpty()) {
            // stopping while the file still fails: what waits cannot be written
            List<Event> left = new ArrayList<>(held);
            queue.drainTo(left, Integer.MAX_VALUE);
            lostWrite.increment(left.size());
            release(left, left.size());
            processed.addAndGet(left.size());
            held.clear();
            heldSize = 0;
            return false;
        }
        return true;
    }

    /** Gives the budget back for the first {@code n} events of {@code events}: they are done. */
    private void release(List<Event> events, int n) {
        budget.give(events, n);
    }

    /**
     * Parks until a producer signals, a reopen/reconfigure/close, or the idle timeout. The flag is
     * set before the queue is checked again, and producers check the flag after queueing: an
     * event offered meanwhile is either seen here or unparks (the permit makes park return).
     */
    private void awaitWork(long nanos) {
        waiting = true;
        if ((queue.isEmpty() || !held.isEmpty()) && !closing && !file.reopenRequested()) {
            LockSupport.parkNanos(this, nanos);
        }
        waiting = false;
        if (Thread.interrupted()) closing = true;
    }

    /** Writes the batch in order; returns how many of its events are done (written, or counted as lost). */
    private int write(List<Event> batch) {
        if (lineEnds.length < batch.size()) {
            lineEnds = new int[batch.size()];
            eventOfLine = new int[batch.size()];
        }
        int next = 0;
        while (next < batch.size()) {
            int after = writeSegment(batch, next);
            if (after < 0) return -after - 1; // the file failed: the rest waits
            next = after;
        }
        return next;
    }

    /**
     * Encodes events from {@code first} on until about {@link #SEGMENT_BYTES} are encoded and
     * appends them; returns the index of the first event left, or, if the file took only some
     * lines, -(index of the first event it did not take) - 1.
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
                eventOfLine[n] = i;
                n++;
            } catch (Exception ex) {
                encoder.truncate(before);
                unencodable++;
                LOG.errorf(ex, "%s: could not encode a %s event", monitor, e.event());
            }
        }
        if (n == 0) {
            lostWrite.increment(unencodable);
            return i;
        }
        int written = file.append(encoder.array(), lineEnds, n);
        linesWritten.addAndGet(written);
        if (recent != null && written > 0) recent.count(batch, eventOfLine, written);
        if (written < n) {
            // the events from the first line not taken on wait (and are encoded again); of the
            // unencodable ones, those before it are counted now, the others when retried
            int stop = eventOfLine[written];
            lostWrite.increment(stop - first - written);
            return -stop - 1;
        }
        lostWrite.increment(unencodable);
        return i;
    }
}
