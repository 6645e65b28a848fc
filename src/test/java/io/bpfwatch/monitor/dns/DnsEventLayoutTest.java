package io.bpfwatch.monitor.dns;

import io.bpfwatch.libbpf.Btf;
import io.bpfwatch.testkit.BpfObjectsForTest;
import io.bpfwatch.testkit.RequiresLibbpf;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** DnsDecoder's offsets against struct dns_event's BTF in the compiled dns.bpf.o. */
@RequiresLibbpf
class DnsEventLayoutTest {
    @Test
    void dnsEventOffsetsMatchBtf() throws Exception {
        try (Btf btf = Btf.ofElf(BpfObjectsForTest.path("dns"))) {
            Btf.StructLayout t = btf.struct("dns_event").orElseThrow();
            assertThat(t.size()).isEqualTo(DnsDecoder.SIZE);
            assertThat(t.offset("h")).isZero();
            assertThat(t.offset("conn")).isEqualTo(DnsDecoder.CONN);
            assertThat(t.offset("stream_off")).isEqualTo(DnsDecoder.STREAM_OFF);
            assertThat(t.offset("len")).isEqualTo(DnsDecoder.LEN);
            assertThat(t.offset("cap")).isEqualTo(DnsDecoder.CAP);
            assertThat(t.offset("transport")).isEqualTo(DnsDecoder.TRANSPORT);
            assertThat(t.offset("syscall")).isEqualTo(DnsDecoder.SYSCALL);
            assertThat(t.offset("family")).isEqualTo(DnsDecoder.FAMILY);
            assertThat(t.offset("port")).isEqualTo(DnsDecoder.PORT);
            assertThat(t.offset("addr")).isEqualTo(DnsDecoder.ADDR);
            assertThat(t.offset("data")).isEqualTo(DnsDecoder.DATA);
        }
    }

}
