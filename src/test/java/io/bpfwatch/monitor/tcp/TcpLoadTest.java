package io.bpfwatch.monitor.tcp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bpfwatch.testkit.Connector;
import io.bpfwatch.testkit.Prom;
import io.bpfwatch.testkit.RequiresBpf;
import io.bpfwatch.testkit.TestDaemon;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Connect storms against the real tcp monitor: every attempt is either a log line or counted
 * as lost, across rotations, with no line split.
 */
@RequiresBpf
class TcpLoadTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    record Count(long lines, long fromPid) {
    }

    /** Lines of tcp.log and every archive; each must be whole JSON ending in a newline. */
    static Count countLines(Path logs, long pid) throws IOException {
        long lines = 0, fromPid = 0;
        List<Path> files;
        try (Stream<Path> s = Files.list(logs)) {
            files = s.filter(p -> p.getFileName().toString().startsWith("tcp.log")).toList();
        }
        String needle = "\"pid\":" + pid + ",";
        for (Path f : files) {
            try (InputStream raw = Files.newInputStream(f);
                 InputStream in = f.toString().endsWith(".gz") ? new GZIPInputStream(raw, 1 << 16) : raw;
                 BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8), 1 << 16)) {
                String line;
                while ((line = r.readLine()) != null) {
                    JsonNode n = JSON.readTree(line);
                    assertThat(n.get("event").asText()).isEqualTo("connect");
                    lines++;
                    if (line.contains(needle)) fromPid++;
                }
            }
        }
        return new Count(lines, fromPid);
    }

    /** The daemon compresses rotated files in the background: wait until none is left uncompressed. */
    static void awaitArchives(Path logs) throws InterruptedException {
        TestDaemon.await("rotated tcp logs compressed", Duration.ofSeconds(30), () -> {
            try (Stream<Path> s = Files.list(logs)) {
                return s.map(p -> p.getFileName().toString()).noneMatch(n -> n.matches("tcp\\.log\\.[0-9]+"));
            } catch (IOException e) {
                return false;
            }
        });
    }

    record Snapshot(Prom metrics, Count count) {
    }

    /**
     * Metrics and log lines at one moment: other processes on the machine connect too, so
     * count only when events_total did not move while the files were read.
     */
    static Snapshot stableSnapshot(TestDaemon d, long pid, boolean compressed) throws Exception {
        for (int attempt = 0; attempt < 30; attempt++) {
            Prom before = d.metrics();
            d.drain("tcp");
            if (compressed) awaitArchives(d.logs);
            Count c;
            try {
                c = countLines(d.logs, pid);
            } catch (java.nio.file.NoSuchFileException rotatedMeanwhile) {
                continue; // others' connects rotated a file while it was read: not a stable moment
            }
            Prom after = d.metrics();
            if (before.get("bpfwatch_events_total{monitor=\"tcp\"}") == after.get("bpfwatch_events_total{monitor=\"tcp\"}")) {
                return new Snapshot(after, c);
            }
        }
        throw new AssertionError("other connections never paused long enough to compare the log with the counters");
    }

    /**
     * One connect from a new process, after everything before it: once its event is read, so is
     * every record reserved in the ring before it (the ring is read in reservation order).
     */
    static void fence(TestDaemon d) throws Exception {
        Process marker = Connector.run("connect", "127.0.0.1:" + closedPort());
        marker.waitFor();
        d.awaitEvents("tcp", marker.pid(), 1, java.time.Duration.ofSeconds(20));
    }

    /** A port nothing listens on: connects are refused at once, without TIME_WAIT. */
    static int closedPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Test
    void aTenSecondConnectStormIsFullyAccountedForAcrossRotations(@TempDir Path dir) throws Exception {
        String yaml = "logs:\n  dir: " + dir.resolve("logs") + "\n  rotate: { max-size: 1MiB, keep: 1000, compress: true }\n"
                + "monitors:\n  tcp: {}\n";
        try (TestDaemon d = new TestDaemon(dir, yaml)) {
            Path countFile = dir.resolve("attempts");
            Process storm = Connector.run("storm", "10", Integer.toString(closedPort()), countFile.toString());
            long attempts = Long.parseLong(Files.readString(countFile).trim());
            fence(d); // the storm's last records, still in the ring, are read
            Snapshot snap = stableSnapshot(d, storm.pid(), true);
            Prom m = snap.metrics();
            Count c = snap.count();
            double events = m.get("bpfwatch_events_total{monitor=\"tcp\"}");
            double kernel = m.get("bpfwatch_events_lost_total{monitor=\"tcp\",stage=\"kernel\"}");
            double queue = m.get("bpfwatch_events_lost_total{monitor=\"tcp\",stage=\"queue\"}");
            double write = m.get("bpfwatch_events_lost_total{monitor=\"tcp\",stage=\"write\"}");
            System.out.printf("storm: %d attempts in 10 s, %d lines (%d from the storm), events_total %.0f, lost kernel %.0f queue %.0f write %.0f%n",
                    attempts, c.lines(), c.fromPid(), events, kernel, queue, write);

            assertThat(attempts).isGreaterThan(10_000);
            assertThat(write).isZero();
            // every event counted is a line, across all rotated files (a queue drop is counted as lost, not as an event)
            assertThat((double) c.lines()).isEqualTo(events - write);
            // every attempt of the storm is a line or a counted loss (other processes' connects
            // during the run are lines too, and would only make the right side larger)
            assertThat(c.fromPid() + kernel + queue).isEqualTo((double) attempts);
            try (Stream<Path> s = Files.list(d.logs)) {
                assertThat(s.filter(p -> p.toString().endsWith(".gz")).count()).as("rotations happened").isGreaterThan(3);
            }
        }
    }

    @Test
    void externalRotationUnderLoadLosesNoLine(@TempDir Path dir) throws Exception {
        String yaml = "logs:\n  dir: " + dir.resolve("logs") + "\n  rotate: external\nmonitors:\n  tcp: {}\n";
        try (TestDaemon d = new TestDaemon(dir, yaml)) {
            Path countFile = dir.resolve("attempts");
            int port = closedPort();
            Thread rotator = new Thread(() -> {
                try {
                    for (int i = 1; i <= 10; i++) {
                        Thread.sleep(250);
                        Path log = d.logs.resolve("tcp.log");
                        if (Files.exists(log)) Files.move(log, d.logs.resolve("tcp.log." + i)); // logrotate's rename
                        d.daemon.reload(); // its postrotate SIGHUP: reload + reopen
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            rotator.start();
            Process storm = Connector.run("storm", "3", Integer.toString(port), countFile.toString());
            rotator.join();
            long attempts = Long.parseLong(Files.readString(countFile).trim());
            fence(d);
            Snapshot snap = stableSnapshot(d, storm.pid(), false);
            Prom m = snap.metrics();
            Count c = snap.count();
            double kernel = m.get("bpfwatch_events_lost_total{monitor=\"tcp\",stage=\"kernel\"}");
            double queue = m.get("bpfwatch_events_lost_total{monitor=\"tcp\",stage=\"queue\"}");
            assertThat((double) c.lines()).isEqualTo(m.get("bpfwatch_events_total{monitor=\"tcp\"}") - m.get("bpfwatch_events_lost_total{monitor=\"tcp\",stage=\"write\"}"));
            assertThat(c.fromPid() + kernel + queue).isEqualTo((double) attempts);
            assertThat(m.get("bpfwatch_config_reloads_total{result=\"success\"}")).isEqualTo(10);
        }
    }
}
