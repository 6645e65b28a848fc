package io.bpfwatch.monitor.wireguard;

import io.bpfwatch.monitor.Meters;
import io.prometheus.client.Collector;
import org.jboss.logging.Logger;

import java.util.ArrayList;
import java.util.List;

/**
 * The wireguard metrics, computed at scrape time from the kernel's maps: real Prometheus
 * histograms whose buckets the kernel counted. Micrometer cannot take externally counted
 * buckets (its timers count for themselves), so this is a collector of the Prometheus client
 * beneath Micrometer's Prometheus registry, exposed in the same /metrics.
 *
 * One collector per configured wireguard monitor, registered with its metrics and removed with
 * them; the running monitor instance plugs its {@link Source} in and takes it out before its
 * maps close, under the same lock a scrape holds while reading them. Without a running instance
 * there are no wireguard series.
 */
public final class WireguardCollector extends Collector implements Collector.Describable {
    private static final Logger LOG = Logger.getLogger(WireguardCollector.class);

    public static final String ENCRYPT = "bpfwatch_wireguard_encrypt_seconds";
    public static final String DECRYPT = "bpfwatch_wireguard_decrypt_seconds";
    public static final String BYTES = "bpfwatch_wireguard_transfer_bytes";
    public static final String PACKETS = "bpfwatch_wireguard_packets";
    public static final String PEERS = "bpfwatch_wireguard_peers";
    public static final String DROPPED = "bpfwatch_wireguard_dropped_samples";
    /**
     * The exported bucket bounds: 2^8 ns (256 ns) to 2^26 ns (67 ms), then +Inf. The kernel counts
     * finer and wider; the samples below the first bound fall in it, the ones above the last in
     * +Inf, and _sum stays exact.
     */
    public static final int FIRST_BUCKET = 8, LAST_BUCKET = 26;

    private static final List<String> PEER_LABELS = List.of("interface", "peer");
    private static final List<String> BUCKET_LABELS = List.of("interface", "peer", "le");
    private static final List<String> DIRECTION_LABELS = List.of("interface", "peer", "direction");

    /** What a scrape reads; called under the collector's lock. */
    public interface Source {
        Snapshot read() throws Exception;
    }

    /** Every peer, and the samples the kernel had no room for. */
    public record Snapshot(List<PeerStats> peers, long dropped) {
    }

    private Source source;

    /**
     * A collector registered with the Prometheus registry behind {@code meters}' registry, and
     * unregistered when they close; null if there is no Prometheus registry.
     */
    public static WireguardCollector register(Meters meters) {
        WireguardCollector c = new WireguardCollector();
        if (meters.collector(c)) return c;
        LOG.warnf("no Prometheus registry behind %s: the wireguard histograms are not exported", meters.registry().getClass().getName());
        return null;
    }

    public synchronized void attach(Source s) {
        source = s;
    }

    /** After this returns no scrape reads the old source any more. */
    public synchronized void detach(Source s) {
        if (source == s) source = null;
    }

    @Override
    public synchronized List<MetricFamilySamples> collect() {
        if (source == null) return List.of();
        Snapshot snap;
        try {
            snap = source.read();
        } catch (Exception e) {
            LOG.warnf("reading the wireguard maps for a scrape failed: %s", e);
            return List.of();
        }
        return families(snap);
    }

    /** The names (what the registry checks for clashes), without samples. */
    @Override
    public List<MetricFamilySamples> describe() {
        List<MetricFamilySamples> out = new ArrayList<>();
        for (MetricFamilySamples f : families(new Snapshot(List.of(), 0))) out.add(new MetricFamilySamples(f.name, f.type, f.help, List.of()));
        return out;
    }

    static List<MetricFamilySamples> families(Snapshot snap) {
        List<MetricFamilySamples.Sample> enc = new ArrayList<>(), dec = new ArrayList<>(), bytes = new ArrayList<>(),
                packets = new ArrayList<>();
        long tracked = 0;
        for (PeerStats p : snap.peers()) {
            if (!p.isOther()) tracked++;
            histogram(enc, ENCRYPT, p, p.encrypt());
            histogram(dec, DECRYPT, p, p.decrypt());
            bytes.add(new MetricFamilySamples.Sample(BYTES + "_total", DIRECTION_LABELS, List.of(p.iface(), p.peer(), "sent"), p.sentBytes()));
            bytes.add(new MetricFamilySamples.Sample(BYTES + "_total", DIRECTION_LABELS, List.of(p.iface(), p.peer(), "received"), p.receivedBytes()));
            packets.add(new MetricFamilySamples.Sample(PACKETS + "_total", DIRECTION_LABELS, List.of(p.iface(), p.peer(), "sent"), p.sentPackets()));
            packets.add(new MetricFamilySamples.Sample(PACKETS + "_total", DIRECTION_LABELS, List.of(p.iface(), p.peer(), "received"), p.receivedPackets()));
        }
        return List.of(
                new MetricFamilySamples(ENCRYPT, Type.HISTOGRAM,
                        "Time WireGuard took to encrypt one data packet for the peer (encrypt_packet), counted in the kernel", enc),
                new MetricFamilySamples(DECRYPT, Type.HISTOGRAM,
                        "Time WireGuard took to decrypt and authenticate one data packet from the peer (decrypt_packet), counted in the kernel", dec),
                new MetricFamilySamples(BYTES, Type.COUNTER,
                        "WireGuard message bytes (UDP payload) sent to and authenticated from the peer, handshakes included", bytes),
                new MetricFamilySamples(PACKETS, Type.COUNTER,
                        "WireGuard messages sent to and authenticated from the peer, handshakes and keepalives included", packets),
                new MetricFamilySamples(PEERS, Type.GAUGE,
                        "Peers with series of their own; peers past max-peers are counted together as peer=\"other\"",
                        List.of(new MetricFamilySamples.Sample(PEERS, List.of(), List.of(), tracked))),
                new MetricFamilySamples(DROPPED, Type.COUNTER,
                        "Latency and transfer samples not counted: even the per-interface \"other\" entries were full",
                        List.of(new MetricFamilySamples.Sample(DROPPED + "_total", List.of(), List.of(), snap.dropped()))));
    }

    private static void histogram(List<MetricFamilySamples.Sample> out, String name, PeerStats p, Log2Histogram h) {
        for (int i = FIRST_BUCKET; i <= LAST_BUCKET; i++) {
            String le = Collector.doubleToGoString(Log2Histogram.upperBoundNanos(i) / 1e9);
            out.add(new MetricFamilySamples.Sample(name + "_bucket", BUCKET_LABELS, List.of(p.iface(), p.peer(), le), h.cumulative(i)));
        }
        // the slots, not the kernel's separate count: a read racing an update could make them differ by one
        long count = h.cumulative(Log2Histogram.SLOTS - 1);
        out.add(new MetricFamilySamples.Sample(name + "_bucket", BUCKET_LABELS, List.of(p.iface(), p.peer(), "+Inf"), count));
        out.add(new MetricFamilySamples.Sample(name + "_count", PEER_LABELS, List.of(p.iface(), p.peer()), count));
        out.add(new MetricFamilySamples.Sample(name + "_sum", PEER_LABELS, List.of(p.iface(), p.peer()), h.sumNanos() / 1e9));
    }
}
