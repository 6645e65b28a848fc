package io.bpfwatch.sink;

import io.bpfwatch.config.LogsConfig;
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
import java.util.Objects;
import java.util.Set;

/**
 * One monitor's log file, {@code <dir>/<monitor>.log}, as a file of whole lines: it is the
 * only thing that opens, writes, rotates and repairs it, all on the writer thread.
 *
 * Lines are appended with plain write(2)s. If a write fails part way (disk full), the file is
 * cut back to the last complete line, so it never holds a split line and the caller knows
 * exactly which lines are in it. Before each write the path is checked to still name the open
 * file, so a deleted folder or an external rename (logrotate) is noticed before anything is
 * written into an unlinked file. A line cut off by a crash at the end of the file is dropped
 * when the file is opened. With {@code rotate: {max-size, ...}} the file is rotated between
 * lines once it reaches max-size ({@link Archives}); with {@code rotate: external} never.
 */
final class LineFile {
    private static final Logger LOG = Logger.getLogger(LineFile.class);
    private static final long RETRY_OPEN_NANOS = EventLog.RETRY_NANOS;

    private final String monitor;
    private final Archives archives = new Archives();
    private volatile LogsConfig config;
    private volatile boolean reopenRequested;
    private volatile String problem;
    private FileChannel channel;
    private Path openPath;
    private Object openKey;
    private long size;
    private long nextOpenAttempt;
    private long rotationBlockedUntil = System.nanoTime();

    LineFile(String monitor, LogsConfig config) {
        this.monitor = monitor;
        this.config = config;
    }

    Path path() {
        return config.dir().resolve(monitor + ".log");
    }

    /** The current write problem, or null while writing works. Any thread. */
    String problem() {
        return problem;
    }

    /** Reopen before the next write (SIGHUP, after logrotate renamed the file). Any thread. */
    void requestReopen() {
        reopenRequested = true;
    }

    /** New directory or rotation settings, applied before the next write; false if unchanged. Any thread. */
    boolean reconfigure(LogsConfig c) {
        if (c.equals(config)) return false;
        config = c;
        reopenRequested = true;
        return true;
    }

    boolean reopenRequested() {
        return reopenRequested;
    }

    /** At start, and when idle: open now, and follow a reopen or a renamed file. */
    void open() {
        tryOpen(System.nanoTime());
    }

    void idle() {
        if (reopenRequested || (channel != null && !stillOurs())) {
            reopenRequested = false;
            close();
            tryOpen(System.nanoTime());
        }
    }

    /**
     * Appends lines {@code [0, n)} of {@code buf}; line i ends (after its newline) at
     * {@code lineEnds[i]}. Returns how many whole lines are now in the file: the first that many,
     * in order. Chunks fill the file up to max-size, rotating between them, so a file never
     * grows past max-size by more than one line however many lines come at once.
     */
    int append(byte[] buf, int[] lineEnds, int n) {
        int from = 0;
        int byteFrom = 0;
        while (from < n) {
            if (!ensureOpen()) return from;
            if (rotateIfDue()) continue;
            LogsConfig.Rotation r = config.rotation();
            long room = r.external() ? Long.MAX_VALUE : r.maxSize() - size;
            int to = from + 1; // at least one line, or nothing would move
            while (to < n && lineEnds[to] - byteFrom <= room) to++;
            int byteTo = lineEnds[to - 1];
            ByteBuffer chunk = ByteBuffer.wrap(buf, byteFrom, byteTo - byteFrom);
            long start = size;
            try {
                while (chunk.hasRemaining()) channel.write(chunk);
                size += byteTo - byteFrom;
                if (problem != null) recovered();
            } catch (IOException ex) {
                int done = chunk.position(); // absolute index into buf
                int complete = from;
                while (complete < to && lineEnds[complete] <= done) complete++;
                long keep = start + ((complete == from ? byteFrom : lineEnds[complete - 1]) - byteFrom);
                try {
                    channel.truncate(keep);
                } catch (IOException ignored) {
                    // the file is closed below; a later open starts a fresh line if one was cut
                }
                size = keep;
                problem("writing " + openPath + " failed: " + ex.getMessage());
                close();
                nextOpenAttempt = System.nanoTime() + RETRY_OPEN_NANOS;
                return complete;
            }
            from = to;
            byteFrom = byteTo;
            rotateIfDue();
        }
        return n;
    }

    /** A failure outside writing (encoding, a bug): reported like a write problem. */
    void failed(String what) {
        problem(what);
        close();
    }

    private boolean ensureOpen() {
        if (reopenRequested) {
            reopenRequested = false;
            close();
        }
        if (channel != null && !stillOurs()) close();
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
            FileChannel ch = FileChannel.open(p, Set.of(StandardOpenOption.CREATE, StandardOpenOption.READ,
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
            close();
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
        close();
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

    /** Closes the file (nothing is buffered in user space: every write went straight to the kernel). */
    void close() {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // nothing to flush
            }
        }
        channel = null;
        openKey = null;
    }

    /** Waits for background compression of rotated files. */
    void awaitArchives() {
        archives.awaitCompression();
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
