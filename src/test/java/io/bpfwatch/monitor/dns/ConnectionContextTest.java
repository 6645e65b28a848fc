package io.bpfwatch.monitor.dns;

import com.fasterxml.jackson.databind.JsonNode;
import io.bpfwatch.monitor.MonitorState;
import io.bpfwatch.testkit.RequiresBpf;
import io.bpfwatch.testkit.TestDaemon;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Who is behind an event, with the real programs: a process started in a cgroup made for the
 * test resolves a name through glibc against the lab's dnsmasq and connects to the answer; its
 * dns and tcp events carry its parent, exe and cgroup, and the connect carries the name. The
 * same address connected to from another network namespace carries no name.
 */
@RequiresBpf
class ConnectionContextTest {
    private static final String CONNECT = "import socket,sys\n"
            + "a = socket.getaddrinfo(sys.argv[1], 80, socket.AF_INET, socket.SOCK_STREAM)[0][4][0] if sys.argv[1] != '-' else sys.argv[2]\n"
            + "s = socket.socket(); s.settimeout(2); s.connect_ex((a, 80)); print(a)\n";

    @TempDir
    static Path labDir;
    static DnsLab lab;
    static String otherNs;
    static Path cgroup;

    @BeforeAll
    static void start() throws Exception {
        lab = DnsLab.start(labDir);
        // the answer's address is local in both namespaces, so a connect to it is refused at once
        sh("ip", "-n", lab.ns, "addr", "add", DnsLab.WWW_V4 + "/32", "dev", "lo");
        otherNs = lab.ns + "o";
        sh("ip", "netns", "add", otherNs);
        sh("ip", "-n", otherNs, "link", "set", "lo", "up");
        sh("ip", "-n", otherNs, "addr", "add", DnsLab.WWW_V4 + "/32", "dev", "lo");
        cgroup = cgroup2().resolve("bwctx" + Long.toHexString(ThreadLocalRandom.current().nextLong() & 0xffffffL));
        Files.createDirectory(cgroup);
    }

    @AfterAll
    static void stop() throws Exception {
        if (lab != null) lab.close();
        if (otherNs != null) new ProcessBuilder("ip", "netns", "delete", otherNs).start().waitFor();
        if (cgroup != null) Files.deleteIfExists(cgroup); // empty once its processes have exited
    }

    /** Where the cgroup v2 hierarchy is mounted here. */
    static Path cgroup2() throws Exception {
        for (String l : Files.readAllLines(Path.of("/proc/self/mounts"))) {
            String[] f = l.split(" ");
            if (f.length > 2 && f[2].equals("cgroup2")) return Path.of(f[1]);
        }
        throw new AssertionError("no cgroup2 mount");
    }

    private static void sh(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as("%s: %s", String.join(" ", cmd), out).isZero();
    }

    /** Runs the connect script in {@code ns}, moved into the test's cgroup before it starts; its pid. */
    private static long connect(String ns, String... args) throws Exception {
        // into the cgroup first: `ip netns exec` mounts the namespace's own /sys, without cgroupfs
        String script = "echo $$ > " + cgroup.resolve("cgroup.procs") + " && exec ip netns exec " + ns + " " + DnsLab.PYTHON + " -c \"$0\" \"$@\"";
        List<String> cmd = new java.util.ArrayList<>(List.of("sh", "-c", script, CONNECT));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(out.trim()).as("the script's output").isEqualTo(DnsLab.WWW_V4);
        return p.pid(); // sh and `ip netns exec` exec: this is the pid that connected
    }

    @Test
    void aConnectAfterAResolveCarriesTheNameAndTheProcessItsContext(@TempDir Path dir) throws Exception {
        String monitors = "  dns: { timeout: 2s }\n"
                + "  tcp: { alert: { ports: [], domains: [\"*.lab.test\"] }, unit-label: 5 }\n";
        try (TestDaemon d = new TestDaemon(dir, TestDaemon.yaml(dir, monitors))) {
            assertThat(d.state("dns")).isEqualTo(MonitorState.RUNNING);
            assertThat(d.state("tcp")).isEqualTo(MonitorState.RUNNING);

            long pid = connect(lab.ns, "www.lab.test");
            JsonNode c = d.awaitEvents("tcp", pid, 1, Duration.ofSeconds(10)).get(0);
            assertThat(c.path("daddr").asText()).isEqualTo(DnsLab.WWW_V4);
            if (!c.has("dns")) {
                // what the dns monitor logged of the lookup, once its writer has caught up
                java.nio.file.Path dnsLog = d.logs.resolve("dns.log");
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                while (System.nanoTime() < until && !(java.nio.file.Files.exists(dnsLog) && java.nio.file.Files.readString(dnsLog).contains("lab.test"))) {
                    Thread.sleep(50);
                }
                io.bpfwatch.testkit.Prom m = d.metrics();
                assertThat(c.path("dns").asText()).as("%s\nthe dns log:\n%s\nwaits for the dns reader: %s, of which gave up: %s", c,
                        java.nio.file.Files.exists(dnsLog) ? java.nio.file.Files.readString(dnsLog) : "(none)",
                        m.get("bpfwatch_dns_names_waits_total"), m.get("bpfwatch_dns_names_wait_timeouts_total")).isEqualTo("www.lab.test");
            }
            assertThat(c.path("dns").asText()).isEqualTo("www.lab.test");
            assertThat(c.path("rules").toString()).isEqualTo("[\"domain:*.lab.test\"]");
            assertThat(c.path("alert").asBoolean()).isTrue();

            String path = "/" + cgroup2().relativize(cgroup);
            long jvm = ProcessHandle.current().pid();
            for (JsonNode e : List.of(c, d.awaitEvents("dns", pid, 1, Duration.ofSeconds(10)).get(0))) {
                assertThat(e.path("cgroup").asText()).as("%s", e).isEqualTo(path);
                assertThat(e.path("ppid").asLong()).as("started by this test's JVM").isEqualTo(jvm);
                assertThat(e.path("pcomm").asText()).isEqualTo("java");
                assertThat(e.path("exe").asText()).as("the path execve was given").matches("/usr/bin/python3(\\.\\d+)?");
                assertThat(e.has("unit")).as("a cgroup made by hand is no unit").isFalse();
                assertThat(e.has("container")).isFalse();
            }

            // the same address from a namespace that never resolved it: no name, no domain rule
            long other = connect(otherNs, "-", DnsLab.WWW_V4);
            JsonNode o = d.awaitEvents("tcp", other, 1, Duration.ofSeconds(10)).get(0);
            assertThat(o.path("daddr").asText()).isEqualTo(DnsLab.WWW_V4);
            assertThat(o.has("dns")).as("%s", o).isFalse();
            assertThat(o.path("alert").asBoolean()).isFalse();

            assertThat(d.metrics().get("bpfwatch_tcp_alerts_total{rule=\"domain:*.lab.test\"}")).isEqualTo(1.0);
            assertThat(d.metrics().get("bpfwatch_unit_events_total{monitor=\"tcp\",unit=\"none\"}")).isGreaterThanOrEqualTo(2.0);
            assertThat(d.metrics().get("bpfwatch_dns_names")).isGreaterThanOrEqualTo(1.0);
        }
    }

    @Test
    void contextCanBeTurnedOff(@TempDir Path dir) throws Exception {
        try (TestDaemon d = new TestDaemon(dir, TestDaemon.yaml(dir, "  tcp: { context: [] }\n"))) {
            long pid = connect(otherNs, "-", DnsLab.WWW_V4);
            JsonNode e = d.awaitEvents("tcp", pid, 1, Duration.ofSeconds(10)).get(0);
            for (String f : List.of("ppid", "pcomm", "exe", "cgroup", "unit", "container", "dns")) {
                assertThat(e.has(f)).as("%s in %s", f, e).isFalse();
            }
            assertThat(d.status("tcp").attachPoints()).doesNotContain("tracepoint/sched/sched_process_exec", "tp_btf/cgroup_mkdir");
        }
    }
}
