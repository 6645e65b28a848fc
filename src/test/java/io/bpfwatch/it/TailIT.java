package io.bpfwatch.it;

import io.bpfwatch.testkit.Connector;
import io.bpfwatch.testkit.RequiresBpf;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.bpfwatch.it.DaemonIT.awaitReady;
import static io.bpfwatch.it.DaemonIT.freePort;
import static io.bpfwatch.it.DaemonIT.launcher;
import static io.bpfwatch.it.DaemonIT.signal;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * bpfwatch tail on the packaged launcher, against the logs of a real daemon making them: a
 * pipe gets plain aligned lines, a terminal (script(1) gives it a pty) gets colour unless
 * NO_COLOR; tail -f with a filter follows while the daemon rotates its file every few lines.
 */
@RequiresBpf
class TailIT {
    private final List<Process> started = new ArrayList<>();

    @AfterEach
    void stopAll() throws Exception {
        for (Process p : started) {
            p.destroy();
            if (!p.waitFor(10, TimeUnit.SECONDS)) p.destroyForcibly();
        }
    }

    private Process daemon(Path dir, int port) throws Exception {
        Path config = dir.resolve("bpfwatch.yaml");
        Files.writeString(config, "http:\n  listen: 127.0.0.1:" + port + "\nlogs:\n  dir: " + dir.resolve("logs")
                + "\n  rotate: { max-size: 4KiB, keep: 50, compress: true }\nmonitors:\n  tcp: { alert: { ports: [4444] } }\n");
        Files.setPosixFilePermissions(config, PosixFilePermissions.fromString("rw-r-----"));
        Path output = dir.resolve("daemon.out");
        Process p = new ProcessBuilder(launcher(), "run", "--config", config.toString())
                .redirectErrorStream(true).redirectOutput(output.toFile()).start();
        started.add(p);
        awaitReady(port, p, output);
        return p;
    }

    private static String tail(Path logs, List<String> env, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(launcher(), "tail", "--logs-dir", logs.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        for (String e : env) pb.environment().put(e.substring(0, e.indexOf('=')), e.substring(e.indexOf('=') + 1));
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return out;
    }

    /** The same command with a terminal as its stdout: script(1) runs it on a pty. */
    private static String onATerminal(Path logs, String env, String args) throws Exception {
        Process p = new ProcessBuilder("script", "-qec", env + " " + launcher() + " tail --logs-dir " + logs + " " + args, "/dev/null")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return out;
    }

    @Test
    void readableOnAPipeColourfulOnATerminalFilteredAndFollowedAcrossRotations(@TempDir Path dir) throws Exception {
        Path logs = dir.resolve("logs");
        daemon(dir, freePort());
        Process c = Connector.run("connect", "127.0.0.1:4444", "127.0.0.1:4445");
        DaemonIT.awaitLine(logs.resolve("tcp.log"), "\"pid\":" + c.pid() + ",");
        DaemonIT.awaitLine(logs.resolve("tcp.log"), "\"dport\":4445");

        String piped = tail(logs, List.of(), "tcp", "--where", "pid=" + c.pid());
        assertThat(piped.lines().toList()).hasSize(2);
        assertThat(piped).contains(" tcp ").contains(" java ").contains("ALERT -> 127.0.0.1:4444 port:4444").contains("-> 127.0.0.1:4445")
                .doesNotContain("\u001b[");
        assertThat(tail(logs, List.of(), "tcp", "--json", "-n", "1", "--where", "pid=" + c.pid())).startsWith("{\"time\":");

        assertThat(onATerminal(logs, "", "tcp --where pid=" + c.pid())).contains("\u001b[1;31mALERT\u001b[0m");
        assertThat(onATerminal(logs, "NO_COLOR=1", "tcp --where pid=" + c.pid())).contains("ALERT").doesNotContain("\u001b[");

        // follow only port 5555 while the daemon rotates its 4 KiB file every dozen lines
        Path followed = dir.resolve("followed.txt");
        Process f = new ProcessBuilder(launcher(), "tail", "-f", "-n", "0", "tcp", "--where", "dport=5555", "--json", "--logs-dir", logs.toString())
                .redirectErrorStream(true).redirectOutput(followed.toFile()).start();
        started.add(f);
        // following has begun once a line written after the start shows up
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (Files.readString(followed).isEmpty()) {
            Connector.run("connect", "127.0.0.1:5555");
            assertThat(System.nanoTime()).as("tail -f printed a new line").isLessThan(deadline);
        }
        List<String> targets = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            targets.add("127.0.0.1:5555");
            targets.add("127.0.0.1:6666");
        }
        targets.add(0, "connect");
        Process burst = Connector.run(targets.toArray(String[]::new));
        while (Files.readString(followed).lines().filter(l -> l.contains("\"pid\":" + burst.pid() + ",")).count() < 40) {
            assertThat(System.nanoTime()).as("40 followed lines of the burst").isLessThan(deadline + TimeUnit.SECONDS.toNanos(30));
            Thread.sleep(50);
        }
        signal(f, "INT");
        assertThat(f.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(f.exitValue()).isZero();
        List<String> lines = Files.readString(followed).lines().toList();
        assertThat(lines).allMatch(l -> l.contains("\"dport\":5555"));
        assertThat(lines.stream().filter(l -> l.contains("\"pid\":" + burst.pid() + ",")).count()).as("each once, across rotations").isEqualTo(40);
        assertThat(lines).as("no line twice").doesNotHaveDuplicates();
        try (var s = Files.list(logs)) {
            assertThat(s.filter(p -> p.getFileName().toString().startsWith("tcp.log.")).count()).as("the daemon rotated meanwhile").isGreaterThan(2);
        }
    }
}
