package io.bpfwatch.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bpfwatch.testkit.Connector;
import io.bpfwatch.testkit.RequiresBpf;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

import static io.bpfwatch.it.DaemonIT.awaitLine;
import static io.bpfwatch.it.DaemonIT.awaitReady;
import static io.bpfwatch.it.DaemonIT.freePort;
import static io.bpfwatch.it.DaemonIT.get;
import static io.bpfwatch.it.DaemonIT.launcher;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * bpfwatch top on the packaged launcher against a real daemon: /top ranks the connects a test
 * process makes; --once on a pipe prints one frame; on a terminal (script(1) gives it a pty)
 * the view takes the alternate screen and gives the terminal back as it was on q and on Ctrl+C.
 */
@RequiresBpf
class TopIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final List<Process> started = new ArrayList<>();

    @AfterEach
    void stopAll() throws Exception {
        for (Process p : started) {
            p.destroy();
            if (!p.waitFor(10, TimeUnit.SECONDS)) p.destroyForcibly();
        }
    }

    private Path daemon(Path dir, int port) throws Exception {
        Path config = DaemonIT.config(dir, port, "  tcp: { alert: { ports: [4444] } }\n");
        Path output = dir.resolve("daemon.out");
        Process p = new ProcessBuilder(launcher(), "run", "--config", config.toString())
                .redirectErrorStream(true).redirectOutput(output.toFile()).start();
        started.add(p);
        awaitReady(port, p, output);
        return config;
    }

    private static JsonNode tcp(int port) throws Exception {
        JsonNode doc = JSON.readTree(get(port, "/top?seconds=10&n=32").body());
        for (JsonNode m : doc.path("monitors")) if (m.path("name").asText().equals("tcp")) return m;
        throw new AssertionError("no tcp monitor in /top: " + doc);
    }

    private static long count(JsonNode monitor, String category, String key) {
        for (JsonNode e : monitor.path("top").path(category).path("entries")) if (e.path("key").asText().equals(key)) return e.path("count").asLong();
        return 0;
    }

    /** Runs a shell command line on a pty; {@code keys} are typed once the view has drawn its header. */
    private String onATerminal(String commandLine, String keys) throws Exception {
        return onATerminal(commandLine, keys, "MONITOR");
    }

    /** The same, the keys typed once the view has drawn {@code drawn}. */
    private String onATerminal(String commandLine, String keys, String drawn) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("script", "-qec", commandLine, "/dev/null").redirectErrorStream(true);
        pb.environment().put("SHELL", "/bin/bash");
        Process p = pb.start();
        started.add(p);
        ByteArrayOutputStream seen = new ByteArrayOutputStream();
        Thread reader = new Thread(() -> {
            try (InputStream in = p.getInputStream()) {
                byte[] b = new byte[4096];
                for (int n; (n = in.read(b)) > 0; ) {
                    synchronized (seen) {
                        seen.write(b, 0, n);
                    }
                }
            } catch (Exception ignored) {
                // the pty closed
            }
        });
        reader.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!text(seen).contains(drawn)) {
            assertThat(p.isAlive()).as("top is still running: %s", text(seen)).isTrue();
            assertThat(System.nanoTime()).as("the view drew %s: %s", drawn, text(seen)).isLessThan(deadline);
            Thread.sleep(20);
        }
        OutputStream in = p.getOutputStream();
        in.write(keys.getBytes(StandardCharsets.UTF_8));
        in.flush();
        assertThat(p.waitFor(20, TimeUnit.SECONDS)).as("top ended on %s", keys.equals("q") ? "q" : "Ctrl+C").isTrue();
        reader.join(5000);
        in.close();
        return text(seen);
    }

    private static String text(ByteArrayOutputStream b) {
        synchronized (b) {
            return b.toString(StandardCharsets.UTF_8);
        }
    }

    @Test
    void ranksRealConnectsAndTheViewGivesTheTerminalBack(@TempDir Path dir) throws Exception {
        int port = freePort();
        Path config = daemon(dir, port);
        Process c = Connector.run("connect", "127.0.0.1:4444", "127.0.0.1:4444", "127.0.0.1:4444", "127.0.0.1:5555");
        awaitLine(dir.resolve("logs/tcp.log"), "\"pid\":" + c.pid() + ",\"uid\":0,\"comm\":\"java\"");
        String who = "java[" + c.pid() + "]";
        // ranked once the writer has written them (just after the lines reach the file)
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        JsonNode tcp = tcp(port);
        while (count(tcp, "alerting", who + " port:4444") < 3 || count(tcp, "destinations", "127.0.0.1:5555") < 1) {
            assertThat(System.nanoTime()).as("/top ranks the connects: %s", tcp).isLessThan(deadline);
            Thread.sleep(50);
            tcp = tcp(port);
        }
        assertThat(tcp.path("state").asText()).isEqualTo("running");
        assertThat(count(tcp, "alerting", who + " port:4444")).isEqualTo(3);
        assertThat(count(tcp, "destinations", "127.0.0.1:4444")).isGreaterThanOrEqualTo(3);
        assertThat(tcp.path("window_events").asLong()).isGreaterThanOrEqualTo(4);
        assertThat(tcp.path("events_per_second").asDouble()).isGreaterThan(0);
        assertThat(get(port, "/top?seconds=0").statusCode()).isEqualTo(400);
        assertThat(get(port, "/top?n=x").body()).contains("n must be a whole number from 1 to 32");

        // --once on a pipe, the address from the config
        Process once = new ProcessBuilder(launcher(), "top", "--once", "--interval", "10s", "-n", "10", "--config", config.toString())
                .redirectErrorStream(true).start();
        String frame = new String(once.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(once.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(once.exitValue()).as(frame).isZero();
        assertThat(frame).contains("http://127.0.0.1:" + port).contains("last 10 s").containsPattern("tcp +running ")
                .contains("tcp destinations").contains("127.0.0.1:4444").contains("tcp alerting").contains(who + " port:4444")
                .doesNotContain("\u001b");

        // a terminal: q ends it, and the terminal's settings are what they were
        String url = "http://127.0.0.1:" + port;
        // The view shows the last second, and the connects above are older by now: connects keep
        // coming while it runs, and q is typed once a frame has ranked them. (It used to be typed
        // at the first frame, which had destinations only if the view's own connect to the daemon
        // was written before it asked: on a loaded machine it was not.)
        AtomicBoolean connecting = new AtomicBoolean(true);
        Thread connects = new Thread(() -> {
            while (connecting.get()) {
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress("127.0.0.1", 5555), 1000);
                } catch (IOException refused) {
                    // refused: still a connect attempt the tcp monitor logs
                }
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(100)); // paces the load; nothing waits on it
            }
        }, "top-it-connects");
        connects.start();
        String q;
        try {
            q = onATerminal("stty -g; " + launcher() + " top --interval 1s --url " + url + "; echo status=$?; stty -g", "q",
                    "tcp destinations");
        } finally {
            connecting.set(false);
            connects.join(5000);
        }
        assertThat(q).contains("\u001b[?1049h").contains("\u001b[?1049l").contains("\u001b[?25h").contains("status=0")
                .contains("tcp destinations");
        List<String> settings = q.lines().map(l -> l.replaceAll("\u001b\\[[?0-9;]*[a-zA-Z]", "").strip())
                .filter(l -> l.matches("[0-9a-f]+(:[0-9a-f]+){10,}")).toList();
        assertThat(settings).as("stty -g before and after: %s", q).hasSize(2);
        assertThat(settings.get(1)).isEqualTo(settings.get(0));

        // Ctrl+C (the pty turns it into SIGINT): a clean exit, the screen given back
        String ctrlC = onATerminal("trap true INT; " + launcher() + " top --interval 1s --url " + url + "; echo status=$?; stty -g", "\u0003");
        assertThat(ctrlC).contains("\u001b[?1049l").contains("\u001b[?25h").contains("status=0");
    }
}
