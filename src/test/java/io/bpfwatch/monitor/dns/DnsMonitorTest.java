package io.bpfwatch.monitor.dns;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bpfwatch.kernel.Kernel;
import io.bpfwatch.monitor.MonitorState;
import io.bpfwatch.testkit.Prom;
import io.bpfwatch.testkit.RequiresBpf;
import io.bpfwatch.testkit.TestDaemon;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The dns monitor with its real BPF programs, watching real resolvers (glibc through getent,
 * dig, Python clients on every system-call path) talk to a real dnsmasq in a network namespace.
 */
@RequiresBpf
class DnsMonitorTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    @TempDir
    static Path labDir;
    static DnsLab lab;

    @BeforeAll
    static void startLab() throws Exception {
        lab = DnsLab.start(labDir);
    }

    @AfterAll
    static void stopLab() throws Exception {
        if (lab != null) lab.close();
    }

    /**
     * monitors.dns.attach for every daemon of this class: null (auto) here; {@link
     * DnsTracepointCheck} runs the same tests on the system-call tracepoints where fentry works.
     */
    String attach() {
        return null;
    }

    /** The plan the daemon must have chosen: with auto, fentry wherever this kernel has it. */
    String expectedStrategy() {
        boolean fentry = "fentry".equals(attach()) || attach() == null && Kernel.system().missingFentry().isEmpty();
        return fentry ? "fentry/fexit on the socket layer" : "syscall tracepoints";
    }

    /** The dns section with this class's attach setting added. */
    String section(String dnsSection) {
        return attach() == null ? dnsSection : dnsSection.replaceFirst("\\}\\s*$", ", attach: " + attach() + " }");
    }

    TestDaemon daemon(Path dir, String dnsSection) throws Exception {
        return started(new TestDaemon(dir, TestDaemon.yaml(dir, "  dns: " + section(dnsSection) + "\n")));
    }

    TestDaemon started(TestDaemon d) {
        assertThat(d.state("dns")).isEqualTo(MonitorState.RUNNING);
        assertThat(d.status("dns").strategy()).startsWith(expectedStrategy());
        return d;
    }

    static List<JsonNode> with(List<JsonNode> lines, String qname, String qtype) {
        return lines.stream().filter(l -> qname.equals(l.path("qname").asText(null)) && qtype.equals(l.path("qtype").asText(null))).toList();
    }

    static JsonNode only(List<JsonNode> lines, String qname, String qtype) {
        List<JsonNode> m = with(lines, qname, qtype);
        assertThat(m).as("%s %s exactly once in %s", qname, qtype, lines).hasSize(1);
        return m.get(0);
    }

    static void assertAnswered(JsonNode e, String comm, String server, String transport, String rcode) {
        assertThat(e.get("monitor").asText()).isEqualTo("dns");
        assertThat(e.get("event").asText()).isEqualTo("answered");
        assertThat(e.get("comm").asText()).isEqualTo(comm);
        assertThat(e.get("uid").asLong()).isZero();
        assertThat(e.get("time").asText()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}Z");
        assertThat(e.get("server").asText()).isEqualTo(server);
        assertThat(e.get("port").asInt()).isEqualTo(53);
        assertThat(e.get("transport").asText()).isEqualTo(transport);
        assertThat(e.get("rcode").asText()).isEqualTo(rcode);
        assertThat(e.get("latency_ms").asDouble()).isGreaterThan(0).isLessThan(3000);
        assertThat(e.get("id").asInt()).isBetween(0, 65535);
    }

    @Test
    void glibcQueriesAppearOnceEachWithProcessAndAnswer(@TempDir Path dir) throws Exception {
        try (TestDaemon d = daemon(dir, "{ timeout: 2s }")) {
            Prom before = d.metrics();
            DnsLab.Result www = lab.run("getent", "ahosts", "www.lab.test");
            assertThat(www.output()).contains(DnsLab.WWW_V4).contains(DnsLab.WWW_V6);
            DnsLab.Result nx = lab.run("getent", "ahosts", "nx.lab.test");
            assertThat(nx.exit()).as("getent fails for NXDOMAIN").isNotZero();
            DnsLab.Result v6 = lab.run6("getent", "ahosts", "www.lab.test");
            assertThat(v6.output()).contains(DnsLab.WWW_V4);

            List<JsonNode> wwwLines = d.awaitEvents("dns", www.pid(), 2, Duration.ofSeconds(10));
            JsonNode a = only(wwwLines, "www.lab.test", "A");
            assertAnswered(a, "getent", "127.0.0.1", "udp", "NOERROR");
            assertThat(a.get("answers").asInt()).isEqualTo(1);
            assertThat(a.get("addresses")).extracting(JsonNode::asText).containsExactly(DnsLab.WWW_V4);
            JsonNode aaaa = only(wwwLines, "www.lab.test", "AAAA");
            assertAnswered(aaaa, "getent", "127.0.0.1", "udp", "NOERROR");
            assertThat(aaaa.get("addresses")).extracting(JsonNode::asText).containsExactly(DnsLab.WWW_V6);
            assertThat(wwwLines).hasSize(2);

            List<JsonNode> nxLines = d.awaitEvents("dns", nx.pid(), 2, Duration.ofSeconds(10));
            assertAnswered(only(nxLines, "nx.lab.test", "A"), "getent", "127.0.0.1", "udp", "NXDOMAIN");
            assertAnswered(only(nxLines, "nx.lab.test", "AAAA"), "getent", "127.0.0.1", "udp", "NXDOMAIN");
            assertThat(nxLines).hasSize(2);

            List<JsonNode> v6Lines = d.awaitEvents("dns", v6.pid(), 2, Duration.ofSeconds(10));
            assertAnswered(only(v6Lines, "www.lab.test", "A"), "getent", "::1", "udp", "NOERROR");
            assertAnswered(only(v6Lines, "www.lab.test", "AAAA"), "getent", "::1", "udp", "NOERROR");
            assertThat(v6Lines).hasSize(2);

            Prom after = d.metrics();
            assertThat(after.get("bpfwatch_dns_queries_total{qtype=\"AAAA\",transport=\"udp\"}")
                    - before.get("bpfwatch_dns_queries_total{qtype=\"AAAA\",transport=\"udp\"}")).isGreaterThanOrEqualTo(3);
            assertThat(after.get("bpfwatch_dns_responses_total{rcode=\"NXDOMAIN\"}")
                    - before.get("bpfwatch_dns_responses_total{rcode=\"NXDOMAIN\"}")).isGreaterThanOrEqualTo(2);
            assertThat(after.get("bpfwatch_dns_latency_seconds_count")).isGreaterThanOrEqualTo(6);
            assertThat(after.get("bpfwatch_dns_latency_seconds_bucket{le=\"10.0\"}")).isGreaterThanOrEqualTo(6);
            assertThat(after.text()).doesNotContain("qname=").doesNotContain("pid=");
        }
    }

    @Test
    void digOverUdpAndTcpOnBothFamilies(@TempDir Path dir) throws Exception {
        try (TestDaemon d = daemon(dir, "{ timeout: 2s }")) {
            DnsLab.Result udp = lab.run("dig", "+tries=1", "+time=2", "@127.0.0.1", "www.lab.test", "A");
            DnsLab.Result tcp = lab.run("dig", "+tcp", "+tries=1", "+time=2", "@127.0.0.1", "lab.test", "MX");
            DnsLab.Result udp6 = lab.run("dig", "+tries=1", "+time=2", "@::1", "www.lab.test", "AAAA");
            DnsLab.Result tcp6 = lab.run("dig", "+tcp", "+tries=1", "+time=2", "@::1", "txt.lab.test", "TXT");
            DnsLab.Result nx = lab.run("dig", "+tcp", "+tries=1", "+time=2", "@127.0.0.1", "nope.lab.test", "A");
            for (DnsLab.Result r : List.of(udp, tcp, udp6, tcp6, nx)) assertThat(r.output()).contains("status:");

            JsonNode e = only(d.awaitEvents("dns", udp.pid(), 1, Duration.ofSeconds(10)), "www.lab.test", "A");
            assertAnswered(e, "dig", "127.0.0.1", "udp", "NOERROR");
            assertThat(e.get("addresses")).extracting(JsonNode::asText).containsExactly(DnsLab.WWW_V4);

            e = only(d.awaitEvents("dns", tcp.pid(), 1, Duration.ofSeconds(10)), "lab.test", "MX");
            assertAnswered(e, "dig", "127.0.0.1", "tcp", "NOERROR");
            assertThat(e.get("answers").asInt()).isEqualTo(1);

            e = only(d.awaitEvents("dns", udp6.pid(), 1, Duration.ofSeconds(10)), "www.lab.test", "AAAA");
            assertAnswered(e, "dig", "::1", "udp", "NOERROR");
            assertThat(e.get("addresses")).extracting(JsonNode::asText).containsExactly(DnsLab.WWW_V6);

            e = only(d.awaitEvents("dns", tcp6.pid(), 1, Duration.ofSeconds(10)), "txt.lab.test", "TXT");
            assertAnswered(e, "dig", "::1", "tcp", "NOERROR");

            e = only(d.awaitEvents("dns", nx.pid(), 1, Duration.ofSeconds(10)), "nope.lab.test", "A");
            assertAnswered(e, "dig", "127.0.0.1", "tcp", "NXDOMAIN");
            for (DnsLab.Result r : List.of(udp, tcp, udp6, tcp6, nx)) assertThat(d.events("dns", r.pid())).hasSize(1);
        }
    }

    @Test
    void everySystemCallPathIsSeen(@TempDir Path dir) throws Exception {
        try (TestDaemon d = daemon(dir, "{ timeout: 2s }")) {
            String[][] cases = {
                {"sendto", "127.0.0.1", "udp"}, {"connected", "127.0.0.1", "udp"}, {"write", "::1", "udp"},
                {"sendmsg", "::1", "udp"}, {"vector", "127.0.0.1", "udp"},
            };
            int id = 4000;
            for (String[] c : cases) {
                DnsLab.Result r = lab.python("query", c[0], c[1], "53", "www.lab.test", "A", Integer.toString(++id));
                assertThat(r.output()).as(c[0]).startsWith(id + " 0 1");
                JsonNode e = only(d.awaitEvents("dns", r.pid(), 1, Duration.ofSeconds(10)), "www.lab.test", "A");
                assertAnswered(e, "python3", c[1], c[2], "NOERROR");
                assertThat(e.get("id").asInt()).as(c[0]).isEqualTo(id);
                assertThat(d.events("dns", r.pid())).as(c[0]).hasSize(1);
            }
            // over TCP: a length prefix sent apart from its query, then two queries in one send
            DnsLab.Result r = lab.python("query", "tcp", "127.0.0.1", "53", "nx.lab.test", "AAAA", "7000");
            assertThat(r.output().lines()).containsExactly("7000 3 0", "7001 3 0", "7002 3 0");
            List<JsonNode> lines = d.awaitEvents("dns", r.pid(), 3, Duration.ofSeconds(10));
            assertThat(lines).hasSize(3);
            assertThat(lines).extracting(l -> l.get("id").asInt()).containsExactlyInAnyOrder(7000, 7001, 7002);
            for (JsonNode l : lines) assertAnswered(l, "python3", "127.0.0.1", "tcp", "NXDOMAIN");
        }
    }

    /**
     * A socket connected before the monitor started: the socket layer reads the server from the
     * socket and sees its query; the system-call tracepoints never saw its connect() and do not
     * (the README lists it under what they cannot see).
     */
    @Test
    void aSocketConnectedBeforeTheMonitorStartedIsSeenOnTheSocketLayerOnly(@TempDir Path dir) throws Exception {
        Path go = dir.resolve("go");
        Process client = lab.spawn(DnsLab.PYTHON, DnsLab.script().toString(), "early", "127.0.0.1", "53", "early.lab.test", "A", "4321",
                go.toString());
        try (BufferedReader out = new BufferedReader(new InputStreamReader(client.getInputStream(), StandardCharsets.UTF_8))) {
            assertThat(out.readLine()).isEqualTo("connected");
            try (TestDaemon d = daemon(Files.createDirectories(dir.resolve("daemon")), "{ timeout: 2s }")) {
                Files.writeString(go, "");
                assertThat(out.readLine()).as("the answer").startsWith("4321 ");
                assertThat(client.waitFor(30, TimeUnit.SECONDS)).isTrue();
                if (expectedStrategy().startsWith("fentry")) {
                    JsonNode e = only(d.awaitEvents("dns", client.pid(), 1, Duration.ofSeconds(10)), "early.lab.test", "A");
                    assertThat(e.get("event").asText()).isEqualTo("answered");
                    assertThat(e.get("server").asText()).isEqualTo("127.0.0.1");
                    assertThat(e.get("comm").asText()).isEqualTo("python3");
                    assertThat(e.get("id").asInt()).isEqualTo(4321);
                } else {
                    d.drain("dns");
                    assertThat(d.events("dns", client.pid())).isEmpty();
                }
            }
        } finally {
            client.destroyForcibly();
        }
    }

    @Test
    void aQueryToASilentServerTimesOutAndEncryptedDnsIsAConnection(@TempDir Path dir) throws Exception {
        try (TestDaemon d = daemon(dir, "{ timeout: 1s }")) {
            DnsLab.Result silent = lab.run("dig", "+tries=1", "+time=1", "@127.0.0.2", "www.lab.test", "A");
            assertThat(silent.output()).contains("timed out");
            List<JsonNode> lines = d.awaitEvents("dns", silent.pid(), 1, Duration.ofSeconds(10));
            JsonNode e = only(lines, "www.lab.test", "A");
            assertThat(e.get("event").asText()).isEqualTo("timeout");
            assertThat(e.get("server").asText()).isEqualTo("127.0.0.2");
            assertThat(e.get("transport").asText()).isEqualTo("udp");
            assertThat(e.has("rcode")).isFalse();
            assertThat(e.has("latency_ms")).isFalse();
            assertThat(d.metrics().get("bpfwatch_dns_timeouts_total")).isGreaterThanOrEqualTo(1);

            DnsLab.Result tls = lab.python("connect", "127.0.0.1", "853");
            JsonNode c = d.awaitEvents("dns", tls.pid(), 1, Duration.ofSeconds(10)).get(0);
            assertThat(c.get("event").asText()).isEqualTo("connect");
            assertThat(c.get("transport").asText()).isEqualTo("tls");
            assertThat(c.get("server").asText()).isEqualTo("127.0.0.1");
            assertThat(c.get("port").asInt()).isEqualTo(853);
            assertThat(c.get("comm").asText()).isEqualTo("python3");
            assertThat(c.has("qname")).isFalse();
            assertThat(d.events("dns", tls.pid())).hasSize(1);
            assertThat(d.metrics().get("bpfwatch_dns_tls_connections_total")).isGreaterThanOrEqualTo(1);
        }
    }

    @Test
    void queriesStillWaitingAreWrittenWhenTheMonitorStops(@TempDir Path dir) throws Exception {
        TestDaemon d = daemon(dir, "{ timeout: 5m }");
        long pid;
        try {
            pid = lab.run("dig", "+tries=1", "+time=1", "@127.0.0.2", "wait.lab.test", "TXT").pid();
            TestDaemon.await("the query to be pending", Duration.ofSeconds(10), () -> d.metrics().get("bpfwatch_dns_pending") >= 1);
            assertThat(d.events("dns", pid)).isEmpty();
        } finally {
            d.close();
        }
        List<JsonNode> lines = new ArrayList<>();
        for (String l : Files.readAllLines(dir.resolve("logs/dns.log"))) {
            JsonNode n = JSON.readTree(l);
            if (n.get("pid").asLong() == pid) lines.add(n);
        }
        assertThat(only(lines, "wait.lab.test", "TXT").get("event").asText()).isEqualTo("unanswered");
    }

    /**
     * Ten seconds of queries as fast as one process sends them: every query sent is either a
     * line in the log or counted as lost, and the daemon keeps running. The flood goes to a
     * port only this test watches, so the counters are the flood's alone.
     */
    @Test
    void aTenSecondFloodIsFullyAccountedFor(@TempDir Path dir) throws Exception {
        // big enough that the log does not rotate during the flood: every line stays in dns.log
        String yaml = "logs:\n  dir: " + dir.resolve("logs") + "\n  rotate: { max-size: 4GiB, keep: 1, compress: false }\n"
                + "monitors:\n  dns: " + section("{ ports: [" + DnsLab.FLOOD_PORT + "], timeout: 1s }") + "\n";
        try (TestDaemon d = started(new TestDaemon(dir, yaml))) {
            Path count = dir.resolve("sent");
            DnsLab.Result r = lab.python("flood", "127.0.0.1", Integer.toString(DnsLab.FLOOD_PORT), "10", count.toString());
            assertThat(r.exit()).as(r.output()).isZero();
            String[] counts = Files.readString(count).trim().split(" ");
            long sent = Long.parseLong(counts[0]), received = Long.parseLong(counts[1]);
            assertThat(sent).isGreaterThan(10_000);
            TestDaemon.await("every flood query answered, timed out or lost", Duration.ofSeconds(60), () -> {
                Prom m = d.metrics();
                return m.get("bpfwatch_dns_pending") == 0 && m.get("bpfwatch_events_total{monitor=\"dns\"}")
                        + m.get("bpfwatch_events_lost_total{monitor=\"dns\",stage=\"kernel\"}")
                        + m.get("bpfwatch_events_lost_total{monitor=\"dns\",stage=\"queue\"}") >= sent;
            });
            d.drain("dns");
            Prom m = d.metrics();
            double events = m.get("bpfwatch_events_total{monitor=\"dns\"}");
            double kernel = m.get("bpfwatch_events_lost_total{monitor=\"dns\",stage=\"kernel\"}");
            double queue = m.get("bpfwatch_events_lost_total{monitor=\"dns\",stage=\"queue\"}");
            double write = m.get("bpfwatch_events_lost_total{monitor=\"dns\",stage=\"write\"}");
            double decode = m.get("bpfwatch_events_lost_total{monitor=\"dns\",stage=\"decode\"}");
            List<String> lines = d.lines("dns");
            long answered = lines.stream().filter(l -> l.contains("\"event\":\"answered\"")).count();
            long timeouts = lines.stream().filter(l -> l.contains("\"event\":\"timeout\"")).count();
            System.out.printf("dns flood: %d queries in 10 s, %d responses read; %.0f events (%d answered, %d timeouts), lost: kernel %.0f, queue %.0f, write %.0f, decode %.0f;"
                            + " responses lost %.0f, unmatched responses %.0f, pending overflow %.0f%n",
                    sent, received, events, answered, timeouts, kernel, queue, write, decode, m.get("bpfwatch_dns_responses_lost_total"),
                    m.get("bpfwatch_dns_unmatched_responses_total"), m.get("bpfwatch_dns_pending_overflow_total"));
            assertThat(d.state("dns")).isEqualTo(MonitorState.RUNNING);
            assertThat(m.get("bpfwatch_monitor_restarts_total{monitor=\"dns\"}")).isZero();
            assertThat(events + kernel + queue).isEqualTo((double) sent);
            assertThat(decode).isZero();
            assertThat((double) lines.size()).isEqualTo(events - write);
            assertThat(d.events("dns", r.pid())).hasSize(lines.size());
            assertThat(answered + timeouts).as("every line is an answer or a timeout").isEqualTo(lines.size());
            assertThat(answered).as("the server kept up with most of it").isGreaterThan(sent / 2);
            // every response the client read answered a query, or came too late and is counted
            assertThat(answered + m.get("bpfwatch_dns_unmatched_responses_total")).isEqualTo((double) received);
            assertThat(m.get("bpfwatch_dns_queries_total{qtype=\"A\",transport=\"udp\"}")).isEqualTo((double) sent - kernel);
        }
    }
}
