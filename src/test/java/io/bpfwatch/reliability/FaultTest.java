package io.bpfwatch.reliability;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.bpfwatch.monitor.MonitorCatalog;
import io.bpfwatch.monitor.MonitorState;
import io.bpfwatch.supervise.Backoff;
import io.bpfwatch.testkit.Prom;
import io.bpfwatch.testkit.RequiresBpf;
import io.bpfwatch.testkit.TestDaemon;
import io.bpfwatch.testkit.TestMonitors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static io.bpfwatch.testkit.TestDaemon.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Faults with exact accounting: the kernel's ring fills, the disk fills, the log file or its
 * folder becomes unwritable. The test-only "echo" monitor makes one record per getpgid() call
 * of this JVM, so every event caused is known.
 */
@RequiresBpf
class FaultTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String EVENTS = "bpfwatch_events_total{monitor=\"echo\"}";

    private static TestDaemon daemon(Path dir, String logs, String echo) throws Exception {
        return daemon(dir, logs, echo, new TestMonitors.Echo());
    }

    private static TestDaemon daemon(Path dir, String logs, String echo, TestMonitors.Echo type) throws Exception {
        MonitorCatalog catalog = MonitorCatalog.builtin().with(type);
        String yaml = "logs:\n  dir: " + dir.resolve("logs") + "\n" + logs + "monitors:\n  echo: " + echo + "\n";
        return new TestDaemon(dir, yaml, catalog, Backoff.DEFAULT, Duration.ofSeconds(5));
    }

    private static double lost(Prom m, String stage) {
        return m.get("bpfwatch_events_lost_total{monitor=\"echo\",stage=\"" + stage + "\"}");
    }

    /** Lines of echo.log; each must parse (no partial line), returns their seq numbers. */
    private static List<Long> seqs(TestDaemon d) throws IOException {
        return d.lines("echo").stream().map(l -> {
            try {
                return JSON.readTree(l).get("seq").asLong();
            } catch (IOException e) {
                throw new AssertionError("not a whole JSON line: " + l, e);
            }
        }).toList();
    }

    @Test
    void aFullRingIsCountedExactlyAndDeliveryResumes(@TempDir Path dir) throws Exception {
        TestMonitors.Echo echo = new TestMonitors.Echo();
        try (TestDaemon d = daemon(dir, "", "{ ring-buffer: 64KiB }", echo)) {
            // the reader is held inside the first record: the ring fills behind it
            echo.gate.holdNext();
            TestMonitors.echo(0);
            echo.gate.awaitHeld();
            int caused = 3001;
            for (int i = 1; i < caused; i++) TestMonitors.echo(0);
            long slot = (io.bpfwatch.event.EventHeader.SIZE + 16 + 8 + 7) & ~7; // the record (header, seq, len) and the ring's own header
            long fitting = (64 << 10) / slot;
            long kernelLost = (long) lost(d.metrics(), "kernel");
            assertThat(kernelLost).as("the kernel counted its drops while nobody read").isBetween(caused - fitting - 100, caused - fitting + 100);
            echo.gate.release();
            long fit = caused - kernelLost;
            await("the ring drained", Duration.ofSeconds(10), () -> d.metrics().get(EVENTS) == fit);
            Prom m = d.metrics();
            assertThat(m.get(EVENTS) + lost(m, "kernel") + lost(m, "queue")).isEqualTo(caused);

            for (int i = 0; i < 100; i++) TestMonitors.echo(0);
            await("delivery resumed", Duration.ofSeconds(10), () -> d.metrics().get(EVENTS) == fit + 100);
            d.drain("echo");
            List<Long> seqs = seqs(d);
            assertThat(seqs).hasSize((int) fit + 100);
            assertThat(seqs.subList(0, (int) fit)).as("the first records, in order").isEqualTo(java.util.stream.LongStream.range(0, fit).boxed().toList());
            assertThat(seqs.subList((int) fit, (int) fit + 100)).as("then the ones after the gap").isEqualTo(java.util.stream.LongStream.range(caused, caused + 100).boxed().toList());
            assertThat(lost(d.metrics(), "kernel")).isEqualTo(kernelLost);
        }
    }

    @Test
    void aFullDiskHoldsEventsUntilSpaceComesBackThenWritesEveryOneInOrder(@TempDir Path dir) throws Exception {
        Path logs = dir.resolve("logs");
        Files.createDirectories(logs);
        mount("-t", "tmpfs", "-o", "size=32m", "tmpfs", logs.toString());
        try (TestDaemon d = daemon(dir, "", "{ ring-buffer: 32MiB }")) { // the ring takes the whole burst: losses are the queue's
            Path filler = logs.resolve("filler");
            Files.write(filler, new byte[(32 << 20) - (24 << 10)]); // ~24 KiB left: ~150 lines of ~150 bytes
            int caused = 100_000; // more than the writer's queue (65536) holds
            for (int i = 0; i < caused; i++) TestMonitors.echo(0);
            await("every event decoded or counted", Duration.ofSeconds(20), () -> {
                Prom m = d.metrics();
                return m.get(EVENTS) + lost(m, "queue") + lost(m, "kernel") == caused;
            });
            await("the full disk reported", Duration.ofSeconds(10), () -> {
                String p = d.status("echo").logProblem();
                return p != null && p.contains("No space left on device");
            });
            Prom full = d.metrics();
            assertThat(lost(full, "write")).as("nothing dropped for want of space").isZero();
            assertThat(lost(full, "kernel")).isZero();
            assertThat(lost(full, "queue")).as("what overflowed the waiting queue").isPositive();
            assertThat(d.status("echo").logPending()).isPositive();
            assertThat(d.state("echo")).isEqualTo(MonitorState.RUNNING);

            Files.delete(filler); // the admin frees space: no signal, no restart
            d.drain("echo");
            Prom m = d.metrics();
            List<Long> seqs = seqs(d);
            assertThat(lost(m, "write")).isZero();
            assertThat((long) seqs.size()).as("every decoded event is in the file").isEqualTo((long) m.get(EVENTS));
            for (int i = 1; i < seqs.size(); i++) assertThat(seqs.get(i)).as("in order, line %d", i).isGreaterThan(seqs.get(i - 1));
            assertThat(d.status("echo").logProblem()).isNull();
        } finally {
            mount("-l", logs.toString()); // umount -l
        }
    }

    @Test
    void anImmutableLogFileAndFolderHoldEventsUntilTheyAreWritableAgain(@TempDir Path dir) throws Exception {
        try (TestDaemon d = daemon(dir, "", "{}")) {
            Path log = d.logs.resolve("echo.log");
            TestMonitors.echo(0);
            await("the first event read", Duration.ofSeconds(10), () -> d.metrics().get(EVENTS) == 1);
            d.drain("echo");
            assertThat(seqs(d)).hasSize(1);
            chattr("+i", log);
            try {
                for (int i = 0; i < 5; i++) TestMonitors.echo(0);
                await("the write failure reported", Duration.ofSeconds(10), () -> {
                    String p = d.status("echo").logProblem();
                    return p != null && p.contains("Operation not permitted");
                });
                await("5 waiting", Duration.ofSeconds(10), () -> d.status("echo").logPending() == 5);
            } finally {
                chattr("-i", log);
            }
            d.drain("echo"); // within the writer's 100 ms retry
            assertThat(seqs(d)).hasSize(6);
            assertThat(lost(d.metrics(), "write")).isZero();

            // the folder itself: the file is gone and nothing may be created in it
            Files.delete(log);
            chattr("+i", d.logs);
            try {
                for (int i = 0; i < 3; i++) TestMonitors.echo(0);
                await("the open failure reported", Duration.ofSeconds(10), () -> {
                    String p = d.status("echo").logProblem();
                    return p != null && p.contains("cannot open");
                });
                await("3 waiting", Duration.ofSeconds(10), () -> d.status("echo").logPending() == 3);
                assertThat(Files.exists(log)).isFalse();
            } finally {
                chattr("-i", d.logs);
            }
            d.drain("echo");
            assertThat(Files.exists(log)).isTrue();
            assertThat(seqs(d)).hasSize(3);
            assertThat(d.status("echo").logProblem()).isNull();
            assertThat(lost(d.metrics(), "write")).isZero();
        }
    }

    private static void mount(String... args) throws Exception {
        String[] cmd = new String[args.length + 1];
        boolean umount = args.length == 2 && args[0].equals("-l");
        cmd[0] = umount ? "umount" : "mount";
        System.arraycopy(args, 0, cmd, 1, args.length);
        Process p = new ProcessBuilder(cmd).inheritIO().start();
        assertThat(p.waitFor()).as(String.join(" ", cmd)).isZero();
    }

    private static void chattr(String flag, Path p) throws Exception {
        Process proc = new ProcessBuilder("chattr", flag, p.toString()).inheritIO().start();
        assertThat(proc.waitFor()).as("chattr " + flag + " " + p + " (needs ext4, xfs or btrfs under the temp dir)").isZero();
    }
}
