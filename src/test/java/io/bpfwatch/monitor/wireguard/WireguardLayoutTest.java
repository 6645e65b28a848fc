package io.bpfwatch.monitor.wireguard;

import io.bpfwatch.event.EventHeader;
import io.bpfwatch.libbpf.Btf;
import io.bpfwatch.testkit.BpfObjectsForTest;
import io.bpfwatch.testkit.RequiresLibbpf;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The offsets WireguardDecoder and PeerTable state, against the BTF of the compiled wireguard.bpf.o. */
@RequiresLibbpf
class WireguardLayoutTest {
    @Test
    void handshakeEventMatchesBtf() throws Exception {
        try (Btf btf = Btf.ofElf(BpfObjectsForTest.path("wireguard"))) {
            Btf.StructLayout e = btf.struct("wg_handshake_event").orElseThrow();
            assertThat(e.size()).isEqualTo(WireguardDecoder.SIZE);
            assertThat(e.offset("h")).isZero();
            assertThat(btf.struct("bw_header").orElseThrow().size()).isEqualTo(EventHeader.SIZE);
            assertThat(e.offset("peer")).isEqualTo(WireguardDecoder.PEER);
            assertThat(e.offset("ifname")).isEqualTo(WireguardDecoder.IFNAME);
            assertThat(e.offset("endpoint")).isEqualTo(WireguardDecoder.ENDPOINT);
            assertThat(e.offset("attempts")).isEqualTo(WireguardDecoder.ATTEMPTS);
            assertThat(e.offset("role")).isEqualTo(WireguardDecoder.ROLE);
            Btf.StructLayout ep = btf.struct("wg_endpoint").orElseThrow();
            assertThat(ep.offset("addr")).isEqualTo(WireguardDecoder.EP_ADDR);
            assertThat(ep.offset("family")).isEqualTo(WireguardDecoder.EP_FAMILY);
            assertThat(ep.offset("port")).isEqualTo(WireguardDecoder.EP_PORT);
        }
    }

    @Test
    void peerStatisticsMatchBtf() throws Exception {
        try (Btf btf = Btf.ofElf(BpfObjectsForTest.path("wireguard"))) {
            Btf.StructLayout k = btf.struct("wg_peer_key").orElseThrow();
            assertThat(k.size()).isEqualTo(PeerTable.KEY_SIZE);
            assertThat(k.offset("device")).isEqualTo(PeerTable.KEY_DEVICE);
            assertThat(k.offset("peer")).isEqualTo(PeerTable.KEY_PEER);

            Btf.StructLayout h = btf.struct("wg_hist").orElseThrow();
            assertThat(h.size()).isEqualTo(PeerTable.HIST_SIZE);
            assertThat(h.offset("slots")).isEqualTo(PeerTable.HIST_SLOTS);
            assertThat(h.offset("count")).isEqualTo(PeerTable.HIST_COUNT).isEqualTo(8 * Log2Histogram.SLOTS);
            assertThat(h.offset("sum_ns")).isEqualTo(PeerTable.HIST_SUM);
            assertThat(h.offset("max_ns")).isEqualTo(PeerTable.HIST_MAX);
            assertThat(h.offset("max_seq")).isEqualTo(PeerTable.HIST_MAX_SEQ);

            Btf.StructLayout s = btf.struct("wg_peer_stats").orElseThrow();
            assertThat(s.size()).isEqualTo(PeerTable.SIZE);
            assertThat(s.offset("encrypt")).isEqualTo(PeerTable.ENCRYPT);
            assertThat(s.offset("decrypt")).isEqualTo(PeerTable.DECRYPT);
            assertThat(s.offset("sent_bytes")).isEqualTo(PeerTable.SENT_BYTES);
            assertThat(s.offset("sent_packets")).isEqualTo(PeerTable.SENT_PACKETS);
            assertThat(s.offset("received_bytes")).isEqualTo(PeerTable.RECEIVED_BYTES);
            assertThat(s.offset("received_packets")).isEqualTo(PeerTable.RECEIVED_PACKETS);
            assertThat(s.offset("seen_ns")).isEqualTo(PeerTable.SEEN_NS);
            assertThat(s.offset("ifname")).isEqualTo(PeerTable.IFNAME);
            assertThat(s.offset("endpoint")).isEqualTo(PeerTable.ENDPOINT);
        }
    }
}
