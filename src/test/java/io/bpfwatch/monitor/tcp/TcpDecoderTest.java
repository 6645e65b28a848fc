package io.bpfwatch.monitor.tcp;

import io.bpfwatch.event.EventHeader;
import io.bpfwatch.monitor.Decoder;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HexFormat;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Decoding tcp_event records laid out byte for byte as tcp.bpf.c writes them (little-endian x86_64). */
class TcpDecoderTest {
    // A connect from bash (pid 4513) to 127.0.0.1:4444; values from a real run, timestamp arbitrary.
    private static final String IPV4_RECORD =
            "d2ad4a1e4f0f0000" + "a1110000" + "a1110000" + "00000000" + "01000000" + "6261736800000000" + "0000000000000000"
            + "0200" + "5ad7" + "5c11" + "0100"
            + "7f000001000000000000000000000000" + "7f000001000000000000000000000000";
    // python3 (pid 4514) to [::1]:31337
    private static final String IPV6_RECORD =
            "11d64a1e4f0f0000" + "a2110000" + "a2110000" + "00000000" + "01000000" + "707974686f6e3300" + "0000000000000000"
            + "0a00" + "d0c5" + "697a" + "0100"
            + "00000000000000000000000000000001" + "00000000000000000000000000000001";

    /**
     * The recorded bytes were taken before struct bw_header grew its context part (40 bytes after
     * comm): they are put back in the current layout with that part zero (no context asked for).
     */
    private static ByteBuffer record(String hex) {
        byte[] old = HexFormat.of().parseHex(hex);
        byte[] now = new byte[old.length + EventHeader.SIZE - 40];
        System.arraycopy(old, 0, now, 0, 40);
        System.arraycopy(old, 40, now, EventHeader.SIZE, old.length - 40);
        return ByteBuffer.wrap(now).order(ByteOrder.LITTLE_ENDIAN);
    }

    private final TcpDecoder decoder = new TcpDecoder(new EventHeader(), new TcpAlertRules(TcpSettings.DEFAULT));

    @Test
    void ipv4Record() throws Exception {
        TcpEvent e = decoder.decode(record(IPV4_RECORD), 0, TcpDecoder.SIZE);
        assertThat(e.pid).isEqualTo(4513);
        assertThat(e.uid).isZero();
        assertThat(e.comm).isEqualTo("bash");
        assertThat(e.ipv6).isFalse();
        assertThat(e.saddr()).isEqualTo("127.0.0.1");
        assertThat(e.daddr()).isEqualTo("127.0.0.1");
        assertThat(e.sport).isEqualTo(55130);
        assertThat(e.dport).isEqualTo(4444);
        assertThat(e.rules).containsExactly("port:4444");
    }

    @Test
    void ipv6Record() throws Exception {
        TcpEvent e = decoder.decode(record(IPV6_RECORD), 0, TcpDecoder.SIZE);
        assertThat(e.comm).isEqualTo("python3");
        assertThat(e.ipv6).isTrue();
        assertThat(e.saddr()).isEqualTo("::1");
        assertThat(e.daddr()).isEqualTo("::1");
        assertThat(e.sport).isEqualTo(50640);
        assertThat(e.dport).isEqualTo(31337);
        assertThat(e.rules).containsExactly("port:31337");
    }

    @Test
    void ipv4MappedAddressesOfDualStackSocketsAreReportedAsIpv4() throws Exception {
        String mapped = IPV6_RECORD.substring(0, 96)
                + "00000000000000000000ffff0a000001" + "00000000000000000000ffffcb007105";
        TcpDecoder d = new TcpDecoder(new EventHeader(), new TcpAlertRules(new TcpSettings(List.of(), List.of(io.bpfwatch.config.Cidr.parse("203.0.113.0/24")), List.of())));
        TcpEvent e = d.decode(record(mapped), 0, TcpDecoder.SIZE);
        assertThat(e.ipv6).isFalse();
        assertThat(e.saddr()).isEqualTo("10.0.0.1");
        assertThat(e.daddr()).isEqualTo("203.0.113.5");
        assertThat(e.rules).containsExactly("network:203.0.113.0/24");
    }

    @Test
    void topRanksDestinationsByNameAddressAndPort() throws Exception {
        TcpEvent v4 = decoder.decode(record(IPV4_RECORD), 0, TcpDecoder.SIZE);
        TcpEvent v6 = decoder.decode(record(IPV6_RECORD), 0, TcpDecoder.SIZE);
        List<String> keys = new java.util.ArrayList<>();
        io.bpfwatch.event.Event.Tally t = (category, key, weight) -> keys.add(category + "|" + key);
        for (int i = 0; i < 2; i++) { // the second time from the cache of keys: the same text
            v4.tally(t);
            v6.tally(t);
            v4.named("db.example.com", List.of()).tally(t);
            v6.named("db.example.com", List.of()).tally(t);
        }
        assertThat(keys).containsExactly(
                "destinations|127.0.0.1:4444", "alerting|bash[4513] port:4444",
                "destinations|[::1]:31337", "alerting|python3[4514] port:31337",
                "destinations|db.example.com 127.0.0.1:4444",
                "destinations|db.example.com [::1]:31337",
                "destinations|127.0.0.1:4444", "alerting|bash[4513] port:4444",
                "destinations|[::1]:31337", "alerting|python3[4514] port:31337",
                "destinations|db.example.com 127.0.0.1:4444",
                "destinations|db.example.com [::1]:31337");
    }

    @Test
    void malformedRecordsAreRefusedWithAReason() {
        assertThatThrownBy(() -> decoder.decode(record(IPV4_RECORD), 0, 79)).isInstanceOf(Decoder.Refused.class)
                .hasMessage("tcp record of 79 bytes, expected " + TcpDecoder.SIZE);
        String badFamily = IPV4_RECORD.substring(0, 80) + "1100" + IPV4_RECORD.substring(84);
        assertThatThrownBy(() -> decoder.decode(record(badFamily), 0, TcpDecoder.SIZE)).isInstanceOf(Decoder.Refused.class)
                .hasMessage("tcp record with address family 17");
    }
}
