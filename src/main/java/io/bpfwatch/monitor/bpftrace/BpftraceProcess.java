package io.bpfwatch.monitor.bpftrace;

import io.bpfwatch.event.Fields;
import io.bpfwatch.event.FieldsEvent;
import io.bpfwatch.event.WallClock;
import io.bpfwatch.libbpf.Errno;
import io.bpfwatch.libbpf.LibC;
import io.bpfwatch.monitor.Decoder;
import io.bpfwatch.monitor.Monitor;
import io.bpfwatch.monitor.MonitorContext;
import org.jboss.logging.Logger;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A bpftrace script run as a supervised child: {@code bpftrace -f json -o /proc/self/fd/1 -e SCRIPT},
 * under
 * {@code setpriv --pdeathsig KILL}, so the kernel kills it when the daemon dies, even by
 * SIGKILL. Its standard output is read line by line (each line at most max-line bytes; a
 * longer one is dropped and counted, so memory stays bounded whatever the script prints):
 * every printf becomes an event, printed maps become metrics, bpftrace's own lost events are
 * counted as kernel losses. Its standard error goes to the daemon's log, and its last lines
 * are the error when it fails. It counts as started once a BEGIN probe appended to the script
 * prints (bpftrace fires BEGIN once every probe is attached); exiting on its own is a failure,
 * and the supervisor restarts it with backoff.
 */
final class BpftraceProcess implements Monitor {
    private static final Logger LOG = Logger.getLogger(BpftraceProcess.class);
    private static final Path SETPRIV = Path.of("/usr/bin/setpriv");
    private static final long ATTACH_TIMEOUT_SECONDS = 30;
    private static final long STOP_GRACE_MILLIS = 2000;
    private static final int STDERR_LINES = 20, STDERR_LINE_CHARS = 500, STDERR_LOGGED = 50;
    /** How long read lines gather between reads: bounds the reader's wakeups to a few hundred a second. */
    private static final long LINGER_MILLIS = 2;
    private static final int PIPE_BYTES = 1 << 20;

    private final String name;
    private final BpftraceSettings settings;
    private final Path bpftrace;
    private final BpftraceMetrics metrics;
    private final MonitorContext context;
    private final CountDownLatch attached = new CountDownLatch(1);
    private final Deque<String> stderrTail = new ArrayDeque<>();
    private Process process;
    private Thread stdout, stderr;
    private volatile boolean stopping;
    private int stderrLogged;

    BpftraceProcess(String name, BpftraceSettings settings, Path bpftrace, BpftraceMetrics metrics, MonitorContext context) {
        this.name = name;
        this.settings = settings;
        this.bpftrace = bpftrace;
        this.metrics = metrics;
        this.context = context;
    }

    List<String> command() {
        List<String> cmd = new ArrayList<>();
        if (Files.isExecutable(SETPRIV)) {
            cmd.addAll(List.of(SETPRIV.toString(), "--pdeathsig", "KILL", "--"));
        }
        // -o: bpftrace then writes each line with one write(2) as it is printed; its stdout with
        // -B none would take several writes per line, and fully buffered would hold lines back
        cmd.addAll(List.of(bpftrace.toString(), "-f", "json", "-o", "/proc/self/fd/1"));
        cmd.addAll(settings.runArguments());
        return cmd;
    }

    @Override
    public void start(Consumer<Throwable> onFailure) throws IOException, InterruptedException {
        metrics.configure(settings.metricPrefix(), settings.maxKeys());
        if (!Files.isExecutable(SETPRIV)) LOG.warnf("%s: %s is missing: bpftrace would outlive a killed daemon", name, SETPRIV);
        int fd = outputPipe();
        stdout = new Thread(() -> readOutput(fd), "bpfwatch-" + name + "-reader");
        stderr = new Thread(() -> readErrors(process.getErrorStream()), "bpfwatch-" + name + "-stderr");
        stdout.setDaemon(true);
        stderr.setDaemon(true);
        stdout.start();
        stderr.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(ATTACH_TIMEOUT_SECONDS);
        while (!attached.await(50, TimeUnit.MILLISECONDS)) {
            if (!process.isAlive()) {
                int status = process.waitFor();
                stderr.join(1000);
                stop();
                throw new IllegalStateException("bpftrace exited with status " + status + " before attaching " + settings.label() + tail());
            }
            if (System.nanoTime() > deadline) {
                stop();
                throw new IllegalStateException("bpftrace did not attach " + settings.label() + " within " + ATTACH_TIMEOUT_SECONDS + " s" + tail());
            }
        }
        process.onExit().thenAccept(p -> {
            if (stopping) return;
            try {
                stderr.join(1000);
                stdout.join(1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            onFailure.accept(new IllegalStateException("bpftrace exited with status " + p.exitValue() + tail()));
        });
    }

    /**
     * Starts bpftrace with its standard output on a pipe of 1 MiB (the kernel's 64 KiB default
     * holds ~500 lines: at 100k lines/s bpftrace would block on a full pipe within a few ms
     * and lose events in its own buffers). A FIFO makes the pipe: opened here to read first,
     * then by the JVM to write for the child, then unlinked; the read end is returned.
     */
    private int outputPipe() throws IOException {
        Path dir = Files.createTempDirectory("bpfwatch-" + name + "-"); // 0700
        Path fifo = dir.resolve("stdout");
        int fd = -1;
        try {
            if (LibC.mkfifo(fifo.toString(), 0600) != 0) throw new IOException("mkfifo " + fifo + ": " + Errno.name(LibC.errno()));
            fd = LibC.open(fifo.toString(), LibC.O_RDONLY | LibC.O_NONBLOCK | LibC.O_CLOEXEC);
            if (fd < 0) throw new IOException("opening " + fifo + ": " + Errno.name(LibC.errno()));
            if (LibC.fcntl(fd, LibC.F_SETPIPE_SZ, PIPE_BYTES) < 0) {
                LOG.debugf("%s: the pipe stays at its default size: %s", name, Errno.name(LibC.errno()));
            }
            ProcessBuilder pb = new ProcessBuilder(command()).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(fifo.toFile());
            // bpftrace's per-CPU perf buffer absorbs a burst while it formats JSON (perf-buffer)
            pb.environment().put("BPFTRACE_PERF_RB_PAGES", String.valueOf(Math.max(1, settings.perfBufferBytes() / 4096)));
            process = pb.start();
            int flags = LibC.fcntl(fd, LibC.F_GETFL, 0);
            LibC.fcntl(fd, LibC.F_SETFL, flags & ~LibC.O_NONBLOCK); // reads wait for lines from now on
            return fd;
        } catch (IOException | RuntimeException e) {
            if (fd >= 0) LibC.close(fd);
            throw e;
        } finally {
            Files.deleteIfExists(fifo);
            Files.deleteIfExists(dir);
        }
    }

    /** ": " and bpftrace's last lines on stderr, or nothing. */
    private String tail() {
        synchronized (stderrTail) {
            if (stderrTail.isEmpty()) return "";
            return ": " + String.join("\n", stderrTail);
        }
    }

    @Override
    public List<String> attachPoints() {
        return process != null && attached.getCount() == 0 ? settings.probes() : List.of();
    }

    @Override
    public boolean alive() {
        Process p = process;
        Thread t = stdout;
        return p != null && p.isAlive() && t != null && t.isAlive();
    }

    /**
     * SIGTERM: bpftrace detaches, runs its END probes and prints its maps, which are read to the
     * end; SIGKILL if it has not exited within two seconds.
     */
    @Override
    public void stop() {
        stopping = true;
        Process p = process;
        if (p != null && p.isAlive()) {
            p.destroy();
            try {
                if (!p.waitFor(STOP_GRACE_MILLIS, TimeUnit.MILLISECONDS)) {
                    LOG.warnf("%s: bpftrace did not exit within %d ms of SIGTERM; killing it", name, STOP_GRACE_MILLIS);
                    p.destroyForcibly().waitFor(STOP_GRACE_MILLIS, TimeUnit.MILLISECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                p.destroyForcibly();
            }
        }
        join(stdout);
        join(stderr);
        context.output().endOfBatch();
        metrics.clear();
    }

    private static void join(Thread t) {
        if (t == null || t == Thread.currentThread()) return;
        try {
            t.join(STOP_GRACE_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Lines of bpftrace's stdout, each handled whole; one longer than max-line is dropped and counted. */
    private void readOutput(int fd) {
        byte[] chunk = new byte[64 << 10];
        byte[] line = new byte[Math.min(settings.maxLineBytes(), 64 << 10)];
        int len = 0;
        boolean overlong = false;
        long overlongBytes = 0;
        try {
            while (true) {
                int n = (int) LibC.read(fd, chunk, chunk.length);
                if (n == 0) break; // bpftrace exited: no writer left
                if (n < 0) {
                    int errno = LibC.errno();
                    if (errno == Errno.EINTR) continue;
                    if (!stopping) LOG.warnf("%s: reading bpftrace's output failed: %s", name, Errno.name(errno));
                    break;
                }
                for (int i = 0; i < n; ) {
                    int nl = i;
                    while (nl < n && chunk[nl] != '\n') nl++;
                    // chunk[i, nl) continues the line; a newline at nl (if nl < n) ends it
                    int part = nl - i;
                    if (overlong) {
                        overlongBytes += part;
                    } else if (len + part > settings.maxLineBytes()) {
                        overlong = true;
                        overlongBytes = (long) len + part;
                    } else {
                        if (len + part > line.length) {
                            line = java.util.Arrays.copyOf(line, Math.min(settings.maxLineBytes(), Math.max(line.length * 2, len + part)));
                        }
                        System.arraycopy(chunk, i, line, len, part);
                        len += part;
                    }
                    if (nl == n) break;
                    if (overlong) {
                        context.output().malformed("bpftrace printed a line of " + overlongBytes + " bytes, over max-line ("
                                + settings.maxLineBytes() + ")");
                    } else if (len > 0) {
                        handle(line, len);
                    }
                    len = 0;
                    overlong = false;
                    overlongBytes = 0;
                    i = nl + 1;
                }
                context.output().endOfBatch();
                // bpftrace writes every line on its own (a line is never held back), and a reader
                // waiting in read() is woken for each: a context switch per event. Read what came,
                // then let lines gather for a moment (they queue in the pipe).
                if (n < chunk.length) Thread.sleep(LINGER_MILLIS);
            }
            if (len > 0 && !overlong) handle(line, len);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.errorf(e, "%s: handling bpftrace's output failed", name);
            if (process != null) process.destroyForcibly();
        } finally {
            LibC.close(fd);
            context.output().endOfBatch();
        }
    }

    private void handle(byte[] line, int len) {
        BpftraceOutput.Message m;
        try {
            m = BpftraceOutput.parse(line, len);
        } catch (Decoder.Refused refused) {
            context.output().malformed(refused.getMessage());
            return;
        }
        if (m instanceof BpftraceOutput.Printf p) {
            if (attached.getCount() > 0 && p.text().equals(BpftraceSettings.ATTACHED)) {
                attached.countDown();
                return;
            }
            FieldsEvent e;
            try {
                e = event(p);
            } catch (StackOverflowError tooDeep) {
                // parsing never recurses per character now; should a line still find a way, it is
                // that line that is dropped and counted, not the reader that dies
                context.output().malformed("a printed line too deeply nested to parse (" + len + " bytes)");
                return;
            }
            context.output().emit(e);
        } else if (m instanceof BpftraceOutput.Maps maps) {
            metrics.update(maps.type(), maps.maps());
        } else if (m instanceof BpftraceOutput.Lost lost) {
            context.health().kernelLoss().add(lost.events());
        }
    }

    /**
     * One printf as an event: {@code event} from the line's own {@code event} field, else the
     * configured name; the parsed fields; {@code text} unless the line was a JSON object.
     */
    FieldsEvent event(BpftraceOutput.Printf p) {
        return event(name, settings.event(), p, WallClock.toEpochNanos(System.nanoTime()));
    }

    static FieldsEvent event(String monitor, String defaultEvent, BpftraceOutput.Printf p, long time) {
        String text = p.text();
        TextFields.Parsed parsed = TextFields.parse(text);
        // key=value values are pieces of the text: ISO-8859-1 where it is; a JSON object's are Jackson's
        boolean latin1 = p.latin1() && !parsed.json();
        Map<String, Object> parsedFields = parsed.fields();
        if (!parsedFields.containsKey("event") && !parsedFields.containsKey("time") && !parsedFields.containsKey("monitor")) {
            // nothing to rename (most lines): the parsed map is the event's
            if (!parsed.json()) parsedFields.put("text", text);
            return new FieldsEvent(time, monitor, defaultEvent, parsedFields, text.length(), latin1);
        }
        Map<String, Object> fields = new Fields(parsedFields.size() + 1);
        String event = defaultEvent;
        for (Map.Entry<String, Object> f : parsedFields.entrySet()) {
            String k = f.getKey();
            if (k.equals("event") && f.getValue() instanceof String s && !s.isEmpty()) {
                event = s;
            } else if (k.equals("time") || k.equals("monitor") || k.equals("event")) {
                fields.put("script_" + k, f.getValue()); // the header's names are the daemon's
            } else {
                fields.put(k, f.getValue());
            }
        }
        if (!parsed.json()) fields.put("text", text);
        return new FieldsEvent(time, monitor, event, fields, text.length(), latin1);
    }

    private void readErrors(InputStream in) {
        try (in) {
            StringBuilder b = new StringBuilder();
            for (int c; (c = in.read()) >= 0; ) {
                if (c != '\n') {
                    if (b.length() < 4096) b.append((char) c);
                    continue;
                }
                stderrLine(new String(b.toString().getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8));
                b.setLength(0);
            }
            if (b.length() > 0) stderrLine(b.toString());
        } catch (IOException e) {
            // the process is gone
        }
    }

    private void stderrLine(String line) {
        if (Bpftrace.NOISE.matcher(line).matches()) return;
        String kept = line.length() > STDERR_LINE_CHARS ? line.substring(0, STDERR_LINE_CHARS) + "..." : line;
        synchronized (stderrTail) {
            stderrTail.addLast(kept);
            while (stderrTail.size() > STDERR_LINES) stderrTail.removeFirst();
        }
        if (stderrLogged++ < STDERR_LOGGED) {
            LOG.warnf("%s: bpftrace: %s", name, kept);
        } else if (stderrLogged == STDERR_LOGGED + 1) {
            LOG.warnf("%s: bpftrace keeps writing to stderr; further lines are not logged until it restarts", name);
        }
    }
}
