package io.bpfwatch.monitor.dns;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.bpfwatch.config.ConfigLoader;
import io.bpfwatch.config.DaemonConfig;
import io.bpfwatch.event.JsonLineEncoder;
import io.bpfwatch.monitor.MonitorCatalog;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** monitors.dns in the config file, and the JSON line an event becomes. */
class DnsConfigTest {
    private static DnsSettings parse(String section) throws Exception {
        DaemonConfig c = new ConfigLoader(MonitorCatalog.builtin()).parse("test.yaml", "monitors:\n  dns: " + section + "\n");
        return (DnsSettings) c.monitors().get("dns").settings();
    }

    @Test
    void defaultsWatch53And853WithAFiveSecondTimeout() throws Exception {
        DnsSettings s = parse("{}");
        assertThat(s).isEqualTo(DnsSettings.DEFAULT);
        byte[] kinds = s.portKinds();
        assertThat(kinds[53]).isEqualTo((byte) 1);
        assertThat(kinds[853]).isEqualTo((byte) 2);
        assertThat(kinds[443]).isZero();
    }

    @Test
    void everyKeyIsRead() throws Exception {
        DnsSettings s = parse("{ ports: [53, 5353, 853, 8853], tls-ports: [853, 8853], timeout: 1500ms, max-pending: 1024 }");
        assertThat(s.ports()).containsExactly(53, 5353, 853, 8853);
        assertThat(s.tlsPorts()).containsExactly(853, 8853);
        assertThat(s.timeout()).isEqualTo(Duration.ofMillis(1500));
        assertThat(s.maxPending()).isEqualTo(1024);
        assertThat(parse("{ ports: [53] }").tlsPorts()).as("853 is only TLS when watched").isEmpty();
        assertThat(s.attach()).isEqualTo(DnsSettings.Mode.AUTO);
        assertThat(parse("{ attach: fentry }").attach()).isEqualTo(DnsSettings.Mode.FENTRY);
        assertThat(parse("{ attach: tracepoint }").attach()).isEqualTo(DnsSettings.Mode.TRACEPOINT);
    }

    @Test
    void anUnknownAttachIsAnErrorAtItsPlace() {
        assertThatThrownBy(() -> parse("{ attach: kprobe }"))
                .hasMessageContaining("test.yaml:2:")
                .hasMessageContaining("attach")
                .hasMessageContaining("auto, fentry or tracepoint");
    }

    @Test
    void shippedConfigEnablesDnsWithTheDefaults() throws Exception {
        DaemonConfig c = new ConfigLoader(MonitorCatalog.builtin()).load(Path.of("packaging/bpfwatch.yaml"));
        assertThat(c.monitors().get("dns").enabled()).isTrue();
        assertThat(c.monitors().get("dns").settings()).isEqualTo(DnsSettings.DEFAULT);
    }

    @Test
    void topRanksNamesByTypeAndFailuresByWhy() {
        List<String> keys = new java.util.ArrayList<>();
        io.bpfwatch.event.Event.Tally t = (category, key, weight) -> keys.add(category + "|" + key);
        for (int i = 0; i < 2; i++) { // the second time from the cache of keys: the same text
            DnsEvent ok = new DnsEvent(DnsEvent.Kind.ANSWERED, 0, 7, 0, "curl", null, 0, "example.com", 1, "::1", 53, "udp", 4, null);
            ok.tally(t);
            DnsEvent nx = new DnsEvent(DnsEvent.Kind.ANSWERED, 0, 7, 0, "curl", null, 0, "example.com", 28, "::1", 53, "udp", 5, null);
            nx.rcode = 3;
            nx.tally(t);
            new DnsEvent(DnsEvent.Kind.TIMEOUT, 0, 7, 0, "curl", null, 0, "example.com", 1, "::1", 53, "udp", 6, null).tally(t);
            new DnsEvent(DnsEvent.Kind.UNANSWERED, 0, 7, 0, "dig", null, 0, "odd.test", -1, "::1", 53, "udp", 7, null).tally(t);
            new DnsEvent(DnsEvent.Kind.ANSWERED, 0, 7, 0, "dig", null, 0, null, -1, "::1", 53, "udp", 8, "bad name").tally(t);
        }
        List<String> once = List.of("names|example.com A", "names|example.com AAAA", "failures|example.com AAAA NXDOMAIN",
                "names|example.com A", "failures|example.com A timeout", "names|odd.test ?", "failures|odd.test ? unanswered");
        List<String> twice = new java.util.ArrayList<>(once);
        twice.addAll(once);
        assertThat(keys).containsExactlyElementsOf(twice);
    }

    @Test
    void aLineIsValidJsonWhateverTheName() throws Exception {
        DnsEvent e = new DnsEvent(DnsEvent.Kind.ANSWERED, 1_700_000_000_123_456_789L, 7, 0, "evil\"\n\u0001comm", null, 0,
                "a\\032\\\"\\010.test", 1, "::1", 53, "udp", 4, null);
        e.rcode = 3;
        e.latencyNanos = 1_234_567;
        e.addresses = List.of("192.0.2.1");
        String line = JsonLineEncoder.toLine(e);
        assertThat(line).endsWith("\n").hasLineCount(1);
        JsonNode n = new ObjectMapper().readTree(line);
        assertThat(n.get("event").asText()).isEqualTo("answered");
        assertThat(n.get("comm").asText()).isEqualTo("evil\"\n\u0001comm");
        assertThat(n.get("qname").asText()).isEqualTo("a\\032\\\"\\010.test");
        assertThat(n.get("qtype").asText()).isEqualTo("A");
        assertThat(n.get("rcode").asText()).isEqualTo("NXDOMAIN");
        assertThat(n.get("latency_ms").asDouble()).isEqualTo(1.235);
        assertThat(n.get("addresses").get(0).asText()).isEqualTo("192.0.2.1");
    }
}
