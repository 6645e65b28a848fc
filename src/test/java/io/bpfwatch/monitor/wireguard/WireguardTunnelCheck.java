package io.bpfwatch.monitor.wireguard;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bpfwatch.monitor.MonitorState;
import io.bpfwatch.supervise.MonitorStatus;
import io.bpfwatch.testkit.Cmd;
import io.bpfwatch.testkit.Prom;
import io.bpfwatch.testkit.RequiresBpf;
import io.bpfwatch.testkit.RequiresKernel.Feature;
import io.bpfwatch.testkit.RequiresKernel;
import io.bpfwatch.testkit.TestDaemon;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.bpfwatch.testkit.TestDaemon.await;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The wireguard monitor on a kernel with WireGuard (the test VM's Debian 6.1: make test-vm,
 * vm/suite.txt). It loads and unloads the wireguard module, so it is not named *Test: surefire
 * never runs it on a development machine whose tunnels that would cut. Real tunnels between
 * two network namespaces (WgLab), real pings through them, the real logs and metrics.
 */
@RequiresBpf
class WireguardTunnelCheck {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static Cmd.Result modprobe(String... args) {
        List<String> cmd = new ArrayList<>(List.of("modprobe"));
        cmd.addAll(List.of(args));
        cmd.add("wireguard");
        return Cmd.run(Duration.ofSeconds(60), null, null, cmd);
    }

    private static boolean loaded() {
        return java.nio.file.Files.isDirectory(Path.of("/sys/module/wireguard"));
    }

    private static List<JsonNode> events(TestDaemon d, Predicate<JsonNode> which) {
        List<JsonNode> out = new ArrayList<>();
        try {
            d.drain("wireguard");
            for (String l : d.lines("wireguard")) {
                JsonNode n = JSON.readTree(l);
                if (which.test(n)) out.add(n);
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        return out;
    }

    private static Predicate<JsonNode> event(String event, String iface, String peer) {
        return n -> n.path("event").asText().equals(event) && n.path("interface").asText().equals(iface) && n.path("peer").asText().equals(peer);
    }

    /** The bucket values of one series, in le order, checked to be a valid cumulative histogram. */
    private static List<Double> buckets(String scrape, String metric, String iface, String peer) {
        List<Double> les = new ArrayList<>(), counts = new ArrayList<>();
        Matcher m = Pattern.compile(metric + "_bucket\\{interface=\"" + Pattern.quote(iface) + "\",peer=\"" + Pattern.quote(peer)
                + "\",le=\"([^\"]+)\",?} (\\S+)").matcher(scrape);
        while (m.find()) {
            les.add(m.group(1).equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(m.group(1)));
            counts.add(Double.parseDouble(m.group(2)));
        }
        assertThat(les).as(metric + " buckets of " + iface + "/" + peer).isNotEmpty().isSorted();
        assertThat(counts).as("cumulative").isSorted();
        return counts;
    }

    @Test
    @RequiresKernel(Feature.FENTRY)
    void startedBeforeTheModuleItAttachesOnceLoadedAndMeasuresEachPeer(@TempDir Path dir) throws Exception {
        if (loaded()) assertThat(modprobe("-r").exit()).as("modprobe -r wireguard (nothing else may hold it)").isZero();
        String peerLabels;
        try (TestDaemon d = new TestDaemon(dir, TestDaemon.yaml(dir, "  tcp: {}\n  wireguard: { interval: 2s }\n"))) {
            assertThat(d.state("wireguard")).isEqualTo(MonitorState.UNAVAILABLE);
            assertThat(d.status("wireguard").lastError()).contains("wireguard module is not loaded");
            assertThat(d.state("tcp")).as("the others run").isEqualTo(MonitorState.RUNNING);

            long t0 = System.nanoTime();
            assertThat(modprobe().exit()).isZero();
            await("wireguard running after modprobe", Duration.ofSeconds(20), () -> d.state("wireguard") == MonitorState.RUNNING);
            System.out.printf("wireguard attached %.1f s after modprobe%n", (System.nanoTime() - t0) / 1e9);
            long p0 = System.nanoTime();
            assertThat(new WireguardMonitorType().probe(io.bpfwatch.kernel.Kernel.system(), WireguardSettings.DEFAULT))
                    .isInstanceOf(io.bpfwatch.monitor.Availability.Supported.class);
            System.out.printf("a first probe of the loaded module (BTF and traceable functions read) took %.1f s%n", (System.nanoTime() - p0) / 1e9);
            assertThat(d.status("wireguard").attachPoints()).contains("fentry/encrypt_packet", "fexit/encrypt_packet",
                    "fexit/decrypt_packet", "fexit/wg_socket_send_skb_to_peer", "fentry/wg_timers_handshake_initiated",
                    "fentry/wg_timers_handshake_complete", "fentry/peer_remove_after_dead");

            try (WgLab lab = new WgLab(dir).up(false, false)) {
                // b is down: a's first initiation goes unanswered, its retransmission 5 s later is answered
                lab.ping(lab.a, "198.51.100.2", 1, 1);
                await("a's first initiation", Duration.ofSeconds(10),
                        () -> !events(d, event("handshake_initiated", "wga", lab.pubB)).isEmpty());
                lab.bringUpB();
                await("the handshake, completed on both sides", Duration.ofSeconds(20),
                        () -> !events(d, event("handshake_completed", "wga", lab.pubB)).isEmpty()
                                && !events(d, event("handshake_completed", "wgb", lab.pubA)).isEmpty());
                String pingAb = lab.ping(lab.a, "198.51.100.2", 20, 0.05);
                String pingBa = lab.ping(lab.b, "198.51.100.1", 10, 0.05);
                assertThat(pingAb).contains("20 received");
                assertThat(pingBa).contains("10 received");

                List<JsonNode> initiated = events(d, event("handshake_initiated", "wga", lab.pubB));
                assertThat(initiated.get(0).get("retry").asInt()).isZero();
                assertThat(initiated).anySatisfy(n -> assertThat(n.get("retry").asInt()).isGreaterThanOrEqualTo(1));
                assertThat(initiated).allSatisfy(n -> assertThat(n.get("endpoint").asText()).isEqualTo(WgLab.ENDPOINT_B));
                JsonNode doneA = events(d, event("handshake_completed", "wga", lab.pubB)).get(0);
                assertThat(doneA.get("role").asText()).isEqualTo("initiator");
                assertThat(doneA.get("retries").asInt()).isGreaterThanOrEqualTo(1);
                JsonNode doneB = events(d, event("handshake_completed", "wgb", lab.pubA)).get(0);
                assertThat(doneB.get("role").asText()).isEqualTo("responder");
                assertThat(doneB.get("endpoint").asText()).isEqualTo(WgLab.ENDPOINT_A);

                String scrape = d.metrics().text();
                Prom m = new Prom(scrape);
                String ab = "interface=\"wga\",peer=\"" + lab.pubB + "\"";
                String ba = "interface=\"wgb\",peer=\"" + lab.pubA + "\"";
                // a encrypted its 20 requests and 10 replies for b; b decrypted them; and the other way round
                assertThat(m.get("bpfwatch_wireguard_encrypt_seconds_count{" + ab + "}")).isGreaterThanOrEqualTo(30);
                assertThat(m.get("bpfwatch_wireguard_decrypt_seconds_count{" + ba + "}")).isGreaterThanOrEqualTo(30);
                assertThat(m.get("bpfwatch_wireguard_encrypt_seconds_count{" + ba + "}")).isGreaterThanOrEqualTo(30);
                assertThat(m.get("bpfwatch_wireguard_decrypt_seconds_count{" + ab + "}")).isGreaterThanOrEqualTo(30);
                assertThat(m.get("bpfwatch_wireguard_encrypt_seconds_sum{" + ab + "}")).isPositive();
                for (String[] s : new String[][] {{"wga", lab.pubB}, {"wgb", lab.pubA}}) {
                    for (String metric : List.of("bpfwatch_wireguard_encrypt_seconds", "bpfwatch_wireguard_decrypt_seconds")) {
                        List<Double> c = buckets(scrape, metric, s[0], s[1]);
                        assertThat(c.get(c.size() - 1)).as("+Inf is _count")
                                .isEqualTo(m.get(metric + "_count{interface=\"" + s[0] + "\",peer=\"" + s[1] + "\"}"));
                    }
                }
                assertThat(m.get("bpfwatch_wireguard_peers")).isEqualTo(2);
                assertThat(m.get("bpfwatch_wireguard_handshakes_total{interface=\"wga\",event=\"retried\"}")).isGreaterThanOrEqualTo(1);
                assertThat(m.get("bpfwatch_wireguard_handshakes_total{interface=\"wgb\",event=\"completed\"}")).isGreaterThanOrEqualTo(1);

                // bytes are what WireGuard itself counts (`wg show transfer`), handshakes included
                await("transfer equal to wg show", Duration.ofSeconds(15), () -> {
                    Prom now = d.metrics();
                    long[] a = lab.transfer(lab.a, "wga").get(lab.pubB);
                    long[] b = lab.transfer(lab.b, "wgb").get(lab.pubA);
                    return now.get("bpfwatch_wireguard_transfer_bytes_total{" + ab + ",direction=\"received\"}") == a[0]
                            && now.get("bpfwatch_wireguard_transfer_bytes_total{" + ab + ",direction=\"sent\"}") == a[1]
                            && now.get("bpfwatch_wireguard_transfer_bytes_total{" + ba + ",direction=\"received\"}") == b[0]
                            && now.get("bpfwatch_wireguard_transfer_bytes_total{" + ba + ",direction=\"sent\"}") == b[1];
                });
                assertThat(m.get("bpfwatch_wireguard_packets_total{" + ab + ",direction=\"sent\"}")).isGreaterThanOrEqualTo(32);

                // every interval, one summary per active peer
                await("a summary of a's traffic to b", Duration.ofSeconds(10),
                        () -> events(d, event("summary", "wga", lab.pubB)).stream().anyMatch(n -> n.get("encrypt_count").asLong() > 0));
                JsonNode sum = events(d, event("summary", "wga", lab.pubB)).stream()
                        .filter(n -> n.get("encrypt_count").asLong() > 0).findFirst().orElseThrow();
                assertThat(sum.get("endpoint").asText()).isEqualTo(WgLab.ENDPOINT_B);
                assertThat(sum.get("pid").asInt()).isZero();
                double p50 = sum.get("encrypt_p50_us").asDouble(), p99 = sum.get("encrypt_p99_us").asDouble(),
                        max = sum.get("encrypt_max_us").asDouble();
                assertThat(p50).isPositive().isLessThanOrEqualTo(p99);
                assertThat(p99).isLessThanOrEqualTo(max);
                assertThat(sum.get("interval_s").asDouble()).isBetween(1.0, 10.0);
                peerLabels = ab;
                for (String kind : List.of("handshake_initiated", "handshake_completed")) {
                    System.out.println(JSON.writeValueAsString(events(d, n -> n.path("event").asText().equals(kind)).get(0)));
                }
                System.out.println(JSON.writeValueAsString(sum));
                for (String line : scrape.split("\n")) {
                    if (line.contains("wga") && (line.contains("encrypt_seconds") || line.contains("transfer_bytes"))) System.out.println(line);
                }

                // fentry pins the module: rmmod is refused while the monitor runs, and nothing breaks
                Cmd.Result rmmod = Cmd.run("rmmod", "wireguard");
                assertThat(rmmod.exit()).as("rmmod under fentry").isNotZero();
                assertThat(rmmod.out() + rmmod.err()).contains("in use");
                assertThat(d.state("wireguard")).isEqualTo(MonitorState.RUNNING);
                assertThat(new Prom(d.metrics().text()).get("bpfwatch_wireguard_encrypt_seconds_count{" + peerLabels + "}")).isPositive();
            }
        }
        // with the daemon gone the module unloads, then stays loaded for what runs next
        Cmd.Result rmmod = Cmd.run("rmmod", "wireguard");
        assertThat(rmmod.exit()).as(rmmod.out() + rmmod.err()).isZero();
        assertThat(modprobe().exit()).isZero();
    }

    @Test
    @RequiresKernel(Feature.KPROBES)
    void withKprobesTheModuleCanGoAndComeBackAndExtraPeersAreOther(@TempDir Path dir) throws Exception {
        if (!loaded()) assertThat(modprobe().exit()).isZero();
        try (TestDaemon d = new TestDaemon(dir, TestDaemon.yaml(dir, "  wireguard: { attach: kprobe, max-peers: 2 }\n"))) {
            assertThat(d.state("wireguard")).isEqualTo(MonitorState.RUNNING);
            assertThat(d.status("wireguard").attachPoints()).contains("kprobe/wireguard:encrypt_packet", "kretprobe/wireguard:encrypt_packet",
                    "kretprobe/wireguard:wg_noise_handshake_consume_initiation", "kprobe/wireguard:wg_timers_handshake_complete");

            try (WgLab lab = new WgLab(dir).up(true, true)) {
                assertThat(lab.ping(lab.a, "198.51.100.2", 5, 0.1)).contains("5 received");
                lab.ping(lab.a, "198.51.100.3", 1, 1); // C never answers: one initiation sent
                await("the initiation to c", Duration.ofSeconds(10), () -> !events(d, event("handshake_initiated", "wga", lab.pubC)).isEmpty());
                assertThat(events(d, event("handshake_initiated", "wga", lab.pubC)).get(0).get("endpoint").asText()).isEqualTo(WgLab.ENDPOINT_C);

                Prom m = d.metrics();
                String ab = "interface=\"wga\",peer=\"" + lab.pubB + "\"";
                assertThat(m.get("bpfwatch_wireguard_encrypt_seconds_count{" + ab + "}")).isGreaterThanOrEqualTo(5);
                assertThat(m.get("bpfwatch_wireguard_decrypt_seconds_count{" + ab + "}")).isGreaterThanOrEqualTo(5);
                assertThat(m.get("bpfwatch_wireguard_decrypt_seconds_count{interface=\"wgb\",peer=\"" + lab.pubA + "\"}")).isGreaterThanOrEqualTo(5);
                // max-peers 2: b on wga and a on wgb were first; c's initiation counts as wga's "other"
                assertThat(m.get("bpfwatch_wireguard_peers")).isEqualTo(2);
                assertThat(m.has("bpfwatch_wireguard_packets_total{interface=\"wga\",peer=\"" + lab.pubC + "\",direction=\"sent\"}")).isFalse();
                assertThat(m.get("bpfwatch_wireguard_packets_total{interface=\"wga\",peer=\"other\",direction=\"sent\"}")).isGreaterThanOrEqualTo(1);
                assertThat(m.get("bpfwatch_wireguard_transfer_bytes_total{interface=\"wga\",peer=\"other\",direction=\"sent\"}"))
                        .as("one 148-byte initiation at least").isGreaterThanOrEqualTo(148);
                assertThat(m.get("bpfwatch_wireguard_dropped_samples_total")).isZero();
            }

            // kprobes do not pin the module: it unloads, and the monitor notices within a second or two
            assertThat(modprobe("-r").exit()).as("modprobe -r wireguard under kprobes").isZero();
            long t0 = System.nanoTime();
            await("wireguard unavailable", Duration.ofSeconds(15), () -> d.state("wireguard") == MonitorState.UNAVAILABLE);
            System.out.printf("wireguard unavailable %.1f s after rmmod%n", (System.nanoTime() - t0) / 1e9);
            assertThat(d.status("wireguard").lastError()).contains("wireguard module is not loaded");
            assertThat(d.metrics().text()).doesNotContain("bpfwatch_wireguard_encrypt_seconds");
            assertThat(d.metrics().get("bpfwatch_monitor_restarts_total{monitor=\"wireguard\"}")).as("not a failure").isZero();

            assertThat(modprobe().exit()).isZero();
            await("wireguard running again", Duration.ofSeconds(20), () -> d.state("wireguard") == MonitorState.RUNNING);

            // unloaded and loaded again faster than any re-probe: the old kprobes are dead, a new instance attaches
            Instant before = d.status("wireguard").since();
            assertThat(modprobe("-r").exit()).isZero();
            assertThat(modprobe().exit()).isZero();
            await("a new instance on the new module", Duration.ofSeconds(10),
                    () -> {
                        // one snapshot: state and since read apart could pair the old instance's
                        // RUNNING with the new one's since while it is still starting
                        MonitorStatus st = d.status("wireguard");
                        return st.state() == MonitorState.RUNNING && st.since().isAfter(before);
                    });
            try (WgLab lab = new WgLab(dir).up(true, false)) {
                assertThat(lab.ping(lab.a, "198.51.100.2", 3, 0.1)).contains("3 received");
                await("encryptions counted by the new instance", Duration.ofSeconds(15), () -> d.metrics()
                        .get("bpfwatch_wireguard_encrypt_seconds_count{interface=\"wga\",peer=\"" + lab.pubB + "\"}") >= 3);
                Map<String, long[]> t = lab.transfer(lab.a, "wga");
                assertThat(t.get(lab.pubB)[1]).isPositive();
            }
            assertThat(d.metrics().get("bpfwatch_monitor_restarts_total{monitor=\"wireguard\"}")).isZero();
        }
    }
}
