package io.bpfwatch.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bpfwatch.testkit.Connector;
import io.bpfwatch.testkit.Prom;
import io.bpfwatch.testkit.RequiresBpf;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static io.bpfwatch.it.DaemonIT.awaitLine;
import static io.bpfwatch.it.DaemonIT.awaitReady;
import static io.bpfwatch.it.DaemonIT.freePort;
import static io.bpfwatch.it.DaemonIT.get;
import static io.bpfwatch.it.DaemonIT.launcher;
import static io.bpfwatch.it.DaemonIT.signal;
import static org.assertj.core.api.Assertions.assertThat;

/** The packaged daemon under abuse: reload storms, kill -9, Ctrl+C. */
@RequiresBpf
class ReliabilityIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final List<Process> started = new ArrayList<>();

    @AfterEach
    void killLeftovers() {
        for (Process p : started) p.destroyForcibly();
    }

    private Process start(Path config, Path output) throws IOException {
        Process p = new ProcessBuilder(launcher(), "run", "--config", config.toString())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(output.toFile())).start();
        started.add(p);
        return p;
    }

    private static String yaml(int port, Path logs, String ports) {
        return "http:\n  listen: 127.0.0.1:" + port + "\nlogs:\n  dir: " + logs + "\nmonitors:\n  tcp: { alert: { ports: " + ports + " } }\n";
    }

    /** Replace the config atomically, as an editor or config management does. */
    private static void install(Path config, String text) throws IOException {
        Path tmp = config.resolveSibling(config.getFileName() + ".tmp");
        Files.writeString(tmp, text);
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r-----"));
        Files.move(tmp, config, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    static final class Signals {
        static final int SIGHUP = 1;

        static {
            com.sun.jna.Native.register(Signals.class, com.sun.jna.NativeLibrary.getInstance("c"));
        }

        static native int kill(int pid, int sig);
    }

    /** Threads, and open fds by kind (files, sockets, bpf links, perf events, maps, ...). */
    private static Map<String, Integer> resources(long pid) throws IOException {
        Map<String, Integer> r = new TreeMap<>();
        try (Stream<Path> s = Files.list(Path.of("/proc/" + pid + "/task"))) {
            r.put("threads", (int) s.count());
        }
        try (Stream<Path> s = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            for (Path fd : s.toList()) {
                String kind;
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    kind = target.startsWith("anon_inode:") ? target : target.startsWith("socket:") ? "socket" : target.startsWith("pipe:") ? "pipe" : "file";
                } catch (IOException gone) {
                    continue;
                }
                r.merge(kind, 1, Integer::sum);
            }
        }
        return r;
    }

    @Test
    void aHundredReloadsASecondForThirtySecondsLeakNothingAndTheLastConfigWins(@TempDir Path dir) throws Exception {
        int port = freePort();
        Path logs = dir.resolve("logs");
        Path config = dir.resolve("bpfwatch.yaml");
        String a = yaml(port, logs, "[4444]"), b = yaml(port, logs, "[5555]"), bad = yaml(port, logs, "[99999]");
        install(config, a);
        Path output = dir.resolve("daemon.out");
        Process daemon = start(config, output);
        awaitReady(port, daemon, output);

        // warm up, then take the baseline
        for (int i = 0; i < 20; i++) {
            install(config, i % 2 == 0 ? b : a);
            signal(daemon, "HUP");
            Thread.sleep(50);
        }
        awaitReloadsSettled(port);
        Map<String, Integer> before = resources(daemon.pid());

        // 3000 signals, paced at 100 a second (behind schedule, as a busy machine may put the
        // test, the next ones go at once until it is caught up)
        long t0 = System.nanoTime();
        int sent = 0;
        while (sent < 3000) {
            if (sent % 5 == 0) {
                install(config, switch (sent / 5 % 3) {
                    case 0 -> a;
                    case 1 -> bad;
                    default -> b;
                });
            }
            assertThat(Signals.kill((int) daemon.pid(), Signals.SIGHUP)).isZero();
            sent++;
            long next = t0 + sent * 10_000_000L; // 100 a second, on schedule
            while (System.nanoTime() < next) Thread.onSpinWait();
        }
        double stormSeconds = (System.nanoTime() - t0) / 1e9;
        install(config, yaml(port, logs, "[6666]"));
        double okBefore = new Prom(get(port, "/metrics").body()).get("bpfwatch_config_reloads_total{result=\"success\"}");
        signal(daemon, "HUP");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (new Prom(get(port, "/metrics").body()).get("bpfwatch_config_reloads_total{result=\"success\"}") <= okBefore) {
            assertThat(System.nanoTime()).as("the final reload happened").isLessThan(deadline);
            Thread.sleep(50);
        }
        awaitReloadsSettled(port);
        Map<String, Integer> after = resources(daemon.pid());
        Prom m = new Prom(get(port, "/metrics").body());
        System.out.printf("reload storm: %d SIGHUPs in %.1f s; reloads ok %.0f, refused %.0f; resources before %s after %s%n",
                sent, stormSeconds, m.get("bpfwatch_config_reloads_total{result=\"success\"}"), m.get("bpfwatch_config_reloads_total{result=\"failure\"}"), before, after);

        assertThat(m.get("bpfwatch_config_reloads_total{result=\"failure\"}")).as("invalid files were refused").isPositive();
        assertThat(m.get("bpfwatch_monitor_up{monitor=\"tcp\"}")).isEqualTo(1);
        for (String kind : before.keySet()) {
            if (kind.equals("threads")) {
                // the JVM starts and retires compiler threads on its own
                assertThat(after.get(kind)).as(kind).isBetween(before.get(kind) - 3, before.get(kind) + 3);
            } else if (kind.startsWith("anon_inode:")) {
                assertThat(after.getOrDefault(kind, 0)).as("%s (bpf objects, links, perf events)", kind).isEqualTo(before.get(kind));
            } else {
                assertThat(after.getOrDefault(kind, 0)).as(kind).isLessThanOrEqualTo(before.get(kind) + 2);
            }
        }
        // the last file is the one running: 6666 alerts, 4444 and 5555 do not
        Process c = Connector.run("connect", "127.0.0.1:6666", "127.0.0.1:4444", "127.0.0.1:5555");
        Path log = logs.resolve("tcp.log");
        awaitLine(log, "\"pid\":" + c.pid() + ",\"uid\":0,\"comm\":\"java\",");
        List<JsonNode> mine = new ArrayList<>();
        long linesDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (mine.size() < 3 && System.nanoTime() < linesDeadline) { // its three connects, written as they come
            mine.clear();
            for (String l : Files.readAllLines(log)) {
                JsonNode n = JSON.readTree(l);
                if (n.get("pid").asLong() == c.pid()) mine.add(n);
            }
            if (mine.size() < 3) Thread.sleep(20);
        }
        assertThat(mine).hasSize(3);
        assertThat(mine.get(0).get("rules")).extracting(JsonNode::asText).containsExactly("port:6666");
        assertThat(mine.get(1).get("alert").asBoolean()).isFalse();
        assertThat(mine.get(2).get("alert").asBoolean()).isFalse();
    }

    @Test
    void killNineDuringHeavyWritingLeavesLineCompleteFiles(@TempDir Path dir) throws Exception {
        int port = freePort();
        Path logs = dir.resolve("logs");
        Path config = dir.resolve("bpfwatch.yaml");
        install(config, "http:\n  listen: 127.0.0.1:" + port + "\nlogs:\n  dir: " + logs
                + "\n  rotate: { max-size: 256KiB, keep: 100, compress: false }\nmonitors:\n  tcp: {}\n");
        Path output = dir.resolve("daemon.out");
        for (int round = 0; round < 3; round++) {
            Process daemon = start(config, output);
            awaitReady(port, daemon, output);
            Process storm = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), Connector.class.getName(),
                    "storm", "3", "1", dir.resolve("n").toString()).inheritIO().start();
            long mid = 2000L * (round + 1);
            awaitLines(logs, mid, storm); // mid-storm, wherever the writer is
            daemon.destroyForcibly(); // SIGKILL, mid-write
            assertThat(daemon.waitFor(5, TimeUnit.SECONDS)).isTrue();
            storm.waitFor();
        }
        Process daemon = start(config, output);
        awaitReady(port, daemon, output);
        long lines = 0;
        try (Stream<Path> s = Files.list(logs)) {
            for (Path f : s.toList()) {
                byte[] bytes = Files.readAllBytes(f);
                if (bytes.length == 0) continue;
                assertThat(bytes[bytes.length - 1]).as(f + " ends with a whole line").isEqualTo((byte) '\n');
                for (String l : Files.readAllLines(f)) {
                    JSON.readTree(l);
                    lines++;
                }
            }
        }
        assertThat(lines).isGreaterThan(1000);
        signal(daemon, "TERM");
        assertThat(daemon.waitFor(5, TimeUnit.SECONDS)).isTrue();
        assertThat(daemon.exitValue()).isZero();
    }

    @Test
    void sigtermDuringAConnectStormExitsZeroWithinFiveSecondsWithWholeLines(@TempDir Path dir) throws Exception {
        int port = freePort();
        Path logs = dir.resolve("logs");
        Path config = dir.resolve("bpfwatch.yaml");
        install(config, "http:\n  listen: 127.0.0.1:" + port + "\nlogs:\n  dir: " + logs
                + "\n  rotate: external\nmonitors:\n  tcp: {}\n  dns: {}\n  zfs: { device: " + dir.resolve("zfs") + " }\n");
        Path output = dir.resolve("daemon.out");
        Process daemon = start(config, output);
        awaitReady(port, daemon, output);
        Process storm = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Connector.class.getName(),
                "storm", "10", "1", dir.resolve("n").toString()).inheritIO().start();
        try {
            awaitLines(logs, 5000, storm);
            long t0 = System.nanoTime();
            signal(daemon, "TERM");
            assertThat(daemon.waitFor(5, TimeUnit.SECONDS)).as("exited within 5 s under load").isTrue();
            System.out.printf("SIGTERM to exit under a connect storm: %d ms%n", (System.nanoTime() - t0) / 1_000_000);
            assertThat(daemon.exitValue()).isZero();
        } finally {
            storm.destroy();
            storm.waitFor();
        }
        List<String> lines = Files.readAllLines(logs.resolve("tcp.log"));
        assertThat(lines.size()).isGreaterThanOrEqualTo(5000);
        for (String l : lines) JSON.readTree(l);
        assertThat(Files.readString(output)).contains("bpfwatch: stopped in ");
    }

    /**
     * Until every queued SIGHUP has been handled (the reload counters stop moving across three
     * scrapes) and the tcp monitor runs again: then threads and fds are what they will stay.
     */
    private static void awaitReloadsSettled(int port) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        double last = -1;
        int same = 0;
        while (same < 3) {
            Prom m = new Prom(get(port, "/metrics").body());
            double n = m.get("bpfwatch_config_reloads_total{result=\"success\"}") + m.get("bpfwatch_config_reloads_total{result=\"failure\"}");
            same = n == last && m.get("bpfwatch_monitor_up{monitor=\"tcp\"}") == 1 ? same + 1 : 0;
            last = n;
            assertThat(System.nanoTime()).as("reloads settled within 30 s").isLessThan(deadline);
            Thread.sleep(200);
        }
    }

    /** Waits until the log folder's files hold at least {@code n} lines (the storm must still run). */
    private static void awaitLines(Path logs, long n, Process storm) throws Exception {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (true) {
            long lines = 0;
            try (Stream<Path> s = Files.list(logs)) {
                for (Path f : s.toList()) {
                    try (Stream<String> ls = Files.lines(f, java.nio.charset.StandardCharsets.ISO_8859_1)) {
                        lines += ls.count();
                    }
                }
            } catch (java.nio.file.NoSuchFileException e) {
                // a file rotated away while counted: count again
            }
            if (lines >= n) return;
            assertThat(storm.isAlive()).as("the storm ended before %d lines were logged", n).isTrue();
            assertThat(System.nanoTime()).as("%d lines within 30 s", n).isLessThan(deadline);
            Thread.sleep(20);
        }
    }

    @Test
    void ctrlCStopsCleanlyWithExitZero(@TempDir Path dir) throws Exception {
        int port = freePort();
        Path config = dir.resolve("bpfwatch.yaml");
        install(config, yaml(port, dir.resolve("logs"), "[4444]"));
        Path output = dir.resolve("daemon.out");
        Process daemon = start(config, output);
        awaitReady(port, daemon, output);
        long t0 = System.nanoTime();
        signal(daemon, "INT");
        assertThat(daemon.waitFor(5, TimeUnit.SECONDS)).isTrue();
        System.out.printf("SIGINT to exit: %d ms%n", (System.nanoTime() - t0) / 1_000_000);
        assertThat(daemon.exitValue()).isZero();
    }
}
