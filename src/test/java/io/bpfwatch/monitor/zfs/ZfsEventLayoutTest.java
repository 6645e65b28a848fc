package io.bpfwatch.monitor.zfs;

import io.bpfwatch.event.EventHeader;
import io.bpfwatch.libbpf.Btf;
import io.bpfwatch.testkit.BpfObjectsForTest;
import io.bpfwatch.testkit.RequiresLibbpf;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** ZfsDecoder's and ZfsDevice's offsets against the BTF of the compiled zfs.bpf.o. */
@RequiresLibbpf
class ZfsEventLayoutTest {
    @Test
    void zfsEventOffsetsMatchBtf() throws Exception {
        try (Btf btf = Btf.ofElf(BpfObjectsForTest.path("zfs"))) {
            Btf.StructLayout e = btf.struct("zfs_event").orElseThrow();
            assertThat(e.size()).isEqualTo(ZfsDecoder.SIZE);
            assertThat(e.offset("h")).isZero();
            assertThat(btf.struct("bw_header").orElseThrow().size()).isEqualTo(EventHeader.SIZE);
            assertThat(e.offset("duration_ns")).isEqualTo(ZfsDecoder.DURATION_NS);
            assertThat(e.offset("ret")).isEqualTo(ZfsDecoder.RET);
            assertThat(e.offset("nvl_size")).isEqualTo(ZfsDecoder.NVL_SIZE);
            assertThat(e.offset("cookie")).isEqualTo(ZfsDecoder.COOKIE);
            assertThat(e.offset("cmd")).isEqualTo(ZfsDecoder.CMD);
            assertThat(e.offset("ppid")).isEqualTo(ZfsDecoder.PPID);
            assertThat(e.offset("flags")).isEqualTo(ZfsDecoder.FLAGS);
            assertThat(e.offset("nvl_len")).isEqualTo(ZfsDecoder.NVL_LEN);
            assertThat(e.offset("name_len")).isEqualTo(ZfsDecoder.NAME_LENGTH);
            assertThat(e.offset("value_len")).isEqualTo(ZfsDecoder.VALUE_LENGTH);
            assertThat(e.offset("data")).isEqualTo(ZfsDecoder.DATA);
        }
    }

    @Test
    void deviceKeyLayoutMatchesBtf() throws Exception {
        try (Btf btf = Btf.ofElf(BpfObjectsForTest.path("zfs"))) {
            Btf.StructLayout k = btf.struct("zfs_dev_key").orElseThrow();
            assertThat(k.size()).isEqualTo(ZfsDevice.KEY_SIZE);
            assertThat(k.offset("dev")).isZero();
            assertThat(k.offset("kind")).isEqualTo(4);
            assertThat(k.offset("ino")).isEqualTo(8);
        }
    }
}
