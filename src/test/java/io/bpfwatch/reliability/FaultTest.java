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
    void aFullDiskCountsWriteLossesKeepsLinesWholeAndResumes(@TempDir Path dir) throws Exception {
        Path logs = dir.resolve("logs");
        Files.createDirectories(logs);
        mount("-t", "tmpfs", "-o", "size=128k", "tmpfs", logs.toString());
        try (TestDaemon d = daemon(dir, "", "{}")) {
            Path filler = logs.resolve("filler");
            Files.write(filler, new byte[100 << 10]);
            for (int i = 0; i < 1000; i++) TestMonitors.echo(0); // ~150 bytes a line: far more than the 28 KiB left
            await("all decoded", Duration.ofSeconds(10), () -> d.metrics().get(EVENTS) == 1000);
            d.drain("echo");
            Prom m = d.metrics();
            List<Long> written = seqs(d);
            assertThat(lost(m, "write")).isPositive();
            assertThat(written.size() + lost(m, "write")).isEqualTo(1000);
            assertThat(d.state("echo")).isEqualTo(MonitorState.RUNNING);
            assertThat(d.status("echo").logProblem()).contains("No space left on device");

            Files.delete(filler);
            Thread.sleep(1100); // the writer retries once a second
            for (int i = 0; i < 10; i++) TestMonitors.echo(0);
            await("written again", Duration.ofSeconds(10), () -> {
                try {
                    d.drain("echo");
                    return seqs(d).size() == written.size() + 10;
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            assertThat(seqs(d).subList(written.size(), written.size() + 10)).containsExactly(1000L, 1001L, 1002L, 1003L, 1004L, 1005L, 1006L, 1007L, 1008L, 1009L);
            assertThat(d.status("echo").logProblem()).isNull();
            assertThat(lost(d.metrics(), "write")).isEqualTo(1000 - written.size());
        } finally {
            mount("-l", logs.toString()); // umount -l
        }
    }

    @Test
    void anImmutableLogFileAndFolderAreReportedThenRecovered(@TempDir Path dir) throws Exception {
        try (TestDaemon d = daemon(dir, "", "{}")) {
            Path log = d.logs.resolve("echo.log");
            TestMonitors.echo(0);
            await("first line", Duration.ofSeconds(10), () -> {
                try {
                    d.drain("echo");
                    return seqs(d).size() == 1;
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            chattr("+i", log);
            try {
                for (int i = 0; i < 5; i++) TestMonitors.echo(0);
                await("5 counted", Duration.ofSeconds(10), () -> lost(d.metrics(), "write") == 5);
                assertThat(d.status("echo").logProblem()).contains("Operation not permitted");
            } finally {
                chattr("-i", log);
            }
            // the folder itself: the file is gone and nothing may be created in it
            Files.delete(log);
            chattr("+i", d.logs);
            try {
                await("the open failure reported", Duration.ofSeconds(10), () -> {
                    TestMonitors.echo(0);
                    try {
                        d.drain("echo");
                        String problem = d.status("echo").logProblem();
                        return problem != null && problem.contains("cannot open");
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
                assertThat(Files.exists(log)).isFalse();
                // still broken: let the last echo through the ring and the queue, then compare
                Thread.sleep(300);
                await("every event written or counted", Duration.ofSeconds(10), () -> {
                    try {
                        d.drain("echo");
                        Prom m = d.metrics();
                        return lost(m, "write") == m.get(EVENTS) - 1;
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
            } finally {
                chattr("-i", d.logs);
            }
            long lostWhileBroken = (long) lost(d.metrics(), "write");
            long caused = (long) d.metrics().get(EVENTS);
            Thread.sleep(1100);
            TestMonitors.echo(0);
            await("recovered", Duration.ofSeconds(10), () -> {
                try {
                    d.drain("echo");
                    return Files.exists(log) && seqs(d).equals(List.of(caused));
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            assertThat(d.status("echo").logProblem()).isNull();
            assertThat(lost(d.metrics(), "write")).isEqualTo(lostWhileBroken);
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
