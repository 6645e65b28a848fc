package io.bpfwatch.monitor;

import io.bpfwatch.context.ExeResolver;
import io.bpfwatch.event.EventHeader;
import io.bpfwatch.libbpf.Btf;
import io.bpfwatch.monitor.dns.DnsDecoder;
import io.bpfwatch.monitor.tcp.TcpDecoder;
import io.bpfwatch.monitor.wireguard.Log2Histogram;
import io.bpfwatch.monitor.wireguard.PeerTable;
import io.bpfwatch.monitor.wireguard.WireguardDecoder;
import io.bpfwatch.monitor.zfs.ZfsDecoder;
import io.bpfwatch.monitor.zfs.ZfsDevice;
import io.bpfwatch.testkit.BpfObjectsForTest;
import io.bpfwatch.testkit.RequiresLibbpf;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every struct whose layout Java states (the decoders' offsets, map keys and values), against
 * the struct's BTF in the compiled object that defines it: a change on either side cannot drift
 * unnoticed. One row per struct: object, struct, size, then member offsets.
 */
@RequiresLibbpf
class StructLayoutTest {
    static Stream<Arguments> structs() {
        return Stream.of(
                row("tcp", "bw_header", EventHeader.SIZE, "ts_ns", EventHeader.TS_NS, "pid", EventHeader.PID, "tid", EventHeader.TID,
                        "uid", EventHeader.UID, "type", EventHeader.TYPE, "comm", EventHeader.COMM,
                        "cgroup_id", EventHeader.CGROUP_ID, "start_ns", EventHeader.START_NS, "ppid", EventHeader.PPID,
                        "netns", EventHeader.NETNS, "pcomm", EventHeader.PCOMM),
                row("tcp", "bw_exe", ExeResolver.VALUE_SIZE, "start_ns", ExeResolver.START, "path", ExeResolver.PATH),
                row("tcp", "bw_cgroup", io.bpfwatch.context.CgroupMap.VALUE_SIZE, "path", io.bpfwatch.context.CgroupMap.PATH,
                        "depth", io.bpfwatch.context.CgroupMap.DEPTH),
                row("tcp", "tcp_event", TcpDecoder.SIZE, "h", 0, "family", TcpDecoder.FAMILY, "sport", TcpDecoder.SPORT,
                        "dport", TcpDecoder.DPORT, "trigger", TcpDecoder.TRIGGER, "saddr", TcpDecoder.SADDR, "daddr", TcpDecoder.DADDR),
                row("dns", "dns_event", DnsDecoder.SIZE, "h", 0, "conn", DnsDecoder.CONN, "stream_off", DnsDecoder.STREAM_OFF,
                        "len", DnsDecoder.LEN, "cap", DnsDecoder.CAP, "transport", DnsDecoder.TRANSPORT, "syscall", DnsDecoder.SYSCALL,
                        "family", DnsDecoder.FAMILY, "port", DnsDecoder.PORT, "addr", DnsDecoder.ADDR, "data", DnsDecoder.DATA),
                row("zfs", "bw_header", EventHeader.SIZE),
                row("zfs", "zfs_event", ZfsDecoder.SIZE, "h", 0, "duration_ns", ZfsDecoder.DURATION_NS, "ret", ZfsDecoder.RET,
                        "nvl_size", ZfsDecoder.NVL_SIZE, "cookie", ZfsDecoder.COOKIE, "cmd", ZfsDecoder.CMD, "ppid", ZfsDecoder.PPID,
                        "flags", ZfsDecoder.FLAGS, "nvl_len", ZfsDecoder.NVL_LEN, "name_len", ZfsDecoder.NAME_LENGTH,
                        "value_len", ZfsDecoder.VALUE_LENGTH, "data", ZfsDecoder.DATA),
                row("zfs", "zfs_dev_key", ZfsDevice.KEY_SIZE, "dev", 0, "kind", 4, "ino", 8),
                row("wireguard", "bw_header", EventHeader.SIZE),
                row("wireguard", "wg_handshake_event", WireguardDecoder.SIZE, "h", 0, "peer", WireguardDecoder.PEER,
                        "ifname", WireguardDecoder.IFNAME, "endpoint", WireguardDecoder.ENDPOINT,
                        "attempts", WireguardDecoder.ATTEMPTS, "role", WireguardDecoder.ROLE),
                row("wireguard", "wg_endpoint", -1, "addr", WireguardDecoder.EP_ADDR, "family", WireguardDecoder.EP_FAMILY,
                        "port", WireguardDecoder.EP_PORT),
                row("wireguard", "wg_peer_key", PeerTable.KEY_SIZE, "device", PeerTable.KEY_DEVICE, "peer", PeerTable.KEY_PEER),
                row("wireguard", "wg_hist", PeerTable.HIST_SIZE, "slots", PeerTable.HIST_SLOTS, "count", PeerTable.HIST_COUNT,
                        "sum_ns", PeerTable.HIST_SUM, "max_ns", PeerTable.HIST_MAX, "max_seq", PeerTable.HIST_MAX_SEQ),
                row("wireguard", "wg_peer_stats", PeerTable.SIZE, "encrypt", PeerTable.ENCRYPT, "decrypt", PeerTable.DECRYPT,
                        "sent_bytes", PeerTable.SENT_BYTES, "sent_packets", PeerTable.SENT_PACKETS,
                        "received_bytes", PeerTable.RECEIVED_BYTES, "received_packets", PeerTable.RECEIVED_PACKETS,
                        "seen_ns", PeerTable.SEEN_NS, "ifname", PeerTable.IFNAME, "endpoint", PeerTable.ENDPOINT));
    }

    /** {@code size} -1: not stated in Java. */
    private static Arguments row(String object, String struct, int size, Object... memberOffsets) {
        Map<String, Integer> members = new LinkedHashMap<>();
        for (int i = 0; i < memberOffsets.length; i += 2) members.put((String) memberOffsets[i], (Integer) memberOffsets[i + 1]);
        return Arguments.of(object, struct, size, members);
    }

    @ParameterizedTest(name = "{0}: struct {1}")
    @MethodSource("structs")
    void layoutMatchesTheObjectsBtf(String object, String struct, int size, Map<String, Integer> members) throws Exception {
        try (Btf btf = Btf.ofElf(BpfObjectsForTest.path(object))) {
            Btf.StructLayout layout = btf.struct(struct).orElseThrow(() -> new AssertionError(object + " has no struct " + struct));
            if (size >= 0) assertThat(layout.size()).as("sizeof(struct %s)", struct).isEqualTo(size);
            for (Map.Entry<String, Integer> m : members.entrySet()) {
                assertThat(layout.offset(m.getKey())).as("offsetof(struct %s, %s)", struct, m.getKey()).isEqualTo(m.getValue());
            }
        }
    }

    @Test
    void aHistogramsCountFollowsItsSlots() {
        assertThat(PeerTable.HIST_COUNT).isEqualTo(8 * Log2Histogram.SLOTS);
    }
}
