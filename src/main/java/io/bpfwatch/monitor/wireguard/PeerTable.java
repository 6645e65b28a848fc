package io.bpfwatch.monitor.wireguard;

import com.sun.jna.Memory;
import io.bpfwatch.libbpf.BpfException;
import io.bpfwatch.libbpf.BpfMap;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the kernel's per-peer statistics (the per-CPU hashes wg_peers and wg_other, values
 * {@code struct wg_peer_stats}) into {@link PeerStats}: CPUs summed, the freshest CPU's
 * interface name and endpoint kept, and entries that share an interface name and key merged.
 * Offsets are those of monitors/wireguard/wireguard.h, checked against the object's BTF by
 * WireguardLayoutTest.
 */
public final class PeerTable {
    // struct wg_peer_key
    public static final int KEY_DEVICE = 0, KEY_PEER = 8, KEY_SIZE = 48;
    // struct wg_hist
    public static final int HIST_SLOTS = 0, HIST_COUNT = 256, HIST_SUM = 264, HIST_MAX = 272, HIST_MAX_SEQ = 280, HIST_SIZE = 288;
    // struct wg_peer_stats
    public static final int ENCRYPT = 0, DECRYPT = 288, SENT_BYTES = 576, SENT_PACKETS = 584, RECEIVED_BYTES = 592,
            RECEIVED_PACKETS = 600, SEEN_NS = 608, IFNAME = 616, ENDPOINT = 632, SIZE = 656;

    private PeerTable() {}

    /**
     * Every peer in the two maps, ordered by interface and peer. {@code seq}: the interval whose
     * maxima to keep (samples of older intervals do not count); -1 to ignore maxima.
     */
    public static List<PeerStats> read(BpfMap peers, BpfMap other, long seq) throws BpfException {
        int cpus = BpfMap.possibleCpus();
        Map<String, PeerStats> merged = new LinkedHashMap<>();
        for (BpfMap map : List.of(peers, other)) {
            boolean isOther = map == other;
            int stride = (map.valueSize() + 7) & ~7;
            map.forEach((Memory key, Memory value) -> {
                ByteBuffer k = key.getByteBuffer(0, key.size()).order(ByteOrder.nativeOrder());
                ByteBuffer v = value.getByteBuffer(0, value.size()).order(ByteOrder.nativeOrder());
                PeerStats p = decode(k, v, cpus, stride, isOther, seq);
                if (p != null) merged.merge(p.label(), p, PeerStats::plus);
            });
        }
        List<PeerStats> out = new ArrayList<>(merged.values());
        out.sort(Comparator.comparing(PeerStats::iface).thenComparing(PeerStats::peer));
        return out;
    }

    /**
     * One map entry: {@code value} holds {@code cpus} copies of struct wg_peer_stats, {@code stride}
     * bytes apart. Null if no CPU has seen it yet (created, never filled).
     */
    static PeerStats decode(ByteBuffer key, ByteBuffer value, int cpus, int stride, boolean isOther, long seq) {
        long[] encSlots = new long[Log2Histogram.SLOTS], decSlots = new long[Log2Histogram.SLOTS];
        long[] enc = new long[3], dec = new long[3]; // count, sum, max
        long sentBytes = 0, sentPackets = 0, receivedBytes = 0, receivedPackets = 0;
        long freshest = 0;
        int freshestAt = -1;
        for (int cpu = 0; cpu < cpus; cpu++) {
            int base = cpu * stride;
            addHist(value, base + ENCRYPT, encSlots, enc, seq);
            addHist(value, base + DECRYPT, decSlots, dec, seq);
            sentBytes += value.getLong(base + SENT_BYTES);
            sentPackets += value.getLong(base + SENT_PACKETS);
            receivedBytes += value.getLong(base + RECEIVED_BYTES);
            receivedPackets += value.getLong(base + RECEIVED_PACKETS);
            long seen = value.getLong(base + SEEN_NS);
            if (seen != 0 && (freshestAt < 0 || Long.compareUnsigned(seen, freshest) > 0)) {
                freshest = seen;
                freshestAt = base;
            }
        }
        if (freshestAt < 0) return null;
        String iface = WireguardDecoder.ifname(value, freshestAt + IFNAME);
        String peer = isOther ? PeerStats.OTHER : WireguardDecoder.publicKey(key, KEY_PEER);
        String endpoint = isOther ? null : WireguardDecoder.endpoint(value, freshestAt + ENDPOINT);
        return new PeerStats(iface, peer, endpoint,
                new Log2Histogram(encSlots, enc[0], enc[1], enc[2]), new Log2Histogram(decSlots, dec[0], dec[1], dec[2]),
                sentBytes, sentPackets, receivedBytes, receivedPackets);
    }

    private static void addHist(ByteBuffer v, int at, long[] slots, long[] totals, long seq) {
        for (int i = 0; i < Log2Histogram.SLOTS; i++) slots[i] += v.getLong(at + HIST_SLOTS + 8 * i);
        totals[0] += v.getLong(at + HIST_COUNT);
        totals[1] += v.getLong(at + HIST_SUM);
        if (seq >= 0 && v.getLong(at + HIST_MAX_SEQ) == seq) totals[2] = Math.max(totals[2], v.getLong(at + HIST_MAX));
    }
}
