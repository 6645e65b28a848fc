package io.bpfwatch.monitor.wireguard;

import com.sun.jna.Memory;
import io.bpfwatch.event.EventHeader;
import io.bpfwatch.event.WallClock;
import io.bpfwatch.libbpf.BpfException;
import io.bpfwatch.libbpf.BpfMap;
import io.bpfwatch.libbpf.BpfObject;
import io.bpfwatch.monitor.BpfLogic;
import io.bpfwatch.monitor.Decoder;
import io.bpfwatch.monitor.MonitorContext;
import org.jboss.logging.Logger;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The live wireguard monitor's own work: handshakes are logged as they come, and every interval
 * one summary per peer that had traffic; the histograms and counters themselves are read from
 * the kernel at scrape time by {@link WireguardCollector}.
 */
final class WireguardLogic implements BpfLogic<HandshakeEvent> {
    private static final Logger LOG = Logger.getLogger(WireguardLogic.class);

    private final String name;
    private final WireguardSettings settings;
    private final WireguardMetrics metrics;
    private final MonitorContext context;
    private final WireguardDecoder decoder;
    private final WireguardCollector.Source source = this::snapshot;
    private final Memory seqKey = new Memory(4);
    private final Memory seqValue = new Memory(8);
    private BpfMap peers, other, dropped, seqMap;
    private long seq = 1;
    private Map<String, PeerStats> previous = Map.of();
    private long lastSummary;

    WireguardLogic(String name, WireguardSettings settings, WireguardMetrics metrics, MonitorContext context) {
        this.name = name;
        this.settings = settings;
        this.metrics = metrics;
        this.context = context;
        this.decoder = new WireguardDecoder(new EventHeader(context.process()));
        seqKey.setInt(0, 0);
    }

    @Override
    public Decoder<HandshakeEvent> decoder() {
        return decoder;
    }

    @Override
    public void configure(BpfObject object) throws BpfException {
        object.map("wg_peers").setMaxEntries(settings.maxPeers());
    }

    @Override
    public void loaded(BpfObject object) throws BpfException {
        peers = object.map("wg_peers");
        other = object.map("wg_other");
        dropped = object.map("wg_dropped");
        seqMap = object.map("wg_seq");
        writeSeq();
        lastSummary = System.nanoTime();
        if (metrics.collector != null) metrics.collector.attach(source);
    }

    /** For a scrape, under the collector's lock. */
    private WireguardCollector.Snapshot snapshot() throws BpfException {
        return new WireguardCollector.Snapshot(PeerTable.read(peers, other, -1), dropped.sumPerCpuU64(0));
    }

    @Override
    public void accept(HandshakeEvent e) {
        metrics.handshakes(e.iface, e.initiated ? (e.attempts == 0 ? "initiated" : "retried") : "completed").increment();
        context.output().emit(e);
    }

    @Override
    public void tick(long nowNanos) {
        if (peers == null || nowNanos - lastSummary < settings.interval().toNanos()) return;
        try {
            summarize(nowNanos);
        } catch (BpfException e) {
            throw new IllegalStateException(name + ": reading the peer statistics failed: " + e.getMessage(), e);
        }
    }

    /**
     * One summary per peer with traffic since the last one. The interval's maxima are the samples
     * stamped with the current interval number; the number moves on right after the read.
     */
    private void summarize(long nowNanos) throws BpfException {
        List<PeerStats> current = PeerTable.read(peers, other, seq);
        seq++;
        writeSeq();
        double seconds = (nowNanos - lastSummary) / 1e9;
        long time = WallClock.toEpochNanos(nowNanos);
        Map<String, PeerStats> next = new HashMap<>();
        for (PeerStats p : current) {
            next.put(p.label(), p);
            PeerStats d = since(p, previous.get(p.label()));
            if (d.encrypt().count() == 0 && d.decrypt().count() == 0 && d.sentPackets() == 0 && d.receivedPackets() == 0) continue;
            context.output().emit(new SummaryEvent(time, d, seconds));
        }
        previous = next;
        lastSummary = nowNanos;
    }

    static PeerStats since(PeerStats now, PeerStats before) {
        if (before == null) return now;
        return new PeerStats(now.iface(), now.peer(), now.endpoint(), now.encrypt().since(before.encrypt()), now.decrypt().since(before.decrypt()),
                delta(now.sentBytes(), before.sentBytes()), delta(now.sentPackets(), before.sentPackets()),
                delta(now.receivedBytes(), before.receivedBytes()), delta(now.receivedPackets(), before.receivedPackets()));
    }

    /** A counter that went down was recreated: all of it is new. */
    private static long delta(long now, long before) {
        return now >= before ? now - before : now;
    }

    private void writeSeq() throws BpfException {
        seqValue.setLong(0, seq);
        seqMap.update(seqKey, seqValue, 0);
    }

    /** Scrapes stop reading the maps before they close; the partial interval is summarized. */
    @Override
    public void closing(BpfObject object) {
        if (metrics.collector != null) metrics.collector.detach(source);
        if (!object.isLoaded() || peers == null) return;
        try {
            summarize(System.nanoTime());
        } catch (BpfException | RuntimeException e) {
            LOG.warnf("%s: the last summary could not be read: %s", name, e);
        }
    }
}
