package io.bpfwatch.event;

import io.bpfwatch.libbpf.Btf;
import io.bpfwatch.monitor.tcp.TcpDecoder;
import io.bpfwatch.testkit.BpfObjectsForTest;
import io.bpfwatch.testkit.RequiresLibbpf;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Java decoders state the offsets of the kernel's event structs; these tests read the
 * structs' BTF from the compiled objects, so a change on either side cannot drift unnoticed.
 */
@RequiresLibbpf
class EventLayoutTest {
    @Test
    void headerOffsetsMatchBtf() throws Exception {
        try (Btf btf = Btf.ofElf(BpfObjectsForTest.path("tcp"))) {
            Btf.StructLayout h = btf.struct("bw_header").orElseThrow();
            assertThat(h.size()).isEqualTo(EventHeader.SIZE);
            assertThat(h.offset("ts_ns")).isEqualTo(EventHeader.TS_NS);
            assertThat(h.offset("pid")).isEqualTo(EventHeader.PID);
            assertThat(h.offset("tid")).isEqualTo(EventHeader.TID);
            assertThat(h.offset("uid")).isEqualTo(EventHeader.UID);
            assertThat(h.offset("type")).isEqualTo(EventHeader.TYPE);
            assertThat(h.offset("comm")).isEqualTo(EventHeader.COMM);
        }
    }

    @Test
    void tcpEventOffsetsMatchBtf() throws Exception {
        try (Btf btf = Btf.ofElf(BpfObjectsForTest.path("tcp"))) {
            Btf.StructLayout t = btf.struct("tcp_event").orElseThrow();
            assertThat(t.size()).isEqualTo(TcpDecoder.SIZE);
            assertThat(t.offset("h")).isZero();
            assertThat(t.offset("family")).isEqualTo(TcpDecoder.FAMILY);
            assertThat(t.offset("sport")).isEqualTo(TcpDecoder.SPORT);
            assertThat(t.offset("dport")).isEqualTo(TcpDecoder.DPORT);
            assertThat(t.offset("trigger")).isEqualTo(TcpDecoder.TRIGGER);
            assertThat(t.offset("saddr")).isEqualTo(TcpDecoder.SADDR);
            assertThat(t.offset("daddr")).isEqualTo(TcpDecoder.DADDR);
        }
    }
}
